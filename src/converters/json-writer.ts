/**
 * JsonConverter's value writer: Kafka's `JsonConverter.convertToJson` producing the JSON text
 * directly, as Jackson's serializer would emit it (see json-converter.ts for the format), and, per
 * schema, a writer compiled for that schema (`writerFor`) that gives the same text faster.
 */
import { BigDecimal } from '../api/data/big-decimal.ts'
import {
  javaBigDecimalToString,
  javaClassOf,
  javaDoubleToString,
  javaFloatToString,
  quoteJson,
  toBase64,
} from '../api/data/java-text.ts'
import { DateType, Decimal, TimestampType, TimeType } from '../api/data/logical-types.ts'
import { isPlainObject, type Schema, schemaEquals } from '../api/data/schema.ts'
import { Struct } from '../api/data/struct.ts'
import { DataError } from '../api/errors.ts'
import {
  decimalScale,
  floatJson,
  int64Text,
  TWO_63,
  twosComplementBase64,
  writeTwosComplementBase64,
} from './json-numbers.ts'

/** Writes one value of a fixed schema as JSON text. */
export type Writer = (value: unknown) => string

/** Writes one value of a fixed schema as JSON, appending its UTF-8 bytes to `out`. */
type ByteWriter = (value: unknown, out: JsonBytes) => void

/**
 * A growing byte buffer the compiled writers append JSON to: ASCII pieces (numbers, field names,
 * plain strings) are stored byte by byte, anything else is encoded as UTF-8 by Node.
 */
class JsonBytes {
  buffer = Buffer.allocUnsafe(1 << 14)
  pos = 0

  #room(n: number): void {
    if (this.pos + n <= this.buffer.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + n))
    this.buffer.copy(grown, 0, 0, this.pos)
    this.buffer = grown
  }

  byte(b: number): void {
    this.#room(1)
    this.buffer[this.pos++] = b
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length)
    const buffer = this.buffer
    const pos = this.pos
    if (b.length > 32) buffer.set(b, pos)
    else for (let i = 0; i < b.length; i++) buffer[pos + i] = b[i]
    this.pos = pos + b.length
  }

  /** Text known to be ASCII (JSON punctuation, numbers, base64). */
  ascii(s: string): void {
    this.#room(s.length)
    const buffer = this.buffer
    let pos = this.pos
    for (let i = 0; i < s.length; i++) buffer[pos++] = s.charCodeAt(i)
    this.pos = pos
  }

  /** Any text, as UTF-8. */
  text(s: string): void {
    this.#room(s.length * 3)
    this.pos += this.buffer.write(s, this.pos, 'utf8')
  }

  /** A Decimal's `twosComplementBase64`. */
  base64TwosComplement(unscaled: bigint): void {
    this.#room(12)
    const end = writeTwosComplementBase64(unscaled, this.buffer, this.pos)
    if (end < 0) this.ascii(twosComplementBase64(unscaled))
    else this.pos = end
  }

  /** A safe integer's digits (what `${n}` prints). */
  integer(n: number): void {
    if (n < 0) {
      this.byte(0x2d)
      n = -n
    }
    this.#room(16)
    if (n < 1e8) {
      this.pos = writeDigits(this.buffer, this.pos, n)
      return
    }
    // Above 10^8 (timestamps in ms and µs, LSNs) in two parts of int32 arithmetic, which is several times
    // faster than dividing a double by 10 per digit: ⌊n / 10^8⌋ (below 10^8 for a safe integer) and
    // the 8 digits below it. Both are exact for every safe integer.
    const high = Math.floor(n / 1e8)
    let low = n - high * 1e8
    const buffer = this.buffer
    const pos = writeDigits(buffer, this.pos, high) + 8
    for (let i = pos - 1; i >= pos - 8; i--) {
      const q = (low / 10) | 0
      buffer[i] = 0x30 + (low - q * 10)
      low = q
    }
    this.pos = pos
  }

  /**
   * `quoteJson(s)`: printable ASCII byte by byte (`"` and `\` escaped with a backslash, as Jackson
   * does); a string with control characters or non-ASCII goes through `quoteJson`.
   */
  jsonString(s: string): void {
    const start = this.pos
    this.#room(2 * s.length + 2)
    const buffer = this.buffer
    let pos = start
    buffer[pos++] = 0x22
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x20 || c >= 0x7f) {
        this.text(quoteJson(s))
        return
      }
      if (c === 0x22 || c === 0x5c) buffer[pos++] = 0x5c
      buffer[pos++] = c
    }
    buffer[pos++] = 0x22
    this.pos = pos
  }
}

