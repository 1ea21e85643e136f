/**
 * The number and base64 helpers of JsonConverter: Jackson's `JsonNode` number accessors over a JSON
 * tree (`intValue()`, `longValue()`, `doubleValue()`, `isInt()`), Kafka's integer text for INT64,
 * Java's Decimal bytes (`BigInteger.toByteArray()`) as base64 and back, and the small-integer scan of
 * the schema-specialised readers. Pure functions; see json-converter.ts for the format.
 */
import { BigDecimal } from '../api/data/big-decimal.ts'
import { fromBase64, toBase64 } from '../api/data/java-text.ts'
import { bigIntToBytes, bytesToBigInt, Decimal } from '../api/data/logical-types.ts'
import type { Schema } from '../api/data/schema.ts'
import { JsonDecimal, type JsonReader, type JsonTree, wrapToInt64 } from './json-reader.ts'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
export const TWO_63 = 2 ** 63

/** A Decimal schema's scale, or undefined when its `scale` parameter is missing or invalid. */
export function decimalScale(schema: Schema): number | undefined {
  try {
    return Decimal.scaleOf(schema)
  } catch {
    return undefined
  }
}

/**
 * `bytesToBigInt(fromBase64(text))` (a Decimal's unscaled value: big-endian two's complement), without
 * the intermediate buffer for up to 8 base64 digits (6 bytes, exact in a double); longer or invalid
 * text goes through `fromBase64`, which also gives its error.
 */
export function base64ToBigInt(text: string): bigint {
  const length = text.length
  if (length > 8 || length % 4 !== 0) return bytesToBigInt(fromBase64(text))
  let end = length
  // At most two '=' at the end (the length being a multiple of 4, what precedes them is whole).
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--
  let v = 0
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    const digit = c < 128 ? BASE64_VALUES[c] : -1
    if (digit < 0) return bytesToBigInt(fromBase64(text))
    v = v * 64 + digit
  }
  const bytes = Math.floor((end * 6) / 8)
  v = Math.floor(v / 2 ** (end * 6 - bytes * 8))
  if (bytes > 0 && v >= 2 ** (bytes * 8 - 1)) v -= 2 ** (bytes * 8)
  return BigInt(v)
}

/**
 * An integer of at most 15 digits (so exact as a double) at `r.pos`, with no fraction or exponent,
 * moving `r.pos` past it; NaN, with `r.pos` unchanged, for anything else. `-0` is 0, as the reader
 * gives it.
 */
export function smallInteger(r: JsonReader): number {
  const t = r.text
  let p = r.pos
  const negative = t.charCodeAt(p) === 0x2d
  if (negative) p++
  const start = p
  let n = 0
  let c = t.charCodeAt(p)
  while (c >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30)
    c = t.charCodeAt(++p)
  }
  if (p === start || p - start > 15 || c === 0x2e || c === 0x65 || c === 0x45) return Number.NaN
  r.pos = p
  return negative && n !== 0 ? -n : n
}

export function int64Text(value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return `${value}`
    if (Number.isInteger(value) && value >= -TWO_63 && value < TWO_63) return BigInt(value).toString()
    return undefined
  }
  if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return value.toString()
  return undefined
}

/**
 * `${n}` for a safe integer, about twice as fast for large ones (timestamps in µs, LSNs): V8 prints
 * numbers beyond the small-integer range with its general double-to-text algorithm.
 */
export function integerText(n: number): string {
  if (n < 0x40000000 && n > -0x40000000) return `${n}`
  if (n < 0) return `-${integerText(-n)}`
  const high = Math.floor(n / 1e8)
  const low = `${n - high * 1e8}`
  return `${high}${'00000000'.slice(low.length)}${low}`
}

const BASE64_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const BASE64_CODES = Uint8Array.from(BASE64_DIGITS, (c) => c.charCodeAt(0))
const BASE64_VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < BASE64_DIGITS.length; i++) BASE64_VALUES[BASE64_DIGITS.charCodeAt(i)] = i
const SMALL_UNSCALED = 2n ** 52n
/** Little-endian bytes of the value being written (|v| < 2^52 takes at most 7). */
const twosComplementBytes = new Uint8Array(8)
const scratch = Buffer.allocUnsafe(16)

/**
 * Base64 of Java's `BigInteger.toByteArray()` (minimal big-endian two's complement) — a Decimal's
 * bytes — computed with doubles for the unscaled values most decimals have (|v| < 2^52).
 */
