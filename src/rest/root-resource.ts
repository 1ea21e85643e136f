import type { FastifyInstance } from 'fastify'
import type { RestServerOptions } from './rest-server.ts'

export function registerRootRoutes(app: FastifyInstance, options: RestServerOptions): void {
  app.get('/', async () => ({
    version: options.version,
    commit: 'sluice',
    kafka_cluster_id: await options.herder.kafkaClusterId(),
  }))

  app.get('/health', async (_request, reply) => {
    if (options.herder.ready) {
      return { status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' }
    }
    return reply.code(503).send({ status: 'starting', message: 'Worker is still starting up.' })
  })
}
