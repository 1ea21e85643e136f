/**
 * Record keys and values as BSON documents, as the official connector's `SinkConverter` makes them
 * (`com.mongodb.kafka.connect.sink.converter`): a `Struct` by its schema (INT8/16/32 → int32, INT64 →
 * int64, FLOAT32/64 → double, BYTES → binary, Decimal → decimal128, Date/Time/Timestamp → date), a
 * schemaless map as Java's JsonConverter hands it over (integers → int64, other numbers → double), a
 * string as Extended JSON (`BsonDocument.parse`), bytes as raw BSON.
 *
 * A document is a plain object holding values of the `bson` package (what the `mongodb` driver writes).
 */
import { Binary, BSON, Decimal128, Double, Long } from 'mongodb'
import { BigDecimal } from '../../api/data/big-decimal.ts'
import type { Schema } from '../../api/data/schema.ts'
import { Struct } from '../../api/data/struct.ts'
import { DataError } from '../../api/errors.ts'

export type BsonDocument = Record<string, unknown>

const LOGICAL_DECIMAL = 'org.apache.kafka.connect.data.Decimal'
const LOGICAL_DATES = new Set([
  'org.apache.kafka.connect.data.Date',
  'org.apache.kafka.connect.data.Time',
  'org.apache.kafka.connect.data.Timestamp',
])

/** True for a BSON document (a plain object), false for BSON scalars (ObjectId, Long…), arrays, dates. */
export function isDocument(value: unknown): value is BsonDocument {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  if (value instanceof Date || value instanceof Uint8Array) return false
  return !('_bsontype' in value)
}

/** Sets a field without letting `__proto__` change the object's prototype. */
export function setField(doc: BsonDocument, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(doc, name, { value, enumerable: true, writable: true, configurable: true })
  else doc[name] = value
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Uint8Array) return 'bytes'
  return `a ${typeof value}`
}

/**
 * The record's key or value as a document, or undefined for null. `what` ("key"/"value") names it in
 * errors. Throws a DataError for anything that is not document-shaped.
 */
export function toDocument(schema: Schema | null, value: unknown, what: string): BsonDocument | undefined {
  if (value === null || value === undefined) return undefined
  if (value instanceof Struct) return structToDocument(value)
  if (value instanceof Map || isDocument(value)) return schemaless(value) as BsonDocument
  if (typeof value === 'string') {
    let parsed: unknown
    try {
      parsed = BSON.EJSON.parse(value, { relaxed: false })
    } catch (error) {
      throw new DataError(
        `the record ${what} is a string that is not JSON (${(error as Error).message}); ` +
          `a ${what} must be a Struct, a map, a JSON object string or BSON bytes`,
        { cause: error },
      )
    }
    if (!isDocument(parsed))
      throw new DataError(`the record ${what} is JSON but not an object: ${value.slice(0, 80)}`)
    return parsed
  }
  if (value instanceof Uint8Array) {
    try {
      return BSON.deserialize(value, { promoteValues: false, promoteBuffers: false }) as BsonDocument
    } catch (error) {
      throw new DataError(`the record ${what} is bytes that are not a BSON document`, { cause: error })
    }
  }
  throw new DataError(
    `the record ${what} is ${typeName(value)}${schema ? ` (schema ${schema.type})` : ''}, not a document: ` +
      `a ${what} must be a Struct, a map, a JSON object string or BSON bytes`,
  )
}

function structToDocument(struct: Struct): BsonDocument {
  const doc: BsonDocument = {}
  for (const field of struct.schema.fields) {
    setField(doc, field.name, withSchema(field.schema, struct.get(field), field.name))
  }
  return doc
}

function withSchema(schema: Schema, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return null
  if (schema.name === LOGICAL_DECIMAL && value instanceof BigDecimal)
    return Decimal128.fromString(value.toString())
  if (schema.name !== undefined && LOGICAL_DATES.has(schema.name) && value instanceof Date) return value
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'BOOLEAN':
    case 'STRING':
      return value
    case 'INT64':
      return typeof value === 'bigint' ? Long.fromBigInt(value) : Long.fromNumber(value as number)
    case 'FLOAT32':
    case 'FLOAT64':
      return new Double(value as number)
    case 'BYTES':
      return new Binary(value as Uint8Array)
    case 'ARRAY':
      return (value as unknown[]).map((v, i) => withSchema(schema.valueSchema!, v, `${path}[${i}]`))
    case 'MAP': {
      const doc: BsonDocument = {}
      const entries = value instanceof Map ? [...value] : Object.entries(value as object)
      for (const [k, v] of entries) {
        if (typeof k !== 'string')
          throw new DataError(`field '${path}' is a map with a non-string key: BSON needs string keys`)
        setField(doc, k, withSchema(schema.valueSchema!, v, `${path}.${k}`))
      }
      return doc
    }
    case 'STRUCT':
      return structToDocument(value as Struct)
  }
}

/** Schemaless Connect data (Java's JsonConverter output): integers are int64, other numbers double. */
function schemaless(value: unknown): unknown {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isInteger(value) ? Long.fromNumber(value) : new Double(value)
    case 'bigint':
      return Long.fromBigInt(value)
  }
  if (value instanceof Struct) return structToDocument(value)
  if (value instanceof BigDecimal) return Decimal128.fromString(value.toString())
  if (value instanceof Date) return value
  if (value instanceof Uint8Array) return new Binary(value)
  if (Array.isArray(value)) return value.map(schemaless)
  if (value instanceof Map) {
    const doc: BsonDocument = {}
    for (const [k, v] of value) setField(doc, String(k), schemaless(v))
    return doc
  }
  if (isDocument(value)) {
    const doc: BsonDocument = {}
    for (const k of Object.keys(value)) setField(doc, k, schemaless(value[k]))
    return doc
  }
  return value // already a BSON value (ObjectId, Long…)
}

/** A deep copy of a document (BSON scalars are immutable and shared). */
export function cloneDocument(doc: BsonDocument): BsonDocument {
  const copy: BsonDocument = {}
  for (const k of Object.keys(doc)) setField(copy, k, cloneValue(doc[k]))
  return copy
}

function cloneValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneValue)
  if (isDocument(value)) return cloneDocument(value)
  return value
}

/** Extended JSON (relaxed) for error messages and logs. */
export function toJson(value: unknown): string {
  try {
    return BSON.EJSON.stringify(value as BsonDocument, { relaxed: true })
  } catch {
    return String(value)
  }
}

/** The filter `{_id: id}` (typed as a plain document: an _id may be any BSON value, not only an ObjectId). */
export function byId(id: unknown): BsonDocument {
  return { _id: id }
}
