/**
 * The produce side of Confluent's REST Proxy (kafka-rest), on the worker's log: v2
 * `POST /topics/{topic}[/partitions/{p}]` with the embedded formats json, binary, avro and
 * jsonschema, and v3 records (one, streamed, or a batch). Schema formats use the worker's schema
 * registry: a schema given as text is registered under the topic's subject (`<topic>-key|value`,
 * TopicNameStrategy), a schema id is looked up, and the data is written in Confluent's wire format
 * (magic byte 0, the 4-byte big-endian schema id, then Avro binary or JSON text).
 *
 * Avro data is read from JSON as Avro's JSON encoding (unions wrapped as `{"type": value}`, bytes
 * as ISO-8859-1 strings, as kafka-rest reads it with Avro's JsonDecoder); data that is not in that
 * encoding but is a plain value of the schema (an unwrapped union branch) is accepted too.
 *
 * Bad input is a 4xx with kafka-rest's codes (40401 topic, 40402 partition, 40403 schema, 42201 key
 * schema missing, 42202 value schema missing, 42203 JSON conversion, 42205 invalid schema, 42206
 * payload, 42208 batch); a log that cannot take the records gives per-record 50002/50003 errors,
 * and one that refuses them (the embedded log's own `connect-offsets`) 40301, as kafka-rest answers
 * a Kafka authorization failure.
 */
import { ConnectError } from '../../api/errors.ts'
import type { Logger } from '../../common/logger.ts'
import type { Log, LogHeader, LogProducer, ProduceRecord } from '../../log/log.ts'
import { type ParsedSchema, parseSchema, type SchemaType } from '../schema-registry/parsed-schema.ts'
import type { SchemaRegistry } from '../schema-registry/schema-registry.ts'
import { ServiceError } from '../service-error.ts'

export const ProxyErrors = {
  BAD_REQUEST: 40002,
  KAFKA_AUTHORIZATION: 40301,
  TOPIC_NOT_FOUND: 40401,
  PARTITION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
  UNKNOWN_TOPIC_PARTITION: 40403,
  KEY_SCHEMA_MISSING: 42201,
  VALUE_SCHEMA_MISSING: 42202,
  JSON_CONVERSION: 42203,
  INVALID_SCHEMA: 42205,
  INVALID_PAYLOAD: 42206,
  SERIALIZATION: 42207,
  PRODUCE_BATCH: 42208,
  KAFKA_ERROR: 50002,
  KAFKA_RETRIABLE_ERROR: 50003,
} as const

export const V2_FORMATS = ['json', 'binary', 'avro', 'jsonschema'] as const
export type V2Format = (typeof V2_FORMATS)[number]

export interface RestProxyOptions {
  log: Log
  /** Needed by the avro and jsonschema formats. */
  registry?: SchemaRegistry
  logger: Logger
  clientId: string
  /** @default true */
  autoCreateTopics?: boolean
  /** @default 10 */
  batchMaximumEntries?: number
}

export interface V2Offset {
  partition: number | null
  offset: number | null
  error_code: number | null
  error: string | null
}

export interface V2Response {
  key_schema_id: number | null
  value_schema_id: number | null
  offsets: V2Offset[]
}

interface Encoder {
  readonly id: number | null
  encode(data: unknown, side: 'key' | 'value'): Uint8Array | null
}

/** What a v3 record's key or value says about its data's type and schema. */
interface V3Data {
  type?: unknown
  data?: unknown
  subject?: unknown
  subject_name_strategy?: unknown
  schema_id?: unknown
  schema_version?: unknown
  schema?: unknown
  schema_type?: unknown
}

export interface TopicInfo {
  readonly topic_name: string
  readonly is_internal: boolean
  readonly partitions_count: number
  readonly configs: Readonly<Record<string, string>>
}

function topicInfo(name: string, partitions: number, configs: Readonly<Record<string, string>>): TopicInfo {
  return { topic_name: name, is_internal: name.startsWith('_'), partitions_count: partitions, configs }
}

