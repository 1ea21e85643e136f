/**
 * The record log the runtime talks to. Two implementations: `kafka/` (a real Kafka cluster) and
 * `embedded/` (a durable single-node log on local disk, for running without a broker).
 *
 * The runtime never imports a Kafka client: everything it needs from topics goes through this
 * interface, so a worker runs the same way on either backend. Semantics follow Kafka's:
 * - records in a partition have dense, increasing offsets starting at the partition's log start;
 * - a produce call resolves only once every record in it is durable (acks=all on Kafka,
 *   fsync'd on the embedded log), and order within a partition is the order of the calls;
 * - a committed consumer offset is the offset of the *next* record to read, as in Kafka.
 *
 * Offsets are JavaScript numbers: exact up to 2^53, i.e. centuries at millions of records/s.
 */

import { ConfigError } from '../api/errors.ts'
import type { TopicPartition } from '../api/topic-partition.ts'

export { parseTpKey, type TopicPartition, tpKey } from '../api/topic-partition.ts'

export interface LogHeader {
  readonly key: string
  readonly value: Uint8Array | null
}

export interface ProduceRecord {
  topic: string
  /**
   * When absent the log chooses: records with a key go to `murmur2(key) % partitions` (Kafka's
   * default partitioner, so keyed records land where a Java producer would put them); records
   * without a key are spread over the partitions.
   */
  partition?: number
  key: Uint8Array | null
  value: Uint8Array | null
  headers?: LogHeader[]
  /** Milliseconds since the epoch. @default Date.now() */
  timestamp?: number
}

/**
 * The topic where a standalone worker on the embedded log keeps its source offsets (decision 0032):
 * reserved in every embedded log, whether a worker uses it or not.
 */
export const EMBEDDED_OFFSETS_TOPIC = 'connect-offsets'

/** Kafka's `cleanup.policy` is a list: `compact`, `delete` or both. */
export function isCompacted(configs: Readonly<Record<string, string>>): boolean {
  return (configs['cleanup.policy'] ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .includes('compact')
}

const ownRecords = new WeakSet<ProduceRecord>()

/**
 * Marks a record of the worker's own stores (its offsets, configs, statuses). Only such records may
 * go to the embedded log's own `connect-offsets` topic: a connector, a dead letter queue or the REST
 * proxy writing there is refused, since a stray record with an offset key would move a connector's
 * offsets. The mark is the object itself: a copy (or a record sent through a task thread) is not marked.
 */
export function ownRecord(record: ProduceRecord): ProduceRecord {
  ownRecords.add(record)
  return record
}

export function isOwnRecord(record: ProduceRecord): boolean {
  return ownRecords.has(record)
}

export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
}

export type TimestampType = 'CreateTime' | 'LogAppendTime'

export interface LogRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly timestampType: TimestampType
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  readonly headers: readonly LogHeader[]
}

export interface TopicSpec {
  name: string
  /** -1 means the backend's default. */
  partitions: number
  /** -1 means the backend's default; ignored by the embedded log. */
  replicationFactor?: number
  /** Topic configs such as `cleanup.policy=compact`. */
  configs?: Record<string, string>
}

export interface TopicDescription {
  readonly name: string
  readonly partitions: number
  readonly configs: Readonly<Record<string, string>>
}

export interface ProducerOptions {
  clientId: string
  /** Idempotent producer with acks=all. @default true */
  idempotent?: boolean
  /**
   * Record batch compression (Kafka's `compression.type`), overriding the log's default for this
   * producer; the embedded log stores records uncompressed whatever is asked.
   */
  compression?: CompressionType
  /**
   * Produce requests outstanding at once (Kafka's `max.in.flight.requests.per.connection`). Source
   * tasks use 1, as Kafka Connect does for its source producers: the Kafka client retries a failed
   * request on its own and, on a lost producer state, sends a later request under a new producer id
   * while an earlier one is still being retried, so with more than one in flight records of a
   * partition can land out of order without any call failing. @default the log's setting (5)
   */
  maxInFlight?: number
}

/** The consumer settings a worker's `consumer.*` / a connector's `consumer.override.*` keys give a sink. */
export type SinkConsumerSettings = Pick<
  ConsumerOptions,
  | 'autoOffsetReset'
  | 'maxPollRecords'
  | 'sessionTimeoutMs'
  | 'heartbeatIntervalMs'
  | 'isolationLevel'
  | 'fetchMaxBytes'
  | 'maxPartitionFetchBytes'
