/**
 * PostgreSQL text values → Kafka Connect values with Debezium's schemas (`PostgresValueConverter`).
 * Both the snapshot (a cursor read as text) and the stream (pgoutput text tuples) go through here,
 * so a row reads the same whichever path brought it. The sessions run with `TimeZone=UTC`,
 * `DateStyle=ISO`, `IntervalStyle=iso_8601`, `bytea_output=hex` and `extra_float_digits=3`
 * (`SESSION_OPTIONS`), which fixes the text forms parsed below.
 *
 * Over 600 lines because it is one table of PostgreSQL types with a parser per text form, all relying on
 * the session formats above; one place to check a type against Debezium.
 */
import { BigDecimal } from '../../api/data/big-decimal.ts'
import { bigIntToBytes, DateType, Decimal, TimestampType, TimeType } from '../../api/data/logical-types.ts'
import type { Schema } from '../../api/data/schema.ts'
import { SchemaBuilder } from '../../api/data/schema-builder.ts'
import { Struct } from '../../api/data/struct.ts'
import type { CdcSettings } from './config.ts'

export const SESSION_OPTIONS =
  '-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=iso_8601 -c bytea_output=hex -c extra_float_digits=3'

/** What the catalog says about a type (`pg_type`), resolved through domains. */
export interface PgType {
  oid: number
  name: string
  /** 'b' base, 'e' enum, 'd' domain, 'c' composite, 'r' range, 'p' pseudo, 'm' multirange. */
  kind: string
  /** For arrays: the element type. */
  element: PgType | null
  enumLabels: string[] | null
  /** For domains: the base type's modifier. */
  baseTypmod: number
}

export interface ColumnType {
  type: PgType
  typmod: number
}

/** Converts one non-null text value; `undefined` never reaches it. */
export type TextConverter = (text: string) => unknown

/**
 * Converts one non-null value from the bytes of its text (`buffer[start, end)`, UTF-8) without making
 * the text first; `undefined` when it cannot (an unusual form), and the text converter takes it.
 */
export type BytesConverter = (buffer: Buffer, start: number, end: number) => unknown

export interface ColumnConverter {
  /** Schema of the column's value, optional or not as the column is nullable. */
  schema: Schema
  convert: TextConverter
  /** The same conversion from the bytes of the text, for the common types; null for the others. */
  bytes: BytesConverter | null
  /** Value for an unchanged TOASTed column. */
  placeholder: unknown
  /** Fallback for a NOT NULL column missing from a delete's old key tuple (`""`, `0`, `false`). */
  fallback: unknown
}

const MS_PER_DAY = 86_400_000
/** Debezium's `MicroDuration.DAYS_PER_MONTH_AVG`. */
const DAYS_PER_MONTH_AVG = 365.25 / 12
const POSITIVE_INFINITY_TS = 9223372036825200000n
const NEGATIVE_INFINITY_TS = -9223372036832400000n

const VARIABLE_SCALE_DECIMAL = SchemaBuilder.struct()
  .name('io.debezium.data.VariableScaleDecimal')
  .version(1)
  .doc('Variable scaled decimal')
  .field('scale', SchemaBuilder.int32().build())
  .field('value', SchemaBuilder.bytes().build())

/** `time`/`timestamp` precision from the type modifier; -1 means the default 6. */
function timePrecision(typmod: number): number {
  return typmod < 0 ? 6 : typmod
}

/** Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH[:MM[:SS]]][ BC]` into µs since the epoch (UTC). */
export function parseTimestampMicros(text: string): number | bigint {
  const fast = isoTimestampMicros(text)
  if (fast !== undefined) return fast
  if (text === 'infinity') return POSITIVE_INFINITY_TS
  if (text === '-infinity') return NEGATIVE_INFINITY_TS
  const m =
    /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/.exec(
      text,
    )
  if (!m) throw new Error(`cannot parse timestamp '${text}'`)
  let year = Number(m[1])
  if (m[12]) year = 1 - year
  // Year, month and day set together: set one by one they break on Feb 29 and years < 100.
  const d = new Date(Date.UTC(2000, 0, 1, Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)))
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]))
  let micros = d.getTime() * 1000 + (m[7] ? Number(m[7].padEnd(6, '0')) : 0)
  if (m[8]) {
    const offsetSeconds = Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)
    micros -= (m[8] === '-' ? -1 : 1) * offsetSeconds * 1_000_000
  }
  return micros
}

/** Two ASCII digits at `i` as a number, or NaN. */
function twoDigits(t: string, i: number): number {
  const a = t.charCodeAt(i) - 48
  const b = t.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : Number.NaN
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468
}

/**
 * The shape PostgreSQL prints timestamps in under the session's ISO DateStyle —
 * `YYYY-MM-DD HH:MM:SS[.f…][±HH[:MM[:SS]]]` — read without a regular expression or a Date, for the
 * years whose µs fit a double exactly (1700–2200): every value of a typical table, many per row.
 * `undefined` for anything else (BC, other years, infinity), which the general parser reads.
 */
