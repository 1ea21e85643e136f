import { DataError } from '../errors.ts'

/**
 * An arbitrary-precision decimal: `unscaled × 10^-scale`, the value of Connect's Decimal logical
 * type (Java's `BigDecimal`). Exact; converting to a `number` is explicit and may lose precision.
 */
export class BigDecimal {
  readonly unscaled: bigint
  readonly scale: number

  constructor(unscaled: bigint, scale: number) {
    if (!Number.isInteger(scale)) throw new DataError(`decimal scale must be an integer, got ${scale}`)
    this.unscaled = unscaled
    this.scale = scale
  }

  /** Parses `-12.340`, `1e3`, `4.5E-2` exactly, keeping the scale written (`-12.340` has scale 3). */
  static parse(text: string): BigDecimal {
    const plain = parsePlain(text)
    if (plain !== undefined) return plain
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim())
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new DataError(`'${text}' is not a decimal number`)
    const [, sign, intPart, fracPart = '', exp] = m
    const digits = BigInt(`${intPart}${fracPart}` || '0')
    const scale = fracPart.length - (exp ? Number(exp) : 0)
    return new BigDecimal(sign === '-' ? -digits : digits, scale)
  }

  static fromNumber(value: number): BigDecimal {
    if (!Number.isFinite(value)) throw new DataError(`${value} cannot be a decimal`)
    return BigDecimal.parse(String(value))
  }

  /** The same value at another scale; throws when that would drop non-zero digits. */
  setScale(scale: number): BigDecimal {
    if (scale === this.scale) return this
    if (scale > this.scale) return new BigDecimal(this.unscaled * 10n ** BigInt(scale - this.scale), scale)
    const divisor = 10n ** BigInt(this.scale - scale)
    if (this.unscaled % divisor !== 0n) {
      throw new DataError(`decimal ${this.toString()} cannot be rescaled to scale ${scale} without rounding`)
    }
    return new BigDecimal(this.unscaled / divisor, scale)
  }

  /** Number of significant digits of the unscaled value (Java's `precision()`). */
  precision(): number {
    const abs = this.unscaled < 0n ? -this.unscaled : this.unscaled
    return abs === 0n ? 1 : abs.toString().length
  }

  toNumber(): number {
    return Number(this.toString())
  }

  /** Plain notation, as Java's `toPlainString()`: `-12.340`, `1000` for unscaled 1 scale -3. */
  toString(): string {
    const negative = this.unscaled < 0n
    const digits = (negative ? -this.unscaled : this.unscaled).toString()
    let text: string
    if (this.scale <= 0) {
      text = digits === '0' ? '0' : digits + '0'.repeat(-this.scale)
    } else {
      const padded = digits.padStart(this.scale + 1, '0')
      text = `${padded.slice(0, padded.length - this.scale)}.${padded.slice(padded.length - this.scale)}`
    }
    return negative ? `-${text}` : text
  }

  toJSON(): string {
    return this.toString()
  }

  equals(other: unknown): boolean {
    return other instanceof BigDecimal && other.unscaled === this.unscaled && other.scale === this.scale
  }
}

/**
 * `[-]digits[.digits]` with at most 15 digits in all (what a database prints for most NUMERIC values)
 * read without a regular expression or substrings; `undefined` for anything else.
 */
function parsePlain(text: string): BigDecimal | undefined {
  const n = text.length
  let i = text.charCodeAt(0) === 45 ? 1 : 0
  const negative = i === 1
  let digits = 0
  let unscaled = 0
  let scale = -1
  for (; i < n; i++) {
    const c = text.charCodeAt(i)
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
