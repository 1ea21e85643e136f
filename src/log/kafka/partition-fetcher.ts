/**
 * The fetch side of `KafkaConsumer`: per-partition positions and buffers, and the fetch loop.
 *
 * Fetches use the client's `fetch()` (fetch sessions, topic ids, record decoding), one request in
 * flight per leader, pipelined: the next fetch starts as soon as a response is buffered, and a
 * partition stops being fetched while it has a full fetch of records waiting. Each partition keeps a
 * position (next record `poll()` returns) and a fetch offset; `reset` (seek, offset reset) bumps the
 * partition's epoch so responses of fetches already in flight are dropped.
 */
import type { ClusterMetadata, ConnectionPool, Consumer, fetchV17 } from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import { type LogHeader, type LogRecord, parseTpKey, type TopicPartition, tpKey } from '../log.ts'
import { toConnectError } from './errors.ts'

/** Wakes whoever waits in `poll()`: records arrived, a rebalance completed, a wakeup. */
export class Signal {
  #signal = Promise.withResolvers<void>()

  notify(): void {
    const signal = this.#signal
    this.#signal = Promise.withResolvers<void>()
    signal.resolve()
  }

  /** Resolves at the next `notify()` or after `ms`. */
  async wait(ms: number): Promise<void> {
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
}

export interface PartitionState {
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
  /**
   * Unique across every state this fetcher ever made, and replaced by seek/reset/revoke: a fetch
   * response is applied only to the state of the epoch it was sent for. A partition revoked and
   * assigned again gets a new state with a new epoch, so a fetch sent before the revoke (from the old
   * state's fetch offset, ahead of the committed position) cannot land in it and skip records.
   */
  epoch: number
  inFlight: boolean
  resetting: boolean
}

export interface FetcherOptions {
  client: Consumer
  fetchPool: ConnectionPool
  bootstrap: readonly string[]
  signal: Signal
  /** Where a partition whose position fell out of its log restarts (auto.offset.reset). */
  resetOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, number>>
  maxPollRecords: number
  fetchMaxBytes: number
  partitionMaxBytes: number
  fetchMaxWaitMs: number
  isolationLevel: 0 | 1
}

type FetchResponse = fetchV17.FetchResponse

const NO_HEADERS: readonly LogHeader[] = Object.freeze([])
const LOG_APPEND_TIME = 0x08
const IS_CONTROL = 0x20
const IS_TRANSACTIONAL = 0x10

export class PartitionFetcher {
  readonly #o: FetcherOptions
  readonly #prefetchRecords: number
  readonly #states = new Map<string, PartitionState>()
  readonly #pausedKeys = new Set<string>()
  readonly #nodesInFlight = new Set<number>()
  #drainCursor = 0
  #lastEpoch = 0
  #pumpScheduled = false
  #fetchError: unknown
  #closed = false

  constructor(options: FetcherOptions) {
    this.#o = options
    this.#prefetchRecords = Math.max(options.maxPollRecords, 1000)
  }

  get size(): number {
    return this.#states.size
  }

  has(tp: TopicPartition): boolean {
    return this.#states.has(tpKey(tp))
  }

  keys(): string[] {
    return [...this.#states.keys()]
  }

  assignment(): TopicPartition[] {
    return [...this.#states.values()].map((s) => s.tp)
  }

  paused(): TopicPartition[] {
    return [...this.#pausedKeys].map(parseTpKey)
  }

  /** The error the fetch loop met since the last call (cleared), or undefined. */
  takeError(): unknown {
    const error = this.#fetchError
    this.#fetchError = undefined
    return error
  }

  close(): void {
    this.#closed = true
    for (const key of this.keys()) this.drop(key)
  }

  // ── partition states ───────────────────────────────────────────────────────────────────────────

  install(partitions: readonly TopicPartition[], positions: ReadonlyMap<string, number>): void {
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
        epoch: ++this.#lastEpoch,
        inFlight: false,
        resetting: false,
      })
    }
  }

  drop(key: string): void {
    const state = this.#states.get(key)
    if (state !== undefined) state.epoch = ++this.#lastEpoch
    this.#states.delete(key)
    this.#pausedKeys.delete(key)
  }

  setPaused(tp: TopicPartition, paused: boolean, action: string): void {
    const state = this.require(tp, action)
    state.paused = paused
    if (paused) this.#pausedKeys.add(state.key)
    else this.#pausedKeys.delete(state.key)
  }

  reset(state: PartitionState, offset: number): void {
    state.epoch = ++this.#lastEpoch
    state.position = offset
    state.fetchOffset = offset
    state.buffer = []
    state.bufferIndex = 0
    state.inFlight = false
  }

  require(tp: TopicPartition, action: string): PartitionState {
    const state = this.#states.get(tpKey(tp))
    if (state === undefined) {
      throw new ConnectError(
        'CONNECT',
        `cannot ${action} ${tp.topic}-${tp.partition}: it is not assigned to this consumer`,
      )
    }
    return state
  }

  // ── fetching ───────────────────────────────────────────────────────────────────────────────────

