/**
 * `org.apache.kafka.connect.json.JsonConverter`, byte for byte: the `{"schema":…,"payload":…}`
 * envelope (or bare JSON with `schemas.enable=false`), schemas as Kafka's `JsonSchema` writes them,
 * and every value encoded as Jackson writes it. See ../../../shared/reference/kafka-connect.md §5.
 *
 * Output, as Jackson's serializer emits it (no whitespace, members in insertion order):
 * - schema JSON: `type`, then `items` | `keys`,`values` | `fields`, then `optional` (always),
 *   `name`, `version`, `doc`, `parameters`, `default` (when set); a struct field is its schema
 *   with `"field":"<name>"` last;
 * - INT8…INT64 plain integers (a `bigint` or an integral `number`); FLOAT32 as `Float.toString`,
 *   FLOAT64 as `Double.toString` (`1.0`, `1.0E10`); NaN and ±Infinity as the strings `"NaN"`,
 *   `"Infinity"`, `"-Infinity"` (Jackson's QUOTE_NON_NUMERIC_NUMBERS);
 * - BYTES base64; maps with a STRING key schema (or, schemaless, only string keys) as objects,
 *   others as arrays of `[key,value]` pairs; Decimal as base64 of the two's-complement unscaled
 *   value, or a JSON number with `decimal.format=NUMERIC` (`BigDecimal.toString`, so `1E+2` can
 *   appear); Date, Time, Timestamp as integers.
 *
 * Input: Java's leniency is kept on purpose, so data a Java worker accepts is accepted here with
 * the same result: a payload of the wrong JSON kind reads as Jackson's `JsonNode` accessors read it
 * (a string for an INT32 schema gives 0, a number for a STRING schema gives null, a number for
 * BYTES gives null, an object for an ARRAY gives its values); integers narrower than the JSON
 * number keep their low bits (`(byte) 300` = 44); schemaless integers are INT64 (a `number`, or
 * a `bigint` beyond 2^53, wrapping beyond 64 bits as `longValue()` does) and other numbers FLOAT64.
 * Once a schema's text has come twice in a row, its envelopes are read by a reader compiled for that
 * schema (`#readFast`), which hands anything it does not expect to the general path: same results.
 *
 * Deviations from Java, and why:
 * - Reading `"NaN"`, `"Infinity"`, `"-Infinity"` for a FLOAT32/FLOAT64 schema gives those
 *   values (Java reads 0.0), so our own output of non-finite floats round-trips.
 * - Schemaless writes cannot tell a whole `double` from an integer in JavaScript: the number 1 is
 *   written `1` (Java writes a `Double` 1.0 as `1.0`). With a FLOAT32/FLOAT64 schema it is `1.0`.
 * - FLOAT32 from a JSON decimal rounds through a double (`Math.fround(Number(text))`), where
 *   Java rounds the exact decimal to float once; the two differ only for inputs on a float
 *   rounding boundary to within a double's precision.
 * - A lone UTF-16 surrogate in a string is written as a `\udXXX` escape (Jackson fails).
 * - The schema caches are keyed by object identity (writing) and by the schema's exact JSON text
 *   (reading), not by structural equality: an equal but distinct Schema object is a cache miss.
 * - Error messages that print a Java class name use the Java class a JS value stands for
 *   (`class java.lang.String`, `class [B`), so they read as Kafka's do.
 */
import { isUtf8 } from 'node:buffer'
import { type ConfigDef, ValidString } from '../api/config-def.ts'
import { BigDecimal } from '../api/data/big-decimal.ts'
import {
  fromBase64,
  javaBigDecimalToString,
  javaClassOf,
  javaDoubleToString,
  javaFloatToString,
  quoteJson,
  toBase64,
} from '../api/data/java-text.ts'
import {
  bigIntToBytes,
  bytesToBigInt,
  DateType,
  Decimal,
  TimestampType,
  TimeType,
} from '../api/data/logical-types.ts'
import { isPlainObject, type Schema, schemaEquals } from '../api/data/schema.ts'
import { NULL_SCHEMA_AND_VALUE, type SchemaAndValue } from '../api/data/schema-and-value.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { DataError } from '../api/errors.ts'
import { newConverterConfigDef, withConverterType } from './converter-config.ts'
import { DataHeaderConverter } from './data-header-converter.ts'
import {
  JsonDecimal,
  JsonReader,
  type JsonTree,
  MAX_DEPTH,
  readEnvelope,
  readJson,
  wrapToInt64,
} from './json-reader.ts'
import { LruCache } from './lru-cache.ts'

export const SCHEMAS_ENABLE_CONFIG = 'schemas.enable'
export const SCHEMAS_CACHE_SIZE_CONFIG = 'schemas.cache.size'
export const DECIMAL_FORMAT_CONFIG = 'decimal.format'
export const REPLACE_NULL_WITH_DEFAULT_CONFIG = 'replace.null.with.default'

/** `JsonConverterConfig`'s keys, defaults, groups and docs. */
export function jsonConverterConfigDef(): ConfigDef {
  return newConverterConfigDef()
    .define({
      name: SCHEMAS_ENABLE_CONFIG,
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'HIGH',
      documentation: 'Include schemas within each of the serialized values and keys.',
      group: 'Schemas',
      orderInGroup: 0,
      width: 'MEDIUM',
      displayName: 'Enable Schemas',
    })
    .define({
      name: SCHEMAS_CACHE_SIZE_CONFIG,
      type: 'INT',
      defaultValue: 1000,
      importance: 'HIGH',
      documentation: 'The maximum number of schemas that can be cached in this converter instance.',
      group: 'Schemas',
      orderInGroup: 1,
      width: 'MEDIUM',
      displayName: 'Schema Cache Size',
    })
    .define({
      name: DECIMAL_FORMAT_CONFIG,
      type: 'STRING',
      defaultValue: 'BASE64',
      validator: ValidString.inIgnoringCase('BASE64', 'NUMERIC'),
      importance: 'LOW',
      documentation:
        "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
      group: 'Serialization',
      orderInGroup: 0,
      width: 'MEDIUM',
      displayName: 'Decimal Format',
    })
    .define({
      name: REPLACE_NULL_WITH_DEFAULT_CONFIG,
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'LOW',
      documentation:
        'Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.',
      group: 'Serialization',
      orderInGroup: 1,
      width: 'MEDIUM',
      displayName: 'Replace null with default',
    })
}

