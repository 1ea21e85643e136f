/**
 * The REST API of Confluent's Schema Registry (`SubjectsResource`, `SubjectVersionsResource`,
 * `SchemasResource`, `ConfigResource`, `ModeResource`, `CompatibilityResource`), served on the
 * worker's `schema.registry.listeners`. Paths, bodies, status codes and error codes are Confluent's;
 * answers are `application/vnd.schemaregistry.v1+json`. On an instance that does not write, writes
 * are forwarded to the elected writer and answered once this instance has read the result back
 * (so a client reading right after its write sees it).
 */

import type { Logger } from '../common/logger.ts'
import { type InterWorkerResponse, interWorkerRequest } from '../herder/distributed/inter-worker-client.ts'
import {
  NotLeaderError,
  type SchemaRegistry,
  type SchemaVersion,
} from '../services/schema-registry/schema-registry.ts'
import { RegistryErrors, ServiceError } from '../services/service-error.ts'
import type { HttpApp, HttpReply, HttpRequest } from './http-router.ts'
import type { TlsSettings } from './rest-security.ts'
import type { ServiceAuth } from './service-security.ts'
import { createServiceApp, listenService, queryFlag, type ServiceServer } from './service-server.ts'

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

export interface SchemaRegistryServerOptions {
  registry: SchemaRegistry
  host: string
  port: number
  logger: Logger
  /** https (service-security.ts). */
  tls?: TlsSettings
  /** HTTP basic authentication. */
  auth?: ServiceAuth
}

type Params = Record<string, string>

function versionBody(registry: SchemaRegistry, v: SchemaVersion): Record<string, unknown> {
  return {
    subject: v.subject,
    version: v.version,
    id: v.id,
    guid: registry.schemaById(v.id).guid,
    ...(v.schemaType === 'AVRO' ? {} : { schemaType: v.schemaType }),
    ...(v.references.length > 0 ? { references: v.references } : {}),
    schema: v.schema,
  }
}

function body(request: HttpRequest): Record<string, unknown> {
  const value = request.body
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ServiceError(400, 'The request body must be a JSON object')
  }
  return value as Record<string, unknown>
}

function schemaRequest(request: HttpRequest): Record<string, unknown> {
  const b = body(request)
  if (typeof b.schema !== 'string') {
    throw new ServiceError(RegistryErrors.INVALID_SCHEMA, 'Empty schema: the request needs a "schema" string')
  }
  return b
}

function idParam(value: string | undefined): number {
  const id = Number(value)
  if (!Number.isInteger(id) || id < 0)
    throw new ServiceError(RegistryErrors.SCHEMA_NOT_FOUND, `Schema ${value} not found`)
  return id
}

