/**
 * Delivery of encoded record batches with the idempotent producer's rules (Java's `Sender` and
 * `TransactionManager`): a producer id and epoch, per-partition sequence numbers fixed when a batch
 * is encoded, up to the caller's requests in flight, and retries that keep each partition's order.
 *
 * - A retriable failure (a network error, NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, …) puts the
 *   batch, unchanged (same sequence), on its partition's retry list. While a partition has batches
 *   to retry, its new batches join the list; once nothing of the partition is in flight, the list
 *   goes out again in sequence order, after `retryBackoffMs` and a metadata refresh.
 * - OUT_OF_ORDER_SEQUENCE_NUMBER for a batch behind an unacknowledged one of the same partition is
 *   the consequence of that one's failure: retried like any retriable error. For the partition's
 *   oldest unacknowledged batch it is fatal, as is any non-retriable error, or a retriable one past
 *   `deliveryTimeoutMs`: the batch fails, and so does every later batch of the partition (their
 *   sequences follow a gap the broker would never fill). A plain idempotent producer then takes a
 *   new producer id once nothing is in flight (what Java's epoch bump achieves). A transactional one
 *   under transactions v1 keeps its id, and the partition fails until the task's producer is
 *   replaced; under transactions v2 the failure only dooms the transaction (Java's abortable error):
 *   its abort bumps the epoch, and the next transaction's identity starts every sequence at 0.
 * - DUPLICATE_SEQUENCE_NUMBER: the batch was written before; it succeeds without an offset.
 */
import { type ClusterMetadata, type Connection, type Producer, ProtocolError } from '@platformatic/kafka'
import { ConnectError, errorMessage } from '../../api/errors.ts'
import { isRetriableKafkaError, protocolErrorId } from './errors.ts'
import {
  type PartitionBatch,
  type PartitionResult,
  PRODUCE_VERSION,
  PRODUCE_VERSION_TRANSACTIONS_V2,
  sendProduce,
} from './produce-request.ts'

/** What metadata the sender reads: partition counts and leaders, broker addresses. */
export type ProduceMetadata = Pick<ClusterMetadata, 'topics' | 'brokers'>

/** The sender's way to the cluster; the default goes through the client library's connections. */
export interface ProduceTransport {
  metadata(topics: readonly string[], refresh: boolean): Promise<ProduceMetadata>
  /** InitProducerId for an idempotent (not transactional) producer: a new producer id. */
  initProducerId(): Promise<{ producerId: bigint; producerEpoch: number }>
  produce(
    metadata: ProduceMetadata,
    leader: number,
    transactionalId: string | null,
    batches: readonly PartitionBatch[],
    version: number,
  ): Promise<PartitionResult[]>
}

/** Who writes a transaction's batches, and how. */
export interface TransactionIdentity {
  transactionalId: string
  producerId: bigint
  producerEpoch: number
  /**
   * Transactions v2 (KIP-890): Produce v12 (the broker adds the partitions to the transaction), and
   * every end of a transaction bumps the epoch, so a batch lost for good dooms only the transaction.
   */
  transactionsV2: boolean
}

/** A transactional producer's part: the partitions into the transaction (v1: AddPartitionsToTxn), and who writes. */
export type TransactionHook = (
  metadata: ProduceMetadata,
  partitions: readonly { topic: string; partition: number }[],
) => Promise<TransactionIdentity>

export interface PartitionState {
  /** Sequence of the next batch encoded for the partition. */
  nextSequence: number
  /** Batches not yet answered for good, in sequence order. */
  readonly unacked: Batch[]
  /** Batches waiting to be (re)sent, in sequence order. */
  readonly waiting: Batch[]
  inFlight: number
  pumpScheduled: boolean
  /** Set when a batch failed for good: the partition's later sequences can never be written. */
  broken: unknown
}

export class Identity {
  readonly partitions = new Map<string, PartitionState>()
  /** A batch failed for good: take a new producer id before the next batch. */
  dead = false