/** The digits of `n` (an integer, 0 ≤ n < 10^8) written at `pos`; returns the position after them. */
function writeDigits(buffer: Buffer, pos: number, n: number): number {
  let digits = 1
  for (let p = 10; p <= n; p *= 10) digits++
  const end = pos + digits
  let i = end
  do {
    const q = (n / 10) | 0
    buffer[--i] = 0x30 + (n - q * 10)
    n = q
  } while (n > 0)
  return end
}

export interface JsonWriterOptions {
  /** `decimal.format=NUMERIC`: Decimals as JSON numbers instead of base64. */
  readonly decimalNumeric: boolean
  /** `replace.null.with.default`. */
  readonly replaceNullWithDefault: boolean
  /**
   * Confluent's `JsonSchemaData.fromConnectData` instead of Kafka's `convertToJson`: maps with keys
   * that are not required strings are arrays of `{"key":…,"value":…}` objects, a OneOf/union
   * struct is its one set member, and a null required struct field is left out. @default false
   */
  readonly jsonSchema?: boolean
}

const JSON_SCHEMA_ONE_OF = 'io.confluent.connect.json.OneOf'
const GENERALIZED_UNION = 'org.apache.kafka.connect.data.Union'

function isUnion(schema: Schema): boolean {
  return schema.name === JSON_SCHEMA_ONE_OF || schema.parameters?.[GENERALIZED_UNION] !== undefined
}

/** Connect data to JSON text for one converter configuration; caches a writer per schema. */
export class JsonWriter {
  readonly #decimalNumeric: boolean
  readonly #replaceNullWithDefault: boolean
  readonly #jsonSchema: boolean
  /** Per struct schema, each field's `"name":` prefix (with the separating comma after the first). */
  readonly #fieldPrefixes = new WeakMap<Schema, string[]>()
  /** Per schema, a writer specialised to it (see `writerFor`). */
  readonly #writers = new WeakMap<Schema, ByteWriter>()
  /** Where the specialised writers put their bytes; reused from record to record. */
  readonly #out = new JsonBytes()

  constructor(options: JsonWriterOptions) {
    this.#decimalNumeric = options.decimalNumeric
    this.#replaceNullWithDefault = options.replaceNullWithDefault
    this.#jsonSchema = options.jsonSchema ?? false
  }