export interface V3Result {
  error_code: number
  message?: string
  cluster_id?: string
  topic_name?: string
  partition_id?: number
  offset?: number
  timestamp?: string
  key?: { type: string; size: number; subject?: string; schema_id?: number; schema_version?: number } | null
  value?: { type: string; size: number; subject?: string; schema_id?: number; schema_version?: number } | null
}

export class RestProxy {
  readonly #o: RestProxyOptions
  #producer: LogProducer | undefined
  /** Partition counts of topics known to exist. */
  readonly #topics = new Map<string, number>()
  #clusterId: string | undefined

  constructor(options: RestProxyOptions) {
    this.#o = options
  }

  async start(): Promise<void> {
    this.#clusterId = await this.#o.log.clusterId()
    this.#producer = this.#o.log.createProducer({ clientId: `${this.#o.clientId}-rest-proxy` })
  }

  async stop(): Promise<void> {
    await this.#producer?.close()
    this.#producer = undefined
  }

  get clusterId(): string {
    return this.#clusterId ?? ''
  }

  get batchMaximumEntries(): number {
    return this.#o.batchMaximumEntries ?? 10
  }

  // ---- v2 -------------------------------------------------------------------------------------

  async produceV2(
    topic: string,
    pathPartition: number | undefined,
    format: V2Format,
    body: unknown,
  ): Promise<V2Response> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ServiceError(
        ProxyErrors.INVALID_PAYLOAD,
        'Payload error. The request body must be a JSON object with "records"',
        { status: 422 },
      )
    }
    const request = body as Record<string, unknown>
    const records = request.records
    if (!Array.isArray(records) || records.length === 0) {
      throw new ServiceError(
        ProxyErrors.INVALID_PAYLOAD,
        'Payload error. "records" must be a non-empty array of {key?, value?, partition?}',
        { status: 422 },
      )
    }
    for (const [i, record] of records.entries()) {
      if (record === null || typeof record !== 'object' || Array.isArray(record)) {
        throw new ServiceError(ProxyErrors.INVALID_PAYLOAD, `Payload error. records[${i}] is not an object`, {
          status: 422,
        })
      }
    }
    const hasKeys = records.some(
      (r) => (r as { key?: unknown }).key !== undefined && (r as { key?: unknown }).key !== null,
    )
    const hasValues = records.some(
      (r) => (r as { value?: unknown }).value !== undefined && (r as { value?: unknown }).value !== null,
    )
    const keyEncoder = await this.#v2Encoder(
      topic,
      format,
      'key',
      request.key_schema,
      request.key_schema_id,
      hasKeys,
    )
    const valueEncoder = await this.#v2Encoder(
      topic,
      format,
      'value',
      request.value_schema,
      request.value_schema_id,
      hasValues,
    )
    const partitions = await this.#partitions(topic)
    const produce: ProduceRecord[] = records.map((r, i) => {
      const record = r as { key?: unknown; value?: unknown; partition?: unknown }
      const partition =
        pathPartition ??
        (record.partition === undefined || record.partition === null ? undefined : record.partition)
      if (
        partition !== undefined &&
        (!Number.isInteger(partition) || (partition as number) < 0 || (partition as number) >= partitions)
      ) {
        throw new ServiceError(
          ProxyErrors.PARTITION_NOT_FOUND,
          `Partition not found. (records[${i}].partition ${String(partition)}; topic '${topic}' has ${partitions})`,
        )
      }
      return {
        topic,
        ...(partition === undefined ? {} : { partition: partition as number }),
        key: convert(() => keyEncoder.encode(record.key ?? null, 'key'), i, 'key'),
        value: convert(() => valueEncoder.encode(record.value ?? null, 'value'), i, 'value'),
      }
    })
    const offsets = await this.#send(produce)
    return { key_schema_id: keyEncoder.id, value_schema_id: valueEncoder.id, offsets }
  }

  async #v2Encoder(
    topic: string,
    format: V2Format,
    side: 'key' | 'value',
    schemaText: unknown,
    schemaId: unknown,
    hasData: boolean,
  ): Promise<Encoder> {
    if (format === 'json')
      return { id: null, encode: (data) => (data === null ? null : Buffer.from(JSON.stringify(data))) }
    if (format === 'binary') return { id: null, encode: (data) => decodeBase64(data) }
    const schemaType: SchemaType = format === 'avro' ? 'AVRO' : 'JSON'
    if ((schemaText === undefined || schemaText === null) && (schemaId === undefined || schemaId === null)) {
      if (!hasData) return { id: null, encode: () => null }
      throw new ServiceError(
        side === 'key' ? ProxyErrors.KEY_SCHEMA_MISSING : ProxyErrors.VALUE_SCHEMA_MISSING,
        `Request includes ${side}s but does not include ${side} schema (give ${side}_schema or ${side}_schema_id)`,
      )
    }
    let id: number
    if (schemaId !== undefined && schemaId !== null) {
      if (!Number.isInteger(schemaId)) {
        throw new ServiceError(
          ProxyErrors.INVALID_PAYLOAD,
          `Payload error. ${side}_schema_id must be an integer`,
          { status: 422 },
        )
      }
      id = schemaId as number
    } else {
      if (typeof schemaText !== 'string') {
        throw new ServiceError(
          ProxyErrors.INVALID_SCHEMA,
          `Invalid schema: ${side}_schema must be the schema as a string`,
        )
      }
      id = (
        await this.#register(
          `${topic}-${side}`,
          { schema: schemaText, schemaType },
          ProxyErrors.INVALID_SCHEMA,
        )
      ).id
    }
    const parsed = this.#parsedById(id)
    if (parsed.schemaType !== schemaType) {
      throw new ServiceError(
        ProxyErrors.INVALID_SCHEMA,
        `Invalid schema: schema ${id} is a ${parsed.schemaType} schema, not one for the ${format} format`,
      )
    }
    return { id, encode: (data) => (data === null ? null : encodeWithSchema(parsed, id, data)) }
  }

  // ---- v3 -------------------------------------------------------------------------------------

  /** Checks the cluster id of a v3 path (404/40401-like when it is not this cluster's). */
  checkCluster(clusterId: string): void {
    if (clusterId !== this.clusterId) {
      throw new ServiceError(404, `Cluster ${clusterId} cannot be found.`)
    }
  }

  /** Produces one v3 record; errors come back as the result's error_code and message. */
  async produceV3(topic: string, request: unknown): Promise<V3Result> {
    try {
      return await this.#produceV3(topic, request)
    } catch (error) {
      if (error instanceof ServiceError) return { error_code: error.errorCode, message: error.message }
      throw error
    }
  }

  async #produceV3(topic: string, body: unknown): Promise<V3Result> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ServiceError(400, 'Request body is empty. Data is required.')
    }
    const request = body as {
      partition_id?: unknown
      headers?: unknown
      key?: unknown
      value?: unknown
      timestamp?: unknown
    }
    const partitions = await this.#partitions(topic)
    const partition = request.partition_id
    if (
      partition !== undefined &&
      partition !== null &&
      (!Number.isInteger(partition) || (partition as number) < 0 || (partition as number) >= partitions)
    ) {
      throw new ServiceError(ProxyErrors.PARTITION_NOT_FOUND, 'Partition not found.')
    }
    const key = await this.#v3Data(topic, 'key', request.key)
    const value = await this.#v3Data(topic, 'value', request.value)
    let timestamp: number | undefined
    if (request.timestamp !== undefined && request.timestamp !== null) {
      timestamp = Date.parse(String(request.timestamp))
      if (Number.isNaN(timestamp))
        throw new ServiceError(
          400,
          `Bad Request: timestamp=${String(request.timestamp)} is not an RFC 3339 date-time.`,
        )
    }
    const record: ProduceRecord = {
      topic,
      ...(partition === undefined || partition === null ? {} : { partition: partition as number }),
      key: key?.bytes ?? null,
      value: value?.bytes ?? null,
      headers: parseHeaders(request.headers),
      ...(timestamp === undefined ? {} : { timestamp }),
    }
    const [metadata] = await this.#producer!.send([record]).catch((cause) => {
      throw (
        refusal(cause) ??
        new ServiceError(
          (cause as { retriable?: boolean }).retriable
            ? ProxyErrors.KAFKA_RETRIABLE_ERROR
            : ProxyErrors.KAFKA_ERROR,
          `Kafka error: ${(cause as Error).message}`,
        )
      )
    })
    return {
      error_code: 200,
      cluster_id: this.clusterId,
      topic_name: topic,
      partition_id: metadata!.partition,
      offset: metadata!.offset,
      timestamp: new Date(metadata!.timestamp).toISOString(),
      key: key ? key.report : null,
      value: value ? value.report : null,
    }
  }

  async #v3Data(
    topic: string,
    side: 'key' | 'value',
    raw: unknown,
  ): Promise<{ bytes: Uint8Array | null; report: NonNullable<V3Result['key']> } | undefined> {
    if (raw === undefined || raw === null) return undefined
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new ServiceError(400, `Bad Request: ${side} must be an object with "data"`)
    const d = raw as V3Data
    const type = d.type === undefined || d.type === null ? undefined : String(d.type).toUpperCase()
    const schemaBased =
      d.schema_id !== undefined ||
      d.schema_version !== undefined ||
      d.schema !== undefined ||
      d.subject !== undefined ||
      type === undefined ||
      type === 'AVRO' ||
      type === 'JSONSCHEMA'
    if (!schemaBased) {
      let bytes: Uint8Array | null
      if (type === 'BINARY')
        bytes = d.data === null || d.data === undefined ? null : decodeBase64V3(d.data, side)
      else if (type === 'JSON')
        bytes = d.data === undefined || d.data === null ? null : Buffer.from(JSON.stringify(d.data))
      else if (type === 'STRING') {
        if (d.data !== null && d.data !== undefined && typeof d.data !== 'string')
          throw new ServiceError(400, `Bad Request: ${side}.data must be a string for type STRING`)
        bytes = d.data === null || d.data === undefined ? null : Buffer.from(d.data as string)
      } else {
        throw new ServiceError(
          400,
          `Bad Request: ${side}.type ${String(d.type)} is not one of BINARY, JSON, STRING, AVRO, JSONSCHEMA`,
        )
      }
      return { bytes, report: { type: type!, size: bytes?.length ?? 0 } }
    }
    const registry = this.#registry()
    const strategy =
      d.subject_name_strategy === undefined || d.subject_name_strategy === null
        ? 'TOPIC_NAME'
        : String(d.subject_name_strategy).toUpperCase()
    if (strategy !== 'TOPIC_NAME' && strategy !== 'RECORD_NAME' && strategy !== 'TOPIC_RECORD_NAME') {
      throw new ServiceError(
        400,
        `Bad Request: subject_name_strategy ${String(d.subject_name_strategy)} is not one of TOPIC_NAME, RECORD_NAME, TOPIC_RECORD_NAME`,
      )
    }
    const schemaType: SchemaType =
      type === 'JSONSCHEMA' || ['JSON', 'JSONSCHEMA'].includes(String(d.schema_type ?? '').toUpperCase())
        ? 'JSON'
        : 'AVRO'
    const hasId = d.schema_id !== undefined && d.schema_id !== null
    if (hasId && !Number.isInteger(d.schema_id))
      throw new ServiceError(400, `Bad Request: ${side}.schema_id must be an integer`)
    const hasText = !hasId && d.schema !== undefined && d.schema !== null
    /** The subject: given, or from the strategy (the record name comes from the schema given). */
    const subjectFor = (): string => {
      if (d.subject !== undefined && d.subject !== null) return String(d.subject)
      if (strategy === 'TOPIC_NAME') return `${topic}-${side}`
      let parsed: ParsedSchema
      if (hasId) parsed = this.#parsedById(d.schema_id as number)
      else if (hasText) {
        try {
          parsed = parseSchema(schemaType, d.schema)
        } catch (error) {
          throw new ServiceError(ProxyErrors.INVALID_SCHEMA, `Invalid schema: ${(error as Error).message}`)
        }
      } else {
        throw new ServiceError(
          400,
          `Bad Request: ${side}: subject_name_strategy ${strategy} needs "schema" or "schema_id" to name the record, or give "subject"`,
        )
      }
      const name = recordName(parsed)
      return strategy === 'RECORD_NAME' ? name : `${topic}-${name}`
    }
    const subject = subjectFor()
    let id: number
    let version: number | undefined
    if (hasId) {
      id = d.schema_id as number
      this.#parsedById(id)
      version = registry.versionsById(id).find((v) => v.subject === subject)?.version
    } else if (hasText) {
      const registered = await this.#register(
        subject,
        { schema: d.schema, schemaType },
        ProxyErrors.INVALID_SCHEMA,
      )
      id = registered.id
      version = registered.version
    } else {
      const spec =
        d.schema_version === undefined || d.schema_version === null ? 'latest' : String(d.schema_version)
      const found = registry.version(subject, spec)
      id = found.id
      version = found.version
    }
    const parsed = this.#parsedById(id)
    const bytes =
      d.data === undefined || d.data === null
        ? null
        : convert(() => encodeWithSchema(parsed, id, d.data), undefined, side)
    return {
      bytes,
      report: {
        type: parsed.schemaType === 'AVRO' ? 'AVRO' : 'JSONSCHEMA',
        size: bytes?.length ?? 0,
        subject,
        schema_id: id,
        ...(version === undefined ? {} : { schema_version: version }),
      },
    }
  }

  // ---- v3 topics --------------------------------------------------------------------------------

  /** Topics of the log (internal ones, starting with `_`, flagged), sorted by name. */
  async listTopics(): Promise<TopicInfo[]> {
    const names = (await this.#o.log.listTopics()).sort()
    const described = await this.#o.log.describeTopics(names)
    return names.flatMap((name) => {
      const d = described.get(name)
      return d ? [topicInfo(d.name, d.partitions, d.configs)] : []
    })
  }

  async topic(name: string): Promise<TopicInfo> {
    const d = (await this.#o.log.describeTopics([name])).get(name)
    if (!d)
      throw new ServiceError(
        ProxyErrors.UNKNOWN_TOPIC_PARTITION,
        'This server does not host this topic-partition.',
      )
    return topicInfo(d.name, d.partitions, d.configs)
  }

  /** v3 `POST …/topics` `{topic_name, partitions_count?, replication_factor?, configs?: [{name, value}]}`. */
  async createTopic(body: unknown): Promise<TopicInfo> {
    const b = (body ?? {}) as {
      topic_name?: unknown
      partitions_count?: unknown
      replication_factor?: unknown
      configs?: unknown
    }
    if (
      typeof b.topic_name !== 'string' ||
      !/^[a-zA-Z0-9._-]{1,249}$/.test(b.topic_name) ||
      b.topic_name === '.' ||
      b.topic_name === '..'
    ) {
      throw new ServiceError(
        ProxyErrors.BAD_REQUEST,
        'topic_name must be a legal topic name (letters, digits, ".", "_", "-", at most 249)',
        { status: 400 },
      )
    }
    const count = (value: unknown, key: string): number => {
      if (value === undefined || value === null) return -1
      if (!Number.isInteger(value) || (value as number) < 1) {
        throw new ServiceError(ProxyErrors.BAD_REQUEST, `${key} must be a positive integer`, { status: 400 })
      }
      return value as number
    }
    const configs: Record<string, string> = {}
    if (b.configs !== undefined && b.configs !== null) {
      if (!Array.isArray(b.configs))
        throw new ServiceError(ProxyErrors.BAD_REQUEST, 'configs must be an array of {name, value}', {
          status: 400,
        })
      for (const c of b.configs as { name?: unknown; value?: unknown }[]) {
        if (typeof c?.name !== 'string')
          throw new ServiceError(ProxyErrors.BAD_REQUEST, 'configs[].name must be a string', { status: 400 })
        configs[c.name] = String(c.value)
      }
    }
    if ((await this.#o.log.describeTopics([b.topic_name])).has(b.topic_name)) {
      throw new ServiceError(ProxyErrors.BAD_REQUEST, `Topic '${b.topic_name}' already exists.`, {
        status: 400,
      })
    }
    await this.#o.log
      .createTopics([
        {
          name: b.topic_name,
          partitions: count(b.partitions_count, 'partitions_count'),
          replicationFactor: count(b.replication_factor, 'replication_factor'),
          configs,
        },
      ])
      .catch(rethrowRefusal)
    this.#topics.delete(b.topic_name)
    return this.topic(b.topic_name)
  }

  async deleteTopic(name: string): Promise<void> {
    await this.topic(name)
    await this.#o.log.deleteTopics([name]).catch(rethrowRefusal)
    this.#topics.delete(name)
  }

  // ---- shared ---------------------------------------------------------------------------------

  #registry(): SchemaRegistry {
    if (!this.#o.registry) {
      throw new ServiceError(
        ProxyErrors.INVALID_SCHEMA,
        'Schema formats need the worker schema registry, which is not running',
      )
    }
    return this.#o.registry
  }

  #parsedById(id: number): ParsedSchema {
    try {
      return this.#registry().parsedById(id)
    } catch (error) {
      if (error instanceof ServiceError && error.errorCode === 40403) {
        throw new ServiceError(ProxyErrors.SCHEMA_NOT_FOUND, `Schema ${id} not found`)
      }
      throw error
    }
  }

  async #register(
    subject: string,
    request: { schema: unknown; schemaType: SchemaType },
    invalidCode: number,
  ) {
    try {
      return await this.#registry().registerAnywhere(subject, request)
    } catch (error) {
      if (error instanceof ServiceError && error.errorCode === 42201) {
        throw new ServiceError(invalidCode, `Invalid schema: ${error.message}`)
      }
      throw error
    }
  }

  /** The topic's partition count; creates a missing topic when allowed, else 40401. */
  async #partitions(topic: string): Promise<number> {
    const known = this.#topics.get(topic)
    if (known !== undefined) return known
    let described = (await this.#o.log.describeTopics([topic])).get(topic)
    if (!described && (this.#o.autoCreateTopics ?? true)) {
      if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..') {
        throw new ServiceError(
          ProxyErrors.TOPIC_NOT_FOUND,
          `Topic not found. ('${topic}' is not a legal topic name)`,
        )
      }
      await this.#o.log.createTopics([{ name: topic, partitions: -1 }]).catch(rethrowRefusal)
      described = (await this.#o.log.describeTopics([topic])).get(topic)
    }
    if (!described) throw new ServiceError(ProxyErrors.TOPIC_NOT_FOUND, `Topic not found. ('${topic}')`)
    this.#topics.set(topic, described.partitions)
    return described.partitions
  }

  async #send(records: ProduceRecord[]): Promise<V2Offset[]> {
    try {
      const metadata = await this.#producer!.send(records)
      return metadata.map((m) => ({
        partition: m.partition,
        offset: m.offset,
        error_code: null,
        error: null,
      }))
    } catch (cause) {
      const retriable = (cause as { retriable?: boolean }).retriable === true
      this.#o.logger.warn({ err: (cause as Error).message }, 'REST proxy produce failed')
      // kafka-rest's v2 answers 200 with each record's error code, 40301 for an authorization failure.
      const code =
        refusal(cause)?.errorCode ?? (retriable ? ProxyErrors.KAFKA_RETRIABLE_ERROR : ProxyErrors.KAFKA_ERROR)
      return records.map(() => ({
        partition: null,
        offset: null,
        error_code: code,
        error: (cause as Error).message,
      }))
    }
  }
}

