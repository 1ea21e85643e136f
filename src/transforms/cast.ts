/**
 * Kafka's `Cast`: casts fields of a Struct or map, or the whole key or value, to a primitive type
 * (`spec`: `field:type,…` or one `type`). Integers, floats, booleans and strings cast to any of
 * int8…float64, boolean and string; bytes cast to string (base64); logical Date, Time and
 * Timestamp cast to their integer encodings, or to Values' string form.
 */

import { ConfigDef, validator } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { BigDecimal } from '../api/data/big-decimal.ts'
import { DateType, TimestampType, TimeType } from '../api/data/logical-types.ts'
import { PRIMITIVE_TYPES, type Schema, type SchemaType } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { convertToString } from '../api/data/values.ts'
import { ConfigError, DataError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import {
  copyMap,
  copySchemaBasics,
  fieldValue,
  guard,
  isMapValue,
  javaClassName,
  mapGet,
  mapSet,
  operatingSchema,
  operatingValue,
  REPLACE_NULL_WITH_DEFAULT_DOC,
  requireMap,
  requireStruct,
  SchemaCache,
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

const PURPOSE = 'cast types'
/** Cast takes any primitive (Kafka's order, as its error message lists them). */
const INPUT_TYPES: readonly SchemaType[] = [...PRIMITIVE_TYPES]
const OUTPUT_TYPES: readonly SchemaType[] = INPUT_TYPES.filter((t) => t !== 'BYTES')
/** The spec entry that casts the whole value (Kafka uses a null field name). */
const WHOLE_VALUE = '\u0000whole'

function parseSpec(mappings: readonly string[]): Map<string, SchemaType> {
  const casts = new Map<string, SchemaType>()
  let whole = false
  for (const mapping of mappings) {
    const parts = mapping.split(':')
    if (parts.length > 2) {
      throw new ConfigError(
        'spec',
        `Invalid value ${mappings.join(',')} for configuration spec: Invalid rename mapping: ${mapping}`,
      )
    }
    const typeName = (parts.length === 1 ? parts[0] : parts[1]).trim()
    const type = typeName.toUpperCase() as SchemaType
    if (![...INPUT_TYPES, 'ARRAY', 'MAP', 'STRUCT'].includes(type)) {
      throw new ConfigError('spec', `Invalid type found in casting spec: ${typeName}`)
    }
    if (!OUTPUT_TYPES.includes(type)) {
      throw new ConfigError(
        'spec',
        `Cast transformation does not support casting to ${type}; supported types are [${OUTPUT_TYPES.join(', ')}]`,
      )
    }
    if (parts.length === 1) {
      casts.set(WHOLE_VALUE, type)
      whole = true
    } else {
      casts.set(parts[0].trim(), type)
    }
  }
  if (whole && mappings.length > 1) {
    throw new ConfigError(
      'spec',
      'Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec',
    )
  }
  return casts
}

export const CAST_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'spec',
    type: 'LIST',
    importance: 'HIGH',
    validator: validator('list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>', (value) => {
      const list = (value as string[] | null) ?? []
      if (list.length === 0) return 'Must specify at least one field to cast.'
      parseSpec(list)
      return undefined
    }),
    documentation:
      'List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.',
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })

export class Cast extends SidedTransformation implements Transformation {
  #casts = new Map<string, SchemaType>()
  #whole: SchemaType | undefined
  #replaceNullWithDefault = true
  readonly #cache = new SchemaCache()

  constructor(side: Side) {
    super('Cast', side)
  }

  configure(props: Props): void {
    const config = CAST_CONFIG_DEF.parse(props)
    this.#casts = parseSpec(config.spec as string[])
    this.#whole = this.#casts.get(WHOLE_VALUE)
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
  }