const ENVELOPE_REQUIRED =
  'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields.' +
  ' If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.'

const TYPE_NAMES: Record<string, string> = {
  BOOLEAN: '{"type":"boolean"',
  INT8: '{"type":"int8"',
  INT16: '{"type":"int16"',
  INT32: '{"type":"int32"',
  INT64: '{"type":"int64"',
  FLOAT32: '{"type":"float"',
  FLOAT64: '{"type":"double"',
  BYTES: '{"type":"bytes"',
  STRING: '{"type":"string"',
}

/** Writes one value of a fixed schema as JSON text. */
type Writer = (value: unknown) => string

/**
 * Reads one value of a fixed schema from `r.text` at `r.pos`, whose first character (after
 * whitespace) is `c`, straight to Connect data; leaves `r.pos` after it. Throws `MISMATCH` (or any
 * error) for input it does not handle: the caller then reads the whole record the general way.
 */
type FieldReader = (r: JsonReader, c: number) => unknown

/** Thrown by a `FieldReader` for a structure it does not expect (member order, extra members…). */
const MISMATCH = new Error('JSON does not have the shape the schema-specialised reader expects')

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const TWO_63 = 2 ** 63

/** Integers wider than 15 digits, or a negative zero: what `JSON.parse` would get wrong. */
const NEEDS_EXACT_PARSE = /\d{16}|-0+(?:\.0*)?(?:[eE][+-]?\d+)?(?![\d.eE])/

export class JsonConverter extends DataHeaderConverter {
  #schemasEnabled = true
  #decimalNumeric = false
  #replaceNullWithDefault = true
  #fromConnectSchemaCache = new LruCache<Schema, string>(1000)
  #toConnectSchemaCache = new LruCache<string, Schema>(1000)
  #lastSchema: Schema | undefined
  #lastSchemaJson = ''
  /** The last schema read, and its JSON text: consecutive records usually share one. */
  #lastReadSchemaText: string | undefined
  #lastReadSchema: Schema | null = null
  /** Per struct schema, each field's `"name":` prefix (with the separating comma after the first). */
  readonly #fieldPrefixes = new WeakMap<Schema, string[]>()
  /** Per schema, a writer specialised to it (see `#writerFor`); rebuilt when `configure` runs. */
  #writers = new WeakMap<Schema, Writer>()
  /** Per schema, a reader specialised to it (see `#readFast`); rebuilt when `configure` runs. */
  #readers = new WeakMap<Schema, FieldReader>()
  /** The reader of `#lastReaderSchema`: `#lastReadSchema` once it has been read twice in a row. */
  #lastReader: FieldReader | undefined
  #lastReaderSchema: Schema | null = null
  /** `#lastReadSchemaText` as UTF-8, compared with each envelope's bytes. */
  #lastReaderSchemaBytes = Buffer.alloc(0)
  #specialisedReads = 0

  config(): ConfigDef {
    return jsonConverterConfigDef()
  }

  /**
   * As a key or value converter pass `isKey`; as a header converter (no `isKey`) the configs must
   * hold `converter.type=header`, as in Kafka.
   */
  configure(configs: Readonly<Record<string, string>>, isKey?: boolean): void {
    const parsed = jsonConverterConfigDef().parse(withConverterType(configs, isKey))
    this.#schemasEnabled = parsed[SCHEMAS_ENABLE_CONFIG] as boolean
    this.#decimalNumeric = (parsed[DECIMAL_FORMAT_CONFIG] as string).toUpperCase() === 'NUMERIC'
    this.#replaceNullWithDefault = parsed[REPLACE_NULL_WITH_DEFAULT_CONFIG] as boolean
    const cacheSize = parsed[SCHEMAS_CACHE_SIZE_CONFIG] as number
    this.#fromConnectSchemaCache = new LruCache(cacheSize)
    this.#toConnectSchemaCache = new LruCache(cacheSize)
    this.#lastSchema = undefined
    this.#lastReadSchemaText = undefined
    this.#writers = new WeakMap()
    this.#readers = new WeakMap()
    this.#lastReader = undefined
    this.#lastReaderSchema = null
  }

  /** Entries in the schema → JSON cache (Java's `sizeOfFromConnectSchemaCache`). */
  get fromConnectSchemaCacheSize(): number {
    return this.#fromConnectSchemaCache.size
  }

  /** Entries in the JSON → schema cache (Java's `sizeOfToConnectSchemaCache`). */
  get toConnectSchemaCacheSize(): number {
    return this.#toConnectSchemaCache.size
  }

