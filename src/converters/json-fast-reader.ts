/**
 * JsonConverter's schema-specialised reader (its "fast path"): once a schema's text has come twice in
 * a row, its envelopes are read by a reader compiled for that schema, straight from the bytes to
 * Connect data with no tree in between. Anything it does not expect gives `MISMATCH`, and the
 * converter then reads the record the general way (json-reader.ts + json-to-connect.ts), which gives
 * the same value or the right error: both paths agree (test/converters/json-converter-fast-read.test.ts).
 */
import { isUtf8 } from 'node:buffer'
import { BigDecimal } from '../api/data/big-decimal.ts'
import { fromBase64 } from '../api/data/java-text.ts'
import { DateType, Decimal, TimestampType, TimeType } from '../api/data/logical-types.ts'
import type { Schema } from '../api/data/schema.ts'
import { Struct } from '../api/data/struct.ts'
import { base64ToBigInt, decimalScale, doubleValue, smallInteger } from './json-numbers.ts'
import { JsonReader, MAX_DEPTH } from './json-reader.ts'
import { type JsonToConnect, setMember } from './json-to-connect.ts'

/**
 * Reads one value of a fixed schema from `r.text` at `r.pos`, whose first character (after
 * whitespace) is `c`, straight to Connect data; leaves `r.pos` after it. Throws `MISMATCH` (or any
 * error) for input it does not handle: the caller then reads the whole record the general way.
 */
export type FieldReader = (r: JsonReader, c: number) => unknown

/** Thrown by a `FieldReader` for a structure it does not expect (member order, extra members…). */
export const MISMATCH = new Error('JSON does not have the shape the schema-specialised reader expects')

/** `{"schema":` as UTF-8: how Kafka's (and our) JsonConverter starts every envelope. */
const ENVELOPE_HEAD = Buffer.from('{"schema":', 'utf8')

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
export function readFast(bytes: Buffer, schemaBytes: Buffer, reader: FieldReader): unknown {
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
 * Reads a bare JSON value (no envelope: the JsonSchemaConverter's payload) with the reader
 * specialised to its schema; `MISMATCH` for anything it does not expect, content after the value
 * included, and the caller then reads the record the general way.
 */
export function readFastValue(text: string, reader: FieldReader): unknown {
  const r = new JsonReader(text, 'tree')
  try {
    const value = reader(r, r.skipWs())
    r.skipWs()
    return r.pos === text.length ? value : MISMATCH
  } catch {
    return MISMATCH
  }
}

/**
 * `JsonToConnect.toConnect` fused with the JSON reader for one schema: each value is read from the
 * text straight into Connect data. Tokens of the kind the schema expects take the fast way; any other
 * token (null, a number for a string…) is read as a tree and converted by `JsonToConnect.toConnect`,
 * exactly as the general path converts it, so both paths agree. Struct members must come in the
 * schema's field order, each once, with no others; anything else throws `MISMATCH` (the whole record
 * is then re-read).
 */
export function compileReader(schema: Schema, tree: JsonToConnect): FieldReader {
  const slow: FieldReader = (r, c) => tree.toConnect(schema, r.value(c))
  switch (schema.name) {
    case Decimal.LOGICAL_NAME: {
      const scale = decimalScale(schema)
      if (scale === undefined) return slow
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
      const element = compileReader(schema.valueSchema, tree)
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
      // Optional string keys take the general way: JsonSchemaData writes those maps as entry arrays.
      if (schema.keySchema?.type !== 'STRING' || schema.keySchema.optional || !schema.valueSchema) return slow
      const value = compileReader(schema.valueSchema, tree)
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
      const readers = fields.map((f) => compileReader(f.schema, tree))
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