export function registerSchemaRegistryRoutes(app: HttpApp, options: SchemaRegistryServerOptions): void {
  const { registry, logger } = options

  /** Runs a write here, or forwards it to the writer and waits to read its result back. */
  async function write(
    request: HttpRequest,
    reply: HttpReply,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    try {
      return await run()
    } catch (error) {
      if (!(error instanceof NotLeaderError) || error.leaderUrl === null) throw error
      if (request.headers['x-sluice-forwarded'] !== undefined) {
        throw new ServiceError(
          RegistryErrors.REQUEST_FORWARDING_FAILED,
          'Error while forwarding the request to the leader: the leader moved; retry',
        )
      }
      let response: InterWorkerResponse
      try {
        const raw = (request as { rawBody?: string }).rawBody
        // Over https the instance is a TLS client with its listener's settings, as Confluent's
        // leader client takes the registry's ssl.* keys: the truststore verifies the writer.
        response = await interWorkerRequest(`${error.leaderUrl}${request.url}`, {
          method: request.method,
          headers: {
            'content-type': REGISTRY_CONTENT_TYPE,
            'x-sluice-forwarded': 'true',
            ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
          },
          body: raw === undefined || raw === '' ? undefined : raw,
          timeoutMs: 60_000,
          tls: options.tls,
        })
      } catch (cause) {
        logger.warn(
          { err: (cause as Error).message, leader: error.leaderUrl },
          'schema registry forwarding failed',
        )
        throw new ServiceError(
          RegistryErrors.REQUEST_FORWARDING_FAILED,
          `Error while forwarding the request to the leader ${error.leaderUrl}: ${(cause as Error).message}`,
        )
      }
      if (response.status >= 200 && response.status < 300) await registry.catchUp().catch(() => {})
      reply.code(response.status)
      return reply.type(response.headers['content-type'] ?? REGISTRY_CONTENT_TYPE).send(response.body)
    }
  }

  app.get('/', async () => ({}))
  app.get('/schemas/types', async () => ['JSON', 'AVRO'])
  app.get('/contexts', async () => ['.'])

  app.get('/schemas', async (request) => {
    const q = request.query as Record<string, string | undefined>
    const deleted = queryFlag(q, 'deleted')
    const latestOnly = queryFlag(q, 'latestOnly')
    const out: Record<string, unknown>[] = []
    for (const subject of registry.subjects({ deleted, prefix: q.subjectPrefix })) {
      const versions = registry.versions(subject, deleted)
      const chosen = latestOnly ? versions.slice(-1) : versions
      for (const version of chosen)
        out.push(versionBody(registry, registry.version(subject, String(version), deleted)))
    }
    return out
  })
  const schemaString = (entry: ReturnType<SchemaRegistry['schemaById']>) => ({
    ...(entry.schemaType === 'AVRO' ? {} : { schemaType: entry.schemaType }),
    ...(entry.references.length > 0 ? { references: entry.references } : {}),
    schema: entry.schema,
    guid: entry.guid,
  })
  app.get('/schemas/ids/:id', async (request) =>
    schemaString(registry.schemaById(idParam((request.params as Params).id))),
  )
  // Confluent's GUIDs (wire format V1 and the schema id headers): the MD5 of the schema as a UUID.
  app.get('/schemas/guids/:guid', async (request) =>
    schemaString(registry.schemaByGuid((request.params as Params).guid!)),
  )
  app.get('/schemas/guids/:guid/ids', async (request) => [
    { context: '.', id: registry.schemaByGuid((request.params as Params).guid!).id },
  ])
  app.get('/schemas/ids/:id/schema', async (request, reply) => {
    const entry = registry.schemaById(idParam((request.params as Params).id))
    return reply.type(REGISTRY_CONTENT_TYPE).send(entry.schema)
  })
  app.get('/schemas/ids/:id/subjects', async (request) =>
    registry.subjectsById(idParam((request.params as Params).id), queryFlag(request.query, 'deleted')),
  )
  app.get('/schemas/ids/:id/versions', async (request) =>
    registry.versionsById(idParam((request.params as Params).id), queryFlag(request.query, 'deleted')),
  )

  app.get('/subjects', async (request) =>
    registry.subjects({
      deleted: queryFlag(request.query, 'deleted'),
      prefix: (request.query as Record<string, string | undefined>).subjectPrefix,
    }),
  )
  app.post('/subjects/:subject', async (request) => {
    const { subject } = request.params as Params
    return versionBody(
      registry,
      registry.lookup(subject!, schemaRequest(request), queryFlag(request.query, 'deleted')),
    )
  })
  app.delete('/subjects/:subject', async (request, reply) => {
    const { subject } = request.params as Params
    return write(request, reply, () =>
      registry.deleteSubject(subject!, queryFlag(request.query, 'permanent')),
    )
  })
  app.get('/subjects/:subject/versions', async (request) => {
    const { subject } = request.params as Params
    return registry.versions(subject!, queryFlag(request.query, 'deleted'))
  })
  app.post('/subjects/:subject/versions', async (request, reply) => {
    const { subject } = request.params as Params
    const req = schemaRequest(request)
    return write(request, reply, async () => {
      const v = await registry.register(subject!, req)
      return {
        id: v.id,
        version: v.version,
        guid: registry.schemaById(v.id).guid,
        ...(v.schemaType === 'AVRO' ? {} : { schemaType: v.schemaType }),
      }
    })
  })
  app.get('/subjects/:subject/versions/:version', async (request) => {
    const { subject, version } = request.params as Params
    return versionBody(registry, registry.version(subject!, version!, queryFlag(request.query, 'deleted')))
  })
  app.get('/subjects/:subject/versions/:version/schema', async (request, reply) => {
    const { subject, version } = request.params as Params
    const v = registry.version(subject!, version!, queryFlag(request.query, 'deleted'))
    return reply.type(REGISTRY_CONTENT_TYPE).send(v.schema)
  })
  app.get('/subjects/:subject/versions/:version/referencedby', async (request) => {
    const { subject, version } = request.params as Params
    return registry.referencedBy(subject!, version!)
  })
  app.delete('/subjects/:subject/versions/:version', async (request, reply) => {
    const { subject, version } = request.params as Params
    return write(request, reply, () =>
      registry.deleteVersion(subject!, version!, queryFlag(request.query, 'permanent')),
    )
  })

  const compatibility = async (request: HttpRequest, version: string | undefined) => {
    const { subject } = request.params as Params
    const result = registry.testCompatibility(subject!, version, schemaRequest(request))
    return queryFlag(request.query, 'verbose')
      ? { is_compatible: result.isCompatible, messages: result.messages }
      : { is_compatible: result.isCompatible }
  }
  app.post('/compatibility/subjects/:subject/versions/:version', async (request) =>
    compatibility(request, (request.params as Params).version),
  )
  app.post('/compatibility/subjects/:subject/versions', async (request) => compatibility(request, undefined))

  const configLevel = (b: Record<string, unknown>) => b.compatibility ?? b.compatibilityLevel
  app.get('/config', async () => ({ compatibilityLevel: registry.compatibility(null) }))
  app.put('/config', async (request, reply) => {
    const b = body(request)
    return write(request, reply, async () => ({
      compatibility: await registry.setCompatibility(null, configLevel(b)),
    }))
  })
  app.delete('/config', async (request, reply) =>
    write(request, reply, async () => ({ compatibilityLevel: await registry.deleteCompatibility(null) })),
  )
  app.get('/config/:subject', async (request) => {
    const { subject } = request.params as Params
    return {
      compatibilityLevel: registry.compatibility(subject!, queryFlag(request.query, 'defaultToGlobal')),
    }
  })
  app.put('/config/:subject', async (request, reply) => {
    const { subject } = request.params as Params
    const b = body(request)
    return write(request, reply, async () => ({
      compatibility: await registry.setCompatibility(subject!, configLevel(b)),
    }))
  })
  app.delete('/config/:subject', async (request, reply) => {
    const { subject } = request.params as Params
    return write(request, reply, async () => ({
      compatibilityLevel: await registry.deleteCompatibility(subject!),
    }))
  })

  app.get('/mode', async () => ({ mode: registry.mode(null) }))
  app.put('/mode', async (request, reply) => {
    const b = body(request)
    return write(request, reply, async () => ({
      mode: await registry.setMode(null, b.mode, queryFlag(request.query, 'force')),
    }))
  })
  app.get('/mode/:subject', async (request) => {
    const { subject } = request.params as Params
    return { mode: registry.mode(subject!, queryFlag(request.query, 'defaultToGlobal')) }
  })
  app.put('/mode/:subject', async (request, reply) => {
    const { subject } = request.params as Params
    const b = body(request)
    return write(request, reply, async () => ({
      mode: await registry.setMode(subject!, b.mode, queryFlag(request.query, 'force')),
    }))
  })
  app.delete('/mode/:subject', async (request, reply) => {
    const { subject } = request.params as Params
    return write(request, reply, async () => ({ mode: await registry.deleteMode(subject!) }))
  })
}

export async function startSchemaRegistryServer(
  options: SchemaRegistryServerOptions,
): Promise<ServiceServer> {
  const app = createServiceApp({
    name: 'schema registry',
    logger: options.logger,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
    responseType: REGISTRY_CONTENT_TYPE,
  })
  registerSchemaRegistryRoutes(app, options)
  return listenService(app, { host: options.host, port: options.port })
}