  /** Records `toConnectData` read with a schema-specialised reader (see `#readFast`); for tests. */
  get specialisedReads(): number {
    return this.#specialisedReads
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Uint8Array | null {
    if (schema == null && value == null) return null
    const payload = schema ? this.#writerFor(schema)(value) : this.#toJson(null, value)
    const json = this.#schemasEnabled
      ? `{"schema":${schema ? this.asJsonSchema(schema) : 'null'},"payload":${payload}}`
      : payload
    return Buffer.from(json, 'utf8')
  }

  toConnectData(_topic: string, value: Uint8Array | null): SchemaAndValue {
    if (value == null) return NULL_SCHEMA_AND_VALUE
    const lastSchema = this.#lastReadSchema
    if (this.#schemasEnabled && lastSchema !== null && this.#lastReaderSchema === lastSchema) {
      const read = this.#readFast(asBuffer(value), this.#lastReaderSchemaBytes, this.#lastReader!)
      if (read !== MISMATCH) {
        this.#specialisedReads++
        return { schema: lastSchema, value: read }
      }
    }
    const text = decodeUtf8(value)
    if (!this.#schemasEnabled) return { schema: null, value: readSchemaless(text) }
    let envelope: ReturnType<typeof readEnvelope>
    try {
      envelope = readEnvelope(text, this.#lastReadSchemaText)
    } catch (error) {
      throw serializationError(error)
    }
    if (!envelope.isEnvelope) throw new DataError(ENVELOPE_REQUIRED)
    let schema: Schema | null = null
    if (envelope.schemaText === this.#lastReadSchemaText) {
      schema = this.#lastReadSchema
      // The schema repeats: from the next record on, read its envelopes with a specialised reader.
      if (schema !== null && this.#lastReaderSchema !== schema) {
        let reader = this.#readers.get(schema)
        if (reader === undefined) {
          reader = this.#compileReader(schema)
          this.#readers.set(schema, reader)
        }
        this.#lastReader = reader
        this.#lastReaderSchema = schema
        this.#lastReaderSchemaBytes = Buffer.from(this.#lastReadSchemaText!, 'utf8')
      }
    } else if (envelope.schemaText !== null) {
      schema = this.#asConnectSchemaText(envelope.schemaText)
      this.#lastReadSchemaText = envelope.schemaText
      this.#lastReadSchema = schema
    }
    return { schema, value: this.#toConnect(schema, envelope.payload) }
  }

  /**
   * Reads an envelope that starts `{"schema":` followed by exactly the bytes of the last schema text
   * (compared as bytes: the schema is neither decoded nor scanned), then `,"payload":<value>}`
   * (whitespace allowed from there on), with the reader specialised to that schema: only the rest is
   * checked as UTF-8 and decoded (the schema's bytes, equal to a text read before, are valid UTF-8 and
   * end with an ASCII '}', so the whole is valid exactly when the rest is), and no tree is built.
   * Returns `MISMATCH` for anything else — another schema, other members or member order, leading
   * whitespace, a value the reader does not expect, any error — and the caller then reads the record
   * the general way, which gives the same value or the right error. (Content after the envelope's
   * closing brace is ignored, as the general reader and Jackson ignore it.)
   */
  #readFast(bytes: Buffer, schemaBytes: Buffer, reader: FieldReader): unknown {
    const start = ENVELOPE_HEAD.length + schemaBytes.length
    if (bytes.length <= start) return MISMATCH
    for (let i = 0; i < ENVELOPE_HEAD.length; i++) if (bytes[i] !== ENVELOPE_HEAD[i]) return MISMATCH
    if (bytes.compare(schemaBytes, 0, schemaBytes.length, ENVELOPE_HEAD.length, start) !== 0) return MISMATCH
    const rest = bytes.subarray(start)
    if (!isUtf8(rest)) return MISMATCH
    const text = rest.toString('utf8')
    const r = new JsonReader(text, 'tree')
    try {
      r.depth = 1
      if (r.skipWs() !== 0x2c) return MISMATCH
      r.pos++
      r.skipWs()
      if (!text.startsWith('"payload"', r.pos)) return MISMATCH
      r.pos += 9
      if (r.skipWs() !== 0x3a) return MISMATCH
      r.pos++
      const value = reader(r, r.skipWs())
      return r.skipWs() === 0x7d ? value : MISMATCH
    } catch {
      return MISMATCH
    }
  }

  /**
   * `#toConnect` fused with the JSON reader for one schema: each value is read from the text straight
   * into Connect data. Tokens of the kind the schema expects take the fast way; any other token (null,
   * a number for a string…) is read as a tree and converted by `#toConnect`, exactly as the general
   * path converts it, so both paths agree. Struct members must come in the schema's field order,
   * each once, with no others; anything else throws `MISMATCH` (the whole record is then re-read).
   */
  #compileReader(schema: Schema): FieldReader {
    const slow: FieldReader = (r, c) => this.#toConnect(schema, r.value(c))
    switch (schema.name) {
      case Decimal.LOGICAL_NAME: {
        let scale: number
        try {
          scale = Decimal.scaleOf(schema)
        } catch {
          return slow
        }
        return (r, c) => (c === 0x22 ? new BigDecimal(base64ToBigInt(r.string()), scale) : slow(r, c))
      }
      case TimestampType.LOGICAL_NAME:
        return (r, c) => {
          const n = c === 0x2d || (c >= 0x30 && c <= 0x39) ? smallInteger(r) : Number.NaN
          return Number.isNaN(n) ? slow(r, c) : TimestampType.toLogical(schema, n)
        }
      case DateType.LOGICAL_NAME:
      case TimeType.LOGICAL_NAME:
        return slow
    }
    switch (schema.type) {
      case 'BOOLEAN':
        return (r, c) =>
          c === 0x74 ? r.literal('true', true) : c === 0x66 ? r.literal('false', false) : slow(r, c)
      case 'INT8':
      case 'INT16':
      case 'INT32':
      case 'INT64': {
        const shift = schema.type === 'INT8' ? 24 : schema.type === 'INT16' ? 16 : 0
        const wide = schema.type === 'INT64'
        return (r, c) => {
          const n = c === 0x2d || (c >= 0x30 && c <= 0x39) ? smallInteger(r) : Number.NaN
          if (Number.isNaN(n)) return slow(r, c)
          return wide ? n : ((n | 0) << shift) >> shift
        }
      }
      case 'FLOAT32':
      case 'FLOAT64': {
        const single = schema.type === 'FLOAT32'
        return (r, c) => {
          if (c !== 0x2d && (c < 0x30 || c > 0x39)) return slow(r, c)
          const n = doubleValue(r.value(c))
          return single ? Math.fround(n) : n
        }
      }
      case 'STRING':
        return (r, c) => (c === 0x22 ? r.string() : slow(r, c))
      case 'BYTES':
        return (r, c) => (c === 0x22 ? fromBase64(r.string()) : slow(r, c))
      case 'ARRAY': {
        if (!schema.valueSchema) return slow
        const element = this.#compileReader(schema.valueSchema)
        return (r, c) => {
          if (c !== 0x5b) return slow(r, c)
          if (++r.depth > MAX_DEPTH) throw MISMATCH
          r.pos++
          const result: unknown[] = []
          let d = r.skipWs()
          if (d !== 0x5d) {
            for (;;) {
              result.push(element(r, d))
              d = r.skipWs()
              if (d === 0x5d) break
              if (d !== 0x2c) throw MISMATCH
              r.pos++
              d = r.skipWs()
            }
          }
          r.pos++
          r.depth--
          return result
        }
      }
      case 'MAP': {
        if (schema.keySchema?.type !== 'STRING' || !schema.valueSchema) return slow
        const value = this.#compileReader(schema.valueSchema)
        return (r, c) => {
          if (c !== 0x7b) return slow(r, c)
          if (++r.depth > MAX_DEPTH) throw MISMATCH
          r.pos++
          const result: Record<string, unknown> = {}
          let d = r.skipWs()
          if (d !== 0x7d) {
            for (;;) {
              if (d !== 0x22) throw MISMATCH
              const key = r.string()
              if (r.skipWs() !== 0x3a) throw MISMATCH
              r.pos++
              setMember(result, key, value(r, r.skipWs()))
              d = r.skipWs()
              if (d === 0x7d) break
              if (d !== 0x2c) throw MISMATCH
              r.pos++
              d = r.skipWs()
            }
          }
          r.pos++
          r.depth--
          return result
        }
      }
      case 'STRUCT': {
        const fields = schema.fields
        const keys = fields.map((f) => JSON.stringify(f.name))
        // Each member as Jackson writes it, `,"name":` (no comma for the first): one comparison.
        const compact = keys.map((key, i) => `${i === 0 ? '' : ','}${key}:`)
        const readers = fields.map((f) => this.#compileReader(f.schema))
        return (r, c) => {
          if (c !== 0x7b) return slow(r, c)
          if (++r.depth > MAX_DEPTH) throw MISMATCH
          r.pos++
          const text = r.text
          const struct = new Struct(schema)
          for (let i = 0; i < fields.length; i++) {
            if (text.startsWith(compact[i], r.pos)) {
              r.pos += compact[i].length
            } else {
              // Whitespace between the tokens.
              if (i > 0) {
                if (r.skipWs() !== 0x2c) throw MISMATCH
                r.pos++
              }
              r.skipWs()
              const key = keys[i]
              if (!text.startsWith(key, r.pos)) throw MISMATCH
              r.pos += key.length
              if (r.skipWs() !== 0x3a) throw MISMATCH
              r.pos++
            }
            struct.put(fields[i], readers[i](r, r.skipWs()))
          }
          if (r.skipWs() !== 0x7d) throw MISMATCH
          r.pos++
          r.depth--
          return struct
        }
      }
      default:
        return slow
    }
  }

  /** The schema's JSON text, as Kafka's `asJsonSchema` would serialize it; cached. */
  asJsonSchema(schema: Schema): string {
    if (schema === this.#lastSchema) return this.#lastSchemaJson
    let json = this.#fromConnectSchemaCache.get(schema)
    if (json === undefined) {
      json = this.#buildJsonSchema(schema)
      this.#fromConnectSchemaCache.set(schema, json)
    }
    this.#lastSchema = schema
    this.#lastSchemaJson = json
    return json
  }

  /** A Connect schema from its JSON text (Kafka's `asConnectSchema`); `null` for JSON null. Cached. */
  asConnectSchema(jsonText: string): Schema | null {
    try {
      return this.#asConnectSchemaText(jsonText)
    } catch (error) {
      if (error instanceof DataError) throw error
      throw serializationError(error)
    }
  }

  #asConnectSchemaText(text: string): Schema | null {
    const cached = this.#toConnectSchemaCache.get(text)
    if (cached !== undefined) return cached
    const schema = this.#buildSchema(readJson(text, 'tree') ?? null)
    if (schema) this.#toConnectSchemaCache.set(text, schema)
    return schema
  }

  #buildJsonSchema(schema: Schema): string {
    let json: string
    switch (schema.type) {
      case 'ARRAY':
        json = `{"type":"array","items":${schema.valueSchema ? this.asJsonSchema(schema.valueSchema) : 'null'}`
        break
      case 'MAP':
        json =
          `{"type":"map","keys":${schema.keySchema ? this.asJsonSchema(schema.keySchema) : 'null'}` +
          `,"values":${schema.valueSchema ? this.asJsonSchema(schema.valueSchema) : 'null'}`
        break
      case 'STRUCT': {
        json = '{"type":"struct","fields":['
        for (let i = 0; i < schema.fields.length; i++) {
          const field = schema.fields[i]
          const fieldJson = this.asJsonSchema(field.schema)
          json += `${i === 0 ? '' : ','}${fieldJson.slice(0, -1)},"field":${quoteJson(field.name)}}`
        }
        json += ']'
        break
      }
      default: {
        const head = TYPE_NAMES[schema.type]
        if (head === undefined)
          throw new DataError(`Couldn't translate unsupported schema type ${schema.type}.`)
        json = head
      }
    }
    json += schema.optional ? ',"optional":true' : ',"optional":false'
    if (schema.name != null) json += `,"name":${quoteJson(schema.name)}`
    if (schema.version != null) json += `,"version":${schema.version}`
    if (schema.doc != null) json += `,"doc":${quoteJson(schema.doc)}`
    if (schema.parameters != null) {
      let params = ''
      for (const key in schema.parameters) {
        params += `${params === '' ? '' : ','}${quoteJson(key)}:${quoteJson(schema.parameters[key])}`
      }
      json += `,"parameters":{${params}}`
    }
    if (schema.defaultValue != null) json += `,"default":${this.#toJson(schema, schema.defaultValue)}`
    return `${json}}`
  }

  /** Kafka's `convertToJson`, producing JSON text directly. */
  #toJson(schema: Schema | null, value: unknown): string {
    if (value == null) {
      if (!schema) return 'null'
      if (schema.defaultValue != null && this.#replaceNullWithDefault)
        return this.#toJson(schema, schema.defaultValue)
      if (schema.optional) return 'null'
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
          json += (i === 0 ? '' : ',') + this.#toJson(elementSchema, value[i])
        return `${json}]`
      }
      case 'MAP':
        if (value instanceof Map || isPlainObject(value)) {
          return this.#mapToJson(
            schema.keySchema ?? null,
            schema.valueSchema ?? null,
            value,
            schema.keySchema?.type === 'STRING',
          )
        }
        break
      case 'STRUCT': {
        if (!(value instanceof Struct)) break
        if (value.schema !== schema && !schemaEquals(value.schema, schema))
          throw new DataError('Mismatching schema.')
        const prefixes = this.#prefixesOf(schema)
        let json = '{'
        const fields = schema.fields
        for (let i = 0; i < fields.length; i++) {
          json += prefixes[i] + this.#toJson(fields[i].schema, value.getWithoutDefault(fields[i]))
        }
        return `${json}}`
      }
    }
    throw new DataError(`Invalid type for ${schema.type}: ${javaClassOf(value)}`)
  }

