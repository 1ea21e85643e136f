/**
 * What every built-in SMT shares: the key/value side it operates on (Kafka's `$Key`/`$Value`
 * subclasses), Kafka's `Requirements` checks, `SchemaUtil.copySchemaBasics`, and the errors.
 *
 * Errors: a record a transform cannot handle fails with a `TransformDataError` (a `DataError`) whose
 * message keeps Kafka's wording and adds the transform's class name and where the record came from:
 * `InsertField$Value: Only Struct objects supported for [field insertion], found: java.lang.String
 * (topic 'orders', partition 0, offset 42)`. `guard` turns any other failure inside `apply` (a
 * `Struct.put` that rejects a value, say) into one.
 */

import { javaClassOf } from '../api/data/java-text.ts'
import type { Schema } from '../api/data/schema.ts'
import { isPlainObject } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { DataError, errorMessage } from '../api/errors.ts'
import type { Headers } from '../api/headers.ts'
import { type ConnectRecord, SinkRecord, SourceRecord } from '../api/records.ts'

/** The Java package every Kafka SMT lives in. */
export const KAFKA_TRANSFORMS = 'org.apache.kafka.connect.transforms'

/** Which half of the record a `$Key`/`$Value` transform reads and rewrites. */
export type Side = 'key' | 'value'

export function operatingSchema(record: ConnectRecord, side: Side): Schema | null {
  return side === 'key' ? record.keySchema : record.valueSchema
}

export function operatingValue(record: ConnectRecord, side: Side): unknown {
  return side === 'key' ? record.key : record.value
}

/** A copy of the record with the key or value (and its schema, and optionally the headers) replaced. */
export function withOperating<R extends ConnectRecord>(
  record: R,
  side: Side,
  schema: Schema | null,
  value: unknown,
  headers?: Headers,
): R {
  const changes =
    side === 'key' ? { keySchema: schema, key: value ?? null } : { valueSchema: schema, value: value ?? null }
  return record.newRecord(headers ? { ...changes, headers } : changes)
}

/** A transformation with a key and a value variant, as Kafka's `Cast$Key` / `Cast$Value`. */
export abstract class SidedTransformation {
  protected readonly side: Side
  /** The simple class name of the variant, for messages: `Cast$Value`. */
  protected readonly name: string

  constructor(base: string, side: Side) {
    this.side = side
    this.name = variantName(base, side)
  }
}

/** The simple class name Kafka gives a variant: `InsertField$Value`. */
export function variantName(base: string, side: Side): string {
  return `${base}$${side === 'key' ? 'Key' : 'Value'}`
}

/** Where a record came from, for error messages: topic, partition and offset (sink) or source offset. */
export function describeRecord(record: ConnectRecord): string {
  const parts = [`topic '${record.topic}'`, `partition ${record.kafkaPartition ?? 'unassigned'}`]
  if (record instanceof SinkRecord) parts.push(`offset ${record.kafkaOffset}`)
  else if (record instanceof SourceRecord && record.sourceOffset) {
    parts.push(`source offset ${JSON.stringify(record.sourceOffset)}`)
  }
  return parts.join(', ')
}

/** A record a transform could not handle. */
export class TransformDataError extends DataError {
  readonly transform: string
  readonly record: string

  constructor(transform: string, record: ConnectRecord, message: string, cause?: unknown) {
    super(`${transform}: ${message} (${describeRecord(record)})`, cause === undefined ? {} : { cause })
    this.name = 'TransformDataError'
    this.transform = transform
    this.record = describeRecord(record)
  }
}

/** Runs `apply`'s body so that any failure names the transform and the record. */
export function guard<T>(transform: string, record: ConnectRecord, body: () => T): T {
  try {
    return body()
  } catch (error) {
    if (error instanceof TransformDataError) throw error
    throw new TransformDataError(transform, record, errorMessage(error), error)
  }
}

/** Java's `getClass().getName()` for a value, as Kafka's `Requirements` prints it. */
export function javaClassName(value: unknown): string {
  return value === null || value === undefined ? 'null' : javaClassOf(value).replace(/^class /, '')
}

export function requireSchema(schema: Schema | null, purpose: string): Schema {
  if (!schema) throw new DataError(`Schema required for [${purpose}]`)
  return schema
}

export function requireStruct(value: unknown, purpose: string): Struct {
  if (!(value instanceof Struct)) {
    throw new DataError(`Only Struct objects supported for [${purpose}], found: ${javaClassName(value)}`)
  }
  return value
}

