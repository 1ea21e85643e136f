/**
 * Timestamps with nanosecond precision, as the JDBC source's offsets need them: Java's
 * `java.sql.Timestamp` is epoch milliseconds plus nanos-of-second, and Confluent's offsets store both
 * (`timestamp` = epoch ms, `timestamp_nanos` = nanos of the second). A JS `Date` keeps only ms, so a
 * microsecond timestamp read back through it would be re-read forever (kafka-connect-jdbc#70).
 *
 * Values without a zone (PostgreSQL `timestamp`, MySQL `DATETIME`, SQLite text) are wall-clock times
 * in `db.timezone`; the same zone formats the bounds bound into the queries, so reading a value and
 * binding it back is exact.
 */
import { DataError } from '../../../api/errors.ts'

export interface SqlTimestamp {
  /** Whole seconds since the epoch (floor, so negative for dates before 1970). */
  readonly seconds: number
  /** Nanoseconds within the second, 0…999,999,999. */
  readonly nanos: number
}

export const EPOCH: SqlTimestamp = Object.freeze({ seconds: 0, nanos: 0 })

export function fromEpochMs(ms: number): SqlTimestamp {
  const seconds = Math.floor(ms / 1000)
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 }
}

/** Epoch milliseconds (floor), as `Timestamp.getTime()`. */
export function epochMs(ts: SqlTimestamp): number {
  return ts.seconds * 1000 + Math.floor(ts.nanos / 1_000_000)
}

/** `ts` minus whole milliseconds, keeping the sub-millisecond nanos. */
export function minusMs(ts: SqlTimestamp, ms: number): SqlTimestamp {
  const shifted = fromEpochMs(epochMs(ts) - ms)
  return { seconds: shifted.seconds, nanos: shifted.nanos + (ts.nanos % 1_000_000) }
}

export function compareTimestamps(a: SqlTimestamp, b: SqlTimestamp): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos
}

/** The offset fields Confluent writes: `timestamp` (epoch ms) and `timestamp_nanos` (nanos of second). */
export function fromOffsetFields(ms: number, nanos: number | undefined): SqlTimestamp {
  const base = fromEpochMs(ms)
  return nanos === undefined ? base : { seconds: base.seconds, nanos }
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function isUtc(zone: string): boolean {
  return zone === 'UTC' || zone === 'Etc/UTC' || zone === 'GMT' || zone === 'Z'
}

/** The zone's offset from UTC in ms at the instant `ms`. */
export function zoneOffsetMs(zone: string, ms: number): number {
  if (isUtc(zone)) return 0
  let format = formatters.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      era: 'short',
    })
    formatters.set(zone, format)
  }
  const parts: Record<string, string> = {}
  for (const p of format.formatToParts(new Date(ms))) parts[p.type] = p.value
  let year = Number(parts.year)
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year
  const wall = Date.UTC(
    year,
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  )
  return wall - (ms - (((ms % 1000) + 1000) % 1000))
}

/** Epoch ms of a wall-clock time (given as if it were UTC) in `zone`. */
function wallToEpoch(wallAsUtc: number, zone: string): number {
  if (isUtc(zone)) return wallAsUtc
  const first = wallAsUtc - zoneOffsetMs(zone, wallAsUtc)
  return wallAsUtc - zoneOffsetMs(zone, first)
}

