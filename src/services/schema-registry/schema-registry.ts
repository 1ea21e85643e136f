/**
 * A Confluent-compatible schema registry kept in a compacted topic of the worker's log (Kafka or
 * the embedded log), as Confluent's `KafkaSchemaRegistry` keeps it in `_schemas`: every instance
 * reads the topic into memory and answers reads from there; writes are appended to the topic by
 * one writer and become visible to everyone once read back. Which instance writes is decided by a
 * `WriterElection` (a standalone worker always does; distributed workers elect one through a Kafka
 * group, see leader-election.ts); the others throw `NotLeaderError` and the HTTP layer forwards the
 * request to the writer.
 *
 * Ids are global and never handed out twice by the writer: a new id is one above the highest id it
 * has read (after reading the topic to its end inside the write lock). The same schema (type,
 * canonical text and references) registered under another subject reuses its id, as Confluent does.
 * Versions number from 1 per subject and continue after soft-deleted ones.
 *
 * This file is the registry's operations and their error codes; the HTTP mapping is in
 * src/rest/schema-registry-server.ts.
 */
import type { Logger } from '../../common/logger.ts'
import { schemaGuid } from '../../common/schema-guid.ts'
import type { Log } from '../../log/log.ts'
import { KafkaBasedLog, utf8 } from '../../storage/kafka/kafka-based-log.ts'
import {
  invalidSchema,
  invalidVersion,
  operationNotPermitted,
  RegistryErrors,
  ServiceError,
  schemaNotFound,
  subjectNotFound,
  versionNotFound,
} from '../service-error.ts'
import {
  type CompatibilityLevel,
  compatibilityMessages,
  isCompatibilityLevel,
  type PreviousSchema,
} from './compatibility.ts'
import {
  type ParsedSchema,
  parseSchema,
  type ResolvedReference,
  type SchemaReference,
  type SchemaType,
  schemaTypeOf,
} from './parsed-schema.ts'
import {
  decodeEntry,
  encodeConfigKey,
  encodeModeKey,
  encodeSchemaKey,
  encodeSchemaValue,
  type SchemaRecordValue,
} from './schemas-topic.ts'

export const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const
export type Mode = (typeof MODES)[number]

/** Who writes: this instance, or another one at `leaderUrl` (null while no leader is known). */
export type WriterState =
  | { readonly isLeader: true }
  | { readonly isLeader: false; readonly leaderUrl: string | null }

export interface WriterElection {
  state(): WriterState
}

/** Thrown by a write on an instance that is not the writer: the HTTP layer forwards the request. */
export class NotLeaderError extends ServiceError {
  readonly leaderUrl: string | null
  constructor(leaderUrl: string | null) {
    super(
      RegistryErrors.UNKNOWN_LEADER,
      leaderUrl === null
        ? 'Leader not known: no schema registry instance is elected to write yet; retry shortly'
        : `This instance does not write; the leader is ${leaderUrl}`,
      { status: 500 },
    )
    this.leaderUrl = leaderUrl
  }
}

/** A registered schema as a subject version. */
export interface SchemaVersion {
  readonly subject: string
  readonly version: number
  readonly id: number
  readonly schemaType: SchemaType
  readonly references: readonly SchemaReference[]
  readonly schema: string
  readonly deleted: boolean
}

/** What a register, lookup or compatibility request carries. */
export interface SchemaRequest {
  schema?: unknown
  schemaType?: unknown
  references?: unknown
  /** Fixed id and version (IMPORT mode). */
  id?: unknown
  version?: unknown
}

export interface SchemaRegistryOptions {
  log: Log
  /** @default '_schemas' */
  topic?: string
  /** Replication factor of a topic created here; -1 is the broker's default. */
  replicationFactor?: number
  clientId: string
  logger: Logger
  /** The global compatibility level while none is set through PUT /config. @default 'BACKWARD' */
  defaultCompatibility?: CompatibilityLevel
  /** @default always this instance */
  election?: WriterElection
  /** How long a write may wait for the topic. @default 60000 */
  timeoutMs?: number
  /**
   * Sends a request to the writer's REST API (for `registerAnywhere`): over https with the
   * listener's TLS settings and the credentials the writer asks for. @default plain `fetch`
   */
  sendToLeader?: LeaderTransport
}

