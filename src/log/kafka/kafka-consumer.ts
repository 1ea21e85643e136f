/**
 * `LogConsumer` on @platformatic/kafka, with its own fetch loop and group membership.
 *
 * platformatic's stream consumer can neither pause single partitions nor seek, and it rejoins its
 * group by itself in the background, so it cannot promise that partitions are revoked (and their
 * offsets committed) before another member gets them. So this consumer is assembled from:
 * - group-driver.ts: the classic group protocol (group-membership.ts, protocol type 'consumer', range
 *   assignor), rejoining only inside `poll()`, right after the partitions were revoked (or lost);
 * - partition-fetcher.ts: positions, buffers and the pipelined fetch loop;
 * - group-offsets.ts: commits, committed offsets and `auto.offset.reset`.
 *
 * Three connection pools keep slow requests from blocking others: group requests (JoinGroup blocks
 * for a whole rebalance), fetches (long polls), and everything else (metadata, offsets, commits).
 */
import type { ConnectionPool, Consumer } from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import {
  type ConsumerOptions,
  type LogConsumer,
  type LogRecord,
  type RebalanceListener,
  type TopicPartition,
  tpKey,
} from '../log.ts'
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol.ts'
import { toConnectError } from './errors.ts'
import { GroupDriver } from './group-driver.ts'
import { GroupMembership } from './group-membership.ts'
import { GroupOffsets } from './group-offsets.ts'
import { PartitionFetcher, Signal } from './partition-fetcher.ts'

export interface KafkaConsumerSettings {
  /** @default 52428800 (Java's fetch.max.bytes) */
  fetchMaxBytes?: number
  /** @default 1048576 (Java's max.partition.fetch.bytes) */
  maxPartitionFetchBytes?: number
  /** How long the broker may hold a fetch with no data. @default 500 (Java's fetch.max.wait.ms) */
  fetchMaxWaitMs?: number
  /** @default 45000; a consumer's own `ConsumerOptions.sessionTimeoutMs` wins. */
  sessionTimeoutMs?: number
  /** @default 3000; a consumer's own `ConsumerOptions.heartbeatIntervalMs` wins. */
  heartbeatIntervalMs?: number
  /** How long the group waits for members to rejoin. @default 300000 (Java's max.poll.interval.ms) */
  rebalanceTimeoutMs?: number
  /** How often a pattern subscription and partition counts are re-checked. @default 5000 */
  metadataRefreshMs?: number
  /** 0 = read_uncommitted (Java's default), 1 = read_committed. @default 0 */
  isolationLevel?: 0 | 1
}

/** What the consumer needs from the log that made it. */
export interface KafkaConsumerDeps {
  client: Consumer
  groupPool: ConnectionPool
  fetchPool: ConnectionPool
  coordinatorPool: ConnectionPool
  bootstrap: readonly string[]
  listTopics(): Promise<string[]>
}

export class KafkaConsumer implements LogConsumer {
  readonly #client: Consumer
  readonly #deps: KafkaConsumerDeps
  readonly #membership: GroupMembership
  readonly #signal = new Signal()
  readonly #fetcher: PartitionFetcher
  readonly #offsets: GroupOffsets
  readonly #group: GroupDriver
  #mode: 'none' | 'subscribe' | 'assign' = 'none'
  #wakeup = false
  #closed = false

