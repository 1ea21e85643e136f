/**
 * `output.json.formatter` (`com.mongodb.kafka.connect.source.json.formatter`): documents as the Java
 * driver's `JsonWriter` writes them, separators `", "` and `": "` included.
 *
 * - `DefaultJson`: JsonMode.STRICT — int64 `{"$numberLong": "1"}`, dates `{"$date": <ms>}`,
 *   binary `{"$binary": "<base64>", "$type": "00"}`;
 * - `ExtendedJson`: JsonMode.EXTENDED (canonical) — `{"$numberInt": "1"}`, `{"$numberDouble": "1.0"}`…;
 * - `SimplifiedJson`: JsonMode.RELAXED, with ObjectIds as hex strings, dates as ISO strings, decimals
 *   as strings, binary as base64.
 *
 * `relaxed` (RELAXED, what `BsonDocument.toJson()` writes) is used for resume tokens in offsets.
 */
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'mongodb'
import { javaDoubleToString, quoteJson, toBase64 } from '../../../api/data/java-text.ts'

export type JsonFormat = 'default' | 'extended' | 'simplified' | 'relaxed'

export const JSON_FORMATTERS: Record<string, JsonFormat> = {
  'com.mongodb.kafka.connect.source.json.formatter.DefaultJson': 'default',
  'com.mongodb.kafka.connect.source.json.formatter.ExtendedJson': 'extended',
  'com.mongodb.kafka.connect.source.json.formatter.SimplifiedJson': 'simplified',
}

function hexByte(n: number): string {
  return n.toString(16).padStart(2, '0')
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString()
}

function double(value: number, mode: JsonFormat): string {
  if (mode === 'extended') {
    const text = Number.isNaN(value)
      ? 'NaN'
      : value === Infinity
        ? 'Infinity'
        : value === -Infinity
          ? '-Infinity'
          : javaDoubleToString(value)
    return `{"$numberDouble": "${text}"}`
  }
  if (!Number.isFinite(value)) {
    const text = Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
    return mode === 'default' ? text : `{"$numberDouble": "${text}"}`
  }
  return javaDoubleToString(value)
}

function int64(value: Long | bigint, mode: JsonFormat): string {
  const text = value.toString()
  return mode === 'default' || mode === 'extended' ? `{"$numberLong": "${text}"}` : text
}

function date(ms: number, mode: JsonFormat): string {
  switch (mode) {
    case 'default':
      return `{"$date": ${ms}}`
    case 'extended':
      return `{"$date": {"$numberLong": "${ms}"}}`
    case 'simplified':
      return quoteJson(isoDate(ms))
    case 'relaxed':
      return ms >= 0 && ms <= 253402300799999
        ? `{"$date": "${isoDate(ms)}"}`
        : `{"$date": {"$numberLong": "${ms}"}}`
  }
}

/** One BSON value as JSON text in `mode`. */
export function formatJson(value: unknown, mode: JsonFormat): string {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'string':
      return quoteJson(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (Number.isInteger(value) && Math.abs(value) <= 2147483647)
        return mode === 'extended' ? `{"$numberInt": "${value}"}` : String(value)
      return double(value, mode)
    case 'bigint':
      return int64(value, mode)
  }
  if (Array.isArray(value)) return `[${value.map((v) => formatJson(v, mode)).join(', ')}]`
  if (value instanceof Date) return date(value.getTime(), mode)
  if (value instanceof Int32)
    return mode === 'extended' ? `{"$numberInt": "${value.value}"}` : String(value.value)
  if (value instanceof Double) return double(value.value, mode)
  // Timestamp extends Long in the bson package: test it first.
  if (value instanceof Timestamp) return `{"$timestamp": {"t": ${value.high >>> 0}, "i": ${value.low >>> 0}}}`
  if (value instanceof Long) return int64(value, mode)
  if (value instanceof ObjectId)
    return mode === 'simplified' ? `"${value.toHexString()}"` : `{"$oid": "${value.toHexString()}"}`
  if (value instanceof Decimal128)
    return mode === 'simplified' ? `"${value.toString()}"` : `{"$numberDecimal": "${value.toString()}"}`
  if (value instanceof Binary) {
    const b64 = toBase64(value.value())
    if (mode === 'simplified') return quoteJson(b64)
    if (mode === 'default') return `{"$binary": "${b64}", "$type": "${hexByte(value.sub_type)}"}`
    return `{"$binary": {"base64": "${b64}", "subType": "${hexByte(value.sub_type)}"}}`
  }
  if (value instanceof Uint8Array) return formatJson(new Binary(value), mode)
  if (value instanceof BSONRegExp) {
    return mode === 'default'
      ? `{"$regex": ${quoteJson(value.pattern)}, "$options": ${quoteJson(value.options)}}`
      : `{"$regularExpression": {"pattern": ${quoteJson(value.pattern)}, "options": ${quoteJson(value.options)}}}`
  }
  if (value instanceof BSONSymbol)
    return mode === 'simplified' ? quoteJson(value.value) : `{"$symbol": ${quoteJson(value.value)}}`
  if (value instanceof Code) return `{"$code": ${quoteJson(value.code)}}`
  if (value instanceof MinKey) return '{"$minKey": 1}'
  if (value instanceof MaxKey) return '{"$maxKey": 1}'
  if (value instanceof Map) return formatJson(Object.fromEntries(value), mode)
  const entries = Object.entries(value as Record<string, unknown>)
  return `{${entries.map(([k, v]) => `${quoteJson(k)}: ${formatJson(v, mode)}`).join(', ')}}`
}
