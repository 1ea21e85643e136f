/**
 * `java.text.SimpleDateFormat` in UTC with the English locale, as TimestampConverter and
 * TimestampRouter use it (both set the time zone to UTC).
 *
 * Pattern letters: G y Y M L d D E u a H k K h m s S z Z X, text in single quotes and `''` for a
 * quote. `Y` formats the week year of the US locale's calendar (weeks from Sunday, week 1 holds
 * January 1: 2024-12-29 is week year 2025); parsing `Y` (without a later `y`) gives a day of week 1
 * of that week year, the pattern's day of week or Sunday, as Java's lenient parser does. `w`, `W`
 * and `F` (week-based fields) are rejected. Formatting is exact for these letters; parsing is lenient
 * as Java's is by default: numbers take as many digits as are there (exactly the pattern width when the next field is a number too, as in `yyyyMMdd`), fields roll over (month 13 is
 * January of the next year), and text after the pattern is ignored. Two-digit `yy` years fall within
 * 80 years before and 20 after now, as Java's default century. The proleptic Gregorian calendar is
 * used throughout (Java switches to the Julian calendar before 1582-10-15).
 */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const NUMERIC = new Set(['y', 'Y', 'u', 'M', 'L', 'd', 'D', 'H', 'k', 'K', 'h', 'm', 's', 'S'])
const SUPPORTED = new Set([...NUMERIC, 'G', 'E', 'a', 'z', 'Z', 'X'])

type Token = { kind: 'literal'; text: string } | { kind: 'field'; letter: string; count: number }

export class SimpleDateFormat {
  readonly pattern: string
  readonly #tokens: Token[]

  /** Throws an `Error` for an illegal pattern, as Java's constructor throws IllegalArgumentException. */
  constructor(pattern: string) {
    this.pattern = pattern
    this.#tokens = tokenize(pattern)
  }

  toPattern(): string {
    return this.pattern
  }

