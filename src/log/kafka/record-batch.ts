/**
 * Kafka's RecordBatch v2 (magic 2, `DefaultRecordBatch` / `DefaultRecord` in the Java client),
 * encoded straight from `ProduceRecord`s into one buffer per batch: a sizing pass, one allocation,
 * one writing pass, CRC32C over attributes..end. Compressed batches encode their records into one
 * buffer, compress it (the client library's codecs), and copy the result behind the header.
 *
 * Timestamps are millisecond numbers: their deltas are zigzag varlongs written with float
 * arithmetic, exact for any |delta| < 2^52 (about 142,000 years), so no record needs to be moved
 * to another batch because of its timestamp.
 */
import { compressionsAlgorithms, crc32c, Writer } from '@platformatic/kafka'
import type { CompressionType, ProduceRecord } from '../log.ts'

/** Who writes the batch: producer id, epoch and first sequence (-1s for a plain producer). */
export interface BatchIdentity {
  readonly producerId: bigint
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly transactional: boolean
}

const HEADER_BYTES = 61
/** Bytes before the CRC's range: base offset, length, leader epoch, magic, crc. */
const CRC_FROM = 21
const TRANSACTIONAL = 0x10
const CODEC_BITS: Record<CompressionType, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

/** Encoded header keys; a producer sees few distinct keys, so they are encoded once. */
const headerKeys = new Map<string, Buffer>()

function headerKey(key: string): Buffer {
  let bytes = headerKeys.get(key)
  if (bytes === undefined) {
    bytes = Buffer.from(key, 'utf8')
    if (headerKeys.size < 4096) headerKeys.set(key, bytes)
  }
  return bytes
}

function varintSize(value: number): number {
  // Zigzag of a 32-bit signed int, then unsigned varint size.
  const v = ((value << 1) ^ (value >> 31)) >>> 0
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5
}

/** Zigzag of a safe integer as a non-negative float (exact below 2^53). */
function zigzagLong(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1
}

function varlongSize(value: number): number {
  let v = zigzagLong(value)
  let size = 1
  while (v >= 128) {
    v = Math.floor(v / 128)
    size++
  }
  return size
}

function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[pos++] = v
  return pos
}

function writeVarlong(buf: Buffer, pos: number, value: number): number {
  let v = zigzagLong(value)
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  buf[pos++] = v
  return pos
}

function writeBytes(buf: Buffer, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) return writeVarint(buf, pos, -1)
  pos = writeVarint(buf, pos, bytes.byteLength)
  buf.set(bytes, pos)
  return pos + bytes.byteLength
}

function bytesSize(bytes: Uint8Array | null): number {
  return bytes === null ? 1 : varintSize(bytes.byteLength) + bytes.byteLength
}

/** The size of a record's body (everything after its length varint). */
function bodySize(record: ProduceRecord, timestampDelta: number, offsetDelta: number): number {
  let size = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta)
  size += bytesSize(record.key) + bytesSize(record.value)
  const headers = record.headers
  const count = headers === undefined ? 0 : headers.length
  size += varintSize(count)
  for (let h = 0; h < count; h++) {
    const header = headers![h]
    size += bytesSize(headerKey(header.key)) + bytesSize(header.value)
  }
  return size
}

/** Writes the records (length-prefixed) at `pos`; `sizes` are their body sizes. */
function writeRecords(
  buf: Buffer,
  pos: number,
  records: readonly ProduceRecord[],
  timestamps: Float64Array,
  sizes: Int32Array,
): number {
  const base = timestamps[0]
  for (let i = 0; i < records.length; i++) {
    const record = records[i]
    pos = writeVarint(buf, pos, sizes[i])
    buf[pos++] = 0 // record attributes
    pos = writeVarlong(buf, pos, timestamps[i] - base)
    pos = writeVarint(buf, pos, i)
    pos = writeBytes(buf, pos, record.key)
    pos = writeBytes(buf, pos, record.value)
    const headers = record.headers
    const count = headers === undefined ? 0 : headers.length
    pos = writeVarint(buf, pos, count)
    for (let h = 0; h < count; h++) {
      const header = headers![h]
      pos = writeBytes(buf, pos, headerKey(header.key))
      pos = writeBytes(buf, pos, header.value)
    }
  }
  return pos
}

