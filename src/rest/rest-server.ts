/**
 * The HTTP server of Kafka Connect's REST API (same paths, status codes and bodies as its
 * `ConnectRestServer` and `*Resource` classes), on Sluice's own HTTP layer (http-router.ts).
 * Every `ConnectError` is mapped here, once, to `{"error_code": <status>, "message": ...}`; unknown
 * paths are 404 "HTTP 404 Not Found", a known path with another method 405 "HTTP 405 Method Not
 * Allowed", a body that is not JSON 415 "HTTP 415 Unsupported Media Type", as Jersey answers. Errors
 * of the HTTP layer and of Node's HTTP parser (an unknown method, a bad request line) take that shape too.
 */
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
import { HTTP_MESSAGES, HttpApp } from './http-router.ts'
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

export async function startRestServer(options: RestServerOptions): Promise<RestServer> {
  const bodyLimit = options.bodyLimit ?? 10 * 1024 * 1024
  const app = new HttpApp({ bodyLimit, ...(options.tls ? { https: { ...options.tls } } : {}) })
  const log = options.loggers?.logger('sluice.rest') ?? options.logger

  // Jersey reads the body itself: an empty body is "no entity" (requests.delete and friends send
  // `Content-Type: application/json` with no body), a malformed one is Jackson's 500. The raw body
  // is kept (request.rawBody) for forwarding to another worker and for checking request signatures.
  app.addContentTypeParser('application/json', (_request, body) => {
    const text = body.trim()
    return text === '' ? undefined : parseJsonBody(text)
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
      return reply.code(status).send({ error_code: status, message: HTTP_MESSAGES[status] ?? message })
    }
    log.error({ err: message, url: request.url }, 'REST request failed')
    return reply.code(500).send({ error_code: 500, message: maskSecretValues(message) })
  })
  app.setNotFoundHandler((request, reply) => {
    const status = app.knownPath(request.url.split('?')[0]!) ? 405 : 404
    return reply.code(status).send({ error_code: status, message: HTTP_MESSAGES[status] })
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
