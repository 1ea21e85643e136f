/**
 * Reads one `COPY (…) TO STDOUT` (text format) on a `pg` client for the snapshots. The server streams
 * the rows, one CopyData message each; every row is copied into large blocks and split there into a
 * `RawTuple`, so a column becomes text (or a number, straight from its bytes) only when its event is
 * made. While `highWater` rows, or `highWaterBytes` of rows, wait to be taken the socket is paused, and
 * the server waits: a table of any size is read in flat memory.
 *
 * Text format (PostgreSQL's COPY documentation, "Text Format"): columns separated by a tab, the row
 * ended by a newline, `\N` for null. The server writes a backslash as `\\` and the control characters
 * backspace, form feed, newline, carriage return, tab and vertical tab as `\b \f \n \r \t \v`; any
 * other character after a backslash stands for itself.
 */
import type pg from 'pg'
import { RAW_NULL, RawTuple } from './pgoutput-decoder.ts'

/**
 * Rows are copied into blocks of this size (a larger row gets a block of its own). A block lives as
 * long as any row in it, so it is no larger than the read-ahead: a 1 MiB block held ~10,000 rows
 * and lived through several polls, long enough to be promoted with them.
 */
const BLOCK = 64 * 1024
/**
 * Bytes of rows that may wait to be taken before the socket pauses, whatever their count: rows that
 * wait long outlive the young generation's collections and are promoted with their blocks, dead soon
 * after in old space where only a mark-compact frees them. 64 KiB keeps a poll's worth of narrow
 * rows ahead (~600 of 100 bytes); the server's stream does not stall meanwhile, since the kernel's
 * socket buffer goes on receiving while the socket is paused. A 5M-row snapshot into Kafka: 1 MiB
 * peaked at 308 MiB RSS, 128 KiB at 244–270, 64 KiB at 230–246, and each was faster than the last
 * (less to collect): 90–100k → 114–121k rows/s (bench/RESULTS.md).
 */
export const READ_AHEAD_BYTES = 64 * 1024

interface PgConnection {
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void
  off(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void
  stream: NodeJS.ReadableStream
}

export class CopyReader {
  readonly #connection: PgConnection
  readonly #highWater: number
  readonly #highWaterBytes: number
  #rows: RawTuple[] = []
  /** Bytes of the rows waiting in `#rows`. */
  #waitingBytes = 0
  #block: Buffer = Buffer.allocUnsafe(0)
  #used = 0
  #ended = false
  #failure: Error | null = null
  #paused = false
  /** Columns of the last row: the next one's bounds are allocated at that size at once. */
  #columns = 0
  #wake: (() => void) | null = null
  readonly #onData = (message: { chunk: Buffer }): void => this.#row(message.chunk)

  /** Starts `query` (a `COPY … TO STDOUT`) on `client`, which must run nothing else until it ends. */
  constructor(
    client: pg.Client,
    query: pg.QueryConfig,
    highWater: number,
    highWaterBytes = READ_AHEAD_BYTES,
  ) {
    this.#connection = (client as unknown as { connection: PgConnection }).connection
    this.#highWater = highWater
    this.#highWaterBytes = highWaterBytes
    this.#connection.on('copyData', this.#onData)
    client.query(query).then(
      () => this.#finish(null),
      (error: Error) => this.#finish(error),
    )
  }

  /** Whether the COPY is still under way (rows may be left to read). */
  get running(): boolean {
    return !this.#ended
  }

  /** The rows received since the last call (waiting for some); null once the COPY ended and all were taken. */
  async take(): Promise<RawTuple[] | null> {
    while (this.#rows.length === 0 && !this.#ended) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
    if (this.#failure) throw this.#failure
    if (this.#rows.length === 0) return null
    const rows = this.#rows
    this.#rows = []
    this.#waitingBytes = 0
    if (this.#paused) {
      this.#paused = false
      this.#connection.stream.resume()
    }
    return rows
  }

  /**
   * Stops taking rows, before the client ends: with the COPY still its active query, the driver's
   * `end()` destroys the socket rather than wait for the rest of the table.
   */
  abandon(): void {
    this.#connection.off('copyData', this.#onData)
    this.#rows = []
  }

  #finish(error: Error | null): void {
    this.#connection.off('copyData', this.#onData)
    this.#ended = true
    this.#failure = error
    this.#wake?.()
    this.#wake = null
  }

  /** One CopyData message: one row. Its bytes are the driver's, reused after this call: copied first. */
  #row(chunk: Buffer): void {
    const length = chunk.length
    if (this.#block.length - this.#used < length) {
      this.#block = Buffer.allocUnsafe(Math.max(BLOCK, length))
      this.#used = 0
    }
    const block = this.#block
    const base = this.#used
    chunk.copy(block, base)
    this.#used += length
    const row = splitRow(block, base, base + length, this.#columns)
    this.#columns = row.length
    this.#rows.push(row)
    this.#waitingBytes += length
    if (this.#rows.length === 1) {
      this.#wake?.()
      this.#wake = null
    }
    if (
      (this.#rows.length >= this.#highWater || this.#waitingBytes >= this.#highWaterBytes) &&
      !this.#paused
    ) {
      this.#paused = true
      this.#connection.stream.pause()
    }
  }
}

/**
 * A text-format COPY row (`buffer[start, end)`, its newline included or not) as a RawTuple over the same
 * bytes; `columns`, the number of columns expected, only sizes its arrays.
 */
export function splitRow(buffer: Buffer, start: number, end: number, columns = 0): RawTuple {
  const last = end > start && buffer[end - 1] === 10 ? end - 1 : end
  const bounds: number[] = new Array(2 * columns)
  let n = 0
  let escaped: (string | undefined)[] | null = null
  let from = start
  let backslash = false
  for (let i = start; i <= last; i++) {
    const c = i < last ? buffer[i] : 9
    if (c === 9) {
      if (backslash && i - from === 2 && buffer[from + 1] === 78 /* N */) {
        bounds[n++] = RAW_NULL
        bounds[n++] = 0
      } else {
        if (backslash) {
          escaped ??= []
          escaped[n >> 1] = unescaped(buffer, from, i)
        }
        bounds[n++] = from
        bounds[n++] = i
      }
      from = i + 1
      backslash = false
    } else if (c === 92 /* \ */) {
      backslash = true
      i++ // the escaped character, whatever it is
    }
  }
  if (n !== bounds.length) bounds.length = n
  return new RawTuple(buffer, bounds, escaped)
}

/** The text of a column written with backslash escapes. */
function unescaped(buffer: Buffer, start: number, end: number): string {
  const out = Buffer.allocUnsafe(end - start)
  let n = 0
  for (let i = start; i < end; i++) {
    let c = buffer[i]
    if (c === 92 && i + 1 < end) {
      c = buffer[++i]
      if (c === 98)
        c = 8 // \b
      else if (c === 102)
        c = 12 // \f
      else if (c === 110)
        c = 10 // \n
      else if (c === 114)
        c = 13 // \r
      else if (c === 116)
        c = 9 // \t
      else if (c === 118) c = 11 // \v
    }
    out[n++] = c
  }
  return out.toString('utf8', 0, n)
}