  config(): ConfigDef {
    return CAST_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = operatingValue(record, this.side)
    if (value === null || value === undefined) return record
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      return schema === null
        ? this.#applySchemaless(record, value)
        : this.#applyWithSchema(record, schema, value)
    })
  }

  #applySchemaless<R extends ConnectRecord>(record: R, value: unknown): R {
    if (this.#whole) return withOperating(record, this.side, null, castValue(null, value, this.#whole))
    const map = requireMap(value, PURPOSE)
    const updated = copyMap(map)
    for (const [field, type] of this.#casts) {
      try {
        mapSet(updated, field, castValue(null, mapGet(map, field), type))
      } catch (error) {
        throw new DataError(`field '${field}': ${(error as Error).message}`, { cause: error })
      }
    }
    return withOperating(record, this.side, null, updated)
  }

  #applyWithSchema<R extends ConnectRecord>(record: R, schema: Schema, value: unknown): R {
    const updatedSchema = this.#cache.get(schema, (s) => this.#buildSchema(s))
    if (this.#whole)
      return withOperating(record, this.side, updatedSchema, castValue(schema, value, this.#whole))
    const struct = requireStruct(value, PURPOSE)
    const updated = new Struct(updatedSchema)
    for (const field of struct.schema.fields) {
      const original = fieldValue(struct, field.name, this.#replaceNullWithDefault)
      const target = this.#casts.get(field.name)
      let cast = original
      if (target) {
        try {
          cast = castValue(field.schema, original, target)
        } catch (error) {
          throw new DataError(`field '${field.name}': ${(error as Error).message}`, { cause: error })
        }
      }
      updated.put(field.name, cast)
    }
    return withOperating(record, this.side, updatedSchema, updated)
  }

  #buildSchema(schema: Schema): Schema {
    let builder: SchemaBuilder
    if (this.#whole) {
      builder = copySchemaBasics(schema, new SchemaBuilder(this.#whole))
    } else {
      if (schema.type !== 'STRUCT') {
        throw new DataError(
          `Only Struct objects supported for [${PURPOSE}], found schema of type ${schema.type}`,
        )
      }
      builder = copySchemaBasics(schema, SchemaBuilder.struct())
      for (const field of schema.fields) {
        const target = this.#casts.get(field.name)
        if (!target) {
          builder.field(field.name, field.schema)
          continue
        }
        const fieldBuilder = new SchemaBuilder(target)
        if (field.schema.optional) fieldBuilder.optional()
        if (field.schema.defaultValue !== undefined && field.schema.defaultValue !== null) {
          fieldBuilder.defaultValue(castValue(field.schema, field.schema.defaultValue, target))
        }
        builder.field(field.name, fieldBuilder.build())
      }
    }
    if (schema.optional) builder.optional()
    if (schema.defaultValue !== undefined && schema.defaultValue !== null) {
      builder.defaultValue(castValue(schema, schema.defaultValue, builder.type))
    }
    return builder.build()
  }

  close(): void {
    this.#cache.clear()
  }
}

/** The Connect type a schemaless value has (`ConnectSchema.schemaType(value.getClass())`), if any. */
function inferType(value: unknown): SchemaType | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? 'INT64' : 'FLOAT64'
    case 'bigint':
      return 'INT64'
    case 'boolean':
      return 'BOOLEAN'
    case 'string':
      return 'STRING'
  }
  if (value instanceof Uint8Array) return 'BYTES'
  if (Array.isArray(value)) return 'ARRAY'
  if (value instanceof Struct) return 'STRUCT'
  if (isMapValue(value)) return 'MAP'
  return undefined
}

export function castValue(schema: Schema | null, input: unknown, target: SchemaType): unknown {
  if (input === null || input === undefined) return null
  const inferred = schema ? schema.type : inferType(input)
  if (!inferred) {
    throw new DataError(
      `Cast transformation was passed a value of type class ${javaClassName(input)} which is not supported by Connect's data API`,
    )
  }
  if (!INPUT_TYPES.includes(inferred)) {
    throw new DataError(
      `Cast transformation does not support casting from ${inferred}; supported types are [${INPUT_TYPES.join(', ')}]`,
    )
  }
  let value = input
  if (schema?.name && target !== 'STRING' && value instanceof Date) {
    if (schema.name === DateType.LOGICAL_NAME) value = DateType.fromLogical(schema, value)
    else if (schema.name === TimeType.LOGICAL_NAME) value = TimeType.fromLogical(schema, value)
    else if (schema.name === TimestampType.LOGICAL_NAME) value = TimestampType.fromLogical(schema, value)
  }
  switch (target) {
    case 'INT8':
      return toIntegral(value, 8)
    case 'INT16':
      return toIntegral(value, 16)
    case 'INT32':
      return toIntegral(value, 32)
    case 'INT64': {
      const big = toIntegral(value, 64) as bigint
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big)
        : big
    }
    case 'FLOAT32':
      return Math.fround(toDouble(value))
    case 'FLOAT64':
      return toDouble(value)
    case 'BOOLEAN':
      if (typeof value === 'boolean') return value
      if (typeof value === 'string') return value.toLowerCase() === 'true'
      return toIntegral(value, 64) !== 0n
    case 'STRING':
      if (typeof value === 'string') return value
      if (value instanceof BigDecimal) return convertToString(null, value)
      return convertToString(schema?.type === 'FLOAT32' || schema?.type === 'FLOAT64' ? schema : null, value)
    default:
      throw new DataError(`${target} is not supported in the Cast transformation.`)
  }
}

