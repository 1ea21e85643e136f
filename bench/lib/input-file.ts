/**
 * The pipeline's input: `lines` lines of exactly `lineBytes` bytes (newline included), each
 * starting with its sequence number so the destination can be checked for completeness:
 *
 *   seq=0000000042 <printable ASCII payload, no quotes or backslashes>\n
 *
 * The payload needs no JSON escaping, so JsonConverter (schemas off) turns a line into a JSON string
 * of the same characters plus two quotes, and a file sink writes back the very same line.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const SEQ_PREFIX = 'seq='
export const SEQ_DIGITS = 10
/** Offset of the payload: `seq=` + digits + one space. */
const PAYLOAD_AT = SEQ_PREFIX.length + SEQ_DIGITS + 1

export interface InputFile {
  path: string
  lines: number
  lineBytes: number
  bytes: number
}

/** Path of the cached input for `lines` × `lineBytes` under `dir`. */
export function inputPath(dir: string, lines: number, lineBytes: number): string {
  return join(dir, `input-${lines}x${lineBytes}.txt`)
}

/**
 * Writes the input file, or reuses it when a file of the exact expected size is there already
 * (the content is a pure function of the line number and width).
 */
export function ensureInputFile(dir: string, lines: number, lineBytes = 200): InputFile {
  if (lineBytes < PAYLOAD_AT + 2) throw new Error(`lines must be at least ${PAYLOAD_AT + 2} bytes`)
  if (lines >= 10 ** SEQ_DIGITS) throw new Error(`at most ${10 ** SEQ_DIGITS - 1} lines`)
  const path = inputPath(dir, lines, lineBytes)
  const bytes = lines * lineBytes
  if (existsSync(path) && statSync(path).size === bytes) return { path, lines, lineBytes, bytes }

  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w')
  try {
    const payloadBytes = lineBytes - PAYLOAD_AT - 1
    // 64 printable characters without '"' or '\': the payload of line n starts at n % 64.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const ring = Buffer.from(alphabet.repeat(Math.ceil(payloadBytes / alphabet.length) + 1), 'ascii')
    const perChunk = Math.max(1, Math.floor((4 << 20) / lineBytes))
    const chunk = Buffer.alloc(perChunk * lineBytes)
    for (let first = 0; first < lines; first += perChunk) {
      const count = Math.min(perChunk, lines - first)
      for (let i = 0; i < count; i++) {
        const seq = first + i
        const at = i * lineBytes
        chunk.write(`${SEQ_PREFIX}${String(seq).padStart(SEQ_DIGITS, '0')} `, at, 'ascii')
        const shift = seq % alphabet.length
        ring.copy(chunk, at + PAYLOAD_AT, shift, shift + payloadBytes)
        chunk[at + lineBytes - 1] = 0x0a
      }
      writeSync(fd, chunk, 0, count * lineBytes)
    }
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  return { path, lines, lineBytes, bytes }
}