  /**
   * `#toJson` specialised to one schema: the schema's dispatch (type, logical name, field prefixes,
   * null handling) is decided once, so a record costs only its values. Any value the fast path does
   * not expect goes to `#toJson`, which gives the same output or Kafka's error, so both paths agree.
   */
  #writerFor(schema: Schema): Writer {
    let writer = this.#writers.get(schema)
    if (writer === undefined) {
      writer = this.#compile(schema)
      this.#writers.set(schema, writer)
    }
    return writer
  }

  #compile(schema: Schema): Writer {
    const slow: Writer = (value) => this.#toJson(schema, value)
    const nonNull = this.#compileNonNull(schema, slow)
    const nullable = schema.optional && (schema.defaultValue == null || !this.#replaceNullWithDefault)
    return nullable
      ? (value) => (value == null ? 'null' : nonNull(value))
      : (value) => (value == null ? slow(value) : nonNull(value))
  }

  #compileNonNull(schema: Schema, slow: Writer): Writer {
    switch (schema.name) {
      case Decimal.LOGICAL_NAME: {
        let scale: number
        try {
          scale = Decimal.scaleOf(schema)
        } catch {
          return slow
        }
        if (this.#decimalNumeric) return slow
        return (value) =>
          value instanceof BigDecimal && value.scale === scale
            ? `"${twosComplementBase64(value.unscaled)}"`
            : slow(value)
      }
      case TimestampType.LOGICAL_NAME:
        return (value) => {
          const ms = value instanceof Date ? value.getTime() : Number.NaN
          return Number.isNaN(ms) ? slow(value) : `${ms}`
        }
      case DateType.LOGICAL_NAME:
      case TimeType.LOGICAL_NAME:
        return slow
    }
    // Each writer remembers its last value's text: a field often repeats its value from one record
    // to the next (a table name, a commit's timestamp and LSN, a status), and turning a large number
    // into text costs more than the comparison.
    let last: unknown
    let lastText = ''
    switch (schema.type) {
      case 'INT32':
        return (value) => (typeof value === 'number' && (value | 0) === value ? `${value}` : slow(value))
      case 'INT64':
        return (value) => {
          if (value === last) return lastText
          let text: string | undefined
          if (typeof value === 'number') text = Number.isSafeInteger(value) ? integerText(value) : undefined
          else text = int64Text(value)
          if (text === undefined) return slow(value)
          last = value
          lastText = text
          return text
        }
      case 'BOOLEAN':
        return (value) => (value === true ? 'true' : value === false ? 'false' : slow(value))
      case 'STRING':
        return (value) => {
          if (value === last) return lastText
          if (typeof value !== 'string') return slow(value)
          last = value
          lastText = quoteJson(value)
          return lastText
        }
      case 'STRUCT': {
        const prefixes = this.#prefixesOf(schema)
        // Fresh writers per field (not the shared per-schema ones), so each keeps its own last value.
        const writers = schema.fields.map((f) => this.#compile(f.schema))
        return (value) => {
          if (!(value instanceof Struct) || value.schema !== schema) return slow(value)
          let json = '{'
          for (let i = 0; i < writers.length; i++) json += prefixes[i] + writers[i](value.valueAt(i))
          return `${json}}`
        }
      }
      default:
        return slow
    }
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
    const keyJson = this.#toJson(keySchema, key)
    const valueJson = this.#toJson(valueSchema, value)
    if (!objectMode) return `[${keyJson},${valueJson}]`
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
          for (let i = 0; i < value.length; i++) json += (i === 0 ? '' : ',') + this.#toJson(null, value[i])
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

  /** Kafka's `convertToConnect` over a JSON tree. */
  #toConnect(schema: Schema | null, node: JsonTree | undefined): unknown {
    if (!schema) return treeToSchemaless(node)
    if (node == null) {
      if (schema.defaultValue != null && this.#replaceNullWithDefault) return schema.defaultValue
      if (schema.optional) return null
      throw new DataError(`Invalid null value for required ${schema.type} field`)
    }
    if (schema.name != null) {
      const logical = logicalToConnect(schema, schema.name, node)
      if (logical !== undefined) return logical
    }
    switch (schema.type) {
      case 'BOOLEAN':
        return node === true
      case 'INT8':
        return (intValue(node) << 24) >> 24
      case 'INT16':
        return (intValue(node) << 16) >> 16
      case 'INT32':
        return intValue(node)
      case 'INT64':
        return longValue(node)
      case 'FLOAT32':
        return Math.fround(doubleValue(node))
      case 'FLOAT64':
        return doubleValue(node)
      case 'BYTES':
        if (typeof node !== 'string') return null
        try {
          return fromBase64(node)
        } catch (error) {
          throw new DataError('Invalid bytes field', { cause: error })
        }
      case 'STRING':
        return typeof node === 'string' ? node : null
      case 'ARRAY': {
        const elementSchema = schema.valueSchema ?? null
        const elements = Array.isArray(node) ? node : isObjectNode(node) ? Object.values(node) : []
        const result = new Array<unknown>(elements.length)
        for (let i = 0; i < elements.length; i++) result[i] = this.#toConnect(elementSchema, elements[i])
        return result
      }
      case 'MAP':
        return this.#mapToConnect(schema, node)
      case 'STRUCT': {
        if (!isObjectNode(node)) {
          throw new DataError(`Structs should be encoded as JSON objects, but found ${nodeType(node)}`)
        }
        const struct = new Struct(schema)
        for (const field of schema.fields) {
          const member = Object.hasOwn(node, field.name) ? node[field.name] : undefined
          struct.put(field, this.#toConnect(field.schema, member))
        }
        return struct
      }
    }
    throw new DataError(`Unknown schema type: ${schema.type}`)
  }

  #mapToConnect(schema: Schema, node: JsonTree): unknown {
    const keySchema = schema.keySchema ?? null
    const valueSchema = schema.valueSchema ?? null
    if (keySchema?.type === 'STRING') {
      if (!isObjectNode(node)) {
        throw new DataError(
          `Maps with string fields should be encoded as JSON objects, but found ${nodeType(node)}`,
        )
      }
      const result: Record<string, unknown> = {}
      for (const key in node) setMember(result, key, this.#toConnect(valueSchema, node[key]))
      return result
    }
    if (!Array.isArray(node)) {
      throw new DataError(
        `Maps with non-string fields should be encoded as JSON array of tuples, but found ${nodeType(node)}`,
      )
    }
    const result = new Map<unknown, unknown>()
    for (const entry of node) {
      if (!Array.isArray(entry))
        throw new DataError(`Found invalid map entry instead of array tuple: ${nodeType(entry)}`)
      if (entry.length !== 2)
        throw new DataError(`Found invalid map entry, expected length 2 but found :${entry.length}`)
      result.set(this.#toConnect(keySchema, entry[0]), this.#toConnect(valueSchema, entry[1]))
    }
    return result
  }

  #buildSchema(node: JsonTree): Schema | null {
    if (node === null) return null
    const obj = isObjectNode(node) ? node : undefined
    const type = obj?.type
    if (!obj || typeof type !== 'string') throw new DataError("Schema must contain 'type' field")
    let builder: SchemaBuilder
    switch (type) {
      case 'boolean':
        builder = SchemaBuilder.bool()
        break
      case 'int8':
        builder = SchemaBuilder.int8()
        break
      case 'int16':
        builder = SchemaBuilder.int16()
        break
      case 'int32':
        builder = SchemaBuilder.int32()
        break
      case 'int64':
        builder = SchemaBuilder.int64()
        break
      case 'float':
        builder = SchemaBuilder.float32()
        break
      case 'double':
        builder = SchemaBuilder.float64()
        break
      case 'bytes':
        builder = SchemaBuilder.bytes()
        break
      case 'string':
        builder = SchemaBuilder.string()
        break
      case 'array': {
        const items = obj.items
        if (items == null) throw new DataError('Array schema did not specify the element type')
        builder = SchemaBuilder.array(this.#buildSchema(items)!)
        break
      }
      case 'map': {
        if (obj.keys === undefined) throw new DataError('Map schema did not specify the key type')
        if (obj.values === undefined) throw new DataError('Map schema did not specify the value type')
        const keySchema = this.#buildSchema(obj.keys)
        const valueSchema = this.#buildSchema(obj.values)
        if (!keySchema) throw new DataError('keySchema cannot be null.')
        if (!valueSchema) throw new DataError('valueSchema cannot be null.')
        builder = SchemaBuilder.map(keySchema, valueSchema)
        break
      }
      case 'struct': {
        builder = SchemaBuilder.struct()
        const fields = obj.fields
        if (!Array.isArray(fields)) throw new DataError('Struct schema\'s "fields" argument is not an array.')
        for (const field of fields) {
          const name = isObjectNode(field) ? field.field : undefined
          if (typeof name !== 'string')
            throw new DataError("Struct schema's field name not specified properly")
          builder.field(name, this.#buildSchema(field)!)
        }
        break
      }
      default:
        throw new DataError(`Unknown schema type: ${type}`)
    }
    if (obj.optional === true) builder.optional()
    if (typeof obj.name === 'string') builder.name(obj.name)
    if (typeof obj.version === 'number' || typeof obj.version === 'bigint')
      builder.version(intValue(obj.version))
    if (typeof obj.doc === 'string') builder.doc(obj.doc)
    const params = obj.parameters
    if (params != null && isObjectNode(params)) {
      const parameters: Record<string, string> = {}
      for (const key in params) {
        const param = params[key]
        if (typeof param !== 'string') throw new DataError('Schema parameters must have string values.')
        parameters[key] = param
      }
      builder.parameters(parameters)
    }
    if (obj.default !== undefined) {
      const defaultValue = this.#toConnect(builder.build(), obj.default)
      if (defaultValue != null) builder.defaultValue(defaultValue)
    }
    return builder.build()
  }
}

function serializationError(cause: unknown): DataError {
  return new DataError('Converting byte[] to Kafka Connect data failed due to serialization error: ', {
    cause,
  })
}

/** `{"schema":` as UTF-8: how Kafka's (and our) JsonConverter starts every envelope. */
const ENVELOPE_HEAD = Buffer.from('{"schema":', 'utf8')

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function decodeUtf8(bytes: Uint8Array): string {
  const buffer = asBuffer(bytes)
  if (!isUtf8(buffer)) throw serializationError(new Error('Invalid UTF-8 in JSON input'))
  return buffer.toString('utf8')
}

/** Schemaless JSON straight to Connect values: `JSON.parse` when it is exact, our reader otherwise. */
function readSchemaless(text: string): unknown {
  // A lone JSON string holds no number: JSON.parse is exact, no need to scan it for big integers.
  if (text.charCodeAt(0) === 0x22) {
    try {
      return JSON.parse(text)
    } catch {
      // Trailing content and the like: the reader below decides as Jackson does.
    }
  }
  if (!NEEDS_EXACT_PARSE.test(text)) {
    try {
      return JSON.parse(text)
    } catch {
      // Jackson accepts more (leading zeros, trailing content, empty input): let the reader decide.
    }
  }
  try {
    return readJson(text, 'connect') ?? null
  } catch (error) {
    throw serializationError(error)
  }
}

/**
 * `bytesToBigInt(fromBase64(text))` (a Decimal's unscaled value: big-endian two's complement), without
 * the intermediate buffer for up to 8 base64 digits (6 bytes, exact in a double); longer or invalid
 * text goes through `fromBase64`, which also gives its error.
 */
function base64ToBigInt(text: string): bigint {
  const length = text.length
  if (length > 8 || length % 4 !== 0) return bytesToBigInt(fromBase64(text))
  let end = length
  // At most two '=' at the end (the length being a multiple of 4, what precedes them is whole).
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--
  let v = 0
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    const digit = c < 128 ? BASE64_VALUES[c] : -1
    if (digit < 0) return bytesToBigInt(fromBase64(text))
    v = v * 64 + digit
  }
  const bytes = Math.floor((end * 6) / 8)
  v = Math.floor(v / 2 ** (end * 6 - bytes * 8))
  if (bytes > 0 && v >= 2 ** (bytes * 8 - 1)) v -= 2 ** (bytes * 8)
  return BigInt(v)
}

/**
 * An integer of at most 15 digits (so exact as a double) at `r.pos`, with no fraction or exponent,
 * moving `r.pos` past it; NaN, with `r.pos` unchanged, for anything else. `-0` is 0, as the reader
 * gives it.
 */
function smallInteger(r: JsonReader): number {
  const t = r.text
  let p = r.pos
  const negative = t.charCodeAt(p) === 0x2d
  if (negative) p++
  const start = p
  let n = 0
  let c = t.charCodeAt(p)
  while (c >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30)
    c = t.charCodeAt(++p)
  }
  if (p === start || p - start > 15 || c === 0x2e || c === 0x65 || c === 0x45) return Number.NaN
  r.pos = p
  return negative && n !== 0 ? -n : n
}

function int64Text(value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return `${value}`
    if (Number.isInteger(value) && value >= -TWO_63 && value < TWO_63) return BigInt(value).toString()
    return undefined
  }
  if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return value.toString()
  return undefined
}

/**
 * `${n}` for a safe integer, about twice as fast for large ones (timestamps in µs, LSNs): V8 prints
 * numbers beyond the small-integer range with its general double-to-text algorithm.
 */
function integerText(n: number): string {
  if (n < 0x40000000 && n > -0x40000000) return `${n}`
  if (n < 0) return `-${integerText(-n)}`
  const high = Math.floor(n / 1e8)
  const low = `${n - high * 1e8}`
  return `${high}${'00000000'.slice(low.length)}${low}`
}

const BASE64_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const BASE64_VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < BASE64_DIGITS.length; i++) BASE64_VALUES[BASE64_DIGITS.charCodeAt(i)] = i
const SMALL_UNSCALED = 2n ** 52n
const twosComplementBytes: number[] = []