  /** Records of unpaused partitions, up to maxPollRecords, taking partitions in turn. */
  drain(): LogRecord[] {
    const max = this.#o.maxPollRecords
    const out: LogRecord[] = []
    const states = [...this.#states.values()]
    if (states.length === 0) return out
    const start = this.#drainCursor++ % states.length
    for (let n = 0; n < states.length && out.length < max; n++) {
      const state = states[(start + n) % states.length]
      if (state.paused || state.bufferIndex >= state.buffer.length) continue
      const take = Math.min(max - out.length, state.buffer.length - state.bufferIndex)
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

  schedulePump(): void {
    if (this.#pumpScheduled || this.#closed) return
    this.#pumpScheduled = true
    queueMicrotask(() => {
      this.#pumpScheduled = false
      this.#pump().catch((error: unknown) => {
        this.#fetchError = error
        this.#o.signal.notify()
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
      metadata = await this.#o.client.metadata({ topics })
    } catch (error) {
      // A topic deleted under us, or a broker away: retry later, tell poll() if it persists.
      this.#fetchError = error
      this.#o.signal.notify()
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
        partitionMaxBytes: this.#o.partitionMaxBytes,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      })),
    }))
    const release = () => {
      this.#nodesInFlight.delete(node)
      for (const state of states) if (state.epoch === epochs.get(state.key)) state.inFlight = false
    }
    this.#o.client
      .fetch({
        node,
        topics: request,
        maxWaitTime: this.#o.fetchMaxWaitMs,
        minBytes: 1,
        maxBytes: this.#o.fetchMaxBytes,
        isolationLevel: this.#o.isolationLevel,
        connectionPool: this.#o.fetchPool,
      })
      .then(
        (response) => {
          release()
          this.#onFetched(response, idToName, epochs)
          this.schedulePump()
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
        const aborted = this.#o.isolationLevel === 1 ? new AbortedTransactions(p.abortedTransactions) : null
        for (const batch of p.records) {
          const last = Number(batch.firstOffset) + batch.lastOffsetDelta
          if (last < state.fetchOffset) continue
          if (aborted?.skips(batch) !== true && (batch.attributes & IS_CONTROL) === 0) {
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
    if (arrived) this.#o.signal.notify()
  }

  #onFetchError(error: unknown, idToName: Map<string, string>, epochs: Map<string, number>): void {
    // Per-partition errors come with the response; handle them one by one.
    const response = findResponse(error)
    if (response !== undefined) {
      this.#onFetched(response, idToName, epochs)
      setTimeout(() => this.schedulePump(), 100).unref()
      return
    }
    if (this.#closed) return
    this.#o.client.clearMetadata()
    this.#fetchError = toConnectError(error, {
      operation: 'fetching records',
      bootstrap: this.#o.bootstrap,
    })
    // Transient trouble is retried by the next pumps; poll() reports it once so callers can see it.
    if ((this.#fetchError as ConnectError).retriable) this.#fetchError = undefined
    setTimeout(() => this.schedulePump(), 500).unref()
    this.#o.signal.notify()
  }

  #onPartitionError(state: PartitionState, errorCode: number): void {
    const OFFSET_OUT_OF_RANGE = 1
    if (errorCode === OFFSET_OUT_OF_RANGE) {
      state.resetting = true
      const epoch = state.epoch
      this.#o
        .resetOffsets([state.tp])
        .then((offsets) => {
          if (state.epoch !== epoch || !this.#states.has(state.key)) return
          state.resetting = false
          this.reset(state, offsets.get(state.key) ?? 0)
          this.schedulePump()
        })
        .catch((error: unknown) => {
          state.resetting = false
          this.#fetchError = error
          this.#o.signal.notify()
        })
      return
    }
    // Leadership moved or the topic is being recreated: refresh metadata and fetch again.
    this.#o.client.clearMetadata()
  }
}

/**
 * Read committed: which batches of one partition's fetch response belong to aborted transactions
 * (Java's `CompletedFetch`). The broker lists, per partition, the aborted transactions overlapping
 * the fetched range (producer id, first offset); a producer's batches from that first offset up to
 * its ABORT control marker are skipped. The client already drops some of them, but only when the
 * marker is in the same response; a response cut by `maxBytes` before the marker would let the
 * rest through, so the filter is applied here in full.
 */
class AbortedTransactions {
  readonly #pending: { producerId: bigint; firstOffset: bigint }[]
  readonly #open = new Set<bigint>()

  constructor(list: readonly { producerId: bigint; firstOffset: bigint }[] | null | undefined) {
    this.#pending = [...(list ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1))
  }

  /** True when the batch must not be delivered (control batches are never delivered anyway). */
  skips(batch: {
    attributes: number
    producerId: bigint
    firstOffset: bigint
    lastOffsetDelta: number
    records: { key: Buffer | null }[]
  }): boolean {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    while (this.#pending.length > 0 && this.#pending[0].firstOffset <= last) {
      this.#open.add(this.#pending.shift()!.producerId)
    }
    if ((batch.attributes & IS_CONTROL) !== 0) {
      // Control record key: version (int16), type (int16; 0 = ABORT, 1 = COMMIT).
      const key = batch.records[0]?.key
      if (key && key.length >= 4 && key.readInt16BE(2) === 0) this.#open.delete(batch.producerId)
      return true
    }
    return (batch.attributes & IS_TRANSACTIONAL) !== 0 && this.#open.has(batch.producerId)
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
