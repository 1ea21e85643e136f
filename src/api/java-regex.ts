/**
 * Java `java.util.regex.Pattern` syntax, as connector and SMT configs carry it (`topics.regex`,
 * RegexRouter, TopicNameMatches, Debezium's `table.include.list`, …), translated to a JavaScript
 * RegExp in `v` mode. One translation for every config key, so a pattern means the same everywhere.
 *
 * - Inline flags anywhere, `(?imsxd-imsxd)` and scoped `(?i:…)`: `i` becomes a RegExp modifier group,
 *   `s`, `m` and `d` (UNIX_LINES) are applied while translating `.`, `^` and `$`; `x` (COMMENTS) drops
 *   whitespace and `#` comments, also inside character classes, as Java does. `u` is accepted (the
 *   RegExp's case folding is Unicode's); `U` (UNICODE_CHARACTER_CLASS) is refused.
 * - `$` without MULTILINE matches at the end or before a final line terminator, `.` excludes Java's
 *   line terminators (`\n \r \u0085 \u2028 \u2029`), `\s` is ASCII `[ \t\n\x0B\f\r]`, `\v` is vertical
 *   whitespace and `\h` horizontal whitespace, `\R` a line break, `\A \z \Z` anchors.
 * - `\Q…\E` quotes (also inside classes); `\p{Alpha}`-style POSIX classes (US-ASCII, as Java's
 *   default), `\p{javaLowerCase}`-style classes, `\p{L}`, `\p{IsLatin}`, `\p{IsAlphabetic}`,
 *   `\p{sc=…}`, `\p{gc=…}`; class union `[a-d[m-p]]` and intersection `[a-z&&[^aeiou]]`.
 * - What JavaScript cannot do is refused with the reason: possessive quantifiers (`*+`), atomic
 *   groups (`(?>…)`), `\G`, `\X`, `\N{…}`, Unicode blocks (`\p{InGreek}`), `\b{g}`.
 *
 * `whole` is `matcher.matches()` (the whole input), `find` is `matcher.find()`. Longer than 600 lines
 * because the translator, its class tables and Java's replacement syntax belong together.
 */
import { ConfigError } from './errors.ts'

export interface JavaPattern {
  readonly source: string
  /** The first match anywhere (Java's `find()`), no `g` flag. */
  readonly find: RegExp
  /** Whole-input match (Java's `matches()`). */
  readonly whole: RegExp
}

interface Flags {
  i: boolean
  s: boolean
  m: boolean
  x: boolean
  d: boolean
}

/** A translated piece of a sequence and the case-insensitivity it was parsed under. */
interface Piece {
  i: boolean
  render(ctxI: boolean): string
}

type Alternatives = Piece[][]

const LINE_TERMINATORS = '\\n\\r\\u0085\\u2028\\u2029'
const SPACE = '[\\t-\\r ]'
const HSPACE = '[ \\t\\xA0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000]'
const VSPACE = '[\\n-\\r\\x85\\u2028\\u2029]'

/** Java's POSIX character classes (US-ASCII, the default without UNICODE_CHARACTER_CLASS). */
const POSIX: Record<string, string> = {
  Lower: '[a-z]',
  Upper: '[A-Z]',
  ASCII: '[\\x00-\\x7F]',
  Alpha: '[a-zA-Z]',
  Digit: '[0-9]',
  Alnum: '[a-zA-Z0-9]',
  Punct: '[!-\\/:-@\\[-`\\{-~]',
  Graph: '[!-~]',
  Print: '[ -~]',
  Blank: '[ \\t]',
  Cntrl: '[\\x00-\\x1F\\x7F]',
  XDigit: '[0-9a-fA-F]',
  Space: SPACE,
  // java.lang.Character's predicates
  javaLowerCase: '\\p{Lowercase}',
  javaUpperCase: '\\p{Uppercase}',
  javaTitleCase: '\\p{Lt}',
  javaDigit: '\\p{Nd}',
  javaDefined: '\\P{Cn}',
  javaLetter: '\\p{L}',
  javaLetterOrDigit: '[\\p{L}\\p{Nd}]',
  javaAlphabetic: '\\p{Alphabetic}',
  javaIdeographic: '\\p{Ideographic}',
  javaMirrored: '\\p{Bidi_Mirrored}',
  javaSpaceChar: '[\\p{Zs}\\p{Zl}\\p{Zp}]',
  javaWhitespace: '[[\\p{Zs}\\p{Zl}\\p{Zp}--[\\xA0\\u2007\\u202F]][\\t-\\r\\x1C-\\x1F]]',
  javaISOControl: '[\\x00-\\x1F\\x7F-\\x9F]',
  // Java's extra categories
  LD: '[\\p{L}\\p{Nd}]',
  L1: '[\\x00-\\xFF]',
  all: '[\\s\\S]',
}

