/**
 * The HTTP server of Kafka Connect's REST API (same paths, status codes and bodies, see
 * ../shared/reference/kafka-connect.md §1). The only module that imports the HTTP framework.
 * Every `ConnectError` is mapped here, once, to `{"error_code": <status>, "message": ...}`.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { ConnectError } from '../api/errors.ts'
import type { Herder } from '../herder/herder.ts'
import type { Logger } from '../runtime/logger.ts'
import { registerConnectorPluginRoutes } from './connector-plugins-resource.ts'
import { registerConnectorRoutes } from './connectors-resource.ts'
import { registerRootRoutes } from './root-resource.ts'

export interface RestServerOptions {
  herder: Herder
  host: string
  port: number
  logger: Logger
  version: string
}

export interface RestServer {
  readonly port: number
  readonly url: string
  close(): Promise<void>
}

export async function startRestServer(options: RestServerOptions): Promise<RestServer> {
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true })
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof ConnectError) {
      return reply.code(error.status).send({ error_code: error.status, message: error.message })
    }
    const status = (error as { statusCode?: number }).statusCode
    const message = error instanceof Error ? error.message : String(error)
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send({ error_code: status, message })
    }
    options.logger.error({ err: error }, 'REST request failed')
    return reply.code(500).send({ error_code: 500, message })
  })
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ error_code: 404, message: 'HTTP 404 Not Found' }),
  )
  registerRootRoutes(app, options)
  registerConnectorRoutes(app, options.herder)
  registerConnectorPluginRoutes(app, options.herder)
  const address = await app.listen({ host: options.host || '0.0.0.0', port: options.port })
  const port = (app.server.address() as { port: number }).port
  return {
    port,
    url: address,
    close: () => app.close(),
  }
}