function writeHeader(
  buf: Buffer,
  count: number,
  attributes: number,
  firstTimestamp: number,
  maxTimestamp: number,
  id: BatchIdentity,
): void {
  buf.writeBigInt64BE(0n, 0) // base offset: the broker assigns it
  buf.writeInt32BE(buf.length - 12, 8) // batch length: from the leader epoch on
  buf.writeInt32BE(-1, 12) // partition leader epoch
  buf[16] = 2 // magic
  buf.writeInt16BE(attributes, 21)
  buf.writeInt32BE(count - 1, 23) // last offset delta
  buf.writeBigInt64BE(BigInt(firstTimestamp), 27)
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35)
  buf.writeBigInt64BE(id.producerId, 43)
  buf.writeInt16BE(id.producerEpoch, 51)
  buf.writeInt32BE(id.baseSequence, 53)
  buf.writeInt32BE(count, 57)
  // The client's crc32c copies a Buffer into a new Uint8Array first, but reads a DynamicBuffer of one
  // chunk in place: the batch goes in wrapped.
  buf.writeUInt32BE(crc32c(Writer.create().append(buf.subarray(CRC_FROM)).dynamicBuffer), 17)
}

/**
 * Encodes `records` (one partition's, in order) as one RecordBatch v2. Records without a
 * timestamp get `now`. Resolves synchronously (a Buffer) unless the codec compresses off-thread.
 */
export function encodeRecordBatch(
  records: readonly ProduceRecord[],
  now: number,
  compression: CompressionType,
  id: BatchIdentity,
): Buffer | Promise<Buffer> {
  const count = records.length
  if (count === 0) throw new RangeError('a record batch holds at least one record')
  const timestamps = new Float64Array(count)
  const sizes = new Int32Array(count)
  let maxTimestamp = Number.NEGATIVE_INFINITY
  for (let i = 0; i < count; i++) {
    const ts = records[i].timestamp ?? now
    if (!Number.isSafeInteger(ts) || ts < 0) {
      throw new RangeError(`record timestamp ${ts} is not a non-negative integer number of milliseconds`)
    }
    timestamps[i] = ts
    if (ts > maxTimestamp) maxTimestamp = ts
  }
  let recordsBytes = 0
  for (let i = 0; i < count; i++) {
    const size = bodySize(records[i], timestamps[i] - timestamps[0], i)
    sizes[i] = size
    recordsBytes += varintSize(size) + size
  }
  const attributes = CODEC_BITS[compression] | (id.transactional ? TRANSACTIONAL : 0)
  if (compression === 'none') {
    const buf = Buffer.allocUnsafe(HEADER_BYTES + recordsBytes)
    writeRecords(buf, HEADER_BYTES, records, timestamps, sizes)
    writeHeader(buf, count, attributes, timestamps[0], maxTimestamp, id)
    return buf
  }
  const plain = Buffer.allocUnsafe(recordsBytes)
  writeRecords(plain, 0, records, timestamps, sizes)
  const codec = compressionsAlgorithms[compression] as {
    compress?: (data: Buffer) => Promise<Buffer>
    compressSync(data: Buffer): Buffer
  }
  const finish = (compressed: Buffer): Buffer => {
    const buf = Buffer.allocUnsafe(HEADER_BYTES + compressed.length)
    compressed.copy(buf, HEADER_BYTES)
    writeHeader(buf, count, attributes, timestamps[0], maxTimestamp, id)
    return buf
  }
  // gzip goes to libuv's thread pool, as the client library does; the others are synchronous.
  return codec.compress !== undefined ? codec.compress(plain).then(finish) : finish(codec.compressSync(plain))
}