>

/** `<client>.override.<name>` of the connector, else `<client>.<name>` of the worker: [key, value]. */
function clientSetting(
  client: 'consumer' | 'producer',
  name: string,
  worker: Readonly<Record<string, string>>,
  connector: Readonly<Record<string, string>>,
): [string, string] | undefined {
  for (const [key, props] of [
    [`${client}.override.${name}`, connector],
    [`${client}.${name}`, worker],
  ] as const) {
    const value = props[key]?.trim()
    if (value) return [key, value]
  }
  return undefined
}

/** A positive integer setting, or a ConfigError naming its key. */
function positiveSetting(found: [string, string] | undefined): [string, number] | undefined {
  if (!found) return undefined
  const n = Number(found[1])
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(
      found[0],
      `Invalid value ${found[1]} for configuration ${found[0]}: Value must be at least 1`,
    )
  }
  return [found[0], n]
}

/**
 * A source task's `buffer.memory` (bytes of records sent and not yet acknowledged before the task
 * is polled again) from the connector's `producer.override.buffer.memory` or the worker's
 * `producer.buffer.memory`; undefined for the default (32 MiB, Java's).
 */
export function producerBufferMemory(
  worker: Readonly<Record<string, string>>,
  connector: Readonly<Record<string, string>>,
): number | undefined {
  return positiveSetting(clientSetting('producer', 'buffer.memory', worker, connector))?.[1]
}

/**
 * A sink consumer's `auto.offset.reset`, `max.poll.records`, `session.timeout.ms`,
 * `heartbeat.interval.ms`, `fetch.max.bytes` and `max.partition.fetch.bytes` from the worker's
 * `consumer.*` keys and a connector's `consumer.override.*` keys (the connector's win, as in Kafka
 * Connect). Throws a ConfigError naming the key for values Sluice cannot honour
 * (`auto.offset.reset=none`, a non-positive count, a heartbeat interval not below the session
 * timeout).
 */
export function sinkConsumerSettings(
  worker: Readonly<Record<string, string>>,
  connector: Readonly<Record<string, string>>,
): SinkConsumerSettings {
  const pick = (name: string) => clientSetting('consumer', name, worker, connector)
  const positive = (name: string) => positiveSetting(pick(name))
  const out: SinkConsumerSettings = {}
  const fetchMax = positive('fetch.max.bytes')
  if (fetchMax) out.fetchMaxBytes = fetchMax[1]
  const partitionMax = positive('max.partition.fetch.bytes')
  if (partitionMax) out.maxPartitionFetchBytes = partitionMax[1]
  const isolation = pick('isolation.level')
  if (isolation) {
    const value = isolation[1].toLowerCase()
    if (value !== 'read_committed' && value !== 'read_uncommitted') {
      throw new ConfigError(
        isolation[0],
        `Invalid value ${isolation[1]} for configuration ${isolation[0]}: String must be one of: read_committed, read_uncommitted`,
      )
    }
    out.isolationLevel = value
  }
  const reset = pick('auto.offset.reset')
  if (reset) {
    const value = reset[1].toLowerCase()
    if (value !== 'earliest' && value !== 'latest') {
      throw new ConfigError(
        reset[0],
        `Invalid value ${reset[1]} for configuration ${reset[0]}: Sluice supports earliest and latest` +
          (value === 'none'
            ? ' (none, which fails a consumer without committed offsets, is not supported)'
            : ''),
      )
    }
    out.autoOffsetReset = value
  }
  const records = positive('max.poll.records')
  if (records) out.maxPollRecords = records[1]
  const session = positive('session.timeout.ms')
  if (session) out.sessionTimeoutMs = session[1]
  const heartbeat = positive('heartbeat.interval.ms')
  if (heartbeat) {
    out.heartbeatIntervalMs = heartbeat[1]
    const sessionMs = session?.[1] ?? 45_000
    if (heartbeat[1] >= sessionMs) {
      throw new ConfigError(
        heartbeat[0],
        `Invalid value ${heartbeat[1]} for configuration ${heartbeat[0]}: it must be lower than the session ` +
          `timeout (${sessionMs} ms${session ? `, ${session[0]}` : ', the default'}); a third of it is usual`,
      )
    }
  }
  return out
}

/** Kafka's `compression.type` values for a producer. */
export const COMPRESSION_TYPES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type CompressionType = (typeof COMPRESSION_TYPES)[number]

