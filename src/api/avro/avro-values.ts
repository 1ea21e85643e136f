/**
 * Connect values ↔ the values avsc reads and writes for an Avro schema (Confluent's
 * `AvroData.fromConnectData`/`toConnectData`), and schema defaults ↔ Avro's JSON defaults.
 *
 * Avro-side values (avsc): int/float/double `number`; long `number` or `bigint` (exact over the
 * whole int64 range, see avro-data.ts); bytes and fixed `Buffer`; enum the symbol string; record a
 * plain object by field name; map a plain object; a union of null and one type the bare value; any
 * other union a wrapped value `{<branch name>: value}`.
 *
 * Connect-side values are those of data/schema.ts: Decimal `BigDecimal` (two's-complement unscaled
 * bytes in Avro, sign-extended to a fixed's size); Date (int days), Time (int ms), Timestamp (long
 * ms) `Date`; MAP with STRING keys a plain object, other MAPs a `Map` (Avro: an array of
 * `{key, value}` records); the `io.confluent.connect.avro.Union` STRUCT one set field per branch.
 *
 * Converters are compiled once per schema pair (closures, no per-value schema walk).
 */

import { BigDecimal } from '../data/big-decimal.ts'
import {
  bigIntToBytes,
  bytesToBigInt,
  DateType,
  Decimal,
  TimestampType,
  TimeType,
} from '../data/logical-types.ts'
import { mapEntries, type Schema } from '../data/schema.ts'
import { Struct } from '../data/struct.ts'
import { DataError } from '../errors.ts'
import {
  AVRO_TYPE_UNION,
  GENERALIZED_TYPE_UNION,
  KEY_FIELD,
  type ResolvedAvroDataOptions,
  VALUE_FIELD,
} from './avro-data-config.ts'
import { type AvroSchema, fullName, isJsonObject, isNamed, type Json, JsonDouble } from './avro-schema.ts'

type Convert = (value: unknown) => unknown

function isUnionStruct(schema: Schema): boolean {
  return (
    schema.type === 'STRUCT' &&
    (schema.name === AVRO_TYPE_UNION || schema.parameters?.[GENERALIZED_TYPE_UNION] !== undefined)
  )
}

