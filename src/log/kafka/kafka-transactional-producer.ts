/**
 * `TransactionalProducer` on @platformatic/kafka's transactions (KIP-98), for exactly-once source
 * tasks (KIP-618). The records of one transaction go through a `KafkaProducer` (our produce path,
 * transactional batches) with one request in flight, so they keep their order and Java's placement;
 * `commit()` makes them and everything else sent in the transaction (the source offsets) visible to
 * `read_committed` readers at once.
 *
 * `init()` registers the transactional id with its coordinator (InitProducerId): the broker bumps
 * the id's epoch, aborts a transaction a previous holder left open, and from then on refuses that
 * holder's writes and commits with PRODUCER_FENCED. This is what fences a zombie task; the leader's
 * `fenceProducers` does the same for ids no task of the new generation will take.
 */
import type { ClusterMetadata, MessageRecord, Producer } from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import type { ProduceRecord, RecordMetadata, TransactionalProducer } from '../log.ts'
import { toConnectError } from './errors.ts'
import { KafkaProducer, type KafkaProducerSettings } from './kafka-producer.ts'

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>

export class KafkaTransactionalProducer implements TransactionalProducer {
  readonly transactionalId: string
  readonly #client: Producer
  readonly #bootstrap: readonly string[]
  readonly #records: KafkaProducer
  #transaction: Transaction | null = null

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
      // and epoch); the client adds each partition to the transaction first (AddPartitionsToTxn).
      transaction: async (metadata, partitions) => {
        const transaction = this.#open()
        await transaction.addPartitions(
          metadata as ClusterMetadata,
          partitions.map((p) => ({ topic: p.topic, partition: p.partition }) as MessageRecord),
        )
        return {
          transactionalId: this.transactionalId,
          producerId: this.#client.producerId!,
          producerEpoch: this.#client.producerEpoch!,
        }
      },
    })
  }

  async init(): Promise<void> {
    await this.#run('initializing the transactional producer', async () => {
      // Beginning a transaction registers the id (InitProducerId); nothing is sent to the broker
      // for the transaction itself until a record is, so cancelling it leaves nothing open.
      const transaction = await this.#client.beginTransaction()
      await transaction.cancel()
    })
  }

  async begin(): Promise<void> {
    if (this.#transaction !== null) throw new ConnectError('CONNECT', 'a transaction is already open')
    this.#transaction = await this.#run('beginning a transaction', () => this.#client.beginTransaction())
  }

  send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]> {
    return this.#records.send(records)
  }

  async commit(): Promise<void> {
    const transaction = this.#open()
    await this.#run('committing a transaction', () => transaction.commit())
    this.#transaction = null
  }

  async abort(): Promise<void> {
    const transaction = this.#transaction
    if (transaction === null) return
    try {
      await this.#run('aborting a transaction', () => transaction.abort())
    } catch (error) {
      // A retriable failure (the EndTxn may never have reached the coordinator) keeps the transaction:
      // it may still be open there, and a transaction begun now would join it (AddPartitionsToTxn
      // under the same producer epoch), so its next commit would make the records sent before this
      // abort visible. Only a retried abort that succeeds, or a new holder of the id, closes it.
      if (error instanceof ConnectError && error.retriable) throw error
      // Fenced, or refused for good: nothing of it can be committed any more; forget it.
      this.#transaction = null
      await transaction.cancel().catch(() => {})
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
