/**
 * The fetch side of `KafkaConsumer`: per-partition positions and buffers, and the fetch loop.
 *
 * Fetches are our own Fetch requests (fetch-request.ts) on the client's connections, one request in
 * flight per leader, pipelined: the next fetch starts as soon as a response is buffered, and a
 * partition stops being fetched while it has a full fetch of records waiting (more than
 * `max(maxPollRecords, 1000)` records, or `min(partitionMaxBytes, 256 KiB)` bytes, which is also
 * what a fetch asks of it), and every partition while all
 * unpaused ones together buffer `fetchMaxBytes` (decision 0037). Each partition keeps a
 * position (next record `poll()` returns) and a fetch offset; `reset` (seek, offset reset) bumps the
 * partition's epoch so responses of fetches already in flight are dropped.
 *
 * Records are decoded lazily: a response's record batches stay the bytes they arrived in, and
 * `drain()` decodes only the records it returns, straight into `LogRecord`s (record-batch.ts).
 */
import { type ClusterMetadata, type ConnectionPool, type Consumer, ProtocolError } from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import { type LogHeader, type LogRecord, parseTpKey, type TopicPartition, tpKey } from '../log.ts'
import { toConnectError } from './errors.ts'
import { type FetchedPartition, type FetchOptions, type FetchTopic, sendFetch } from './fetch-request.ts'
import { type BatchView, controlType, RecordReader, readBatches } from './record-batch.ts'

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
  /** Fetched batches whose records are not all returned yet, still encoded. */
  pending: PendingBatch[]
  /** Records left in `pending` (an upper bound: records below a batch's `from` are skipped). */
  buffered: number
  /** Bytes of the (decompressed) batches in `pending`, held until a batch's last record is taken. */
  bufferedBytes: number
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
  /**
   * Bytes the next fetch asks of this partition: FETCH_CHUNK_BYTES, or the whole batch the last
   * answer cut off without returning any (up to max.partition.fetch.bytes). Such a partition is also
   * listed first in the next fetch: the broker returns a batch larger than the ask only to the first
   * partition of a fetch that has data, so behind a busy partition it would never arrive.
   */
  askBytes: number
}

/** A fetched batch being decoded: `left` records after the reader's position. */
interface PendingBatch {
  readonly view: BatchView
  readonly reader: RecordReader
  left: number
  /** Records below this offset were fetched before (the batch started earlier): skipped. */
  readonly from: number
  /** Its records' bytes (decompressed), counted in the partition's `bufferedBytes`. */
  readonly bytes: number
  readonly logAppend: boolean
}

type FetchAnswer = { errorCode: number; partitions: FetchedPartition[] }

export interface FetcherOptions {
  client: Pick<Consumer, 'metadata' | 'clearMetadata'>
  fetchPool: ConnectionPool
  /** Sends one Fetch to `node`. @default our Fetch request on a `fetchPool` connection */
  send?: (
    metadata: ClusterMetadata,
    node: number,
    topics: FetchTopic[],
    options: FetchOptions,
  ) => Promise<FetchAnswer>
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

const NO_HEADERS: readonly LogHeader[] = Object.freeze([])
/**
 * The most a fetch asks of one partition, and what a partition may buffer before it is fetched
 * again, when `max.partition.fetch.bytes` is larger. A response stays in memory (its socket
 * chunks, through the views records are read from) until its last record is taken; 1 MiB took a
 * pipeline long enough that V8 moved it and its records to the old generation, freed only by a
 * mark-compact (bench/RESULTS.md, "Peak RSS: what lives past a scavenge"). A batch larger than
 * this still comes whole (the broker returns the first batch whatever the limit).
 */
export const FETCH_CHUNK_BYTES = 256 * 1024

/** The size of the first batch of a fetched record set that does not fit in it, 0 when all fit. */
export function cutBatchBytes(set: Buffer): number {
  let pos = 0
  while (pos + 12 <= set.length) {
    const size = 12 + set.readInt32BE(pos + 8)
    if (pos + size > set.length) return size
    pos += size
  }
  return set.length > pos ? Number.MAX_SAFE_INTEGER : 0
}
const LOG_APPEND_TIME = 0x08
const IS_CONTROL = 0x20
const IS_TRANSACTIONAL = 0x10

export class PartitionFetcher {
  readonly #o: FetcherOptions
  readonly #prefetchRecords: number
  /** Bytes asked of a partition per fetch, and its buffered bytes at most before the next. */
  readonly #partitionFetchBytes: number
  readonly #states = new Map<string, PartitionState>()
  readonly #pausedKeys = new Set<string>()
  readonly #nodesInFlight = new Set<number>()
  #drainCursor = 0
  /** Sum of `bufferedBytes` over the partitions. */
  #bufferedBytes = 0
  #lastEpoch = 0
  #pumpScheduled = false
  #fetchError: unknown
  #closed = false