/**
 * Reads a `compression.type` setting; throws a ConfigError naming `key` for anything else. Kafka's
 * producer accepts the names in any case.
 */
export function parseCompressionType(value: string | undefined, key: string): CompressionType | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const v = value.trim().toLowerCase()
  if ((COMPRESSION_TYPES as readonly string[]).includes(v)) return v as CompressionType
  throw new ConfigError(
    key,
    `Invalid value ${value} for configuration ${key}: String must be one of: ${COMPRESSION_TYPES.join(', ')}`,
  )
}

export interface LogProducer {
  /**
   * Appends the records and resolves with their metadata, in the order given, once every one of
   * them is durable. Several calls may be in flight at once; records of one partition keep the
   * order of the calls. Rejects with a `ConnectError` (retriable when the cause is) if any record
   * could not be written; then none of the metadata of that call may be trusted.
   */
  send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]>
  /** Waits for in-flight sends, then releases the producer. */
  close(): Promise<void>
}

/**
 * A producer whose writes become visible together or not at all (Kafka's transactions, KIP-98), for
 * exactly-once source tasks (KIP-618). One transaction is open at a time.
 */
export interface TransactionalProducer {
  readonly transactionalId: string
  /**
   * Registers the transactional id: any earlier producer with the same id is fenced (it can no
   * longer write or commit) and a transaction it left open is aborted. Call once, before `begin()`.
   */
  init(): Promise<void>
  begin(): Promise<void>
  /**
   * Sends within the open transaction; the records are not visible to `read_committed` readers before
   * `commit()`. The metadata is final once `commit()` resolved: the embedded log places a
   * transaction's records only when it commits (Kafka at once).
   */
  send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]>
  /**
   * Commits the open transaction. Rejects with a non-retriable `ConnectError` when this producer
   * was fenced; after any failure the transaction's outcome is abort or unknown, so call `abort()`.
   */
  commit(): Promise<void>
  /**
   * Aborts the open transaction, if any: none of its records becomes visible. After a retriable
   * rejection the transaction is still open (the broker may not have heard of the abort): call
   * `abort()` again until it resolves; `begin()` refuses meanwhile.
   */
  abort(): Promise<void>
  close(): Promise<void>
}

export interface RebalanceListener {
  /**
   * Called inside `poll()` before partitions are taken away, while this consumer still owns them:
   * the last chance to commit their offsets.
   */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>
  /** Called inside `poll()` after new partitions were assigned and before their records are returned. */
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>
  /**
   * Called inside `poll()` instead of `onPartitionsRevoked` when this consumer learns it is no longer
   * a member of the group (its session expired, a commit or heartbeat found its generation fenced, it
   * was removed from the group): the partitions may belong to another member already, so their
   * offsets can no longer be committed (a commit would fail with a CONFLICT). The consumer then
   * rejoins inside the next polls. When absent, `onPartitionsRevoked` is called instead (Java's
   * `ConsumerRebalanceListener.onPartitionsLost` default). The embedded log's groups live in the
   * process and never lose a member, so only the Kafka log calls it.
   */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>
}

export interface ConsumerOptions {
  /** The consumer group whose committed offsets this consumer uses (sink tasks use `connect-<connector>`). */
  groupId: string
  clientId: string
  /** Where to start in a partition with no committed offset. @default 'earliest' */
  autoOffsetReset?: 'earliest' | 'latest'
  /** Upper bound on the records one `poll()` returns. @default 500 */
  maxPollRecords?: number
  /**
   * Record bytes one fetch request may return (`fetch.max.bytes`), and the most fetched record
   * bytes a consumer buffers before it stops fetching. Ignored by the embedded log, which reads
   * `maxPollRecords` records at a time. @default the log's setting (Java's 52428800)
   */
  fetchMaxBytes?: number
  /**
   * Record bytes one partition may return per fetch (`max.partition.fetch.bytes`); a partition is
   * fetched again only while it buffers fewer bytes than this. Ignored by the embedded log.
   * @default the log's setting (Java's 1048576)
   */
  maxPartitionFetchBytes?: number
  /**
   * Group session timeout (`session.timeout.ms`): how long the coordinator waits for a silent member
   * (a killed worker) before giving its partitions to the others. When absent, the log's setting
   * (default 45000). Ignored by the embedded log, whose groups live in the process.
   */
  sessionTimeoutMs?: number
  /** Heartbeat interval (`heartbeat.interval.ms`), below the session timeout. Ignored by the embedded log. */
  heartbeatIntervalMs?: number
  /**
   * `read_committed` returns only records of committed transactions (records of aborted ones and
   * transaction markers are skipped) and reads no further than the last stable offset. The embedded
   * log commits every append at once, so both levels read the same there. @default the log's setting
   */
  isolationLevel?: 'read_committed' | 'read_uncommitted'
}

