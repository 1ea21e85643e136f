import { ConnectError } from '../api/errors.ts'
import type { Loggers } from '../herder/loggers.ts'
import type { HttpApp } from './http-router.ts'

/**
 * `/admin/loggers` (KIP-495, cluster scope from KIP-976). A standalone worker is the whole
 * cluster, so `scope=cluster` applies here and answers 204 as Kafka Connect's does; an unknown
 * scope falls back to `worker`.
 */
export function registerLoggerRoutes(app: HttpApp, loggers: Loggers): void {
  app.get('/admin/loggers', async () => loggers.all())

  app.get<{ Params: { name: string } }>('/admin/loggers/:name', async (request) =>
    loggers.level(request.params.name),
  )

  app.put<{ Params: { name: string }; Querystring: { scope?: string }; Body: unknown }>(
    '/admin/loggers/:name',
    async (request, reply) => {
      const body = request.body
      const level =
        body !== null && typeof body === 'object' && !Array.isArray(body)
          ? (body as Record<string, unknown>).level
          : undefined
      if (level === undefined || level === null) {
        throw new ConnectError('BAD_REQUEST', "Desired 'level' parameter was not specified in request.")
      }
      const affected = loggers.setLevel(request.params.name, String(level))
      if (request.query.scope?.toLowerCase() === 'cluster') return reply.code(204).send()
      return affected
    },
  )
}