  format(date: Date): string {
    let out = ''
    for (const t of this.#tokens) out += t.kind === 'literal' ? t.text : formatField(date, t.letter, t.count)
    return out
  }

  /** The instant the text stands for; throws an `Error` ("Unparseable date") when it does not parse. */
  parse(text: string): Date {
    const f = {
      year: 1970,
      month: 0,
      day: 1,
      dayOfYear: undefined as number | undefined,
      hour: 0,
      minute: 0,
      second: 0,
      ms: 0,
      pm: undefined as boolean | undefined,
      hour12: undefined as number | undefined,
      offsetMinutes: 0,
      bc: false,
      /** `Y` read after any `y`: Java's CalendarBuilder then resolves a week date. */
      weekYear: undefined as number | undefined,
      dayOfWeek: undefined as number | undefined,
    }
    let pos = 0
    const fail = (): never => {
      throw new Error(`Unparseable date: "${text}"`)
    }
    for (let i = 0; i < this.#tokens.length; i++) {
      const t = this.#tokens[i]
      if (t.kind === 'literal') {
        if (!text.startsWith(t.text, pos)) fail()
        pos += t.text.length
        continue
      }
      const next = this.#tokens[i + 1]
      const fixed = next?.kind === 'field' && NUMERIC.has(next.letter) && NUMERIC.has(t.letter)
      if (NUMERIC.has(t.letter) && !((t.letter === 'M' || t.letter === 'L') && t.count >= 3)) {
        {
          const m = (fixed ? new RegExp(`^[+-]?\\d{1,${t.count}}`) : /^[+-]?\d+/).exec(text.slice(pos))
          if (!m) fail()
          pos += m![0].length
          const n = Number(m![0])
          switch (t.letter) {
            case 'u':
              f.dayOfWeek = n % 7
              break
            case 'y':
              f.year = t.count <= 2 && m![0].length === 2 && /^\d\d$/.test(m![0]) ? twoDigitYear(n) : n
              f.weekYear = undefined
              break
            case 'Y':
              f.weekYear = t.count <= 2 && m![0].length === 2 && /^\d\d$/.test(m![0]) ? twoDigitYear(n) : n
              break
            case 'M':
            case 'L':
              f.month = n - 1
              break
            case 'd':
              f.day = n
              break
            case 'D':
              f.dayOfYear = n
              break
            case 'H':
              f.hour = n
              break
            case 'k':
              f.hour = n === 24 ? 0 : n
              break
            case 'K':
            case 'h':
              f.hour12 = t.letter === 'h' && n === 12 ? 0 : n
              break
            case 'm':
              f.minute = n
              break
            case 's':
              f.second = n
              break
            case 'S':
              f.ms = n
              break
          }
          continue
        }
      }
      const rest = text.slice(pos)
      switch (t.letter) {
        case 'M':
        case 'L': {
          const idx = matchName(rest, MONTHS)
          if (!idx) fail()
          f.month = idx![0]
          pos += idx![1]
          break
        }
        case 'E': {
          const idx = matchName(rest, DAYS)
          if (!idx) fail()
          f.dayOfWeek = idx![0]
          pos += idx![1]
          break
        }
        case 'a': {
          const m = /^(AM|PM)/i.exec(rest)
          if (!m) fail()
          f.pm = m![1].toUpperCase() === 'PM'
          pos += 2
          break
        }
        case 'G': {
          const m = /^(AD|BC)/i.exec(rest)
          if (!m) fail()
          f.bc = m![1].toUpperCase() === 'BC'
          pos += 2
          break
        }
        case 'z':
        case 'Z':
        case 'X': {
          const zone = parseZone(rest, t.letter)
          if (!zone) fail()
          f.offsetMinutes = zone![0]
          pos += zone![1]
          break
        }
      }
    }
    let hour = f.hour
    if (f.hour12 !== undefined) hour = f.hour12 + (f.pm ? 12 : 0)
    else if (f.pm !== undefined && hour < 12 && f.pm) hour += 12
    if (f.weekYear !== undefined) {
      // GregorianCalendar.setWeekDate(weekYear, 1, dayOfWeek ?? SUNDAY): month and day are overridden,
      // as Java's parser does (2024-06-15 read with YYYY-MM-dd is Sunday 2023-12-31).
      const weekYear = f.bc ? 1 - f.weekYear : f.weekYear
      const jan1 = utc(weekYear, 0, 1, hour, f.minute, f.second, f.ms)
      const firstSunday = jan1 - new Date(jan1).getUTCDay() * 86_400_000
      return new Date(firstSunday + (f.dayOfWeek ?? 0) * 86_400_000 - f.offsetMinutes * 60_000)
    }
    const year = f.bc ? 1 - f.year : f.year
    const ms =
      f.dayOfYear !== undefined
        ? utc(year, 0, f.dayOfYear, hour, f.minute, f.second, f.ms)
        : utc(year, f.month, f.day, hour, f.minute, f.second, f.ms)
    return new Date(ms - f.offsetMinutes * 60_000)
  }
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const date = new Date(0)
  date.setUTCFullYear(y, mo, d)
  date.setUTCHours(h, mi, s, ms)
  return date.getTime()
}

function twoDigitYear(n: number): number {
  const now = new Date()
  const start = now.getUTCFullYear() - 80
  let year = Math.floor(start / 100) * 100 + n
  if (year < start) year += 100
  return year
}

function matchName(text: string, names: string[]): [number, number] | undefined {
  const lower = text.toLowerCase()
  for (let i = 0; i < names.length; i++)
    if (lower.startsWith(names[i].toLowerCase())) return [i, names[i].length]
  for (let i = 0; i < names.length; i++) {
    if (lower.startsWith(names[i].slice(0, 3).toLowerCase())) return [i, 3]
  }
  return undefined
}

function parseZone(text: string, letter: string): [number, number] | undefined {
  if (letter === 'X' && text.startsWith('Z')) return [0, 1]
  const named = /^(UTC|GMT|Z)(?![A-Za-z])/.exec(text)
  if (named && letter !== 'X') {
    const rest = /^([+-])(\d{1,2}):?(\d{2})?/.exec(text.slice(named[0].length))
    if (!rest || named[1] === 'Z') return [0, named[0].length]
    const sign = rest[1] === '-' ? -1 : 1
    return [sign * (Number(rest[2]) * 60 + Number(rest[3] ?? 0)), named[0].length + rest[0].length]
  }
  const m = /^([+-])(\d{2}):?(\d{2})?/.exec(text)
  if (!m) return undefined
  const sign = m[1] === '-' ? -1 : 1
  return [sign * (Number(m[2]) * 60 + Number(m[3] ?? 0)), m[0].length]
}

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = []
  let literal = ''
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        literal += "'"
        i += 2
        continue
      }
      const end = pattern.indexOf("'", i + 1)
      if (end < 0) throw new Error(`Unterminated quote in pattern "${pattern}"`)
      let j = i + 1
      let text = ''
      // '' inside quotes is one quote
      for (; j < pattern.length; j++) {
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'"
            j++
            continue
          }
          break
        }
        text += pattern[j]
      }
      if (j >= pattern.length) throw new Error(`Unterminated quote in pattern "${pattern}"`)
      literal += text
      i = j + 1
      continue
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      if (!SUPPORTED.has(c)) {
        throw new Error(
          'wWF'.includes(c)
            ? `pattern letter '${c}' (week-based) is not supported`
            : `Illegal pattern character '${c}'`,
        )
      }
      let j = i
      while (pattern[j] === c) j++
      if (literal) tokens.push({ kind: 'literal', text: literal })
      literal = ''
      tokens.push({ kind: 'field', letter: c, count: j - i })
      i = j
      continue
    }
    literal += c
    i++
  }
  if (literal) tokens.push({ kind: 'literal', text: literal })
  return tokens
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0')
  return n < 0 ? `-${s}` : s
}