/**
 * A log's refusal (`FORBIDDEN`: writing to or deleting the embedded log's own `connect-offsets`) as
 * kafka-rest answers a Kafka `AuthorizationException` (rest-utils' `KafkaExceptionMapper`): 403 with
 * 40301 and the log's message, which says why and what to do instead. Anything else is not one.
 */
function refusal(cause: unknown): ServiceError | undefined {
  if (!(cause instanceof ConnectError && cause.code === 'FORBIDDEN')) return undefined
  return new ServiceError(ProxyErrors.KAFKA_AUTHORIZATION, cause.message, { cause })
}

function rethrowRefusal(cause: unknown): never {
  throw refusal(cause) ?? cause
}

/** Confluent's wire format: magic 0, the schema id (4 bytes, big-endian), the encoded data. */
export function encodeWithSchema(parsed: ParsedSchema, id: number, data: unknown): Uint8Array {
  let body: Buffer
  if (parsed.schemaType === 'AVRO') {
    const type = parsed.avro!
    let value: unknown
    try {
      value = type.fromString(JSON.stringify(data))
    } catch (jsonEncodingError) {
      // Not Avro's JSON encoding; a plain value of the schema (an unwrapped union branch) is fine too.
      if (!type.isValid(data)) throw jsonEncodingError
      value = data
    }
    body = type.toBuffer(value)
  } else {
    if (!parsed.validate!(data)) {
      const detail = (parsed.validate!.errors ?? [])
        .map((e) => `${e.instancePath || '/'} ${e.message}`)
        .join('; ')
      throw new Error(`the data does not match its JSON schema: ${detail}`)
    }
    body = Buffer.from(JSON.stringify(data))
  }
  const out = Buffer.allocUnsafe(5 + body.length)
  out[0] = 0
  out.writeInt32BE(id, 1)
  body.copy(out, 5)
  return out
}

