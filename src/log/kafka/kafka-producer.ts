/**
 * `LogProducer` on @platformatic/kafka's idempotent producer (acks=all).
 *
 * Calls to `send()` are coalesced: records queued in the same turn of the event loop (and while the
 * in-flight limit is reached) go out together as one produce request of at most `maxRequestBytes`,
 * so many small calls cost few round trips, and a large call is split. Up to `maxInFlight` requests
 * are outstanding at once. Requests are prepared strictly in queue order, so records of a partition
 * reach the broker in the order of the calls; the idempotent producer's sequence numbers let the
 * broker reject duplicates of retried batches.
 *
 * Placement is decided here, not by the client: platformatic's default partitioner takes
 * `murmur2(key) >>> 0`, which differs from Java's `murmur2(key) & 0x7fffffff` for half the keys.
 * Keyed records use Java's rule; unkeyed records of one request stick to one partition per topic,
 * moving round-robin between requests (the spirit of Java's sticky partitioner).
 */
import { ProduceAcks, type Producer } from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import type { CompressionType, LogProducer, ProduceRecord, RecordMetadata } from '../log.ts'
import { partitionForKey } from '../murmur2.ts'
import { toConnectError } from './errors.ts'

export interface KafkaProducerSettings {
  /** Produce requests outstanding at once. @default 5 (Java's max.in.flight.requests.per.connection) */
  maxInFlight?: number
  /** Record batch compression, Kafka's `compression.type`. @default 'none' */
  compression?: CompressionType
  /**
   * Upper bound on the record bytes of one produce request; also bounds each partition's batch,
   * which the broker rejects above `message.max.bytes` (1 MiB by default).
   * @default 900 KiB
   */
  maxRequestBytes?: number
  /**
   * Hands each produce request to the client; a transactional producer sends through its open
   * transaction. @default the client's own `send`
   */
  send?: (options: Parameters<Producer['send']>[0]) => ReturnType<Producer['send']>
}

interface Call {
  readonly results: RecordMetadata[]
  remaining: number
  failed: boolean
  resolve(value: RecordMetadata[]): void
  reject(error: unknown): void
}

/** A slice of one call's records inside a request. */
interface Segment {
  readonly call: Call
  readonly records: readonly ProduceRecord[]
  readonly from: number
  readonly to: number
}

interface OutgoingMessage {
  topic: string
  partition: number
  key: Buffer | undefined
  value: Buffer | undefined
  headers: Map<Buffer, Buffer | null> | undefined
  timestamp: bigint
}

const RECORD_OVERHEAD = 24

