/**
 * The embedded log: a durable, single-node `Log` on local disk, for running Sluice without Kafka.
 * One SQLite database (`node:sqlite`, WAL, `synchronous=FULL`) holds topics, records and committed
 * group offsets; consumer groups are coordinated in process. Only one process may open a data
 * directory at a time.
 *
 * Transactions (exactly-once source, decision 0032): a transaction's records are written at its
 * commit in one SQLite transaction, so readers at either isolation level see all of it or nothing.
 *
 * Compaction: a topic with `cleanup.policy=compact` keeps only the latest record of each key, but
 * never touches its last 1,000 records nor any younger than `min.compaction.lag.ms` (see
 * topic-state.ts), and refuses records without a key, as Kafka does. The topic `connect-offsets` is
 * the log's own (the standalone worker's source offsets): only the worker's stores write it, and it
 * cannot be deleted.
 *
 * Not implemented (Kafka features the runtime does not need from this log): retention
 * (`retention.*` and `cleanup.policy=delete` are stored and described, not enforced), replication.
 */
import { randomBytes } from 'node:crypto'
import { ConnectError, NotFoundError } from '../../api/errors.ts'
import {
  type ConsumerOptions,
  EMBEDDED_OFFSETS_TOPIC,
  isCompacted,
  type Log,
  type LogConsumer,
  type LogProducer,
  type ProduceRecord,
  type ProducerOptions,
  parseTpKey,
  type RecordMetadata,
  type TopicDescription,
  type TopicPartition,
  type TopicSpec,
  type TransactionalProducer,
  tpKey,
} from '../log.ts'
import { EmbeddedConsumer } from './embedded-consumer.ts'
import { EmbeddedProducer } from './embedded-producer.ts'
import { EmbeddedTransactionalProducer } from './embedded-transactional-producer.ts'
import { GroupCoordinator } from './group-coordinator.ts'
import { compactPartition, RecordAppender } from './record-appender.ts'
import { RecordStore } from './record-store.ts'
import { type TopicState, topicState } from './topic-state.ts'

export interface EmbeddedLogOptions {
  /** Directory of the log's files, created if missing. One process at a time may open it. */
  dir: string
  /** Partitions of a topic created with `partitions: -1` or auto-created. @default 1 (Kafka's `num.partitions`) */
  defaultPartitions?: number
  /** Create a missing topic on first produce, like Kafka's `auto.create.topics.enable`. @default true */
  autoCreateTopics?: boolean
}

/** Kafka's rule for topic names (`org.apache.kafka.common.internals.Topic`). */
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

/** Opens (or creates) the embedded log in `options.dir`; fails if another process has it open. */
export async function createEmbeddedLog(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
  return new EmbeddedLog(options)
}

export class EmbeddedLog implements Log {
  readonly kind = 'embedded' as const
  readonly store: RecordStore
  readonly coordinator: GroupCoordinator
  readonly #topics = new Map<string, TopicState>()
  readonly #appender: RecordAppender
  readonly #consumers = new Set<EmbeddedConsumer>()
  readonly #producers = new Set<EmbeddedProducer | EmbeddedTransactionalProducer>()
  /** The epoch of each transactional id's current holder (bumped by each `init()`). */
  readonly #transactionalEpochs = new Map<string, number>()
  readonly #defaultPartitions: number
  readonly #autoCreateTopics: boolean
  readonly #clusterId: string
  #closed = false

