/**
 * Transactions PostgreSQL streams while they run (pgoutput version 2, `streaming 'on'`). The server
 * sends a large transaction in segments (Stream Start … Stream Stop), interleaved with other
 * transactions, and ends it with Stream Commit or Stream Abort. We keep each transaction's messages
 * per top-level xid and, at Stream Commit, replay them in order between a Begin and a Commit built
 * from the Stream Commit: the task handles them exactly as the same transaction sent by version 1,
 * so the events (order, LSNs, txId, times, transaction metadata, offsets) are the same.
 *
 * Stream Abort of a subtransaction (ROLLBACK TO SAVEPOINT) drops the messages carrying that
 * subtransaction's xid; abort of the top-level xid drops the transaction.
 *
 * Memory is bounded: beyond `memoryLimit` bytes in all, the largest transaction's messages are
 * appended to its own temporary file in the OS temp directory (`sluice-pgcdc-*`), read back in
 * chunks at replay. The file is unlinked as soon as it is created, so it takes disk space only while
 * its descriptor is open: it is closed when the transaction was replayed, aborted, or the task
 * stops, and a killed worker leaves nothing behind.
 *
 * Spill record: Int32 payload length  Int32 subxid  Float64 lsn  Byte* pgoutput message.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Lsn } from './lsn.ts'
import { decodePgOutput, type PgOutputMessage, streamedXid } from './pgoutput-decoder.ts'
import type { XLogData } from './replication-connection.ts'

/** Size of the blocks messages are copied into (a larger message gets a block of its own). */
const BLOCK = 256 * 1024
const HEADER = 16
const READ_CHUNK = 1 << 20

interface SpillFile {
  fd: number
  bytes: number
}

/**
 * One streamed transaction: its messages as spill records, first in its file (if any), then in
 * memory blocks. Copying them into large blocks instead of keeping one object per message keeps the
 * garbage collector out of the way of a transaction of millions of rows.
 */
class Transaction {
  readonly xid: number
  /** Full blocks, each cut to the records it holds. */
  blocks: Buffer[] = []
  block: Buffer | null = null
  used = 0
  memoryBytes = 0
  file: SpillFile | null = null
  readonly aborted = new Set<number>()

  constructor(xid: number) {
    this.xid = xid
  }

  append(subXid: number, lsn: Lsn, payload: Buffer): number {
    const size = HEADER + payload.length
    if (!this.block || this.block.length - this.used < size) {
      if (this.block && this.used > 0) this.blocks.push(this.block.subarray(0, this.used))
      this.block = Buffer.allocUnsafe(Math.max(BLOCK, size))
      this.used = 0
    }
    const at = this.used
    this.block.writeUInt32BE(payload.length, at)
    this.block.writeUInt32BE(subXid, at + 4)
    this.block.writeDoubleBE(lsn, at + 8)
    payload.copy(this.block, at + HEADER)
    this.used += size
    this.memoryBytes += size
    return size
  }

  /** The in-memory records, oldest first. */
  memory(): Buffer[] {
    return this.block && this.used > 0 ? [...this.blocks, this.block.subarray(0, this.used)] : this.blocks
  }

  dropMemory(): void {
    this.blocks = []
    this.block = null
    this.used = 0
    this.memoryBytes = 0
  }
}

export interface StreamingStats {
  /** Stream Start messages received. */
  segments: number
  /** Bytes written to spill files. */
  spilledBytes: number
}

export class StreamedTransactions {
  readonly #memoryLimit: number
  readonly #transactions = new Map<number, Transaction>()
  /** The transaction whose segment is being received (between Stream Start and Stream Stop). */
  #current: Transaction | null = null
  #memoryBytes = 0
  #replay: Replay | null = null
  readonly stats: StreamingStats = { segments: 0, spilledBytes: 0 }

  constructor(memoryLimit: number) {
    this.#memoryLimit = memoryLimit
  }

