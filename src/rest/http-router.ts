/**
 * The small HTTP layer under Sluice's three servers (the Connect REST API, the schema registry and
 * the REST proxy), on node:http/node:https (decision 0036: it replaced fastify, whose ~130 modules
 * cost an idle worker ~18 MiB). It offers the subset those servers use, with fastify's semantics:
 * - routes by method and path, `:name` segments (decoded; `::` is a literal colon), static segments
 *   before parameters, no trailing-slash folding; every GET route also answers HEAD;
 * - `onRequest` hooks (before the body is read, also for unknown paths), `onSend` hooks (before
 *   every answer), one error handler and one not-found handler;
 * - request bodies read by the parser registered for their media type (`*`: any), as a string up to
 *   `bodyLimit` bytes (413 beyond), 415 when no parser fits (not for unknown paths), or handed over
 *   as the request stream on a `streamBody` route;
 * - `reply.send` as fastify's: an object is JSON (`application/json; charset=utf-8`), a string
 *   `text/plain` unless typed, a JSON-ish type gets `charset=utf-8`; 204 answers carry no body;
 * - requests Node's parser refuses before routing (an unknown method, a bad request line) answered
 *   `{"error_code": N, "message": "HTTP N …"}`: 405 for a known path, 404, 431, 408 or 400.
 */
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  Server,
  ServerResponse,
} from 'node:http'
import type { Duplex } from 'node:stream'

// Not `import … from 'node:http'`: that loads undici (decision 0031). `node:https` (and TLS with it)
// only for an https listener (decision 0035).
const http = process.getBuiltinModule('node:http')

/** Types of a route's parts, as handlers see them. */
export interface RouteTypes {
  Params?: unknown
  Querystring?: unknown
  Body?: unknown
}
type Part<T, K extends string> = T extends { [P in K]: infer V } ? V : unknown

export interface HttpRequest<T extends RouteTypes = RouteTypes> {
  readonly raw: IncomingMessage
  readonly method: string
  /** Path and query as sent. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly protocol: 'http' | 'https'
  /** The Host header. */
  readonly host: string
  params: Part<T, 'Params'>
  query: Part<T, 'Querystring'>
  body: Part<T, 'Body'>
  /** The body as received (for forwarding and signature checks), when a parser read it. */
  rawBody?: string
}

export type Handler<T extends RouteTypes = RouteTypes> = (
  request: HttpRequest<T>,
  reply: HttpReply,
) => unknown
type RequestHook = (request: HttpRequest, reply: HttpReply) => Promise<unknown> | unknown
type SendHook = (request: HttpRequest, reply: HttpReply) => void
type ErrorHandler = (error: unknown, request: HttpRequest, reply: HttpReply) => unknown
/** Reads a body given as text; throws to refuse it. */
type BodyParser = (request: HttpRequest, text: string) => unknown

/** A refusal of the HTTP layer itself; `statusCode` tells the error handler its status. */
export class HttpError extends Error {
  readonly statusCode: number
  /** The request cannot be trusted to leave the connection usable: answer and close it. */
  readonly closeConnection: boolean
  constructor(statusCode: number, message: string, closeConnection = false) {
    super(message)
    this.name = 'HttpError'
    this.statusCode = statusCode
    this.closeConnection = closeConnection
  }
}

export interface RouteOptions {
  /** The handler reads the request stream itself: `request.body` is the IncomingMessage. */
  streamBody?: boolean
}

interface Route {
  method: string
  url: string
  /** Literal segments as strings, parameters as `{ name }`. */
  segments: (string | { name: string })[]
  handler: Handler
  streamBody: boolean
}

export interface HttpAppOptions {
  /** Largest request body in bytes. */
  bodyLimit: number
  /** Serve https with these `tls.createServer` options. */
  https?: object
}