export function requireStructOrNull(value: unknown, purpose: string): Struct | null {
  return value === null || value === undefined ? null : requireStruct(value, purpose)
}

export function requireSinkRecord(record: ConnectRecord, purpose: string): SinkRecord {
  if (!(record instanceof SinkRecord)) {
    throw new DataError(
      `Only SinkRecord supported for [${purpose}], found: ${record instanceof SourceRecord ? 'org.apache.kafka.connect.source.SourceRecord' : javaClassName(record)}`,
    )
  }
  return record
}

// ---------------------------------------------------------------------------------------------
// Schemaless values: a map is a `Map` or a plain object (what schemaless JSON gives); transforms
// hand back the same kind they were given.

export type MapValue = Map<unknown, unknown> | Record<string, unknown>

export function isMapValue(value: unknown): value is MapValue {
  return value instanceof Map || isPlainObject(value)
}

export function requireMap(value: unknown, purpose: string): MapValue {
  if (!isMapValue(value)) {
    throw new DataError(
      `Only Map objects supported in absence of schema for [${purpose}], found: ${javaClassName(value)}`,
    )
  }
  return value
}

export function requireMapOrNull(value: unknown, purpose: string): MapValue | null {
  return value === null || value === undefined ? null : requireMap(value, purpose)
}

/** The value under a key; `null` when absent (Java's `Map.get`). */
export function mapGet(map: MapValue, key: string): unknown {
  if (map instanceof Map) return map.get(key) ?? null
  return Object.hasOwn(map, key) ? (map[key] ?? null) : null
}

export function mapHas(map: MapValue, key: string): boolean {
  return map instanceof Map ? map.has(key) : Object.hasOwn(map, key)
}

export function mapSet(map: MapValue, key: unknown, value: unknown): void {
  if (map instanceof Map) map.set(key, value)
  else if (key === '__proto__') {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true })
  } else map[String(key)] = value
}

export function mapDelete(map: MapValue, key: string): void {
  if (map instanceof Map) map.delete(key)
  else delete map[key]
}

export function mapEntriesOf(map: MapValue): [unknown, unknown][] {
  return map instanceof Map ? [...map.entries()] : Object.entries(map)
}

/** An empty map of the same kind. */
export function emptyLike(map: MapValue): MapValue {
  return map instanceof Map ? new Map() : {}
}

export function copyMap(map: MapValue): MapValue {
  if (map instanceof Map) return new Map(map)
  // Spread defines own properties, so a '__proto__' key is copied as data, never as the prototype.
  return { ...map }
}

// ---------------------------------------------------------------------------------------------
// Schemas

/**
 * Kafka's `SchemaUtil.copySchemaBasics`: a builder of the same type (or the given one) with the
 * source's name, version, doc and parameters — not its optionality, default or fields.
 */
export function copySchemaBasics(source: Schema, builder?: SchemaBuilder): SchemaBuilder {
  const b =
    builder ??
    (source.type === 'ARRAY'
      ? SchemaBuilder.array(source.valueSchema!)
      : source.type === 'MAP'
        ? SchemaBuilder.map(source.keySchema!, source.valueSchema!)
        : new SchemaBuilder(source.type))
  if (source.name !== undefined) b.name(source.name)
  if (source.version !== undefined) b.version(source.version)
  if (source.doc !== undefined) b.doc(source.doc)
  if (source.parameters) b.parameters({ ...source.parameters })
  return b
}

/** A field's value, with or without its schema default (`replace.null.with.default`). */
export function fieldValue(struct: Struct, field: string, replaceNullWithDefault: boolean): unknown {
  return replaceNullWithDefault ? struct.get(field) : struct.getWithoutDefault(field)
}

/** The doc of `replace.null.with.default`, the same on every Kafka SMT that has it. */
export const REPLACE_NULL_WITH_DEFAULT_DOC =
  'Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.'

/**
 * A small per-instance cache of updated schemas by input schema (Kafka's `LRUCache<Schema, Schema>`
 * of 16). Keyed by identity: converters hand out the same schema object for the same schema.
 */
export class SchemaCache {
  readonly #max: number
  readonly #map = new Map<Schema, Schema>()

  constructor(max = 16) {
    this.#max = max
  }

  get(schema: Schema, build: (schema: Schema) => Schema): Schema {
    let updated = this.#map.get(schema)
    if (updated === undefined) {
      updated = build(schema)
      this.#map.set(schema, updated)
      if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as Schema)
    }
    return updated
  }

  clear(): void {
    this.#map.clear()
  }
}