  readonly producerId: bigint
  readonly producerEpoch: number
  readonly transactionalId: string | null
  readonly idempotent: boolean
  readonly transactionsV2: boolean

  constructor(
    producerId: bigint,
    producerEpoch: number,
    transactionalId: string | null,
    idempotent: boolean,
    transactionsV2 = false,
  ) {
    this.producerId = producerId
    this.producerEpoch = producerEpoch
    this.transactionalId = transactionalId
    this.idempotent = idempotent
    this.transactionsV2 = transactionsV2
  }

  partition(key: string): PartitionState {
    let state = this.partitions.get(key)
    if (state === undefined) {
      state = {
        nextSequence: 0,
        unacked: [],
        waiting: [],
        inFlight: 0,
        pumpScheduled: false,
        broken: undefined,
      }
      this.partitions.set(key, state)
    }
    return state
  }
}

export interface BatchAnswer {
  /** -1 for a duplicate of a batch written earlier. */
  readonly baseOffset: number
  readonly logAppendTimeMs: number
}

export interface Batch<
  G extends { topic: string; partition: number } = { topic: string; partition: number },
> {
  readonly group: G
  readonly identity: Identity
  readonly state: PartitionState
  readonly bytes: Buffer
  readonly baseSequence: number
  readonly deadline: number
  readonly done: Promise<BatchAnswer>
  settle(answer: BatchAnswer | null, error?: unknown): void
  settled: boolean
}

const DUPLICATE_SEQUENCE_NUMBER = 46
const LEADER_NOT_AVAILABLE = 5

export interface SenderOptions {
  idempotent: boolean
  transaction?: TransactionHook
  deliveryTimeoutMs: number
  retryBackoffMs: number
}

export class ProduceSender {
  readonly #transport: ProduceTransport
  readonly #o: SenderOptions
  #identity: Identity | null = null
  #unacked = 0
  readonly #drainWaiters: (() => void)[] = []

  constructor(transport: ProduceTransport, options: SenderOptions) {
    this.#transport = transport
    this.#o = options
  }