/** An HTTP request to the writing instance. */
export type LeaderTransport = (
  url: string,
  request: { method: string; headers: Record<string, string>; body: string; timeoutMs: number },
) => Promise<{ status: number; body: string }>

const fetchTransport: LeaderTransport = async (url, request) => {
  const response = await fetch(url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(request.timeoutMs),
  })
  return { status: response.status, body: await response.text() }
}

const MAX_VERSION = 2 ** 31 - 1
const GLOBAL = ''

interface IdEntry {
  readonly schemaType: SchemaType
  readonly schema: string
  readonly references: readonly SchemaReference[]
  /** Confluent's GUID of the schema (schema-guid.ts). */
  readonly guid: string
}

export class SchemaRegistry {
  readonly topic: string
  readonly #o: SchemaRegistryOptions
  readonly #topicLog: KafkaBasedLog
  /** subject → version → record (soft-deleted ones included). */
  readonly #subjects = new Map<string, Map<number, SchemaRecordValue>>()
  readonly #ids = new Map<number, IdEntry>()
  /** GUID → the first id of that schema. */
  readonly #guids = new Map<string, number>()
  /** `type|canonical|references` → id. */
  readonly #contentIds = new Map<string, number>()
  readonly #configs = new Map<string, CompatibilityLevel>()
  readonly #modes = new Map<string, Mode>()
  readonly #parsed = new Map<number, ParsedSchema>()
  /** Highest version ever seen per subject (versions continue after deletes). */
  readonly #maxVersion = new Map<string, number>()
  #maxId = 0
  #writeChain: Promise<unknown> = Promise.resolve()
  #started = false