const TIMESTAMP_TEXT =
  /^(\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?(\s+BC)?$/i

/**
 * Parses the text form of a timestamp: `2024-05-01 10:00:00.123456`, with `T` or a space, an
 * optional zone (`Z`, `+02`, `+05:30`; then the value is absolute) — otherwise the wall clock in `zone`.
 */
export function parseTimestamp(text: string, zone: string): SqlTimestamp {
  const fast = parseCommonTimestamp(text, zone)
  if (fast !== undefined) return fast
  const m = TIMESTAMP_TEXT.exec(text.trim())
  if (!m) throw new DataError(`'${text}' is not a timestamp this connector can read`)
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset, bc] = m
  let year = Number(y)
  if (bc) year = 1 - year
  const date = new Date(0)
  date.setUTCFullYear(year, Number(mo) - 1, Number(d))
  date.setUTCHours(Number(h), Number(mi), Number(s), 0)
  const wall = date.getTime()
  let ms: number
  if (offset === undefined) ms = wallToEpoch(wall, zone)
  else if (offset.toUpperCase() === 'Z') ms = wall
  else {
    const sign = offset.startsWith('-') ? -1 : 1
    const digits = offset.slice(1).replaceAll(':', '')
    const seconds =
      Number(digits.slice(0, 2)) * 3600 +
      Number(digits.slice(2, 4) || 0) * 60 +
      Number(digits.slice(4, 6) || 0)
    ms = wall - sign * seconds * 1000
  }
  return { seconds: Math.floor(ms / 1000), nanos: Number(frac.padEnd(9, '0')) }
}

/** Digit value of the char at `i`, or -1. */
function digit(text: string, i: number): number {
  const c = text.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -1
}

function number(text: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) {
    const d = digit(text, i)
    if (d < 0) return -1
    n = n * 10 + d
  }
  return n
}

/**
 * The hot path of reading rows: `YYYY-MM-DD HH:MM:SS[.fffffffff]` with no zone (what PostgreSQL,
 * MySQL and SQLite print for zoneless timestamps), in a UTC zone, year ≥ 1000. Anything else: undefined.
 */
function parseCommonTimestamp(text: string, zone: string): SqlTimestamp | undefined {
  if (!isUtc(zone) || text.length < 19 || text.length > 29) return undefined
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  )
    return undefined
  const sep = text.charCodeAt(10)
  if (sep !== 32 && sep !== 84) return undefined
  const year = number(text, 0, 4)
  const month = number(text, 5, 7)
  const day = number(text, 8, 10)
  const hour = number(text, 11, 13)
  const minute = number(text, 14, 16)
  const second = number(text, 17, 19)
  if (year < 1000 || month < 1 || day < 1 || hour < 0 || minute < 0 || second < 0) return undefined
  let nanos = 0
  if (text.length > 19) {
    if (text.charCodeAt(19) !== 46 || text.length === 20) return undefined
    const frac = number(text, 20, text.length)
    if (frac < 0) return undefined
    nanos = frac * 10 ** (9 - (text.length - 20))
  }
  return { seconds: Date.UTC(year, month - 1, day, hour, minute, second) / 1000, nanos }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/**
 * The wall-clock text of `ts` in `zone`, with `fractionDigits` digits (truncated): the form bound
 * into queries (`2024-05-01 10:00:00.123456`).
 */
export function formatTimestamp(ts: SqlTimestamp, zone: string, fractionDigits: number): string {
  const ms = ts.seconds * 1000
  const wall = new Date(ms + zoneOffsetMs(zone, ms))
  const year = wall.getUTCFullYear()
  const text =
    `${year < 0 ? '-' : ''}${pad(Math.abs(year), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())} ` +
    `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`
  if (fractionDigits <= 0) return text
  return `${text}.${String(ts.nanos).padStart(9, '0').slice(0, fractionDigits)}`
}

/** `YYYY-MM-DD` → the Date at UTC midnight that Connect's Date logical type wants. */
export function parseDate(text: string): Date {
  const m = /^(\d{4,})-(\d{2})-(\d{2})/.exec(text.trim())
  if (!m) throw new DataError(`'${text}' is not a date this connector can read`)
  const date = new Date(0)
  date.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return date
}

/** `HH:MM:SS[.ffffff][+zz]` → the Date on 1970-01-01 UTC that Connect's Time logical type wants. */
export function parseTime(text: string): Date {
  const m = /^(\d{2,}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?/.exec(text.trim())
  if (!m) throw new DataError(`'${text}' is not a time of day this connector can read`)
  const ms =
    (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0)) * 1000 +
    Number((m[4] ?? '').padEnd(3, '0').slice(0, 3))
  if (ms < 0 || ms >= 86_400_000) throw new DataError(`'${text}' is not within one day`)
  return new Date(ms)
}