  constructor(options: FetcherOptions) {
    this.#o = options
    this.#prefetchRecords = Math.max(options.maxPollRecords, 1000)
    this.#partitionFetchBytes = Math.min(options.partitionMaxBytes, FETCH_CHUNK_BYTES)
  }

  get size(): number {
    return this.#states.size
  }

  /** Fetched record bytes waiting to be returned by `drain()`, over all partitions. */
  get bufferedBytes(): number {
    return this.#bufferedBytes
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
        pending: [],
        buffered: 0,
        bufferedBytes: 0,
        paused: false,
        epoch: ++this.#lastEpoch,
        inFlight: false,
        resetting: false,
        askBytes: this.#partitionFetchBytes,
      })
    }
  }

  drop(key: string): void {
    const state = this.#states.get(key)
    if (state !== undefined) {
      state.epoch = ++this.#lastEpoch
      this.#release(state)
    }
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
    this.#release(state)
    state.inFlight = false
  }

  /** Forgets the partition's buffered batches. */
  #release(state: PartitionState): void {
    this.#bufferedBytes -= state.bufferedBytes
    state.bufferedBytes = 0
    state.pending = []
    state.buffered = 0
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
      if (state.paused || state.pending.length === 0) continue
      const before = out.length
      while (state.pending.length > 0 && out.length < max) {
        const batch = state.pending[0]
        state.buffered -= decode(state.tp, batch, out, max)
        if (batch.left === 0) {
          state.pending.shift()
          state.bufferedBytes -= batch.bytes
          this.#bufferedBytes -= batch.bytes
        }
      }
      if (out.length > before) state.position = out[out.length - 1].offset + 1
      if (state.pending.length === 0) {
        state.buffered = 0
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
    // Prefetch: a partition is fetched again while the records it still has buffered are few and
    // take less than one fetch of it (max.partition.fetch.bytes); nothing is fetched while all
    // partitions together buffer fetch.max.bytes. A poll frees what it takes. A paused partition's
    // batches are not counted: no poll takes them until it resumes, and counting them would stop every
    // other partition for as long as it stays paused (Java's consumer fetches the others meanwhile).
    let held = this.#bufferedBytes
    for (const key of this.#pausedKeys) held -= this.#states.get(key)?.bufferedBytes ?? 0
    if (held >= this.#o.fetchMaxBytes) return
    const candidates = [...this.#states.values()].filter(
      (s) =>
        !s.paused &&
        !s.inFlight &&
        !s.resetting &&
        s.buffered <= this.#prefetchRecords &&
        s.bufferedBytes < this.#partitionFetchBytes,
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
    const byTopic = new Map<string, FetchTopic & { partitions: FetchTopic['partitions'][number][] }>()
    // A partition waiting for a batch larger than the usual ask goes first (PartitionState.askBytes).
    const ordered = states.some((s) => s.askBytes > this.#partitionFetchBytes)
      ? [...states].sort((a, b) => b.askBytes - a.askBytes)
      : states
    for (const state of ordered) {
      state.inFlight = true
      epochs.set(state.key, state.epoch)
      let entry = byTopic.get(state.tp.topic)
      if (entry === undefined) {
        entry = { topic: state.tp.topic, partitions: [] }
        byTopic.set(state.tp.topic, entry)
      }
      entry.partitions.push({
        partition: state.tp.partition,
        fetchOffset: state.fetchOffset,
        partitionMaxBytes: state.askBytes,
      })
    }
    const release = () => {
      this.#nodesInFlight.delete(node)
      for (const state of states) if (state.epoch === epochs.get(state.key)) state.inFlight = false
    }
    const options: FetchOptions = {
      maxWaitMs: this.#o.fetchMaxWaitMs,
      minBytes: 1,
      maxBytes: this.#o.fetchMaxBytes,
      isolationLevel: this.#o.isolationLevel,
    }
    const send = this.#o.send ?? this.#send
    send(metadata, node, [...byTopic.values()], options)
      .then((answer) => {
        if (answer.errorCode !== 0) throw new ProtocolError(answer.errorCode)
        release()
        // A partition error (leadership moving, say) waits a little before that partition's next fetch.
        if (this.#onFetched(answer.partitions, epochs)) setTimeout(() => this.schedulePump(), 100).unref()
        else this.schedulePump()
      })
      .catch((error: unknown) => {
        release()
        this.#onFetchError(error)
      })
  }

  readonly #send = async (
    metadata: ClusterMetadata,
    node: number,
    topics: FetchTopic[],
    options: FetchOptions,
  ): Promise<FetchAnswer> => {
    const broker = metadata.brokers.get(node)
    if (broker === undefined) throw new ConnectError('RETRIABLE', `no broker ${node} in the metadata`)
    return sendFetch(await this.#o.fetchPool.get(broker), options, topics)
  }

  /** Buffers what arrived; true when a partition answered with an error. */
  #onFetched(partitions: readonly FetchedPartition[], epochs: Map<string, number>): boolean {
    let arrived = false
    let failed = false
    for (const p of partitions) {
      const key = tpKey({ topic: p.topic, partition: p.partition })
      const state = this.#states.get(key)
      if (state === undefined || epochs.get(key) !== state.epoch) continue // stale: seeked, revoked
      if (p.errorCode !== 0) {
        this.#onPartitionError(state, p.errorCode)
        failed = true
        continue
      }
      if (p.records === null) continue
      const from = state.fetchOffset
      const aborted = this.#o.isolationLevel === 1 ? new AbortedTransactions(p.abortedTransactions) : null
      for (const batch of readBatches(p.records)) {
        const last = batch.baseOffset + batch.lastOffsetDelta
        if (last < state.fetchOffset) continue
        if (aborted?.skips(batch) !== true && (batch.attributes & IS_CONTROL) === 0 && batch.count > 0) {
          state.pending.push({
            view: batch,
            reader: new RecordReader(batch.records),
            left: batch.count,
            from: state.fetchOffset,
            logAppend: (batch.attributes & LOG_APPEND_TIME) !== 0,
            bytes: batch.records.length,
          })
          state.buffered += batch.count
          state.bufferedBytes += batch.records.length
          this.#bufferedBytes += batch.records.length
          arrived = true
        }
        state.fetchOffset = last + 1
      }
      // Bytes but not one whole batch: the answer cut a batch larger than the ask. Ask it whole next
      // time (the producer writes batches of up to ~900 KiB), else the partition never advances.
      const cut = state.fetchOffset === from ? cutBatchBytes(p.records) : 0
      state.askBytes =
        cut > 0
          ? Math.min(Math.max(cut, this.#partitionFetchBytes), this.#o.partitionMaxBytes)
          : this.#partitionFetchBytes
      if (state.pending.length === 0) state.position = Math.max(state.position, state.fetchOffset)
    }
    if (arrived) this.#o.signal.notify()
    return failed
  }

  #onFetchError(error: unknown): void {
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
  skips(batch: BatchView): boolean {
    const last = BigInt(batch.baseOffset + batch.lastOffsetDelta)
    while (this.#pending.length > 0 && this.#pending[0].firstOffset <= last) {
      this.#open.add(this.#pending.shift()!.producerId)
    }
    if ((batch.attributes & IS_CONTROL) !== 0) {
      if (controlType(batch) === 0) this.#open.delete(batch.producerId) // ABORT
      return true
    }
    return (batch.attributes & IS_TRANSACTIONAL) !== 0 && this.#open.has(batch.producerId)
  }
}

/**
 * Decodes up to `max - out.length` records of `batch` into `out`; returns how many records of the
 * batch it went through (returned or skipped).
 */
function decode(tp: TopicPartition, batch: PendingBatch, out: LogRecord[], max: number): number {
  const r = batch.reader
  const view = batch.view
  let used = 0
  while (batch.left > 0 && out.length < max) {
    batch.left--
    used++
    const length = r.varint()
    const end = r.pos + length
    r.pos++ // record attributes
    const timestampDelta = r.varlong()
    const offset = view.baseOffset + r.varint()
    if (offset < batch.from) {
      r.pos = end
      continue
    }
    const key = r.bytes()
    const value = r.bytes()
    const count = r.varint()
    let headers: readonly LogHeader[] = NO_HEADERS
    if (count > 0) {
      const list: LogHeader[] = new Array(count)
      for (let h = 0; h < count; h++) list[h] = { key: r.string(), value: r.bytes() }
      headers = list
    }
    r.pos = end
    out.push({
      topic: tp.topic,
      partition: tp.partition,
      offset,
      timestamp: batch.logAppend ? view.maxTimestamp : view.firstTimestamp + timestampDelta,
      timestampType: batch.logAppend ? 'LogAppendTime' : 'CreateTime',
      key,
      value,
      headers,
    })
  }
  return used
}
