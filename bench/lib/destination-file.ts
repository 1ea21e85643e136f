/**
 * Watches a growing destination file and counts records where they land.
 *
 * Each poll reads only the bytes appended since the last one, counts complete lines (a trailing
 * partial line waits for its newline) and marks each line's sequence number in a bitmap, so the
 * run ends when every expected sequence number arrived at least once — not merely when the file
 * holds enough lines (an at-least-once pipeline may write duplicates).
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { SEQ_DIGITS, SEQ_PREFIX } from './input-file.ts'

export interface DestinationProgress {
  /** Complete lines in the file. */
  lines: number
  /** Distinct expected sequence numbers seen. */
  unique: number
  duplicates: number
  /** Lines that do not start with `seq=<digits>` or whose number is out of range. */
  malformed: number
  /** `performance.now()` when the first complete line appeared; undefined until then. */
  firstLineAt?: number
  /** `performance.now()` when 99 % of the expected lines were there (the tail may wait for a flush). */
  p99At?: number
  /** `performance.now()` when the line count reached the expected count. */
  allLinesAt?: number
  /** `performance.now()` when the last missing sequence number arrived. */
  completeAt?: number
  /** A few sequence numbers still missing (for the failure message). */
  missingSample: number[]
  /** `[performance.now(), lines]` about every `timelineMs` while waiting: shows bursts and stalls. */
  timeline: [number, number][]
}

const SEQ_AT = SEQ_PREFIX.length
const PREFIX = Buffer.from(SEQ_PREFIX, 'ascii')

export class DestinationWatcher {
  readonly #path: string
  readonly #expected: number
  readonly #seen: Uint8Array
  readonly #buffer = Buffer.alloc(8 << 20)
  #fd: number | undefined
  #position = 0
  /** Bytes of an incomplete last line, kept at the start of the buffer. */
  #carry = 0
  #progress: DestinationProgress = {
    lines: 0,
    unique: 0,
    duplicates: 0,
    malformed: 0,
    missingSample: [],
    timeline: [],
  }

  /** With `anywhere`, the `seq=` mark may stand anywhere in a line (lines rewritten as JSON objects). */
  readonly #anywhere: boolean

  constructor(path: string, expected: number, options: { anywhere?: boolean } = {}) {
    this.#path = path
    this.#expected = expected
    this.#seen = new Uint8Array(expected)
    this.#anywhere = options.anywhere ?? false
  }

  get progress(): DestinationProgress {
    return this.#progress
  }

  /** Reads whatever was appended since the last call. Returns true when all records arrived. */
  poll(): boolean {
    if (this.#fd === undefined) {
      if (!existsSync(this.#path)) return false
      this.#fd = openSync(this.#path, 'r')
    }
    const now = performance.now()
    const p = this.#progress
    // Bounded: at most 64 reads per poll (512 MiB); the rest waits for the next poll.
    for (let reads = 0; reads < 64; reads++) {
      const n = readSync(
        this.#fd,
        this.#buffer,
        this.#carry,
        this.#buffer.length - this.#carry,
        this.#position,
      )
      if (n <= 0) break
      this.#position += n
      const end = this.#carry + n
      const filled = this.#buffer.subarray(0, end)
      let start = 0
      let nl = filled.indexOf(0x0a, start)
      while (nl !== -1) {
        this.#line(start, nl)
        start = nl + 1
        nl = filled.indexOf(0x0a, start)
      }
      this.#carry = end - start
      if (this.#carry === this.#buffer.length) throw new Error(`a line of ${this.#path} exceeds 8 MiB`)
      if (this.#carry > 0) this.#buffer.copy(this.#buffer, 0, start, end)
    }
    if (p.lines > 0 && p.firstLineAt === undefined) p.firstLineAt = now
    if (p.lines >= this.#expected * 0.99 && p.p99At === undefined) p.p99At = now
    if (p.lines >= this.#expected && p.allLinesAt === undefined) p.allLinesAt = now
    if (p.unique === this.#expected && p.completeAt === undefined) p.completeAt = now
    return p.completeAt !== undefined
  }

  #line(lineStart: number, end: number): void {
    const p = this.#progress
    p.lines++
    const b = this.#buffer
    let start = lineStart
    if (this.#anywhere) {
      const at = b.indexOf(PREFIX, lineStart)
      start = at >= 0 && at < end ? at : lineStart
    }
    if (
      end - start < SEQ_AT + SEQ_DIGITS ||
      b.compare(PREFIX, 0, PREFIX.length, start, start + SEQ_AT) !== 0
    ) {
      p.malformed++
      return
    }
    let seq = 0
    for (let i = start + SEQ_AT; i < start + SEQ_AT + SEQ_DIGITS; i++) {
      const d = b[i] - 0x30
      if (d < 0 || d > 9) {
        p.malformed++
        return
      }
      seq = seq * 10 + d
    }
    if (seq >= this.#expected) {
      p.malformed++
      return
    }
    if (this.#seen[seq] === 1) p.duplicates++
    else {
      this.#seen[seq] = 1
      p.unique++
    }
  }

  /**
   * Polls every `pollMs` until all records arrived, `timeoutMs` passes, `abort()` returns a reason
   * (e.g. the worker died), or nothing new arrived for `stallMs` after the first line.
   * Returns the progress; `completeAt` is undefined when it stopped early, and `stopped` says why.
   */
  async waitComplete(options: {
    timeoutMs: number
    pollMs?: number
    stallMs?: number
    timelineMs?: number
    abort?: () => string | undefined
  }): Promise<DestinationProgress & { stopped?: string }> {
    const pollMs = options.pollMs ?? 20
    const started = performance.now()
    let lastGrowth = started
    let lastLines = 0
    let lastTimeline = 0
    const timelineMs = options.timelineMs ?? 500
    while (true) {
      const complete = this.poll()
      const now = performance.now()
      if (complete || now - lastTimeline >= timelineMs) {
        this.#progress.timeline.push([now, this.#progress.lines])
        lastTimeline = now
      }
      if (complete) return this.progress
      if (this.#progress.lines !== lastLines) {
        lastLines = this.#progress.lines
        lastGrowth = now
      }
      const reason = options.abort?.()
      if (reason !== undefined) {
        this.poll()
        return { ...this.#finish(), stopped: reason }
      }
      if (now - started > options.timeoutMs)
        return { ...this.#finish(), stopped: `timeout ${options.timeoutMs} ms` }
      if (options.stallMs !== undefined && lastLines > 0 && now - lastGrowth > options.stallMs) {
        return { ...this.#finish(), stopped: `no new line for ${options.stallMs} ms` }
      }
      await sleep(pollMs)
    }
  }

  #finish(): DestinationProgress {
    const missing: number[] = []
    for (let i = 0; i < this.#expected && missing.length < 10; i++) if (this.#seen[i] === 0) missing.push(i)
    this.#progress.missingSample = missing
    return this.#progress
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }
}