  constructor(deps: KafkaConsumerDeps, options: ConsumerOptions, settings: KafkaConsumerSettings = {}) {
    this.#client = deps.client
    this.#deps = deps
    const isolationLevel =
      options.isolationLevel === undefined
        ? (settings.isolationLevel ?? 0)
        : options.isolationLevel === 'read_committed'
          ? 1
          : 0
    this.#membership = new GroupMembership({
      groupId: options.groupId,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      sessionTimeoutMs: options.sessionTimeoutMs ?? settings.sessionTimeoutMs,
      rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? settings.heartbeatIntervalMs,
      pool: deps.groupPool,
      metadata: () => this.#client.metadata({ topics: [] }),
      onRejoinNeeded: () => this.#signal.notify(),
    })
    this.#offsets = new GroupOffsets({
      client: deps.client,
      groupId: options.groupId,
      membership: this.#membership,
      coordinatorPool: deps.coordinatorPool,
      bootstrap: deps.bootstrap,
      autoOffsetReset: options.autoOffsetReset ?? 'earliest',
      isolationLevel,
    })
    this.#fetcher = new PartitionFetcher({
      client: deps.client,
      fetchPool: deps.fetchPool,
      bootstrap: deps.bootstrap,
      signal: this.#signal,
      resetOffsets: (tps) => this.#offsets.resetOffsets(tps),
      maxPollRecords: options.maxPollRecords ?? 500,
      fetchMaxBytes: options.fetchMaxBytes ?? settings.fetchMaxBytes ?? 52_428_800,
      partitionMaxBytes: options.maxPartitionFetchBytes ?? settings.maxPartitionFetchBytes ?? 1_048_576,
      fetchMaxWaitMs: settings.fetchMaxWaitMs ?? 500,
      isolationLevel,
    })
    this.#group = new GroupDriver({
      groupId: options.groupId,
      client: deps.client,
      bootstrap: deps.bootstrap,
      listTopics: deps.listTopics,
      membership: this.#membership,
      fetcher: this.#fetcher,
      offsets: this.#offsets,
      signal: this.#signal,
      metadataRefreshMs: settings.metadataRefreshMs ?? 5000,
      woken: () => this.#wakeup,
      closed: () => this.#closed,
    })
  }

  // ── subscription and assignment ────────────────────────────────────────────────────────────────

  async subscribe(topics: readonly string[] | RegExp, listener: RebalanceListener = {}): Promise<void> {
    this.#checkOpen()
    if (this.#mode === 'assign') {
      throw new ConnectError('CONNECT', 'this consumer uses manual assignment; it cannot also subscribe')
    }
    this.#mode = 'subscribe'
    this.#group.subscribe(topics, listener)
  }

  async assign(partitions: readonly TopicPartition[]): Promise<void> {
    this.#checkOpen()
    if (this.#mode === 'subscribe') {
      throw new ConnectError(
        'CONNECT',
        'this consumer is subscribed to a group; it cannot also assign partitions',
      )
    }
    this.#mode = 'assign'
    const wanted = new Set(partitions.map(tpKey))
    for (const key of this.#fetcher.keys()) if (!wanted.has(key)) this.#fetcher.drop(key)
    const added = partitions.filter((tp) => !this.#fetcher.has(tp))
    if (added.length === 0) return
    const positions = await this.#offsets.initialPositions(added)
    this.#fetcher.install(added, positions)
    this.#fetcher.schedulePump()
  }

  assignment(): TopicPartition[] {
    return this.#fetcher.assignment()
  }

  // ── poll ───────────────────────────────────────────────────────────────────────────────────────

  async poll(maxWaitMs: number): Promise<LogRecord[]> {
    this.#checkOpen()
    const deadline = Date.now() + Math.max(0, maxWaitMs)
    for (;;) {
      if (this.#wakeup) {
        this.#wakeup = false
        return []
      }
      if (this.#mode === 'subscribe' && !(await this.#group.maintain(deadline))) return []
      const error = this.#fetcher.takeError()
      if (error !== undefined) {
        throw toConnectError(error, { operation: 'fetching records', bootstrap: this.#deps.bootstrap })
      }
      const records = this.#fetcher.drain()
      this.#fetcher.schedulePump()
      if (records.length > 0) return records
      const remaining = deadline - Date.now()
      if (remaining <= 0) return []
      await this.#signal.wait(remaining)
    }
  }

  wakeup(): void {
    this.#wakeup = true
    this.#signal.notify()
  }

  // ── pause, seek, position ──────────────────────────────────────────────────────────────────────

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#fetcher.setPaused(tp, true, 'pause')
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#fetcher.setPaused(tp, false, 'resume')
    this.#fetcher.schedulePump()
  }

  paused(): TopicPartition[] {
    return this.#fetcher.paused()
  }

  seek(partition: TopicPartition, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0) {
      throw new ConnectError(
        'BAD_REQUEST',
        `cannot seek ${partition.topic}-${partition.partition} to ${offset}`,
      )
    }
    const state = this.#fetcher.require(partition, 'seek')
    this.#fetcher.reset(state, offset)
    this.#fetcher.schedulePump()
  }

  position(partition: TopicPartition): number {
    return this.#fetcher.require(partition, 'get the position of').position
  }

  // ── offsets ────────────────────────────────────────────────────────────────────────────────────

  async commit(offsets: ReadonlyMap<string, number>): Promise<void> {
    this.#checkOpen()
    if (offsets.size === 0) return
    await this.#offsets.commit(offsets, this.#mode === 'subscribe')
  }

  async committed(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    this.#checkOpen()
    return this.#offsets.committed(partitions)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#group.stop()
    try {
      if (this.#mode === 'subscribe' && this.#fetcher.size > 0) await this.#group.removeAll()
    } finally {
      this.#closed = true
      this.#signal.notify()
      this.#fetcher.close()
      // Leaving lets the others rebalance at once instead of after the session timeout.
      await this.#membership.leave().catch(() => {})
      await Promise.allSettled([
        this.#deps.groupPool.close(),
        this.#deps.fetchPool.close(),
        this.#deps.coordinatorPool.close(),
      ])
      await this.#client.close(true).catch(() => {})
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new ConnectError('CONNECT', 'the Kafka consumer is closed; create a new one')
  }
}