function isoTimestampMicros(t: string): number | undefined {
  const n = t.length
  if (n < 19 || t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 32) return undefined
  if (t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return undefined
  const year = twoDigits(t, 0) * 100 + twoDigits(t, 2)
  const month = twoDigits(t, 5)
  const day = twoDigits(t, 8)
  const seconds = twoDigits(t, 11) * 3600 + twoDigits(t, 14) * 60 + twoDigits(t, 17)
  if (!(year >= 1700 && year <= 2200) || Number.isNaN(month + day + seconds)) return undefined
  let i = 19
  let fraction = 0
  if (i < n && t.charCodeAt(i) === 46) {
    let digits = 0
    for (i++; i < n; i++, digits++) {
      const d = t.charCodeAt(i) - 48
      if (d < 0 || d > 9) break
      fraction = fraction * 10 + d
    }
    if (digits === 0 || digits > 6) return undefined
    fraction *= 10 ** (6 - digits)
  }
  let offset = 0
  if (i < n) {
    const sign = t.charCodeAt(i)
    if (sign !== 43 && sign !== 45) return undefined
    offset = twoDigits(t, i + 1) * 3600
    i += 3
    if (i < n && t.charCodeAt(i) === 58) {
      offset += twoDigits(t, i + 1) * 60
      i += 3
    }
    if (i < n && t.charCodeAt(i) === 58) {
      offset += twoDigits(t, i + 1)
      i += 3
    }
    if (i !== n || Number.isNaN(offset)) return undefined
    if (sign === 45) offset = -offset
  }
  return (daysFromCivil(year, month, day) * 86400 + seconds - offset) * 1_000_000 + fraction
}

/** Two ASCII digits at `buffer[i]` as a number, or NaN. */
function twoDigitBytes(b: Buffer, i: number): number {
  const x = b[i] - 48
  const y = b[i + 1] - 48
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : Number.NaN
}

/** `[-]digits` of at most 15 digits (an integer a double holds exactly) from bytes, or undefined. */
function integerBytes(b: Buffer, start: number, end: number): number | undefined {
  let i = start
  const negative = b[i] === 45
  if (negative) i++
  if (i === end || end - i > 15) return undefined
  let n = 0
  for (; i < end; i++) {
    const d = b[i] - 48
    if (d < 0 || d > 9) return undefined
    n = n * 10 + d
  }
  return negative ? -n : n
}

/** `[-]digits[.digits]` of at most 15 digits from bytes, as `BigDecimal.parse` reads it; else undefined. */
function plainDecimalBytes(b: Buffer, start: number, end: number): BigDecimal | undefined {
  let i = start
  const negative = b[i] === 45
  if (negative) i++
  let digits = 0
  let unscaled = 0
  let scale = -1
  for (; i < end; i++) {
    const c = b[i]
    if (c >= 48 && c <= 57) {
      unscaled = unscaled * 10 + (c - 48)
      digits++
      if (scale >= 0) scale++
    } else if (c === 46 && scale < 0 && digits > 0) scale = 0
    else return undefined
  }
  if (digits === 0 || digits > 15 || scale === 0) return undefined
  const value = BigInt(unscaled)
  return new BigDecimal(negative ? -value : value, Math.max(scale, 0))
}

/** `YYYY-MM-DD` (years 1000–9999) from bytes as days since the epoch, else undefined. */
function dateDaysBytes(b: Buffer, start: number, end: number): number | undefined {
  if (end - start !== 10 || b[start + 4] !== 45 || b[start + 7] !== 45) return undefined
  const year = twoDigitBytes(b, start) * 100 + twoDigitBytes(b, start + 2)
  const month = twoDigitBytes(b, start + 5)
  const day = twoDigitBytes(b, start + 8)
  if (year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 31)
    return daysFromCivil(year, month, day)
  return undefined
}

/** Where Debezium's ZonedTimestamp text is assembled from a timestamptz's bytes (then read as one string). */
const ZONED = Buffer.alloc(64)

/**
 * A timestamptz printed in UTC (`YYYY-MM-DD HH:MM:SS[.f…]+00`, years 1700–2200, the shape
 * `zonedTimestamp`'s fast path takes) as Debezium's ZonedTimestamp text with `digits` fraction digits,
 * assembled from the bytes; undefined for any other shape.
 */
function zonedTimestampBytes(b: Buffer, start: number, end: number, digits: number): string | undefined {
  const n = end - start
  if (n < 22 || n > 32 || b[end - 3] !== 43 || b[end - 2] !== 48 || b[end - 1] !== 48) return undefined
  if (b[start + 4] !== 45 || b[start + 7] !== 45 || b[start + 10] !== 32) return undefined
  if (b[start + 13] !== 58 || b[start + 16] !== 58) return undefined
  const year = twoDigitBytes(b, start) * 100 + twoDigitBytes(b, start + 2)
  const fields =
    twoDigitBytes(b, start + 5) +
    twoDigitBytes(b, start + 8) +
    twoDigitBytes(b, start + 11) +
    twoDigitBytes(b, start + 14) +
    twoDigitBytes(b, start + 17)
  if (!(year >= 1700 && year <= 2200) || Number.isNaN(fields)) return undefined
  // The fraction: none, or 1–6 digits after a '.', then the '+00'.
  const fractionEnd = end - 3
  let fractionDigits = 0
  if (start + 19 < fractionEnd) {
    if (b[start + 19] !== 46) return undefined
    fractionDigits = fractionEnd - (start + 20)
    if (fractionDigits < 1 || fractionDigits > 6) return undefined
    for (let i = start + 20; i < fractionEnd; i++) if (b[i] < 48 || b[i] > 57) return undefined
  }
  const out = ZONED
  b.copy(out, 0, start, start + 19)
  out[10] = 84 // T
  let length = 19
  if (digits > 0) {
    out[length++] = 46 // .
    for (let i = 0; i < digits; i++) out[length++] = i < fractionDigits ? b[start + 20 + i] : 48
  }
  out[length++] = 90 // Z
  return out.toString('latin1', 0, length)
}

function parseDateDays(text: string): number {
  if (text === 'infinity' || text === '-infinity') {
    // Debezium maps them through LocalDate.MAX/MIN epoch days.
    return text === 'infinity' ? 365241780471 : -365243219162
  }
  // `YYYY-MM-DD` (every date of years 1000–9999 under the ISO DateStyle) without a regular expression.
  if (text.length === 10 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    const year = twoDigits(text, 0) * 100 + twoDigits(text, 2)
    const month = twoDigits(text, 5)
    const day = twoDigits(text, 8)
    if (year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 31)
      return daysFromCivil(year, month, day)
  }
  const micros = parseTimestampMicros(text.slice(0, 10) + (text.endsWith(' BC') ? ' BC' : ''))
  return Math.floor(Number(micros) / 1000 / MS_PER_DAY)
}

/** `HH:MM:SS[.ffffff]` → µs since midnight (`24:00:00` allowed). */
function parseTimeMicros(text: string): number {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?/.exec(text)
  if (!m) throw new Error(`cannot parse time '${text}'`)
  return (
    ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000 +
    (m[4] ? Number(m[4].padEnd(6, '0')) : 0)
  )
}

/** `HH:MM:SS[.ffffff]` as Java's ISO_LOCAL_TIME prints it: the fraction without trailing zeros. */
function isoTimeOfDay(text: string): string {
  const m = /^(\d\d:\d\d:\d\d)(?:\.(\d+))?/.exec(text)
  if (!m) throw new Error(`cannot parse time '${text}'`)
  // java.time.LocalTime has no 24:00:00: Debezium's IsoTime wraps it to midnight.
  if (m[1] === '24:00:00') return '00:00:00'
  const fraction = (m[2] ?? '').replace(/0+$/, '')
  return fraction ? `${m[1]}.${fraction}` : m[1]
}

/** ISO-8601 instant in UTC with the fraction padded to `digits` (Debezium's ZonedTimestamp). */
export function zonedTimestamp(text: string, digits: number): string {
  if (text === 'infinity' || text === '-infinity') return text
  // Already in UTC (the session's TimeZone), as PostgreSQL prints a timestamptz: only the layout changes.
  if (text.endsWith('+00') && isoTimestampMicros(text) !== undefined) {
    const base = `${text.slice(0, 10)}T${text.slice(11, 19)}`
    if (digits === 0) return `${base}Z`
    const fraction = text.charCodeAt(19) === 46 ? text.slice(20, text.length - 3) : ''
    return `${base}.${fraction.padEnd(6, '0').slice(0, digits)}Z`
  }
  const micros = parseTimestampMicros(text) as number
  const ms = Math.floor(micros / 1000)
  const iso = new Date(ms).toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  const fraction = String(micros - Math.floor(micros / 1_000_000) * 1_000_000).padStart(6, '0')
  const base = iso.slice(0, 19)
  return digits > 0 ? `${base}.${fraction.slice(0, digits)}Z` : `${base}Z`
}

/** `HH:MM:SS[.ffffff]+HH[:MM]` → `HH:MM:SS[.ffffff]Z` in UTC (Debezium's ZonedTime). */
function zonedTime(text: string): string {
  const m = /^(\d\d):(\d\d):(\d\d)(\.\d{1,6})?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(text)
  if (!m) throw new Error(`cannot parse time with time zone '${text}'`)
  const local = (Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])
  const offset = (m[5] === '-' ? -1 : 1) * (Number(m[6]) * 3600 + Number(m[7] ?? 0) * 60 + Number(m[8] ?? 0))
  const utc = (((local - offset) % 86400) + 86400) % 86400
  const hh = String(Math.floor(utc / 3600)).padStart(2, '0')
  const mm = String(Math.floor((utc % 3600) / 60)).padStart(2, '0')
  const ss = String(utc % 60).padStart(2, '0')
  return `${hh}:${mm}:${ss}${m[4] ?? ''}Z`
}