/**
 * Base64 of Java's `BigInteger.toByteArray()` (minimal big-endian two's complement) — a Decimal's
 * bytes — computed with doubles for the unscaled values most decimals have (|v| < 2^52).
 */
function twosComplementBase64(unscaled: bigint): string {
  if (unscaled >= SMALL_UNSCALED || unscaled <= -SMALL_UNSCALED) return toBase64(bigIntToBytes(unscaled))
  let n = Number(unscaled)
  const bytes = twosComplementBytes
  bytes.length = 0
  for (;;) {
    const byte = ((n % 256) + 256) % 256
    bytes.push(byte)
    n = Math.floor(n / 256)
    if ((n === 0 && byte < 0x80) || (n === -1 && byte >= 0x80)) break
  }
  let out = ''
  for (let i = bytes.length - 1; i >= 0; i -= 3) {
    const b0 = bytes[i]
    const b1 = i >= 1 ? bytes[i - 1] : 0
    const b2 = i >= 2 ? bytes[i - 2] : 0
    out += BASE64_DIGITS[b0 >> 2] + BASE64_DIGITS[((b0 & 3) << 4) | (b1 >> 4)]
    out += i >= 1 ? BASE64_DIGITS[((b1 & 15) << 2) | (b2 >> 6)] : '='
    out += i >= 2 ? BASE64_DIGITS[b2 & 63] : '='
  }
  return out
}

