/**
 * What a change event becomes in a record: the topic (`DefaultTopicMapper`) and the key and value in
 * `output.format.key|value` (`com.mongodb.kafka.connect.source.producer`): `json` a STRING per
 * `output.json.formatter`, `bson` BYTES of the raw document, `schema` a Struct per the Avro schema of
 * `output.schema.key|value` (document fields of STRING type become their JSON, as
 * `BsonValueToSchemaAndValue` does) or inferred from the document (`output.schema.infer.value`).
 */
import { Binary, BSON, Decimal128, Double, Int32, Long, ObjectId } from 'mongodb'
import { TimestampType } from '../../../api/data/logical-types.ts'
import type { Schema } from '../../../api/data/schema.ts'
import { SchemaBuilder } from '../../../api/data/schema-builder.ts'
import { Struct } from '../../../api/data/struct.ts'
import { ConfigError, DataError } from '../../../api/errors.ts'
import { type BsonDocument, isDocument } from '../bson-document.ts'
import type { OutputFormat, SourceSettings } from './config.ts'
import { formatJson, type JsonFormat } from './json-formatter.ts'

export interface SchemaAndValue {
  schema: Schema | null
  value: unknown
}

/** The topic of an event: `topic.namespace.map`, then `[prefix<sep>]db<sep>coll[<sep>suffix]`. */
export class TopicMapper {
  readonly #s: SourceSettings
  readonly #cache = new Map<string, string>()

  constructor(settings: SourceSettings) {
    this.#s = settings
  }

  /** '' when the event names no database (the official mapper then skips the event with a warning). */
  topic(event: BsonDocument): string {
    const ns = isDocument(event.ns) ? event.ns : {}
    // Servers that leave `ns` out (the test server) get the watched namespace.
    const db = typeof ns.db === 'string' ? ns.db : this.#s.database
    const coll = typeof ns.coll === 'string' ? ns.coll : typeof ns.db === 'string' ? '' : this.#s.collection
    if (db === '') return ''
    const namespace = coll === '' ? db : `${db}.${coll}`
    let topic = this.#cache.get(namespace)
    if (topic === undefined) {
      const sep = this.#s.topicSeparator
      const map = this.#s.namespaceMap
      const undecorated =
        map[namespace] ??
        (map[db] !== undefined
          ? coll === ''
            ? map[db]
            : `${map[db]}${sep}${coll}`
          : (map['*'] ?? (coll === '' ? db : `${db}${sep}${coll}`)))
      const prefix = this.#s.topicPrefix === '' ? '' : `${this.#s.topicPrefix}${sep}`
      const suffix = this.#s.topicSuffix === '' ? '' : `${sep}${this.#s.topicSuffix}`
      topic = `${prefix}${undecorated}${suffix}`
      this.#cache.set(namespace, topic)
    }
    return topic
  }
}

/** Makes one side's Connect data from a document. */
export type Producer = (doc: BsonDocument) => SchemaAndValue

export function makeProducer(
  format: OutputFormat,
  jsonFormat: JsonFormat,
  avroSchema: string | undefined,
  what: string,
): Producer {
  switch (format) {
    case 'json':
      return (doc) => ({ schema: STRING_SCHEMA, value: formatJson(doc, jsonFormat) })
    case 'bson':
      return (doc) => ({ schema: BYTES_SCHEMA, value: new Uint8Array(BSON.serialize(doc)) })
    case 'schema': {
      if (avroSchema === undefined) return (doc) => inferred(doc, jsonFormat)
      const schema = avroToConnect(avroSchema, what)
      return (doc) => ({ schema, value: byStructSchema(schema, doc, jsonFormat, '') })
    }
  }
}

const STRING_SCHEMA = SchemaBuilder.string().build()
const BYTES_SCHEMA = SchemaBuilder.bytes().build()

/** An Avro schema (JSON) as a Connect schema: records → STRUCT, `[T, "null"]` → optional T. */
export function avroToConnect(json: string, key: string): Schema {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (error) {
    throw new ConfigError(key, `${key} is not JSON: ${(error as Error).message}`)
  }
  const build = (node: unknown, optional: boolean): Schema => {
    if (Array.isArray(node)) {
      const rest = node.filter((n) => n !== 'null')
      if (rest.length !== 1)
        throw new ConfigError(
          key,
          `${key}: only unions of one type and "null" are supported, got ${JSON.stringify(node)}`,
        )
      return build(rest[0], optional || rest.length < node.length)
    }
    const type = typeof node === 'string' ? node : (node as { type?: unknown })?.type
    let b: SchemaBuilder
    switch (type) {
      case 'string':
        b = SchemaBuilder.string()
        break
      case 'int':
        b = SchemaBuilder.int32()
        break
      case 'long':
        b = SchemaBuilder.int64()
        break
      case 'double':
        b = SchemaBuilder.float64()
        break
      case 'float':
        b = SchemaBuilder.float32()
        break
      case 'boolean':
        b = SchemaBuilder.bool()
        break
      case 'bytes':
        b = SchemaBuilder.bytes()
        break
      case 'array':
        b = SchemaBuilder.array(build((node as { items: unknown }).items, false))
        break
      case 'map':
        b = SchemaBuilder.map(
          SchemaBuilder.string().build(),
          build((node as { values: unknown }).values, false),
        )
        break
      case 'record': {
        const r = node as { name?: string; fields?: { name: string; type: unknown }[] }
        b = SchemaBuilder.struct()
        if (r.name) b = b.name(r.name)
        for (const f of r.fields ?? []) b = b.field(f.name, build(f.type, false))
        break
      }
      default:
        throw new ConfigError(key, `${key}: unsupported Avro type ${JSON.stringify(type)}`)
    }
    return (optional ? b.optional() : b).build()
  }
  return build(parsed, false)
}

