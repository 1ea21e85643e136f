/**
 * Kafka Connect's data model: schemas for the types Connect knows, as in
 * `org.apache.kafka.connect.data.Schema` / `ConnectSchema`.
 *
 * JavaScript representation of values, by schema type:
 * | type | value |
 * |---|---|
 * | INT8, INT16, INT32, FLOAT32, FLOAT64 | `number` |
 * | INT64 | `number` (when safe) or `bigint` — both are accepted everywhere |
 * | BOOLEAN | `boolean` |
 * | STRING | `string` |
 * | BYTES | `Uint8Array` (a `Buffer` is one) |
 * | ARRAY | `unknown[]` |
 * | MAP | a `Map`, or a plain object when every key is a string (what schemaless JSON gives) |
 * | STRUCT | `Struct` |
 * | logical Decimal | `BigDecimal`; Date, Time, Timestamp | `Date` |
 */
import { DataError } from '../errors.ts'

export type SchemaType =
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FLOAT32'
  | 'FLOAT64'
  | 'BOOLEAN'
  | 'STRING'
  | 'BYTES'
  | 'ARRAY'
  | 'MAP'
  | 'STRUCT'

export const PRIMITIVE_TYPES: ReadonlySet<SchemaType> = new Set([
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FLOAT32',
  'FLOAT64',
  'BOOLEAN',
  'STRING',
  'BYTES',
])

export interface Field {
  readonly name: string
  readonly index: number
  readonly schema: Schema
}

export interface Schema {
  readonly type: SchemaType
  readonly optional: boolean
  /** The default value, or `undefined` when the schema has none. */
  readonly defaultValue: unknown
  readonly name: string | undefined
  readonly version: number | undefined
  readonly doc: string | undefined
  readonly parameters: Readonly<Record<string, string>> | undefined
  /** The key schema of a MAP. */
  readonly keySchema: Schema | undefined
  /** The value schema of a MAP, or the element schema of an ARRAY. */
  readonly valueSchema: Schema | undefined
  /** The fields of a STRUCT, in order; empty for other types. */
  readonly fields: readonly Field[]
  field(name: string): Field | undefined
}

export interface SchemaInit {
  type: SchemaType
  optional?: boolean
  defaultValue?: unknown
  name?: string
  version?: number
  doc?: string
  parameters?: Record<string, string>
  keySchema?: Schema
  valueSchema?: Schema
  fields?: readonly { name: string; schema: Schema }[]
}

/** An immutable schema. Build one with `SchemaBuilder`, or use the constants in `Schemas`. */
export class ConnectSchema implements Schema {
  readonly type: SchemaType
  readonly optional: boolean
  readonly defaultValue: unknown
  readonly name: string | undefined
  readonly version: number | undefined
  readonly doc: string | undefined
  readonly parameters: Readonly<Record<string, string>> | undefined
  readonly keySchema: Schema | undefined
  readonly valueSchema: Schema | undefined
  readonly fields: readonly Field[]
  readonly #fieldsByName: ReadonlyMap<string, Field>

  constructor(init: SchemaInit) {
    this.type = init.type
    this.optional = init.optional ?? false
    this.name = init.name
    this.version = init.version
    this.doc = init.doc
    this.parameters = init.parameters ? Object.freeze({ ...init.parameters }) : undefined
    this.keySchema = init.keySchema
    this.valueSchema = init.valueSchema
    if (init.type === 'MAP' && (!init.keySchema || !init.valueSchema)) {
      throw new DataError('a MAP schema needs both a key schema and a value schema')
    }
    if (init.type === 'ARRAY' && !init.valueSchema) {
      throw new DataError('an ARRAY schema needs an element (value) schema')
    }
    const fields: Field[] = (init.fields ?? []).map((f, index) => Object.freeze({ ...f, index }))
    this.fields = Object.freeze(fields)
    this.#fieldsByName = new Map(fields.map((f) => [f.name, f]))
    this.defaultValue = init.defaultValue
    if (init.defaultValue !== undefined && init.defaultValue !== null) {
      validateValue(this, init.defaultValue, 'default value')
    }
    Object.freeze(this)
  }

  field(name: string): Field | undefined {
    if (this.type !== 'STRUCT') throw new DataError(`cannot look up field '${name}' on a non-struct schema`)
    return this.#fieldsByName.get(name)
  }