export function twosComplementBase64(unscaled: bigint): string {
  const end = writeTwosComplementBase64(unscaled, scratch, 0)
  return end < 0 ? toBase64(bigIntToBytes(unscaled)) : scratch.toString('latin1', 0, end)
}

/**
 * `twosComplementBase64` as ASCII bytes into `out` at `pos` (room for 12 bytes needed); the end
 * position, or -1 when |unscaled| ≥ 2^52 (then nothing was written: use `twosComplementBase64`).
 */
export function writeTwosComplementBase64(unscaled: bigint, out: Uint8Array, pos: number): number {
  if (unscaled >= SMALL_UNSCALED || unscaled <= -SMALL_UNSCALED) return -1
  let n = Number(unscaled)
  const bytes = twosComplementBytes
  let count = 0
  if (n >= -0x80000000 && n <= 0x7fffffff) {
    // Most decimals' unscaled values fit 32 bits: integer arithmetic, no heap numbers per byte.
    let v = n | 0
    for (;;) {
      const byte = v & 0xff
      bytes[count++] = byte
      v >>= 8
      if ((v === 0 && byte < 0x80) || (v === -1 && byte >= 0x80)) break
    }
  } else {
    for (;;) {
      const byte = ((n % 256) + 256) % 256
      bytes[count++] = byte
      n = Math.floor(n / 256)
      if ((n === 0 && byte < 0x80) || (n === -1 && byte >= 0x80)) break
    }
  }
  for (let i = count - 1; i >= 0; i -= 3) {
    const b0 = bytes[i]
    const b1 = i >= 1 ? bytes[i - 1] : 0
    const b2 = i >= 2 ? bytes[i - 2] : 0
    out[pos++] = BASE64_CODES[b0 >> 2]
    out[pos++] = BASE64_CODES[((b0 & 3) << 4) | (b1 >> 4)]
    out[pos++] = i >= 1 ? BASE64_CODES[((b1 & 15) << 2) | (b2 >> 6)] : 0x3d
    out[pos++] = i >= 2 ? BASE64_CODES[b2 & 63] : 0x3d
  }
  return pos
}

/** Jackson writes non-finite floating-point numbers as strings. */
export function floatJson(text: string): string {
  const c = text.charCodeAt(text.length - 1)
  return c >= 0x30 && c <= 0x39 ? text : `"${text}"`
}

/** Jackson's `isInt()`: an integer that fits 32 bits. In a tree every `number` is an integer. */
export function isInt(node: JsonTree): node is number {
  return typeof node === 'number' && node >= -2147483648 && node <= 2147483647
}

/** The integer part of a decimal's text, exactly (`BigDecimal.toBigInteger()`), or its low bits when huge. */
function truncatedDecimal(text: string): bigint {
  const d = BigDecimal.parse(text)
  if (d.scale <= 0) return -d.scale >= 64 ? 0n : d.unscaled * 10n ** BigInt(-d.scale)
  const digits = d.unscaled < 0n ? -d.unscaled : d.unscaled
  if (digits.toString().length <= d.scale) return 0n
  return d.unscaled / 10n ** BigInt(d.scale)
}

/** Jackson's `intValue()`: the low 32 bits of the integer part; 0 for a non-number. */
export function intValue(node: JsonTree): number {
  if (typeof node === 'number') return node | 0
  if (typeof node === 'bigint') return Number(BigInt.asIntN(32, node))
  if (node instanceof JsonDecimal) return Number(BigInt.asIntN(32, truncatedDecimal(node.text)))
  return 0
}

/** Jackson's `longValue()`: the low 64 bits of the integer part; 0 for a non-number. */
export function longValue(node: JsonTree): number | bigint {
  if (typeof node === 'number') return node
  if (typeof node === 'bigint') return wrapToInt64(node)
  if (node instanceof JsonDecimal) return wrapToInt64(truncatedDecimal(node.text))
  return 0
}

/** Jackson's `doubleValue()`; 0 for a non-number, except the non-finite names (see the header). */
export function doubleValue(node: JsonTree): number {
  if (typeof node === 'number') return node
  if (typeof node === 'bigint') return Number(node)
  if (node instanceof JsonDecimal) return node.toNumber()
  if (node === 'NaN') return Number.NaN
  if (node === 'Infinity') return Number.POSITIVE_INFINITY
  if (node === '-Infinity') return Number.NEGATIVE_INFINITY
  return 0
}
