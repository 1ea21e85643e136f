/**
 * Connect data as JSON text, the way Kafka's `JsonConverter` writes it with `schemas.enable=false`
 * (what Confluent's `JsonFormat` puts in each line): structs as objects, bytes as base64, Date as
 * days, Time and Timestamp as milliseconds, Decimal as base64 of the unscaled bytes or, with
 * `json.decimal.format=NUMERIC`, as a number; maps with non-string keys as arrays of [key, value].
 */
import { BigDecimal } from '../../api/data/big-decimal.ts'
import {
  javaBigDecimalToString,
  javaDoubleToString,
  javaFloatToString,
  quoteJson,
  toBase64,
} from '../../api/data/java-text.ts'
import { DateType, Decimal, TimestampType, TimeType } from '../../api/data/logical-types.ts'
import { isPlainObject, type Schema } from '../../api/data/schema.ts'
import { Struct } from '../../api/data/struct.ts'
import { DataError } from '../../api/errors.ts'

export function toJsonText(schema: Schema | null, value: unknown, decimalNumeric: boolean): string {
  if (value === null || value === undefined) {
    if (schema?.defaultValue !== undefined && schema.defaultValue !== null)
      return toJsonText(schema, schema.defaultValue, decimalNumeric)
    return 'null'
  }
  if (schema !== null) {
    switch (schema.name) {
      case Decimal.LOGICAL_NAME: {
        const d = value instanceof BigDecimal ? value : BigDecimal.parse(String(value))
        return decimalNumeric
          ? javaBigDecimalToString(d)
          : quoteJson(toBase64(Decimal.fromLogical(schema, d)))
      }
      case DateType.LOGICAL_NAME:
        return value instanceof Date ? String(DateType.fromLogical(schema, value)) : String(value)
      case TimeType.LOGICAL_NAME:
        return value instanceof Date ? String(TimeType.fromLogical(schema, value)) : String(value)
      case TimestampType.LOGICAL_NAME:
        return value instanceof Date ? String(TimestampType.fromLogical(schema, value)) : String(value)
    }
    switch (schema.type) {
      case 'FLOAT32':
        return javaFloatToString(Number(value))
      case 'FLOAT64':
        return number(Number(value))
      case 'STRUCT':
        if (!(value instanceof Struct))
          throw new DataError(`expected a Struct for schema ${schema.name ?? 'STRUCT'}`)
        return `{${schema.fields.map((f) => `${quoteJson(f.name)}:${toJsonText(f.schema, value.get(f), decimalNumeric)}`).join(',')}}`
      case 'ARRAY':
        if (!Array.isArray(value)) throw new DataError('expected an array for an ARRAY schema')
        return `[${value.map((v) => toJsonText(schema.valueSchema ?? null, v, decimalNumeric)).join(',')}]`
      case 'MAP': {
        const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object)
        if (schema.keySchema?.type === 'STRING')
          return `{${entries.map(([k, v]) => `${quoteJson(String(k))}:${toJsonText(schema.valueSchema ?? null, v, decimalNumeric)}`).join(',')}}`
        return `[${entries.map(([k, v]) => `[${toJsonText(schema.keySchema ?? null, k, decimalNumeric)},${toJsonText(schema.valueSchema ?? null, v, decimalNumeric)}]`).join(',')}]`
      }
      default:
        break
    }
  }
  return schemaless(value, decimalNumeric)
}

function number(d: number): string {
  return Number.isFinite(d) ? javaDoubleToString(d) : quoteJson(javaDoubleToString(d))
}

function schemaless(value: unknown, decimalNumeric: boolean): string {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'string':
      return quoteJson(value)
    case 'boolean':
      return String(value)
    case 'bigint':
      return value.toString()
    case 'number':
      return Number.isInteger(value) ? String(value) : number(value)
  }
  if (value instanceof Uint8Array) return quoteJson(toBase64(value))
  if (value instanceof Date) return String(value.getTime())
  if (value instanceof BigDecimal)
    return decimalNumeric ? javaBigDecimalToString(value) : quoteJson(javaBigDecimalToString(value))
  if (value instanceof Struct) return toJsonText(value.schema, value, decimalNumeric)
  if (Array.isArray(value)) return `[${value.map((v) => schemaless(v, decimalNumeric)).join(',')}]`
  if (value instanceof Map) {
    const entries = [...value.entries()]
    if (entries.every(([k]) => typeof k === 'string'))
      return `{${entries.map(([k, v]) => `${quoteJson(k as string)}:${schemaless(v, decimalNumeric)}`).join(',')}}`
    return `[${entries.map(([k, v]) => `[${schemaless(k, decimalNumeric)},${schemaless(v, decimalNumeric)}]`).join(',')}]`
  }
  if (isPlainObject(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${quoteJson(k)}:${schemaless(v, decimalNumeric)}`)
      .join(',')}}`
  throw new DataError(`cannot write a ${typeof value} as JSON`)
}
