/**
 * A JSON reader that accepts what Kafka's `JsonDeserializer` (Jackson `ObjectMapper.readTree` with
 * `ALLOW_LEADING_ZEROS_FOR_NUMBERS` and `USE_BIG_DECIMAL_FOR_FLOATS`) accepts, and keeps every
 * digit of every number:
 *
 * - integers that fit a double exactly are `number`s, larger ones `bigint`s (never rounded);
 * - in `tree` mode a number with a fraction or exponent is a `JsonDecimal` holding its text, so a
 *   Decimal keeps its scale and precision (Jackson's exact `DecimalNode`); in `connect` mode it is
 *   the nearest `number` (what schemaless JSON gives: FLOAT64) and integers wrap to 64 bits as
 *   Java's `JsonNode.longValue()` does;
 * - leading zeros are allowed (`0012`), everything else follows RFC 8259;
 * - content after the first complete value is ignored, as `readTree` does (Jackson does not check
 *   for trailing tokens by default), except that a root-level number or literal must be followed by
 *   whitespace or the end;
 * - empty input (or only whitespace) is Jackson's MissingNode, returned as `undefined`;
 * - nesting deeper than 1000 levels is refused (Jackson 2.15+'s default `maxNestingDepth`).
 *
 * Not replicated: Jackson's UTF-16/UTF-32 auto-detection (input must be UTF-8, a BOM is skipped) and
 * its length limits for strings and numbers.
 */

/** A JSON number with a fraction or exponent, exactly as written (Jackson's `DecimalNode`). */
export class JsonDecimal {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
  /** The nearest double (`BigDecimal.doubleValue()`: an exact zero has no sign). */
  toNumber(): number {
    return decimalTextToNumber(this.text)
  }
}

export type JsonTree =
  | null
  | boolean
  | string
  | number
  | bigint
  | JsonDecimal
  | JsonTree[]
  | { [key: string]: JsonTree | undefined }

export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JsonSyntaxError'
  }
}

export const MAX_DEPTH = 1000
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

export function decimalTextToNumber(text: string): number {
  const n = Number(text)
  // BigDecimal has no negative zero: "-0.0" reads as 0.0, while "-1e-400" underflows to -0.0.
  return n === 0 && !/[1-9]/.test(text.replace(/[eE].*$/, '')) ? 0 : n
}

/** Java's `(long)` of an integer beyond 64 bits: the low 64 bits, as `BigInteger.longValue()`. */
export function wrapToInt64(value: bigint): number | bigint {
  const wrapped = value < INT64_MIN || value > INT64_MAX ? BigInt.asIntN(64, value) : value
  return wrapped >= -9007199254740991n && wrapped <= 9007199254740991n ? Number(wrapped) : wrapped
}

type Mode = 'tree' | 'connect'

/** What each one-letter escape (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`) stands for, by its letter. */
const SIMPLE_ESCAPES: (string | undefined)[] = new Array(128).fill(undefined)
for (const [letter, value] of Object.entries({
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
}))
  SIMPLE_ESCAPES[letter.charCodeAt(0)] = value

/**
 * Parses one JSON text. A reader instance is cheap and single-use; `readJson` is the entry point.
 * Exported as `JsonReader` for JsonConverter's schema-specialised readers, which walk the same text
 * with it (`pos`, `depth`, `skipWs`, `string`, `literal`, `value`) so syntax is checked by one code.
 */
export class JsonReader {
  readonly text: string
  readonly mode: Mode
  pos = 0
  depth = 0

  constructor(text: string, mode: Mode) {
    this.text = text
    this.mode = mode
  }

  fail(what: string, at = this.pos): never {
    const c = this.text.charCodeAt(at)
    const found = Number.isNaN(c) ? 'end-of-input' : `character ('${this.text[at]}' (code ${c}))`
    throw new JsonSyntaxError(`Unexpected ${found}: ${what} at position ${at}`)
  }