  constructor(options: SchemaRegistryOptions) {
    this.#o = options
    this.topic = options.topic ?? '_schemas'
    this.#topicLog = new KafkaBasedLog({
      log: options.log,
      topic: this.topic,
      clientId: `${options.clientId}-schema-registry`,
      logger: options.logger,
      onRecord: (record) => this.#apply(utf8.decode(record.key), utf8.decode(record.value)),
    })
  }

  /** Creates the topic if needed (one partition, compacted), reads it to the end and tails it. */
  async start(): Promise<void> {
    const { log } = this.#o
    const existing = (await log.describeTopics([this.topic])).get(this.topic)
    if (!existing) {
      await log.createTopics([
        {
          name: this.topic,
          partitions: 1,
          replicationFactor: this.#o.replicationFactor ?? -1,
          configs: { 'cleanup.policy': 'compact' },
        },
      ])
    } else if (existing.partitions !== 1) {
      throw new ServiceError(
        RegistryErrors.STORE_ERROR,
        `The schema registry topic '${this.topic}' has ${existing.partitions} partitions; it must have exactly 1 (set schema.registry.topic to another topic)`,
      )
    }
    await this.#topicLog.start()
    this.#started = true
  }

  async stop(): Promise<void> {
    if (!this.#started) return
    this.#started = false
    await this.#writeChain.catch(() => {})
    await this.#topicLog.stop()
  }

  /** Waits until everything written to the topic before the call is applied here. */
  async catchUp(): Promise<void> {
    await this.#topicLog.readToEnd(this.#o.timeoutMs ?? 60_000)
  }

  // ---- reads ----------------------------------------------------------------------------------

  subjects(options: { deleted?: boolean; prefix?: string } = {}): string[] {
    const out: string[] = []
    for (const [subject, versions] of this.#subjects) {
      if (options.prefix && !subject.startsWith(options.prefix)) continue
      if ([...versions.values()].some((v) => options.deleted || !v.deleted)) out.push(subject)
    }
    return out.sort()
  }

  versions(subject: string, deleted = false): number[] {
    const versions = this.#live(subject, deleted)
    return versions.map((v) => v.version)
  }

  /** `versionSpec` is a number, "latest" or "-1". */
  version(subject: string, versionSpec: string, deleted = false): SchemaVersion {
    const versions = this.#live(subject, deleted)
    const wanted = parseVersion(versionSpec)
    if (wanted === 'latest') return versions[versions.length - 1]!
    const found = versions.find((v) => v.version === wanted)
    if (!found) throw versionNotFound(wanted)
    return found
  }

  schemaById(id: number): IdEntry & { id: number } {
    const entry = this.#ids.get(id)
    if (!entry) throw schemaNotFound(id)
    return { id, ...entry }
  }

  /** The schema of a GUID (`GET /schemas/guids/{guid}`); 40403 when no schema has it. */
  schemaByGuid(guid: string): IdEntry & { id: number } {
    const id = this.#guids.get(guid.toLowerCase())
    if (id === undefined) throw schemaNotFound(guid)
    return this.schemaById(id)
  }

  /** The parsed schema of an id (cached), for producers that encode with it. */
  parsedById(id: number): ParsedSchema {
    const cached = this.#parsed.get(id)
    if (cached) return cached
    const entry = this.schemaById(id)
    const parsed = parseSchema(entry.schemaType, entry.schema, this.#resolveReferences(entry.references))
    this.#parsed.set(id, parsed)
    return parsed
  }

  /** Subject versions that use an id. */
  versionsById(id: number, deleted = false): { subject: string; version: number }[] {
    this.schemaById(id)
    const out: { subject: string; version: number }[] = []
    for (const [subject, versions] of this.#subjects) {
      for (const v of versions.values()) {
        if (v.id === id && (deleted || !v.deleted)) out.push({ subject, version: v.version })
      }
    }
    return out.sort((a, b) =>
      a.subject === b.subject ? a.version - b.version : a.subject < b.subject ? -1 : 1,
    )
  }

  subjectsById(id: number, deleted = false): string[] {
    return [...new Set(this.versionsById(id, deleted).map((v) => v.subject))]
  }

  /** Ids of the schemas that reference this subject version. */
  referencedBy(subject: string, versionSpec: string): number[] {
    const target = this.version(subject, versionSpec)
    const ids = new Set<number>()
    for (const versions of this.#subjects.values()) {
      for (const v of versions.values()) {
        if (!v.deleted && v.references.some((r) => r.subject === subject && r.version === target.version))
          ids.add(v.id)
      }
    }
    return [...ids].sort((a, b) => a - b)
  }

  /** The schema registered under the subject that equals the given one (POST /subjects/{s}). */
  lookup(subject: string, request: SchemaRequest, deleted = false): SchemaVersion {
    const versions = this.#subjects.get(subject)
    if (!versions || ![...versions.values()].some((v) => deleted || !v.deleted))
      throw subjectNotFound(subject)
    const { key } = this.#parseRequest(request)
    const matches = [...versions.values()]
      .filter(
        (v) =>
          (deleted || !v.deleted) && contentKey(v.schemaType, canonicalOf(v.schema), v.references) === key,
      )
      .sort((a, b) => a.version - b.version)
    const found = matches[matches.length - 1]
    if (!found) throw schemaNotFound()
    return found
  }

  compatibility(subject: string | null, defaultToGlobal = true): CompatibilityLevel {
    if (subject !== null) {
      const level = this.#configs.get(subject)
      if (level) return level
      if (!defaultToGlobal) {
        throw new ServiceError(
          RegistryErrors.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
          `Subject '${subject}' does not have subject-level compatibility configured`,
        )
      }
    }
    return this.#configs.get(GLOBAL) ?? this.#o.defaultCompatibility ?? 'BACKWARD'
  }

  mode(subject: string | null, defaultToGlobal = true): Mode {
    if (subject !== null) {
      const mode = this.#modes.get(subject)
      if (mode) return mode
      if (!defaultToGlobal) {
        throw new ServiceError(
          RegistryErrors.SUBJECT_MODE_NOT_CONFIGURED,
          `Subject '${subject}' does not have subject-level mode configured`,
        )
      }
    }
    return this.#modes.get(GLOBAL) ?? 'READWRITE'
  }

  /**
   * Whether `request`'s schema is compatible with the subject's version (or every live version
   * when `versionSpec` is undefined), under the subject's level. Messages say why not.
   */
  testCompatibility(
    subject: string,
    versionSpec: string | undefined,
    request: SchemaRequest,
  ): { isCompatible: boolean; messages: string[] } {
    const { parsed } = this.#parseRequest(request)
    const versions = this.#subjects.get(subject)
    const live = versions
      ? [...versions.values()].filter((v) => !v.deleted).sort((a, b) => a.version - b.version)
      : []
    let against: SchemaRecordValue[]
    if (versionSpec === undefined) {
      against = live
    } else {
      const wanted = parseVersion(versionSpec)
      if (live.length === 0) {
        // Confluent: a missing subject is compatible for "latest", a 40402 for a fixed version.
        if (wanted === 'latest') return { isCompatible: true, messages: [] }
        throw versionNotFound(wanted)
      }
      const one = wanted === 'latest' ? live[live.length - 1] : live.find((v) => v.version === wanted)
      if (!one) throw versionNotFound(wanted as number)
      against = [one]
    }
    const level = this.compatibility(subject)
    // Against one chosen version (or all of them), the level's direction applies to each.
    const transitive = versionSpec === undefined ? toTransitive(level) : level
    const messages = compatibilityMessages(
      transitive,
      parsed,
      against.map((v) => this.#previous(v)),
    )
    return { isCompatible: messages.length === 0, messages }
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** Registers a schema under a subject (idempotent) and returns its id and version. */
  register(subject: string, request: SchemaRequest): Promise<SchemaVersion> {
    checkSubject(subject)
    return this.#write(async () => {
      const mode = this.mode(subject)
      if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') throw readOnly(subject)
      const { parsed, key, schemaType, references } = this.#parseRequest(request)
      const versions = this.#subjects.get(subject) ?? new Map<number, SchemaRecordValue>()
      const live = [...versions.values()].filter((v) => !v.deleted).sort((a, b) => a.version - b.version)
      const requestedId = optionalInt(request.id, 'id')
      const requestedVersion = optionalInt(request.version, 'version')
      const existing = live.find((v) => contentKey(v.schemaType, canonicalOf(v.schema), v.references) === key)
      if (existing && (requestedId === undefined || requestedId === existing.id)) return existing
      let id = this.#contentIds.get(key)
      if (requestedId !== undefined) {
        if (mode !== 'IMPORT' && requestedId !== id) {
          throw operationNotPermitted(
            `Subject ${subject} is not in import mode: registering with a fixed id needs PUT /mode/${subject} {"mode":"IMPORT"}`,
          )
        }
        const taken = this.#ids.get(requestedId)
        if (taken && contentKey(taken.schemaType, canonicalOf(taken.schema), taken.references) !== key) {
          throw new ServiceError(
            RegistryErrors.ID_DOES_NOT_MATCH,
            `Schema id ${requestedId} already exists with a different schema`,
          )
        }
        id = requestedId
      }
      if (mode !== 'IMPORT') {
        const messages = compatibilityMessages(
          this.compatibility(subject),
          parsed,
          live.map((v) => this.#previous(v)),
        )
        if (messages.length > 0) {
          throw new ServiceError(
            RegistryErrors.INCOMPATIBLE_SCHEMA,
            `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${messages.join(', ')}]`,
            { status: 409 },
          )
        }
      }
      let version = (this.#maxVersion.get(subject) ?? 0) + 1
      if (requestedVersion !== undefined) {
        if (mode !== 'IMPORT') {
          throw operationNotPermitted(
            `Subject ${subject} is not in import mode: a fixed version needs IMPORT mode`,
          )
        }
        if (versions.has(requestedVersion)) {
          throw operationNotPermitted(`Subject ${subject} already has a version ${requestedVersion}`)
        }
        version = requestedVersion
      }
      if (version > MAX_VERSION) throw invalidVersion(String(version))
      const value: SchemaRecordValue = {
        subject,
        version,
        id: id ?? this.#maxId + 1,
        schemaType,
        references,
        schema: canonicalOf(request.schema as string),
        deleted: false,
      }
      await this.#append(encodeSchemaKey(subject, version), encodeSchemaValue(value))
      return this.version(subject, String(version))
    })
  }

  /**
   * `register`, on whichever instance writes: an instance that does not write sends the request to
   * the writer's REST API and returns once it has read the result back. For in-process users (the
   * REST proxy); the HTTP layer forwards requests itself.
   */
  async registerAnywhere(subject: string, request: SchemaRequest): Promise<{ id: number; version: number }> {
    try {
      return await this.register(subject, request)
    } catch (error) {
      if (!(error instanceof NotLeaderError) || error.leaderUrl === null) throw error
      let response: { status: number; body: string }
      try {
        response = await (this.#o.sendToLeader ?? fetchTransport)(
          `${error.leaderUrl}/subjects/${encodeURIComponent(subject)}/versions`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/vnd.schemaregistry.v1+json',
              'x-sluice-forwarded': 'true',
            },
            body: JSON.stringify(request),
            timeoutMs: this.#o.timeoutMs ?? 60_000,
          },
        )
      } catch (cause) {
        throw new ServiceError(
          RegistryErrors.REQUEST_FORWARDING_FAILED,
          `Error while forwarding the register request to the leader ${error.leaderUrl}: ${(cause as Error).message}`,
        )
      }
      let answer: { id?: number; version?: number; error_code?: number; message?: string } = {}
      try {
        answer = JSON.parse(response.body)
      } catch {}
      const ok = response.status >= 200 && response.status < 300
      if (!ok || answer.id === undefined) {
        throw new ServiceError(
          answer.error_code ?? response.status,
          answer.message ?? `the leader answered HTTP ${response.status}`,
          { status: response.status },
        )
      }
      await this.catchUp()
      return { id: answer.id, version: answer.version ?? this.lookup(subject, request).version }
    }
  }

  /** Soft (or, after a soft delete, permanent) delete of every version; returns the versions. */
  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.#write(async () => {
      const versions = this.#subjects.get(subject)
      if (!versions || versions.size === 0) throw subjectNotFound(subject)
      const mode = this.mode(subject)
      if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') throw readOnly(subject)
      const all = [...versions.values()].sort((a, b) => a.version - b.version)
      const live = all.filter((v) => !v.deleted)
      if (permanent) {
        if (live.length > 0) {
          throw new ServiceError(
            RegistryErrors.SUBJECT_NOT_SOFT_DELETED,
            `Subject '${subject}' was not deleted first before being permanently deleted`,
          )
        }
        for (const v of all) this.#checkNotReferenced(v)
        await this.#appendAll(all.map((v) => [encodeSchemaKey(subject, v.version), null]))
        return all.map((v) => v.version)
      }
      if (live.length === 0) {
        throw new ServiceError(
          RegistryErrors.SUBJECT_SOFT_DELETED,
          `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`,
        )
      }
      for (const v of live) this.#checkNotReferenced(v)
      await this.#appendAll(
        live.map((v) => [encodeSchemaKey(subject, v.version), encodeSchemaValue({ ...v, deleted: true })]),
      )
      // Confluent drops the subject's own config and mode with a soft delete of the whole subject.
      const extra: [string, string | null][] = []
      if (this.#configs.has(subject)) extra.push([encodeConfigKey(subject), null])
      if (this.#modes.has(subject)) extra.push([encodeModeKey(subject), null])
      if (extra.length > 0) await this.#appendAll(extra)
      return live.map((v) => v.version)
    })
  }

  deleteVersion(subject: string, versionSpec: string, permanent: boolean): Promise<number> {
    return this.#write(async () => {
      const versions = this.#subjects.get(subject)
      if (!versions || versions.size === 0) throw subjectNotFound(subject)
      const mode = this.mode(subject)
      if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') throw readOnly(subject)
      const wanted = parseVersion(versionSpec)
      const all = [...versions.values()].sort((a, b) => a.version - b.version)
      const pool = permanent ? all : all.filter((v) => !v.deleted)
      const target = wanted === 'latest' ? pool[pool.length - 1] : versions.get(wanted)
      if (!target) {
        if (pool.length === 0 && !permanent) throw subjectNotFound(subject)
        throw versionNotFound(wanted === 'latest' ? versionSpec : wanted)
      }
      this.#checkNotReferenced(target)
      if (permanent) {
        if (!target.deleted) {
          throw new ServiceError(
            RegistryErrors.VERSION_NOT_SOFT_DELETED,
            `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`,
          )
        }
        await this.#append(encodeSchemaKey(subject, target.version), null)
      } else {
        if (target.deleted) {
          throw new ServiceError(
            RegistryErrors.VERSION_SOFT_DELETED,
            `Subject '${subject}' Version ${target.version} was soft deleted.Set permanent=true to delete permanently`,
          )
        }
        await this.#append(
          encodeSchemaKey(subject, target.version),
          encodeSchemaValue({ ...target, deleted: true }),
        )
      }
      return target.version
    })
  }

  setCompatibility(subject: string | null, level: unknown): Promise<CompatibilityLevel> {
    const upper = typeof level === 'string' ? level.toUpperCase() : level
    if (!isCompatibilityLevel(upper)) {
      throw new ServiceError(
        RegistryErrors.INVALID_COMPATIBILITY_LEVEL,
        'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
      )
    }
    if (subject !== null) checkSubject(subject)
    return this.#write(async () => {
      await this.#append(encodeConfigKey(subject), JSON.stringify({ compatibilityLevel: upper }))
      return upper
    })
  }

  /** Removes a config and returns the level it had (the global one falls back to the default). */
  deleteCompatibility(subject: string | null): Promise<CompatibilityLevel> {
    return this.#write(async () => {
      const before = subject === null ? this.compatibility(null) : this.#configs.get(subject)
      if (subject !== null && !before) {
        if (!this.#subjects.has(subject)) throw subjectNotFound(subject)
        throw new ServiceError(
          RegistryErrors.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
          `Subject '${subject}' does not have subject-level compatibility configured`,
        )
      }
      await this.#append(encodeConfigKey(subject), null)
      return before!
    })
  }

  setMode(subject: string | null, mode: unknown, force = false): Promise<Mode> {
    const upper = typeof mode === 'string' ? mode.toUpperCase() : mode
    if (!(MODES as readonly unknown[]).includes(upper)) {
      throw new ServiceError(
        RegistryErrors.INVALID_MODE,
        'Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT.',
      )
    }
    if (subject !== null) checkSubject(subject)
    return this.#write(async () => {
      if (upper === 'IMPORT' && this.mode(subject) !== 'IMPORT' && !force) {
        const hasSchemas =
          subject === null
            ? this.subjects().length > 0
            : [...(this.#subjects.get(subject)?.values() ?? [])].some((v) => !v.deleted)
        if (hasSchemas) throw operationNotPermitted('Cannot import since found existing subjects')
      }
      await this.#append(encodeModeKey(subject), JSON.stringify({ mode: upper }))
      return upper as Mode
    })
  }

  deleteMode(subject: string): Promise<Mode> {
    return this.#write(async () => {
      const before = this.#modes.get(subject)
      if (!before) {
        if (!this.#subjects.has(subject)) throw subjectNotFound(subject)
        throw new ServiceError(
          RegistryErrors.SUBJECT_MODE_NOT_CONFIGURED,
          `Subject '${subject}' does not have subject-level mode configured`,
        )
      }
      await this.#append(encodeModeKey(subject), null)
      return before
    })
  }

  // ---- internals ------------------------------------------------------------------------------

  #live(subject: string, deleted: boolean): SchemaRecordValue[] {
    const versions = this.#subjects.get(subject)
    const out = versions ? [...versions.values()].filter((v) => deleted || !v.deleted) : []
    if (out.length === 0) throw subjectNotFound(subject)
    return out.sort((a, b) => a.version - b.version)
  }

  #previous(v: SchemaRecordValue): PreviousSchema {
    return { version: v.version, text: v.schema, parsed: this.parsedById(v.id) }
  }

  #checkNotReferenced(v: SchemaRecordValue): void {
    for (const versions of this.#subjects.values()) {
      for (const other of versions.values()) {
        if (
          !other.deleted &&
          other.references.some((r) => r.subject === v.subject && r.version === v.version)
        ) {
          throw new ServiceError(
            RegistryErrors.REFERENCE_EXISTS,
            `One or more references exist to the schema {subject=${v.subject},version=${v.version}}: ${other.subject} version ${other.version} refers to it`,
          )
        }
      }
    }
  }

  #parseRequest(request: SchemaRequest): {
    parsed: ParsedSchema
    key: string
    schemaType: SchemaType
    references: SchemaReference[]
  } {
    const schemaType = schemaTypeOf(request.schemaType)
    const references = parseReferences(request.references)
    const parsed = parseSchema(schemaType, request.schema, this.#resolveReferences(references))
    return { parsed, key: contentKey(schemaType, parsed.canonical, references), schemaType, references }
  }

  /** References resolved to their schemas, dependencies first. */
  #resolveReferences(references: readonly SchemaReference[], depth = 0): ResolvedReference[] {
    if (depth > 32) throw invalidSchema('Invalid schema: references nest more than 32 levels deep (a cycle?)')
    const out: ResolvedReference[] = []
    for (const reference of references) {
      const target = this.#subjects.get(reference.subject)?.get(reference.version)
      if (!target || target.deleted) {
        throw invalidSchema(
          `Invalid schema: reference '${reference.name}' names subject '${reference.subject}' version ${reference.version}, which is not registered`,
        )
      }
      out.push(...this.#resolveReferences(target.references, depth + 1))
      out.push({ name: reference.name, schemaType: target.schemaType, schema: target.schema })
    }
    return out
  }

  /** Runs a write under the write lock, on the writer only, after catching up with the topic. */
  #write<T>(operation: () => Promise<T>): Promise<T> {
    const state = this.#o.election?.state() ?? { isLeader: true }
    if (!state.isLeader) return Promise.reject(new NotLeaderError(state.leaderUrl))
    const run = this.#writeChain.then(async () => {
      await this.catchUp().catch((cause) => {
        throw new ServiceError(
          RegistryErrors.STORE_ERROR,
          `Cannot read the schema registry topic '${this.topic}': ${(cause as Error).message}`,
          { cause },
        )
      })
      return operation()
    })
    this.#writeChain = run.catch(() => {})
    return run
  }

  #append(key: string, value: string | null): Promise<void> {
    return this.#appendAll([[key, value]])
  }

  async #appendAll(entries: readonly (readonly [string, string | null])[]): Promise<void> {
    try {
      await this.#topicLog.send(
        entries.map(([key, value]) => ({
          partition: 0,
          key: utf8.encode(key),
          value: value === null ? null : utf8.encode(value),
        })),
      )
      await this.catchUp()
    } catch (cause) {
      throw new ServiceError(
        RegistryErrors.STORE_ERROR,
        `Cannot write to the schema registry topic '${this.topic}': ${(cause as Error).message}`,
        { cause },
      )
    }
  }

  #apply(key: string | null, value: string | null): void {
    if (key === null) return
    let entry: ReturnType<typeof decodeEntry>
    try {
      entry = decodeEntry(key, value)
    } catch (error) {
      this.#o.logger.warn(
        { err: (error as Error).message, key },
        `skipping an unreadable record of ${this.topic}`,
      )
      return
    }
    if (!entry) {
      this.#o.logger.warn(
        { key },
        `skipping a record of ${this.topic} with a key type this registry does not use`,
      )
      return
    }
    switch (entry.keytype) {
      case 'SCHEMA': {
        let versions = this.#subjects.get(entry.subject)
        if (entry.value === null) {
          versions?.delete(entry.version)
          if (versions?.size === 0) this.#subjects.delete(entry.subject)
          return
        }
        if (!versions) {
          versions = new Map()
          this.#subjects.set(entry.subject, versions)
        }
        const v = entry.value
        versions.set(entry.version, v)
        this.#maxVersion.set(entry.subject, Math.max(this.#maxVersion.get(entry.subject) ?? 0, entry.version))
        this.#maxId = Math.max(this.#maxId, v.id)
        if (!this.#ids.has(v.id)) {
          const guid = schemaGuid(v.schema, v.references)
          this.#ids.set(v.id, { schemaType: v.schemaType, schema: v.schema, references: v.references, guid })
          if (!this.#guids.has(guid)) this.#guids.set(guid, v.id)
          this.#contentIds.set(contentKey(v.schemaType, canonicalOf(v.schema), v.references), v.id)
        }
        return
      }
      case 'CONFIG': {
        const level = entry.value?.compatibilityLevel.toUpperCase()
        if (level && isCompatibilityLevel(level)) this.#configs.set(entry.subject ?? GLOBAL, level)
        else this.#configs.delete(entry.subject ?? GLOBAL)
        return
      }
      case 'MODE': {
        const mode = entry.value?.mode.toUpperCase()
        if (mode && (MODES as readonly string[]).includes(mode))
          this.#modes.set(entry.subject ?? GLOBAL, mode as Mode)
        else this.#modes.delete(entry.subject ?? GLOBAL)
        return
      }
      case 'DELETE_SUBJECT':
        for (const v of this.#subjects.get(entry.subject)?.values() ?? []) {
          if (v.version <= entry.version) v.deleted = true
        }
        return
      case 'CLEAR_SUBJECT':
        for (const v of this.#subjects.get(entry.subject)?.values() ?? []) v.deleted = true
        return
      case 'NOOP':
        return
    }
  }
}