/** Jackson writes non-finite floating-point numbers as strings. */
function floatJson(text: string): string {
  const c = text.charCodeAt(text.length - 1)
  return c >= 0x30 && c <= 0x39 ? text : `"${text}"`
}

function validDate(value: unknown, type: string): Date {
  if (!(value instanceof Date))
    throw new DataError(`Invalid type for ${type}, expected Date but was ${javaClassOf(value)}`)
  if (Number.isNaN(value.getTime())) throw new DataError(`Invalid value for ${type}: an invalid Date`)
  return value
}

function logicalToConnect(schema: Schema, name: string, node: JsonTree): unknown {
  switch (name) {
    case Decimal.LOGICAL_NAME:
      if (typeof node === 'number' || typeof node === 'bigint') return new BigDecimal(BigInt(node), 0)
      if (node instanceof JsonDecimal) return BigDecimal.parse(node.text)
      if (typeof node === 'string') {
        try {
          return Decimal.toLogical(schema, fromBase64(node))
        } catch (error) {
          throw new DataError('Invalid bytes for Decimal field', { cause: error })
        }
      }
      throw new DataError(
        `Invalid type for Decimal, underlying representation should be numeric or bytes but was ${nodeType(node)}`,
      )
    case DateType.LOGICAL_NAME:
      if (!isInt(node)) {
        throw new DataError(
          `Invalid type for Date, underlying representation should be integer but was ${nodeType(node)}`,
        )
      }
      return DateType.toLogical(schema, node)
    case TimeType.LOGICAL_NAME:
      if (!isInt(node)) {
        throw new DataError(
          `Invalid type for Time, underlying representation should be integer but was ${nodeType(node)}`,
        )
      }
      return TimeType.toLogical(schema, node)
    case TimestampType.LOGICAL_NAME:
      if (typeof node !== 'number' && typeof node !== 'bigint') {
        throw new DataError(
          `Invalid type for Timestamp, underlying representation should be integral but was ${nodeType(node)}`,
        )
      }
      return TimestampType.toLogical(schema, longValue(node))
    default:
      return undefined
  }
}

