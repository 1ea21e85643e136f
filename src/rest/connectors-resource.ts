import type { Props } from '../api/connector.ts'
import { ConfigError, ConnectError } from '../api/errors.ts'
import type { TargetState } from '../common/states.ts'
import type { ConnectorOffset, Herder } from '../herder/herder.ts'
import type { HttpApp, HttpRequest } from './http-router.ts'
import { BodyReadError, configMap, jsonObject, rejectUnknownFields } from './request-body.ts'
import { taskWithVersion, withVersions } from './status-versions.ts'

type NameParams = { Params: { name: string } }
type TaskParams = { Params: { name: string; task: string } }

export interface ConnectorRoutesOptions {
  /** `topic.tracking.enable` (KIP-558). @default true */
  topicTrackingEnabled: boolean
  /** `topic.tracking.allow.reset`. @default true */
  topicTrackingResetAllowed: boolean
}

const CREATE_REQUEST = 'org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest'

export function registerConnectorRoutes(app: HttpApp, herder: Herder, options: ConnectorRoutesOptions): void {
  app.get<{ Querystring: { expand?: string | string[] } }>('/connectors', async (request) => {
    const names = herder.connectors()
    const expand = [request.query.expand ?? []].flat()
    if (expand.length === 0) return names
    const out: Record<string, Record<string, unknown>> = {}
    for (const name of names) {
      const entry: Record<string, unknown> = {}
      try {
        if (expand.includes('status')) entry.status = withVersions(herder, herder.connectorStatus(name))
        if (expand.includes('info')) entry.info = herder.connectorInfo(name)
      } catch {
        continue // deleted while we listed: skipped, as Kafka Connect does
      }
      out[name] = entry
    }
    return out
  })

  app.post<{ Body: unknown }>('/connectors', async (request, reply) => {
    const body = jsonObject(request.body ?? null, CREATE_REQUEST)
    rejectUnknownFields(body, CREATE_REQUEST, ['name', 'config', 'initial_state'])
    const name = body.name === undefined || body.name === null ? '' : javaString(body.name, 'name').trim()
    if (body.config === undefined || body.config === null) {
      throw new ConnectError(
        'BAD_REQUEST',
        'Connector config must be given: {"name": "...", "config": {...}}',
      )
    }
    const config = checkedConfig(body.config)
    checkName(name, config)
    const initialState = parseInitialState(body.initial_state)
    const { info } = await herder.putConnectorConfig(name, config, { allowReplace: false, initialState })
    return reply.code(201).header('Location', connectorUrl(request, name)).send(info)
  })

  app.get<NameParams>('/connectors/:name', async (request) => herder.connectorInfo(request.params.name))

  app.get<NameParams>('/connectors/:name/config', async (request) =>
    herder.connectorConfig(request.params.name),
  )

  app.put<NameParams & { Body: unknown }>('/connectors/:name/config', async (request, reply) => {
    const { name } = request.params
    const config = checkedConfig(request.body ?? null)
    checkName(name, config)
    const { created, info } = await herder.putConnectorConfig(name, config, { allowReplace: true })
    if (created) reply.code(201).header('Location', connectorUrl(request, name))
    return reply.send(info)
  })

  app.patch<NameParams & { Body: unknown }>('/connectors/:name/config', async (request) => {
    const { config, nullKeys } = configMap(request.body ?? null)
    const patch: Record<string, string | null> = { ...config }
    for (const key of nullKeys) patch[key] = null
    return herder.patchConnectorConfig(request.params.name, patch)
  })

  app.delete<NameParams>('/connectors/:name', async (request, reply) => {
    await herder.deleteConnector(request.params.name)
    return reply.code(204).send()
  })

  app.get<NameParams>('/connectors/:name/status', async (request) =>
    withVersions(herder, herder.connectorStatus(request.params.name)),
  )

  app.post<NameParams & { Querystring: { includeTasks?: string; onlyFailed?: string } }>(
    '/connectors/:name/restart',
    async (request, reply) => {
      const includeTasks = javaBoolean(request.query.includeTasks)
      const onlyFailed = javaBoolean(request.query.onlyFailed)
      const status = await herder.restartConnector(request.params.name, { includeTasks, onlyFailed })
      if (!includeTasks && !onlyFailed) return reply.code(204).send()
      return reply.code(202).send(withVersions(herder, status))
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

  // Internal (distributed): task configs from a connector's owner to the leader, signed under `sessioned`.
  app.post<NameParams & { Body: unknown }>('/connectors/:name/tasks', async (request, reply) => {
    if (herder.receiveTaskConfigs === undefined) {
      throw new ConnectError('NOT_FOUND', 'Task configs are only accepted by workers in distributed mode')
    }
    const body = request.body
    if (!Array.isArray(body) || body.some((c) => c === null || typeof c !== 'object' || Array.isArray(c))) {
      throw new ConnectError('BAD_REQUEST', 'Task configs must be a JSON array of objects')
    }
    const configs = (body as Record<string, unknown>[]).map((c) =>
      Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)])),
    )
    await herder.receiveTaskConfigs(request.params.name, configs, {
      body: (request as { rawBody?: string }).rawBody ?? '',
      headers: request.headers,
    })
    return reply.code(204).send()
  })

  // Internal (distributed, exactly-once source): a worker starting a task of a new generation asks the
  // leader to fence the previous one (Kafka Connect's `PUT /connectors/{c}/fence`), signed under `sessioned`.
  app.put<NameParams>('/connectors/:name/fence', async (request, reply) => {
    if (herder.fenceZombieSourceTasks === undefined) {
      throw new ConnectError('NOT_FOUND', 'Zombie fencing is only performed by workers in distributed mode')
    }
    await herder.fenceZombieSourceTasks(request.params.name, {
      body: (request as { rawBody?: string }).rawBody ?? '',
      headers: request.headers,
    })
    return reply.code(204).send()
  })

  app.get<NameParams>('/connectors/:name/tasks-config', async (request) => {
    const out: Record<string, Record<string, string>> = {}
    for (const t of herder.taskConfigs(request.params.name)) out[`${t.id.connector}-${t.id.task}`] = t.config
    return out
  })

  app.get<TaskParams>('/connectors/:name/tasks/:task/status', async (request) =>
    taskWithVersion(
      herder,
      request.params.name,
      herder.taskStatus(request.params.name, taskNumber(request.params.task)),
    ),
  )

  app.post<TaskParams>('/connectors/:name/tasks/:task/restart', async (request, reply) => {
    await herder.restartTask(request.params.name, taskNumber(request.params.task))
    return reply.code(204).send()
  })

  app.get<NameParams>('/connectors/:name/topics', async (request) => {
    if (!options.topicTrackingEnabled) throw new ConnectError('FORBIDDEN', 'Topic tracking is disabled.')
    const { name } = request.params
    return { [name]: { topics: herder.connectorActiveTopics(name) } }
  })

  app.put<NameParams>('/connectors/:name/topics/reset', async (request, reply) => {
    if (!options.topicTrackingEnabled) throw new ConnectError('FORBIDDEN', 'Topic tracking is disabled.')
    if (!options.topicTrackingResetAllowed) {
      throw new ConnectError('FORBIDDEN', 'Topic tracking reset is disabled.')
    }
    herder.resetConnectorActiveTopics(request.params.name)
    return reply.code(202).send()
  })

  app.get<NameParams>('/connectors/:name/offsets', async (request) =>
    herder.connectorOffsets(request.params.name),
  )

  app.patch<NameParams & { Body: unknown }>('/connectors/:name/offsets', async (request) => {
    const offsets = connectorOffsets(request.body ?? null)
    return { message: await herder.alterConnectorOffsets(request.params.name, offsets) }
  })

  app.delete<NameParams>('/connectors/:name/offsets', async (request) => ({
    message: await herder.resetConnectorOffsets(request.params.name),
  }))
}

