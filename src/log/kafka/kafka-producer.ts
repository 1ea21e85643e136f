/**
 * `LogProducer` on Kafka with its own produce path (decision 0030): records are encoded straight
 * into one RecordBatch v2 buffer per partition (record-batch.ts), sent in Produce requests of our
 * own on the client library's connections, and retried with the idempotent producer's rules
 * (produce-sender.ts). acks=all.
 *
 * Calls to `send()` are coalesced: records queued in the same turn of the event loop (and while the
 * in-flight limit is reached) go out together as one produce request of at most `maxRequestBytes`,
 * so many small calls cost few round trips, and a large call is split. Up to `maxInFlight` requests
 * are outstanding at once. Requests are prepared strictly in queue order, so sequence numbers, and
 * with them the records of a partition, follow the order of the calls.
 *
 * Placement is decided here: keyed records use Java's `murmur2(key) & 0x7fffffff` (murmur2.ts);
 * unkeyed records of one request stick to one partition per topic, moving round-robin between
 * requests (the spirit of Java's sticky partitioner).
 */
import type { Producer } from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import type { CompressionType, LogProducer, ProduceRecord, RecordMetadata } from '../log.ts'
import { partitionForKey } from '../murmur2.ts'
import { toConnectError } from './errors.ts'
import {
  type Batch,
  clientTransport,
  ProduceSender,
  type ProduceTransport,
  type TransactionHook,
} from './produce-sender.ts'
import { encodeRecordBatch } from './record-batch.ts'

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
  /** Producer id, epoch and sequence numbers. @default true */
  idempotent?: boolean
  /** How long a batch is retried before its records fail (Java's delivery.timeout.ms). @default 120000 */
  deliveryTimeoutMs?: number
  /** Pause before a partition's batches are sent again (Java's retry.backoff.ms). @default 100 */
  retryBackoffMs?: number
  /** The broker's wait for acks=all (the request's timeout). @default 30000 */
  requestTimeoutMs?: number
  /** A transactional producer's transaction: adds partitions to it, names the producer id. */
  transaction?: TransactionHook
  /** The way to the cluster. @default the client library's metadata and connections */
  transport?: ProduceTransport
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

/** One partition's records of a request, with where each record's metadata goes. */
interface Group {
  readonly topic: string
  readonly partition: number
  readonly key: string
  readonly records: ProduceRecord[]
  readonly calls: Call[]
  readonly slots: number[]
}

const RECORD_OVERHEAD = 24

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
  readonly #transport: ProduceTransport
  readonly #sender: ProduceSender
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
    this.#transport = settings.transport ?? clientTransport(client, settings.requestTimeoutMs ?? 30_000)
    this.#sender = new ProduceSender(this.#transport, {
      idempotent: settings.idempotent ?? true,
      transaction: settings.transaction,
      deliveryTimeoutMs: settings.deliveryTimeoutMs ?? 120_000,
      retryBackoffMs: settings.retryBackoffMs ?? 100,
    })
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
    await this.idle()
    await this.#client.close()
  }

  /** Resolves once every record sent so far was answered (written, or failed for good). */
  async idle(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight > 0) {
      await new Promise<void>((resolve) => this.#idle.add(resolve))
    }
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

  /** Resolves once the request's batches are handed to the connections; `acked` settles with the broker's answers. */
  async #prepareAndSend(request: Segment[]): Promise<{ acked: Promise<void> }> {
    const topics = new Set<string>()
    for (const segment of request)
      for (let i = segment.from; i < segment.to; i++) topics.add(segment.records[i].topic)
    const metadata = await this.#transport.metadata([...topics], false)
    // Placement: one group per partition, records in call order; each record remembers its slot.
    const groups = new Map<string, Group>()
    const sticky = new Map<string, number>()
    // Records come in runs of one partition: the run's group is found without keying every record.
    let run: Group | undefined
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
        if (run === undefined || run.partition !== partition || run.topic !== record.topic) {
          const key = `${record.topic}\u0000${partition}`
          run = groups.get(key)
          if (run === undefined) {
            run = { topic: record.topic, partition, key, records: [], calls: [], slots: [] }
            groups.set(key, run)
          }
        }
        run.records.push(record)
        run.calls.push(segment.call)
        run.slots.push(i)
      }
    }
    const identity = await this.#sender.identity(metadata, [...groups.values()])
    const now = Date.now()
    const batches: Batch<Group>[] = []
    for (const group of groups.values()) {
      const state = identity.partition(group.key)
      const baseSequence = identity.idempotent ? state.nextSequence : -1
      const encoded = encodeRecordBatch(group.records, now, this.#compression, {
        producerId: identity.producerId,
        producerEpoch: identity.producerEpoch,
        baseSequence,
        transactional: identity.transactionalId !== null,
      })
      const bytes = encoded instanceof Buffer ? encoded : await encoded
      batches.push(this.#sender.batch(identity, state, group, bytes, baseSequence, group.records.length))
    }
    this.#sender.submit(batches, metadata)
    const acked = Promise.all(batches.map((b) => b.done)).then((answers) => {
      answers.forEach((answer, g) => {
        const group = batches[g].group
        for (let r = 0; r < group.records.length; r++) {
          const call = group.calls[r]
          const record = group.records[r]
          call.results[group.slots[r]] = {
            topic: group.topic,
            partition: group.partition,
            offset: answer.baseOffset < 0 ? -1 : answer.baseOffset + r,
            timestamp: answer.logAppendTimeMs >= 0 ? answer.logAppendTimeMs : (record.timestamp ?? now),
          }
        }
      })
      for (const segment of request) {
        segment.call.remaining -= segment.to - segment.from
        if (segment.call.remaining === 0 && !segment.call.failed) segment.call.resolve(segment.call.results)
      }
    })
    return { acked }
  }
}

function describeTopics(request: Segment[]): string {
  const topics = new Set<string>()
  for (const segment of request)
    for (let i = segment.from; i < segment.to; i++) topics.add(segment.records[i].topic)
  return [...topics].map((t) => `'${t}'`).join(', ')
}
