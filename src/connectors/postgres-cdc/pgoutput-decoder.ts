/**
 * Decoder of the `pgoutput` logical replication protocol, versions 1 and 2, as PostgreSQL documents it in
 * "Logical Replication Message Formats" (https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
 * Values arrive in text form (we never ask for `binary`), exactly as Debezium asks for them.
 *
 * Grammar (Int64 LSNs and timestamps are big-endian; String is NUL-terminated UTF-8):
 *
 *   Begin    'B' Int64 final_lsn  Int64 commit_ts  Int32 xid
 *   Commit   'C' Int8 flags  Int64 commit_lsn  Int64 end_lsn  Int64 commit_ts
 *   Origin   'O' Int64 origin_lsn  String name
 *   Relation 'R' Int32 relid  String namespace  String name  Int8 replica_identity  Int16 ncols
 *                { Int8 flags(1 = part of the key)  String name  Int32 type_oid  Int32 typmod }*
 *   Type     'Y' Int32 oid  String namespace  String name
 *   Insert   'I' Int32 relid  'N' TupleData
 *   Update   'U' Int32 relid  [ 'K' TupleData | 'O' TupleData ]  'N' TupleData
 *   Delete   'D' Int32 relid  ( 'K' TupleData | 'O' TupleData )
 *   Truncate 'T' Int32 nrels  Int8 options(1 = CASCADE, 2 = RESTART IDENTITY)  Int32 relid*
 *   Message  'M' Int8 flags(1 = transactional)  Int64 lsn  String prefix  Int32 length  Byte* content
 *   TupleData  Int16 ncols { 'n' | 'u' | 't' Int32 len Byte* | 'b' Int32 len Byte* }*
 *
 * Version 2 (PostgreSQL 14+, with `streaming 'on'`) streams a large transaction while it runs, in
 * segments, and adds:
 *
 *   Stream Start  'S' Int32 xid  Int8 first_segment(1 = first segment of this transaction)
 *   Stream Stop   'E'
 *   Stream Commit 'c' Int32 xid  Int8 flags  Int64 commit_lsn  Int64 end_lsn  Int64 commit_ts
 *   Stream Abort  'A' Int32 xid  Int32 subxid (= xid when the whole transaction aborts)
 *
 * Between Stream Start and Stream Stop, Relation, Type, Insert, Update, Delete, Truncate and Message
 * carry an Int32 xid right after their tag (the subtransaction's xid for changes made in one):
 * decode them with `inStream` and read that xid with `streamedXid`.
 *
 * Timestamps count microseconds since 2000-01-01 UTC; they are returned as microseconds since the
 * Unix epoch.
 */
import type { Lsn } from './lsn.ts'
import { readLsn } from './lsn.ts'

/** Microseconds between 1970-01-01 and 2000-01-01. */
export const PG_EPOCH_OFFSET_US = 946_684_800_000_000n

/** One column of a tuple: `null`, `undefined` for an unchanged TOASTed value, text otherwise. */
export type TupleValue = string | null | undefined
export type Tuple = TupleValue[]

/** `RawTuple.bounds` start of a null column. */
export const RAW_NULL = -1
/** `RawTuple.bounds` start of an unchanged TOASTed column. */
export const RAW_UNCHANGED = -2

/**
 * A tuple left in the bytes it arrived in (a pgoutput TupleData, a COPY row): a column becomes text, or
 * is converted straight from its bytes, only when an event reads it — no string per column up front.
 * The bytes must stay as they are while the tuple is in use (never a buffer the driver reuses).
 */
export class RawTuple {
  readonly buffer: Buffer
  /** Per column its start and end in `buffer`; a start of RAW_NULL or RAW_UNCHANGED for those. */
  readonly bounds: number[]
  /** Columns whose bytes are not their text (COPY's backslash escapes), decoded; null when there are none. */
  readonly escaped: (string | undefined)[] | null

  constructor(buffer: Buffer, bounds: number[], escaped: (string | undefined)[] | null = null) {
    this.buffer = buffer
    this.bounds = bounds
    this.escaped = escaped
  }

  get length(): number {
    return this.bounds.length >> 1
  }

  /** Column `i` as text; undefined past the last column, as an array's index would be. */
  text(i: number): TupleValue {
    if (!(i >= 0 && i < this.length)) return undefined
    const start = this.bounds[2 * i]
    if (start < 0) return start === RAW_NULL ? null : undefined
    const escaped = this.escaped?.[i]
    return escaped ?? this.buffer.toString('utf8', start, this.bounds[2 * i + 1])
  }