const JSON_TYPE = 'application/json; charset=utf-8'
const MEDIA_TYPE = /^\s*([\w!#$%&'*+.^`|~-]+)\/([\w!#$%&'*+.^`|~-]+)\s*(?:;|$)/

export class HttpReply {
  #sent = false
  #hijacked = false
  readonly #headers: OutgoingHttpHeaders = {}
  readonly raw: ServerResponse
  readonly #request: HttpRequest
  readonly #sendHooks: readonly SendHook[]

  constructor(raw: ServerResponse, request: HttpRequest, sendHooks: readonly SendHook[]) {
    this.raw = raw
    this.#request = request
    this.#sendHooks = sendHooks
  }

  get sent(): boolean {
    return this.#sent || this.#hijacked
  }

  code(status: number): this {
    this.raw.statusCode = status
    return this
  }

  header(name: string, value: string | number | string[]): this {
    this.#headers[name.toLowerCase()] = value
    return this
  }

  headers(values: Readonly<Record<string, string>>): this {
    for (const [name, value] of Object.entries(values)) this.header(name, value)
    return this
  }

  getHeader(name: string): OutgoingHttpHeaders[string] {
    return this.#headers[name.toLowerCase()]
  }

  type(contentType: string): this {
    return this.header('content-type', contentType)
  }

  /** The handler answers through `raw` itself from now on. */
  hijack(): this {
    this.#hijacked = true
    return this
  }

  send(payload?: unknown): this {
    if (this.sent) return this
    this.#sent = true
    const type = this.#headers['content-type'] as string | undefined
    let body: string | Buffer | undefined
    if (payload === undefined) body = undefined
    else if (payload instanceof Uint8Array) {
      if (!type) this.type('application/octet-stream')
      body = Buffer.isBuffer(payload)
        ? payload
        : Buffer.from(payload.buffer, payload.byteOffset, payload.length)
    } else if (typeof payload === 'string' && !type) {
      this.type('text/plain; charset=utf-8')
      body = payload
    } else {
      if (!type) this.type(JSON_TYPE)
      else if (MEDIA_TYPE.exec(type)?.[2]?.includes('json') && !/;\s*charset=/i.test(type))
        this.type(`${type.replace(/;\s*$/, '')}; charset=utf-8`)
      body = typeof payload === 'string' ? payload : JSON.stringify(payload)
    }
    for (const hook of this.#sendHooks) hook(this.#request, this)
    const status = this.raw.statusCode
    const head = this.#request.method === 'HEAD'
    if (body === undefined) {
      if (status >= 200 && status !== 204 && status !== 304 && !head) this.#headers['content-length'] = '0'
    } else if (status < 200 || status === 204) {
      delete this.#headers['content-type']
      delete this.#headers['content-length']
      body = undefined
    } else if (!head || this.#headers['content-length'] === undefined) {
      this.#headers['content-length'] = String(Buffer.byteLength(body))
    }
    this.raw.writeHead(status, this.#headers)
    this.raw.end(body)
    return this
  }
}

export class HttpApp {
  readonly #routes: Route[] = []
  readonly #patterns: RegExp[] = []
  readonly #onRequest: RequestHook[] = []
  readonly #onSend: SendHook[] = []
  readonly #parsers = new Map<string, BodyParser>()
  #errorHandler: ErrorHandler = (error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500
    return reply
      .code(status)
      .send({ error_code: status, message: String((error as Error)?.message ?? error) })
  }
  #notFoundHandler: Handler = (_request, reply) => reply.code(404).send()
  #server: Server | undefined
  #secondary: Server | undefined
  #closing: Promise<void> | undefined

  readonly #options: HttpAppOptions

  constructor(options: HttpAppOptions) {
    this.#options = options
  }

  get server(): Server {
    if (!this.#server) throw new Error('the server is not listening')
    return this.#server
  }

  get<T extends RouteTypes = RouteTypes>(url: string, handler: Handler<T>, options?: RouteOptions): void {
    this.route('GET', url, handler, options)
  }
  post<T extends RouteTypes = RouteTypes>(url: string, handler: Handler<T>, options?: RouteOptions): void {
    this.route('POST', url, handler, options)
  }
  put<T extends RouteTypes = RouteTypes>(url: string, handler: Handler<T>, options?: RouteOptions): void {
    this.route('PUT', url, handler, options)
  }
  patch<T extends RouteTypes = RouteTypes>(url: string, handler: Handler<T>, options?: RouteOptions): void {
    this.route('PATCH', url, handler, options)
  }
  delete<T extends RouteTypes = RouteTypes>(url: string, handler: Handler<T>, options?: RouteOptions): void {
    this.route('DELETE', url, handler, options)
  }

  route<T extends RouteTypes>(
    method: string,
    url: string,
    handler: Handler<T>,
    options?: RouteOptions,
  ): void {
    const segments = url
      .split('/')
      .map((s) => (s.startsWith(':') && !s.startsWith('::') ? { name: s.slice(1) } : s.replaceAll('::', ':')))
    const route = {
      method,
      url,
      segments,
      handler: handler as Handler,
      streamBody: options?.streamBody === true,
    }
    this.#routes.push(route)
    if (method === 'GET') this.#routes.push({ ...route, method: 'HEAD' })
    this.#patterns.push(new RegExp(`^${url.replace(/:[^/]+/g, '[^/]+')}/?$`))
  }

  /** Whether some route (of any method) has this path, a trailing slash allowed: 405 rather than 404. */
  knownPath(path: string): boolean {
    return this.#patterns.some((p) => p.test(path))
  }

  addHook(name: 'onRequest', hook: RequestHook): void
  addHook(name: 'onSend', hook: SendHook): void
  addHook(name: 'onRequest' | 'onSend', hook: RequestHook | SendHook): void {
    if (name === 'onRequest') this.#onRequest.push(hook as RequestHook)
    else this.#onSend.push(hook as SendHook)
  }

  /** A parser for one media type (`application/json`, parameters ignored) or `*` for any. */
  addContentTypeParser(mediaType: string, parser: BodyParser): void {
    this.#parsers.set(mediaType === '*' ? '' : mediaType.toLowerCase(), parser)
  }

  setErrorHandler(handler: ErrorHandler): void {
    this.#errorHandler = handler
  }

  setNotFoundHandler(handler: Handler): void {
    this.#notFoundHandler = handler
  }

  async listen(listener: { host: string; port: number }): Promise<string> {
    // `localhost` is served on 127.0.0.1 and, where there is one, on ::1 too (as fastify did).
    const local = listener.host === 'localhost'
    const server = await this.#open(local ? '127.0.0.1' : listener.host, listener.port)
    this.#server = server
    const address = server.address() as { address: string; port: number }
    if (local) this.#secondary = await this.#open('::1', address.port).catch(() => undefined)
    const host = address.address.includes(':')
      ? `[${address.address}]`
      : address.address === '0.0.0.0'
        ? '127.0.0.1'
        : address.address
    return `${this.#options.https ? 'https' : 'http'}://${host}:${address.port}`
  }

  async #open(host: string, port: number): Promise<Server> {
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res)
    const server = this.#options.https
      ? process.getBuiltinModule('node:https').createServer(this.#options.https, handle)
      : http.createServer(handle)
    // fastify's settings, kept: long keep-alive, no request or socket timeout.
    server.keepAliveTimeout = 72_000
    server.requestTimeout = 0
    server.setTimeout(0)
    server.on('clientError', (error, socket) => clientError(error, socket, (path) => this.knownPath(path)))
    this.#server ??= server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return server
  }

  /** Stops listening and closes every connection, idle or not. */
  close(): Promise<void> {
    this.#closing ??= Promise.all(
      [this.#server, this.#secondary]
        .filter((server) => server?.listening)
        .map(
          (server) =>
            new Promise<void>((resolve) => {
              server!.close(() => resolve())
              server!.closeAllConnections()
            }),
        ),
    ).then(() => undefined)
    return this.#closing
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/'
    const queryStart = url.indexOf('?')
    const path = queryStart < 0 ? url : url.slice(0, queryStart)
    const request: HttpRequest = {
      raw: req,
      method: req.method ?? 'GET',
      url,
      headers: req.headers,
      protocol: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      host: req.headers.host ?? '',
      params: {},
      query: parseQuery(queryStart < 0 ? '' : url.slice(queryStart + 1)),
      body: undefined,
    }
    const reply = new HttpReply(res, request, this.#onSend)
    try {
      const match = this.#match(request.method, path)
      for (const hook of this.#onRequest) {
        await hook(request, reply)
        if (reply.sent) return
      }
      if (match) request.params = match.params
      await this.#readBody(request, match?.route)
      const result = await (match ? match.route.handler : this.#notFoundHandler)(request, reply)
      if (result !== undefined && result !== reply && !reply.sent) reply.send(result)
    } catch (error) {
      if (reply.sent) {
        if (!res.writableEnded) res.destroy()
        return
      }
      if (error instanceof HttpError && error.closeConnection) reply.header('connection', 'close')
      try {
        const result = await this.#errorHandler(error, request, reply)
        if (result !== undefined && result !== reply && !reply.sent) reply.send(result)
      } catch {
        if (!reply.sent) reply.code(500).send({ error_code: 500, message: 'HTTP 500 Internal Server Error' })
      }
    }
  }

  #match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    let segments: string[]
    try {
      segments = path.split('/').map((s) => decodeURIComponent(s))
    } catch {
      throw new HttpError(400, `HTTP 400 Bad Request: '${path}' is not a valid url component`, true)
    }
    let best: { route: Route; params: Record<string, string>; rank: string } | undefined
    for (const route of this.#routes) {
      if (route.method !== method || route.segments.length !== segments.length) continue
      const params: Record<string, string> = {}
      let rank = ''
      const matches = route.segments.every((segment, i) => {
        const actual = segments[i]!
        if (typeof segment === 'string') {
          rank += '0'
          return segment === actual
        }
        rank += '1'
        params[segment.name] = actual
        return actual !== ''
      })
      // Static segments win over parameters, the earliest first.
      if (matches && (best === undefined || rank < best.rank)) best = { route, params, rank }
    }
    return best
  }

  /** Reads the body as fastify does: GET and HEAD have none; an absent one is `undefined`. */
  async #readBody(request: HttpRequest, route: Route | undefined): Promise<void> {
    if (request.method === 'GET' || request.method === 'HEAD') return
    const headers = request.headers
    const contentType = headers['content-type']
    if (
      contentType === undefined &&
      headers['transfer-encoding'] === undefined &&
      (headers['content-length'] === undefined || headers['content-length'] === '0')
    )
      return
    const media = contentType === undefined ? undefined : MEDIA_TYPE.exec(contentType)
    if (media === null) throw new HttpError(415, 'Unsupported Media Type')
    // A streaming route reads any body itself.
    if (route?.streamBody) {
      request.body = request.raw
      return
    }
    const parser =
      (media && this.#parsers.get(`${media[1]}/${media[2]}`.toLowerCase())) ?? this.#parsers.get('')
    if (parser === undefined) {
      if (route === undefined) return
      throw new HttpError(415, 'Unsupported Media Type')
    }
    const text = await readText(request.raw, this.#options.bodyLimit)
    request.rawBody = text
    request.body = parser(request, text)
  }
}

/** The body as UTF-8 text, refused beyond `limit` bytes or when shorter or longer than declared. */
function readText(raw: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(raw.headers['content-length'])
  if (declared > limit) return Promise.reject(new HttpError(413, 'Request body is too large', true))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    const done = (error?: Error) => {
      raw.off('data', onData).off('end', done).off('error', done)
      if (error) reject(Object.assign(error, { statusCode: 400 }))
      else if (!Number.isNaN(declared) && length !== declared)
        reject(new HttpError(400, 'Request body size did not match Content-Length'))
      else resolve(Buffer.concat(chunks, length).toString('utf8'))
    }
    const onData = (chunk: Buffer) => {
      length += chunk.length
      if (length > limit) {
        // The rest is not read: the answer closes the connection rather than drain an unbounded body.
        raw.off('data', onData).off('end', done).off('error', done)
        raw.pause()
        reject(new HttpError(413, 'Request body is too large', true))
        return
      }
      chunks.push(chunk)
    }
    raw.on('data', onData).on('end', done).on('error', done)
  })
}

/** The query string as fastify reads it: a repeated key gives an array, a bare key ''. */
function parseQuery(text: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null)
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = query[key]
    query[key] = previous === undefined ? value : [previous, value].flat()
  }
  return query
}

/** Messages Jersey gives for refusals of the HTTP layer. */
export const HTTP_MESSAGES: Readonly<Record<number, string>> = {
  404: 'HTTP 404 Not Found',
  405: 'HTTP 405 Method Not Allowed',
  413: 'HTTP 413 Request Entity Too Large',
  415: 'HTTP 415 Unsupported Media Type',
}

/**
 * Requests Node's parser refuses before routing, answered in Connect's error shape: an unknown
 * method (`FOO /connectors`) is Jersey's 405 on a known path and 404 elsewhere; an oversized header
 * 431; a timeout 408; anything else 400.
 */
function clientError(
  error: Error & { code?: string; rawPacket?: unknown },
  socket: Duplex,
  knownPath: (path: string) => boolean,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  let status = 400
  let message = 'HTTP 400 Bad Request'
  if (error.code === 'HPE_INVALID_METHOD') {
    const path =
      /^\S+ ([^\s?]+)/.exec(
        Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString('latin1') : '',
      )?.[1] ?? ''
    status = knownPath(path) ? 405 : 404
    message = HTTP_MESSAGES[status]!
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = 431
    message = 'HTTP 431 Request Header Fields Too Large'
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408
    message = 'HTTP 408 Request Timeout'
  }
  if (socket.writable) {
    const body = JSON.stringify({ error_code: status, message })
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}
