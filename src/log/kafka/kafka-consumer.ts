/**
 * `LogConsumer` on @platformatic/kafka, with its own fetch loop and group membership.
 *
 * platformatic's stream consumer can neither pause single partitions nor seek, and it rejoins its
 * group by itself in the background, so it cannot promise that partitions are revoked (and their
 * offsets committed) before another member gets them. So this consumer:
 * - runs the classic group protocol itself (group-membership.ts, protocol type 'consumer', range
 *   assignor), and rejoins only inside `poll()`, right after calling `onPartitionsRevoked`;
 * - fetches with the client's `fetch()` (fetch sessions, topic ids, record decoding), one request
 *   in flight per leader, pipelined: the next fetch starts as soon as a response is buffered, and a
 *   partition stops being fetched while it has a full fetch of records waiting;
 * - keeps, per partition, a position (next record `poll()` returns) and a fetch offset; `seek`
 *   bumps the partition's epoch so responses of fetches already in flight are dropped.
 *
 * Three connection pools keep slow requests from blocking others: group requests (JoinGroup blocks
 * for a whole rebalance), fetches (long polls), and everything else (metadata, offsets, commits).
 */
import {
  type ClusterMetadata,
  type ConnectionPool,
  type Consumer,
  type fetchV17,
  ListOffsetTimestamps,
  offsetCommitV8,
  offsetFetchV8,
} from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import {
  type ConsumerOptions,
  type LogConsumer,
  type LogHeader,
  type LogRecord,
  parseTpKey,
  type RebalanceListener,
  type TopicPartition,
  tpKey,
} from '../log.ts'
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  encodeAssignment,
  encodeSubscription,
  RANGE_ASSIGNOR,
  rangeAssign,
  subscribedTopics,
} from './consumer-protocol.ts'
import { hasProtocolError, toConnectError } from './errors.ts'
import { GroupMembership } from './group-membership.ts'

export interface KafkaConsumerSettings {
  /** @default 52428800 (Java's fetch.max.bytes) */
  fetchMaxBytes?: number
  /** @default 1048576 (Java's max.partition.fetch.bytes) */
  maxPartitionFetchBytes?: number
  /** How long the broker may hold a fetch with no data. @default 500 (Java's fetch.max.wait.ms) */
  fetchMaxWaitMs?: number
  /** @default 45000 */
  sessionTimeoutMs?: number
  /** @default 3000 */
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

interface PartitionState {
  readonly tp: TopicPartition
  readonly key: string
  /** Offset of the next record `poll()` returns. */
  position: number
  /** Offset the next fetch asks for (ahead of `position` while records are buffered). */
  fetchOffset: number
  /** Fetched records not yet returned: `buffer[bufferIndex..]`. */
  buffer: LogRecord[]
  bufferIndex: number
  paused: boolean
  /** Bumped by seek/reset/revoke: fetch responses of an older epoch are dropped. */
  epoch: number
  inFlight: boolean
  resetting: boolean
}

type FetchResponse = fetchV17.FetchResponse

const NO_HEADERS: readonly LogHeader[] = Object.freeze([])
const LOG_APPEND_TIME = 0x08
const IS_CONTROL = 0x20

type RebalanceOutcome =
  | { ok: true; partitions: TopicPartition[]; positions: Map<string, number> }
  | { ok: false; error: unknown }

export class KafkaConsumer implements LogConsumer {
  readonly #client: Consumer
  readonly #deps: KafkaConsumerDeps
  readonly #groupId: string
  readonly #autoOffsetReset: 'earliest' | 'latest'
  readonly #maxPollRecords: number
  readonly #prefetchRecords: number
  readonly #fetchMaxBytes: number
  readonly #partitionMaxBytes: number
  readonly #fetchMaxWaitMs: number
  readonly #metadataRefreshMs: number
  readonly #isolationLevel: 0 | 1
  readonly #membership: GroupMembership

