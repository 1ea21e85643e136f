/**
 * Connect's logical types (`org.apache.kafka.connect.data.{Decimal,Date,Time,Timestamp}`): a
 * primitive schema with a well-known name, whose value is a richer JS type. Each has a schema
 * builder and the conversions between the logical value and the primitive one that goes on the wire.
 */
import { DataError } from '../errors.ts'
import { BigDecimal } from './big-decimal.ts'
import type { Schema } from './schema.ts'
import { SchemaBuilder } from './schema-builder.ts'

const MS_PER_DAY = 86_400_000

export const Decimal = Object.freeze({
  LOGICAL_NAME: 'org.apache.kafka.connect.data.Decimal',
  SCALE_FIELD: 'scale',

  builder(scale: number): SchemaBuilder {
    return SchemaBuilder.bytes()
      .name(Decimal.LOGICAL_NAME)
      .parameter(Decimal.SCALE_FIELD, String(scale))
      .version(1)
  },

  schema(scale: number): Schema {
    return Decimal.builder(scale).build()
  },

  scaleOf(schema: Schema): number {
    const text = schema.parameters?.[Decimal.SCALE_FIELD]
    const scale = text === undefined ? Number.NaN : Number(text)
    if (!Number.isInteger(scale)) {
      throw new DataError(`invalid Decimal schema: missing or invalid '${Decimal.SCALE_FIELD}' parameter`)
    }
    return scale
  },

  /** The big-endian two's-complement bytes of the unscaled value, as Java's `BigInteger.toByteArray`. */
  fromLogical(schema: Schema, value: BigDecimal): Uint8Array {
    const scale = Decimal.scaleOf(schema)
    if (value.scale !== scale) {
      throw new DataError(
        `Decimal value has mismatching scale for given Decimal schema. Schema has scale ${scale}, value has scale ${value.scale}.`,
      )
    }
    return bigIntToBytes(value.unscaled)
  },

  toLogical(schema: Schema, bytes: Uint8Array): BigDecimal {
    return new BigDecimal(bytesToBigInt(bytes), Decimal.scaleOf(schema))
  },
})

export const DateType = Object.freeze({
  LOGICAL_NAME: 'org.apache.kafka.connect.data.Date',

  builder(): SchemaBuilder {
    return SchemaBuilder.int32().name(DateType.LOGICAL_NAME).version(1)
  },

  schema(): Schema {
    return DateType.builder().build()
  },

  /** Days since the epoch; the Date must be a UTC midnight. */
  fromLogical(_schema: Schema, value: Date): number {
    const ms = value.getTime()
    if (ms % MS_PER_DAY !== 0) {
      throw new DataError('Kafka Connect Date type should not have any time fields set to non-zero values.')
    }
    return ms / MS_PER_DAY
  },

  toLogical(_schema: Schema, days: number): Date {
    return new Date(days * MS_PER_DAY)
  },
})

export const TimeType = Object.freeze({
  LOGICAL_NAME: 'org.apache.kafka.connect.data.Time',

  builder(): SchemaBuilder {
    return SchemaBuilder.int32().name(TimeType.LOGICAL_NAME).version(1)
  },

  schema(): Schema {
    return TimeType.builder().build()
  },

  /** Milliseconds since midnight; the Date must lie on 1970-01-01 UTC. */
  fromLogical(_schema: Schema, value: Date): number {
    const ms = value.getTime()
    // Java's bound includes 86400000 (24:00:00.000).
    if (ms < 0 || ms > MS_PER_DAY) {
      throw new DataError('Kafka Connect Time type should not have any date fields set to non-zero values.')
    }
    return ms
  },

  toLogical(_schema: Schema, ms: number): Date {
    // Java's bound includes 86400000 (24:00:00.000).
    if (ms < 0 || ms > MS_PER_DAY) {
      throw new DataError('Time values must use number of milliseconds greater than 0 and less than 86400000')
    }
    return new Date(ms)
  },
})

export const TimestampType = Object.freeze({
  LOGICAL_NAME: 'org.apache.kafka.connect.data.Timestamp',

  builder(): SchemaBuilder {
    return SchemaBuilder.int64().name(TimestampType.LOGICAL_NAME).version(1)
  },

  schema(): Schema {
    return TimestampType.builder().build()
  },

  fromLogical(_schema: Schema, value: Date): number {
    return value.getTime()
  },

  toLogical(_schema: Schema, ms: number | bigint): Date {
    return new Date(Number(ms))
  },
})

/** Java `BigInteger.toByteArray()`: minimal big-endian two's complement, at least one byte. */
export function bigIntToBytes(value: bigint): Uint8Array {
  const bytes: number[] = []
  let v = value
  for (;;) {
    const byte = Number(v & 0xffn)
    bytes.unshift(byte)
    v >>= 8n
    const signBit = byte & 0x80
    if ((v === 0n && signBit === 0) || (v === -1n && signBit !== 0)) break
  }
  return Uint8Array.from(bytes)
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return bytes[0] & 0x80 ? v - (1n << BigInt(bytes.length * 8)) : v
}
