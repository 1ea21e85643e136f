/**
 * Appends produced records with group commit: every `send()` arriving in the same turn of the event
 * loop is written in one SQLite transaction, so one fsync makes all of them durable. A send's promise
 * resolves only after that COMMIT returned, and sends are written in the order they were made, which
 * keeps the order of the calls within each partition.
 *
 * Placement follows Kafka's producer: an explicit partition wins; a keyed record goes to
 * `toPositive(murmur2(key)) % partitions`; the unkeyed records of one send stick to one partition,
 * and the next send moves on to the next partition (KIP-480's sticky spirit, without batch sizes).
 */
import { ConnectError, NotFoundError, RetriableError } from '../../api/errors.ts'
import { isOwnRecord, type ProduceRecord, type RecordMetadata } from '../log.ts'
import { partitionForKey } from '../murmur2.ts'
import { encodeHeaders } from './header-codec.ts'
import type { RecordStore } from './record-store.ts'
import { HEAD, MIN_DIRTY, type TopicState } from './topic-state.ts'

interface PendingSend {
  readonly records: readonly ProduceRecord[]
  /** Checked when the send is written; throwing refuses this send alone (a fenced transaction). */
  readonly guard: (() => void) | undefined
  readonly resolve: (metadata: RecordMetadata[]) => void
  readonly reject: (error: unknown) => void
}

export interface AppenderHost {
  readonly store: RecordStore
  /** The topic a record is for, created first if the log auto-creates topics; undefined if missing. */
  topicForAppend(name: string): TopicState | undefined
  /** Called after a commit with the partitions that received records. */
  appended(partitions: ReadonlyMap<TopicState, ReadonlySet<number>>): void
}

export class RecordAppender {
  readonly #host: AppenderHost
  #pending: PendingSend[] = []
  #scheduled: NodeJS.Immediate | undefined

  constructor(host: AppenderHost) {
    this.#host = host
  }

  append(records: readonly ProduceRecord[], guard?: () => void): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ records, guard, resolve, reject })
      this.#scheduled ??= setImmediate(() => this.flush())
    })
  }

  /** Writes every pending send now (also used when the log closes). */
  flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled)
    this.#scheduled = undefined
    const batch = this.#pending
    this.#pending = []
    if (batch.length === 0) return

    // Resolve topics and check partitions first: a bad send is rejected alone, the others proceed.
    const accepted: { send: PendingSend; topics: TopicState[]; metadata: RecordMetadata[] }[] = []
    for (const send of batch) {
      try {
        send.guard?.()
        accepted.push({ send, topics: this.#topicsOf(send.records), metadata: [] })
      } catch (error) {
        send.reject(error)
      }
    }
    if (accepted.length === 0) return

    const before = new Map<TopicState, number[]>()
    const touched = new Map<TopicState, Set<number>>()
    const now = Date.now()
    const store = this.#host.store
    try {
      store.transaction(() => {
        for (const { send, topics, metadata } of accepted) {
          const sticky = new Map<TopicState, number>()
          for (let i = 0; i < send.records.length; i++) {
            const record = send.records[i]
            const topic = topics[i]
            let partition = record.partition
            if (partition === undefined) {
              if (record.key !== null) partition = partitionForKey(record.key, topic.partitions)
              else {
                partition = sticky.get(topic)
                if (partition === undefined) {
                  partition = topic.stickyCursor++ % topic.partitions
                  sticky.set(topic, partition)
                }
              }
            }
            if (!before.has(topic)) before.set(topic, [...topic.next])
            let partitions = touched.get(topic)
            if (partitions === undefined) {
              partitions = new Set()
              touched.set(topic, partitions)
            }
            partitions.add(partition)
            if (topic.compact) topic.dirty[partition]++
            const offset = topic.next[partition]++
            const timestamp = topic.logAppendTime ? now : (record.timestamp ?? now)
            store.insertRecord(
              topic.id,
              partition,
              offset,
              timestamp,
              record.key,
              record.value,
              encodeHeaders(record.headers),
            )
            metadata.push({ topic: topic.name, partition, offset, timestamp })
          }
        }
      })
    } catch (error) {
      for (const [topic, next] of before) topic.next.splice(0, next.length, ...next)
      const failure = new RetriableError(`The embedded log could not write ${batch.length} send(s) to disk`, {
        cause: error,
      })
      for (const { send } of accepted) send.reject(failure)
      return
    }
    for (const { send, metadata } of accepted) send.resolve(metadata)
    this.#host.appended(touched)
    for (const [topic, partitions] of touched)
      if (topic.compact) for (const p of partitions) compactIfDirty(store, topic, p)
  }

  /** Throws what appending these records would be refused for (a missing topic, a bad partition). */
  check(records: readonly ProduceRecord[]): void {
    this.#topicsOf(records)
  }

  #topicsOf(records: readonly ProduceRecord[]): TopicState[] {
    return records.map((record) => {
      const topic = this.#host.topicForAppend(record.topic)
      if (topic === undefined) {
        throw new NotFoundError(
          `Topic '${record.topic}' does not exist in the embedded log and topics are not auto-created: create it first`,
        )
      }
      if (topic.own && !isOwnRecord(record)) {
        throw new ConnectError(
          'FORBIDDEN',
          `Topic '${topic.name}' is the embedded log's own: it holds the worker's source offsets, and a record ` +
            `written there by anything else could move a connector's offsets. Send the records to another topic`,
        )
      }
      if (topic.compact && record.key === null) {
        throw new ConnectError(
          'DATA',
          `Topic '${topic.name}' is compacted (cleanup.policy=compact): every record needs a key, as on Kafka`,
        )
      }
      const p = record.partition
      if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p < topic.partitions)) {
        throw new NotFoundError(
          `Partition ${p} of topic '${topic.name}' does not exist: the topic has ${topic.partitions} partition(s)`,
        )
      }
      if (
        record.timestamp !== undefined &&
        !(Number.isSafeInteger(record.timestamp) && record.timestamp >= 0)
      ) {
        throw new ConnectError('DATA', `Invalid timestamp ${record.timestamp} for topic '${topic.name}'`)
      }
      return topic
    })
  }
}

/**
 * Compacts a partition of a compacted topic once enough was appended since its last compaction (see
 * topic-state.ts), in its own SQLite transaction after the append's: a crash in between leaves
 * only records a later compaction deletes. A failed compaction is tried again at the next append.
 */
export function compactIfDirty(store: RecordStore, topic: TopicState, partition: number): void {
  if (topic.dirty[partition] < Math.max(MIN_DIRTY, topic.clean[partition])) return
  try {
    topic.clean[partition] = compactPartition(store, topic, partition)
    topic.dirty[partition] = 0
  } catch {
    // disk full or the like: the records stay, the next append tries again
  }
}

/**
 * Compacts a partition below its cleanable end, in one transaction; returns the records it holds
 * after. The cleanable end is Kafka's first uncleanable offset: never within the last `HEAD` records
 * (Kafka never cleans the active segment), nor at or after the first record younger than the topic's
 * `min.compaction.lag.ms`.
 */
export function compactPartition(store: RecordStore, topic: TopicState, partition: number): number {
  return store.transaction(() => {
    let end = topic.next[partition] - HEAD
    if (topic.minCompactionLagMs > 0) {
      const young = store.firstOffsetAfter(topic.id, partition, Date.now() - topic.minCompactionLagMs)
      if (young !== undefined) end = Math.min(end, young)
    }
    return store.compact(topic.id, partition, end)
  })
}