  readonly #states = new Map<string, PartitionState>()
  readonly #pausedKeys = new Set<string>()
  readonly #nodesInFlight = new Set<number>()
  #mode: 'none' | 'subscribe' | 'assign' = 'none'
  #subscription: readonly string[] | RegExp = []
  #listener: RebalanceListener = {}
  /** Topics and partition counts the current assignment was computed from; a change triggers a rejoin. */
  #joinedSnapshot = ''
  #rebalance: Promise<RebalanceOutcome> | undefined
  #rebalanceOutcome: RebalanceOutcome | undefined
  #rejoinBackoffUntil = 0
  #refreshTimer: NodeJS.Timeout | undefined
  #wakeup = false
  #signal = Promise.withResolvers<void>()
  #drainCursor = 0
  #pumpScheduled = false
  #fetchError: unknown
  #closed = false

  constructor(deps: KafkaConsumerDeps, options: ConsumerOptions, settings: KafkaConsumerSettings = {}) {
    this.#client = deps.client
    this.#deps = deps
    this.#groupId = options.groupId
    this.#autoOffsetReset = options.autoOffsetReset ?? 'earliest'
    this.#maxPollRecords = options.maxPollRecords ?? 500
    this.#prefetchRecords = Math.max(this.#maxPollRecords, 1000)
    this.#fetchMaxBytes = settings.fetchMaxBytes ?? 52_428_800
    this.#partitionMaxBytes = settings.maxPartitionFetchBytes ?? 1_048_576
    this.#fetchMaxWaitMs = settings.fetchMaxWaitMs ?? 500
    this.#metadataRefreshMs = settings.metadataRefreshMs ?? 5000
    this.#isolationLevel = settings.isolationLevel ?? 0
    this.#membership = new GroupMembership({
      groupId: options.groupId,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      sessionTimeoutMs: options.sessionTimeoutMs ?? settings.sessionTimeoutMs,
      rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? settings.heartbeatIntervalMs,
      pool: deps.groupPool,
      metadata: () => this.#client.metadata({ topics: [] }),
      onRejoinNeeded: () => this.#notify(),
    })
  }

  // ── subscription and assignment ────────────────────────────────────────────────────────────────

  async subscribe(topics: readonly string[] | RegExp, listener: RebalanceListener = {}): Promise<void> {
    this.#checkOpen()
    if (this.#mode === 'assign') {
      throw new ConnectError('CONNECT', 'this consumer uses manual assignment; it cannot also subscribe')
    }
    this.#mode = 'subscribe'
    this.#subscription = topics instanceof RegExp ? topics : [...topics]
    this.#listener = listener
    // The next poll() joins (or rejoins with the new subscription).
    this.#membership.requestRejoin('subscription changed')
    clearInterval(this.#refreshTimer)
    this.#refreshTimer = setInterval(() => {
      this.#checkSubscription().catch(() => {})
    }, this.#metadataRefreshMs)
    this.#refreshTimer.unref()
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
    for (const key of [...this.#states.keys()]) if (!wanted.has(key)) this.#dropState(key)
    const added = partitions.filter((tp) => !this.#states.has(tpKey(tp)))
    if (added.length === 0) return
    const positions = await this.#initialPositions(added)
    this.#installStates(added, positions)
    this.#schedulePump()
  }

  assignment(): TopicPartition[] {
    return [...this.#states.values()].map((s) => s.tp)
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
      if (this.#mode === 'subscribe' && !(await this.#maintainGroup(deadline))) return []
      if (this.#fetchError !== undefined) {
        const error = this.#fetchError
        this.#fetchError = undefined
        throw toConnectError(error, { operation: 'fetching records', bootstrap: this.#deps.bootstrap })
      }
      const records = this.#drain()
      this.#schedulePump()
      if (records.length > 0) return records
      const remaining = deadline - Date.now()
      if (remaining <= 0) return []
      await this.#waitForSignal(remaining)
    }
  }

  wakeup(): void {
    this.#wakeup = true
    this.#notify()
  }

  // ── pause, seek, position ──────────────────────────────────────────────────────────────────────

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const state = this.#requireState(tp, 'pause')
      state.paused = true
      this.#pausedKeys.add(state.key)
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const state = this.#requireState(tp, 'resume')
      state.paused = false
      this.#pausedKeys.delete(state.key)
    }
    this.#schedulePump()
  }

  paused(): TopicPartition[] {
    return [...this.#pausedKeys].map(parseTpKey)
  }

  seek(partition: TopicPartition, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0) {
      throw new ConnectError(
        'BAD_REQUEST',
        `cannot seek ${partition.topic}-${partition.partition} to ${offset}`,
      )
    }
    const state = this.#requireState(partition, 'seek')
    this.#resetState(state, offset)
    this.#schedulePump()
  }

  position(partition: TopicPartition): number {
    return this.#requireState(partition, 'get the position of').position
  }

  // ── offsets ────────────────────────────────────────────────────────────────────────────────────

  async commit(offsets: ReadonlyMap<string, number>): Promise<void> {
    this.#checkOpen()
    if (offsets.size === 0) return
    const byTopic = new Map<
      string,
      { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number }[]
    >()
    for (const [key, offset] of offsets) {
      const { topic, partition } = parseTpKey(key)
      const list = byTopic.get(topic) ?? []
      list.push({ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: -1 })
      byTopic.set(topic, list)
    }
    // A group member commits with its generation, so the coordinator refuses commits of a member
    // whose partitions moved on; a manually assigned consumer commits as a simple consumer.
    const generation = this.#mode === 'subscribe' ? this.#membership.generation : undefined
    if (this.#mode === 'subscribe' && generation === undefined) {
      throw new ConnectError(
        'CONFLICT',
        `cannot commit offsets of group '${this.#groupId}': the consumer is rebalancing; its partitions may have moved`,
      )
    }
    try {
      await this.#withCoordinator(async (connection) =>
        offsetCommitV8.api.async(
          connection,
          this.#groupId,
          generation?.generationId ?? -1,
          generation?.memberId ?? '',
          null,
          [...byTopic].map(([name, partitions]) => ({ name, partitions })),
        ),
      )
    } catch (error) {
      // Fenced (session expired, removed from the group): the partitions are lost at the next poll.
      // Rebalancing: they are revoked at the next poll (Java's CommitFailedException and
      // RebalanceInProgressException).
      const fenced = this.#membership.loseIfFenced(error)
      if (fenced || hasProtocolError(error, 'REBALANCE_IN_PROGRESS')) {
        if (!fenced) this.#membership.requestRejoin('commit refused by the coordinator')
        throw new ConnectError(
          'CONFLICT',
          `cannot commit offsets of group '${this.#groupId}': the group rebalanced and these partitions may now belong to another member`,
          { cause: error },
        )
      }
      throw toConnectError(error, {
        operation: `committing offsets of group '${this.#groupId}'`,
        bootstrap: this.#deps.bootstrap,
      })
    }
  }

  async committed(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    this.#checkOpen()
    try {
      return await fetchCommitted(this.#groupId, partitions, (fn) => this.#withCoordinator(fn))
    } catch (error) {
      throw toConnectError(error, {
        operation: `reading committed offsets of group '${this.#groupId}'`,
        bootstrap: this.#deps.bootstrap,
      })
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    clearInterval(this.#refreshTimer)
    try {
      if (this.#mode === 'subscribe' && this.#states.size > 0) await this.#removeAll()
    } finally {
      this.#closed = true
      this.#notify()
      for (const key of [...this.#states.keys()]) this.#dropState(key)
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

  // ── group ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * Drives the group inside poll(): when a rejoin is due, revokes (listener first), then starts
   * the rejoin; when the rejoin completed, installs the assignment and calls `onPartitionsAssigned`.
   * Returns false when poll() should return empty (still rebalancing at the deadline, or woken up).
   */
  async #maintainGroup(deadline: number): Promise<boolean> {
    const needsJoin = this.#membership.generation === undefined || this.#membership.rejoinReason !== undefined
    if (this.#rebalance === undefined && needsJoin) {
      if (Date.now() < this.#rejoinBackoffUntil) {
        await this.#waitForSignal(Math.min(this.#rejoinBackoffUntil, deadline) - Date.now())
        return false
      }
      if (this.#states.size > 0) {
        await this.#removeAll()
        for (const key of [...this.#states.keys()]) this.#dropState(key)
      }
      this.#rebalanceOutcome = undefined
      this.#rebalance = this.#rejoin().then(
        (outcome) => outcome,
        (error: unknown) => ({ ok: false as const, error }),
      )
      void this.#rebalance.then((outcome) => {
        this.#rebalanceOutcome = outcome
        this.#notify()
      })
    }
    if (this.#rebalance !== undefined) {
      while (this.#rebalanceOutcome === undefined) {
        const remaining = deadline - Date.now()
        if (remaining <= 0 || this.#wakeup) return false
        await this.#waitForSignal(remaining)
      }
      const outcome = this.#rebalanceOutcome
      this.#rebalance = undefined
      this.#rebalanceOutcome = undefined
      if (!outcome.ok) {
        const error = toConnectError(outcome.error, {
          operation: `joining group '${this.#groupId}'`,
          bootstrap: this.#deps.bootstrap,
        })
        if (!error.retriable) throw error
        this.#membership.requestRejoin('the last join attempt failed')
        this.#rejoinBackoffUntil = Date.now() + 500
        return false
      }
      this.#installStates(outcome.partitions, outcome.positions)
      await this.#listener.onPartitionsAssigned?.(outcome.partitions)
      this.#schedulePump()
    }
    return true
  }

  /**
   * Gives up every partition through the listener: revoked while this member still has its
   * generation (the last chance to commit), lost when the generation is gone (commits would fail).
   */
  async #removeAll(): Promise<void> {
    const partitions = this.assignment()
    if (this.#membership.generation !== undefined) {
      await this.#listener.onPartitionsRevoked?.(partitions)
    } else if (this.#listener.onPartitionsLost) {
      await this.#listener.onPartitionsLost(partitions)
    } else {
      await this.#listener.onPartitionsRevoked?.(partitions)
    }
  }

  async #rejoin(): Promise<RebalanceOutcome> {
    const topics = await this.#resolveSubscription()
    const generation = await this.#membership.join(
      [{ name: RANGE_ASSIGNOR, metadata: encodeSubscription(topics) }],
      async (leader) => {
        const all = [...subscribedTopics(leader.members)]
        const counts = await this.#partitionCounts(all)
        const assigned = rangeAssign(leader.members, counts)
        return new Map([...assigned].map(([member, tps]) => [member, encodeAssignment(tps)]))
      },
    )
    const partitions = decodeAssignment(generation.assignment)
    this.#joinedSnapshot = await this.#snapshot(topics)
    const positions = await this.#initialPositions(partitions)
    return { ok: true, partitions, positions }
  }

  async #resolveSubscription(): Promise<string[]> {
    const subscription = this.#subscription
    if (!(subscription instanceof RegExp)) return [...subscription]
    const all = await this.#deps.listTopics()
    return all.filter((t) => {
      subscription.lastIndex = 0
      return subscription.test(t)
    })
  }

  async #partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    // Topics that do not exist (yet) get no partitions; a later metadata check triggers a rejoin.
    for (const topic of topics) {
      try {
        const metadata = await this.#client.metadata({ topics: [topic] })
        counts.set(topic, metadata.topics.get(topic)!.partitionsCount)
      } catch {
        // missing topic
      }
    }
    return counts
  }

  async #snapshot(topics: readonly string[]): Promise<string> {
    const counts = await this.#partitionCounts(topics)
    return [...topics]
      .sort()
      .map((t) => `${t}:${counts.get(t) ?? 0}`)
      .join(',')
  }

  /** Rejoins when the pattern matches other topics or a subscribed topic's partition count changed. */
  async #checkSubscription(): Promise<void> {
    if (this.#closed || this.#mode !== 'subscribe' || this.#membership.generation === undefined) return
    if (this.#rebalance !== undefined) return
    const snapshot = await this.#snapshot(await this.#resolveSubscription())
    if (snapshot !== this.#joinedSnapshot && this.#membership.generation !== undefined) {
      this.#membership.requestRejoin('subscribed topics changed')
    }
  }

  // ── positions ──────────────────────────────────────────────────────────────────────────────────

  /** Committed offsets, else the reset policy's offsets. */
  async #initialPositions(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    if (partitions.length === 0) return new Map()
    const positions = await fetchCommitted(this.#groupId, partitions, (fn) => this.#withCoordinator(fn))
    const missing = partitions.filter((tp) => !positions.has(tpKey(tp)))
    if (missing.length > 0) {
      const reset = await this.#listOffsets(missing, this.#autoOffsetReset)
      for (const [key, offset] of reset) positions.set(key, offset)
    }
    return positions
  }

  async #listOffsets(
    partitions: readonly TopicPartition[],
    which: 'earliest' | 'latest',
  ): Promise<Map<string, number>> {
    const byTopic = new Map<string, number[]>()
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
    const offsets = await this.#client.listOffsets({
      topics: [...byTopic.keys()],
      partitions: Object.fromEntries(byTopic),
      timestamp: which === 'earliest' ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
      isolationLevel: this.#isolationLevel,
    })
    const result = new Map<string, number>()
    for (const tp of partitions) {
      const offset = offsets.get(tp.topic)?.[tp.partition]
      if (offset !== undefined) result.set(tpKey(tp), Number(offset))
    }
    return result
  }

  #installStates(partitions: readonly TopicPartition[], positions: ReadonlyMap<string, number>): void {
    for (const tp of partitions) {
      const key = tpKey(tp)
      const position = positions.get(key) ?? 0
      this.#states.set(key, {
        tp: { topic: tp.topic, partition: tp.partition },
        key,
        position,
        fetchOffset: position,
        buffer: [],
        bufferIndex: 0,
        paused: false,
        epoch: 0,
        inFlight: false,
        resetting: false,
      })
    }
  }

  #dropState(key: string): void {
    const state = this.#states.get(key)
    if (state !== undefined) state.epoch++
    this.#states.delete(key)
    this.#pausedKeys.delete(key)
  }

  #resetState(state: PartitionState, offset: number): void {
    state.epoch++
    state.position = offset
    state.fetchOffset = offset
    state.buffer = []
    state.bufferIndex = 0
    state.inFlight = false
  }

  // ── fetching ───────────────────────────────────────────────────────────────────────────────────

  /** Records of unpaused partitions, up to maxPollRecords, taking partitions in turn. */
  #drain(): LogRecord[] {
    const out: LogRecord[] = []
    const states = [...this.#states.values()]
    if (states.length === 0) return out
    const start = this.#drainCursor++ % states.length
    for (let n = 0; n < states.length && out.length < this.#maxPollRecords; n++) {
      const state = states[(start + n) % states.length]
      if (state.paused || state.bufferIndex >= state.buffer.length) continue
      const take = Math.min(this.#maxPollRecords - out.length, state.buffer.length - state.bufferIndex)
      for (let i = 0; i < take; i++) out.push(state.buffer[state.bufferIndex + i])
      state.bufferIndex += take
      state.position = out[out.length - 1].offset + 1
      if (state.bufferIndex >= state.buffer.length) {
        state.buffer = []
        state.bufferIndex = 0
        // Control records and compaction gaps: the position moves on to what was fetched.
        state.position = Math.max(state.position, state.fetchOffset)
      }
    }
    return out
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#closed) return
    this.#pumpScheduled = true
    queueMicrotask(() => {
      this.#pumpScheduled = false
      this.#pump().catch((error: unknown) => {
        this.#fetchError = error
        this.#notify()
      })
    })
  }

  /** Starts a fetch for every leader that has fetchable partitions and no fetch in flight. */
  async #pump(): Promise<void> {
    if (this.#closed) return
    // Prefetch: a partition is fetched again while the records it still has buffered are few.
    const candidates = [...this.#states.values()].filter(
      (s) =>
        !s.paused && !s.inFlight && !s.resetting && s.buffer.length - s.bufferIndex <= this.#prefetchRecords,
    )
    if (candidates.length === 0) return
    const topics = [...new Set(candidates.map((s) => s.tp.topic))]
    let metadata: ClusterMetadata
    try {
      metadata = await this.#client.metadata({ topics })
    } catch (error) {
      // A topic deleted under us, or a broker away: retry later, tell poll() if it persists.
      this.#fetchError = error
      this.#notify()
      return
    }
    const byNode = new Map<number, PartitionState[]>()
    for (const state of candidates) {
      if (state.inFlight || !this.#states.has(state.key)) continue
      const topic = metadata.topics.get(state.tp.topic)
      const leader = topic?.partitions[state.tp.partition]?.leader
      if (leader === undefined || leader < 0 || this.#nodesInFlight.has(leader)) continue
      const list = byNode.get(leader) ?? []
      list.push(state)
      byNode.set(leader, list)
    }
    for (const [node, states] of byNode) this.#fetchFrom(node, states, metadata)
  }

  #fetchFrom(node: number, states: PartitionState[], metadata: ClusterMetadata): void {
    this.#nodesInFlight.add(node)
    const epochs = new Map<string, number>()
    const byTopic = new Map<string, { topicId: string; partitions: PartitionState[] }>()
    const idToName = new Map<string, string>()
    for (const state of states) {
      state.inFlight = true
      epochs.set(state.key, state.epoch)
      const topicId = metadata.topics.get(state.tp.topic)!.id
      idToName.set(topicId, state.tp.topic)
      const entry = byTopic.get(state.tp.topic) ?? { topicId, partitions: [] }
      entry.partitions.push(state)
      byTopic.set(state.tp.topic, entry)
    }
    const request = [...byTopic.values()].map(({ topicId, partitions }) => ({
      topicId,
      partitions: partitions.map((s) => ({
        partition: s.tp.partition,
        fetchOffset: BigInt(s.fetchOffset),
        partitionMaxBytes: this.#partitionMaxBytes,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      })),
    }))
    const release = () => {
      this.#nodesInFlight.delete(node)
      for (const state of states) if (state.epoch === epochs.get(state.key)) state.inFlight = false
    }
    this.#client
      .fetch({
        node,
        topics: request,
        maxWaitTime: this.#fetchMaxWaitMs,
        minBytes: 1,
        maxBytes: this.#fetchMaxBytes,
        isolationLevel: this.#isolationLevel,
        connectionPool: this.#deps.fetchPool,
      })
      .then(
        (response) => {
          release()
          this.#onFetched(response, idToName, epochs)
          this.#schedulePump()
        },
        (error: unknown) => {
          release()
          this.#onFetchError(error, idToName, epochs)
        },
      )
  }

  #onFetched(response: FetchResponse, idToName: Map<string, string>, epochs: Map<string, number>): void {
    let arrived = false
    for (const topicResponse of response.responses) {
      const topic = idToName.get(topicResponse.topicId) ?? topicResponse.topicId
      for (const p of topicResponse.partitions) {
        const key = tpKey({ topic, partition: p.partitionIndex })
        const state = this.#states.get(key)
        if (state === undefined || epochs.get(key) !== state.epoch) continue // stale: seeked, revoked
        if (p.errorCode !== 0) {
          this.#onPartitionError(state, p.errorCode)
          continue
        }
        if (!p.records) continue
        if (state.bufferIndex > 0) {
          state.buffer = state.buffer.slice(state.bufferIndex)
          state.bufferIndex = 0
        }
        for (const batch of p.records) {
          const last = Number(batch.firstOffset) + batch.lastOffsetDelta
          if (last < state.fetchOffset) continue
          if ((batch.attributes & IS_CONTROL) === 0) {
            const logAppend = (batch.attributes & LOG_APPEND_TIME) !== 0
            const first = Number(batch.firstOffset)
            const firstTimestamp = Number(batch.firstTimestamp)
            for (const record of batch.records) {
              const offset = first + record.offsetDelta
              if (offset < state.fetchOffset) continue
              const value = record.value
              const rkey = record.key
              state.buffer.push({
                topic,
                partition: p.partitionIndex,
                offset,
                timestamp: logAppend
                  ? Number(batch.maxTimestamp)
                  : firstTimestamp + Number(record.timestampDelta),
                timestampType: logAppend ? 'LogAppendTime' : 'CreateTime',
                key: rkey,
                value,
                headers:
                  record.headers.length === 0
                    ? NO_HEADERS
                    : record.headers.map(([hk, hv]: [Buffer | null, Buffer | null]) => ({
                        key: hk === null ? '' : hk.toString('utf8'),
                        value: hv,
                      })),
              })
              arrived = true
            }
          }
          state.fetchOffset = last + 1
        }
        if (state.bufferIndex >= state.buffer.length)
          state.position = Math.max(state.position, state.fetchOffset)
      }
    }
    if (arrived) this.#notify()
  }

  #onFetchError(error: unknown, idToName: Map<string, string>, epochs: Map<string, number>): void {
    // Per-partition errors come with the response; handle them one by one.
    const response = findResponse(error)
    if (response !== undefined) {
      this.#onFetched(response, idToName, epochs)
      setTimeout(() => this.#schedulePump(), 100).unref()
      return
    }
    if (this.#closed) return
    this.#client.clearMetadata()
    this.#fetchError = toConnectError(error, {
      operation: 'fetching records',
      bootstrap: this.#deps.bootstrap,
    })
    // Transient trouble is retried by the next pumps; poll() reports it once so callers can see it.
    if ((this.#fetchError as ConnectError).retriable) this.#fetchError = undefined
    setTimeout(() => this.#schedulePump(), 500).unref()
    this.#notify()
  }

  #onPartitionError(state: PartitionState, errorCode: number): void {
    const OFFSET_OUT_OF_RANGE = 1
    if (errorCode === OFFSET_OUT_OF_RANGE) {
      state.resetting = true
      const epoch = state.epoch
      this.#listOffsets([state.tp], this.#autoOffsetReset)
        .then((offsets) => {
          if (state.epoch !== epoch || !this.#states.has(state.key)) return
          state.resetting = false
          this.#resetState(state, offsets.get(state.key) ?? 0)
          this.#schedulePump()
        })
        .catch((error: unknown) => {
          state.resetting = false
          this.#fetchError = error
          this.#notify()
        })
      return
    }
    // Leadership moved or the topic is being recreated: refresh metadata and fetch again.
    this.#client.clearMetadata()
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────────────────

  async #withCoordinator<T>(
    fn: (connection: Awaited<ReturnType<ConnectionPool['get']>>) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const broker = await this.#membership.coordinator()
        return await fn(await this.#deps.coordinatorPool.get(broker))
      } catch (error) {
        const moved = hasProtocolError(
          error,
          'NOT_COORDINATOR',
          'COORDINATOR_NOT_AVAILABLE',
          'COORDINATOR_LOAD_IN_PROGRESS',
        )
        if (!moved || attempt >= 20) throw error
        this.#membership.invalidateCoordinator()
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)))
      }
    }
  }

  #notify(): void {
    const signal = this.#signal
    this.#signal = Promise.withResolvers<void>()
    signal.resolve()
  }

  async #waitForSignal(ms: number): Promise<void> {
    if (ms <= 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.#signal.promise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms)
      }),
    ])
    clearTimeout(timer)
  }

  #requireState(tp: TopicPartition, action: string): PartitionState {
    const state = this.#states.get(tpKey(tp))
    if (state === undefined) {
      throw new ConnectError(
        'CONNECT',
        `cannot ${action} ${tp.topic}-${tp.partition}: it is not assigned to this consumer`,
      )
    }
    return state
  }

  #checkOpen(): void {
    if (this.#closed) throw new ConnectError('CONNECT', 'the Kafka consumer is closed; create a new one')
  }
}

