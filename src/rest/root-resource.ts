import type { Herder } from '../herder/herder.ts'
import type { HttpApp } from './http-router.ts'

/** `/`, `/health`, `/ready` and Sluice's `/sluice/cluster`: what the worker is and whether it is ready. */
export function registerRootRoutes(app: HttpApp, options: { herder: Herder; version: string }): void {
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

  // Sluice's own readiness (a Kubernetes readiness probe): /health says the worker started (liveness);
  // /ready also says a distributed worker is a member of its group now, so it serves requests.
  app.get('/ready', async (_request, reply) => {
    const { ready, message } = options.herder.readiness()
    if (ready) return { status: 'ready', message }
    return reply.code(503).send({ status: 'not ready', message })
  })

  // Sluice's own: a distributed worker's generation, leadership, what it runs and its rebalance counters.
  app.get('/sluice/cluster', async (_request, reply) => {
    if (options.herder.clusterView === undefined) {
      return reply.code(404).send({ error_code: 404, message: 'Not a distributed worker' })
    }
    return options.herder.clusterView()
  })
}