export interface LogConsumer {
  /**
   * Joins the group and subscribes to these topics (or every topic matching the pattern, re-checked
   * as topics appear). Partitions are shared among the group's members; changes are delivered
   * through the listener inside `poll()`.
   */
  subscribe(topics: readonly string[] | RegExp, listener?: RebalanceListener): Promise<void>
  /** Manual assignment without group membership (committed offsets of `groupId` still apply). */
  assign(partitions: readonly TopicPartition[]): Promise<void>
  /**
   * Returns the next records of the assigned, unpaused partitions, waiting up to `maxWaitMs` for
   * some to arrive. Resolves with an empty array when nothing arrived, or when `wakeup()` was called.
   */
  poll(maxWaitMs: number): Promise<LogRecord[]>
  /** Makes a pending or the next `poll()` return at once. */
  wakeup(): void
  assignment(): TopicPartition[]
  pause(partitions: readonly TopicPartition[]): void
  resume(partitions: readonly TopicPartition[]): void
  paused(): TopicPartition[]
  /** The next `poll()` returns records of this partition from `offset` on. */
  seek(partition: TopicPartition, offset: number): void
  /** The offset of the next record `poll()` will return for this assigned partition. */
  position(partition: TopicPartition): number
  /**
   * Commits group offsets (each the offset of the next record to read). Resolves once durable.
   * Rejects with a `ConnectError`: CONFLICT when the group rebalanced or this member's membership is
   * gone (its partitions are revoked or lost inside the next `poll()`), retriable when the log is
   * unreachable; anything else is not worth retrying.
   */
  commit(offsets: ReadonlyMap<string, number>): Promise<void>
  /** Committed offsets of this group for these partitions (keyed by `tpKey`); absent when none. */
  committed(partitions: readonly TopicPartition[]): Promise<Map<string, number>>
  /** Leaves the group (revoking with the listener) and releases the consumer. */
  close(): Promise<void>
}

export interface Log {
  readonly kind: 'kafka' | 'embedded'
  /** Kafka's cluster id, or the embedded log's own stable id. */
  clusterId(): Promise<string>
  /** Creates the topics that do not exist yet; existing ones are left untouched. */
  createTopics(specs: readonly TopicSpec[]): Promise<void>
  /** Descriptions of the topics that exist, by name; missing topics are absent from the map. */
  describeTopics(names: readonly string[]): Promise<Map<string, TopicDescription>>
  listTopics(): Promise<string[]>
  deleteTopics(names: readonly string[]): Promise<void>
  /**
   * The offset after the last record of each partition (keyed by `tpKey`); with `readCommitted`, the
   * last stable offset (before the first record of a transaction still open), which is where a
   * `read_committed` consumer's reading ends.
   */
  endOffsets(partitions: readonly TopicPartition[], readCommitted?: boolean): Promise<Map<string, number>>
  /** The first offset still held in each partition (keyed by `tpKey`). */
  beginningOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, number>>
  /** Committed offsets of a group, for every partition it has committed (keyed by `tpKey`). */
  groupOffsets(groupId: string): Promise<Map<string, number>>
  /**
   * Sets (offset ≥ 0) or removes (null) committed offsets of a group that has no active members.
   * Used to alter and reset sink connector offsets (KIP-875).
   */
  alterGroupOffsets(groupId: string, offsets: ReadonlyMap<string, number | null>): Promise<void>
  createProducer(options: ProducerOptions): LogProducer
  /**
   * A transactional producer: on Kafka, the broker's transactions; on the embedded log, a transaction
   * written in one SQLite transaction at its commit (decision 0032).
   */
  createTransactionalProducer?(options: ProducerOptions & { transactionalId: string }): TransactionalProducer
  /**
   * Fences these transactional ids (Java's `Admin.fenceProducers`): producers holding them can no
   * longer write or commit, and transactions they left open are aborted. Kafka only.
   */
  fenceProducers?(transactionalIds: readonly string[]): Promise<void>
  createConsumer(options: ConsumerOptions): LogConsumer
  close(): Promise<void>
}