/** The key of a branch in an avsc wrapped union value. */
export function branchName(schema: AvroSchema): string {
  return isNamed(schema) ? fullName(schema) : schema.type
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/** Big-endian two's complement of `value`, sign-extended to exactly `size` bytes (a fixed decimal). */
function fixedBytes(value: bigint, size: number): Buffer {
  const minimal = bigIntToBytes(value)
  if (minimal.length > size)
    throw new DataError(`decimal unscaled value ${value} does not fit in a fixed of ${size} bytes`)
  const out = Buffer.alloc(size, value < 0n ? 0xff : 0)
  out.set(minimal, size - minimal.length)
  return out
}

const SMALL_UNSCALED = 2n ** 47n

/** Java's `BigInteger.toByteArray` of an unscaled decimal; numbers for the common small values. */
function unscaledBytes(unscaled: bigint): Buffer {
  if (unscaled >= -SMALL_UNSCALED && unscaled < SMALL_UNSCALED) {
    const n = Number(unscaled)
    let length = 1
    while (n < -(2 ** (8 * length - 1)) || n >= 2 ** (8 * length - 1)) length++
    const out = Buffer.allocUnsafe(length)
    out.writeIntBE(n, 0, length)
    return out
  }
  return Buffer.from(bigIntToBytes(unscaled))
}

/** The unscaled value of two's-complement bytes; numbers for up to 6 bytes. */
function unscaledOf(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n
  return bytes.length <= 6 ? BigInt(bytes.readIntBE(0, bytes.length)) : bytesToBigInt(bytes)
}

/** A null-tolerant wrapper for optional schemas. */
function nullable(convert: Convert): Convert {
  return (v) => (v === null || v === undefined ? null : convert(v))
}

function unwrapOptionalUnion(avro: AvroSchema): AvroSchema {
  if (avro.type !== 'union' || avro.branches.length !== 2) return avro
  const [a, b] = avro.branches
  if (a.type === 'null' && b.type !== 'null') return b
  if (b.type === 'null' && a.type !== 'null') return a
  return avro
}

// ---------------------------------------------------------------------------------------------
// Connect → Avro

/** A function from a Connect value of `schema` to the avsc value of `avro`. */
export function compileToAvro(schema: Schema, avro: AvroSchema, options: ResolvedAvroDataOptions): Convert {
  if (isUnionStruct(schema)) return unionToAvro(schema, avro, options)
  const target = unwrapOptionalUnion(avro)
  const convert = valueToAvro(schema, target, options)
  return schema.optional || target !== avro ? nullable(convert) : convert
}

function unionToAvro(schema: Schema, avro: AvroSchema, options: ResolvedAvroDataOptions): Convert {
  if (avro.type !== 'union')
    throw new DataError(`a Connect union must be written to an Avro union, not ${avro.type}`)
  const nonNull = avro.branches.filter((b) => b.type !== 'null')
  if (nonNull.length !== schema.fields.length) {
    throw new DataError(
      `the Connect union has ${schema.fields.length} members but the Avro union ${nonNull.length}`,
    )
  }
  const members = schema.fields.map((field, i) => {
    const branch = nonNull[i]
    return { field, key: branchName(branch), convert: valueToAvro(field.schema, branch, options) }
  })
  return (v) => {
    if (v === null || v === undefined) return null
    const struct = v as Struct
    for (const m of members) {
      const member = struct.getWithoutDefault(m.field)
      if (member !== null && member !== undefined) return { [m.key]: m.convert(member) }
    }
    throw new DataError('a Connect union value has no member set')
  }
}

function valueToAvro(schema: Schema, avro: AvroSchema, options: ResolvedAvroDataOptions): Convert {
  switch (schema.name) {
    case Decimal.LOGICAL_NAME: {
      const scale = Decimal.scaleOf(schema)
      const size = avro.type === 'fixed' ? avro.size : undefined
      return (v) => {
        const d = v as BigDecimal
        if (d.scale !== scale) {
          throw new DataError(
            `Decimal value has mismatching scale for given Decimal schema. Schema has scale ${scale}, value has scale ${d.scale}.`,
          )
        }
        return size === undefined ? unscaledBytes(d.unscaled) : fixedBytes(d.unscaled, size)
      }
    }
    case DateType.LOGICAL_NAME:
      return (v) => DateType.fromLogical(schema, v as Date)
    case TimeType.LOGICAL_NAME:
      return (v) => TimeType.fromLogical(schema, v as Date)
    case TimestampType.LOGICAL_NAME:
      return (v) => (v as Date).getTime()
  }
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'INT64':
    case 'FLOAT32':
    case 'FLOAT64':
    case 'BOOLEAN':
    case 'STRING':
      return (v) => v
    case 'BYTES':
      return (v) => asBuffer(v as Uint8Array)
    case 'ARRAY': {
      if (avro.type !== 'array') throw mismatch(schema, avro)
      const element = compileToAvro(schema.valueSchema!, avro.items, options)
      return (v) => (v as unknown[]).map(element)
    }
    case 'MAP': {
      if (avro.type === 'map') {
        const value = compileToAvro(schema.valueSchema!, avro.values, options)
        return (v) => {
          const out: Record<string, unknown> = {}
          for (const [k, x] of mapEntries(v) ?? []) setMember(out, k as string, value(x))
          return out
        }
      }
      if (avro.type !== 'array' || avro.items.type !== 'record') throw mismatch(schema, avro)
      const entry = avro.items
      const keyField = entry.fields.find((f) => f.name === KEY_FIELD)
      const valueField = entry.fields.find((f) => f.name === VALUE_FIELD)
      if (keyField === undefined || valueField === undefined) throw mismatch(schema, avro)
      const key = compileToAvro(schema.keySchema!, keyField.type, options)
      const value = compileToAvro(schema.valueSchema!, valueField.type, options)
      return (v) => (mapEntries(v) ?? []).map(([k, x]) => ({ key: key(k), value: value(x) }))
    }
    case 'STRUCT': {
      if (avro.type !== 'record' && avro.type !== 'error') throw mismatch(schema, avro)
      const fields = schema.fields.map((field) => {
        const target = avro.fields.find((f) => f.name === field.name)
        if (target === undefined) {
          throw new DataError(
            `the Avro record ${fullName(avro)} has no field '${field.name}' of the Connect struct`,
          )
        }
        const dflt = field.schema.defaultValue
        return {
          index: field.index,
          name: field.name,
          useDefault:
            dflt !== undefined &&
            dflt !== null &&
            !(options.ignoreDefaultForNullables && field.schema.optional),
          dflt,
          convert: compileToAvro(field.schema, target.type, options),
        }
      })
      return (v) => {
        const struct = v as Struct
        const out: Record<string, unknown> = {}
        for (const f of fields) {
          let x = struct.valueAt(f.index)
          if (x === null && f.useDefault) x = f.dflt
          setMember(out, f.name, f.convert(x))
        }
        return out
      }
    }
  }
}

function mismatch(schema: Schema, avro: AvroSchema): DataError {
  return new DataError(`a Connect ${schema.type} schema cannot be written as Avro ${avro.type}`)
}