  /** Who writes the next batches (for a transaction: after adding the partitions to it). */
  async identity(metadata: ProduceMetadata, partitions: readonly { topic: string; partition: number }[]) {
    const current = this.#identity
    if (this.#o.transaction !== undefined) {
      const t = await this.#o.transaction(metadata, partitions)
      if (
        current === null ||
        current.producerId !== t.producerId ||
        current.producerEpoch !== t.producerEpoch ||
        current.transactionalId !== t.transactionalId ||
        current.transactionsV2 !== t.transactionsV2
      ) {
        // A new epoch (under v2 after every transaction) starts every partition's sequence at 0.
        this.#identity = new Identity(
          t.producerId,
          t.producerEpoch,
          t.transactionalId,
          true,
          t.transactionsV2,
        )
      }
      return this.#identity!
    }
    if (!this.#o.idempotent) {
      this.#identity ??= new Identity(-1n, -1, null, false)
      return this.#identity
    }
    if (current !== null && !current.dead) return current
    // Batches of the old id may still be retried: they must not race the new id's batches.
    while (this.#unacked > 0) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve))
    if (this.#identity !== current) return this.#identity! // taken meanwhile by another caller
    const { producerId, producerEpoch } = await this.#transport.initProducerId()
    this.#identity = new Identity(producerId, producerEpoch, null, true)
    return this.#identity
  }

  /** A batch of `state`'s partition, encoded with `baseSequence`; advances the sequence. */
  batch<G extends { topic: string; partition: number }>(
    identity: Identity,
    state: PartitionState,
    group: G,
    bytes: Buffer,
    baseSequence: number,
    count: number,
  ): Batch<G> {
    if (identity.idempotent) state.nextSequence = (state.nextSequence + count) % 2 ** 31 // Java wraps to 0
    const { promise, resolve, reject } = Promise.withResolvers<BatchAnswer>()
    const batch: Batch<G> = {
      group,
      identity,
      state,
      bytes,
      baseSequence,
      deadline: Date.now() + this.#o.deliveryTimeoutMs,
      done: promise,
      settled: false,
      settle: (answer, error) => {
        if (batch.settled) return
        batch.settled = true
        const at = state.unacked.indexOf(batch)
        if (at >= 0) state.unacked.splice(at, 1)
        if (answer !== null) resolve(answer)
        else reject(error)
        if (--this.#unacked === 0) for (const wake of this.#drainWaiters.splice(0)) wake()
      },
    }
    this.#unacked++
    state.unacked.push(batch)
    return batch
  }

  /** Sends the batches (at most one per partition), in the order given, with `metadata`'s leaders. */
  submit(batches: readonly Batch[], metadata: ProduceMetadata): void {
    const now: Batch[] = []
    for (const batch of batches) {
      if (batch.state.broken !== undefined) batch.settle(null, batch.state.broken)
      // Behind batches waiting to be sent again (or being sent again): after them.
      else if (batch.state.waiting.length > 0 || batch.state.pumpScheduled) batch.state.waiting.push(batch)
      else now.push(batch)
    }
    this.#send(now, metadata)
  }

  #send(batches: readonly Batch[], metadata: ProduceMetadata): void {
    // One request per leader and round: a partition appears at most once in a request.
    const rounds = new Map<number, Batch[][]>()
    for (const batch of batches) {
      batch.state.inFlight++
      const leader = metadata.topics.get(batch.group.topic)?.partitions[batch.group.partition]?.leader ?? -1
      if (leader < 0 || !metadata.brokers.has(leader)) {
        queueMicrotask(() => this.#answer(batch, new ProtocolError(LEADER_NOT_AVAILABLE)))
        continue
      }
      const list = rounds.get(leader) ?? []
      rounds.set(leader, list)
      const round = list.find((r) => !r.some((b) => b.state === batch.state))
      if (round === undefined) list.push([batch])
      else round.push(batch)
    }
    for (const [leader, list] of rounds) {
      for (const round of list) {
        const { transactionalId, transactionsV2 } = round[0].identity
        const version = transactionsV2 ? PRODUCE_VERSION_TRANSACTIONS_V2 : PRODUCE_VERSION
        const wire = round.map((b) => ({
          topic: b.group.topic,
          partition: b.group.partition,
          bytes: b.bytes,
        }))
        this.#transport.produce(metadata, leader, transactionalId, wire, version).then(
          (results) => {
            for (const batch of round) {
              const result = results.find(
                (r) => r.topic === batch.group.topic && r.partition === batch.group.partition,
              )
              this.#answer(
                batch,
                result ?? new Error(`no answer for ${batch.group.topic}-${batch.group.partition}`),
              )
            }
          },
          (error: unknown) => {
            for (const batch of round) this.#answer(batch, error)
          },
        )
      }
    }
  }