/** Java's binary properties (`\p{IsAlphabetic}`), by lower-cased name without `_`/spaces. */
const BINARY: Record<string, string> = {
  alphabetic: 'Alphabetic',
  ideographic: 'Ideographic',
  letter: 'L',
  lowercase: 'Lowercase',
  uppercase: 'Uppercase',
  titlecase: 'Lt',
  punctuation: 'P',
  control: 'Cc',
  whitespace: 'White_Space',
  digit: 'Nd',
  hexdigit: 'Hex_Digit',
  joincontrol: 'Join_Control',
  noncharactercodepoint: 'Noncharacter_Code_Point',
  assigned: 'Assigned',
  emoji: 'Emoji',
  emojipresentation: 'Emoji_Presentation',
  emojimodifier: 'Emoji_Modifier',
  emojimodifierbase: 'Emoji_Modifier_Base',
  emojicomponent: 'Emoji_Component',
  extendedpictographic: 'Extended_Pictographic',
}

function hex(cp: number): string {
  return `\\u{${cp.toString(16)}}`
}

function literal(cp: number): string {
  const c = String.fromCodePoint(cp)
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : /[\s\p{C}]/u.test(c) ? hex(cp) : c
}

function isValidJs(source: string): boolean {
  try {
    new RegExp(source, 'v')
    return true
  } catch {
    return false
  }
}

class Translator {
  #pos = 0
  #groups = 0
  readonly src: string
  constructor(src: string) {
    this.src = src
  }

  translate(flags: Flags): { body: string; i: boolean } {
    const alts = this.#alternatives(flags)
    if (this.#pos < this.src.length) this.#fail("Unmatched closing ')'", this.#pos)
    return { body: renderAlternatives(alts, false), i: false }
  }

  #fail(message: string, index = this.#pos): never {
    throw new Error(`${message} near index ${index}`)
  }

  #peek(): string | undefined {
    return this.src[this.#pos]
  }

  #codePoint(): number {
    const cp = this.src.codePointAt(this.#pos) as number
    this.#pos += cp > 0xffff ? 2 : 1
    return cp
  }

  /** In COMMENTS mode, skips whitespace and `#` comments. */
  #skipComments(flags: Flags): void {
    if (!flags.x) return
    for (;;) {
      const c = this.#peek()
      if (c !== undefined && /\s/.test(c)) this.#pos++
      else if (c === '#') {
        while (this.#pos < this.src.length && !/[\n\r\u0085\u2028\u2029]/.test(this.src[this.#pos]))
          this.#pos++
      } else return
    }
  }

