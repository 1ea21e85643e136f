/**
 * A consumer of the embedded log: manual assignment, or membership of an in-process group (see
 * `group-coordinator.ts`). Everything a group change needs (revoke, then assign callbacks) happens
 * inside `poll()`, as the `LogConsumer` contract says.
 *
 * Waiting is by notification, never by polling the database: the log tells each consumer which
 * partitions received records, and the coordinator tells members when their assignment changed.
 */
import { randomUUID } from 'node:crypto'
import { ConnectError, NotFoundError } from '../../api/errors.ts'
import {
  type ConsumerOptions,
  type LogConsumer,
  type LogRecord,
  parseTpKey,
  type RebalanceListener,
  type TimestampType,
  type TopicPartition,
  tpKey,
} from '../log.ts'
import type { GroupCoordinator, GroupMember } from './group-coordinator.ts'
import { decodeHeaders } from './header-codec.ts'
import type { RecordStore } from './record-store.ts'
import type { TopicState } from './topic-state.ts'

export interface ConsumerHost {
  readonly store: RecordStore
  readonly coordinator: GroupCoordinator
  topic(name: string): TopicState | undefined
  /** The consumer stops receiving append notifications once closed. */
  consumerClosed(consumer: EmbeddedConsumer): void
}

const DEFAULT_MAX_POLL_RECORDS = 500

export class EmbeddedConsumer implements LogConsumer {
  readonly #host: ConsumerHost
  readonly #groupId: string
  readonly #clientId: string
  readonly #autoOffsetReset: 'earliest' | 'latest'
  readonly #maxPollRecords: number
  #mode: 'none' | 'assigned' | 'subscribed' = 'none'
  #member: GroupMember | undefined
  #listener: RebalanceListener = {}
  /** The partitions this consumer reads: its manual assignment, or the group partitions it holds. */
  readonly #assigned = new Map<string, TopicPartition>()
  /** Next offset to return per partition; absent until resolved from the committed offset or the reset. */
  readonly #positions = new Map<string, number>()
  readonly #paused = new Set<string>()
  /** wakeup() was called and no poll has returned for it yet. */
  #woken = false
  /** Something (records, assignment, wakeup) changed since the current poll last looked. */
  #signalled = false
  #waiter: (() => void) | undefined
  #polling: Promise<LogRecord[]> | undefined
  #cursor = 0
  #closing = false
  #closed = false