  #answer(batch: Batch, outcome: PartitionResult | unknown): void {
    const state = batch.state
    state.inFlight--
    const result = isResult(outcome) ? outcome : undefined
    if (result !== undefined && result.errorCode === 0) {
      batch.settle({ baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTimeMs })
    } else if (result !== undefined && result.errorCode === DUPLICATE_SEQUENCE_NUMBER) {
      batch.settle({ baseOffset: -1, logAppendTimeMs: -1 })
    } else if (!batch.settled) {
      const error =
        result !== undefined
          ? new ProtocolError(result.errorCode, result.errorMessage, {
              topic: batch.group.topic,
              partition: batch.group.partition,
            })
          : outcome
      const behindAnother =
        batch.identity.idempotent &&
        protocolErrorId(error) === 'OUT_OF_ORDER_SEQUENCE_NUMBER' &&
        state.unacked[0] !== batch
      if (state.broken !== undefined) batch.settle(null, state.broken)
      else if ((behindAnother || isRetriableKafkaError(error)) && Date.now() < batch.deadline) {
        let at = state.waiting.length
        while (at > 0 && state.waiting[at - 1].baseSequence > batch.baseSequence) at--
        state.waiting.splice(at, 0, batch)
      } else this.#fail(batch, error)
    }
    this.#pump(state)
  }

  #fail(batch: Batch, failure: unknown): void {
    const state = batch.state
    const { transactionalId, transactionsV2 } = batch.identity
    const id = protocolErrorId(failure)
    const cause = id ?? errorMessage(failure)
    let error = failure
    if (transactionsV2 && (isRetriableKafkaError(failure) || id === 'TRANSACTION_ABORTABLE')) {
      // Transactions v2 bump the epoch at every abort (Java's abortable error): aborting the
      // transaction and sending it again is the cure, which TRANSACTION_ABORTABLE asks for too.
      error = new ConnectError(
        'RETRIABLE',
        `a transactional batch for ${batch.group.topic}-${batch.group.partition} failed for good (${cause}): the transaction must be aborted, which bumps the producer's epoch, and sent again`,
        { cause: failure, retriable: true },
      )
    } else if (transactionalId !== null && isRetriableKafkaError(failure)) {
      // Under transactions v1 a transactional producer keeps its id and epoch across abort and
      // begin, so a partition whose batch was lost for good would refuse every later batch with the
      // same retriable error and the task would retry forever: the failure is final (as a failed
      // send is for Java's exactly-once task), and restarting the task claims the id again with a
      // new epoch.
      error = new ConnectError(
        'CONNECT',
        `a transactional batch for ${batch.group.topic}-${batch.group.partition} failed for good (${cause}); its producer's sequence numbers can no longer be trusted: restart the task to claim its transactional id again`,
        { cause: failure },
      )
    }
    batch.settle(null, error)
    if (!batch.identity.idempotent) return
    state.broken = error
    if (batch.identity.transactionalId === null) batch.identity.dead = true
    for (const waiting of state.waiting.splice(0)) waiting.settle(null, error)
  }

  /** Sends a partition's waiting batches again once none of its batches is in flight. */
  #pump(state: PartitionState): void {
    if (state.inFlight > 0 || state.waiting.length === 0 || state.pumpScheduled) return
    state.pumpScheduled = true
    setTimeout(() => {
      const batches = state.waiting.splice(0)
      const topics = [...new Set(batches.map((b) => b.group.topic))]
      state.inFlight += batches.length
      this.#transport.metadata(topics, true).then(
        (metadata) => {
          state.pumpScheduled = false
          state.inFlight -= batches.length
          this.#send(batches, metadata)
        },
        (error: unknown) => {
          state.pumpScheduled = false
          for (const batch of batches) this.#answer(batch, error)
        },
      )
    }, this.#o.retryBackoffMs)
  }
}

function isResult(outcome: unknown): outcome is PartitionResult {
  return typeof outcome === 'object' && outcome !== null && 'errorCode' in outcome && 'baseOffset' in outcome
}

/** The transport on a client of the library: its metadata cache, connection pool and InitProducerId. */
export function clientTransport(client: Producer, requestTimeoutMs: number): ProduceTransport {
  // Connections are taken one request after the other, so requests to one broker go out in the
  // order they were submitted (the broker handles a connection's requests in order).
  let chain: Promise<unknown> = Promise.resolve()
  return {
    metadata: (topics, refresh) => client.metadata({ topics: [...topics], forceUpdate: refresh }),
    initProducerId: async () => {
      const info = await client.initIdempotentProducer({})
      return { producerId: info.producerId, producerEpoch: info.producerEpoch }
    },
    produce(metadata, leader, transactionalId, batches, version) {
      const broker = metadata.brokers.get(leader)!
      const connection: Promise<Connection> = chain.then(() => client.connections.get(broker))
      chain = connection.catch(() => {})
      return connection.then((c) => sendProduce(c, transactionalId, -1, requestTimeoutMs, batches, version))
    },
  }
}