/** ISO-8601 interval (`P1Y2M3DT4H5M6.78S`, IntervalStyle iso_8601) → µs, as Debezium's MicroDuration. */
export function intervalMicros(text: string): number {
  const m =
    /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$/.exec(
      text,
    )
  if (!m) throw new Error(`cannot parse interval '${text}'`)
  const n = (i: number): number => Number(m[i] ?? 0)
  const seconds = m[6] ?? '0'
  const whole = Math.trunc(Number(seconds))
  const micros = Math.round((Number(seconds) - whole) * 1_000_000)
  const days = (n(1) * 12 + n(2)) * DAYS_PER_MONTH_AVG + n(3)
  return Math.trunc((((days * 24 + n(4)) * 60 + n(5)) * 60 + whole) * 1_000_000 + micros)
}

function parseBytea(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex')
  throw new Error('bytea values must come in hex form (bytea_output=hex)')
}

function binaryConverter(mode: CdcSettings['binaryMode']): TextConverter {
  switch (mode) {
    case 'bytes':
      return parseBytea
    case 'base64':
      return (t) => parseBytea(t).toString('base64')
    case 'base64-url-safe':
      // Java's Base64.getUrlEncoder(): the URL-safe alphabet, with padding (Node's base64url has none).
      return (t) => parseBytea(t).toString('base64').replaceAll('+', '-').replaceAll('/', '_')
    case 'hex':
      return (t) => parseBytea(t).toString('hex')
  }
}