  /** The columns at `positions` (-1: a null column), in that order. */
  pick(positions: readonly number[]): RawTuple {
    const bounds: number[] = new Array(2 * positions.length)
    const escaped: (string | undefined)[] | null = this.escaped ? [] : null
    for (let k = 0; k < positions.length; k++) {
      const p = positions[k]
      const inside = p >= 0 && p < this.length
      bounds[2 * k] = inside ? this.bounds[2 * p] : RAW_NULL
      bounds[2 * k + 1] = inside ? this.bounds[2 * p + 1] : 0
      if (escaped && inside) escaped[k] = this.escaped![p]
    }
    return new RawTuple(this.buffer, bounds, escaped)
  }

  /** Every column as text, as a `Tuple`. */
  texts(): Tuple {
    const out: Tuple = new Array(this.length)
    for (let i = 0; i < out.length; i++) out[i] = this.text(i)
    return out
  }
}

/** A tuple as text (snapshot rows read by a query) or as the bytes it came in. */
export type Row = Tuple | RawTuple

/** Column `i` of a row as text. */
export function textAt(row: Row, i: number): TupleValue {
  return row instanceof RawTuple ? row.text(i) : row[i]
}

export interface RelationColumn {
  readonly name: string
  readonly typeOid: number
  readonly typmod: number
  readonly isKey: boolean
}

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: Lsn; commitTimeUs: bigint; xid: number }
  | { tag: 'commit'; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTimeUs: bigint }
  | { tag: 'origin'; originLsn: Lsn; name: string }
  | {
      tag: 'relation'
      relationId: number
      schema: string
      table: string
      replicaIdentity: string
      columns: RelationColumn[]
    }
  | { tag: 'type'; typeOid: number; schema: string; name: string }
  | { tag: 'insert'; relationId: number; newTuple: RawTuple }
  | {
      tag: 'update'
      relationId: number
      /** 'K' (old key columns, the rest null) or 'O' (whole old row), or null when not sent. */
      oldKind: 'K' | 'O' | null
      oldTuple: RawTuple | null
      newTuple: RawTuple
    }
  | { tag: 'delete'; relationId: number; oldKind: 'K' | 'O'; oldTuple: RawTuple }
  | { tag: 'truncate'; options: number; relationIds: number[] }
  | { tag: 'message'; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer }
  | { tag: 'stream-start'; xid: number; firstSegment: boolean }
  | { tag: 'stream-stop' }
  | { tag: 'stream-commit'; xid: number; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTimeUs: bigint }
  | { tag: 'stream-abort'; xid: number; subXid: number }

/** Tags of the messages that carry a transaction id after their tag inside a stream (version 2). */
const XID_IN_STREAM = new Set([0x52, 0x59, 0x49, 0x55, 0x44, 0x54, 0x4d]) // R Y I U D T M

/** The xid a message sent between Stream Start and Stream Stop carries, or null if it carries none. */
export function streamedXid(buffer: Buffer, offset = 0): number | null {
  return XID_IN_STREAM.has(buffer[offset]) ? buffer.readUInt32BE(offset + 1) : null
}

class Reader {
  readonly #buffer: Buffer
  offset: number

