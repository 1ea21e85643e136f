/**
 * The string forms of Connect values that Kafka's `org.apache.kafka.connect.data.Values` writes
 * (`convertToString`) and reads back with type inference (`parseString`), as
 * `SimpleHeaderConverter` uses them for header values.
 *
 * Reading follows Values' own tokenizer (delimiters `: , { } [ ] "`, backslash escapes a
 * delimiter) and its rules: `true`/`false` are BOOLEAN and `null` is null only when they are the
 * whole (trimmed) text; integers take the smallest of INT8/INT16/INT32/INT64 that fits (`1.0` is
 * INT8), other numbers are FLOAT32 when the float is finite (and FLOAT64, then Decimal, beyond);
 * `[…]` and `{…}` are arrays and maps whose element/key/value schema is the common one of the
 * entries (none when they disagree); `yyyy-MM-dd`, `HH:mm:ss.SSS'Z'` and
 * `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` are Date, Time and Timestamp; anything that does not parse is
 * the original STRING. Maps are returned as `Map`s (their keys need not be strings).
 *
 * Left out or simplified:
 * - Dates and times are formatted and parsed in UTC with the proleptic Gregorian calendar; Kafka
 *   uses the JVM's default time zone (UTC on most Connect deployments) and the Julian calendar
 *   before 1582. Parsing is lenient like SimpleDateFormat's (fields roll over: month 13 is January
 *   of the next year) but accepts only ASCII digits, without signs.
 * - Values' `convertTo*` family (besides what aligning list and map entries needs) and
 *   `inferSchema` are not here.
 * - A whole `double` written without a FLOAT64 schema prints as an integer (`1`, not `1.0`): a
 *   JavaScript number does not say whether it was a double.
 */

import { DataError } from '../errors.ts'
import { BigDecimal } from './big-decimal.ts'
import {
  javaBigDecimalToString,
  javaClassOf,
  javaDoubleToString,
  javaFloatToString,
  toBase64,
} from './java-text.ts'
import { DateType, Decimal, TimestampType, TimeType } from './logical-types.ts'
import { isPlainObject, type Schema, Schemas, type SchemaType, schemaEquals } from './schema.ts'
import type { SchemaAndValue } from './schema-and-value.ts'
import { SchemaBuilder } from './schema-builder.ts'
import { Struct } from './struct.ts'

const MS_PER_DAY = 86_400_000

// ---------------------------------------------------------------------------------------------
// Writing

/** `Values.convertToString`: the text SimpleHeaderConverter writes; `null` for a null value. */
export function convertToString(schema: Schema | null, value: unknown): string | null {
  if (value == null) return null
  return append(schema, value, false)
}

function append(schema: Schema | null | undefined, value: unknown, embedded: boolean): string {
  if (value == null) return 'null'
  switch (typeof value) {
    case 'string':
      return embedded ? `"${escapeEmbedded(value)}"` : value
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return value.toString()
    case 'number':
      if (schema?.type === 'FLOAT32') return javaFloatToString(value)
      if (schema?.type === 'FLOAT64' || !Number.isInteger(value)) return javaDoubleToString(value)
      return Number.isSafeInteger(value) ? `${value}` : BigInt(value).toString()
  }
  if (value instanceof Uint8Array) return embedded ? `"${toBase64(value)}"` : toBase64(value)
  if (value instanceof BigDecimal) return javaBigDecimalToString(value)
  if (value instanceof Date) return formatDate(value)
  if (Array.isArray(value)) return `[${value.map((e) => append(schema?.valueSchema, e, true)).join(',')}]`
  if (value instanceof Map || isPlainObject(value)) {
    const entries = value instanceof Map ? [...value.entries()] : Object.entries(value)
    const parts = entries.map(
      ([k, v]) => `${append(schema?.keySchema, k, true)}:${append(schema?.valueSchema, v, true)}`,
    )
    return `{${parts.join(',')}}`
  }
  if (value instanceof Struct) {
    const parts = value.schema.fields.map(
      (f) => `${append(null, f.name, true)}:${append(f.schema, value.get(f), true)}`,
    )
    return `{${parts.join(',')}}`
  }
  const className = javaClassOf(value).replace(/^class /, '')
  throw new DataError(`Failed to serialize unexpected value type ${className}: ${String(value)}`)
}