function findResponse(error: unknown): FetchResponse | undefined {
  const stack: unknown[] = [error]
  for (let i = 0; i < stack.length && i < 32; i++) {
    const node = stack[i] as { response?: FetchResponse; errors?: unknown[] } | null
    if (node === null || typeof node !== 'object') continue
    if (node.response !== undefined && Array.isArray(node.response.responses)) return node.response
    if (Array.isArray(node.errors)) stack.push(...node.errors)
  }
  return undefined
}

/** Committed offsets of a group (OffsetFetch v8); partitions without one are absent. */
export async function fetchCommitted(
  groupId: string,
  partitions: readonly TopicPartition[] | null,
  withCoordinator: <T>(
    fn: (connection: Awaited<ReturnType<ConnectionPool['get']>>) => Promise<T>,
  ) => Promise<T>,
): Promise<Map<string, number>> {
  let topics: { name: string; partitionIndexes: number[] }[] | null = null
  if (partitions !== null) {
    const byTopic = new Map<string, number[]>()
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
    topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
    if (topics.length === 0) return new Map()
  }
  const response = await withCoordinator((connection) =>
    offsetFetchV8.api.async(connection, [{ groupId, memberId: null, memberEpoch: -1, topics }], false),
  )
  const result = new Map<string, number>()
  for (const group of response.groups) {
    for (const topic of group.topics) {
      for (const p of topic.partitions) {
        if (p.committedOffset >= 0n)
          result.set(tpKey({ topic: topic.name, partition: p.partitionIndex }), Number(p.committedOffset))
      }
    }
  }
  return result
}