  skipWs(): number {
    const t = this.text
    let p = this.pos
    for (;;) {
      const c = t.charCodeAt(p)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++
      else {
        this.pos = p
        return c
      }
    }
  }

  /** The root value, or `undefined` for empty input. */
  root(): JsonTree | undefined {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1
    const c = this.skipWs()
    if (Number.isNaN(c)) return undefined
    const value = this.value(c)
    if (typeof value !== 'object' || value === null || value instanceof JsonDecimal) {
      // Jackson requires whitespace (or the end) after a root-level scalar; strings are self-delimiting.
      const next = this.text.charCodeAt(this.pos)
      if (
        typeof value !== 'string' &&
        !Number.isNaN(next) &&
        next !== 0x20 &&
        next !== 0x0a &&
        next !== 0x0d &&
        next !== 0x09
      ) {
        this.fail('expected space separating root-level values')
      }
    }
    return value
  }

  value(c: number): JsonTree {
    switch (c) {
      case 0x22: // "
        return this.string()
      case 0x7b: // {
        return this.object()
      case 0x5b: // [
        return this.array()
      case 0x74: // t
        return this.literal('true', true)
      case 0x66: // f
        return this.literal('false', false)
      case 0x6e: // n
        return this.literal('null', null)
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number()
        return this.fail('expected a JSON value')
    }
  }

