/**
 * Kafka's `TimestampConverter`: converts a timestamp field (or the whole key/value when `field` is
 * empty) between a formatted string (`format`, SimpleDateFormat in UTC), Unix time (`unix`, in
 * `unix.precision` units) and Connect's Date, Time and Timestamp logical types. The input's kind
 * comes from its schema, or from its JavaScript type when schemaless (Date → Timestamp, integer →
 * unix, string → string).
 */

import { ConfigDef, ValidString } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { DateType, TimestampType, TimeType } from '../api/data/logical-types.ts'
import { type Schema, Schemas } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { ConfigError, DataError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import { SimpleDateFormat } from './simple-date-format.ts'
import {
  copyMap,
  copySchemaBasics,
  fieldValue,
  guard,
  javaClassName,
  mapGet,
  mapSet,
  operatingSchema,
  operatingValue,
  REPLACE_NULL_WITH_DEFAULT_DOC,
  requireMap,
  requireStructOrNull,
  SchemaCache,
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

const PURPOSE = 'converting timestamp formats'
type TimestampKind = 'string' | 'unix' | 'Date' | 'Time' | 'Timestamp'
type Precision = 'seconds' | 'milliseconds' | 'microseconds' | 'nanoseconds'

export const TIMESTAMP_CONVERTER_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'field',
    type: 'STRING',
    defaultValue: '',
    importance: 'HIGH',
    documentation: 'The field containing the timestamp, or empty if the entire value is a timestamp',
  })
  .define({
    name: 'target.type',
    type: 'STRING',
    validator: ValidString.in('string', 'unix', 'Date', 'Time', 'Timestamp'),
    importance: 'HIGH',
    documentation: 'The desired timestamp representation: string, unix, Date, Time, or Timestamp',
  })
  .define({
    name: 'format',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.',
  })
  .define({
    name: 'unix.precision',
    type: 'STRING',
    defaultValue: 'milliseconds',
    validator: ValidString.in('nanoseconds', 'microseconds', 'milliseconds', 'seconds'),
    importance: 'LOW',
    documentation:
      'The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components.',
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })

const PRECISION_FACTOR: Record<Precision, bigint> = {
  seconds: 1000n,
  milliseconds: 1n,
  microseconds: 1000n,
  nanoseconds: 1_000_000n,
}

export class TimestampConverter extends SidedTransformation implements Transformation {
  #field = ''
  #target: TimestampKind = 'Timestamp'
  #format: SimpleDateFormat | null = null
  #precision: Precision = 'milliseconds'
  #replaceNullWithDefault = true
  readonly #cache = new SchemaCache()

  constructor(side: Side) {
    super('TimestampConverter', side)
  }

  configure(props: Props): void {
    const config = TIMESTAMP_CONVERTER_CONFIG_DEF.parse(props)
    this.#field = config.field as string
    this.#target = config['target.type'] as TimestampKind
    this.#precision = config['unix.precision'] as Precision
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
    const pattern = config.format as string
    if (this.#target === 'string' && pattern.trim() === '') {
      throw new ConfigError(
        'format',
        'TimestampConverter requires format option to be specified when using string timestamps',
      )
    }
    this.#format = null
    if (pattern.trim() !== '') {
      try {
        this.#format = new SimpleDateFormat(pattern)
      } catch (error) {
        throw new ConfigError(
          'format',
          `TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: ${pattern} (${(error as Error).message})`,
        )
      }
    }
  }

