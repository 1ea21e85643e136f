/**
 * What a Connect field becomes in a table: its column kind (from the schema type and the logical or
 * Debezium semantic name), and the value a driver binds for it. Temporal values are bound as text
 * in the form each database parses (`2024-05-01 10:15:30.123456`), so no driver converts them with
 * the process's own time zone; Timestamps are written in `db.timezone` (`use.time.zone`).
 */
import { BigDecimal } from '../../../api/data/big-decimal.ts'
import { DateType, Decimal, TimestampType, TimeType } from '../../../api/data/logical-types.ts'
import type { Schema } from '../../../api/data/schema.ts'
import { DataError } from '../../../api/errors.ts'
import type { DialectName } from '../common/url.ts'

export type ColumnKind =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'decimal'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'zoned-timestamp'
  | 'json'
  | 'uuid'
  | 'array'

/** How a temporal number counts: days (Date), ms, µs or ns. */
type Unit = 'days' | 'ms' | 'us' | 'ns'

export interface ColumnType {
  kind: ColumnKind
  /** For temporal kinds carried as numbers: what the number counts. */
  unit?: Unit
  /** ARRAY element type (PostgreSQL only). */
  element?: ColumnType
}

const DEBEZIUM: Record<string, ColumnType> = {
  'io.debezium.time.Date': { kind: 'date', unit: 'days' },
  'io.debezium.time.Time': { kind: 'time', unit: 'ms' },
  'io.debezium.time.MicroTime': { kind: 'time', unit: 'us' },
  'io.debezium.time.NanoTime': { kind: 'time', unit: 'ns' },
  'io.debezium.time.Timestamp': { kind: 'timestamp', unit: 'ms' },
  'io.debezium.time.MicroTimestamp': { kind: 'timestamp', unit: 'us' },
  'io.debezium.time.NanoTimestamp': { kind: 'timestamp', unit: 'ns' },
  'io.debezium.time.ZonedTimestamp': { kind: 'zoned-timestamp' },
  'io.debezium.data.Json': { kind: 'json' },
  'io.debezium.data.Uuid': { kind: 'uuid' },
}

/** The column type of a field schema; a DataError names what cannot be a column. */
export function columnTypeOf(schema: Schema, field: string): ColumnType {
  const name = schema.name
  if (name === Decimal.LOGICAL_NAME) return { kind: 'decimal' }
  if (name === DateType.LOGICAL_NAME) return { kind: 'date' }
  if (name === TimeType.LOGICAL_NAME) return { kind: 'time' }
  if (name === TimestampType.LOGICAL_NAME) return { kind: 'timestamp' }
  if (name !== undefined && DEBEZIUM[name]) return DEBEZIUM[name]
  switch (schema.type) {
    case 'INT8':
      return { kind: 'int8' }
    case 'INT16':
      return { kind: 'int16' }
    case 'INT32':
      return { kind: 'int32' }
    case 'INT64':
      return { kind: 'int64' }
    case 'FLOAT32':
      return { kind: 'float32' }
    case 'FLOAT64':
      return { kind: 'float64' }
    case 'BOOLEAN':
      return { kind: 'boolean' }
    case 'STRING':
      return { kind: 'string' }
    case 'BYTES':
      return { kind: 'bytes' }
    case 'ARRAY':
      return { kind: 'array', element: columnTypeOf(schema.valueSchema!, field) }
    default:
      throw new DataError(
        `field '${field}' has type ${schema.type}, which has no column type: flatten it first ` +
          '(transforms=flatten, transforms.flatten.type=org.apache.kafka.connect.transforms.Flatten$Value) ' +
          'or drop it (ReplaceField$Value exclude)',
      )
  }
}

export interface BindContext {
  dialect: DialectName
  timezone: string
}