  literal<T extends JsonTree>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected '${word}'`)
    this.pos += word.length
    const next = this.text.charCodeAt(this.pos)
    // Jackson reads an identifier-like run as one token ("truex" is an unrecognized token).
    if (
      (next >= 0x30 && next <= 0x39) ||
      (next >= 0x41 && next <= 0x5a) ||
      (next >= 0x61 && next <= 0x7a) ||
      next === 0x5f
    ) {
      this.fail(`unrecognized token, expected '${word}'`)
    }
    return value
  }

  number(): JsonTree {
    const t = this.text
    const start = this.pos
    let p = start
    if (t.charCodeAt(p) === 0x2d) p++
    const intStart = p
    while (p < t.length && t.charCodeAt(p) >= 0x30 && t.charCodeAt(p) <= 0x39) p++
    if (p === intStart) this.fail('expected a digit', p)
    let isInteger = true
    if (t.charCodeAt(p) === 0x2e) {
      isInteger = false
      const fracStart = ++p
      while (p < t.length && t.charCodeAt(p) >= 0x30 && t.charCodeAt(p) <= 0x39) p++
      if (p === fracStart) this.fail('decimal point must be followed by a digit', p)
    }
    const e = t.charCodeAt(p)
    if (e === 0x65 || e === 0x45) {
      isInteger = false
      p++
      const s = t.charCodeAt(p)
      if (s === 0x2b || s === 0x2d) p++
      const expStart = p
      while (p < t.length && t.charCodeAt(p) >= 0x30 && t.charCodeAt(p) <= 0x39) p++
      if (p === expStart) this.fail('exponent indicator not followed by a digit', p)
    }
    this.pos = p
    const text = t.slice(start, p)
    if (isInteger) {
      // Up to 15 digits always fit a double exactly.
      if (p - intStart <= 15) {
        const n = Number(text)
        return n === 0 ? 0 : n
      }
      const big = BigInt(text)
      if (this.mode === 'connect') return wrapToInt64(big)
      return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big
    }
    return this.mode === 'tree' ? new JsonDecimal(text) : decimalTextToNumber(text)
  }

  string(): string {
    const t = this.text
    let p = this.pos + 1
    let chunkStart = p
    let out = ''
    for (;;) {
      const c = t.charCodeAt(p)
      if (c === 0x22) {
        this.pos = p + 1
        return out === '' ? t.slice(chunkStart, p) : out + t.slice(chunkStart, p)
      }
      if (c === 0x5c) {
        out += t.slice(chunkStart, p)
        p = this.escape(p + 1)
        out += this.lastEscape
        chunkStart = p
        continue
      }
      if (c < 0x20 || Number.isNaN(c)) {
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'illegal unquoted control character in string', p)
      }
      p++
    }
  }

  lastEscape = ''

  /** Decodes the escape whose letter is at `p`; returns the position after it. */
  escape(p: number): number {
    const t = this.text
    const c = t.charCodeAt(p)
    const simple = c < 128 ? SIMPLE_ESCAPES[c] : undefined
    if (simple !== undefined) {
      this.lastEscape = simple
      return p + 1
    }
    if (c !== 0x75) return this.fail('unrecognized character escape', p)
    const hex = t.slice(p + 1, p + 5)
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('expected a hex-digit for character escape sequence', p + 1)
    this.lastEscape = String.fromCharCode(Number.parseInt(hex, 16))
    return p + 5
  }

  array(): JsonTree[] {
    if (++this.depth > MAX_DEPTH)
      this.fail(`document nesting depth exceeds the maximum allowed (${MAX_DEPTH})`)
    this.pos++
    const result: JsonTree[] = []
    let c = this.skipWs()
    if (c === 0x5d) {
      this.pos++
      this.depth--
      return result
    }
    for (;;) {
      result.push(this.value(c))
      c = this.skipWs()
      if (c === 0x2c) {
        this.pos++
        c = this.skipWs()
      } else if (c === 0x5d) {
        this.pos++
        this.depth--
        return result
      } else {
        this.fail("expected ',' or ']' in an array")
      }
    }
  }

  object(): { [key: string]: JsonTree | undefined } {
    if (++this.depth > MAX_DEPTH)
      this.fail(`document nesting depth exceeds the maximum allowed (${MAX_DEPTH})`)
    this.pos++
    // Plain objects (a null prototype would put V8 in slow dictionary mode); "__proto__" is defined
    // as an own member below, and readers look fields up with Object.hasOwn.
    const result: { [key: string]: JsonTree | undefined } = {}
    let c = this.skipWs()
    if (c === 0x7d) {
      this.pos++
      this.depth--
      return result
    }
    for (;;) {
      if (c !== 0x22) this.fail('was expecting double-quote to start field name')
      const key = this.string()
      if (this.skipWs() !== 0x3a) this.fail('was expecting a colon to separate field name and value')
      this.pos++
      const value = this.value(this.skipWs())
      if (key === '__proto__') {
        Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true })
      } else {
        result[key] = value
      }
      c = this.skipWs()
      if (c === 0x2c) {
        this.pos++
        c = this.skipWs()
      } else if (c === 0x7d) {
        this.pos++
        this.depth--
        return result
      } else {
        this.fail('was expecting comma to separate object entries')
      }
    }
  }

  /** Validates one value without building it; used to cut the schema out of an envelope. */
  skip(c: number): void {
    switch (c) {
      case 0x22:
        this.skipString()
        return
      case 0x7b: {
        if (++this.depth > MAX_DEPTH)
          this.fail(`document nesting depth exceeds the maximum allowed (${MAX_DEPTH})`)
        this.pos++
        let d = this.skipWs()
        if (d === 0x7d) {
          this.pos++
          this.depth--
          return
        }
        for (;;) {
          if (d !== 0x22) this.fail('was expecting double-quote to start field name')
          this.skipString()
          if (this.skipWs() !== 0x3a) this.fail('was expecting a colon to separate field name and value')
          this.pos++
          this.skip(this.skipWs())
          d = this.skipWs()
          if (d === 0x2c) {
            this.pos++
            d = this.skipWs()
          } else if (d === 0x7d) {
            this.pos++
            this.depth--
            return
          } else {
            this.fail('was expecting comma to separate object entries')
          }
        }
      }
      case 0x5b: {
        if (++this.depth > MAX_DEPTH)
          this.fail(`document nesting depth exceeds the maximum allowed (${MAX_DEPTH})`)
        this.pos++
        let d = this.skipWs()
        if (d === 0x5d) {
          this.pos++
          this.depth--
          return
        }
        for (;;) {
          this.skip(d)
          d = this.skipWs()
          if (d === 0x2c) {
            this.pos++
            d = this.skipWs()
          } else if (d === 0x5d) {
            this.pos++
            this.depth--
            return
          } else {
            this.fail("expected ',' or ']' in an array")
          }
        }
      }
      default:
        this.value(c)
    }
  }

  skipString(): void {
    const t = this.text
    let p = this.pos + 1
    for (;;) {
      const c = t.charCodeAt(p)
      if (c === 0x22) {
        this.pos = p + 1
        return
      }
      if (c === 0x5c) p = this.escape(p + 1)
      else if (c < 0x20 || Number.isNaN(c)) {
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'illegal unquoted control character in string', p)
      } else p++
    }
  }
}

/** Parses a JSON text; `undefined` means empty input (Jackson's MissingNode). Throws `JsonSyntaxError`. */
export function readJson(text: string, mode: Mode): JsonTree | undefined {
  return new JsonReader(text, mode).root()
}

/** An envelope read from JSON text: its members, with the schema kept as raw text for caching. */
export interface EnvelopeRead {
  /** False when the root is not an object with exactly the members `schema` and `payload`. */
  readonly isEnvelope: boolean
  /** The schema's JSON text (`null` when the schema is JSON null). */
  readonly schemaText: string | null
  readonly payload: JsonTree | undefined
}

const NOT_AN_ENVELOPE: EnvelopeRead = Object.freeze({
  isEnvelope: false,
  schemaText: null,
  payload: undefined,
})

/**
 * Reads a `{"schema": …, "payload": …}` envelope. The schema is validated but not built (its text
 * is the cache key; when it repeats `lastSchemaText`, that very string is returned without
 * rescanning); the payload is read in tree mode. Anything else is validated in full and
 * reported as not an envelope, so invalid JSON still fails as a syntax error first, as in Java.
 */
export function readEnvelope(text: string, lastSchemaText?: string): EnvelopeRead {
  const r = new JsonReader(text, 'tree')
  if (text.charCodeAt(0) === 0xfeff) r.pos = 1
  const c = r.skipWs()
  if (Number.isNaN(c)) return NOT_AN_ENVELOPE
  if (c !== 0x7b) {
    r.root()
    return NOT_AN_ENVELOPE
  }
  r.pos++
  r.depth = 1
  let schemaText: string | null | undefined
  let payload: JsonTree | undefined
  let hasPayload = false
  let others = false
  let d = r.skipWs()
  if (d !== 0x7d) {
    for (;;) {
      if (d !== 0x22) r.fail('was expecting double-quote to start field name')
      const key = r.string()
      if (r.skipWs() !== 0x3a) r.fail('was expecting a colon to separate field name and value')
      r.pos++
      const v = r.skipWs()
      if (key === 'schema') {
        // The same (valid, self-delimiting) schema as last time needs no scan. (A slice compared with
        // === is a memcmp; `startsWith` with a position walks character by character, 15x slower.)
        if (
          lastSchemaText !== undefined &&
          text.slice(r.pos, r.pos + lastSchemaText.length) === lastSchemaText
        ) {
          r.pos += lastSchemaText.length
          schemaText = lastSchemaText
        } else {
          const start = r.pos
          r.skip(v)
          schemaText = v === 0x6e ? null : text.slice(start, r.pos)
        }
      } else if (key === 'payload') {
        payload = r.value(v)
        hasPayload = true
      } else {
        r.skip(v)
        others = true
      }
      d = r.skipWs()
      if (d === 0x2c) {
        r.pos++
        d = r.skipWs()
      } else if (d === 0x7d) {
        break
      } else {
        r.fail('was expecting comma to separate object entries')
      }
    }
  }
  if (others || schemaText === undefined || !hasPayload) return NOT_AN_ENVELOPE
  return { isEnvelope: true, schemaText, payload }
}