/** Values' escaping inside quotes: only backslash and double quote. */
export function escapeEmbedded(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** `Values.dateFormatFor`: a time before the end of 1970-01-01, a midnight date, else a timestamp. */
function formatDate(date: Date): string {
  const ms = date.getTime()
  const time = `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}.${pad(date.getUTCMilliseconds(), 3)}Z`
  if (ms < MS_PER_DAY) return time
  const day = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`
  return ms % MS_PER_DAY === 0 ? day : `${day}T${time}`
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A schema whose element, key or value schema is absent: Java's `arrayOfNull`, `mapOfNull`… */
function looseSchema(type: SchemaType, keySchema?: Schema, valueSchema?: Schema): Schema {
  return Object.freeze({
    type,
    optional: false,
    defaultValue: undefined,
    name: undefined,
    version: undefined,
    doc: undefined,
    parameters: undefined,
    keySchema,
    valueSchema,
    fields: Object.freeze([]),
    field(name: string): never {
      throw new DataError(`cannot look up field '${name}' on a non-struct schema`)
    },
  })
}

/** Java's `String.trim()`: strips every character up to U+0020 from both ends. */
function javaTrim(s: string): string {
  let start = 0
  let end = s.length
  while (start < end && s.charCodeAt(start) <= 0x20) start++
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--
  return start === 0 && end === s.length ? s : s.slice(start, end)
}

function isBlank(s: string): boolean {
  return javaTrim(s) === ''
}

/** Values' `Parser`: splits text into tokens at unescaped delimiters, each delimiter its own token. */
class Tokenizer {
  readonly original: string
  #index = 0
  #nextToken: string | null = null
  #previousToken: string | null = null

  constructor(original: string) {
    this.original = original
  }

  position(): number {
    return this.#index
  }

  mark(): number {
    return this.#index - (this.#nextToken?.length ?? 0)
  }

  rewindTo(position: number): void {
    this.#index = position
    this.#nextToken = null
    this.#previousToken = null
  }

  hasNext(): boolean {
    return this.#nextToken !== null || this.#index < this.original.length
  }

  next(): string {
    if (this.#nextToken !== null) {
      this.#previousToken = this.#nextToken
      this.#nextToken = null
    } else {
      this.#previousToken = this.#consume()
    }
    return this.#previousToken
  }

  /** The text of the next `n` tokens, or null (consuming nothing) when there are fewer. */
  nextN(n: number): string | null {
    const start = this.mark()
    for (let i = 0; i < n; i++) {
      if (!this.hasNext()) {
        this.rewindTo(start)
        return null
      }
      this.next()
    }
    return this.original.slice(start, this.position())
  }

  previous(): string | null {
    return this.#previousToken
  }

  canConsume(expected: string): boolean {
    if (this.#nextToken === null) {
      if (!this.hasNext()) return false
      this.#nextToken = this.#consume()
    }
    while (isBlank(this.#nextToken) && this.#index < this.original.length) this.#nextToken = this.#consume()
    if (javaTrim(this.#nextToken) === expected) {
      this.#nextToken = null
      return true
    }
    return false
  }

  #consume(): string {
    const s = this.original
    const start = this.#index
    let escaped = false
    while (this.#index < s.length) {
      switch (s.charCodeAt(this.#index)) {
        case 0x5c: // \
          escaped = !escaped
          break
        case 0x3a: // :
        case 0x2c: // ,
        case 0x7b: // {
        case 0x7d: // }
        case 0x5b: // [
        case 0x5d: // ]
        case 0x22: // "
          if (!escaped) {
            if (start < this.#index) return s.slice(start, this.#index)
            this.#index++
            return s.slice(start, start + 1)
          }
          escaped = false
          break
        default:
          escaped = false
      }
      this.#index++
    }
    return s.slice(start, this.#index)
  }
}

const TRUE: SchemaAndValue = Object.freeze({ schema: Schemas.BOOLEAN, value: true })
const FALSE: SchemaAndValue = Object.freeze({ schema: Schemas.BOOLEAN, value: false })

/**
 * `Values.parseString`: the schema and value a string stands for. `null` for the literal `null`
 * (as Kafka returns no SchemaAndValue at all then).
 */
export function parseString(value: string): SchemaAndValue | null {
  if (value === '') return { schema: Schemas.STRING, value }
  return new ValueParser(new Tokenizer(value)).parse(false)
}

class ValueParser {
  readonly #p: Tokenizer

  constructor(parser: Tokenizer) {
    this.#p = parser
  }

  parse(embedded: boolean): SchemaAndValue | null {
    const p = this.#p
    if (!p.hasNext()) return null
    if (embedded && p.canConsume('"')) return this.#quotedString()
    if (this.#singleTokenLiteral(embedded, 'null')) return null
    if (this.#singleTokenLiteral(embedded, 'true')) return TRUE
    if (this.#singleTokenLiteral(embedded, 'false')) return FALSE
    const start = p.mark()
    try {
      if (p.canConsume('[')) return this.#array()
      if (p.canConsume('{')) return this.#map()
    } catch (error) {
      if (!(error instanceof DataError)) throw error
      p.rewindTo(start)
    }
    const token = p.next()
    if (isBlank(token)) return { schema: Schemas.STRING, value: token }
    return this.#nextToken(embedded, javaTrim(token))
  }

  #singleTokenLiteral(embedded: boolean, literal: string): boolean {
    const p = this.#p
    const start = p.mark()
    if (p.canConsume(literal) && (embedded || !p.hasNext())) return true
    p.rewindTo(start)
    return false
  }

  #nextToken(embedded: boolean, token: string): SchemaAndValue {
    const first = token.charCodeAt(0)
    const isDigit = first >= 0x30 && first <= 0x39
    if (isDigit) {
      const temporal = this.#multipleTokensAsTemporal(token)
      if (temporal) return temporal
    }
    if (isDigit || first === 0x2b || first === 0x2d) {
      const number = parseAsNumber(token)
      if (number) return number
    }
    if (embedded) throw new DataError('Failed to parse embedded value')
    return { schema: Schemas.STRING, value: this.#p.original }
  }

  #quotedString(): SchemaAndValue {
    const p = this.#p
    let content = ''
    while (p.hasNext()) {
      if (p.canConsume('"')) break
      content += p.next()
    }
    return parseAsTemporal(content) ?? { schema: Schemas.STRING, value: content }
  }

  #multipleTokensAsTemporal(token: string): SchemaAndValue | null {
    const p = this.#p
    const position = p.mark()
    const remainder = p.nextN(4)
    if (remainder !== null) {
      const temporal = parseAsTemporal(token + remainder)
      if (temporal) return temporal
    }
    p.rewindTo(position)
    return parseAsTemporal(token)
  }

  #array(): SchemaAndValue {
    const p = this.#p
    let result: unknown[] = []
    const elementSchema = new SchemaMerger()
    while (p.hasNext()) {
      if (p.canConsume(']')) {
        if (elementSchema.common) {
          const listSchema = SchemaBuilder.array(elementSchema.common).build()
          result = result.map((v) => convertTo(elementSchema.common!, v))
          return { schema: listSchema, value: result }
        }
        return { schema: looseSchema('ARRAY'), value: result }
      }
      if (p.canConsume(',')) throw new DataError(`Unable to parse an empty array element: ${p.original}`)
      const element = this.parse(true)
      elementSchema.merge(element)
      result.push(element ? element.value : null)
      const position = p.mark()
      if (p.canConsume(']')) p.rewindTo(position)
      else if (!p.canConsume(',')) throw new DataError("Array elements missing ',' delimiter")
    }
    if (p.previous() === ',') throw new DataError(`Array is missing element after ',': ${p.original}`)
    throw new DataError(`Array is missing terminating ']': ${p.original}`)
  }

  #map(): SchemaAndValue {
    const p = this.#p
    const result = new Map<unknown, unknown>()
    const keySchema = new SchemaMerger()
    const valueSchema = new SchemaMerger()
    while (p.hasNext()) {
      if (p.canConsume('}')) {
        const k = keySchema.common
        const v = valueSchema.common
        if (k && v) {
          const aligned = new Map<unknown, unknown>()
          for (const [key, value] of result) aligned.set(convertTo(k, key), convertTo(v, value))
          return { schema: SchemaBuilder.map(k, v).build(), value: aligned }
        }
        if (k) {
          const aligned = new Map<unknown, unknown>()
          for (const [key, value] of result) aligned.set(convertTo(k, key), value)
          return { schema: looseSchema('MAP', k), value: aligned }
        }
        return { schema: looseSchema('MAP'), value: result }
      }
      if (p.canConsume(','))
        throw new DataError(`Unable to parse a map entry with no key or value: ${p.original}`)
      const key = this.parse(true)
      if (key == null || key.value == null)
        throw new DataError(`Map entry may not have a null key: ${p.original}`)
      if (!p.canConsume(':'))
        throw new DataError(`Map entry is missing ':' at ${p.position()} in ${p.original}`)
      const value = this.parse(true)
      result.set(key.value, value ? value.value : null)
      p.canConsume(',')
      keySchema.merge(key)
      valueSchema.merge(value)
    }
    if (p.previous() === ',') throw new DataError(`Map is missing element after ',': ${p.original}`)
    throw new DataError(`Map is missing terminating '}': ${p.original}`)
  }
}

/** The common schema of a list's elements or a map's keys or values, as Values' `SchemaMerger`. */
class SchemaMerger {
  common: Schema | null = null
  #compatible = true

  merge(latest: SchemaAndValue | null): void {
    if (!latest?.schema || !this.#compatible) return
    if (this.common === null) {
      this.common = latest.schema
    } else {
      this.common = mergeSchemas(this.common, latest.schema)
      this.#compatible = this.common !== null
    }
  }
}

const NUMERIC_RANK: Partial<Record<SchemaType, number>> = {
  INT8: 1,
  INT16: 2,
  INT32: 3,
  INT64: 4,
  FLOAT32: 5,
  FLOAT64: 6,
}

/** Numeric types widen to the wider of the two; otherwise the types must agree. */
function mergeSchemas(previous: Schema, next: Schema): Schema | null {
  if (previous.type !== next.type) {
    const a = NUMERIC_RANK[previous.type]
    const b = NUMERIC_RANK[next.type]
    if (a === undefined || b === undefined) return null
    return b > a ? next : previous
  }
  if (previous.optional === next.optional) return previous.optional ? previous : next
  return schemaEquals(previous, next) ? previous : null
}

function parseAsNumber(token: string): SchemaAndValue | null {
  let decimal: BigDecimal
  try {
    decimal = BigDecimal.parse(token)
  } catch {
    return null
  }
  const exact = parseAsExactDecimal(decimal)
  if (exact) return exact
  const d = Number(decimal.toString())
  const f = Math.fround(d)
  if (Number.isFinite(f) && decimal.scale !== 0) return { schema: Schemas.FLOAT32, value: f }
  if (Number.isFinite(d) && decimal.scale !== 0) return { schema: Schemas.FLOAT64, value: d }
  return { schema: Decimal.schema(decimal.scale), value: decimal }
}

function parseAsExactDecimal(decimal: BigDecimal): SchemaAndValue | null {
  let integral: bigint
  if (decimal.scale <= 0) {
    if (decimal.unscaled !== 0n && -decimal.scale > 19) return null
    integral = decimal.unscaled * 10n ** BigInt(-decimal.scale)
  } else {
    const divisor = 10n ** BigInt(decimal.scale)
    if (decimal.unscaled % divisor !== 0n) return null
    integral = decimal.unscaled / divisor
  }
  if (integral < -(2n ** 63n) || integral > 2n ** 63n - 1n) return null
  const n = Number(integral)
  if (n >= -128 && n <= 127) return { schema: Schemas.INT8, value: n }
  if (n >= -32768 && n <= 32767) return { schema: Schemas.INT16, value: n }
  if (n >= -2147483648 && n <= 2147483647) return { schema: Schemas.INT32, value: n }
  return { schema: Schemas.INT64, value: Number.isSafeInteger(n) ? n : integral }
}

const TIME = /^(\d+):(\d+):(\d+)\.(\d+)Z/
const TIMESTAMP = /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z/
const DATE = /^(\d+)-(\d+)-(\d+)/

function utcDate(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date {
  const date = new Date(0)
  date.setUTCFullYear(y, mo - 1, d)
  date.setUTCHours(h, mi, s, ms)
  return date
}

function parseAsTemporal(text: string): SchemaAndValue | null {
  const token = text.replaceAll('\\:', ':')
  let m: RegExpExecArray | null
  switch (token.length) {
    case 13:
      m = TIME.exec(token)
      return m ? { schema: TimeType.schema(), value: utcDate(1970, 1, 1, +m[1], +m[2], +m[3], +m[4]) } : null
    case 24:
      m = TIMESTAMP.exec(token)
      return m
        ? { schema: TimestampType.schema(), value: utcDate(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6], +m[7]) }
        : null
    case 10:
      m = DATE.exec(token)
      return m ? { schema: DateType.schema(), value: utcDate(+m[1], +m[2], +m[3]) } : null
    default:
      return null
  }
}

// ---------------------------------------------------------------------------------------------
// Aligning entries with their common schema (the part of `Values.convertTo` parsing needs)

function asNumber(value: unknown, target: Schema): number | bigint {
  if (typeof value === 'number' || typeof value === 'bigint') return value
  if (value instanceof BigDecimal) return Number(value.toString())
  if (typeof value === 'string') {
    try {
      return Number(BigDecimal.parse(value).toString())
    } catch {
      // fall through to the error
    }
  }
  throw new DataError(`Unable to convert ${String(value)} (${javaClassOf(value)}) to ${target.type}`)
}

function asLong(value: unknown, target: Schema): number | bigint {
  const n = asNumber(value, target)
  return typeof n === 'bigint' ? n : Math.trunc(n)
}

function convertTo(schema: Schema, value: unknown): unknown {
  if (value == null) {
    if (schema.optional) return null
    throw new DataError('Unable to convert a null value to a schema that requires a value')
  }
  if (
    value instanceof Date &&
    (schema.name === DateType.LOGICAL_NAME || schema.name === TimeType.LOGICAL_NAME)
  ) {
    return value
  }
  if (value instanceof Date && schema.name === TimestampType.LOGICAL_NAME) return value
  switch (schema.type) {
    case 'INT8':
      return (Number(asLong(value, schema)) << 24) >> 24
    case 'INT16':
      return (Number(asLong(value, schema)) << 16) >> 16
    case 'INT32': {
      const n = Number(asLong(value, schema))
      if (schema.name === DateType.LOGICAL_NAME) return DateType.toLogical(schema, n)
      if (schema.name === TimeType.LOGICAL_NAME) return TimeType.toLogical(schema, n)
      return n | 0
    }
    case 'INT64': {
      const n = asLong(value, schema)
      if (schema.name === TimestampType.LOGICAL_NAME) return TimestampType.toLogical(schema, n)
      return n
    }
    case 'FLOAT32':
      return Math.fround(Number(asNumber(value, schema)))
    case 'FLOAT64':
      return Number(asNumber(value, schema))
    case 'BOOLEAN':
      if (typeof value === 'boolean') return value
      return asLong(value, schema) !== 0 && asLong(value, schema) !== 0n
    case 'STRING':
      return convertToString(null, value)
    case 'BYTES':
      if (schema.name === Decimal.LOGICAL_NAME) {
        if (value instanceof BigDecimal) return value
        if (value instanceof Uint8Array) return Decimal.toLogical(schema, value)
        if (typeof value === 'number') return BigDecimal.parse(javaDoubleToString(value))
      } else if (value instanceof Uint8Array) {
        return value
      }
      break
    case 'ARRAY':
      if (Array.isArray(value)) return value
      break
    case 'MAP':
      if (value instanceof Map || isPlainObject(value)) return value
      break
    case 'STRUCT':
      if (value instanceof Struct) return value
      break
  }
  throw new DataError(`Unable to convert ${String(value)} (${javaClassOf(value)}) to ${schema.type}`)
}