/** The value the driver binds for a Connect value of this column type. */
export function bindValue(type: ColumnType, value: unknown, ctx: BindContext): unknown {
  if (value === null || value === undefined) return null
  switch (type.kind) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return value
    case 'int64':
      return typeof value === 'bigint' && ctx.dialect !== 'sqlite' ? value.toString() : value
    case 'boolean':
      return ctx.dialect === 'postgresql' ? Boolean(value) : value ? 1 : 0
    case 'string':
    case 'json':
    case 'uuid':
      return typeof value === 'string' ? value : JSON.stringify(value)
    case 'bytes':
      return value instanceof Uint8Array
        ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
        : value
    case 'decimal':
      return value instanceof BigDecimal ? value.toString() : String(value)
    case 'date':
      return formatDate(toMicros(value, type.unit ?? 'days'))
    case 'time':
      return formatTime(toMicros(value, type.unit ?? 'ms'))
    case 'timestamp':
      // The common case (Connect Timestamp: a Date, or epoch ms) without bigint arithmetic.
      if (value instanceof Date) return formatTimestampMs(value.getTime(), ctx.timezone)
      if ((type.unit ?? 'ms') === 'ms' && typeof value === 'number')
        return formatTimestampMs(value, ctx.timezone)
      return formatTimestamp(toMicros(value, type.unit ?? 'ms'), ctx.timezone)
    case 'zoned-timestamp': {
      if (ctx.dialect !== 'mysql') return String(value)
      const ms = Date.parse(String(value))
      if (Number.isNaN(ms)) throw new DataError(`'${String(value)}' is not an ISO-8601 timestamp`)
      return formatTimestamp(BigInt(ms) * 1000n, 'UTC')
    }
    case 'array':
      return (value as unknown[]).map((item) => bindValue(type.element!, item, ctx))
  }
}

/** Microseconds since the epoch of a Date or a number in `unit`. */
function toMicros(value: unknown, unit: Unit): bigint {
  if (value instanceof Date) return BigInt(value.getTime()) * 1000n
  const n = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)))
  switch (unit) {
    case 'days':
      return n * 86_400_000_000n
    case 'ms':
      return n * 1000n
    case 'us':
      return n
    case 'ns':
      return n / 1000n
  }
}

const pad = (n: number | bigint, width: number): string => String(n).padStart(width, '0')

function splitMicros(micros: bigint): { ms: number; fraction: number } {
  let seconds = micros / 1_000_000n
  let fraction = micros % 1_000_000n
  if (fraction < 0n) {
    fraction += 1_000_000n
    seconds -= 1n
  }
  return { ms: Number(seconds) * 1000, fraction: Number(fraction) }
}

function formatDate(micros: bigint): string {
  return new Date(splitMicros(micros).ms).toISOString().slice(0, 10)
}

function formatTime(micros: bigint): string {
  const { ms, fraction } = splitMicros(micros)
  return `${new Date(ms).toISOString().slice(11, 19)}.${pad(fraction, 6)}`
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>()

/** Offset of `timezone` from UTC at the instant `ms`, in ms. */
function zoneOffsetMs(timezone: string, ms: number): number {
  let format = offsetFormatters.get(timezone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    offsetFormatters.set(timezone, format)
  }
  const parts: Record<string, number> = {}
  for (const part of format.formatToParts(new Date(ms))) parts[part.type] = Number(part.value)
  const local = Date.UTC(parts.year!, parts.month! - 1, parts.day, parts.hour, parts.minute, parts.second)
  return local - Math.floor(ms / 1000) * 1000
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` of the instant, as wall-clock time in `timezone`. */
export function formatTimestamp(micros: bigint, timezone: string): string {
  const { ms, fraction } = splitMicros(micros)
  const local = timezone === 'UTC' ? ms : ms + zoneOffsetMs(timezone, ms)
  const iso = new Date(local).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${pad(fraction, 6)}`
}

/** `YYYY-MM-DD HH:MM:SS.` of the last UTC second formatted: consecutive rows mostly share it. */
let utcSecond = Number.NaN
let utcSecondText = ''

/** `YYYY-MM-DD HH:MM:SS.fff000` of an instant in epoch ms, as wall-clock time in `timezone`. */
function formatTimestampMs(ms: number, timezone: string): string {
  if (timezone === 'UTC' && Number.isInteger(ms)) {
    const second = Math.floor(ms / 1000)
    if (second !== utcSecond) {
      const iso = new Date(second * 1000).toISOString()
      if (iso.length !== 24) return formatTimestamp(BigInt(ms) * 1000n, timezone)
      utcSecond = second
      utcSecondText = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`
    }
    const millis = ms - second * 1000
    return `${utcSecondText}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}000`
  }
  const iso = new Date(timezone === 'UTC' ? ms : ms + zoneOffsetMs(timezone, ms)).toISOString()
  return iso.length === 24
    ? `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`
    : formatTimestamp(BigInt(ms) * 1000n, timezone)
}

const COPY_SPECIAL = /[\\\n\r\t]/

/** One bound value in PostgreSQL's COPY text format (arrays are not supported here). */
export function copyText(value: unknown): string {
  if (typeof value === 'string') {
    return COPY_SPECIAL.test(value)
      ? value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t')
      : value
  }
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (value === null || value === undefined) return '\\N'
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`
  const text = String(value)
  return /[\\\n\r\t]/.test(text)
    ? text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t')
    : text
}
