/**
 * Sluice's own read-only view of the worker's schema registry for the web console (decision 0027):
 * `GET /sluice/schemas` (the subjects with their versions, compatibility level and mode) and
 * `GET /sluice/schemas/subjects/{subject}` (every version's schema, type and references). It reads
 * the registry object in process, so it works whether or not the registry has its own listener
 * (the REST proxy alone runs one without it), and stays on the Connect listener's origin, TLS and
 * basic auth: the console's `Content-Security-Policy` allows `'self'` only, and the registry's own
 * listener is another origin with its own security. Nothing here writes. 404 when no registry runs.
 */

import { NotFoundError } from '../api/errors.ts'
import type { SchemaRegistry } from '../services/schema-registry/schema-registry.ts'
import type { HttpApp } from './http-router.ts'

export interface SubjectSummary {
  subject: string
  versions: number[]
  /** The level in force: the subject's own, or the global one. */
  compatibility: string
  /** True when the subject sets its own level. */
  compatibilityOverride: boolean
  mode: string
  latest: { version: number; id: number; schemaType: string } | null
}

export interface SubjectView {
  subject: string
  compatibility: string
  compatibilityOverride: boolean
  mode: string
  versions: {
    version: number
    id: number
    schemaType: string
    schema: string
    references: { name: string; subject: string; version: number }[]
    /** Ids of the schemas that reference this version. */
    referencedBy: number[]
  }[]
}

function noRegistry(): NotFoundError {
  return new NotFoundError(
    'No schema registry runs on this worker: set schema.registry.listeners (or rest.proxy.listeners) in the worker config to run one',
  )
}

function subjectLevel(registry: SchemaRegistry, subject: string) {
  let override = true
  try {
    registry.compatibility(subject, false)
  } catch {
    override = false
  }
  return { compatibility: registry.compatibility(subject), compatibilityOverride: override }
}

export function registerSchemaRoutes(app: HttpApp, schemaRegistry: () => SchemaRegistry | undefined): void {
  app.get('/sluice/schemas', async () => {
    const registry = schemaRegistry()
    if (!registry) throw noRegistry()
    const subjects = registry.subjects().map((subject): SubjectSummary => {
      const versions = registry.versions(subject)
      const last = versions.length > 0 ? registry.version(subject, 'latest') : undefined
      return {
        subject,
        versions,
        ...subjectLevel(registry, subject),
        mode: registry.mode(subject),
        latest: last ? { version: last.version, id: last.id, schemaType: last.schemaType } : null,
      }
    })
    return { compatibility: registry.compatibility(null), mode: registry.mode(null), subjects }
  })

  app.get<{ Params: { subject: string } }>('/sluice/schemas/subjects/:subject', async (request) => {
    const registry = schemaRegistry()
    if (!registry) throw noRegistry()
    const { subject } = request.params
    if (!registry.subjects().includes(subject)) throw new NotFoundError(`Subject '${subject}' not found`)
    const view: SubjectView = {
      subject,
      ...subjectLevel(registry, subject),
      mode: registry.mode(subject),
      versions: registry.versions(subject).map((n) => {
        const v = registry.version(subject, String(n))
        return {
          version: v.version,
          id: v.id,
          schemaType: v.schemaType,
          schema: v.schema,
          references: v.references.map((r) => ({ name: r.name, subject: r.subject, version: r.version })),
          referencedBy: registry.referencedBy(subject, String(n)),
        }
      }),
    }
    return view
  })
}
