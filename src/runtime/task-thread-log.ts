/**
 * Both ends of a log reached across a thread boundary (decision 0029): a task thread on the
 * embedded log (whose SQLite database and consumer groups belong to the main thread) gets a
 * `RemoteLog` whose producers and consumers call the main thread's log, records crossing as packed,
 * transferred batches; `serveLog` answers those calls on the main thread. Offsets go the same way,
 * for both backends: `RemoteOffsetStore` and `serveOffsets`.
 */
import type { TopicPartition } from '../api/topic-partition.ts'
import {
  type ConsumerOptions,
  type Log,
  type LogConsumer,
  type LogProducer,
  type LogRecord,
  type ProduceRecord,
  type ProducerOptions,
  type RebalanceListener,
  type RecordMetadata,
  tpKey,
} from '../log/log.ts'
import type { OffsetStore } from '../storage/offset-store.ts'
import {
  type Channel,
  packLogRecords,
  packProduce,
  transferables,
  unpackLogRecords,
  unpackProduce,
  type WireLogBatch,
  type WireProduceBatch,
} from './task-thread-wire.ts'

/** A call whose answer nobody waits for (order is kept: the other side handles calls in order). */
function post(channel: Channel, target: string, method: string, args: unknown[]): void {
  channel.call(target, method, args).catch(() => undefined)
}

export class RemoteOffsetStore implements OffsetStore {
  readonly #channel: Channel

  constructor(channel: Channel) {
    this.#channel = channel
  }

  get(keys: readonly string[]): Promise<Map<string, string>> {
    return this.#channel.call('offsets', 'get', [keys])
  }

  set(entries: ReadonlyMap<string, string | null>): Promise<void> {
    return this.#channel.call('offsets', 'set', [entries])
  }

  connectorEntries(connector: string): Promise<Map<string, string>> {
    return this.#channel.call('offsets', 'connectorEntries', [connector])
  }

  async close(): Promise<void> {}
}

export function serveOffsets(store: OffsetStore, method: string, args: unknown[]): Promise<unknown> {
  switch (method) {
    case 'get':
      return store.get(args[0] as string[])
    case 'set':
      return store.set(args[0] as Map<string, string | null>)
    case 'connectorEntries':
      return store.connectorEntries(args[0] as string)
  }
  throw new Error(`offset store has no call ${method}`)
}

/** Calls a task thread may make on the main thread's log. */
const LOG_CALLS = new Set([
  'clusterId',
  'createTopics',
  'describeTopics',
  'listTopics',
  'endOffsets',
  'beginningOffsets',
  'groupOffsets',
])

export class RemoteLog implements Log {
  readonly kind = 'embedded' as const
  readonly #channel: Channel
  #handles = 0

  constructor(channel: Channel) {
    this.#channel = channel
  }

