/**
 * A transactional producer of the embedded log (exactly-once source tasks, decision 0032).
 *
 * A transaction is kept in memory until `commit()`, which hands all of its records — the task's
 * records and, last, the records of its source offsets to the offsets topic — to the appender as one
 * send, so they are written in one SQLite transaction: after a crash either all of them are in the
 * log or none. Consumers never see part of a transaction, since the appender makes a send visible
 * only after its COMMIT; `abort()` just drops the records.
 *
 * The records are placed (partition, offset) when they are written, at the commit: the metadata
 * `send()` returns is filled in then, which is all the runtime reads it after.
 *
 * Fencing: one process owns the data dir (its lock), so the only other holder of a transactional id
 * is an earlier producer in this process (a task whose stop timed out). `init()` takes the id over;
 * the earlier producer's commits are refused from then on, checked again when the append is written.
 */
import { ConnectError } from '../../api/errors.ts'
import type { ProduceRecord, RecordMetadata, TransactionalProducer } from '../log.ts'

type Placed = { -readonly [K in keyof RecordMetadata]: RecordMetadata[K] }

export interface TransactionHost {
  /** Validates records as an append would (topic exists or may be created, partition in range); throws if not. */
  check(records: readonly ProduceRecord[]): void
  /** Appends the records in one SQLite transaction, after `guard()` (which throws to refuse) passes. */
  append(records: readonly ProduceRecord[], guard: () => void): Promise<RecordMetadata[]>
  /** Takes the transactional id over: returns the new holder's epoch. */
  claim(transactionalId: string): number
  /** The epoch of the id's current holder. */
  epoch(transactionalId: string): number | undefined
  closed(producer: EmbeddedTransactionalProducer): void
}

export class EmbeddedTransactionalProducer implements TransactionalProducer {
  readonly transactionalId: string
  readonly #host: TransactionHost
  #epoch: number | undefined
  #open: { records: ProduceRecord[]; placed: Placed[] } | null = null
  #closed = false
  #committing: Promise<unknown> = Promise.resolve()

  constructor(transactionalId: string, host: TransactionHost) {
    this.transactionalId = transactionalId
    this.#host = host
  }

  async init(): Promise<void> {
    this.#usable()
    this.#epoch = this.#host.claim(this.transactionalId)
  }

  async begin(): Promise<void> {
    this.#usable()
    if (this.#epoch === undefined) throw new ConnectError('CONNECT', 'init() was not called')
    if (this.#open !== null) throw new ConnectError('CONNECT', 'a transaction is already open')
    this.#open = { records: [], placed: [] }
  }

  async send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]> {
    this.#usable()
    const open = this.#transaction()
    this.#host.check(records)
    const placed = records.map((r) => ({ topic: r.topic, partition: -1, offset: -1, timestamp: -1 }))
    open.records.push(...records)
    open.placed.push(...placed)
    return placed
  }

  async commit(): Promise<void> {
    this.#usable()
    const open = this.#transaction()
    if (open.records.length > 0) {
      const written = this.#host.append(open.records, () => this.#usable())
      this.#committing = written.catch(() => {})
      // A failure leaves the transaction open: a retried commit writes it again, an abort drops it.
      const metadata = await written
      for (let i = 0; i < metadata.length; i++) Object.assign(open.placed[i], metadata[i])
    }
    this.#open = null
  }

  async abort(): Promise<void> {
    this.#open = null
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#open = null
    await this.#committing
    this.#host.closed(this)
  }

  #transaction(): { records: ProduceRecord[]; placed: Placed[] } {
    if (this.#open === null) throw new ConnectError('CONNECT', 'no transaction is open')
    return this.#open
  }

  /** Throws (not retriable) once closed or once another producer took the transactional id. */
  #usable(): void {
    if (this.#closed) throw new ConnectError('CONNECT', 'the transactional producer is closed')
    if (this.#epoch !== undefined && this.#host.epoch(this.transactionalId) !== this.#epoch) {
      throw new ConnectError(
        'CONNECT',
        'PRODUCER_FENCED: another producer with the same transactional.id started in this worker (a newer instance of this task): this one may not write any more',
      )
    }
  }
}
