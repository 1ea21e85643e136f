/**
 * The part of Joda-Time's `DateTimeFormat` patterns that `path.format` uses (Confluent's
 * TimeBasedPartitioner formats with Joda): quoted literals ('' is a quote), y/Y (year of era: in
 * Joda, `YYYY` is *not* a week-based year), x (week year), M (MM digits, MMM/MMMM names), d, D,
 * H, k, h, K, m, s, S (fraction), E (day name), a (AM/PM), w (week of week year), e (day of week),
 * Z (offset). Field values are those of a time zone, given by its IANA ID or a fixed offset.
 */
import { ConfigError } from '../../api/errors.ts'

type Token = { literal: string } | { letter: string; count: number }

const LETTERS = new Set('yYxMdDHkhKmsSEawZe'.split(''))

export function parseJodaPattern(pattern: string, key: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i]
    if (c === "'") {
      let j = i + 1
      let text = ''
      for (;;) {
        if (j >= pattern.length) throw new ConfigError(key, `Unterminated quote in the pattern '${pattern}'`)
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'"
            j += 2
            continue
          }
          break
        }
        text += pattern[j++]
      }
      tokens.push({ literal: j === i + 1 ? "'" : text })
      i = j + 1
    } else if (/[a-zA-Z]/.test(c)) {
      if (!LETTERS.has(c))
        throw new ConfigError(
          key,
          `Illegal pattern component '${c}' in '${pattern}' (Joda-Time pattern letters)`,
        )
      let j = i
      while (pattern[j] === c) j++
      tokens.push({ letter: c, count: j - i })
      i = j
    } else {
      tokens.push({ literal: c })
      i++
    }
  }
  return tokens
}

/** Wall-clock fields of an instant in a zone. */
interface Fields {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  ms: number
  weekday: number // 1 = Monday … 7 = Sunday (ISO)
  offsetMs: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    })
    formatters.set(zone, f)
  }
  return f
}

/** The zone's offset from UTC at `instant`, in ms. */
export function zoneOffsetMs(zone: string, instant: number): number {
  const fixed = /^([+-])(\d{2}):(\d{2})$/.exec(zone)
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 3_600_000 + Number(fixed[3]) * 60_000)
  if (zone === 'UTC' || zone === 'Z') return 0
  const parts: Record<string, string> = {}
  for (const p of zoneFormatter(zone).formatToParts(new Date(instant))) parts[p.type] = p.value
  let year = Number(parts.year)
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year
  const local = Date.UTC(
    year,
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  )
  const truncated = instant - (((instant % 1000) + 1000) % 1000)
  return local - truncated
}

/** Joda's `convertLocalToUTC`: the instant whose wall clock in `zone` reads `local`. */
export function localToUtc(zone: string, local: number): number {
  const guess = local - zoneOffsetMs(zone, local)
  const offset = zoneOffsetMs(zone, guess)
  return local - offset
}

function fieldsOf(zone: string, instant: number): Fields {
  const offsetMs = zoneOffsetMs(zone, instant)
  const d = new Date(instant + offsetMs)
  const weekday = d.getUTCDay()
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
    weekday: weekday === 0 ? 7 : weekday,
    offsetMs,
  }
}

function pad(value: number, width: number): string {
  const text = String(Math.abs(value)).padStart(width, '0')
  return value < 0 ? `-${text}` : text
}

/** ISO week of week-year (Joda's defaults: weeks start Monday, the first week has four days). */
function isoWeek(f: Fields): { weekYear: number; week: number } {
  const date = Date.UTC(f.year, f.month - 1, f.day)
  const thursday = date + (4 - f.weekday) * 86_400_000
  const weekYear = new Date(thursday).getUTCFullYear()
  const week = Math.floor((thursday - Date.UTC(weekYear, 0, 1)) / (7 * 86_400_000)) + 1
  return { weekYear, week }
}

/** A compiled pattern: formats instants in a zone and a locale (for month and day names). */
export class JodaFormatter {
  readonly #tokens: Token[]
  readonly #zone: string
  readonly #locale: string

  constructor(pattern: string, zone: string, locale: string, key = 'path.format') {
    this.#tokens = parseJodaPattern(pattern, key)
    this.#zone = zone
    this.#locale = locale.replace('_', '-') || 'en-US'
  }

  format(instant: number): string {
    const f = fieldsOf(this.#zone, instant)
    let out = ''
    for (const t of this.#tokens) {
      if ('literal' in t) {
        out += t.literal
        continue
      }
      const n = t.count
      switch (t.letter) {
        case 'y':
        case 'Y':
          out += n === 2 ? pad(((f.year % 100) + 100) % 100, 2) : pad(f.year, n)
          break
        case 'x': {
          const wy = isoWeek(f).weekYear
          out += n === 2 ? pad(wy % 100, 2) : pad(wy, n)
          break
        }
        case 'w':
          out += pad(isoWeek(f).week, n)
          break
        case 'M':
          out += n >= 3 ? this.#name(f, { month: n === 3 ? 'short' : 'long' }) : pad(f.month, n)
          break
        case 'd':
          out += pad(f.day, n)
          break
        case 'D': {
          const dayOfYear =
            Math.floor((Date.UTC(f.year, f.month - 1, f.day) - Date.UTC(f.year, 0, 1)) / 86_400_000) + 1
          out += pad(dayOfYear, n)
          break
        }
        case 'H':
          out += pad(f.hour, n)
          break
        case 'k':
          out += pad(f.hour === 0 ? 24 : f.hour, n)
          break
        case 'h':
          out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, n)
          break
        case 'K':
          out += pad(f.hour % 12, n)
          break
        case 'm':
          out += pad(f.minute, n)
          break
        case 's':
          out += pad(f.second, n)
          break
        case 'S':
          out += pad(f.ms, 3).slice(0, n).padEnd(n, '0')
          break
        case 'e':
          out += pad(f.weekday, n)
          break
        case 'E':
          out += this.#name(f, { weekday: n >= 4 ? 'long' : 'short' })
          break
        case 'a':
          out += f.hour < 12 ? 'AM' : 'PM'
          break
        case 'Z': {
          const sign = f.offsetMs < 0 ? '-' : '+'
          const abs = Math.abs(f.offsetMs) / 60_000
          const hh = pad(Math.floor(abs / 60), 2)
          const mm = pad(abs % 60, 2)
          out += n === 1 ? `${sign}${hh}${mm}` : `${sign}${hh}:${mm}`
          break
        }
      }
    }
    return out
  }

  #name(f: Fields, options: Intl.DateTimeFormatOptions): string {
    const date = new Date(Date.UTC(f.year, f.month - 1, f.day, 12))
    return new Intl.DateTimeFormat(this.#locale, { ...options, timeZone: 'UTC' }).format(date)
  }
}
