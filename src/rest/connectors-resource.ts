import type { FastifyInstance } from 'fastify'
import type { Props } from '../api/connector.ts'
import { ConnectError } from '../api/errors.ts'
import type { Herder } from '../herder/herder.ts'
import type { TargetState } from '../runtime/states.ts'

type NameParams = { Params: { name: string } }
type TaskParams = { Params: { name: string; task: string } }

export function registerConnectorRoutes(app: FastifyInstance, herder: Herder): void {
  app.get<{ Querystring: { expand?: string | string[] } }>('/connectors', async (request) => {
    const names = herder.connectors()
    const expand = [request.query.expand ?? []].flat()
    if (expand.length === 0) return names
    const out: Record<string, Record<string, unknown>> = {}
    for (const name of names) {
      const entry: Record<string, unknown> = {}
      try {
        if (expand.includes('status')) entry.status = herder.connectorStatus(name)
        if (expand.includes('info')) entry.info = herder.connectorInfo(name)
      } catch {
        continue
      }
      out[name] = entry
    }
    return out
  })

  app.post<{ Body: unknown }>('/connectors', async (request, reply) => {
    const body = request.body as { name?: unknown; config?: unknown; initial_state?: unknown } | null
    if (!body || typeof body !== 'object')
      throw new ConnectError('BAD_REQUEST', 'Request body must be a JSON object')
    const config = stringConfig(body.config)
    const name = typeof body.name === 'string' ? body.name.trim() : ''
    checkName(name, config)
    const initialState = parseInitialState(body.initial_state)
    const { info } = await herder.putConnectorConfig(name, config, { allowReplace: false, initialState })
    return reply
      .code(201)
      .header('Location', `/connectors/${encodeURIComponent(name)}`)
      .send(info)
  })

  app.get<NameParams>('/connectors/:name', async (request) => herder.connectorInfo(request.params.name))

  app.get<NameParams>('/connectors/:name/config', async (request) =>
    herder.connectorConfig(request.params.name),
  )

  app.put<NameParams & { Body: unknown }>('/connectors/:name/config', async (request, reply) => {
    const { name } = request.params
    const config = stringConfig(request.body)
    checkName(name, config)
    const { created, info } = await herder.putConnectorConfig(name, config, { allowReplace: true })
    if (created) reply.code(201).header('Location', `/connectors/${encodeURIComponent(name)}`)
    return reply.send(info)
  })

  app.patch<NameParams & { Body: unknown }>('/connectors/:name/config', async (request) => {
    const body = request.body
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new ConnectError('BAD_REQUEST', 'Request body must be a JSON object of config keys')
    }
    const patch: Record<string, string | null> = {}
    for (const [k, v] of Object.entries(body)) patch[k] = v === null ? null : String(v)
    return herder.patchConnectorConfig(request.params.name, patch)
  })

  app.delete<NameParams>('/connectors/:name', async (request, reply) => {
    await herder.deleteConnector(request.params.name)
    return reply.code(204).send()
  })

  app.get<NameParams>('/connectors/:name/status', async (request) =>
    herder.connectorStatus(request.params.name),
  )

  app.post<NameParams & { Querystring: { includeTasks?: string; onlyFailed?: string } }>(
    '/connectors/:name/restart',
    async (request, reply) => {
      const includeTasks = request.query.includeTasks === 'true'
      const onlyFailed = request.query.onlyFailed === 'true'
      const status = await herder.restartConnector(request.params.name, { includeTasks, onlyFailed })
      if (!includeTasks && !onlyFailed) return reply.code(204).send()
      return reply.code(202).send(status)
    },
  )

  app.put<NameParams>('/connectors/:name/pause', async (request, reply) => {
    await herder.pauseConnector(request.params.name)
    return reply.code(202).send()
  })

  app.put<NameParams>('/connectors/:name/resume', async (request, reply) => {
    await herder.resumeConnector(request.params.name)
    return reply.code(202).send()
  })

  app.put<NameParams>('/connectors/:name/stop', async (request, reply) => {
    await herder.stopConnector(request.params.name)
    return reply.code(204).send()
  })

  app.get<NameParams>('/connectors/:name/tasks', async (request) => herder.taskConfigs(request.params.name))

  app.get<NameParams>('/connectors/:name/tasks-config', async (request) => {
    const out: Record<string, Record<string, string>> = {}
    for (const t of herder.taskConfigs(request.params.name)) out[`${t.id.connector}-${t.id.task}`] = t.config
    return out
  })

  app.get<TaskParams>('/connectors/:name/tasks/:task/status', async (request) =>
    herder.taskStatus(request.params.name, taskNumber(request.params.task)),
  )

  app.post<TaskParams>('/connectors/:name/tasks/:task/restart', async (request, reply) => {
    await herder.restartTask(request.params.name, taskNumber(request.params.task))
    return reply.code(204).send()
  })
}

function stringConfig(value: unknown): Props {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConnectError('BAD_REQUEST', 'Connector config must be a JSON object of string keys and values')
  }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = String(v)
  return out
}

/** Kafka Connect's check: a `name` in the config must match the URL's; a missing one is filled in. */
function checkName(name: string, config: Record<string, string>): void {
  const inConfig = config.name
  if (inConfig !== undefined && inConfig !== name) {
    throw new ConnectError(
      'BAD_REQUEST',
      `Connector name configuration (${inConfig}) doesn't match connector name in the URL (${name})`,
    )
  }
  config.name = name
}

function parseInitialState(value: unknown): TargetState | undefined {
  if (value === undefined || value === null) return undefined
  const text = String(value).toUpperCase()
  if (text === 'RUNNING') return 'STARTED'
  if (text === 'PAUSED' || text === 'STOPPED') return text
  throw new ConnectError(
    'BAD_REQUEST',
    `Invalid initial state ${String(value)}: use RUNNING, PAUSED or STOPPED`,
  )
}

function taskNumber(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new ConnectError('NOT_FOUND', `Unknown task: ${text}`)
  return n
}
