/**
 * `TransactionalProducer` on Kafka's transactions (KIP-98), for exactly-once source tasks (KIP-618).
 * The records of one transaction go through a `KafkaProducer` (our produce path, transactional
 * batches) with one request in flight, so they keep their order and Java's placement; `commit()`
 * makes them and everything else sent in the transaction (the source offsets) visible to
 * `read_committed` readers at once.
 *
 * `init()` registers the transactional id with its coordinator (InitProducerId, through the client
 * library): the broker bumps the id's epoch, aborts a transaction a previous holder left open, and
 * from then on refuses that holder's writes and commits with PRODUCER_FENCED. This is what fences a
 * zombie task; the leader's `fenceProducers` does the same for ids no task of the new generation
 * will take.
 *
 * Two protocols, chosen at the first `begin()` from the cluster's finalized `transaction.version`
 * (read from ApiVersions, as Java's `TransactionManager` does after `initTransactions`):
 * - **v2** (KIP-890, `transaction.version` ≥ 2, Kafka 4.0+ clusters by default): no
 *   AddPartitionsToTxn. The batches go out as Produce v12, which has the partition leader add its
 *   partition to the transaction; the commit or abort is our own EndTxn v5 (the library speaks v4),
 *   whose answer carries the epoch the coordinator bumped for the next transaction. The producer
 *   takes it, and the sender starts every partition's sequence at 0 again (a new identity). A
 *   transaction nothing was sent in ends without a request (the coordinator refuses to commit an
 *   empty one). A batch lost for good only dooms its transaction: the abort bumps the epoch.
 * - **v1**: the client library's transactions: AddPartitionsToTxn for each new partition of a
 *   transaction, EndTxn v4, one epoch for the producer's life.
 */
import {
  apiVersionsV3,
  type Broker,
  type ClusterMetadata,
  findCoordinatorV4,
  type MessageRecord,
  type Producer,
  ProtocolError,
  type Reader,
  Writer,
} from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import type { ProduceRecord, RecordMetadata, TransactionalProducer } from '../log.ts'
import { hasProtocolError, isRetriableKafkaError, toConnectError } from './errors.ts'
import { KafkaProducer, type KafkaProducerSettings } from './kafka-producer.ts'
import { PRODUCE_VERSION_TRANSACTIONS_V2, sendRequest } from './produce-request.ts'

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>

const PRODUCE = 0
const END_TXN = 26
/** EndTxn v5: the answer names the producer id and the epoch bumped for the next transaction. */
const END_TXN_V5 = 5
const TRANSACTION_KEY_TYPE = 1
const TRANSACTION_VERSION_FEATURE = 'transaction.version'

/** A producer on transactions v2: its id and current epoch, and the state of its transaction. */
interface TransactionsV2 {
  producerId: bigint
  producerEpoch: number
  coordinator: Broker | undefined
  /** Begun and not yet ended. */
  open: boolean
  /** Records were handed to the sender in the open transaction: its end needs an EndTxn. */
  started: boolean
}

export class KafkaTransactionalProducer implements TransactionalProducer {
  readonly transactionalId: string
  readonly #client: Producer
  readonly #bootstrap: readonly string[]
  readonly #records: KafkaProducer
  /** v1: the client library's open transaction. */
  #transaction: Transaction | null = null
  /** v2 state; null on transactions v1; undefined until the first `begin()` asked the cluster. */
  #v2: TransactionsV2 | null | undefined = undefined

