/**
 * The HTTP server of Kafka Connect's REST API (same paths, status codes and bodies as its
 * `ConnectRestServer` and `*Resource` classes). The only module that imports the HTTP framework.
 * Every `ConnectError` is mapped here, once, to `{"error_code": <status>, "message": ...}`; unknown
 * paths are 404 "HTTP 404 Not Found", a known path with another method 405 "HTTP 405 Method Not
 * Allowed", a body that is not JSON 415 "HTTP 415 Unsupported Media Type", as Jersey answers. Errors
 * of the framework and of Node's HTTP parser (an unknown method, a bad request line) take that shape too.
 */
import { createRequire } from 'node:module'
import type { Duplex } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { ConfigError, ConnectError } from '../api/errors.ts'
import type { Logger } from '../common/logger.ts'
import { maskSecretValues } from '../common/secret-values.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import { RequestTargetError } from '../herder/distributed/request-target.ts'
import type { Herder } from '../herder/herder.ts'
import type { Loggers } from '../herder/loggers.ts'
import type { SchemaRegistry } from '../services/schema-registry/schema-registry.ts'
import { registerClusterMetricsRoutes } from './cluster-metrics-resource.ts'
import { registerConnectorPluginRoutes } from './connector-plugins-resource.ts'
import { registerConnectorRoutes } from './connectors-resource.ts'
import { registerConsoleRoutes } from './console-resource.ts'
import { forwardRequest } from './forwarding.ts'
import { registerLoggerRoutes } from './loggers-resource.ts'
import { registerMetricsRoutes } from './metrics-resource.ts'
import { BodyReadError, parseJsonBody } from './request-body.ts'
import {
  authorized,
  readCredentials,
  requiresCredentials,
  type TlsSettings,
  tlsSettings,
} from './rest-security.ts'
import { registerRootRoutes } from './root-resource.ts'
import { registerSchemaRoutes } from './schemas-resource.ts'
import { registerTopicRoutes } from './topics-resource.ts'

// Not `import … from 'node:http'`: that loads undici (decision 0031).
const { STATUS_CODES } = process.getBuiltinModule('node:http')

export interface RestServerOptions {
  herder: Herder
  host: string
  port: number
  logger: Logger
  version: string
  /** Serves `/admin/loggers` when given. */
  loggers?: Loggers
  /** Listen with TLS (`listeners=https://…`). */
  tls?: TlsSettings
  /** HTTP basic auth: user → password. Absent: no authentication. */
  credentials?: ReadonlyMap<string, string>
  /** `topic.tracking.enable`. @default true */
  topicTrackingEnabled?: boolean
  /** `topic.tracking.allow.reset`. @default true */
  topicTrackingResetAllowed?: boolean
  /** Largest accepted request body in bytes. @default 10 MiB */
  bodyLimit?: number
  /** The worker's schema registry, once its services started (read-only `/sluice/schemas`). */
  schemaRegistry?: () => SchemaRegistry | undefined
}

export interface RestServer {
  readonly port: number
  readonly url: string
  close(): Promise<void>
}

/** The REST settings a worker config gives: listener, TLS, basic auth, topic tracking. */
export function restServerSettings(
  config: WorkerConfig,
): Pick<
  RestServerOptions,
  'host' | 'port' | 'tls' | 'credentials' | 'topicTrackingEnabled' | 'topicTrackingResetAllowed'
> {
  const listener = config.restListener
  const originals = config.originals()
  const credentialsFile = config.getString('rest.basic.auth.credentials.file')
  return {
    host: listener.host,
    port: listener.port,
    tls: listener.protocol === 'https' ? tlsSettings(originals) : undefined,
    credentials: credentialsFile ? readCredentials(credentialsFile) : undefined,
    topicTrackingEnabled: config.getBoolean('topic.tracking.enable'),
    topicTrackingResetAllowed: config.getBoolean('topic.tracking.allow.reset'),
  }
}