  constructor(buffer: Buffer, offset: number) {
    this.#buffer = buffer
    this.offset = offset
  }
  byte(): number {
    return this.#buffer[this.offset++]
  }
  int16(): number {
    const v = this.#buffer.readInt16BE(this.offset)
    this.offset += 2
    return v
  }
  int32(): number {
    const v = this.#buffer.readInt32BE(this.offset)
    this.offset += 4
    return v
  }
  uint32(): number {
    const v = this.#buffer.readUInt32BE(this.offset)
    this.offset += 4
    return v
  }
  lsn(): Lsn {
    const v = readLsn(this.#buffer, this.offset)
    this.offset += 8
    return v
  }
  int64(): bigint {
    const v = this.#buffer.readBigInt64BE(this.offset)
    this.offset += 8
    return v
  }
  string(): string {
    const end = this.#buffer.indexOf(0, this.offset)
    if (end < 0) throw new Error('pgoutput: unterminated string')
    const s = this.#buffer.toString('utf8', this.offset, end)
    this.offset = end + 1
    return s
  }
  bytes(length: number): Buffer {
    const b = this.#buffer.subarray(this.offset, this.offset + length)
    this.offset += length
    return b
  }
  /** The columns' places in the buffer, not their texts: most are converted straight from the bytes. */
  tuple(): RawTuple {
    const buffer = this.#buffer
    const n = this.int16()
    const bounds: number[] = new Array(2 * n)
    let at = this.offset
    for (let i = 0; i < n; i++) {
      const kind = buffer[at++]
      if (kind === 0x74 /* t */ || kind === 0x62 /* b */) {
        const length = buffer.readInt32BE(at)
        at += 4
        bounds[2 * i] = at
        at += length
        bounds[2 * i + 1] = at
      } else if (kind === 0x6e /* n */ || kind === 0x75 /* u */) {
        bounds[2 * i] = kind === 0x6e ? RAW_NULL : RAW_UNCHANGED
        bounds[2 * i + 1] = 0
      } else throw new Error(`pgoutput: unknown tuple column kind 0x${kind.toString(16)}`)
    }
    if (at > buffer.length) throw new Error('pgoutput: tuple runs past the end of its message')
    this.offset = at
    return new RawTuple(buffer, bounds)
  }
}

function timestampUs(reader: Reader): bigint {
  return reader.int64() + PG_EPOCH_OFFSET_US
}

/**
 * Decodes one pgoutput message starting at `offset` of `buffer` (the payload of an XLogData).
 * `inStream`: the message was sent between Stream Start and Stream Stop, so it may carry an xid.
 */
export function decodePgOutput(buffer: Buffer, offset = 0, inStream = false): PgOutputMessage {
  const tag = buffer[offset]
  const r = new Reader(buffer, offset + (inStream && XID_IN_STREAM.has(tag) ? 5 : 1))
  switch (tag) {
    case 0x42 /* B */:
      {
        const finalLsn = r.lsn()
        const commitTimeUs = timestampUs(r)
        return { tag: 'begin', finalLsn, commitTimeUs, xid: r.uint32() }
      }
    case 0x43 /* C */:
      {
        const flags = r.byte()
        const commitLsn = r.lsn()
        const endLsn = r.lsn()
        return { tag: 'commit', flags, commitLsn, endLsn, commitTimeUs: timestampUs(r) }
      }
    case 0x4f /* O */:
      return { tag: 'origin', originLsn: r.lsn(), name: r.string() }
    case 0x52 /* R */:
      {
        const relationId = r.uint32()
        const schema = r.string()
        const table = r.string()
        const replicaIdentity = String.fromCharCode(r.byte())
        const n = r.int16()
        const columns: RelationColumn[] = []
        for (let i = 0; i < n; i++) {
          const flags = r.byte()
          const name = r.string()
          const typeOid = r.uint32()
          columns.push({ name, typeOid, typmod: r.int32(), isKey: (flags & 1) === 1 })
        }
        return { tag: 'relation', relationId, schema, table, replicaIdentity, columns }
      }
    case 0x59 /* Y */:
      return { tag: 'type', typeOid: r.uint32(), schema: r.string(), name: r.string() }
    case 0x49 /* I */:
      {
        const relationId = r.uint32()
        r.byte() // 'N'
        return { tag: 'insert', relationId, newTuple: r.tuple() }
      }
    case 0x55 /* U */:
      {
        const relationId = r.uint32()
        let kind = r.byte()
        let oldKind: 'K' | 'O' | null = null
        let oldTuple: RawTuple | null = null
        if (kind === 0x4b /* K */ || kind === 0x4f /* O */) {
          oldKind = kind === 0x4b ? 'K' : 'O'
          oldTuple = r.tuple()
          kind = r.byte()
        }
        if (kind !== 0x4e /* N */)
          throw new Error(`pgoutput: UPDATE without a new tuple (0x${kind.toString(16)})`)
        return { tag: 'update', relationId, oldKind, oldTuple, newTuple: r.tuple() }
      }
    case 0x44 /* D */:
      {
        const relationId = r.uint32()
        const kind = r.byte()
        return { tag: 'delete', relationId, oldKind: kind === 0x4f ? 'O' : 'K', oldTuple: r.tuple() }
      }
    case 0x54 /* T */:
      {
        const n = r.int32()
        const options = r.byte()
        const relationIds: number[] = []
        for (let i = 0; i < n; i++) relationIds.push(r.uint32())
        return { tag: 'truncate', options, relationIds }
      }
    case 0x4d /* M */:
      {
        const transactional = (r.byte() & 1) === 1
        const lsn = r.lsn()
        const prefix = r.string()
        const length = r.int32()
        return { tag: 'message', transactional, lsn, prefix, content: Buffer.from(r.bytes(length)) }
      }
    case 0x53 /* S */:
      return { tag: 'stream-start', xid: r.uint32(), firstSegment: r.byte() === 1 }
    case 0x45 /* E */:
      return { tag: 'stream-stop' }
    case 0x63 /* c */:
      {
        const xid = r.uint32()
        const flags = r.byte()
        const commitLsn = r.lsn()
        const endLsn = r.lsn()
        return { tag: 'stream-commit', xid, flags, commitLsn, endLsn, commitTimeUs: timestampUs(r) }
      }
    case 0x41 /* A */:
      return { tag: 'stream-abort', xid: r.uint32(), subXid: r.uint32() }
    default:
      throw new Error(`pgoutput: unknown message type '${String.fromCharCode(tag)}' (0x${tag.toString(16)})`)
  }
}