/** Bits as Debezium's `io.debezium.data.Bits`: `BitSet.toByteArray()`, bit 0 = the last character. */
function bitsToBytes(text: string): Uint8Array {
  const length = text.length
  const bytes = new Uint8Array(Math.ceil(length / 8))
  for (let i = 0; i < length; i++) if (text[length - 1 - i] === '1') bytes[i >> 3] |= 1 << (i & 7)
  let end = bytes.length
  while (end > 0 && bytes[end - 1] === 0) end--
  return bytes.subarray(0, end)
}

function parseFloatText(text: string): number {
  if (text === 'NaN') return Number.NaN
  if (text === 'Infinity') return Number.POSITIVE_INFINITY
  if (text === '-Infinity') return Number.NEGATIVE_INFINITY
  return Number(text)
}

/** Parses a one-dimensional PostgreSQL array literal (`{1,"a b",NULL}`) into text elements. */
export function parseArrayText(text: string): (string | null)[] {
  const out: (string | null)[] = []
  let i = text.indexOf('{') + 1
  if (text[i] === '}') return out
  while (i < text.length) {
    let value: string | null
    if (text[i] === '"') {
      let s = ''
      i++
      while (text[i] !== '"') {
        if (text[i] === '\\') i++
        s += text[i++]
      }
      i++
      value = s
    } else {
      let end = i
      while (text[end] !== ',' && text[end] !== '}') end++
      const raw = text.slice(i, end)
      value = raw === 'NULL' ? null : raw
      i = end
    }
    out.push(value)
    if (text[i] === '}') break
    i++ // ','
  }
  return out
}

/** Money text (`$1,234.56`, `-$5.00`, `($5.00)`) → its number, at the scale printed (`PostgresMoney.parse`). */
function parseMoney(text: string): BigDecimal {
  const negative = text.includes('-') || text.startsWith('(')
  const value = BigDecimal.parse(text.replace(/[^0-9.]/g, ''))
  return negative ? new BigDecimal(-value.unscaled, value.scale) : value
}

/** `BigDecimal.setScale(scale, RoundingMode.HALF_UP)`. */
export function rescaleHalfUp(value: BigDecimal, scale: number): BigDecimal {
  if (scale >= value.scale) return value.setScale(scale)
  const divisor = 10n ** BigInt(value.scale - scale)
  const negative = value.unscaled < 0n
  const abs = negative ? -value.unscaled : value.unscaled
  let q = abs / divisor
  if ((abs % divisor) * 2n >= divisor) q += 1n
  return new BigDecimal(negative ? -q : q, scale)
}

/** HSTORE output text (`"a"=>"1", "b"=>NULL`) → its pairs, in the order written. */
export function parseHstore(text: string): [string, string | null][] {
  const pairs: [string, string | null][] = []
  let i = 0
  const quoted = (): string => {
    let out = ''
    i++ // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++
      out += text[i++]
    }
    i++ // closing quote
    return out
  }
  const skipSpace = (): void => {
    while (text[i] === ' ' || text[i] === ',') i++
  }
  skipSpace()
  while (i < text.length) {
    const key = quoted()
    i += 2 // =>
    let value: string | null
    if (text[i] === '"') value = quoted()
    else {
      i += 4 // NULL
      value = null
    }
    pairs.push([key, value])
    skipSpace()
  }
  return pairs
}

/** Java's `String.hashCode()` (UTF-16 code units, 32-bit wrap-around). */
function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/**
 * The pairs in the order a `java.util.HashMap` filled with them iterates — the order Debezium writes an
 * hstore in (pgjdbc's `HStoreConverter.fromString` returns a HashMap): buckets by `hash ^ hash >>> 16`
 * at the table size the map grew to (16, doubled past 0.75 full), insertion order within a bucket.
 */