// ---------------------------------------------------------------------------------------------
// Avro → Connect

/** A function from the avsc value of `avro` to the Connect value of `schema` (its toConnectSchema). */
export function compileToConnect(
  avro: AvroSchema,
  schema: Schema,
  options: ResolvedAvroDataOptions,
): Convert {
  if (isUnionStruct(schema) && avro.type === 'union') return unionToConnect(avro, schema, options)
  const source = unwrapOptionalUnion(avro)
  const convert = valueToConnect(source, schema, options)
  return schema.optional || source !== avro ? nullable(convert) : convert
}

function unionToConnect(
  avro: AvroSchema & { type: 'union' },
  schema: Schema,
  options: ResolvedAvroDataOptions,
): Convert {
  const nonNull = avro.branches.filter((b) => b.type !== 'null')
  const byKey = new Map<string, { field: Schema['fields'][number]; convert: Convert }>()
  nonNull.forEach((branch, i) => {
    const field = schema.fields[i]
    byKey.set(branchName(branch), { field, convert: valueToConnect(branch, field.schema, options) })
  })
  return (v) => {
    if (v === null || v === undefined) return null
    const key = Object.keys(v as object)[0]
    const member = byKey.get(key)
    if (member === undefined) throw new DataError(`the Avro union value has an unknown branch '${key}'`)
    return new Struct(schema).put(member.field, member.convert((v as Record<string, unknown>)[key]))
  }
}

