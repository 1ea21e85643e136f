/**
 * Kafka's `MaskField`: replaces the listed fields with the null value of their type (0, false, "",
 * empty array or map, the epoch for dates) or with `replacement`, converted to the field's type
 * (numbers and strings only). Unlike most SMTs it does not pass tombstones through: a null key or
 * value is an error.
 */

import { ConfigDef, NonEmptyString } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { BigDecimal } from '../api/data/big-decimal.ts'
import { Decimal } from '../api/data/logical-types.ts'
import type { Schema } from '../api/data/schema.ts'
import { Struct } from '../api/data/struct.ts'
import { DataError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import { nonEmptyList } from './config-validators.ts'
import {
  copyMap,
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
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

const PURPOSE = 'mask fields'

export const MASK_FIELD_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'fields',
    type: 'LIST',
    validator: nonEmptyList,
    importance: 'HIGH',
    documentation: 'Names of fields to mask.',
  })
  .define({
    name: 'replacement',
    type: 'STRING',
    defaultValue: null,
    validator: NonEmptyString,
    importance: 'LOW',
    documentation:
      "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })

export class MaskField extends SidedTransformation implements Transformation {
  #fields = new Set<string>()
  #replacement: string | null = null
  #replaceNullWithDefault = true

  constructor(side: Side) {
    super('MaskField', side)
  }

  configure(props: Props): void {
    const config = MASK_FIELD_CONFIG_DEF.parse(props)
    this.#fields = new Set(config.fields as string[])
    this.#replacement = config.replacement as string | null
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
  }

  config(): ConfigDef {
    return MASK_FIELD_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      const value = operatingValue(record, this.side)
      if (schema === null) {
        const map = requireMap(value, PURPOSE)
        const updated = copyMap(map)
        for (const field of this.#fields)
          mapSet(updated, field, this.#masked(field, null, mapGet(map, field)))
        return withOperating(record, this.side, null, updated)
      }
      const struct = requireStruct(value, PURPOSE)
      const updated = new Struct(struct.schema)
      for (const field of struct.schema.fields) {
        const original = fieldValue(struct, field.name, this.#replaceNullWithDefault)
        updated.put(
          field,
          this.#fields.has(field.name) ? this.#masked(field.name, field.schema, original) : original,
        )
      }
      return withOperating(record, this.side, struct.schema, updated)
    })
  }

  #masked(field: string, schema: Schema | null, value: unknown): unknown {
    if (value === null || value === undefined) return null
    try {
      return this.#replacement === null
        ? maskWithNull(schema, value)
        : maskWithReplacement(schema, value, this.#replacement)
    } catch (error) {
      throw new DataError(`field '${field}': ${(error as Error).message}`, { cause: error })
    }
  }
}

function isIntegral(schema: Schema | null, value: unknown): boolean {
  if (schema) return ['INT8', 'INT16', 'INT32', 'INT64'].includes(schema.type)
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))
}

function maskWithNull(schema: Schema | null, value: unknown): unknown {
  if (typeof value === 'boolean') return false
  if (typeof value === 'bigint') return 0n
  if (typeof value === 'number') return 0
  if (typeof value === 'string') return ''
  if (value instanceof Date) return new Date(0)
  if (value instanceof BigDecimal) {
    return new BigDecimal(0n, schema?.name === Decimal.LOGICAL_NAME ? Decimal.scaleOf(schema) : 0)
  }
  if (Array.isArray(value)) return []
  if (isMapValue(value)) return value instanceof Map ? new Map() : {}
  throw new DataError(`Cannot mask value of type: class ${javaClassName(value)}`)
}

function maskWithReplacement(schema: Schema | null, value: unknown, replacement: string): unknown {
  if (typeof value === 'string') return replacement
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof BigDecimal) {
    if (value instanceof BigDecimal) {
      try {
        const parsed = BigDecimal.parse(replacement)
        return schema?.name === Decimal.LOGICAL_NAME ? parsed.setScale(Decimal.scaleOf(schema)) : parsed
      } catch (error) {
        throw new DataError(`Unable to convert ${replacement} (class java.lang.String) to number`, {
          cause: error,
        })
      }
    }
    const n = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(replacement)
      ? Number(replacement)
      : Number.NaN
    if (Number.isNaN(n))
      throw new DataError(`Unable to convert ${replacement} (class java.lang.String) to number`)
    if (!isIntegral(schema, value)) return schema?.type === 'FLOAT32' ? Math.fround(n) : n
    return typeof value === 'bigint' ? BigInt(Math.trunc(n)) : Math.trunc(n)
  }
  throw new DataError(`Cannot mask value of type class ${javaClassName(value)} with custom replacement.`)
}