export function javaHashMapOrder<V>(pairs: [string, V][]): [string, V][] {
  let capacity = 16
  while (pairs.length > capacity * 0.75) capacity *= 2
  const buckets = new Map<number, [string, V][]>()
  for (const pair of pairs) {
    const h = javaStringHash(pair[0])
    const index = (h ^ (h >>> 16)) & (capacity - 1)
    const bucket = buckets.get(index)
    if (bucket) bucket.push(pair)
    else buckets.set(index, [pair])
  }
  return [...buckets.keys()].sort((a, b) => a - b).flatMap((k) => buckets.get(k)!)
}

/** A JSON string as Jackson writes it (control characters as `\\uXXXX` upper case, else as is). */
function jacksonString(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.charCodeAt(0)
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (c < 0x20) {
      const short: Record<number, string> = { 8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r' }
      out += short[c] ? `\\${short[c]}` : `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`
    } else out += ch
  }
  return `${out}"`
}

/** HSTORE as Debezium's `hstore.handling.mode=json` writes it (Jackson, HashMap order, no spaces). */
export function hstoreJson(text: string): string {
  const fields = javaHashMapOrder(parseHstore(text)).map(
    ([k, v]) => `${jacksonString(k)}:${v === null ? 'null' : jacksonString(v)}`,
  )
  return `{${fields.join(',')}}`
}

export const POINT_SCHEMA_NAME = 'io.debezium.data.geometry.Point'

/** `(x,y)` → Debezium's Point value: x, y and the WKB of a 2D point (little endian), no SRID. */
function pointValue(text: string): { x: number; y: number; wkb: Buffer } {
  const m = /^\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)$/.exec(text)
  if (!m) throw new Error(`cannot parse point '${text}'`)
  return pointOf(parseFloatText(m[1]), parseFloatText(m[2]))
}

function pointOf(x: number, y: number): { x: number; y: number; wkb: Buffer } {
  const wkb = Buffer.alloc(21)
  wkb.writeUInt8(1, 0) // little endian
  wkb.writeUInt32LE(1, 1) // wkbPoint
  wkb.writeDoubleLE(x, 5)
  wkb.writeDoubleLE(y, 13)
  return { x, y, wkb }
}

/**
 * ISO-8601 interval text (IntervalStyle iso_8601: `P1Y2M3DT4H5M6.78S`, zero parts left out) → Debezium's
 * `Interval.toIsoString`: every part written, seconds without trailing zeros (`P0Y0M3DT0H0M0S`).
 */
export function intervalIsoString(text: string): string {
  const m =
    /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$/.exec(
      text,
    )
  if (!m) throw new Error(`cannot parse interval '${text}'`)
  let seconds = m[6] ?? '0'
  if (seconds.includes('.')) seconds = seconds.replace(/0+$/, '').replace(/\.$/, '')
  if (/^-?0$/.test(seconds)) seconds = '0'
  const n = (i: number): number => Number(m[i] ?? 0)
  return `P${n(1)}Y${n(2)}M${n(3)}DT${n(4)}H${n(5)}M${seconds}S`
}

const GEOMETRIC_TYPES = new Set(['box', 'circle', 'line', 'lseg', 'path', 'polygon'])