function toTransitive(level: CompatibilityLevel): CompatibilityLevel {
  if (level === 'NONE' || level.endsWith('_TRANSITIVE')) return level
  return `${level}_TRANSITIVE` as CompatibilityLevel
}

function canonicalOf(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text))
  } catch {
    return text
  }
}

function contentKey(type: SchemaType, canonical: string, references: readonly SchemaReference[]): string {
  return `${type}|${canonical}|${JSON.stringify(references.map((r) => [r.name, r.subject, r.version]))}`
}

/** A version path segment: 1..2^31-1, "latest" or -1; anything else is 42202. */
export function parseVersion(spec: string): number | 'latest' {
  if (spec === 'latest' || spec === '-1') return 'latest'
  if (!/^\d+$/.test(spec)) throw invalidVersion(spec)
  const n = Number(spec)
  if (n < 1 || n > MAX_VERSION) throw invalidVersion(spec)
  return n
}

function optionalInt(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_VERSION) {
    if (field === 'version') throw invalidVersion(String(value))
    throw invalidSchema(`Invalid schema: "${field}" must be a positive integer, got ${JSON.stringify(value)}`)
  }
  return value
}

function parseReferences(value: unknown): SchemaReference[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value))
    throw invalidSchema('Invalid schema: "references" must be an array of {name, subject, version}')
  return value.map((r, i) => {
    const ref = r as Partial<SchemaReference>
    if (typeof ref?.name !== 'string' || typeof ref.subject !== 'string' || !Number.isInteger(ref.version)) {
      throw invalidSchema(
        `Invalid schema: references[${i}] needs a string name, a string subject and an integer version`,
      )
    }
    return { name: ref.name, subject: ref.subject, version: ref.version! }
  })
}

function checkSubject(subject: string): void {
  if (
    subject.trim() === '' ||
    [...subject].some((c) => c.charCodeAt(0) < 0x20) ||
    subject === '__GLOBAL' ||
    subject === '__EMPTY'
  ) {
    throw new ServiceError(
      RegistryErrors.INVALID_SUBJECT,
      `Invalid subject ${JSON.stringify(subject)}: a subject is a non-empty name without control characters`,
    )
  }
}

function readOnly(subject: string): ServiceError {
  return operationNotPermitted(`Subject ${subject} is in read-only mode`)
}