function isObjectNode(node: JsonTree | undefined): node is { [key: string]: JsonTree | undefined } {
  return typeof node === 'object' && node !== null && !Array.isArray(node) && !(node instanceof JsonDecimal)
}

/** Jackson's `JsonNodeType` name for a tree value, as it appears in Kafka's messages. */
function nodeType(node: JsonTree | undefined): string {
  if (node === undefined) return 'MISSING'
  if (node === null) return 'NULL'
  switch (typeof node) {
    case 'boolean':
      return 'BOOLEAN'
    case 'string':
      return 'STRING'
    case 'number':
    case 'bigint':
      return 'NUMBER'
  }
  if (node instanceof JsonDecimal) return 'NUMBER'
  return Array.isArray(node) ? 'ARRAY' : 'OBJECT'
}

/** Jackson's `isInt()`: an integer that fits 32 bits. In a tree every `number` is an integer. */
function isInt(node: JsonTree): node is number {
  return typeof node === 'number' && node >= -2147483648 && node <= 2147483647
}

/** The integer part of a decimal's text, exactly (`BigDecimal.toBigInteger()`), or its low bits when huge. */
function truncatedDecimal(text: string): bigint {
  const d = BigDecimal.parse(text)
  if (d.scale <= 0) return -d.scale >= 64 ? 0n : d.unscaled * 10n ** BigInt(-d.scale)
  const digits = d.unscaled < 0n ? -d.unscaled : d.unscaled
  if (digits.toString().length <= d.scale) return 0n
  return d.unscaled / 10n ** BigInt(d.scale)
}