/**
 * GregorianCalendar's week year for the default US locale (firstDayOfWeek SUNDAY,
 * minimalDaysInFirstWeek 1): week 1 is the Sunday-to-Saturday week holding January 1, so the last
 * days of December belong to the next week year when their week reaches into January.
 */
function weekYear(date: Date): number {
  const year = date.getUTCFullYear()
  const saturday = new Date(date.getTime() + (6 - date.getUTCDay()) * 86_400_000)
  return saturday.getUTCFullYear() > year ? year + 1 : year
}

function formatField(date: Date, letter: string, count: number): string {
  const year = date.getUTCFullYear()
  switch (letter) {
    case 'G':
      return year > 0 ? 'AD' : 'BC'
    case 'u':
      return pad(date.getUTCDay() === 0 ? 7 : date.getUTCDay(), count)
    case 'y':
    case 'Y': {
      const full = letter === 'Y' ? weekYear(date) : year
      const y = full > 0 ? full : 1 - full
      return count === 2 ? pad(y % 100, 2) : pad(y, count)
    }
    case 'M':
    case 'L': {
      const m = date.getUTCMonth()
      if (count >= 4) return MONTHS[m]
      if (count === 3) return MONTHS[m].slice(0, 3)
      return pad(m + 1, count)
    }
    case 'd':
      return pad(date.getUTCDate(), count)
    case 'D': {
      const start = Date.UTC(year, 0, 1)
      return pad(Math.floor((date.getTime() - start) / 86_400_000) + 1, count)
    }
    case 'E': {
      const d = DAYS[date.getUTCDay()]
      return count >= 4 ? d : d.slice(0, 3)
    }
    case 'a':
      return date.getUTCHours() < 12 ? 'AM' : 'PM'
    case 'H':
      return pad(date.getUTCHours(), count)
    case 'k':
      return pad(date.getUTCHours() === 0 ? 24 : date.getUTCHours(), count)
    case 'K':
      return pad(date.getUTCHours() % 12, count)
    case 'h':
      return pad(date.getUTCHours() % 12 === 0 ? 12 : date.getUTCHours() % 12, count)
    case 'm':
      return pad(date.getUTCMinutes(), count)
    case 's':
      return pad(date.getUTCSeconds(), count)
    case 'S':
      return pad(date.getUTCMilliseconds(), count)
    case 'z':
      return count >= 4 ? 'Coordinated Universal Time' : 'UTC'
    case 'Z':
      return '+0000'
    case 'X':
      return 'Z'
  }
  return ''
}