  constructor(options: EmbeddedLogOptions) {
    this.#defaultPartitions = options.defaultPartitions ?? 1
    this.#autoCreateTopics = options.autoCreateTopics ?? true
    if (!(Number.isInteger(this.#defaultPartitions) && this.#defaultPartitions > 0)) {
      throw new ConnectError(
        'CONFIG',
        `defaultPartitions must be a positive integer, not ${options.defaultPartitions}`,
      )
    }
    this.store = new RecordStore(options.dir)
    for (const stored of this.store.topics()) {
      const state = topicState(stored, (p) => this.store.offsetBounds(stored.id, p))
      // What an earlier run appended since its last compaction (or before compaction existed). The
      // first and last records always stay, so the bounds just read do not change.
      if (state.compact)
        for (let p = 0; p < state.partitions; p++) state.clean[p] = compactPartition(this.store, state, p)
      this.#topics.set(stored.name, state)
    }
    let clusterId = this.store.getMeta('cluster.id')
    if (clusterId === undefined) {
      // Same shape as Kafka's cluster ids: 16 random bytes, URL-safe base64 without padding.
      clusterId = randomBytes(16).toString('base64url')
      this.store.setMeta('cluster.id', clusterId)
    }
    this.#clusterId = clusterId
    this.coordinator = new GroupCoordinator(
      () => new Map([...this.#topics.values()].map((t) => [t.name, t.partitions])),
    )
    this.#appender = new RecordAppender({
      store: this.store,
      topicForAppend: (name) => this.#topicForAppend(name),
      appended: (partitions) => {
        const keys: string[] = []
        for (const [topic, ps] of partitions)
          for (const p of ps) keys.push(tpKey({ topic: topic.name, partition: p }))
        for (const consumer of this.#consumers) consumer.appended(keys)
      },
    })
  }

  async clusterId(): Promise<string> {
    return this.#clusterId
  }

  async createTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.#ensureOpen()
    const fresh = new Map<string, { partitions: number; configs: Record<string, string> }>()
    for (const spec of specs) {
      if (!LEGAL_TOPIC_NAME.test(spec.name) || spec.name === '.' || spec.name === '..') {
        throw new ConnectError(
          'BAD_REQUEST',
          `Invalid topic name '${spec.name}': use 1 to 249 of the characters a-z A-Z 0-9 . _ -`,
        )
      }
      const partitions = spec.partitions === -1 ? this.#defaultPartitions : spec.partitions
      if (!(Number.isInteger(partitions) && partitions > 0)) {
        throw new ConnectError(
          'BAD_REQUEST',
          `Topic '${spec.name}' needs at least one partition, not ${spec.partitions}`,
        )
      }
      const lag = spec.configs?.['min.compaction.lag.ms']
      if (lag !== undefined && !/^\d+$/.test(lag.trim())) {
        throw new ConnectError(
          'BAD_REQUEST',
          `Topic '${spec.name}' has min.compaction.lag.ms=${lag}: set it to a number of milliseconds (0 or more)`,
        )
      }
      const offsetsShape = partitions === 1 && isCompacted(spec.configs ?? {})
      if (spec.name === EMBEDDED_OFFSETS_TOPIC && !offsetsShape && !this.#topics.has(spec.name)) {
        throw new ConnectError(
          'FORBIDDEN',
          `Topic '${spec.name}' is the embedded log's own (the worker's source offsets, one compacted partition): ` +
            'choose another name',
        )
      }
      if (!this.#topics.has(spec.name) && !fresh.has(spec.name)) {
        fresh.set(spec.name, { partitions, configs: { ...spec.configs } })
      }
    }
    if (fresh.size === 0) return
    this.#insertTopics(fresh)
  }

  async describeTopics(names: readonly string[]): Promise<Map<string, TopicDescription>> {
    this.#ensureOpen()
    const result = new Map<string, TopicDescription>()
    for (const name of names) {
      const topic = this.#topics.get(name)
      if (topic !== undefined)
        result.set(name, { name, partitions: topic.partitions, configs: topic.configs })
    }
    return result
  }

  async listTopics(): Promise<string[]> {
    this.#ensureOpen()
    return [...this.#topics.keys()].sort()
  }

  /** Deletes the topics that exist (with their records and every group's offsets for them). */
  async deleteTopics(names: readonly string[]): Promise<void> {
    this.#ensureOpen()
    const doomed = names.map((name) => this.#topics.get(name)).filter((t) => t !== undefined)
    const own = doomed.find((t) => t.own)
    if (own !== undefined) {
      throw new ConnectError(
        'FORBIDDEN',
        `Topic '${own.name}' is the embedded log's own: it holds the worker's source offsets and cannot be deleted ` +
          "(reset a connector's offsets with DELETE /connectors/<name>/offsets)",
      )
    }
    if (doomed.length === 0) return
    // Records already accepted for these topics are written first, so their sends resolve normally.
    this.#appender.flush()
    this.store.transaction(() => {
      for (const topic of doomed) this.store.deleteTopic(topic.id, topic.name)
    })
    for (const topic of doomed) this.#topics.delete(topic.name)
    this.coordinator.topicsChanged()
  }

  /** Every append commits at once here: the end is also the last stable offset. */
  async endOffsets(
    partitions: readonly TopicPartition[],
    _readCommitted?: boolean,
  ): Promise<Map<string, number>> {
    this.#ensureOpen()
    return new Map(partitions.map((tp) => [tpKey(tp), this.#partitionOf(tp).next[tp.partition]]))
  }

  async beginningOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    this.#ensureOpen()
    return new Map(partitions.map((tp) => [tpKey(tp), this.#partitionOf(tp).start[tp.partition]]))
  }

  async groupOffsets(groupId: string): Promise<Map<string, number>> {
    this.#ensureOpen()
    return new Map(this.store.groupOffsets(groupId).map((o) => [tpKey(o), o.offset]))
  }

  async alterGroupOffsets(groupId: string, offsets: ReadonlyMap<string, number | null>): Promise<void> {
    this.#ensureOpen()
    if (this.coordinator.hasMembers(groupId)) {
      throw new ConnectError(
        'CONFLICT',
        `Consumer group '${groupId}' has active members: stop its consumers (the connector) before altering its offsets`,
      )
    }
    const changes = [...offsets].map(([key, offset]) => {
      const tp = parseTpKey(key)
      if (offset !== null && !(Number.isSafeInteger(offset) && offset >= 0)) {
        throw new ConnectError('BAD_REQUEST', `Invalid offset ${offset} for ${tp.topic}/${tp.partition}`)
      }
      return { tp, offset }
    })
    this.store.transaction(() => {
      for (const { tp, offset } of changes) this.store.setGroupOffset(groupId, tp.topic, tp.partition, offset)
    })
  }

  createProducer(_options: ProducerOptions): LogProducer {
    this.#ensureOpen()
    const producer = new EmbeddedProducer((records) => this.#append(records))
    this.#producers.add(producer)
    return producer
  }

  createTransactionalProducer(options: ProducerOptions & { transactionalId: string }): TransactionalProducer {
    this.#ensureOpen()
    const producer = new EmbeddedTransactionalProducer(options.transactionalId, {
      check: (records) => this.#appender.check(records),
      append: (records, guard) => this.#append(records, guard),
      claim: (id) => {
        const epoch = (this.#transactionalEpochs.get(id) ?? 0) + 1
        this.#transactionalEpochs.set(id, epoch)
        return epoch
      },
      epoch: (id) => this.#transactionalEpochs.get(id),
      closed: (p) => this.#producers.delete(p),
    })
    this.#producers.add(producer)
    return producer
  }

  createConsumer(options: ConsumerOptions): LogConsumer {
    this.#ensureOpen()
    const consumer = new EmbeddedConsumer(
      {
        store: this.store,
        coordinator: this.coordinator,
        topic: (name) => this.#topics.get(name),
        consumerClosed: (c) => this.#consumers.delete(c),
      },
      options,
    )
    this.#consumers.add(consumer)
    return consumer
  }

  /** Closes consumers (running their revoke callbacks) and producers, writes pending sends, unlocks. */
  async close(): Promise<void> {
    if (this.#closed) return
    await Promise.all([...this.#consumers].map((c) => c.close()))
    await Promise.all([...this.#producers].map((p) => p.close()))
    this.#closed = true
    this.#appender.flush()
    this.store.close()
  }

  #append(records: readonly ProduceRecord[], guard?: () => void): Promise<RecordMetadata[]> {
    if (this.#closed) return Promise.reject(new ConnectError('UNAVAILABLE', 'The embedded log is closed'))
    return this.#appender.append(records, guard)
  }

  #topicForAppend(name: string): TopicState | undefined {
    const topic = this.#topics.get(name)
    if (topic !== undefined || !this.#autoCreateTopics || !LEGAL_TOPIC_NAME.test(name)) return topic
    this.#insertTopics(new Map([[name, { partitions: this.#defaultPartitions, configs: {} }]]))
    return this.#topics.get(name)
  }

  #insertTopics(fresh: ReadonlyMap<string, { partitions: number; configs: Record<string, string> }>): void {
    const created = this.store.transaction(() =>
      [...fresh].map(([name, { partitions, configs }]) => ({
        id: this.store.insertTopic(name, partitions, configs),
        name,
        partitions,
        configs,
      })),
    )
    for (const stored of created)
      this.#topics.set(
        stored.name,
        topicState(stored, () => undefined),
      )
    this.coordinator.topicsChanged()
  }

  #partitionOf(tp: TopicPartition): TopicState {
    const topic = this.#topics.get(tp.topic)
    if (topic === undefined || !(tp.partition >= 0 && tp.partition < topic.partitions)) {
      throw new NotFoundError(`${tp.topic}/${tp.partition} does not exist in the embedded log`)
    }
    return topic
  }

  #ensureOpen(): void {
    if (this.#closed) throw new ConnectError('UNAVAILABLE', 'The embedded log is closed')
  }
}
