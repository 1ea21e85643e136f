/**
 * HTTP requests from one worker to another (Kafka Connect's `RestClient`): forwarded REST requests
 * and task configs posted to the leader. Over `https://` the worker is a TLS client with its own
 * listener's SSL settings, as Connect's `RestClient` takes them from the worker config
 * (`listeners.https.ssl.*`, falling back to `ssl.*`): the truststore verifies the other worker's
 * certificate (a private CA works), the keystore's certificate is presented to a listener with
 * `ssl.client.auth=required`. Without a truststore, the system's CAs verify.
 */
import type { IncomingHttpHeaders } from 'node:http'

// Not `import … from 'node:http'`: that loads undici (decision 0031); `node:https` (and TLS) only
// when a request is sent over it (decision 0035).
const { request: httpRequest } = process.getBuiltinModule('node:http')

/** The client side of the listener's TLS settings (a `TlsSettings` of the REST layer fits). */
export interface InterWorkerTls {
  /** PEM CA bundle (`ssl.truststore.location`). */
  ca?: string
  /** PEM certificate chain and private key (`ssl.keystore.*`), presented when asked for. */
  cert?: string
  key?: string
  passphrase?: string
}

export interface InterWorkerResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export function interWorkerRequest(
  url: string,
  options: {
    method: string
    headers: Record<string, string>
    body?: string
    /** The whole exchange's deadline (connect, send, the answer's last byte), not an idle timeout. */
    timeoutMs: number
    tls?: InterWorkerTls
    /** Largest answer read; a longer one fails the request. @default 16 MiB */
    maxBodyBytes?: number
  },
): Promise<InterWorkerResponse> {
  const target = new URL(url)
  const tls = target.protocol === 'https:' ? options.tls : undefined
  const send = target.protocol === 'https:' ? process.getBuiltinModule('node:https').request : httpRequest
  const headers = { ...options.headers }
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body))
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024
  return new Promise((resolve, reject) => {
    let deadline: NodeJS.Timeout | undefined
    const fail = (error: Error) => {
      clearTimeout(deadline)
      reject(error)
    }
    const req = send(
      target,
      {
        method: options.method,
        headers,
        ...(tls?.ca ? { ca: tls.ca } : {}),
        ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key, passphrase: tls.passphrase } : {}),
      },
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBodyBytes)
            req.destroy(new Error(`the answer of ${target.origin} is larger than ${maxBodyBytes} bytes`))
          else chunks.push(chunk)
        })
        res.on('error', fail)
        res.on('end', () => {
          clearTimeout(deadline)
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          })
        })
      },
    )
    // `timeout` of http.request is a socket-idle timeout: a peer sending a byte now and then would
    // hold the caller forever. This deadline covers the whole exchange.
    deadline = setTimeout(
      () => req.destroy(new Error(`no answer from ${target.origin} in ${options.timeoutMs} ms`)),
      options.timeoutMs,
    )
    req.on('error', fail)
    req.end(options.body)
  })
}