  /** Parses until `)` or the end; inline flags change `flags` for the rest of the group. */
  #alternatives(flags: Flags): Alternatives {
    const alts: Alternatives = [[]]
    for (;;) {
      this.#skipComments(flags)
      const c = this.#peek()
      if (c === undefined || c === ')') return alts
      if (c === '|') {
        this.#pos++
        alts.push([])
        continue
      }
      const atom = this.#atom(flags)
      if (atom === null) continue
      const quantifier = this.#quantifier(flags)
      const i = flags.i
      const text = atom
      alts[alts.length - 1].push({
        i,
        render: typeof text === 'string' ? () => text + quantifier : (ctx) => text(ctx) + quantifier,
      })
    }
  }

  #quantifier(flags: Flags): string {
    this.#skipComments(flags)
    const start = this.#pos
    const c = this.#peek()
    let q = ''
    if (c === '*' || c === '+' || c === '?') {
      q = c
      this.#pos++
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.#pos))
      if (!m) this.#fail('Illegal repetition', start)
      q = m[0]
      this.#pos += m[0].length
    } else return ''
    const next = this.#peek()
    if (next === '?') {
      this.#pos++
      return `${q}?`
    }
    if (next === '+')
      this.#fail(
        `possessive quantifier '${q}+' is not supported (JavaScript has none); use '${q}' instead`,
        start,
      )
    return q
  }

  /** One atom: its JS text (or a renderer for groups), or null for a flag-only group `(?i)`. */
  #atom(flags: Flags): string | ((ctx: boolean) => string) | null {
    const start = this.#pos
    const c = this.#peek() as string
    if (c === '(') return this.#group(flags)
    if (c === '[') return this.#class(flags)
    if (c === '\\') return this.#escape(flags, false)
    this.#pos++
    if (c === '.') return flags.s ? '[\\s\\S]' : flags.d ? '[^\\n]' : `[^${LINE_TERMINATORS}]`
    if (c === '^') {
      if (!flags.m) return '^'
      return flags.d ? '(?:^|(?<=\\n)(?!$))' : '(?:^|(?<=[\\n\\u0085\\u2028\\u2029]|\\r(?!\\n))(?!$))'
    }
    if (c === '$') {
      if (flags.d) return flags.m ? '(?=\\n|$)' : '(?=\\n?$)'
      return flags.m ? `(?=[${LINE_TERMINATORS}]|$)(?<!\\r(?=\\n))` : `(?=(?:\\r\\n|[${LINE_TERMINATORS}])?$)`
    }
    if (c === '*' || c === '+' || c === '?') this.#fail(`Dangling meta character '${c}'`, start)
    if (c === '{') this.#fail('Illegal repetition', start)
    this.#pos = start
    return literal(this.#codePoint())
  }

  #group(outer: Flags): string | ((ctx: boolean) => string) | null {
    const start = this.#pos
    this.#pos++
    let open = '('
    const flags = { ...outer }
    const rest = this.src.slice(this.#pos)
    if (rest.startsWith('?')) {
      const named = /^\?<([a-zA-Z][a-zA-Z0-9]*)>/.exec(rest)
      const look = /^\?(<=|<!|=|!|:)/.exec(rest)
      if (named) {
        open = `(?<${named[1]}>`
        this.#groups++
        this.#pos += named[0].length
      } else if (look) {
        open = `(?${look[1]}`
        this.#pos += look[0].length
      } else if (rest.startsWith('?>')) {
        this.#fail('atomic groups (?>…) are not supported (JavaScript has none); use (?:…) instead', start)
      } else {
        const m = /^\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest)
        if (!m) this.#fail('Unknown inline modifier', start)
        for (const [letters, on] of [
          [m[1], true],
          [m[2] ?? '', false],
        ] as const) {
          for (const f of letters) {
            if (f === 'i' || f === 's' || f === 'm' || f === 'x' || f === 'd') flags[f] = on
            else if (f === 'U') this.#fail('the UNICODE_CHARACTER_CLASS flag (?U) is not supported', start)
            else if (f !== 'u' && f !== 'c') this.#fail(`Unknown inline modifier '${f}'`, start)
          }
        }
        this.#pos += m[0].length
        if (m[3] === ')') {
          // (?i) changes the flags of the enclosing group from here on.
          Object.assign(outer, flags)
          return null
        }
        open = '(?:'
      }
    } else this.#groups++
    const inner = this.#alternatives(flags)
    if (this.#peek() !== ')') this.#fail('Unclosed group', this.src.length)
    this.#pos++
    return (ctx) => `${open}${renderAlternatives(inner, ctx)})`
  }

  /** An escape outside (`inClass` false) or inside a character class. */
  #escape(flags: Flags, inClass: boolean): string {
    const start = this.#pos
    this.#pos++
    if (this.#pos >= this.src.length) this.#fail('Unexpected internal error: trailing backslash', start)
    const c = this.src[this.#pos]
    this.#pos++
    switch (c) {
      case 'Q': {
        const end = this.src.indexOf('\\E', this.#pos)
        const text = this.src.slice(this.#pos, end < 0 ? undefined : end)
        this.#pos = end < 0 ? this.src.length : end + 2
        const cps = [...text].map((ch) =>
          inClass ? hex(ch.codePointAt(0) as number) : literal(ch.codePointAt(0) as number),
        )
        return inClass ? cps.join('') : `(?:${cps.join('')})`
      }
      case 'A':
      case 'z':
      case 'Z':
      case 'G':
        if (inClass) this.#fail(`Illegal/unsupported escape sequence \\${c} in a character class`, start)
        if (c === 'A') return '^'
        if (c === 'z') return '$'
        if (c === 'Z') return flags.d ? '(?=\\n?$)' : `(?=(?:\\r\\n|[${LINE_TERMINATORS}])?$)`
        return this.#fail('\\G (end of the previous match) is not supported', start)
      case 'b':
      case 'B':
        if (inClass) this.#fail(`Illegal/unsupported escape sequence \\${c} in a character class`, start)
        if (this.#peek() === '{') this.#fail(`\\${c}{…} boundaries are not supported`, start)
        return `\\${c}`
      case 'R':
        if (inClass) this.#fail('Illegal/unsupported escape sequence \\R in a character class', start)
        return '(?:\\r\\n|[\\n-\\r\\x85\\u2028\\u2029])'
      case 'X':
        return this.#fail('\\X (grapheme clusters) is not supported', start)
      case 'N':
        return this.#fail('\\N{name} is not supported; use \\x{…}', start)
      case 's':
        return SPACE
      case 'S':
        return `[^${SPACE.slice(1, -1)}]`
      case 'h':
        return HSPACE
      case 'H':
        return `[^${HSPACE.slice(1, -1)}]`
      case 'v':
        return VSPACE
      case 'V':
        return `[^${VSPACE.slice(1, -1)}]`
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return `\\${c}`
      case 't':
        return hex(9)
      case 'n':
        return hex(10)
      case 'r':
        return hex(13)
      case 'f':
        return hex(12)
      case 'a':
        return hex(7)
      case 'e':
        return hex(0x1b)
      case 'c': {
        const letter = this.src[this.#pos]
        if (letter === undefined) this.#fail('Illegal control escape sequence', start)
        this.#pos++
        return hex((letter.codePointAt(0) as number) ^ 64)
      }
      case 'x': {
        const m = /^(?:\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{2}))/.exec(this.src.slice(this.#pos))
        if (!m) this.#fail('Illegal hexadecimal escape sequence', start)
        this.#pos += m[0].length
        const cp = Number.parseInt(m[1] ?? m[2], 16)
        if (cp > 0x10ffff) this.#fail('Hexadecimal codepoint is too big', start)
        return hex(cp)
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.#pos))
        if (!m) this.#fail('Illegal Unicode escape sequence', start)
        this.#pos += 4
        let cp = Number.parseInt(m[0], 16)
        const low = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(this.src.slice(this.#pos))
        if (cp >= 0xd800 && cp <= 0xdbff && low) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (Number.parseInt(low[1], 16) - 0xdc00)
          this.#pos += 6
        }
        return hex(cp)
      }
      case '0': {
        const m = /^[0-3]?[0-7]{1,2}|^[0-7]/.exec(this.src.slice(this.#pos))
        if (!m) this.#fail('Illegal octal escape sequence', start)
        this.#pos += m[0].length
        return hex(Number.parseInt(m[0], 8))
      }
      case 'k': {
        const m = /^<([a-zA-Z][a-zA-Z0-9]*)>/.exec(this.src.slice(this.#pos))
        if (!m || inClass) this.#fail("\\k is not followed by '<' for named capturing group", start)
        this.#pos += m[0].length
        return `\\k<${m[1]}>`
      }
      case 'p':
      case 'P':
        return this.#property(c === 'P', start)
      default:
        if (c >= '1' && c <= '9') {
          if (inClass) this.#fail(`Illegal/unsupported escape sequence \\${c} in a character class`, start)
          // Java reads further digits while the group number stays valid.
          let n = c
          while (/\d/.test(this.#peek() ?? '') && Number(n + this.#peek()) <= this.#groups)
            n += this.src[this.#pos++]
          return `(?:\\${n})`
        }
        if (/[a-zA-Z]/.test(c)) this.#fail(`Illegal/unsupported escape sequence \\${c}`, start)
        this.#pos = start + 1
        return hex(this.#codePoint())
    }
  }

  #property(negated: boolean, start: number): string {
    let name: string
    if (this.#peek() === '{') {
      const end = this.src.indexOf('}', this.#pos)
      if (end < 0) this.#fail('Unclosed character family', start)
      name = this.src.slice(this.#pos + 1, end)
      this.#pos = end + 1
    } else {
      name = this.src[this.#pos] ?? ''
      this.#pos++
    }
    const positive = this.#propertyClass(name, start)
    if (!negated) return positive
    // \P{…}: the complement, as a nested class (allowed in `v` mode, in and outside classes).
    return positive.startsWith('\\p') ? `\\P${positive.slice(2)}` : `[^${positive}]`
  }

  #propertyClass(name: string, start: number): string {
    const posix = POSIX[name]
    if (posix) return posix
    const unsupported = (why: string): never =>
      this.#fail(`Unknown character property name {${name}}: ${why}`, start)
    const eq = /^([a-zA-Z_ ]+)=(.+)$/.exec(name)
    const js = (body: string): string =>
      isValidJs(`\\p{${body}}`) ? `\\p{${body}}` : unsupported('not known')
    const titled = (s: string): string =>
      s
        .split(/[_ ]/)
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
        .join('_')
    if (eq) {
      const key = eq[1].toLowerCase()
      if (key === 'sc' || key === 'script') return js(`Script=${titled(eq[2])}`)
      if (key === 'gc' || key === 'general_category') return js(`General_Category=${eq[2]}`)
      if (key === 'blk' || key === 'block') return unsupported('Unicode blocks are not supported')
      return unsupported('unknown property')
    }
    if (name.startsWith('In')) return unsupported('Unicode blocks are not supported')
    if (name.startsWith('Is')) {
      const rest = name.slice(2)
      const binary = BINARY[rest.toLowerCase().replace(/[_ ]/g, '')]
      if (binary) return `\\p{${binary}}`
      if (isValidJs(`\\p{General_Category=${rest}}`)) return `\\p{General_Category=${rest}}`
      return js(`Script=${titled(rest)}`)
    }
    if (isValidJs(`\\p{General_Category=${name}}`)) return `\\p{General_Category=${name}}`
    return unsupported('not known')
  }

  /** A character class `[…]`, with Java's union (nested classes) and intersection (`&&`). */
  #class(flags: Flags): string {
    const start = this.#pos
    this.#pos++
    let negated = false
    if (this.#peek() === '^') {
      negated = true
      this.#pos++
    }
    const operands: string[] = []
    let items = ''
    let pendingChar: number | null = null
    const flushChar = (): void => {
      if (pendingChar !== null) items += hex(pendingChar)
      pendingChar = null
    }
    for (;;) {
      this.#skipComments(flags)
      const c = this.#peek()
      if (c === undefined) this.#fail('Unclosed character class', this.src.length - 1)
      if (
        c === ']' &&
        (items !== '' ||
          pendingChar !== null ||
          operands.length > 0 ||
          this.#pos > start + 1 + (negated ? 1 : 0))
      ) {
        this.#pos++
        break
      }
      if (c === '[') {
        flushChar()
        items += this.#class(flags)
        continue
      }
      if (c === '&' && this.src[this.#pos + 1] === '&') {
        flushChar()
        this.#pos += 2
        operands.push(`[${items}]`)
        items = ''
        continue
      }
      if (c === '\\') {
        flushChar()
        const before = this.#pos
        const escaped = this.#escape(flags, true)
        // A single escaped character can start a range.
        const single = /^\\u\{([0-9a-f]+)\}$/.exec(escaped)
        if (single && !this.src.startsWith('\\Q', before)) pendingChar = Number.parseInt(single[1], 16)
        else items += escaped
      } else if (c === '-' && pendingChar !== null && this.src[this.#pos + 1] !== ']') {
        this.#pos++
        this.#skipComments(flags)
        let to: number
        if (this.#peek() === '\\') {
          const at = this.#pos
          const escaped = this.#escape(flags, true)
          const single = /^\\u\{([0-9a-f]+)\}$/.exec(escaped)
          if (!single) this.#fail('Illegal character range', at)
          to = Number.parseInt(single[1], 16)
        } else if (this.#peek() === '[') {
          this.#fail('Illegal character range', this.#pos)
        } else to = this.#codePoint()
        if (to < pendingChar) this.#fail('Illegal character range', this.#pos - 1)
        items += `${hex(pendingChar)}-${hex(to)}`
        pendingChar = null
      } else {
        flushChar()
        pendingChar = this.#codePoint()
      }
    }
    flushChar()
    let body: string
    if (operands.length > 0) {
      operands.push(`[${items}]`)
      body = operands.join('&&')
    } else body = items
    return `[${negated ? '^' : ''}${body}]`
  }
}

function renderAlternatives(alts: Alternatives, ctx: boolean): string {
  return alts
    .map((pieces) => {
      let out = ''
      let k = 0
      while (k < pieces.length) {
        const i = pieces[k].i
        let run = ''
        while (k < pieces.length && pieces[k].i === i) run += pieces[k++].render(i)
        out += i === ctx ? run : `(?${i ? 'i' : '-i'}:${run})`
      }
      return out
    })
    .join('|')
}

/** Translates a Java regex to the source of a `v`-mode RegExp, throwing an `Error` with the reason. */
export function translateJavaRegex(source: string): string {
  return new Translator(source).translate({ i: false, s: false, m: false, x: false, d: false }).body
}

/** Compiles a Java regex, throwing a plain `Error` with the reason when JavaScript cannot run it. */
export function compileJavaRegex(source: string): JavaPattern {
  const body = translateJavaRegex(source)
  const make = (text: string): RegExp => {
    try {
      return new RegExp(text, 'v')
    } catch (error) {
      throw new Error((error as Error).message.replace(/^Invalid regular expression: \/.*\/v: /s, ''))
    }
  }
  return Object.freeze({ source, find: make(body), whole: make(`^(?:${body})$`) })
}

/**
 * Compiles the Java regex of a config key for `matches()`: a `ConfigError` naming the key (a 400
 * at validation) when it cannot be translated.
 */
export function javaRegexFor(key: string, source: string): JavaPattern {
  try {
    return compileJavaRegex(source)
  } catch (error) {
    throw new ConfigError(
      key,
      `Invalid value ${source} for configuration ${key}: Invalid regex: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

/** Java's `Matcher.replaceFirst` replacement syntax converted to JavaScript's `String.replace` syntax. */
export function javaReplacement(replacement: string): string {
  let out = ''
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]
    if (c === '\\') {
      i++
      if (i >= replacement.length) throw new Error('character to be escaped is missing')
      out += replacement[i] === '$' ? '$$' : replacement[i]
    } else if (c === '$') {
      const next = replacement[i + 1]
      if (next === '{') {
        const end = replacement.indexOf('}', i)
        if (end < 0) throw new Error("named capturing group is missing trailing '}'")
        const name = replacement.slice(i + 2, end)
        if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`invalid group name '${name}'`)
        out += `$<${name}>`
        i = end
      } else if (next !== undefined && next >= '0' && next <= '9') {
        let j = i + 1
        while (j < replacement.length && replacement[j] >= '0' && replacement[j] <= '9') j++
        out += `$${replacement.slice(i + 1, j)}`
        i = j - 1
      } else {
        throw new Error('Illegal group reference')
      }
    } else {
      out += c
    }
  }
  return out
}

/**
 * `matcher.matches()` then `matcher.replaceFirst(replacement)`: the new text when the whole input
 * matches, or `null` when it does not.
 */
export function replaceIfMatches(pattern: JavaPattern, replacement: string, input: string): string | null {
  if (!pattern.whole.test(input)) return null
  return input.replace(pattern.find, replacement)
}

/** A config validator's check: the reason a Java regex cannot be used here, or nothing. */
export function regexProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  try {
    compileJavaRegex(value)
    return undefined
  } catch (error) {
    return `Invalid regex: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** Converts a replacement for a config key, naming the key when it is invalid. */
export function replacementFor(key: string, replacement: string): string {
  try {
    return javaReplacement(replacement)
  } catch (error) {
    throw new ConfigError(
      key,
      `Invalid value ${replacement} for configuration ${key}: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}