  toString(): string {
    return `Schema{${this.name ? `${this.name}:` : ''}${this.type}}`
  }
}

function primitive(type: SchemaType, optional: boolean): Schema {
  return new ConnectSchema({ type, optional })
}

/** The primitive schemas, as `Schema.INT8_SCHEMA`, `Schema.OPTIONAL_INT8_SCHEMA`… in Java. */
export const Schemas = Object.freeze({
  INT8: primitive('INT8', false),
  INT16: primitive('INT16', false),
  INT32: primitive('INT32', false),
  INT64: primitive('INT64', false),
  FLOAT32: primitive('FLOAT32', false),
  FLOAT64: primitive('FLOAT64', false),
  BOOLEAN: primitive('BOOLEAN', false),
  STRING: primitive('STRING', false),
  BYTES: primitive('BYTES', false),
  OPTIONAL_INT8: primitive('INT8', true),
  OPTIONAL_INT16: primitive('INT16', true),
  OPTIONAL_INT32: primitive('INT32', true),
  OPTIONAL_INT64: primitive('INT64', true),
  OPTIONAL_FLOAT32: primitive('FLOAT32', true),
  OPTIONAL_FLOAT64: primitive('FLOAT64', true),
  OPTIONAL_BOOLEAN: primitive('BOOLEAN', true),
  OPTIONAL_STRING: primitive('STRING', true),
  OPTIONAL_BYTES: primitive('BYTES', true),
})

/** Structural equality of two schemas (Java's `ConnectSchema.equals`). */
export function schemaEquals(a: Schema | null | undefined, b: Schema | null | undefined): boolean {
  if (a === b) return true
  if (!a || !b) return false
  if (
    a.type !== b.type ||
    a.optional !== b.optional ||
    a.name !== b.name ||
    a.version !== b.version ||
    a.doc !== b.doc ||
    !valueEquals(a.defaultValue, b.defaultValue) ||
    !recordEquals(a.parameters, b.parameters)
  ) {
    return false
  }
  if (!schemaEquals(a.keySchema, b.keySchema) || !schemaEquals(a.valueSchema, b.valueSchema)) return false
  if (a.fields.length !== b.fields.length) return false
  return a.fields.every((f, i) => f.name === b.fields[i].name && schemaEquals(f.schema, b.fields[i].schema))
}

function recordEquals(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  if (a === b) return true
  if (!a || !b) return false
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}

/** Deep equality of Connect values (structs, arrays, maps, bytes, dates, decimals). */
export function valueEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || a === undefined || b === undefined) return false
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    return (typeof a === 'bigint' || typeof a === 'number') &&
      (typeof b === 'bigint' || typeof b === 'number')
      ? BigInt(a as number) === BigInt(b as number)
      : false
  }
  if (typeof a !== 'object' || typeof b !== 'object') return Number.isNaN(a) && Number.isNaN(b)
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i])
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => valueEquals(x, b[i]))
  }
  if (hasEquals(a)) return a.equals(b)
  const ea = mapEntries(a)
  const eb = mapEntries(b)
  if (ea && eb) {
    if (ea.length !== eb.length) return false
    return ea.every(([k, v]) => eb.some(([k2, v2]) => valueEquals(k, k2) && valueEquals(v, v2)))
  }
  return false
}

function hasEquals(value: object): value is { equals(other: unknown): boolean } {
  return typeof (value as { equals?: unknown }).equals === 'function'
}

/** The entries of a MAP value, whether it is a `Map` or a plain object; `undefined` for anything else. */
export function mapEntries(value: unknown): [unknown, unknown][] | undefined {
  if (value instanceof Map) return [...value.entries()]
  if (isPlainObject(value)) return Object.entries(value)
  return undefined
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const INT_RANGES = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
} as const
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** The logical types whose values are not the plain representation of their schema type. */
const LOGICAL_VALUE_CHECKS = new Map<string, (value: unknown) => boolean>([
  ['org.apache.kafka.connect.data.Decimal', (v) => isBigDecimalLike(v)],
  ['org.apache.kafka.connect.data.Date', (v) => v instanceof Date],
  ['org.apache.kafka.connect.data.Time', (v) => v instanceof Date],
  ['org.apache.kafka.connect.data.Timestamp', (v) => v instanceof Date],
])

