/**
 * Avro object container files (the Avro 1.11 specification, "Object Container Files"), as Java's
 * `DataFileWriter` writes them: what storage sinks write for `format.class=…AvroFormat`.
 *
 *   file   = "Obj" 0x01 | metadata map<bytes> {avro.schema, avro.codec, …} | 16-byte sync marker | block*
 *   block  = record count (long) | byte size (long) | records (compressed by the codec) | sync marker
 *
 * Codecs: `null` and `deflate` (raw RFC 1951 deflate, as Java's `DeflateCodec`). A block is cut
 * once its records reach `syncIntervalBytes` (Java's default 64,000), or when `flush()` is called.
 * The encoder is incremental, so a sink can upload parts as they fill.
 */
import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import { DataError } from '../errors.ts'
import type { AvroWriter } from './avro-data.ts'

export type AvroCodec = 'null' | 'deflate'

export interface AvroContainerOptions {
  /** @default 'null' */
  codec?: AvroCodec
  /** Deflate level 1–9 (Java's `deflate.level`, default -1 = zlib's 6). */
  deflateLevel?: number
  /** @default 64000 */
  syncIntervalBytes?: number
  /** Extra metadata (keys starting with `avro.` are reserved). */
  metadata?: Record<string, string>
  /** A fixed sync marker, for reproducible files in tests; random otherwise. */
  syncMarker?: Uint8Array
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01])

function varint(n: number): Buffer {
  // Zig-zag long; counts and sizes here are far below 2^31.
  let z = n >= 0 ? n * 2 : -n * 2 - 1
  const out: number[] = []
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80)
    z = Math.floor(z / 0x80)
  }
  out.push(z)
  return Buffer.from(out)
}

function avroBytes(value: Buffer): Buffer {
  return Buffer.concat([varint(value.length), value])
}

export class AvroContainerEncoder {
  readonly codec: AvroCodec
  readonly syncMarker: Buffer
  readonly #writer: AvroWriter
  readonly #syncInterval: number
  readonly #level: number
  readonly #metadata: Record<string, string>
  #records: Buffer[] = []
  #pendingBytes = 0
  #headerWritten = false

  constructor(writer: AvroWriter, options: AvroContainerOptions = {}) {
    this.#writer = writer
    this.codec = options.codec ?? 'null'
    if (this.codec !== 'null' && this.codec !== 'deflate') {
      throw new DataError(`unsupported Avro codec '${String(this.codec)}': use null or deflate`)
    }
    this.#level = options.deflateLevel ?? -1
    this.#syncInterval = options.syncIntervalBytes ?? 64_000
    this.#metadata = options.metadata ?? {}
    this.syncMarker = options.syncMarker ? Buffer.from(options.syncMarker) : randomBytes(16)
    if (this.syncMarker.length !== 16) throw new DataError('an Avro sync marker is 16 bytes')
  }

  /** Records appended and not yet in a block. */
  get pendingRecords(): number {
    return this.#records.length
  }

  /** The file header: magic, metadata (schema, codec) and sync marker. */
  header(): Buffer {
    const entries: [string, string][] = [
      ['avro.schema', this.#writer.text],
      ['avro.codec', this.codec],
      ...Object.entries(this.#metadata).filter(([k]) => !k.startsWith('avro.')),
    ]
    const parts: Buffer[] = [MAGIC, varint(entries.length)]
    for (const [k, v] of entries)
      parts.push(avroBytes(Buffer.from(k, 'utf8')), avroBytes(Buffer.from(v, 'utf8')))
    parts.push(varint(0), this.syncMarker)
    this.#headerWritten = true
    return Buffer.concat(parts)
  }

  /**
   * Appends a Connect value of the writer's schema. Returns the bytes to write out: the header before
   * the first record, and a block when the records reached the sync interval (else an empty buffer).
   */
  append(value: unknown): Buffer {
    const head = this.#headerWritten ? undefined : this.header()
    const encoded = this.#writer.type.toBuffer(this.#writer.toAvro(value))
    this.#records.push(encoded)
    this.#pendingBytes += encoded.length
    const block = this.#pendingBytes >= this.#syncInterval ? this.flush() : undefined
    if (head === undefined) return block ?? Buffer.alloc(0)
    return block === undefined ? head : Buffer.concat([head, block])
  }

  /** The pending records as one block (the header first if nothing was written yet); empty when none. */
  flush(): Buffer {
    const head = this.#headerWritten ? undefined : this.header()
    if (this.#records.length === 0) return head ?? Buffer.alloc(0)
    const raw = Buffer.concat(this.#records)
    const data = this.codec === 'deflate' ? deflateRawSync(raw, { level: this.#level }) : raw
    const block = Buffer.concat([varint(this.#records.length), varint(data.length), data, this.syncMarker])
    this.#records = []
    this.#pendingBytes = 0
    return head === undefined ? block : Buffer.concat([head, block])
  }
}

/** A whole container file of Connect values. */
export function encodeAvroContainer(
  writer: AvroWriter,
  values: readonly unknown[],
  options?: AvroContainerOptions,
): Buffer {
  const encoder = new AvroContainerEncoder(writer, options)
  const parts: Buffer[] = [encoder.header()]
  for (const value of values) parts.push(encoder.append(value))
  parts.push(encoder.flush())
  return Buffer.concat(parts)
}