/** The config of a create or update: Kafka Connect rejects null values as a validation error. */
function checkedConfig(body: unknown): Props {
  const { config, nullKeys } = configMap(body)
  if (nullKeys.length > 0) {
    throw new ConfigError(
      nullKeys[0],
      [
        `Connector configuration is invalid and contains the following ${nullKeys.length} error(s):`,
        ...nullKeys.map(() => 'Null value can not be supplied as the configuration value.'),
        'You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`',
      ].join('\n'),
    )
  }
  return config
}

/** `{"offsets": [{"partition": {...}, "offset": {...} | null}]}` (KIP-875's `ConnectorOffsets`). */
function connectorOffsets(body: unknown): ConnectorOffset[] {
  const object = jsonObject(body, 'org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets')
  const list = object.offsets
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    throw new ConnectError(
      'BAD_REQUEST',
      'Partitions / offsets need to be provided for an alter offsets request',
    )
  }
  if (!Array.isArray(list)) {
    throw new BodyReadError('Cannot deserialize value of type `java.util.ArrayList` from a non-array value')
  }
  return list.map((item: unknown) => {
    const entry = jsonObject(item, 'org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset')
    const partition = entry.partition ?? null
    const offset = entry.offset ?? null
    if (partition !== null) jsonObject(partition, 'java.util.LinkedHashMap')
    if (offset !== null) jsonObject(offset, 'java.util.LinkedHashMap')
    return {
      partition: partition as Record<string, unknown> | null,
      offset: offset as Record<string, unknown> | null,
    }
  })
}

/** Jackson reads a number or boolean into a String field; an object or array is a 500. */
function javaString(value: unknown, field: string): string {
  if (typeof value === 'object') {
    throw new BodyReadError(
      `Cannot deserialize value of type \`java.lang.String\` from ${Array.isArray(value) ? 'Array' : 'Object'} value (through reference chain: ${CREATE_REQUEST}["${field}"])`,
    )
  }
  return String(value)
}

/** JAX-RS `@QueryParam boolean`: "true" in any case is true, anything else false. */
function javaBoolean(value: string | undefined): boolean {
  return value?.toLowerCase() === 'true'
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
    `Invalid initial_state ${JSON.stringify(value)}: use RUNNING, PAUSED or STOPPED`,
  )
}

/** A task id in the path must be an int, or the route does not match: Jersey's plain 404. */
function taskNumber(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 2 ** 31 - 1) {
    throw new ConnectError('NOT_FOUND', 'HTTP 404 Not Found')
  }
  return Number(text)
}

/** The absolute URL Jersey's UriBuilder puts in `Location` (each path segment percent-encoded). */
function connectorUrl(request: HttpRequest, name: string): string {
  const path = name.split('/').map(encodeURIComponent).join('/')
  return `${request.protocol}://${request.host}/connectors/${path}`
}