/** A double as Java's `Double.toString` writes it (`1.0`, `0.5`, `1.0E10`, `1.5E-4`). */
export function javaDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity'
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0'
  const abs = Math.abs(n)
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(n)
    return s.includes('.') ? s : `${s}.0`
  }
  const [mantissa, exponent] = n.toExponential().split('e')
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`
}

/** Geometric text (`(1,1),(0,0)`, `<(1,2),3>`, …) with its numbers as Java writes doubles. */
function javaGeometricText(text: string): string {
  return text.replace(/-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|-?Infinity|NaN/gi, (n) => javaDouble(Number(n)))
}

/** Array element types whose arrays Debezium 3.6 leaves out (`PostgresValueConverter.schemaBuilder`). */
const UNMAPPED_ARRAY_ELEMENTS = new Set(['money', 'name', 'interval', 'varbit', 'xml', 'point'])

interface Mapping {
  builder: () => SchemaBuilder
  convert: TextConverter
  bytes?: BytesConverter
  fallback: unknown
}

/**
 * The Debezium mapping of one column type, or null when the type has none (the column is then left
 * out, unless `include.unknown.datatypes`).
 */
function mapping(column: ColumnType, settings: CdcSettings, depth = 0): Mapping | null {
  const { type } = column
  const typmod = type.kind === 'd' ? type.baseTypmod : column.typmod
  const str = (name?: string, params?: Record<string, string>): (() => SchemaBuilder) => {
    return () => {
      const b = SchemaBuilder.string()
      if (name) b.name(name).version(1)
      for (const [k, v] of Object.entries(params ?? {})) b.parameter(k, v)
      return b
    }
  }
  const same = (t: string): string => t
  if (type.kind === 'e') {
    return {
      builder: str('io.debezium.data.Enum', { allowed: (type.enumLabels ?? []).join(',') }),
      convert: same,
      fallback: '',
    }
  }
  if (type.element && depth === 0) {
    if (UNMAPPED_ARRAY_ELEMENTS.has(type.element.name)) return null
    const element = mapping({ type: type.element, typmod }, settings, 1)
    if (!element) return null
    // Debezium's arrays of enums have required elements; all others optional ones.
    const elementBuilder = element.builder()
    const elementSchema = (type.element.kind === 'e' ? elementBuilder : elementBuilder.optional()).build()
    return {
      builder: () => SchemaBuilder.array(elementSchema),
      convert: (t) => parseArrayText(t).map((e) => (e === null ? null : element.convert(e))),
      fallback: [],
    }
  }
  const precise = settings.decimalMode === 'precise'
  const tpm = settings.timePrecisionMode
  switch (type.name) {
    case 'bool':
      return {
        builder: SchemaBuilder.bool,
        convert: (t) => t === 't' || t === 'true',
        bytes: (b, start, end) => (end - start === 1 ? b[start] === 116 /* t */ : undefined),
        fallback: false,
      }
    case 'int2':
      return { builder: SchemaBuilder.int16, convert: Number, bytes: integerBytes, fallback: 0 }
    case 'int4':
      return { builder: SchemaBuilder.int32, convert: Number, bytes: integerBytes, fallback: 0 }
    case 'int8':
    case 'oid':
      return {
        builder: SchemaBuilder.int64,
        convert: (t) => {
          const n = Number(t)
          return Number.isSafeInteger(n) ? n : BigInt(t)
        },
        bytes: integerBytes,
        fallback: 0,
      }
    case 'float4':
      return { builder: SchemaBuilder.float32, convert: parseFloatText, fallback: 0 }
    case 'float8':
      return { builder: SchemaBuilder.float64, convert: parseFloatText, fallback: 0 }
    case 'numeric': {
      if (settings.decimalMode === 'double')
        return { builder: SchemaBuilder.float64, convert: parseFloatText, fallback: 0 }
      if (settings.decimalMode === 'string')
        return { builder: SchemaBuilder.string, convert: (t) => (t === 'NaN' ? 'NAN' : t), fallback: '' }
      if (typmod < 0) {
        return {
          builder: () => SchemaBuilder.from(VARIABLE_SCALE_DECIMAL.build()),
          convert: (t) => {
            if (t === 'NaN') return null
            const d = BigDecimal.parse(t)
            return { scale: d.scale, value: bigIntToBytes(d.unscaled) }
          },
          fallback: null,
        }
      }
      const precision = ((typmod - 4) >> 16) & 0xffff
      const scale = (typmod - 4) & 0xffff
      return {
        builder: () => Decimal.builder(scale).parameter('connect.decimal.precision', String(precision)),
        convert: (t) => (t === 'NaN' ? null : BigDecimal.parse(t).setScale(scale)),
        bytes: (b, start, end) => plainDecimalBytes(b, start, end)?.setScale(scale),
        fallback: new BigDecimal(0n, scale),
      }
    }
    case 'money': {
      // Debezium: precise rounds half up to money.fraction.digits; double and string keep the printed value.
      const digits = settings.moneyFractionDigits
      if (!precise) {
        return settings.decimalMode === 'double'
          ? { builder: SchemaBuilder.float64, convert: (t) => parseMoney(t).toNumber(), fallback: 0 }
          : {
              builder: SchemaBuilder.string,
              convert: (t) => parseMoney(t).toString(),
              fallback: new BigDecimal(0n, digits).toString(),
            }
      }
      return {
        builder: () => Decimal.builder(digits),
        convert: (t) => rescaleHalfUp(parseMoney(t), digits),
        fallback: new BigDecimal(0n, digits),
      }
    }
    case 'point':
      return {
        builder: () =>
          SchemaBuilder.struct()
            .name(POINT_SCHEMA_NAME)
            .version(1)
            .doc('Geometry (POINT)')
            .field('x', SchemaBuilder.float64().build())
            .field('y', SchemaBuilder.float64().build())
            .field('wkb', SchemaBuilder.bytes().optional().build())
            .field('srid', SchemaBuilder.int32().optional().build()),
        convert: pointValue,
        fallback: pointOf(0, 0),
      }
    case 'hstore':
      if (settings.hstoreMode === 'map') {
        return {
          builder: () =>
            SchemaBuilder.map(SchemaBuilder.string().build(), SchemaBuilder.string().optional().build()),
          convert: (t) => new Map(javaHashMapOrder(parseHstore(t))),
          fallback: new Map(),
        }
      }
      return { builder: str('io.debezium.data.Json'), convert: hstoreJson, fallback: '{}' }
    case 'bpchar':
    case 'varchar':
    case 'text':
    case 'char':
    case 'name':
    case 'citext':
    case 'inet':
    case 'cidr':
    case 'macaddr':
    case 'macaddr8':
    case 'int4range':
    case 'int8range':
    case 'numrange':
    case 'tsrange':
    case 'tstzrange':
    case 'daterange':
    case 'isbn': // of the isn extension (Debezium maps isbn alone; ean13, issn, … are unknown types)
      return { builder: SchemaBuilder.string, convert: same, fallback: '' }
    case 'json':
    case 'jsonb':
      return { builder: str('io.debezium.data.Json'), convert: same, fallback: '' }
    case 'xml':
      return { builder: str('io.debezium.data.Xml'), convert: same, fallback: '' }
    case 'uuid':
      return { builder: str('io.debezium.data.Uuid'), convert: same, fallback: '' }
    case 'ltree':
      return { builder: str('io.debezium.data.Ltree'), convert: same, fallback: '' }
    case 'tsvector':
      return { builder: str('io.debezium.data.Tsvector'), convert: same, fallback: '' }
    case 'bytea': {
      const convert = binaryConverter(settings.binaryMode)
      return settings.binaryMode === 'bytes'
        ? { builder: SchemaBuilder.bytes, convert, fallback: new Uint8Array(0) }
        : { builder: SchemaBuilder.string, convert, fallback: '' }
    }
    case 'bit':
    case 'varbit': {
      if (type.name === 'bit' && typmod <= 1) {
        return { builder: SchemaBuilder.bool, convert: (t) => t === '1', fallback: false }
      }
      return {
        builder: () =>
          SchemaBuilder.bytes()
            .name('io.debezium.data.Bits')
            .version(1)
            .parameter('length', String(Math.max(typmod, 0))),
        convert: bitsToBytes,
        fallback: new Uint8Array(0),
      }
    }
    case 'date':
      if (tpm === 'isostring')
        return {
          builder: str('io.debezium.time.IsoDate'),
          convert: (t) => `${t.slice(0, 10)}Z`,
          fallback: '',
        }
      if (tpm === 'connect')
        return {
          builder: DateType.builder,
          convert: (t) => new Date(parseDateDays(t) * MS_PER_DAY),
          fallback: new Date(0),
        }
      return {
        builder: () => SchemaBuilder.int32().name('io.debezium.time.Date').version(1),
        convert: parseDateDays,
        bytes: dateDaysBytes,
        fallback: 0,
      }
    case 'time': {
      const p = timePrecision(typmod)
      if (tpm === 'isostring')
        return {
          builder: str('io.debezium.time.IsoTime'),
          convert: (t) => `${isoTimeOfDay(t)}Z`,
          fallback: '',
        }
      if (tpm === 'nanoseconds')
        return {
          builder: () => SchemaBuilder.int64().name('io.debezium.time.NanoTime').version(1),
          convert: (t) => parseTimeMicros(t) * 1000,
          fallback: 0,
        }
      if (tpm === 'connect')
        return {
          builder: TimeType.builder,
          convert: (t) => new Date(Math.floor(parseTimeMicros(t) / 1000)),
          fallback: new Date(0),
        }
      if (tpm === 'adaptive' && p <= 3)
        return {
          builder: () => SchemaBuilder.int32().name('io.debezium.time.Time').version(1),
          convert: (t) => Math.floor(parseTimeMicros(t) / 1000),
          fallback: 0,
        }
      return {
        builder: () => SchemaBuilder.int64().name('io.debezium.time.MicroTime').version(1),
        convert: parseTimeMicros,
        fallback: 0,
      }
    }
    case 'timetz':
      return { builder: str('io.debezium.time.ZonedTime'), convert: zonedTime, fallback: '' }
    case 'timestamp': {
      const p = timePrecision(typmod)
      if (tpm === 'isostring')
        return {
          builder: str('io.debezium.time.IsoTimestamp'),
          convert: (t) => `${t.slice(0, 10)}T${isoTimeOfDay(t.slice(11))}Z`,
          fallback: '',
        }
      if (tpm === 'nanoseconds')
        return {
          builder: () => SchemaBuilder.int64().name('io.debezium.time.NanoTimestamp').version(1),
          convert: (t) => {
            // Whole seconds and the fraction apart: µs near 2262 are beyond a double's exact integers.
            const fraction = /\.(\d+)/.exec(t)?.[1] ?? ''
            const seconds = t.endsWith('infinity')
              ? 0
              : Math.round(Number(parseTimestampMicros(t.replace(/\.\d+/, ''))) / 1e6)
            const nanos = BigInt(seconds) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0') || '0')
            if (nanos > 2n ** 63n - 1n || nanos < -(2n ** 63n) || t.endsWith('infinity'))
              throw new Error(
                `timestamp '${t}' is outside the range of INT64 epoch nanoseconds (1677-09-21 to 2262-04-11): ` +
                  "use time.precision.mode 'microseconds' or 'isostring'",
              )
            return nanos
          },
          fallback: 0,
        }
      if (tpm === 'microseconds')
        return {
          builder: () => SchemaBuilder.int64().name('io.debezium.time.MicroTimestamp').version(1),
          convert: parseTimestampMicros,
          fallback: 0,
        }
      if (tpm === 'connect')
        return {
          builder: TimestampType.builder,
          convert: (t) => new Date(Math.floor(Number(parseTimestampMicros(t)) / 1000)),
          fallback: new Date(0),
        }
      if (p <= 3)
        return {
          builder: () => SchemaBuilder.int64().name('io.debezium.time.Timestamp').version(1),
          convert: (t) => {
            const us = parseTimestampMicros(t)
            return typeof us === 'bigint' ? us : Math.floor(us / 1000)
          },
          fallback: 0,
        }
      return {
        builder: () => SchemaBuilder.int64().name('io.debezium.time.MicroTimestamp').version(1),
        convert: parseTimestampMicros,
        fallback: 0,
      }
    }
    case 'timestamptz': {
      const p = timePrecision(typmod)
      return {
        builder: str('io.debezium.time.ZonedTimestamp'),
        convert: (t) => zonedTimestamp(t, p),
        bytes: (b, start, end) => zonedTimestampBytes(b, start, end, p),
        fallback: '',
      }
    }
    case 'interval':
      if (settings.intervalMode === 'string')
        return {
          builder: str('io.debezium.time.Interval'),
          convert: intervalIsoString,
          fallback: 'P0Y0M0DT0H0M0S',
        }
      return {
        builder: () => SchemaBuilder.int64().name('io.debezium.time.MicroDuration').version(1),
        convert: intervalMicros,
        fallback: 0,
      }
    default: {
      // Debezium: the text of the value as bytes, shaped by binary.handling.mode. Geometric types pass
      // through pgjdbc's PGbox, PGcircle, … first, whose text has Java's doubles (`1.0`, `1.0E10`).
      if (!settings.includeUnknownTypes || depth > 0) return null
      const binary = binaryConverter(settings.binaryMode)
      const text = GEOMETRIC_TYPES.has(type.name) ? javaGeometricText : same
      const convert = (t: string): unknown => binary(`\\x${Buffer.from(text(t), 'utf8').toString('hex')}`)
      return settings.binaryMode === 'bytes'
        ? { builder: SchemaBuilder.bytes, convert, fallback: new Uint8Array(0) }
        : { builder: SchemaBuilder.string, convert, fallback: '' }
    }
  }
}

/** Placeholder for unchanged TOAST values, typed as Debezium types it. */
function placeholderFor(schema: Schema, placeholder: string): unknown {
  switch (schema.type) {
    case 'STRING':
      return placeholder
    case 'BYTES':
      return Buffer.from(placeholder, 'utf8')
    case 'ARRAY':
      return schema.valueSchema?.type === 'STRING' ? [placeholder] : []
    default:
      return null
  }
}

/** Converts column default expressions as Debezium's `PostgresDefaultValueConverter` does. */
export function defaultValueText(expression: string | null, typeName: string): string | null | undefined {
  if (expression === null) return undefined
  if (expression.startsWith('NULL::')) return null
  const placeholders: Record<string, string> = {
    bool: 'false',
    bpchar: '',
    varchar: '',
    text: '',
    numeric: '0.0',
    float4: '0.0',
    float8: '0.0',
    int2: '0',
    int4: '0',
    int8: '0',
    json: '{}',
    jsonb: '{}',
    uuid: '00000000-0000-0000-0000-000000000000',
    date: '1970-01-01',
    timestamp: '1970-01-01',
    timestamptz: '1970-01-01',
    time: '00:00',
  }
  if (!(typeName in placeholders)) return undefined
  const trimmed = expression.trim()
  if (
    /^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)/.test(trimmed) ||
    /^(current_timestamp|current_time|current_date|localtime|localtimestamp)$/i.test(trimmed)
  ) {
    return placeholders[typeName]
  }
  if (!trimmed.includes("'")) return trimmed
  return /'(.*?)'/.exec(trimmed)?.[1] ?? undefined
}

/**
 * A column's converter, or null when its type is left out. `optional` follows the column's
 * nullability; `defaultText` is the default expression (from `pg_attrdef`), if any.
 */
export function columnConverter(
  column: ColumnType,
  optional: boolean,
  defaultExpression: string | null,
  settings: CdcSettings,
): ColumnConverter | null {
  const m = mapping(column, settings)
  if (!m) return null
  const builder = m.builder()
  if (optional) builder.optional()
  const typeName = column.type.kind === 'd' ? column.type.name : column.type.name
  const defaultText = column.type.element ? undefined : defaultValueText(defaultExpression, typeName)
  if (defaultText !== undefined && defaultText !== null && builder.type !== 'STRUCT') {
    try {
      const value = m.convert(
        defaultText === '1970-01-01' && typeName === 'timestamptz' ? '1970-01-01 00:00:00+00' : defaultText,
      )
      if (value !== null) builder.defaultValue(value)
    } catch {
      // An expression we cannot evaluate: no default, as Debezium.
    }
  }
  const schema = builder.build()
  // VariableScaleDecimal and Point values become Structs of this column's own (optional or required) schema.
  const toStruct = (v: Record<string, unknown> | null): Struct | null => {
    if (v === null) return null
    const struct = new Struct(schema)
    for (const [k, x] of Object.entries(v)) struct.put(k, x)
    return struct
  }
  const convert: TextConverter =
    schema.type === 'STRUCT' ? (t) => toStruct(m.convert(t) as Record<string, unknown> | null) : m.convert
  return {
    schema,
    convert,
    bytes: schema.type === 'STRUCT' ? null : (m.bytes ?? null),
    placeholder: placeholderFor(schema, settings.unavailablePlaceholder),
    fallback: optional
      ? null
      : schema.type === 'STRUCT'
        ? toStruct(m.fallback as Record<string, unknown>)
        : m.fallback,
  }
}