  #call<T>(method: string, args: unknown[] = []): Promise<T> {
    return this.#channel.call('log', method, args)
  }

  clusterId(): Promise<string> {
    return this.#call('clusterId')
  }
  createTopics(specs: Parameters<Log['createTopics']>[0]): Promise<void> {
    return this.#call('createTopics', [specs])
  }
  describeTopics(names: readonly string[]): ReturnType<Log['describeTopics']> {
    return this.#call('describeTopics', [names])
  }
  listTopics(): Promise<string[]> {
    return this.#call('listTopics')
  }
  deleteTopics(): Promise<void> {
    return Promise.reject(new Error('a task thread does not delete topics'))
  }
  endOffsets(partitions: readonly TopicPartition[], readCommitted?: boolean): Promise<Map<string, number>> {
    return this.#call('endOffsets', [partitions, readCommitted])
  }
  beginningOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    return this.#call('beginningOffsets', [partitions])
  }
  groupOffsets(groupId: string): Promise<Map<string, number>> {
    return this.#call('groupOffsets', [groupId])
  }
  alterGroupOffsets(): Promise<void> {
    return Promise.reject(new Error('a task thread does not alter group offsets'))
  }

  createProducer(options: ProducerOptions): LogProducer {
    const target = `p:${this.#handles++}`
    post(this.#channel, 'log', 'createProducer', [target, options])
    const channel = this.#channel
    return {
      send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]> {
        const batch = packProduce(records)
        return channel.call(target, 'send', [batch], transferables(batch))
      },
      close: () => channel.call(target, 'close'),
    }
  }

  createConsumer(options: ConsumerOptions): LogConsumer {
    const target = `c:${this.#handles++}`
    post(this.#channel, 'log', 'createConsumer', [target, options])
    return new RemoteConsumer(this.#channel, target)
  }

  async close(): Promise<void> {}
}

/** Rebalance callbacks from the main thread's consumer reach the listener through `listen`. */
const listeners = new WeakMap<Channel, Map<string, RemoteConsumer>>()

/** A consumer of the main thread's log. Assignment, pauses and positions are mirrored here, so the sync calls answer at once. */
class RemoteConsumer implements LogConsumer {
  readonly #channel: Channel
  readonly #target: string
  #listener: RebalanceListener | undefined
  readonly #assigned = new Map<string, TopicPartition>()
  readonly #paused = new Map<string, TopicPartition>()
  readonly #positions = new Map<string, number>()

  constructor(channel: Channel, target: string) {
    this.#channel = channel
    this.#target = target
    const byTarget = listeners.get(channel) ?? new Map<string, RemoteConsumer>()
    listeners.set(channel, byTarget)
    byTarget.set(target, this)
  }

  /** A rebalance callback from the main thread, with the positions of newly assigned partitions. */
  async rebalance(kind: string, tps: TopicPartition[], positions: [string, number][]): Promise<void> {
    for (const [key, offset] of positions) this.#positions.set(key, offset)
    if (kind === 'assigned') {
      for (const tp of tps) this.#assigned.set(tpKey(tp), tp)
      await this.#listener?.onPartitionsAssigned?.(tps)
      return
    }
    const callback =
      kind === 'lost'
        ? (this.#listener?.onPartitionsLost ?? this.#listener?.onPartitionsRevoked)
        : this.#listener?.onPartitionsRevoked
    await callback?.call(this.#listener, tps)
    for (const tp of tps) {
      this.#assigned.delete(tpKey(tp))
      this.#paused.delete(tpKey(tp))
    }
  }

  subscribe(topics: readonly string[] | RegExp, listener?: RebalanceListener): Promise<void> {
    this.#listener = listener
    return this.#channel.call(this.#target, 'subscribe', [topics])
  }

  async assign(partitions: readonly TopicPartition[]): Promise<void> {
    await this.#channel.call(this.#target, 'assign', [partitions])
    this.#assigned.clear()
    for (const tp of partitions) this.#assigned.set(tpKey(tp), tp)
  }

  async poll(maxWaitMs: number): Promise<LogRecord[]> {
    const reply = await this.#channel.call<{ batch: WireLogBatch; positions: [string, number][] }>(
      this.#target,
      'poll',
      [maxWaitMs],
    )
    for (const [key, offset] of reply.positions) this.#positions.set(key, offset)
    return unpackLogRecords(reply.batch)
  }

  wakeup(): void {
    post(this.#channel, this.#target, 'wakeup', [])
  }
  assignment(): TopicPartition[] {
    return [...this.#assigned.values()]
  }
  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.set(tpKey(tp), tp)
    post(this.#channel, this.#target, 'pause', [partitions])
  }
  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(tpKey(tp))
    post(this.#channel, this.#target, 'resume', [partitions])
  }
  paused(): TopicPartition[] {
    return [...this.#paused.values()]
  }
  seek(partition: TopicPartition, offset: number): void {
    this.#positions.set(tpKey(partition), offset)
    post(this.#channel, this.#target, 'seek', [partition, offset])
  }
  position(partition: TopicPartition): number {
    const offset = this.#positions.get(tpKey(partition))
    if (offset === undefined) throw new Error(`${tpKey(partition)} is not assigned to this consumer`)
    return offset
  }
  commit(offsets: ReadonlyMap<string, number>): Promise<void> {
    return this.#channel.call(this.#target, 'commit', [offsets])
  }
  committed(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    return this.#channel.call(this.#target, 'committed', [partitions])
  }
  async close(): Promise<void> {
    await this.#channel.call(this.#target, 'close')
    listeners.get(this.#channel)?.delete(this.#target)
  }
}

/** The thread side of a rebalance callback (`l:<consumer>`). */
export function rebalanceCallback(
  channel: Channel,
  target: string,
  method: string,
  args: unknown[],
): Promise<void> {
  const consumer = listeners.get(channel)?.get(target.slice(2))
  if (!consumer) return Promise.resolve()
  return consumer.rebalance(method, args[0] as TopicPartition[], args[1] as [string, number][])
}

/** The main thread's side: the producers and consumers one task thread made on the log. */
export class LogServer {
  readonly #log: Log
  readonly #channel: () => Channel
  readonly #producers = new Map<string, LogProducer>()
  readonly #consumers = new Map<string, LogConsumer>()

  constructor(log: Log, channel: () => Channel) {
    this.#log = log
    this.#channel = channel
  }

  handles(target: string): boolean {
    return target === 'log' || this.#producers.has(target) || this.#consumers.has(target)
  }

  async handle(target: string, method: string, args: unknown[]): Promise<unknown> {
    if (target === 'log') return this.#logCall(method, args)
    const producer = this.#producers.get(target)
    if (producer) {
      if (method === 'send') return producer.send(unpackProduce(args[0] as WireProduceBatch))
      this.#producers.delete(target)
      return producer.close()
    }
    const consumer = this.#consumers.get(target)!
    switch (method) {
      case 'subscribe':
        return consumer.subscribe(args[0] as string[] | RegExp, this.#listener(target, consumer))
      case 'poll': {
        const records = await consumer.poll(args[0] as number)
        const positions = consumer.assignment().map((tp) => [tpKey(tp), consumer.position(tp)])
        return { batch: packLogRecords(records), positions }
      }
      case 'close':
        this.#consumers.delete(target)
        return consumer.close()
      case 'assign':
      case 'wakeup':
      case 'pause':
      case 'resume':
      case 'seek':
      case 'commit':
      case 'committed':
        return (consumer[method] as (...a: unknown[]) => unknown).call(consumer, ...args)
    }
    throw new Error(`consumer has no call ${method}`)
  }

  #logCall(method: string, args: unknown[]): unknown {
    if (method === 'createProducer') {
      this.#producers.set(args[0] as string, this.#log.createProducer(args[1] as ProducerOptions))
      return undefined
    }
    if (method === 'createConsumer') {
      this.#consumers.set(args[0] as string, this.#log.createConsumer(args[1] as ConsumerOptions))
      return undefined
    }
    if (!LOG_CALLS.has(method)) throw new Error(`the log has no call ${method} for a task thread`)
    return (this.#log[method as keyof Log] as (...a: unknown[]) => unknown).call(this.#log, ...args)
  }

  #listener(target: string, consumer: LogConsumer): RebalanceListener {
    const forward =
      (kind: string) =>
      (tps: TopicPartition[]): Promise<void> => {
        const positions = kind === 'assigned' ? tps.map((tp) => [tpKey(tp), consumer.position(tp)]) : []
        return this.#channel().call(`l:${target}`, kind, [tps, positions])
      }
    return {
      onPartitionsAssigned: forward('assigned'),
      onPartitionsRevoked: forward('revoked'),
      onPartitionsLost: forward('lost'),
    }
  }

  /** Releases what the thread left open (it ended or died). */
  async close(): Promise<void> {
    const open = [...this.#producers.values(), ...this.#consumers.values()]
    this.#producers.clear()
    this.#consumers.clear()
    await Promise.allSettled(open.map((c) => c.close()))
  }
}
