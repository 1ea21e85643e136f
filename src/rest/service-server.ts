/**
 * The HTTP servers of the worker's Confluent-compatible services (the schema registry and the REST
 * proxy), each on its own listener. Errors take Confluent's shape, `{"error_code": N, "message":
 * "…"}`: a `ServiceError` as it is; a body that is not JSON 400 (code 400, rest-utils'
 * `JsonParseExceptionMapper`); an unknown path 404 (code 404) and a known one with another method
 * 405 (code 405), as Jersey answers; anything unexpected 500 (code 50001 for the registry's store,
 * 500 otherwise) and logged.
 */
import type { Logger } from '../common/logger.ts'
import { ServiceError } from '../services/service-error.ts'
import { HttpApp } from './http-router.ts'
import type { TlsSettings } from './rest-security.ts'
import { checkServiceAuth, type ServiceAuth } from './service-security.ts'

export interface ServiceServer {
  readonly app: HttpApp
  readonly port: number
  readonly url: string
  close(): Promise<void>
}

export interface ServiceServerOptions {
  name: string
  logger: Logger
  /** The content type of answers (by request path). */
  responseType: string | ((url: string) => string)
  bodyLimit?: number
  /** Serve https with these settings (service-security.ts). */
  tls?: TlsSettings
  /** HTTP basic authentication of every request. */
  auth?: ServiceAuth
}

/** An HTTP app with Confluent's error mapping and JSON bodies of any declared type. */
export function createServiceApp(options: ServiceServerOptions): HttpApp {
  const bodyLimit = options.bodyLimit ?? 64 * 1024 * 1024
  const app = new HttpApp({ bodyLimit, ...(options.tls ? { https: { ...options.tls } } : {}) })
  const auth = options.auth
  if (auth) {
    app.addHook('onRequest', async (request, reply) => {
      const refusal = checkServiceAuth(auth, request)
      if (refusal === undefined) return undefined
      return reply
        .code(refusal.status)
        .headers(refusal.headers)
        .type('application/json')
        .send(JSON.stringify(refusal.body))
    })
  }
  // Confluent's clients send application/vnd.schemaregistry.v1+json, application/vnd.kafka.*+json,
  // application/json or application/octet-stream; every one is read as JSON, and an empty body is none.
  app.addContentTypeParser('*', (_request, body) => {
    const text = body.trim()
    if (text === '') return undefined
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new ServiceError(400, `Unrecognized token in the request body: ${(error as Error).message}`)
    }
  })
  // Confluent's servers answer their JSON types without a charset parameter.
  app.addHook('onSend', (request, reply) => {
    const type = String(reply.getHeader('content-type') ?? '')
    const wanted =
      typeof options.responseType === 'string' ? options.responseType : options.responseType(request.url)
    if (type === '' || type.startsWith('application/json')) reply.header('content-type', wanted)
    else if (/^application\/vnd\.[^;]*\+json; charset=utf-8$/.test(type))
      reply.header('content-type', type.split(';')[0]!)
  })
  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof ServiceError) {
      if (error.status >= 500)
        options.logger.error({ err: error.message, url: request.url }, `${options.name} request failed`)
      return reply.code(error.status).send({ error_code: error.errorCode, message: error.message })
    }
    const status = (error as { statusCode?: number }).statusCode
    const message = error instanceof Error ? error.message : String(error)
    if (status && status >= 400 && status < 500)
      return reply.code(status).send({ error_code: status, message })
    options.logger.error({ err: message, url: request.url }, `${options.name} request failed`)
    return reply.code(500).send({ error_code: 500, message })
  })
  app.setNotFoundHandler((request, reply) => {
    const status = app.knownPath(request.url.split('?')[0]!) ? 405 : 404
    return reply.code(status).send({
      error_code: status,
      message: status === 405 ? 'HTTP 405 Method Not Allowed' : 'HTTP 404 Not Found',
    })
  })
  return app
}

export async function listenService(
  app: HttpApp,
  listener: { host: string; port: number },
): Promise<ServiceServer> {
  const address = await app.listen({ host: listener.host || '0.0.0.0', port: listener.port })
  const port = (app.server.address() as { port: number }).port
  return { app, port, url: address, close: () => app.close() }
}

/** A boolean query parameter (`?permanent=true`). */
export function queryFlag(query: unknown, name: string, fallback = false): boolean {
  const value = (query as Record<string, string | undefined>)[name]
  if (value === undefined) return fallback
  return value === '' || value.toLowerCase() === 'true'
}