/** Messages Jersey gives for the framework's own refusals. */
const FRAMEWORK_MESSAGES: Record<number, string> = {
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
  routes: readonly { pattern: RegExp }[],
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  let status = 400
  let message = 'HTTP 400 Bad Request'
  if (error.code === 'HPE_INVALID_METHOD') {
    const path =
      /^\S+ ([^\s?]+)/.exec(
        Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString('latin1') : '',
      )?.[1] ?? ''
    status = routes.some((r) => r.pattern.test(path)) ? 405 : 404
    message = FRAMEWORK_MESSAGES[status]
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
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}

type CompilerFactory = (...args: unknown[]) => unknown
const fastifyRequire = createRequire(import.meta.resolve('fastify'))

/** A fastify schema compiler factory, `require`d from fastify's own dependencies when first called. */
function lazyCompilerFactory(name: string): CompilerFactory {
  let factory: CompilerFactory | undefined
  return (...args) => {
    factory ??= (fastifyRequire(name) as () => CompilerFactory)()
    return factory(...args)
  }
}

/**
 * The routes declare no JSON schemas, so fastify's schema compilers (ajv, fast-json-stringify:
 * ~10 MB resident) are required only if a route ever has one, not by every idle worker.
 */
const lazySchemaCompilers = {
  buildValidator: lazyCompilerFactory('@fastify/ajv-compiler'),
  buildSerializer: lazyCompilerFactory('@fastify/fast-json-stringify-compiler'),
}

export async function startRestServer(options: RestServerOptions): Promise<RestServer> {
  const bodyLimit = options.bodyLimit ?? 10 * 1024 * 1024
  const routes: { method: string; pattern: RegExp }[] = []
  const serverOptions: FastifyServerOptions & { https?: object } = {
    logger: false,
    forceCloseConnections: true,
    bodyLimit,
    // Kafka Connect has no limit on connector names (the framework's default of 100 characters let
    // such a connector be created and never read, changed or deleted); the request line stays
    // bounded by Node's header size limit, as Jetty's bounds Connect's.
    routerOptions: { maxParamLength: 1 << 20 },
    schemaController: { compilersFactory: lazySchemaCompilers as never },
    clientErrorHandler: (error, socket) => clientError(error, socket, routes),
    // A path that is not valid percent-encoding (`/connectors/%zz`): a 400 in Connect's shape too.
    frameworkErrors: (error, _request, reply) => {
      const plain = reply as unknown as { code(status: number): { send(body: unknown): void } }
      plain.code(400).send({ error_code: 400, message: `HTTP 400 Bad Request: ${error.message}` })
    },
  }
  if (options.tls) {
    serverOptions.https = { ...options.tls }
  }
  const app = Fastify(serverOptions as FastifyServerOptions) as unknown as FastifyInstance
  const log = options.loggers?.logger('sluice.rest') ?? options.logger

  // Jersey reads the body itself: an empty body is "no entity" (requests.delete and friends send
  // `Content-Type: application/json` with no body), a malformed one is Jackson's 500.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    const text = (body as string).trim()
    // Kept for forwarding to another worker and for checking internal request signatures.
    ;(request as { rawBody?: string }).rawBody = body as string
    if (text === '') {
      done(null, undefined)
      return
    }
    try {
      done(null, parseJsonBody(text))
    } catch (error) {
      done(error as BodyReadError, undefined)
    }
  })

  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+')}/?$`)
    for (const method of [route.method].flat()) routes.push({ method, pattern })
  })

  if (options.credentials) {
    const credentials = options.credentials
    app.addHook('onRequest', async (request, reply) => {
      if (requiresCredentials(request) && !authorized(request.headers.authorization, credentials)) {
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Basic realm="sluice"')
          .type('text/plain')
          .send('User cannot access the resource.')
      }
      return undefined
    })
  }

  app.setErrorHandler(async (thrown, request, reply) => {
    let error: unknown = thrown
    if (error instanceof RequestTargetError && error.forwardUrl !== null) {
      try {
        return await forwardRequest(error, request, reply, options.tls)
      } catch (forwardError) {
        error = forwardError
      }
    }
    if (error instanceof ConnectError) {
      if (error.status >= 500 && !(error instanceof BodyReadError))
        log.error({ err: error.message, url: request.url }, 'REST request failed')
      // A connector's or driver's message may quote a value resolved from a config provider.
      return reply
        .code(error.status)
        .send({ error_code: error.status, message: maskSecretValues(error.message) })
    }
    const status = (error as { statusCode?: number }).statusCode
    const message = error instanceof Error ? error.message : String(error)
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send({ error_code: status, message: FRAMEWORK_MESSAGES[status] ?? message })
    }
    log.error({ err: message, url: request.url }, 'REST request failed')
    return reply.code(500).send({ error_code: 500, message: maskSecretValues(message) })
  })
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]
    const status = routes.some((r) => r.pattern.test(path)) ? 405 : 404
    return reply.code(status).send({ error_code: status, message: FRAMEWORK_MESSAGES[status] })
  })
  registerRootRoutes(app, options)
  registerConnectorRoutes(app, options.herder, {
    topicTrackingEnabled: options.topicTrackingEnabled ?? true,
    topicTrackingResetAllowed: options.topicTrackingResetAllowed ?? true,
  })
  registerConnectorPluginRoutes(app, options.herder)
  registerMetricsRoutes(app, options.herder)
  if (options.loggers) registerLoggerRoutes(app, options.loggers)
  registerConsoleRoutes(app)
  registerTopicRoutes(app, options.herder)
  registerClusterMetricsRoutes(app, options.herder, options.tls)
  registerSchemaRoutes(app, options.schemaRegistry ?? (() => undefined))
  let address: string
  try {
    address = await app.listen({ host: options.host || '0.0.0.0', port: options.port })
  } catch (error) {
    await app.close().catch(() => {})
    throw listenError(error, options)
  }
  const port = (app.server.address() as { port: number }).port
  return {
    port,
    url: address,
    close: () => app.close(),
  }
}

/** A listener that cannot open names the `listeners` key, the port and what to do. */
function listenError(error: unknown, options: { host: string; port: number; tls?: unknown }): unknown {
  const code = (error as NodeJS.ErrnoException).code
  const listener = `${options.tls ? 'https' : 'http'}://${options.host}:${options.port}`
  if (code === 'EADDRINUSE') {
    return new ConfigError(
      'listeners',
      `port ${options.port} is already in use (listeners=${listener}): stop what listens there, or set listeners to a free port, e.g. listeners=http://:${options.port + 1}`,
      { cause: error },
    )
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new ConfigError(
      'listeners',
      `cannot listen on ${listener} (${code}): choose a port above 1023 or an address of this machine in listeners`,
      { cause: error },
    )
  }
  return error
}
