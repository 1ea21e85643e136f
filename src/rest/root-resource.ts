import type { FastifyInstance } from 'fastify'
import type { Herder } from '../herder/herder.ts'

/** `/`, `/health` and Sluice's `/sluice/cluster`: what the worker is and whether it is ready. */
export function registerRootRoutes(app: FastifyInstance, options: { herder: Herder; version: string }): void {
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

  // Sluice's own: a distributed worker's generation, leadership, what it runs and its rebalance counters.
  app.get('/sluice/cluster', async (_request, reply) => {
    if (options.herder.clusterView === undefined) {
      return reply.code(404).send({ error_code: 404, message: 'Not a distributed worker' })
    }
    return options.herder.clusterView()
  })
}
