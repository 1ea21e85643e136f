/**
 * How the embedded log stores a record's headers in one BLOB column. Order and repeated keys are
 * kept, and a null value stays distinct from an empty one, as in Kafka's record format.
 *
 * ```
 * headers := count:u32be header*
 * header  := keyLength:u32be key:utf8 valueLength:i32be value   (valueLength -1 = null value)
 * ```
 *
 * A record without headers stores SQL NULL instead (the common case costs nothing).
 */
import type { LogHeader } from '../log.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeHeaders(headers: readonly LogHeader[] | undefined): Uint8Array | null {
  if (headers === undefined || headers.length === 0) return null
  const keys = headers.map((h) => encoder.encode(h.key))
  let size = 4
  headers.forEach((h, i) => {
    size += 8 + keys[i].length + (h.value?.length ?? 0)
  })
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  view.setUint32(0, headers.length)
  let at = 4
  headers.forEach((h, i) => {
    view.setUint32(at, keys[i].length)
    out.set(keys[i], at + 4)
    at += 4 + keys[i].length
    if (h.value === null) {
      view.setInt32(at, -1)
      at += 4
    } else {
      view.setInt32(at, h.value.length)
      out.set(h.value, at + 4)
      at += 4 + h.value.length
    }
  })
  return out
}

export function decodeHeaders(blob: Uint8Array | null): LogHeader[] {
  if (blob === null) return []
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  const count = view.getUint32(0)
  const headers: LogHeader[] = []
  let at = 4
  for (let i = 0; i < count; i++) {
    const keyLength = view.getUint32(at)
    const key = decoder.decode(blob.subarray(at + 4, at + 4 + keyLength))
    at += 4 + keyLength
    const valueLength = view.getInt32(at)
    at += 4
    if (valueLength < 0) {
      headers.push({ key, value: null })
    } else {
      headers.push({ key, value: blob.slice(at, at + valueLength) })
      at += valueLength
    }
  }
  return headers
}