  config(): ConfigDef {
    return TIMESTAMP_CONVERTER_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      const value = operatingValue(record, this.side)
      return schema === null
        ? this.#applySchemaless(record, value)
        : this.#applyWithSchema(record, schema, value)
    })
  }

  #applySchemaless<R extends ConnectRecord>(record: R, value: unknown): R {
    if (value === null || value === undefined || this.#field === '') {
      return withOperating(record, this.side, null, this.#convert(value, null))
    }
    const map = requireMap(value, PURPOSE)
    const updated = copyMap(map)
    mapSet(updated, this.#field, this.#convertField(mapGet(map, this.#field), null))
    return withOperating(record, this.side, null, updated)
  }

  #applyWithSchema<R extends ConnectRecord>(record: R, schema: Schema, value: unknown): R {
    if (this.#field === '') {
      return withOperating(
        record,
        this.side,
        this.#typeSchema(schema.optional),
        this.#convert(value, kindOf(schema)),
      )
    }
    const struct = requireStructOrNull(value, PURPOSE)
    const updatedSchema = this.#cache.get(schema, (s) => {
      const builder = copySchemaBasics(s, SchemaBuilder.struct())
      for (const f of s.fields) {
        builder.field(f.name, f.name === this.#field ? this.#typeSchema(f.schema.optional) : f.schema)
      }
      if (s.optional) builder.optional()
      if (s.defaultValue instanceof Struct)
        builder.defaultValue(this.#convertStruct(s.defaultValue, builder.build()))
      return builder.build()
    })
    return withOperating(record, this.side, updatedSchema, this.#convertStruct(struct, updatedSchema))
  }

  #convertStruct(struct: Struct | null, updatedSchema: Schema): Struct | null {
    if (struct === null) return null
    const updated = new Struct(updatedSchema)
    for (const f of struct.schema.fields) {
      const v = fieldValue(struct, f.name, this.#replaceNullWithDefault)
      updated.put(f.name, f.name === this.#field ? this.#convertField(v, kindOf(f.schema)) : v)
    }
    return updated
  }

  #convertField(value: unknown, kind: TimestampKind | null): unknown {
    try {
      return this.#convert(value, kind)
    } catch (error) {
      throw new DataError(`field '${this.#field}': ${(error as Error).message}`, { cause: error })
    }
  }

  #typeSchema(optional: boolean): Schema {
    switch (this.#target) {
      case 'string':
        return optional ? Schemas.OPTIONAL_STRING : Schemas.STRING
      case 'unix':
        return optional ? Schemas.OPTIONAL_INT64 : Schemas.INT64
      case 'Date':
        return optional ? DateType.builder().optional().build() : DateType.schema()
      case 'Time':
        return optional ? TimeType.builder().optional().build() : TimeType.schema()
      case 'Timestamp':
        return optional ? TimestampType.builder().optional().build() : TimestampType.schema()
    }
  }

  #convert(value: unknown, kind: TimestampKind | null): unknown {
    if (value === null || value === undefined) return null
    const raw = this.#toRaw(value, kind ?? inferKind(value))
    return this.#toTarget(raw)
  }

  /** The input as milliseconds since the epoch. */
  #toRaw(value: unknown, kind: TimestampKind): number {
    switch (kind) {
      case 'string': {
        if (typeof value !== 'string') {
          throw new DataError(
            `Expected string timestamp to be a String, but found class ${javaClassName(value)}`,
          )
        }
        try {
          return this.#format!.parse(value).getTime()
        } catch (error) {
          throw new DataError(
            `Could not parse timestamp: value (${value}) does not match pattern (${this.#format?.toPattern() ?? ''})`,
            { cause: error },
          )
        }
      }
      case 'unix': {
        if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isInteger(value))) {
          throw new DataError(`Expected Unix timestamp to be a Long, but found class ${javaClassName(value)}`)
        }
        const n = BigInt(value)
        const factor = PRECISION_FACTOR[this.#precision]
        // Java's TimeUnit conversions truncate towards zero.
        return Number(this.#precision === 'seconds' ? n * factor : n / factor)
      }
      default:
        if (!(value instanceof Date)) {
          throw new DataError(
            `Expected ${kind} to be a java.util.Date, but found class ${javaClassName(value)}`,
          )
        }
        return value.getTime()
    }
  }

  #toTarget(ms: number): unknown {
    switch (this.#target) {
      case 'string':
        return this.#format!.format(new Date(ms))
      case 'unix': {
        const n = BigInt(ms)
        const factor = PRECISION_FACTOR[this.#precision]
        const out = this.#precision === 'seconds' ? n / factor : n * factor
        return out >= BigInt(Number.MIN_SAFE_INTEGER) && out <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(out)
          : out
      }
      case 'Date':
        return new Date(Math.floor(ms / 86_400_000) * 86_400_000)
      case 'Time':
        return new Date(((ms % 86_400_000) + 86_400_000) % 86_400_000)
      case 'Timestamp':
        return new Date(ms)
    }
  }

  close(): void {
    this.#cache.clear()
  }
}

function kindOf(schema: Schema): TimestampKind {
  if (schema.name === TimestampType.LOGICAL_NAME) return 'Timestamp'
  if (schema.name === DateType.LOGICAL_NAME) return 'Date'
  if (schema.name === TimeType.LOGICAL_NAME) return 'Time'
  if (schema.type === 'STRING') return 'string'
  if (schema.type === 'INT64') return 'unix'
  throw new DataError(
    `Schema ${schema.type}${schema.name ? ` (${schema.name})` : ''} does not correspond to a known timestamp type format`,
  )
}

function inferKind(value: unknown): TimestampKind {
  if (value instanceof Date) return 'Timestamp'
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return 'unix'
  if (typeof value === 'string') return 'string'
  throw new DataError(
    `TimestampConverter does not support class ${javaClassName(value)} objects as timestamps`,
  )
}