function toBuffer(bytes: Uint8Array | null): Buffer | undefined {
  if (bytes === null) return undefined
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function estimateSize(record: ProduceRecord): number {
  let size = RECORD_OVERHEAD + (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0)
  if (record.headers) for (const h of record.headers) size += h.key.length + (h.value?.byteLength ?? 0) + 4
  return size
}

export class KafkaProducer implements LogProducer {
  readonly #client: Producer
  readonly #bootstrap: readonly string[]
  readonly #maxInFlight: number
  readonly #maxRequestBytes: number
  readonly #compression: CompressionType
  readonly #send: NonNullable<KafkaProducerSettings['send']>
  readonly #queue: Segment[] = []
  /** Offset into the first queued segment's records already taken by a request. */
  #queueHeadOffset = 0
  #inFlight = 0
  #flushScheduled = false
  /** Requests are prepared (metadata, placement, hand-off to the client) one after the other. */
  #preparing: Promise<void> = Promise.resolve()
  readonly #idle = new Set<() => void>()
  readonly #stickyPartition = new Map<string, number>()
  #closed = false

  constructor(client: Producer, bootstrap: readonly string[], settings: KafkaProducerSettings = {}) {
    this.#client = client
    this.#bootstrap = bootstrap
    this.#maxInFlight = settings.maxInFlight ?? 5
    this.#maxRequestBytes = settings.maxRequestBytes ?? 900 * 1024
    this.#compression = settings.compression ?? 'none'
    this.#send = settings.send ?? ((options) => this.#client.send(options))
  }

  send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]> {
    if (this.#closed) {
      return Promise.reject(new ConnectError('CONNECT', 'the Kafka producer is closed; create a new one'))
    }
    if (records.length === 0) return Promise.resolve([])
    const { promise, resolve, reject } = Promise.withResolvers<RecordMetadata[]>()
    const call: Call = {
      results: new Array<RecordMetadata>(records.length),
      remaining: records.length,
      failed: false,
      resolve,
      reject,
    }
    this.#queue.push({ call, records, from: 0, to: records.length })
    this.#scheduleFlush()
    return promise
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    while (this.#queue.length > 0 || this.#inFlight > 0) {
      await new Promise<void>((resolve) => this.#idle.add(resolve))
    }
    await this.#client.close()
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => {
      this.#flushScheduled = false
      this.#flush()
    })
  }

  #flush(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const request = this.#takeRequest()
      this.#inFlight++
      this.#preparing = this.#preparing.then(() => this.#dispatch(request))
    }
  }

  /** Takes queued records, in order, up to `maxRequestBytes` (at least one record). */
  #takeRequest(): Segment[] {
    const request: Segment[] = []
    let bytes = 0
    while (this.#queue.length > 0) {
      const head = this.#queue[0]
      const start = head.from + this.#queueHeadOffset
      let end = start
      while (end < head.to) {
        const size = estimateSize(head.records[end])
        if (bytes + size > this.#maxRequestBytes && (bytes > 0 || end > start)) break
        bytes += size
        end++
      }
      if (end > start) request.push({ call: head.call, records: head.records, from: start, to: end })
      if (end === head.to) {
        this.#queue.shift()
        this.#queueHeadOffset = 0
      } else {
        this.#queueHeadOffset = end - head.from
        break
      }
    }
    return request
  }

  async #dispatch(request: Segment[]): Promise<void> {
    let sent: Promise<void>
    try {
      sent = (await this.#prepareAndSend(request)).acked
    } catch (error) {
      sent = Promise.reject(error)
    }
    // Completion is not awaited here: the next request may be prepared while this one is in flight.
    sent
      .catch((error: unknown) => {
        const wrapped = toConnectError(error, {
          operation: `producing to ${describeTopics(request)}`,
          bootstrap: this.#bootstrap,
        })
        for (const segment of request) {
          if (!segment.call.failed) {
            segment.call.failed = true
            segment.call.reject(wrapped)
          }
        }
      })
      .finally(() => {
        this.#inFlight--
        if (this.#queue.length > 0) this.#flush()
        else if (this.#inFlight === 0) {
          for (const resolve of this.#idle) resolve()
          this.#idle.clear()
        }
      })
  }

  /** Resolves once the request is handed to the client; `acked` settles when the broker answered. */
  async #prepareAndSend(request: Segment[]): Promise<{ acked: Promise<void> }> {
    const topics = new Set<string>()
    for (const segment of request)
      for (let i = segment.from; i < segment.to; i++) topics.add(segment.records[i].topic)
    const metadata = await this.#client.metadata({ topics: [...topics] })
    const sticky = new Map<string, number>()
    const messages: OutgoingMessage[] = []
    const now = BigInt(Date.now())
    for (const segment of request) {
      for (let i = segment.from; i < segment.to; i++) {
        const record = segment.records[i]
        const count = metadata.topics.get(record.topic)!.partitionsCount
        let partition: number
        if (record.partition !== undefined) {
          if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= count) {
            throw new ConnectError(
              'CONNECT',
              `partition ${record.partition} does not exist in topic '${record.topic}', which has ${count} partitions`,
            )
          }
          partition = record.partition
        } else if (record.key !== null) {
          partition = partitionForKey(record.key, count)
        } else {
          let chosen = sticky.get(record.topic)
          if (chosen === undefined) {
            chosen = ((this.#stickyPartition.get(record.topic) ?? -1) + 1) % count
            this.#stickyPartition.set(record.topic, chosen)
            sticky.set(record.topic, chosen)
          }
          partition = chosen
        }
        let headers: Map<Buffer, Buffer | null> | undefined
        if (record.headers !== undefined && record.headers.length > 0) {
          headers = new Map()
          for (const h of record.headers) headers.set(Buffer.from(h.key, 'utf8'), toBuffer(h.value) ?? null)
        }
        messages.push({
          topic: record.topic,
          partition,
          key: toBuffer(record.key),
          value: toBuffer(record.value),
          headers,
          timestamp: record.timestamp === undefined ? now : BigInt(record.timestamp),
        })
      }
    }
    // Each chunk is one client.send. With one request in flight (source tasks) a chunk waits for the
    // one before it, since the client's retries could reorder two outstanding sends.
    const chunks = splitForTimestampDeltas(messages)
    const sendChunk = (chunk: OutgoingMessage[]) =>
      this.#send({
        // The client's types want non-null header values; null values are written as Kafka nulls.
        messages: chunk as Parameters<Producer['send']>[0]['messages'],
        acks: ProduceAcks.ALL,
        idempotent: true,
        ...(this.#compression === 'none' ? {} : { compression: this.#compression }),
      })
    let results: Promise<Awaited<ReturnType<Producer['send']>>[]>
    if (this.#maxInFlight === 1 && chunks.length > 1) {
      results = (async () => {
        const done = []
        for (const chunk of chunks) done.push(await sendChunk(chunk))
        return done
      })()
    } else {
      results = Promise.all(chunks.map(sendChunk))
    }
    const acked = results.then((results) => {
      const offsets: number[] = new Array(messages.length)
      let m = 0
      results.forEach((result, c) => {
        const base = new Map<string, number>()
        for (const o of result.offsets ?? []) base.set(`${o.topic}\u0000${o.partition}`, Number(o.offset))
        // One batch per partition per request, records in message order: offsets follow the base.
        const next = new Map<string, number>()
        for (const message of chunks[c]) {
          const key = `${message.topic}\u0000${message.partition}`
          const offset = next.get(key) ?? base.get(key)
          if (offset === undefined) {
            throw new ConnectError(
              'CONNECT',
              `Kafka acknowledged no offset for ${message.topic}-${message.partition}`,
            )
          }
          next.set(key, offset + 1)
          offsets[m++] = offset
        }
      })
      m = 0
      for (const segment of request) {
        for (let i = segment.from; i < segment.to; i++, m++) {
          const message = messages[m]
          segment.call.results[i] = {
            topic: message.topic,
            partition: message.partition,
            offset: offsets[m],
            timestamp: Number(message.timestamp),
          }
        }
        segment.call.remaining -= segment.to - segment.from
        if (segment.call.remaining === 0 && !segment.call.failed) segment.call.resolve(segment.call.results)
      }
    })
    return { acked }
  }
}