  constructor(host: ConsumerHost, options: ConsumerOptions) {
    this.#host = host
    this.#groupId = options.groupId
    this.#clientId = options.clientId
    this.#autoOffsetReset = options.autoOffsetReset ?? 'earliest'
    this.#maxPollRecords = options.maxPollRecords ?? DEFAULT_MAX_POLL_RECORDS
    if (!(Number.isInteger(this.#maxPollRecords) && this.#maxPollRecords > 0)) {
      throw new ConnectError(
        'CONFIG',
        `maxPollRecords must be a positive integer, not ${options.maxPollRecords}`,
      )
    }
  }

  async subscribe(topics: readonly string[] | RegExp, listener: RebalanceListener = {}): Promise<void> {
    this.#ensureOpen('subscribe')
    if (this.#mode === 'assigned') {
      throw new ConnectError(
        'CONNECT',
        'This consumer uses assign(); a consumer cannot both assign and subscribe',
      )
    }
    this.#listener = listener
    // A global or sticky RegExp keeps state between test() calls; matching must not depend on history.
    const subscription =
      topics instanceof RegExp ? new RegExp(topics.source, topics.flags.replace(/[gy]/g, '')) : [...topics]
    this.#member = {
      id: this.#member?.id ?? `${this.#clientId}-${randomUUID()}`,
      subscription,
      notify: () => this.#signal(),
    }
    this.#mode = 'subscribed'
    this.#host.coordinator.join(this.#groupId, this.#member)
  }

  async assign(partitions: readonly TopicPartition[]): Promise<void> {
    this.#ensureOpen('assign')
    if (this.#mode === 'subscribed') {
      throw new ConnectError(
        'CONNECT',
        'This consumer uses subscribe(); a consumer cannot both subscribe and assign',
      )
    }
    this.#mode = 'assigned'
    const wanted = new Map(partitions.map((tp) => [tpKey(tp), { topic: tp.topic, partition: tp.partition }]))
    this.#drop([...this.#assigned.values()].filter((tp) => !wanted.has(tpKey(tp))))
    for (const [key, tp] of wanted) this.#assigned.set(key, tp)
    this.#signal()
  }

  poll(maxWaitMs: number): Promise<LogRecord[]> {
    this.#ensureOpen('poll')
    if (this.#polling !== undefined) {
      return Promise.reject(
        new ConnectError(
          'CONFLICT',
          'poll() is already running on this consumer; a consumer is polled by one task',
        ),
      )
    }
    const polling = this.#poll(maxWaitMs).finally(() => {
      this.#polling = undefined
    })
    this.#polling = polling
    return polling
  }

  async #poll(maxWaitMs: number): Promise<LogRecord[]> {
    const deadline = Date.now() + maxWaitMs
    for (;;) {
      this.#signalled = false
      if (this.#woken || this.#closing) break
      if (this.#mode === 'subscribed') await this.#reconcile()
      if (this.#woken || this.#closing) break
      const records = this.#fetch()
      if (records.length > 0) return records
      const remaining = deadline - Date.now()
      if (remaining <= 0) return []
      await this.#waitForSignal(remaining)
    }
    this.#woken = false
    return []
  }

  /** Brings the held partitions in line with the group's target: revoke first, then take up free ones. */
  async #reconcile(): Promise<void> {
    const coordinator = this.#host.coordinator
    const member = this.#member!
    const target = coordinator.targetOf(this.#groupId, member.id)
    const revoked = [...this.#assigned.entries()].filter(([key]) => !target.has(key)).map(([, tp]) => tp)
    if (revoked.length > 0) {
      try {
        await this.#listener.onPartitionsRevoked?.(revoked)
      } finally {
        this.#drop(revoked)
        coordinator.release(this.#groupId, member.id, revoked)
      }
    }
    // The target may have moved again while the revoke callback ran: read it afresh.
    const wanted = [...coordinator.targetOf(this.#groupId, member.id)].filter(
      (key) => !this.#assigned.has(key),
    )
    const acquired = coordinator.acquire(this.#groupId, member.id, wanted).map(parseTpKey)
    if (acquired.length > 0) {
      for (const tp of acquired) this.#assigned.set(tpKey(tp), tp)
      await this.#listener.onPartitionsAssigned?.(acquired)
    }
  }

  /** Reads up to maxPollRecords from the unpaused partitions, starting at a rotating one for fairness. */
  #fetch(): LogRecord[] {
    const keys = [...this.#assigned.keys()].filter((key) => !this.#paused.has(key))
    const out: LogRecord[] = []
    const n = keys.length
    if (n === 0) return out
    const first = this.#cursor++ % n
    for (let i = 0; i < n && out.length < this.#maxPollRecords; i++) {
      const key = keys[(first + i) % n]
      const tp = this.#assigned.get(key)!
      const topic = this.#host.topic(tp.topic)
      if (topic === undefined || tp.partition >= topic.partitions) continue
      const position = this.#resolvePosition(key, tp, topic)
      if (position >= topic.next[tp.partition]) continue
      const rows = this.#host.store.readRange(
        topic.id,
        tp.partition,
        position,
        this.#maxPollRecords - out.length,
      )
      if (rows.length === 0) continue
      const timestampType: TimestampType = topic.logAppendTime ? 'LogAppendTime' : 'CreateTime'
      for (const [offset, timestamp, k, value, headers] of rows) {
        out.push({
          topic: tp.topic,
          partition: tp.partition,
          offset,
          timestamp,
          timestampType,
          key: k,
          value,
          headers: decodeHeaders(headers),
        })
      }
      this.#positions.set(key, rows[rows.length - 1][0] + 1)
    }
    return out
  }

  /**
   * The position of an assigned partition: the one set by reading or seek(), else the group's
   * committed offset, else the reset. A position outside the partition's offsets is reset too, as
   * Kafka's auto.offset.reset does.
   */
  #resolvePosition(key: string, tp: TopicPartition, topic: TopicState): number {
    let position =
      this.#positions.get(key) ?? this.#host.store.groupOffset(this.#groupId, tp.topic, tp.partition)
    const start = topic.start[tp.partition]
    const end = topic.next[tp.partition]
    if (position === undefined || position < start || position > end) {
      position = this.#autoOffsetReset === 'earliest' ? start : end
    }
    this.#positions.set(key, position)
    return position
  }

  #waitForSignal(ms: number): Promise<void> {
    if (this.#signalled) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined
        resolve()
      }, ms)
      this.#waiter = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  #signal(): void {
    this.#signalled = true
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.()
  }

  /** Called by the log after a commit: wakes a waiting poll if one of its readable partitions grew. */
  appended(keys: Iterable<string>): void {
    if (this.#waiter === undefined) return
    for (const key of keys) {
      if (this.#assigned.has(key) && !this.#paused.has(key)) {
        this.#signal()
        return
      }
    }
  }

  wakeup(): void {
    this.#woken = true
    this.#signal()
  }

  assignment(): TopicPartition[] {
    return [...this.#assigned.values()]
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.add(this.#assignedKey(tp, 'pause'))
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(this.#assignedKey(tp, 'resume'))
    this.#signal()
  }

  paused(): TopicPartition[] {
    return [...this.#paused].map((key) => this.#assigned.get(key)!)
  }

  seek(partition: TopicPartition, offset: number): void {
    if (!(Number.isSafeInteger(offset) && offset >= 0)) {
      throw new ConnectError(
        'BAD_REQUEST',
        `Cannot seek ${partition.topic}/${partition.partition} to ${offset}`,
      )
    }
    this.#positions.set(this.#assignedKey(partition, 'seek'), offset)
    this.#signal()
  }

  position(partition: TopicPartition): number {
    const key = this.#assignedKey(partition, 'position')
    const topic = this.#host.topic(partition.topic)
    if (topic === undefined || partition.partition >= topic.partitions) {
      // The topic was deleted under us: report what we knew, so a revoke callback can still commit.
      return (
        this.#positions.get(key) ??
        this.#host.store.groupOffset(this.#groupId, partition.topic, partition.partition) ??
        0
      )
    }
    return this.#resolvePosition(key, partition, topic)
  }

  async commit(offsets: ReadonlyMap<string, number>): Promise<void> {
    this.#ensureNotClosed('commit')
    const entries = [...offsets].map(([key, offset]) => {
      const tp = parseTpKey(key)
      if (!(Number.isSafeInteger(offset) && offset >= 0)) {
        throw new ConnectError(
          'BAD_REQUEST',
          `Cannot commit offset ${offset} for ${tp.topic}/${tp.partition}`,
        )
      }
      if (this.#mode === 'subscribed' && !this.#assigned.has(key)) {
        throw new ConnectError(
          'CONFLICT',
          `${tp.topic}/${tp.partition} is no longer assigned to this member of group '${this.#groupId}' ` +
            '(a rebalance moved it); its offsets are now committed by its new owner',
        )
      }
      return { tp, offset }
    })
    const store = this.#host.store
    store.transaction(() => {
      for (const { tp, offset } of entries)
        store.setGroupOffset(this.#groupId, tp.topic, tp.partition, offset)
    })
  }

  async committed(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    this.#ensureNotClosed('committed')
    const result = new Map<string, number>()
    for (const tp of partitions) {
      const offset = this.#host.store.groupOffset(this.#groupId, tp.topic, tp.partition)
      if (offset !== undefined) result.set(tpKey(tp), offset)
    }
    return result
  }

  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    this.#signal()
    await this.#polling?.catch(() => undefined)
    try {
      if (this.#mode === 'subscribed') {
        const held = [...this.#assigned.values()]
        try {
          if (held.length > 0) await this.#listener.onPartitionsRevoked?.(held)
        } finally {
          this.#host.coordinator.leave(this.#groupId, this.#member!.id)
        }
      }
    } finally {
      this.#closed = true
      this.#assigned.clear()
      this.#host.consumerClosed(this)
    }
  }

  #drop(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const key = tpKey(tp)
      this.#assigned.delete(key)
      this.#positions.delete(key)
      this.#paused.delete(key)
    }
  }

  #assignedKey(tp: TopicPartition, operation: string): string {
    const key = tpKey(tp)
    if (!this.#assigned.has(key)) {
      throw new NotFoundError(
        `Cannot ${operation} ${tp.topic}/${tp.partition}: it is not assigned to this consumer`,
      )
    }
    return key
  }

  #ensureOpen(operation: string): void {
    if (this.#closing) throw new ConnectError('CONNECT', `Cannot ${operation}: the consumer is closed`)
  }

  /** Offsets may still be committed while closing, from the revoke callback. */
  #ensureNotClosed(operation: string): void {
    if (this.#closed) throw new ConnectError('CONNECT', `Cannot ${operation}: the consumer is closed`)
  }
}