function isBigDecimalLike(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { unscaled?: unknown }).unscaled === 'bigint' &&
    typeof (value as { scale?: unknown }).scale === 'number'
  )
}

/**
 * True when `validateValue` would surely accept the value: the common cases decided without building
 * an error path. False means "not decided here", not "invalid": call `validateValue` then.
 */
export function isPlainlyValid(schema: Schema, value: unknown): boolean {
  if (value === null || value === undefined) return schema.optional
  if (schema.name !== undefined && schema.name !== null) {
    const logical = LOGICAL_VALUE_CHECKS.get(schema.name)
    if (logical !== undefined) return logical(value)
  }
  switch (schema.type) {
    case 'STRING':
      return typeof value === 'string'
    case 'INT64':
      return typeof value === 'number'
        ? Number.isSafeInteger(value)
        : typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX
    case 'INT32':
      return typeof value === 'number' && (value | 0) === value
    case 'BOOLEAN':
      return typeof value === 'boolean'
    case 'FLOAT64':
    case 'FLOAT32':
      return typeof value === 'number'
    case 'BYTES':
      return value instanceof Uint8Array
    case 'STRUCT': {
      // A struct validated each value as it was put: it is valid when it is of this very schema and
      // has every required field set.
      const struct = value as { schema?: Schema; isComplete?: boolean }
      return struct.schema === schema && struct.isComplete === true
    }
    default:
      return false
  }
}

/**
 * Checks that a value matches a schema (Java's `ConnectSchema.validateValue`), throwing a
 * `DataError` that names the offending field path.
 */
export function validateValue(schema: Schema, value: unknown, path = 'value'): void {
  if (value === null || value === undefined) {
    if (schema.optional) return
    throw new DataError(`invalid ${path}: null used for required ${schema.type} schema${named(schema)}`)
  }
  const logical = schema.name ? LOGICAL_VALUE_CHECKS.get(schema.name) : undefined
  if (logical) {
    if (!logical(value)) {
      throw new DataError(`invalid ${path}: ${describe(value)} is not a valid ${schema.name} value`)
    }
    return
  }
  const fail = (): never => {
    throw new DataError(
      `invalid ${path}: ${describe(value)} does not match ${schema.type} schema${named(schema)}`,
    )
  }
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32': {
      const [min, max] = INT_RANGES[schema.type]
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) fail()
      return
    }
    case 'INT64':
      if (typeof value === 'bigint') {
        if (value < INT64_MIN || value > INT64_MAX) fail()
      } else if (!Number.isInteger(value)) {
        fail()
      }
      return
    case 'FLOAT32':
    case 'FLOAT64':
      if (typeof value !== 'number') fail()
      return
    case 'BOOLEAN':
      if (typeof value !== 'boolean') fail()
      return
    case 'STRING':
      if (typeof value !== 'string') fail()
      return
    case 'BYTES':
      if (!(value instanceof Uint8Array)) fail()
      return
    case 'ARRAY':
      if (!Array.isArray(value)) fail()
      for (let i = 0; i < (value as unknown[]).length; i++) {
        validateValue(schema.valueSchema!, (value as unknown[])[i], `${path}[${i}]`)
      }
      return
    case 'MAP': {
      const entries = mapEntries(value) ?? fail()
      for (const [k, v] of entries) {
        validateValue(schema.keySchema!, k, `${path} key`)
        validateValue(schema.valueSchema!, v, `${path}[${String(k)}]`)
      }
      return
    }
    case 'STRUCT': {
      const struct = value as { schema?: Schema; validate?: () => void }
      if (typeof struct.validate !== 'function' || !struct.schema) fail()
      if (!schemaEquals(struct.schema, schema)) {
        throw new DataError(`invalid ${path}: struct schemas do not match${named(schema)}`)
      }
      struct.validate!()
      return
    }
  }
}

function named(schema: Schema): string {
  return schema.name ? ` (${schema.name})` : ''
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `bytes[${value.length}]`
  if (typeof value === 'string') return `string "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`
  if (typeof value === 'object') return value?.constructor?.name ?? 'object'
  return `${typeof value} ${String(value)}`
}