function valueToConnect(avro: AvroSchema, schema: Schema, options: ResolvedAvroDataOptions): Convert {
  switch (schema.name) {
    case Decimal.LOGICAL_NAME: {
      const scale = Decimal.scaleOf(schema)
      return (v) => new BigDecimal(unscaledOf(v as Buffer), scale)
    }
    case DateType.LOGICAL_NAME:
      return (v) => DateType.toLogical(schema, v as number)
    case TimeType.LOGICAL_NAME:
      return (v) => TimeType.toLogical(schema, v as number)
    case TimestampType.LOGICAL_NAME:
      return (v) => new Date(Number(v))
  }
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'INT64':
    case 'FLOAT32':
    case 'FLOAT64':
    case 'BOOLEAN':
    case 'STRING':
      return (v) => v
    case 'BYTES':
      // avsc hands out views of the input buffer: copy, so the value outlives it.
      return (v) => Buffer.from(v as Buffer)
    case 'ARRAY': {
      if (avro.type !== 'array') throw mismatch(schema, avro)
      const element = compileToConnect(avro.items, schema.valueSchema!, options)
      return (v) => (v as unknown[]).map(element)
    }
    case 'MAP': {
      if (avro.type === 'map') {
        const value = compileToConnect(avro.values, schema.valueSchema!, options)
        return (v) => {
          const out: Record<string, unknown> = {}
          for (const [k, x] of Object.entries(v as Record<string, unknown>)) setMember(out, k, value(x))
          return out
        }
      }
      if (avro.type !== 'array' || avro.items.type !== 'record') throw mismatch(schema, avro)
      const entry = avro.items
      const key = compileToConnect(
        entry.fields.find((f) => f.name === KEY_FIELD)!.type,
        schema.keySchema!,
        options,
      )
      const value = compileToConnect(
        entry.fields.find((f) => f.name === VALUE_FIELD)!.type,
        schema.valueSchema!,
        options,
      )
      return (v) => {
        const out = new Map<unknown, unknown>()
        for (const e of v as { key: unknown; value: unknown }[]) out.set(key(e.key), value(e.value))
        return out
      }
    }
    case 'STRUCT': {
      if (avro.type !== 'record' && avro.type !== 'error') throw mismatch(schema, avro)
      const fields = schema.fields.map((field) => {
        const source = avro.fields.find((f) => f.name === field.name)!
        return { field, name: field.name, convert: compileToConnect(source.type, field.schema, options) }
      })
      return (v) => {
        const record = v as Record<string, unknown>
        const struct = new Struct(schema)
        for (const f of fields) struct.put(f.field, f.convert(record[f.name]))
        return struct
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults

/** A Connect default value as Avro JSON (Java's `AvroData.defaultValueFromConnect`). */
export function defaultValueToAvroJson(schema: Schema, value: unknown): Json {
  if (value === null || value === undefined) return null
  let v = value
  switch (schema.name) {
    case Decimal.LOGICAL_NAME:
      v = Decimal.fromLogical(schema, value as BigDecimal)
      break
    case DateType.LOGICAL_NAME:
      v = DateType.fromLogical(schema, value as Date)
      break
    case TimeType.LOGICAL_NAME:
      v = TimeType.fromLogical(schema, value as Date)
      break
    case TimestampType.LOGICAL_NAME:
      v = (value as Date).getTime()
      break
  }
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'INT64':
      return Number(v)
    case 'FLOAT32':
    case 'FLOAT64':
      return new JsonDouble(v as number)
    case 'BOOLEAN':
    case 'STRING':
      return v as Json
    case 'BYTES':
      return Buffer.from(v as Uint8Array).toString('latin1')
    case 'ARRAY':
      return (v as unknown[]).map((x) => defaultValueToAvroJson(schema.valueSchema!, x))
    case 'MAP': {
      const entries = mapEntries(v) ?? []
      if (schema.keySchema!.type === 'STRING' && !schema.keySchema!.optional) {
        const out: Record<string, Json> = {}
        for (const [k, x] of entries) out[k as string] = defaultValueToAvroJson(schema.valueSchema!, x)
        return out
      }
      return entries.map(([k, x]) => ({
        [KEY_FIELD]: defaultValueToAvroJson(schema.keySchema!, k),
        [VALUE_FIELD]: defaultValueToAvroJson(schema.valueSchema!, x),
      }))
    }
    case 'STRUCT': {
      const struct = v as Struct
      const out: Record<string, Json> = {}
      for (const field of schema.fields)
        out[field.name] = defaultValueToAvroJson(field.schema, struct.get(field))
      return out
    }
  }
}

/** An Avro JSON default as a value of `schema` (Java's `AvroData.defaultValueFromAvro`); DataError when it does not fit. */
export function defaultValueFromAvroJson(
  schema: Schema,
  json: Json,
  options: ResolvedAvroDataOptions,
): unknown {
  if (json === null) return null
  const raw = json instanceof JsonDouble ? json.value : json
  const bad = (): never => {
    throw new DataError(
      `invalid default ${JSON.stringify(raw)} for a ${schema.type} schema${schema.name ? ` (${schema.name})` : ''}`,
    )
  }
  switch (schema.name) {
    case Decimal.LOGICAL_NAME:
      if (typeof raw === 'string')
        return new BigDecimal(bytesToBigInt(Buffer.from(raw, 'latin1')), Decimal.scaleOf(schema))
      if (typeof raw === 'number') return BigDecimal.parse(String(raw)).setScale(Decimal.scaleOf(schema))
      return bad()
    case DateType.LOGICAL_NAME:
      return typeof raw === 'number' ? DateType.toLogical(schema, raw) : bad()
    case TimeType.LOGICAL_NAME:
      return typeof raw === 'number' ? TimeType.toLogical(schema, raw) : bad()
    case TimestampType.LOGICAL_NAME:
      return typeof raw === 'number' ? new Date(raw) : bad()
  }
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'INT64':
      return typeof raw === 'number' && Number.isInteger(raw) ? raw : bad()
    case 'FLOAT32':
    case 'FLOAT64':
      return typeof raw === 'number' ? raw : bad()
    case 'BOOLEAN':
      return typeof raw === 'boolean' ? raw : bad()
    case 'STRING':
      return typeof raw === 'string' ? raw : bad()
    case 'BYTES':
      return typeof raw === 'string' ? Buffer.from(raw, 'latin1') : bad()
    case 'ARRAY':
      return Array.isArray(raw)
        ? raw.map((x) => defaultValueFromAvroJson(schema.valueSchema!, x, options))
        : bad()
    case 'MAP': {
      if (isJsonObject(raw) && schema.keySchema!.type === 'STRING') {
        const out: Record<string, unknown> = {}
        for (const [k, x] of Object.entries(raw))
          setMember(out, k, defaultValueFromAvroJson(schema.valueSchema!, x, options))
        return out
      }
      if (!Array.isArray(raw)) return bad()
      const out = new Map<unknown, unknown>()
      for (const e of raw) {
        if (!isJsonObject(e)) return bad()
        out.set(
          defaultValueFromAvroJson(schema.keySchema!, e[KEY_FIELD] ?? null, options),
          defaultValueFromAvroJson(schema.valueSchema!, e[VALUE_FIELD] ?? null, options),
        )
      }
      return out
    }
    case 'STRUCT': {
      if (isUnionStruct(schema)) {
        // A union's default belongs to its first branch.
        const first = schema.fields[0]
        return first === undefined
          ? bad()
          : new Struct(schema).put(first, defaultValueFromAvroJson(first.schema, raw, options))
      }
      if (!isJsonObject(raw)) return bad()
      const struct = new Struct(schema)
      for (const field of schema.fields) {
        if (Object.hasOwn(raw, field.name))
          struct.put(field, defaultValueFromAvroJson(field.schema, raw[field.name], options))
      }
      struct.validate()
      return struct
    }
  }
}