// ── decoding ─────────────────────────────────────────────────────────────────────────────────────

/** A RecordBatch v2 of a fetch response, its records still encoded (decompressed if need be). */
export interface BatchView {
  readonly baseOffset: number
  readonly lastOffsetDelta: number
  readonly attributes: number
  readonly producerId: bigint
  readonly firstTimestamp: number
  readonly maxTimestamp: number
  readonly count: number
  /** The records, from the first one's length varint on. */
  readonly records: Buffer
}

const CODECS_BY_BITS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/**
 * The batches of a fetched record set, in order; a batch cut off at the end (the broker sends up
 * to the partition's byte limit) is left out. Only the batch headers are read here.
 */
export function readBatches(set: Buffer): BatchView[] {
  const batches: BatchView[] = []
  let pos = 0
  while (pos + 17 <= set.length) {
    const length = set.readInt32BE(pos + 8)
    const end = pos + 12 + length
    if (end > set.length) break
    const magic = set[pos + 16]
    if (magic !== 2) {
      throw new RangeError(`record batch with magic ${magic}: only RecordBatch v2 (Kafka 0.11+) is read`)
    }
    const attributes = set.readInt16BE(pos + 21)
    const codec = CODECS_BY_BITS[attributes & 0x07]
    if (codec === undefined)
      throw new RangeError(`record batch with unknown compression ${attributes & 0x07}`)
    let records = set.subarray(pos + HEADER_BYTES, end)
    if (codec !== 'none') {
      records = (compressionsAlgorithms[codec] as { decompressSync(data: Buffer): Buffer }).decompressSync(
        records,
      )
    }
    batches.push({
      baseOffset: Number(set.readBigInt64BE(pos)),
      lastOffsetDelta: set.readInt32BE(pos + 23),
      attributes,
      producerId: set.readBigInt64BE(pos + 43),
      firstTimestamp: Number(set.readBigInt64BE(pos + 27)),
      maxTimestamp: Number(set.readBigInt64BE(pos + 35)),
      count: set.readInt32BE(pos + 57),
      records,
    })
    pos = end
  }
  return batches
}

/** Reads a batch's records one at a time (`DefaultRecord`), without objects in between. */
export class RecordReader {
  pos = 0
  readonly buf: Buffer

  constructor(buf: Buffer) {
    this.buf = buf
  }

  varint(): number {
    const buf = this.buf
    let value = 0
    let shift = 0
    let byte: number
    do {
      byte = buf[this.pos++]
      value |= (byte & 0x7f) << shift
      shift += 7
    } while (byte & 0x80 && shift < 35)
    return (value >>> 1) ^ -(value & 1)
  }

  varlong(): number {
    const buf = this.buf
    let value = 0
    let scale = 1
    let byte: number
    do {
      byte = buf[this.pos++]
      value += (byte & 0x7f) * scale
      scale *= 128
    } while (byte & 0x80)
    // Zigzag on a non-negative float: even → value / 2, odd → -(value + 1) / 2.
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2
  }

  bytes(): Buffer | null {
    const length = this.varint()
    if (length < 0) return null
    const start = this.pos
    this.pos += length
    return this.buf.subarray(start, this.pos)
  }

  string(): string {
    return this.bytes()?.toString('utf8') ?? ''
  }
}

/** A control batch's type (its one record's key: version int16, type int16): 0 abort, 1 commit. */
export function controlType(batch: BatchView): number {
  const reader = new RecordReader(batch.records)
  reader.varint() // length
  reader.pos++ // attributes
  reader.varlong() // timestamp delta
  reader.varint() // offset delta
  const key = reader.bytes()
  return key !== null && key.length >= 4 ? key.readInt16BE(2) : -1
}