/**
 * @platformatic/dynamic-buffer 0.3.1 zigzag-encodes varint64 with `value >> 31n` instead of `>> 63n`,
 * so a record whose timestamp is 2^31 ms (~25 days) or more away from its batch's first timestamp
 * is written with a wrong timestamp. Records are split into consecutive chunks (one produce request
 * each) so that within a chunk every partition's timestamps stay within that distance.
 */
const MAX_TIMESTAMP_DELTA = 2n ** 31n - 1n

function splitForTimestampDeltas(messages: OutgoingMessage[]): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [[]]
  let firsts = new Map<string, bigint>()
  for (const message of messages) {
    const key = `${message.topic}\u0000${message.partition}`
    const first = firsts.get(key)
    if (first !== undefined) {
      const delta = message.timestamp - first
      if (delta > MAX_TIMESTAMP_DELTA || delta < -MAX_TIMESTAMP_DELTA) {
        chunks.push([])
        firsts = new Map()
      }
    }
    if (!firsts.has(key)) firsts.set(key, message.timestamp)
    chunks[chunks.length - 1].push(message)
  }
  return chunks
}

function describeTopics(request: Segment[]): string {
  const topics = new Set<string>()
  for (const segment of request)
    for (let i = segment.from; i < segment.to; i++) topics.add(segment.records[i].topic)
  return [...topics].map((t) => `'${t}'`).join(', ')
}