  /** Kafka's `convertToJson`, producing JSON text directly. */
  toJson(schema: Schema | null, value: unknown): string {
    if (value == null) {
      if (!schema) return 'null'
      if (schema.defaultValue != null && this.#replaceNullWithDefault)
        return this.toJson(schema, schema.defaultValue)
      if (schema.optional || this.#jsonSchema) return 'null'
      throw new DataError('Conversion error: null value for field that is required and has no default value')
    }
    if (!schema) return this.#toJsonSchemaless(value)
    if (schema.name != null) {
      const logical = this.#logicalToJson(schema, schema.name, value)
      if (logical !== undefined) return logical
    }
    switch (schema.type) {
      case 'INT8':
        if (typeof value === 'number' && (value | 0) === value && value >= -128 && value <= 127)
          return `${value}`
        break
      case 'INT16':
        if (typeof value === 'number' && (value | 0) === value && value >= -32768 && value <= 32767)
          return `${value}`
        break
      case 'INT32':
        if (typeof value === 'number' && (value | 0) === value) return `${value}`
        break
      case 'INT64': {
        const text = int64Text(value)
        if (text !== undefined) return text
        break
      }
      case 'FLOAT32':
        if (typeof value === 'number') return floatJson(javaFloatToString(value))
        break
      case 'FLOAT64':
        if (typeof value === 'number') return floatJson(javaDoubleToString(value))
        break
      case 'BOOLEAN':
        if (typeof value === 'boolean') return value ? 'true' : 'false'
        break
      case 'STRING':
        if (typeof value === 'string') return quoteJson(value)
        break
      case 'BYTES':
        if (value instanceof Uint8Array) return `"${toBase64(value)}"`
        throw new DataError(`Invalid type for bytes type: ${javaClassOf(value)}`)
      case 'ARRAY': {
        if (!Array.isArray(value)) break
        const elementSchema = schema.valueSchema ?? null
        let json = '['
        for (let i = 0; i < value.length; i++)
          json += (i === 0 ? '' : ',') + this.toJson(elementSchema, value[i])
        return `${json}]`
      }
      case 'MAP':
        if (value instanceof Map || isPlainObject(value)) {
          return this.#mapToJson(
            schema.keySchema ?? null,
            schema.valueSchema ?? null,
            value,
            schema.keySchema?.type === 'STRING' && !(this.#jsonSchema && schema.keySchema.optional),
          )
        }
        break
      case 'STRUCT': {
        if (!(value instanceof Struct)) break
        if (value.schema !== schema && !schemaEquals(value.schema, schema))
          throw new DataError('Mismatching schema.')
        if (this.#jsonSchema) return this.#structToJsonSchemaData(schema, value)
        const prefixes = this.#prefixesOf(schema)
        let json = '{'
        const fields = schema.fields
        for (let i = 0; i < fields.length; i++) {
          json += prefixes[i] + this.toJson(fields[i].schema, value.getWithoutDefault(fields[i]))
        }
        return `${json}}`
      }
    }
    throw new DataError(`Invalid type for ${schema.type}: ${javaClassOf(value)}`)
  }

  /**
   * `toJson` specialised to one schema: the schema's dispatch (type, logical name, field prefixes,
   * null handling) is decided once, so a record costs only its values. Any value the fast path does
   * not expect goes to `toJson`, which gives the same output or Kafka's error, so both paths agree.
   */
  writerFor(schema: Schema): Writer {
    const write = this.#compiled(schema)
    const out = this.#out
    return (value) => {
      out.pos = 0
      write(value, out)
      return out.buffer.toString('utf8', 0, out.pos)
    }
  }

  /**
   * `writerFor`'s JSON as UTF-8 bytes, written straight into one reused buffer (no intermediate
   * strings), after the bytes `before` and followed by the byte `after`; a fresh copy is returned.
   */
  bytesFor(schema: Schema, value: unknown, before?: Uint8Array, after?: number): Buffer {
    const out = this.#out
    out.pos = 0
    if (before !== undefined) out.bytes(before)
    this.#compiled(schema)(value, out)
    if (after !== undefined) out.byte(after)
    const bytes = Buffer.allocUnsafe(out.pos)
    out.buffer.copy(bytes, 0, 0, out.pos)
    return bytes
  }

  #compiled(schema: Schema): ByteWriter {
    let writer = this.#writers.get(schema)
    if (writer === undefined) {
      writer = this.#compile(schema)
      this.#writers.set(schema, writer)
    }
    return writer
  }

  #compile(schema: Schema): ByteWriter {
    const { nonNull, nullable, slow } = this.#compileParts(schema)
    return nullable
      ? (value, out) => (value == null ? out.ascii('null') : nonNull(value, out))
      : (value, out) => (value == null ? slow(value, out) : nonNull(value, out))
  }

  /** The writer of non-null values, and whether a null is written as `null` (else the slow path decides). */
  #compileParts(schema: Schema): { nonNull: ByteWriter; nullable: boolean; slow: ByteWriter } {
    const slow: ByteWriter = (value, out) => out.text(this.toJson(schema, value))
    const nullable = schema.optional && (schema.defaultValue == null || !this.#replaceNullWithDefault)
    return { nonNull: this.#compileNonNull(schema, slow), nullable, slow }
  }

  #compileNonNull(schema: Schema, slow: ByteWriter): ByteWriter {
    switch (schema.name) {
      case Decimal.LOGICAL_NAME: {
        const scale = decimalScale(schema)
        if (scale === undefined) return slow
        if (this.#decimalNumeric) return slow
        return (value, out) => {
          if (!(value instanceof BigDecimal) || value.scale !== scale) return slow(value, out)
          out.byte(0x22)
          out.base64TwosComplement(value.unscaled)
          out.byte(0x22)
        }
      }
      case TimestampType.LOGICAL_NAME:
        return (value, out) => {
          const ms = value instanceof Date ? value.getTime() : Number.NaN
          if (Number.isNaN(ms)) slow(value, out)
          else out.integer(ms)
        }
      case DateType.LOGICAL_NAME:
      case TimeType.LOGICAL_NAME:
        return slow
    }
    switch (schema.type) {
      case 'INT32':
        return (value, out) =>
          typeof value === 'number' && (value | 0) === value ? out.integer(value) : slow(value, out)
      case 'INT64': {
        // A bigint's text is remembered: a field often repeats its value from one record to the next.
        let last: bigint | undefined
        let lastText = ''
        return (value, out) => {
          if (typeof value === 'number' && Number.isSafeInteger(value)) return out.integer(value)
          if (value !== last || typeof value !== 'bigint') {
            const text = int64Text(value)
            if (text === undefined) return slow(value, out)
            if (typeof value === 'bigint') {
              last = value
              lastText = text
            }
            return out.ascii(text)
          }
          out.ascii(lastText)
        }
      }
      case 'BOOLEAN':
        return (value, out) =>
          value === true ? out.ascii('true') : value === false ? out.ascii('false') : slow(value, out)
      case 'STRING':
        return (value, out) => (typeof value === 'string' ? out.jsonString(value) : slow(value, out))
      case 'STRUCT': {
        if (this.#jsonSchema && isUnion(schema)) return slow
        const prefixes = this.#prefixesOf(schema).map((p) => Buffer.from(p, 'utf8'))
        // Fresh writers per field (not the shared per-schema ones), so each keeps its own last value.
        // A member's null is decided here, so a non-null member costs one writer call.
        const parts = schema.fields.map((f) => this.#compileParts(f.schema))
        const writers = parts.map((p) => p.nonNull)
        const nullables = parts.map((p) => p.nullable)
        const slows = parts.map((p) => p.slow)
        // JsonSchemaData leaves out a null required field: such records take the slow path.
        const omitsNull = schema.fields.map(
          (f) =>
            this.#jsonSchema &&
            !f.schema.optional &&
            (f.schema.defaultValue == null || !this.#replaceNullWithDefault),
        )
        return (value, out) => {
          if (!(value instanceof Struct) || value.schema !== schema) return slow(value, out)
          const start = out.pos
          out.byte(0x7b)
          for (let i = 0; i < writers.length; i++) {
            const member = value.valueAt(i)
            out.bytes(prefixes[i])
            if (member != null) writers[i](member, out)
            else if (omitsNull[i]) {
              out.pos = start
              return slow(value, out)
            } else if (nullables[i]) out.ascii('null')
            else slows[i](member, out)
          }
          out.byte(0x7d)
        }
      }
      default:
        return slow
    }
  }

  /** A struct as Confluent's JsonSchemaData writes it: a union's set member, or an object without null required fields. */
  #structToJsonSchemaData(schema: Schema, value: Struct): string {
    const fields = schema.fields
    if (isUnion(schema)) {
      for (const field of fields) {
        const member = value.getWithoutDefault(field)
        if (member != null) return this.toJson(field.schema, member)
      }
      return this.toJson(schema, null)
    }
    let json = ''
    for (const field of fields) {
      const member = value.getWithoutDefault(field)
      const s = field.schema
      if (member == null && !s.optional && (s.defaultValue == null || !this.#replaceNullWithDefault)) continue
      json += `${json === '' ? '' : ','}${quoteJson(field.name)}:${this.toJson(s, member)}`
    }
    return `{${json}}`
  }

  #prefixesOf(schema: Schema): string[] {
    let prefixes = this.#fieldPrefixes.get(schema)
    if (!prefixes) {
      prefixes = schema.fields.map((f, i) => `${i === 0 ? '' : ','}${quoteJson(f.name)}:`)
      this.#fieldPrefixes.set(schema, prefixes)
    }
    return prefixes
  }

  #logicalToJson(schema: Schema, name: string, value: unknown): string | undefined {
    switch (name) {
      case Decimal.LOGICAL_NAME:
        if (!(value instanceof BigDecimal)) {
          throw new DataError(`Invalid type for Decimal, expected BigDecimal but was ${javaClassOf(value)}`)
        }
        return this.#decimalNumeric
          ? javaBigDecimalToString(value)
          : `"${toBase64(Decimal.fromLogical(schema, value))}"`
      case DateType.LOGICAL_NAME:
        return `${DateType.fromLogical(schema, validDate(value, 'Date'))}`
      case TimeType.LOGICAL_NAME:
        return `${TimeType.fromLogical(schema, validDate(value, 'Time'))}`
      case TimestampType.LOGICAL_NAME:
        return `${TimestampType.fromLogical(schema, validDate(value, 'Timestamp'))}`
      default:
        return undefined
    }
  }

  #mapToJson(
    keySchema: Schema | null,
    valueSchema: Schema | null,
    map: Map<unknown, unknown> | Record<string, unknown>,
    objectMode: boolean,
  ): string {
    let json = ''
    if (map instanceof Map) {
      for (const [k, v] of map)
        json += (json === '' ? '' : ',') + this.#entryToJson(keySchema, valueSchema, k, v, objectMode)
    } else {
      for (const k in map)
        json += (json === '' ? '' : ',') + this.#entryToJson(keySchema, valueSchema, k, map[k], objectMode)
    }
    return objectMode ? `{${json}}` : `[${json}]`
  }

  #entryToJson(
    keySchema: Schema | null,
    valueSchema: Schema | null,
    key: unknown,
    value: unknown,
    objectMode: boolean,
  ): string {
    const keyJson = this.toJson(keySchema, key)
    const valueJson = this.toJson(valueSchema, value)
    if (!objectMode)
      return this.#jsonSchema ? `{"key":${keyJson},"value":${valueJson}}` : `[${keyJson},${valueJson}]`
    // An object member's name is the key node's text (`JsonNode.asText()`).
    return `${keyJson.charCodeAt(0) === 0x22 ? keyJson : quoteJson(keyJson)}:${valueJson}`
  }

  #toJsonSchemaless(value: unknown): string {
    switch (typeof value) {
      case 'string':
        return quoteJson(value)
      case 'boolean':
        return value ? 'true' : 'false'
      case 'number':
        if (Number.isInteger(value) && Math.abs(value) < TWO_63) return int64Text(value)!
        return floatJson(javaDoubleToString(value))
      case 'bigint': {
        const text = int64Text(value)
        if (text !== undefined) return text
        break
      }
      case 'object':
        if (value instanceof Uint8Array) return `"${toBase64(value)}"`
        if (Array.isArray(value)) {
          let json = '['
          for (let i = 0; i < value.length; i++) json += (i === 0 ? '' : ',') + this.toJson(null, value[i])
          return `${json}]`
        }
        if (value instanceof Map) {
          let objectMode = true
          for (const k of value.keys()) {
            if (typeof k !== 'string') {
              objectMode = false
              break
            }
          }
          return this.#mapToJson(null, null, value, objectMode)
        }
        if (isPlainObject(value)) return this.#mapToJson(null, null, value, true)
        if (value instanceof Struct) throw new DataError('Mismatching schema.')
        break
    }
    const javaClass = typeof value === 'bigint' ? 'class java.math.BigInteger' : javaClassOf(value)
    throw new DataError(`Java class ${javaClass} does not have corresponding schema type.`)
  }
}

function validDate(value: unknown, type: string): Date {
  if (!(value instanceof Date))
    throw new DataError(`Invalid type for ${type}, expected Date but was ${javaClassOf(value)}`)
  if (Number.isNaN(value.getTime())) throw new DataError(`Invalid value for ${type}: an invalid Date`)
  return value
}
