/**
 * `org.apache.kafka.connect.json.JsonConverter`, byte for byte: the `{"schema":…,"payload":…}`
 * envelope (or bare JSON with `schemas.enable=false`), schemas as Kafka's `JsonSchema` writes them,
 * and every value encoded as Jackson writes it (Kafka's `connect/json` module: `JsonConverter`,
 * `JsonSchema`, `JsonConverterConfig`).
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
 * schema (json-fast-reader.ts), which hands anything it does not expect to the general path: same
 * results.
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
 *
 * The parts: json-schema.ts (schema ↔ schema JSON, cached), json-writer.ts (values to JSON text),
 * json-reader.ts (JSON text to a tree, as Jackson reads it), json-to-connect.ts (a tree to Connect
 * data), json-fast-reader.ts (the schema-specialised reader), json-numbers.ts (Jackson's number
 * accessors, base64 Decimals). This file holds the configuration and the converter that ties them.
 */
import { isUtf8 } from 'node:buffer'
import { type ConfigDef, ValidString } from '../api/config-def.ts'
import type { Schema } from '../api/data/schema.ts'
import { NULL_SCHEMA_AND_VALUE, type SchemaAndValue } from '../api/data/schema-and-value.ts'
import { DataError } from '../api/errors.ts'
import { newConverterConfigDef, withConverterType } from './converter-config.ts'
import { DataHeaderConverter } from './data-header-converter.ts'
import { compileReader, type FieldReader, MISMATCH, readFast } from './json-fast-reader.ts'
import { readEnvelope } from './json-reader.ts'
import { SchemaJson } from './json-schema.ts'
import { JsonToConnect, readSchemaless, serializationError } from './json-to-connect.ts'
import { JsonWriter } from './json-writer.ts'

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

export class JsonConverter extends DataHeaderConverter {
  #schemasEnabled = true
  #writer = new JsonWriter({ decimalNumeric: false, replaceNullWithDefault: true })
  #tree = new JsonToConnect(true)
  #schemas = new SchemaJson(1000, this.#writer, this.#tree)
  /** The last schema read, and its JSON text: consecutive records usually share one. */
  #lastReadSchemaText: string | undefined
  #lastReadSchema: Schema | null = null
  /** Per schema, a reader specialised to it (see json-fast-reader.ts); rebuilt when `configure` runs. */
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
    const decimalNumeric = (parsed[DECIMAL_FORMAT_CONFIG] as string).toUpperCase() === 'NUMERIC'
    const replaceNullWithDefault = parsed[REPLACE_NULL_WITH_DEFAULT_CONFIG] as boolean
    this.#writer = new JsonWriter({ decimalNumeric, replaceNullWithDefault })
    this.#tree = new JsonToConnect(replaceNullWithDefault)
    this.#schemas = new SchemaJson(parsed[SCHEMAS_CACHE_SIZE_CONFIG] as number, this.#writer, this.#tree)
    this.#lastReadSchemaText = undefined
    this.#readers = new WeakMap()
    this.#lastReader = undefined
    this.#lastReaderSchema = null
    this.#envelopeHeadSchema = null
  }

  /** Entries in the schema → JSON cache (Java's `sizeOfFromConnectSchemaCache`). */
  get fromConnectSchemaCacheSize(): number {
    return this.#schemas.fromConnectSchemaCacheSize
  }

  /** Entries in the JSON → schema cache (Java's `sizeOfToConnectSchemaCache`). */
  get toConnectSchemaCacheSize(): number {
    return this.#schemas.toConnectSchemaCacheSize
  }

  /** Records `toConnectData` read with a schema-specialised reader (json-fast-reader.ts); for tests. */
  get specialisedReads(): number {
    return this.#specialisedReads
  }

  /** The envelope's bytes up to its payload for the schema last written (records of a topic repeat it). */
  #envelopeHead: Uint8Array = new Uint8Array(0)
  #envelopeHeadSchema: Schema | null = null

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Uint8Array | null {
    if (schema == null && value == null) return null
    if (schema) {
      if (!this.#schemasEnabled) return this.#writer.bytesFor(schema, value)
      if (this.#envelopeHeadSchema !== schema) {
        const head = `{"schema":${this.#schemas.asJsonSchema(schema)},"payload":`
        this.#envelopeHead = Buffer.from(head, 'utf8')
        this.#envelopeHeadSchema = schema
      }
      return this.#writer.bytesFor(schema, value, this.#envelopeHead, 0x7d /* } */)
    }
    const payload = this.#writer.toJson(null, value)
    return Buffer.from(this.#schemasEnabled ? `{"schema":null,"payload":${payload}}` : payload, 'utf8')
  }

  toConnectData(_topic: string, value: Uint8Array | null): SchemaAndValue {
    if (value == null) return NULL_SCHEMA_AND_VALUE
    const lastSchema = this.#lastReadSchema
    if (this.#schemasEnabled && lastSchema !== null && this.#lastReaderSchema === lastSchema) {
      const read = readFast(asBuffer(value), this.#lastReaderSchemaBytes, this.#lastReader!)
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
          reader = compileReader(schema, this.#tree)
          this.#readers.set(schema, reader)
        }
        this.#lastReader = reader
        this.#lastReaderSchema = schema
        this.#lastReaderSchemaBytes = Buffer.from(this.#lastReadSchemaText!, 'utf8')
      }
    } else if (envelope.schemaText !== null) {
      schema = this.#schemas.asConnectSchema(envelope.schemaText)
      this.#lastReadSchemaText = envelope.schemaText
      this.#lastReadSchema = schema
    }
    return { schema, value: this.#tree.toConnect(schema, envelope.payload) }
  }

  /** The schema's JSON text, as Kafka's `asJsonSchema` would serialize it; cached. */
  asJsonSchema(schema: Schema): string {
    return this.#schemas.asJsonSchema(schema)
  }

  /** A Connect schema from its JSON text (Kafka's `asConnectSchema`); `null` for JSON null. Cached. */
  asConnectSchema(jsonText: string): Schema | null {
    try {
      return this.#schemas.asConnectSchema(jsonText)
    } catch (error) {
      if (error instanceof DataError) throw error
      throw serializationError(error)
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function decodeUtf8(bytes: Uint8Array): string {
  const buffer = asBuffer(bytes)
  if (!isUtf8(buffer)) throw serializationError(new Error('Invalid UTF-8 in JSON input'))
  return buffer.toString('utf8')
}