  constructor(
    client: Producer,
    transactionalId: string,
    bootstrap: readonly string[],
    settings: KafkaProducerSettings,
  ) {
    this.transactionalId = transactionalId
    this.#client = client
    this.#bootstrap = bootstrap
    this.#records = new KafkaProducer(client, bootstrap, {
      ...settings,
      maxInFlight: 1,
      // Our produce path writes the records (transactional batches, the transaction's producer id
      // and epoch); under v1 the client adds each partition to the transaction first (AddPartitionsToTxn).
      transaction: async (metadata, partitions) => {
        const v2 = this.#v2
        if (v2) {
          if (!v2.open) throw new ConnectError('CONNECT', 'no transaction is open')
          v2.started = true
          return {
            transactionalId: this.transactionalId,
            producerId: v2.producerId,
            producerEpoch: v2.producerEpoch,
            transactionsV2: true,
          }
        }
        const transaction = this.#open()
        await transaction.addPartitions(
          metadata as ClusterMetadata,
          partitions.map((p) => ({ topic: p.topic, partition: p.partition }) as MessageRecord),
        )
        return {
          transactionalId: this.transactionalId,
          producerId: this.#client.producerId!,
          producerEpoch: this.#client.producerEpoch!,
          transactionsV2: false,
        }
      },
    })
  }

  /** Which protocol the transactions use; undefined before the first `begin()`. */
  get transactionVersion(): 1 | 2 | undefined {
    return this.#v2 === undefined ? undefined : this.#v2 === null ? 1 : 2
  }

  async init(): Promise<void> {
    await this.#run('initializing the transactional producer', async () => {
      // Beginning a transaction registers the id (InitProducerId); nothing is sent to the broker
      // for the transaction itself until a record is, so cancelling it leaves nothing open.
      const transaction = await this.#client.beginTransaction()
      await transaction.cancel()
    })
    this.#v2 = undefined // the protocol is chosen for the new epoch at the next begin()
  }

  async begin(): Promise<void> {
    if (this.#transaction !== null || this.#v2?.open) {
      throw new ConnectError('CONNECT', 'a transaction is already open')
    }
    if (this.#v2 === undefined) {
      this.#v2 = await this.#run('reading the cluster transaction version', () => this.#transactionsV2())
    }
    if (this.#v2 !== null) {
      this.#v2.open = true
      this.#v2.started = false
      return
    }
    this.#transaction = await this.#run('beginning a transaction', () => this.#client.beginTransaction())
  }

  send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]> {
    return this.#records.send(records)
  }

  async commit(): Promise<void> {
    if (this.#v2) {
      if (!this.#v2.open) throw new ConnectError('CONNECT', 'no transaction is open')
      await this.#run('committing a transaction', () => this.#end(true))
      return
    }
    const transaction = this.#open()
    await this.#run('committing a transaction', () => transaction.commit())
    this.#transaction = null
  }

  async abort(): Promise<void> {
    const v2 = this.#v2
    const transaction = this.#transaction
    if (!v2?.open && transaction === null) return
    // Records of the transaction still queued or in flight (a send failed part-way) must be
    // answered first, or they could be prepared after the abort and join the next transaction.
    await this.#records.idle()
    try {
      if (v2) await this.#run('aborting a transaction', () => this.#end(false))
      else await this.#run('aborting a transaction', () => transaction!.abort())
    } catch (error) {
      // A retriable failure (the EndTxn may never have reached the coordinator) keeps the transaction:
      // it may still be open there, and a transaction begun now would join it (v1: AddPartitionsToTxn
      // under the same producer epoch; v2: the same epoch, as the epoch moves only when an EndTxn
      // succeeds), so its next commit would make the records sent before this abort visible. Only a
      // retried abort that succeeds, or a new holder of the id, closes it.
      if (error instanceof ConnectError && error.retriable) throw error
      // Fenced, or refused for good: nothing of it can be committed any more; forget it.
      if (v2) v2.open = false
      else {
        this.#transaction = null
        await transaction!.cancel().catch(() => {})
      }
      throw error
    }
    this.#transaction = null
  }

  close(): Promise<void> {
    return this.#records.close()
  }

  #open(): Transaction {
    if (this.#transaction === null) throw new ConnectError('CONNECT', 'no transaction is open')
    return this.#transaction
  }

  /**
   * Transactions v2 when the cluster finalized `transaction.version` ≥ 2 (Java's
   * `maybeUpdateTransactionV2Enabled`) and the broker speaks Produce v12 and EndTxn v5; else null.
   */
  async #transactionsV2(): Promise<TransactionsV2 | null> {
    const producerId = this.#client.producerId
    const producerEpoch = this.#client.producerEpoch
    if (producerId === undefined || producerEpoch === undefined) {
      throw new ConnectError('CONNECT', 'the transactional producer was not initialized: call init() first')
    }
    const metadata = await this.#client.metadata({ topics: [] })
    const connection = await this.#client.connections.getFirstAvailable([...metadata.brokers.values()])
    const versions = await apiVersionsV3.api.async(connection, 'sluice', '0')
    const level =
      versions.finalizedFeatures?.find((f) => f.name === TRANSACTION_VERSION_FEATURE)?.maxVersionLevel ?? 0
    const maxVersion = (key: number) => versions.apiKeys.find((a) => a.apiKey === key)?.maxVersion ?? -1
    if (
      level < 2 ||
      maxVersion(PRODUCE) < PRODUCE_VERSION_TRANSACTIONS_V2 ||
      maxVersion(END_TXN) < END_TXN_V5
    )
      return null
    return { producerId, producerEpoch, coordinator: undefined, open: false, started: false }
  }

  /**
   * Ends the open v2 transaction with EndTxn v5 and takes the epoch it returns. The coordinator
   * answers a retried EndTxn whose first attempt went through (epoch one below its own) with success
   * and the bumped epoch, so a commit retried after a lost answer is safe.
   */
  async #end(commit: boolean): Promise<void> {
    const v2 = this.#v2!
    if (!v2.started) {
      // Nothing was sent in it: nothing to end at the coordinator (Java sends no EndTxn either).
      v2.open = false
      return
    }
    for (let attempt = 1; ; attempt++) {
      try {
        v2.coordinator ??= await this.#findCoordinator()
        const connection = await this.#client.connections.get(v2.coordinator)
        const answer = await sendRequest(
          connection,
          END_TXN,
          END_TXN_V5,
          () => endTxnRequest(this.transactionalId, v2.producerId, v2.producerEpoch, commit),
          parseEndTxnResponse,
        )
        if (answer.errorCode !== 0) throw new ProtocolError(answer.errorCode)
        if (answer.producerId >= 0n) {
          v2.producerId = answer.producerId
          v2.producerEpoch = answer.producerEpoch
        }
        v2.open = false
        return
      } catch (error) {
        if (
          !hasProtocolError(error, 'CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS') &&
          isRetriableKafkaError(error)
        ) {
          v2.coordinator = undefined // moved, or its connection is gone: locate it again
        }
        // A coordinator move or the previous transaction's markers still being written: retried
        // here at once (Java's TransactionManager re-enqueues the EndTxn); the runner's backoff
        // takes over after that.
        if (!isRetriableKafkaError(error) || attempt >= 5) throw error
        await new Promise((resolve) => setTimeout(resolve, attempt * 20))
      }
    }
  }

  async #findCoordinator(): Promise<Broker> {
    const metadata = await this.#client.metadata({ topics: [] })
    const connection = await this.#client.connections.getFirstAvailable([...metadata.brokers.values()])
    const response = await findCoordinatorV4.api.async(connection, TRANSACTION_KEY_TYPE, [
      this.transactionalId,
    ])
    const found = response.coordinators[0]
    return { host: found.host, port: found.port }
  }

  async #run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      throw toConnectError(error, {
        operation: `${operation} (transactional.id '${this.transactionalId}')`,
        bootstrap: this.#bootstrap,
      })
    }
  }
}

/** EndTxn v5 (flexible): transactional_id producer_id producer_epoch committed. */
export function endTxnRequest(
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  commit: boolean,
): Writer {
  return Writer.create()
    .appendString(transactionalId)
    .appendInt64(producerId)
    .appendInt16(producerEpoch)
    .appendBoolean(commit)
    .appendTaggedFields()
}

export interface EndTxnAnswer {
  errorCode: number
  /** -1 when the coordinator names none (it always does under transactions v2). */
  producerId: bigint
  producerEpoch: number
}

/** EndTxn v5 response: throttle_time_ms error_code producer_id producer_epoch. */
export function parseEndTxnResponse(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  reader: Reader,
): EndTxnAnswer {
  reader.readInt32() // throttle time
  const errorCode = reader.readInt16()
  const producerId = reader.readInt64()
  const producerEpoch = reader.readInt16()
  return { errorCode, producerId, producerEpoch }
}
