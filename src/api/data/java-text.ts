/**
 * Text forms that Java (and Jackson on top of it) produces, reproduced so our bytes match theirs:
 * Jackson's JSON string escaping, `Double.toString`, `Float.toString`, `BigDecimal.toString` and
 * the Java class names that appear in Kafka's error messages.
 *
 * `Double.toString`/`Float.toString` follow the JDK 19+ specification (the shortest decimal that
 * rounds to the value — the same digits as JavaScript's `Number.prototype.toString` — except that
 * when one digit would do, the closest two-digit decimal is chosen). JDK 17 and
 * older sometimes printed a longer, non-shortest digit string (JDK-4511638); we do not imitate that.
 */
import { BigDecimal } from './big-decimal.ts'
import { Struct } from './struct.ts'

/**
 * A JSON string literal as Jackson writes it: `"`, `\` and control characters escaped, short forms
 * for \b \t \n \f \r, `\u00XX` with upper-case hex for the rest, everything else (including `/`
 * and non-ASCII) as is. Deviation: a lone surrogate is written as a `\udXXX` escape, where
 * Jackson would fail.
 */
export function quoteJson(value: string): string {
  const quoted = JSON.stringify(value)
  if (quoted.length === value.length + 2) return quoted
  return quoted.includes('\\u') ? quoted.replace(CONTROL_ESCAPE, upperCaseEscape) : quoted
}

const CONTROL_ESCAPE = /\\(?:u00[01][0-9a-f]|\\)/g

function upperCaseEscape(match: string): string {
  return match.length === 2 ? match : `\\u00${match.slice(4).toUpperCase()}`
}

/** Java's `Double.toString(d)`: `1.0`, `0.001`, `1.0E7`, `1.234E-5`, `NaN`, `-Infinity`. */
export function javaDoubleToString(d: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0'
  if (!Number.isFinite(d)) return Number.isNaN(d) ? 'NaN' : d > 0 ? 'Infinity' : '-Infinity'
  const abs = Math.abs(d)
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(d)
    return s.includes('.') ? s : `${s}.0`
  }
  const shortest = d.toExponential()
  // Java picks among two-digit decimals when one digit would do: Double.MIN_VALUE is 4.9E-324.
  return scientific(shortest.indexOf('e') === 1 ? d.toExponential(1) : shortest)
}

/**
 * Java's `Float.toString(f)` for the float nearest to `value` (`Math.fround`): the fewest digits
 * that read back as the same float, so 0.1f is `0.1` (not `0.10000000149011612`).
 */
export function javaFloatToString(value: number): string {
  const f = Math.fround(value)
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0'
  if (!Number.isFinite(f)) return Number.isNaN(f) ? 'NaN' : f > 0 ? 'Infinity' : '-Infinity'
  // Java picks among two-digit decimals when one digit would do: Float.MIN_VALUE is 1.4E-45.
  let exp = f.toExponential(1)
  if (Math.fround(Number(f.toExponential(0))) !== f) {
    for (let digits = 2; digits <= 9; digits++) {
      exp = f.toExponential(digits - 1)
      if (Math.fround(Number(exp)) === f) break
    }
  }
  const abs = Math.abs(f)
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(Number(exp))
    return s.includes('.') ? s : `${s}.0`
  }
  return scientific(exp)
}

/** `1.5e-7` → `1.5E-7`, `1e+25` → `1.0E25`. */
function scientific(exponential: string): string {
  const e = exponential.indexOf('e')
  let mantissa = exponential.slice(0, e)
  if (!mantissa.includes('.')) mantissa += '.0'
  const exponent = exponential.slice(e + 1)
  return `${mantissa}E${exponent.startsWith('+') ? exponent.slice(1) : exponent}`
}

/**
 * Java's `BigDecimal.toString()` (what Jackson writes for a decimal number): plain when the scale is
 * not negative and the adjusted exponent is at least -6, otherwise scientific (`1E+2`, `1.23E-8`).
 */
export function javaBigDecimalToString(value: BigDecimal): string {
  const negative = value.unscaled < 0n
  const digits = (negative ? -value.unscaled : value.unscaled).toString()
  const adjusted = -value.scale + (digits.length - 1)
  if (value.scale >= 0 && adjusted >= -6) return value.toString()
  let text = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
  if (adjusted !== 0) text += adjusted > 0 ? `E+${adjusted}` : `E${adjusted}`
  return negative ? `-${text}` : text
}

/** Standard base64 with padding, as `java.util.Base64` and Jackson's default variant write it. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * Decodes standard base64 strictly (padding required), as Jackson's default variant reads it.
 * Throws on anything else, where `Buffer.from(…, 'base64')` would silently skip characters.
 */
export function fromBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) {
    throw new Error(`'${text.length > 40 ? `${text.slice(0, 40)}…` : text}' is not valid base64`)
  }
  return Buffer.from(text, 'base64')
}

/**
 * The `getClass()` Kafka's messages print for a value, so that "Invalid type for INT32: class
 * java.lang.String" reads the same as from a Java worker.
 */
export function javaClassOf(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return 'class java.lang.String'
    case 'boolean':
      return 'class java.lang.Boolean'
    case 'bigint':
      return 'class java.lang.Long'
    case 'number':
      if (!Number.isInteger(value)) return 'class java.lang.Double'
      return value >= -2147483648 && value <= 2147483647 ? 'class java.lang.Integer' : 'class java.lang.Long'
    case 'object':
      if (value === null) return 'null'
      if (value instanceof Uint8Array) return 'class [B'
      if (Array.isArray(value)) return 'class java.util.ArrayList'
      if (value instanceof Date) return 'class java.util.Date'
      if (value instanceof BigDecimal) return 'class java.math.BigDecimal'
      if (value instanceof Struct) return 'class org.apache.kafka.connect.data.Struct'
      if (value instanceof Map) return 'class java.util.HashMap'
      if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
        return 'class java.util.HashMap'
      }
      return `class ${(value as object).constructor?.name ?? 'Object'}`
    default:
      return `class ${typeof value}`
  }
}