const INT_BOUNDS: Record<number, [bigint, bigint]> = {
  8: [-128n, 127n],
  16: [-32768n, 32767n],
  32: [-2147483648n, 2147483647n],
  64: [-(2n ** 63n), 2n ** 63n - 1n],
}

/**
 * Java's narrowing: an integral number keeps its low bits (`Number.byteValue()`); a floating one is
 * truncated and clamped to int (long for int64) first. Strings parse as `Byte.parseByte` & co.: a
 * decimal integer in range, or an error.
 */
function toIntegral(value: unknown, bits: 8 | 16 | 32 | 64): number | bigint {
  let big: bigint
  if (typeof value === 'boolean') big = value ? 1n : 0n
  else if (typeof value === 'bigint') big = value
  else if (value instanceof BigDecimal) {
    big =
      value.scale <= 0
        ? value.unscaled * 10n ** BigInt(-value.scale)
        : value.unscaled / 10n ** BigInt(value.scale)
  } else if (typeof value === 'number') {
    if (Number.isInteger(value)) big = BigInt(value)
    else {
      const [min, max] = INT_BOUNDS[bits === 64 ? 64 : 32]
      if (Number.isNaN(value)) big = 0n
      else if (value >= Number(max)) big = max
      else if (value <= Number(min)) big = min
      else big = BigInt(Math.trunc(value))
    }
  } else if (typeof value === 'string') {
    if (!/^[+-]?\d+$/.test(value)) throw outOfRange(value)
    big = BigInt(value)
    const [min, max] = INT_BOUNDS[bits]
    if (big < min || big > max) throw outOfRange(value)
  } else {
    throw new DataError(`Unexpected type in Cast transformation: class ${javaClassName(value)}`)
  }
  const wrapped = BigInt.asIntN(bits, big)
  return bits === 64 ? wrapped : Number(wrapped)
}

/** `Double.parseDouble` / `Number.doubleValue()`. */
function toDouble(value: unknown): number {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof BigDecimal) return value.toNumber()
  if (typeof value === 'string') {
    const text = javaTrim(value)
    const m = /^([+-]?)(NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?$/.exec(text)
    if (!m || (m[2] === 'NaN' && m[1])) throw outOfRange(value)
    return Number(`${m[1]}${m[2]}`)
  }
  throw new DataError(`Unexpected type in Cast transformation: class ${javaClassName(value)}`)
}

function outOfRange(value: unknown): DataError {
  return new DataError(`Value (${String(value)}) was out of range for requested data type`)
}

/** Java's `String.trim()`: strips every character up to U+0020 from both ends. */
function javaTrim(s: string): string {
  let start = 0
  let end = s.length
  while (start < end && s.charCodeAt(start) <= 0x20) start++
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--
  return s.slice(start, end)
}