function byStructSchema(schema: Schema, doc: BsonDocument, mode: JsonFormat, path: string): Struct {
  const struct = new Struct(schema)
  for (const field of schema.fields) {
    const v = doc[field.name]
    struct.put(
      field.name,
      bySchema(field.schema, v, mode, path === '' ? field.name : `${path}.${field.name}`),
    )
  }
  return struct
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  if (v instanceof Int32 || v instanceof Double) return v.value
  if (v instanceof Long) return v.toNumber()
  if (typeof v === 'bigint') return Number(v)
  return undefined
}

function bySchema(schema: Schema, v: unknown, mode: JsonFormat, path: string): unknown {
  if (v === undefined || v === null) {
    if (schema.optional) return null
    throw new DataError(`the document has no value for the required field '${path}' of the output schema`)
  }
  const mismatch = () =>
    new DataError(
      `field '${path}' holds ${formatJson(v, 'relaxed').slice(0, 100)}, which is not a ${schema.type} of the output schema`,
    )
  switch (schema.type) {
    case 'STRING':
      return typeof v === 'string' ? v : v instanceof ObjectId ? v.toHexString() : formatJson(v, mode)
    case 'INT32':
    case 'INT64':
    case 'FLOAT32':
    case 'FLOAT64': {
      const n = v instanceof Date ? v.getTime() : num(v)
      if (n === undefined) throw mismatch()
      return schema.type === 'INT64' && v instanceof Long ? BigInt(v.toString()) : n
    }
    case 'BOOLEAN':
      if (typeof v !== 'boolean') throw mismatch()
      return v
    case 'BYTES':
      if (v instanceof Binary) return v.value()
      if (v instanceof Uint8Array) return v
      throw mismatch()
    case 'ARRAY':
      if (!Array.isArray(v)) throw mismatch()
      return v.map((e, i) => bySchema(schema.valueSchema!, e, mode, `${path}[${i}]`))
    case 'MAP':
      if (!isDocument(v)) throw mismatch()
      return new Map(
        Object.entries(v).map(([k, e]) => [k, bySchema(schema.valueSchema!, e, mode, `${path}.${k}`)]),
      )
    case 'STRUCT':
      if (!isDocument(v)) throw mismatch()
      return byStructSchema(schema, v, mode, path)
    default:
      throw mismatch()
  }
}

/** `InferSchemaAndValueProducer`: every field optional, in document order; mixed arrays become STRING. */
function inferred(doc: BsonDocument, mode: JsonFormat): SchemaAndValue {
  const schema = inferSchema(doc, 'inferred_name')
  return { schema, value: bySchemaInferred(schema, doc, mode) }
}

function inferSchema(v: unknown, name: string): Schema {
  if (isDocument(v)) {
    let b = SchemaBuilder.struct().name(name).optional()
    for (const [k, e] of Object.entries(v)) b = b.field(k, inferSchema(e, `${name}_${k}`))
    return b.build()
  }
  if (Array.isArray(v)) {
    const elements = v.map((e) => inferSchema(e, name))
    const first = elements[0]
    const same = first !== undefined && elements.every((e) => e.type === first.type && e.type !== 'STRUCT')
    return SchemaBuilder.array(same ? first : SchemaBuilder.string().optional().build())
      .optional()
      .build()
  }
  if (typeof v === 'boolean') return SchemaBuilder.bool().optional().build()
  if (v instanceof Int32 || (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2147483647))
    return SchemaBuilder.int32().optional().build()
  if (v instanceof Long || typeof v === 'bigint') return SchemaBuilder.int64().optional().build()
  if (v instanceof Double || typeof v === 'number') return SchemaBuilder.float64().optional().build()
  if (v instanceof Date) return TimestampType.builder().optional().build()
  if (v instanceof Binary) return SchemaBuilder.bytes().optional().build()
  if (v instanceof Decimal128) return SchemaBuilder.string().optional().build()
  return SchemaBuilder.string().optional().build()
}

function bySchemaInferred(schema: Schema, v: unknown, mode: JsonFormat): unknown {
  if (v === null || v === undefined) return null
  if (schema.name === TimestampType.LOGICAL_NAME && v instanceof Date) return v
  if (schema.type === 'STRUCT') {
    const struct = new Struct(schema)
    for (const f of schema.fields)
      struct.put(f.name, bySchemaInferred(f.schema, (v as BsonDocument)[f.name], mode))
    return struct
  }
  if (schema.type === 'ARRAY')
    return (v as unknown[]).map((e) => bySchemaInferred(schema.valueSchema!, e, mode))
  if (schema.type === 'INT64') return v instanceof Long ? BigInt(v.toString()) : v
  if (schema.type === 'STRING' && v instanceof Decimal128) return v.toString()
  return bySchema(schema, v, mode, '')
}