/** Jackson's `intValue()`: the low 32 bits of the integer part; 0 for a non-number. */
function intValue(node: JsonTree): number {
  if (typeof node === 'number') return node | 0
  if (typeof node === 'bigint') return Number(BigInt.asIntN(32, node))
  if (node instanceof JsonDecimal) return Number(BigInt.asIntN(32, truncatedDecimal(node.text)))
  return 0
}

/** Jackson's `longValue()`: the low 64 bits of the integer part; 0 for a non-number. */
function longValue(node: JsonTree): number | bigint {
  if (typeof node === 'number') return node
  if (typeof node === 'bigint') return wrapToInt64(node)
  if (node instanceof JsonDecimal) return wrapToInt64(truncatedDecimal(node.text))
  return 0
}

/** Jackson's `doubleValue()`; 0 for a non-number, except the non-finite names (see the header). */
function doubleValue(node: JsonTree): number {
  if (typeof node === 'number') return node
  if (typeof node === 'bigint') return Number(node)
  if (node instanceof JsonDecimal) return node.toNumber()
  if (node === 'NaN') return Number.NaN
  if (node === 'Infinity') return Number.POSITIVE_INFINITY
  if (node === '-Infinity') return Number.NEGATIVE_INFINITY
  return 0
}

function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/** A tree value as schemaless Connect data: INT64 for integers, FLOAT64 for decimals, MAP for objects. */
function treeToSchemaless(node: JsonTree | undefined): unknown {
  if (node === undefined || node === null) return null
  switch (typeof node) {
    case 'boolean':
    case 'string':
    case 'number':
      return node
    case 'bigint':
      return wrapToInt64(node)
  }
  if (node instanceof JsonDecimal) return node.toNumber()
  if (Array.isArray(node)) return node.map(treeToSchemaless)
  const result: Record<string, unknown> = {}
  for (const key in node) setMember(result, key, treeToSchemaless(node[key]))
  return result
}