  /**
   * Takes what belongs to streams (Stream Start/Stop/Abort and the messages in between) and returns
   * true; returns false for everything else, Stream Commit included, which the caller queues so the
   * transaction is replayed in commit order.
   */
  route(data: XLogData): boolean {
    const payload = data.payload
    const tag = payload[0]
    if (tag === 0x53 /* S */) {
      const start = decodePgOutput(payload) as Extract<PgOutputMessage, { tag: 'stream-start' }>
      this.stats.segments++
      let tx = this.#transactions.get(start.xid)
      if (tx && start.firstSegment) {
        this.#discard(tx)
        tx = undefined
      }
      if (!tx) {
        tx = new Transaction(start.xid)
        this.#transactions.set(start.xid, tx)
      }
      this.#current = tx
      return true
    }
    if (tag === 0x45 /* E */) {
      this.#current = null
      return true
    }
    if (tag === 0x41 /* A */) {
      const abort = decodePgOutput(payload) as Extract<PgOutputMessage, { tag: 'stream-abort' }>
      this.#abort(abort.xid, abort.subXid)
      return true
    }
    const tx = this.#current
    if (!tx) return false
    const subXid = streamedXid(payload)
    // An Origin inside a stream carries no xid; the task ignores origins anyway.
    if (subXid === null) return true
    this.#memoryBytes += tx.append(subXid, data.lsn, payload)
    if (this.#memoryBytes > this.#memoryLimit) this.#spill()
    return true
  }

  /**
   * Stream Commit (at `lsn`, the end of the transaction): what `next()` returns from now on is the
   * transaction as version 1 sends it — Begin, its messages, Commit.
   */
  commit(message: Extract<PgOutputMessage, { tag: 'stream-commit' }>, lsn: Lsn): void {
    const tx = this.#transactions.get(message.xid) ?? new Transaction(message.xid)
    this.#transactions.delete(message.xid)
    this.#memoryBytes -= tx.memoryBytes
    if (this.#current === tx) this.#current = null
    this.#replay?.close()
    this.#replay = new Replay(tx, message, lsn)
  }

  /** A transaction is being replayed: its messages come before anything received after its commit. */
  get replaying(): boolean {
    return this.#replay !== null
  }

  /** The next message of the transaction being replayed, or null when none is. */
  next(): XLogData | null {
    const replay = this.#replay
    if (!replay) return null
    const message = replay.next()
    if (message === null) {
      replay.close()
      this.#replay = null
    }
    return message
  }

  /** Forgets everything (the connection restarts: the server sends the open transactions again). */
  reset(): void {
    for (const tx of this.#transactions.values()) closeFile(tx)
    this.#transactions.clear()
    this.#current = null
    this.#memoryBytes = 0
    this.#replay?.close()
    this.#replay = null
  }

  #abort(xid: number, subXid: number): void {
    const tx = this.#transactions.get(xid)
    if (!tx) return
    if (subXid === xid) {
      this.#discard(tx)
      return
    }
    // Skipped at replay; the memory it holds is bounded by the spill like the rest.
    tx.aborted.add(subXid)
  }

  #discard(tx: Transaction): void {
    closeFile(tx)
    this.#memoryBytes -= tx.memoryBytes
    this.#transactions.delete(tx.xid)
    if (this.#current === tx) this.#current = null
  }

  /** Moves the largest transactions' buffered messages to their files until half the limit is left. */
  #spill(): void {
    while (this.#memoryBytes > this.#memoryLimit / 2) {
      let largest: Transaction | null = null
      for (const tx of this.#transactions.values())
        if (!largest || tx.memoryBytes > largest.memoryBytes) largest = tx
      if (!largest || largest.memoryBytes === 0) return
      this.#memoryBytes -= largest.memoryBytes
      this.stats.spilledBytes += spill(largest)
    }
  }
}

/** Appends a transaction's in-memory records to its spill file; returns the bytes written. */
function spill(tx: Transaction): number {
  if (!tx.file) {
    const path = join(tmpdir(), `sluice-pgcdc-${process.pid}-${tx.xid}-${randomBytes(4).toString('hex')}`)
    const fd = openSync(path, 'wx+', 0o600)
    // Unlinked at once: the space is freed when the descriptor closes, even if the process is killed.
    rmSync(path)
    tx.file = { fd, bytes: 0 }
  }
  const file = tx.file
  const before = file.bytes
  for (const block of tx.memory()) {
    let written = 0
    while (written < block.length)
      written += writeSync(file.fd, block, written, block.length - written, file.bytes + written)
    file.bytes += block.length
  }
  tx.dropMemory()
  return file.bytes - before
}

function closeFile(tx: Transaction): void {
  if (tx.file) closeSync(tx.file.fd)
  tx.file = null
}

interface Entry {
  subXid: number
  lsn: Lsn
  payload: Buffer
}

/** Reads the spill record at `at` of `buffer` (whole); the payload is a view of `buffer`. */
function record(buffer: Buffer, at: number): Entry {
  const length = buffer.readUInt32BE(at)
  return {
    subXid: buffer.readUInt32BE(at + 4),
    lsn: buffer.readDoubleBE(at + 8),
    payload: buffer.subarray(at + HEADER, at + HEADER + length),
  }
}

/** Begin, the spilled messages, the in-memory messages (minus aborted subtransactions), Commit. */
class Replay {
  readonly #tx: Transaction
  readonly #commit: Extract<PgOutputMessage, { tag: 'stream-commit' }>
  readonly #commitLsn: Lsn
  readonly #blocks: Buffer[]
  #began = false
  #ended = false
  #blockIndex = 0
  #blockPosition = 0
  /** Read from the file; never reused, so the payloads handed out stay valid. */
  #chunk: Buffer = Buffer.alloc(0)
  #start = 0
  #end = 0
  #filePosition = 0

  constructor(tx: Transaction, commit: Extract<PgOutputMessage, { tag: 'stream-commit' }>, lsn: Lsn) {
    this.#tx = tx
    this.#commit = commit
    this.#commitLsn = lsn
    this.#blocks = tx.memory()
    tx.dropMemory()
  }

  next(): XLogData | null {
    const c = this.#commit
    if (!this.#began) {
      this.#began = true
      return {
        lsn: c.commitLsn,
        payload: Buffer.alloc(0),
        decoded: { tag: 'begin', finalLsn: c.commitLsn, commitTimeUs: c.commitTimeUs, xid: c.xid },
      }
    }
    for (;;) {
      const entry = this.#fromFile() ?? this.#fromMemory()
      if (entry === null) break
      if (this.#tx.aborted.has(entry.subXid)) continue
      return { lsn: entry.lsn, payload: entry.payload, streamed: true }
    }
    if (this.#ended) return null
    this.#ended = true
    return {
      lsn: this.#commitLsn,
      payload: Buffer.alloc(0),
      decoded: {
        tag: 'commit',
        flags: c.flags,
        commitLsn: c.commitLsn,
        endLsn: c.endLsn,
        commitTimeUs: c.commitTimeUs,
      },
    }
  }

  close(): void {
    closeFile(this.#tx)
    this.#blocks.length = 0
  }

  #fromMemory(): Entry | null {
    while (this.#blockIndex < this.#blocks.length) {
      const block = this.#blocks[this.#blockIndex]
      if (this.#blockPosition < block.length) {
        const entry = record(block, this.#blockPosition)
        this.#blockPosition += HEADER + entry.payload.length
        return entry
      }
      this.#blockIndex++
      this.#blockPosition = 0
    }
    return null
  }

  #fromFile(): Entry | null {
    const file = this.#tx.file
    if (!file) return null
    if (!this.#fill(file, HEADER)) return null
    const length = this.#chunk.readUInt32BE(this.#start)
    if (!this.#fill(file, HEADER + length)) throw new Error('streamed transaction spill file is truncated')
    const entry = record(this.#chunk, this.#start)
    this.#start += HEADER + length
    return entry
  }

  /** Makes `n` unread bytes available; false at the end of the file (throws if it ends mid-record). */
  #fill(file: SpillFile, n: number): boolean {
    if (this.#end - this.#start >= n) return true
    if (this.#filePosition >= file.bytes) {
      if (this.#end > this.#start) throw new Error('streamed transaction spill file is truncated')
      return false
    }
    const chunk = Buffer.allocUnsafe(Math.max(READ_CHUNK, n))
    this.#chunk.copy(chunk, 0, this.#start, this.#end)
    this.#end -= this.#start
    this.#start = 0
    this.#chunk = chunk
    while (this.#end < n && this.#filePosition < file.bytes) {
      const read = readSync(file.fd, chunk, this.#end, chunk.length - this.#end, this.#filePosition)
      if (read === 0) break
      this.#filePosition += read
      this.#end += read
    }
    if (this.#end >= n) return true
    throw new Error('streamed transaction spill file is truncated')
  }
}