function convert<T>(run: () => T, index: number | undefined, side: 'key' | 'value'): T {
  try {
    return run()
  } catch (error) {
    if (error instanceof ServiceError) throw error
    throw new ServiceError(
      ProxyErrors.JSON_CONVERSION,
      `Conversion of JSON to Object failed: ${index === undefined ? '' : `records[${index}].`}${side}: ${(error as Error).message}`,
    )
  }
}

function decodeBase64(data: unknown): Uint8Array | null {
  if (data === null || data === undefined) return null
  if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data.replace(/\s/g, ''))) {
    throw new Error(`${JSON.stringify(data)} is not a base64 string`)
  }
  return Buffer.from(data, 'base64')
}

function decodeBase64V3(data: unknown, side: string): Uint8Array {
  try {
    return decodeBase64(data)!
  } catch {
    throw new ServiceError(400, `Bad Request: ${side}.data=${JSON.stringify(data)} is not a base64 string.`)
  }
}

function parseHeaders(raw: unknown): LogHeader[] {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw))
    throw new ServiceError(400, 'Bad Request: headers must be an array of {name, value}')
  return raw.map((h, i) => {
    const header = h as { name?: unknown; value?: unknown }
    if (typeof header?.name !== 'string')
      throw new ServiceError(400, `Bad Request: headers[${i}].name must be a string`)
    return {
      key: header.name,
      value:
        header.value === null || header.value === undefined
          ? null
          : decodeBase64V3(header.value, `headers[${i}]`),
    }
  })
}

/**
 * The record name RecordNameStrategy uses: an Avro named type's full name (a primitive's type
 * name), a JSON schema's `title`.
 */
export function recordName(parsed: ParsedSchema): string {
  if (parsed.schemaType === 'AVRO') {
    const type = parsed.avro as unknown as { name?: string; typeName: string }
    return type.name ?? type.typeName
  }
  const title = (parsed.json as { title?: unknown } | null)?.title
  if (typeof title !== 'string' || title === '') {
    throw new ServiceError(
      ProxyErrors.INVALID_SCHEMA,
      'Invalid schema: a JSON schema needs a "title" to name its record for RECORD_NAME and TOPIC_RECORD_NAME',
    )
  }
  return title
}
