/**
 * Runs a source task: poll → transform → convert → produce, and commits source offsets only for
 * records the log has acknowledged (Kafka Connect's `WorkerSourceTask`).
 *
 * Offset discipline: each poll's records go to the log as one batch; several batches may be in
 * flight. A batch's offsets become committable only when it and every earlier batch are
 * acknowledged, so a committed offset never points past a record that could still be lost. Every
 * `offset.flush.interval.ms`, and on stop, the committable offsets are written to this task's own
 * offset writer (one per task, as Connect's `OffsetStorageWriter`).
 *
 * Memory (decision 0037): at most 8 batches, and at most `buffer.memory` bytes of records (keys,
 * values, headers, 24 B of framing each; 32 MiB by default, as Java's producer), are sent and not
 * yet acknowledged; a poll whose records would not fit waits, before it is sent, for the oldest
 * batches to be acknowledged, and the task is not polled meanwhile (Java's `send()` blocks on a full
 * `buffer.memory` the same way). A batch is released as soon as it and every earlier one are
 * acknowledged.
 *
 * Order across retries: a failed send may or may not have been written (a lost acknowledgement),
 * and later batches in flight may have landed before it. Resending only the failed batch would put
 * it after them — a CDC replica applying the topic would apply an old delete after a newer insert.
 * So a retriable failure stops the pipeline: no new poll, every send in flight is let to end, then
 * the oldest unacknowledged batch and every batch after it (acknowledged or not) are sent again,
 * one at a time and in order, each retried with backoff until it is written. The topic may then
 * hold duplicates, but the last copy of every record comes after the last copy of every earlier
 * one (at-least-once, order kept; Java Connect gets the same from its producer's
 * `max.in.flight.requests.per.connection=1` and unbounded retries). The task stays RUNNING meanwhile.
 *
 * Stop: sends in flight are awaited, nothing is retried, the acknowledged offsets are committed.
 * Cancellation (a stop that timed out): the producer is closed, and no offset, `commit()`,
 * `commitRecord()` or send follows.
 *
 * Exactly-once (`transactional` set, KIP-618, Java's `ExactlyOnceWorkerSourceTask`, decision 0024):
 * the task's transactional id is claimed before the task starts (fencing a previous holder), and
 * records go out one batch at a time inside a transaction that also carries their offsets; nothing
 * is visible to `read_committed` readers, and no offset is stored, until the commit. Batches of the
 * open transaction are kept: a retriable failure aborts it and sends them again in a new one. The
 * in-flight pipeline above and the offset writer are not used; instead one poll's producer calls
 * (send, commit) run while the next poll is read and converted (the conversion yields to I/O every
 * `CONVERT_SLICE` records meanwhile, so their answers are not held up), and the task's `commit()` and
 * `commitRecord()` for a committed transaction are called between polls, never during one.
 */
import {
  type MaybePromise,
  type Props,
  SourceTask,
  type SourceTaskContext,
  type TransactionContext,
} from '../api/connector.ts'
import { isPromise } from '../api/converter.ts'
import { ConnectError, errorMessage, errorTrace, isRetriable } from '../api/errors.ts'
import { RecordHeaders } from '../api/record-headers.ts'
import type { SourceRecord } from '../api/records.ts'
import type { TargetState } from '../common/states.ts'
import { taskIdString } from '../common/states.ts'
import { openTopicReader } from '../log/create-log.ts'
import type { LogProducer, ProduceRecord, RecordMetadata, TransactionalProducer } from '../log/log.ts'
import { offsetKey } from '../storage/offset-store.ts'
import { Backoff } from './backoff.ts'
import type { TransactionBoundary } from './connector-config.ts'
import type { ConnectorConverters } from './converters.ts'
import { type ErrorHandler, SKIP, type Stage } from './errors/error-handler.ts'
import type { ConnectorOffsetReader, ConnectorOffsetWriter } from './offset-storage.ts'
import { TaskRunner, type TaskRunnerContext } from './task-runner.ts'
import type { TopicCreator } from './topic-creator.ts'
import type { TransformationChain } from './transformation-chain.ts'

/**
 * Exactly-once: records converted between two looks at I/O while a transaction's calls run. A
 * transaction's produce and EndTxn go one after another; converted in one piece, a poll of 2,048 CDC
 * events held their answers ~17 ms each. CDC into Kafka, exactly-once cost: −21 to −28 % in one
 * piece, −17 to −21 % every 256, −13 to −20 % (median −15 %) every 64 (bench/RESULTS.md).
 */
const CONVERT_SLICE = 64
/** Batches allowed in flight before `poll()` waits for the oldest acknowledgement. */
const MAX_IN_FLIGHT_BATCHES = 8
/** Java's `buffer.memory` default: record bytes a source task's producer may hold unacknowledged. */
export const DEFAULT_BUFFER_MEMORY = 33_554_432
/** A record's framing in a record batch, counted with its bytes (as the Kafka producer estimates it). */
const RECORD_OVERHEAD = 24

/**
 * Exactly-once delivery (KIP-618, Java's `ExactlyOnceWorkerSourceTask`): the task's records and their
 * source offsets are written in one transaction of its own transactional producer.
 */
export interface ExactlyOnceOptions {
  producer: TransactionalProducer
  /** Awaited before the transactional id is claimed: the leader's fencing of the previous generation. */
  fenceBeforeClaim?: () => Promise<void>
  boundary: TransactionBoundary
  /** Each transaction is a round trip to a broker's coordinator (Kafka), not a local write (embedded log). */
  brokerTransactions: boolean
  /** `transaction.boundary.interval.ms` (for `interval`). */
  intervalMs: number
  /** The records that write these offsets (serialized key → value, null deletes) to the offsets topic. */
  offsetRecords(entries: ReadonlyMap<string, string | null>): ProduceRecord[]
  /** Awaited before the transaction carrying these offsets commits (a connector's own offsets topic). */
  beforeCommit?(entries: ReadonlyMap<string, string | null>): Promise<void>
  /** The transaction that carried these offsets committed: the offset store may serve them at once. */
  committed(entries: ReadonlyMap<string, string | null>): void
}

/** The transaction being built: the batches in it (resent in order if it must be replayed) and their offsets. */
interface OpenTransaction {
  readonly batches: Batch[]
  readonly offsets: Map<string, string | null>
  readonly started: number
  /** The offsets went out as the trailer of the last batch: the commit needs no request of its own. */
  offsetsSent: boolean
}

export interface SourceTaskRunnerOptions {
  task: SourceTask
  taskConfig: Props
  converters: ConnectorConverters
  transforms: TransformationChain<SourceRecord>
  producer: LogProducer
  offsetReader: ConnectorOffsetReader
  offsetWriter: ConnectorOffsetWriter
  topicCreator: TopicCreator
  offsetFlushIntervalMs: number
  offsetFlushTimeoutMs: number
  errorHandler: ErrorHandler
  /**
   * Record bytes (keys, values, headers) sent and not yet acknowledged before the task is polled
   * again (the producer's `buffer.memory`: Java's `send()` blocks when its buffer is full, and so
   * does the task's loop). A single poll larger than this is still sent, alone.
   * @default DEFAULT_BUFFER_MEMORY (32 MiB)
   */
  bufferMemory?: number
  /** Set when the task runs exactly-once; `producer`, `offsetWriter` and the flush settings are then unused. */
  transactional?: ExactlyOnceOptions
  /**
   * The connector's own offsets topic (`offsets.storage.topic`), which the reader and writer use:
   * created and read before the task starts (after it claimed its transactional id), closed with it.
   */
  ownOffsetStore?: { start(): Promise<void>; close(): Promise<void> }
}

interface Batch {
  /** Its number in the task's metrics (for tracing). */
  no: number
  /** Key and value bytes of `produce` (the producer's byte metrics). */
  bytes: number
  /** Key, value and header bytes of `produce`: what it holds against `bufferMemory`. */
  held: number
  /** Records the task's poll returned. */
  polled: number
  /**
   * Records as the task produced them, for `commitRecord`; empty when the task does not override it:
   * a poll's records (and their structs) are then not kept past their conversion.
   */
  originals: SourceRecord[]
  /** Index into `originals` of each record sent (transforms may drop some); empty with `originals`. */
  sentIndex: number[]
  produce: ProduceRecord[]
  /** Exactly-once: offset records sent in the same request after `produce` (the transaction's last batch). */
  trailer?: ProduceRecord[]
  /** The last offset of each source partition in this batch. */
  offsets: Map<string, { partition: SourceRecord['sourcePartition']; offset: SourceRecord['sourceOffset'] }>
  /** Of its latest send: not sent yet (or to be sent again), in flight, written, or failed. */
  state: 'unsent' | 'in-flight' | 'acked' | 'failed'
  metadata: RecordMetadata[] | null
  error: unknown
  /** Settles (never rejects) when the latest send ends. */
  settled: Promise<void>
}

export class SourceTaskRunner extends TaskRunner {
  readonly #o: SourceTaskRunnerOptions
  #clientsClosed: Promise<void> | undefined
  readonly #inFlight: Batch[] = []
  /** Sum of `held` over `#inFlight`. */
  #inFlightBytes = 0
  readonly #bufferMemory: number
  /** The task overrides `commitRecord`: each batch keeps its task's records until written. */
  readonly #callsCommitRecord: boolean
  #lastFlush = Date.now()
  #committing: Promise<void> | null = null
  #failure: unknown = null
  /** Set while `poll()` keeps failing with retriable errors (the status shows the last one). */
  #pollError = false
  /** Set while the task reports a problem it works around (`SourceTaskContext.reportProblem`). */
  #problemReported = false
  readonly #pollBackoff = new Backoff(100, 5_000)
  /** Set when a send failed retriably: the pipeline stops until everything from it on is resent. */
  #mustResend = false
  /** Resolves on stop: wakes every backoff sleep at once. */
  readonly #stopped = Promise.withResolvers<void>()
  /** Resolves on cancellation: ends every wait for the log. */
  readonly #cancelledSignal = Promise.withResolvers<void>()
  /** Exactly-once: the open transaction, and what the task asked through its TransactionContext. */
  #transaction: OpenTransaction | null = null
  #transactionRequest: 'commit' | 'abort' | null = null
  readonly #recordRequests = new Map<SourceRecord, 'commit' | 'abort'>()
  /** Exactly-once: the last poll's producer calls, under way while the next poll is read and converted. */
  #transactionWork: Promise<void> | null = null
  /** Exactly-once: committed transactions whose `commitRecord()` and `commit()` calls are due. */
  readonly #committedTransactions: OpenTransaction[] = []

  constructor(ctx: TaskRunnerContext, initialTarget: TargetState, options: SourceTaskRunnerOptions) {
    super(ctx, initialTarget, 'source')
    this.#o = options
    this.#bufferMemory = options.bufferMemory ?? DEFAULT_BUFFER_MEMORY
    this.#callsCommitRecord = options.task.commitRecord !== SourceTask.prototype.commitRecord
  }

  protected async execute(): Promise<void> {
    const { task } = this.#o
    const context: SourceTaskContext = {
      configs: () => this.#o.taskConfig,
      offsetStorageReader: () => this.#o.offsetReader,
      openTopicReader,
      reportProblem: (problem) => {
        if (this.stopping || this.state !== 'RUNNING') return
        if (problem) {
          this.#problemReported = true
          this.setState('RUNNING', errorTrace(problem))
        } else if (this.#problemReported) {
          this.#problemReported = false
          this.setState('RUNNING')
        }
      },
    }
    const transactional = this.#o.transactional
    if (transactional?.boundary === 'connector') {
      const request = (kind: 'commit' | 'abort') => (record?: SourceRecord) => {
        if (record === undefined) this.#transactionRequest = kind
        else this.#recordRequests.set(record, kind)
      }
      const transactionContext: TransactionContext = {
        commitTransaction: request('commit'),
        abortTransaction: request('abort'),
      }
      context.transactionContext = () => transactionContext
    } else {
      context.transactionContext = () => null
    }
    const perPoll = transactional?.boundary === 'poll' && transactional.brokerTransactions
    context.pollIsTransaction = () => perPoll
    // The transactional id is claimed before the task reads its offsets: a previous holder (a zombie
    // of this task on another worker) is fenced and its open transaction aborted, so the offsets read
    // next are final.
    if (transactional) {
      // Kafka Connect's preflight: the previous generation is fenced before this task claims its id.
      const fence = transactional.fenceBeforeClaim
      if (fence)
        await this.#retrying('asking the leader for zombie fencing', () => this.#untilStopped(fence()))
      // Stopped meanwhile (its assignment moved on): claiming the id now could fence the new holder.
      if (this.stopping) {
        await this.#closeClients()
        return
      }
      await this.#initTransactions(transactional.producer)
    }
    await this.#o.ownOffsetStore?.start()
    task.initialize(context)
    await task.start(this.#o.taskConfig)
    this.setState(this.targetState === 'STARTED' ? 'RUNNING' : 'PAUSED')
    this.logger.info(`${taskIdString(this.id)} source task started`)
    try {
      while (!this.stopping) {
        this.#throwIfFailed()
        if (this.#mustResend) {
          await this.#resendInOrder()
          continue
        }
        if (this.targetState !== 'STARTED') {
          await this.#commitOffsets()
          // A stop or a resume during the commit would otherwise be missed by the wait below.
          if (this.stopping || (this.targetState as TargetState) === 'STARTED') continue
          this.setState('PAUSED')
          await this.waitForTargetChange()
          if (!this.stopping && (this.targetState as TargetState) === 'STARTED') this.setState('RUNNING')
          continue
        }
        let records: SourceRecord[] | null
        const pollStart = this.metrics.now()
        try {
          records = await task.poll()
        } catch (error) {
          this.metrics.stage('poll', pollStart, 0, { error })
          if (!isRetriable(error) || this.stopping) throw error
          await this.#afterRetriablePoll(error)
          continue
        }
        if (this.#pollError) {
          this.#pollError = false
          this.#pollBackoff.reset()
          this.setState('RUNNING')
          this.logger.info(`${taskIdString(this.id)}: poll succeeded again`)
        }
        const batchNo = this.metrics.stage('poll', pollStart, records?.length ?? 0)
        if (records && records.length > 0 && !this.#failure && !this.cancelled)
          await this.#send(records, batchNo)
        await this.#maybeCommit()
      }
      await this.#drain()
      this.#throwIfFailed()
    } finally {
      if (!this.cancelled) {
        await this.#commitOffsets().catch((error) =>
          this.logger.warn(`${taskIdString(this.id)}: final offset commit failed: ${errorMessage(error)}`),
        )
      }
      await this.#closeClients()
    }
  }

  /**
   * Closes the task's clients once (the loop's end and the cleanup after a failure both call it),
   * each even if an earlier one fails to close; the first failure is then thrown.
   */
  #closeClients(): Promise<void> {
    this.#clientsClosed ??= (async () => {
      const o = this.#o
      const closes = [
        () => o.transforms.close(),
        () => o.producer.close(),
        () => o.transactional?.producer.close(),
        () => o.errorHandler.close(),
        () => o.ownOffsetStore?.close(),
      ]
      const failures: unknown[] = []
      for (const close of closes)
        await Promise.resolve()
          .then(close)
          .catch((e: unknown) => failures.push(e))
      if (failures.length > 0) throw failures[0]
    })()
    return this.#clientsClosed
  }

  /** The call's outcome, or undefined once the runner is asked to stop. */
  async #untilStopped(call: Promise<void>): Promise<void> {
    await Promise.race([call, this.#stopped.promise])
  }

  /**
   * A retriable error from `poll()` (a database away, a lost connection) does not fail the task, as in
   * Kafka Connect: the task stays RUNNING with the error as its status trace (so `GET …/status` tells
   * what is wrong meanwhile), offsets already acknowledged are committed, and poll is retried after a
   * backoff. The trace clears on the next successful poll.
   */
  async #afterRetriablePoll(error: unknown): Promise<void> {
    const delay = this.#pollBackoff.next()
    this.logger.warn(
      `${taskIdString(this.id)}: poll failed (${errorMessage(error)}); retrying in ${delay} ms`,
    )
    this.#pollError = true
    this.setState('RUNNING', errorTrace(error))
    await this.#maybeCommit()
    await this.#sleep(delay)
  }

  /** Waits `ms`, or less if a stop wakes the runner (every sleeper wakes). */
  async #sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms)
      }),
      this.#stopped.promise,
    ])
    clearTimeout(timer)
  }

  /** Waits for the batch's send to end, or for cancellation. */
  async #settled(batch: Batch): Promise<void> {
    await Promise.race([batch.settled, this.#cancelledSignal.promise])
  }

  protected async onStopRequested(): Promise<void> {
    this.#o.errorHandler.stop()
    this.#stopped.resolve()
    await this.#o.task.stop()
  }

  /** Closes the producer now (nothing more may be written); the loop's own cleanup follows whenever it ends. */
  protected override onCancel(): void {
    this.#stopped.resolve()
    this.#cancelledSignal.resolve()
    this.#o.errorHandler.stop()
    // An open transaction stays open: the next holder of the transactional id aborts it.
    void this.#o.transactional?.producer.close().catch(() => {})
    // Its own offsets topic's reader tails that topic until closed, whether or not the loop ever ends.
    void this.#o.ownOffsetStore?.close().catch(() => {})
    void this.#o.producer
      .close()
      .catch((error) =>
        this.logger.warn(`${taskIdString(this.id)}: closing the producer failed: ${errorMessage(error)}`),
      )
  }

  /**
   * A fenced exactly-once task (the leader fenced its generation before writing the next one, or a
   * newer instance claimed its id) is normally stopped by its worker moments later, once the new task
   * configs or the rebalance reach it. It waits up to FENCED_STOP_GRACE_MS for that stop and then
   * ends quietly, instead of flashing FAILED in the status topic while the new generation runs; a
   * task still not stopped by then (a zombie nobody stops) fails with the fencing error.
   */
  protected override async endsQuietly(error: unknown): Promise<boolean> {
    if (!this.#o.transactional) return false
    // Failing while its worker stops (or has given up on) it: the task lost its assignment, and its
    // producer's failure is the fencing of its generation, whatever error code the broker chose.
    if (this.stopping || this.cancelled) {
      this.logger.info(
        `${taskIdString(this.id)}: stopped while its transaction failed (${errorMessage(error)})`,
      )
      return true
    }
    if (!isFenced(error)) return false
    await this.#sleep(FENCED_STOP_GRACE_MS)
    if (!this.stopping) return false
    this.logger.info(`${taskIdString(this.id)}: fenced by a newer generation of its connector; stopped`)
    return true
  }

  /** A task whose start failed (its offsets topic refused, say) leaves no client open behind it. */
  protected override async cleanupAfterFailure(): Promise<void> {
    await Promise.resolve(this.#o.task.stop()).catch(() => {})
    await this.#closeClients().catch((error: unknown) =>
      this.logger.warn(`${taskIdString(this.id)}: closing its clients failed: ${errorMessage(error)}`),
    )
  }

  async #send(records: SourceRecord[], no: number): Promise<void> {
    if (this.#o.transactional) return this.#sendInTransactions(records, no)
    const batch = await this.#convertBatch(records, no)
    // buffer.memory: the batch waits until the bytes already in flight leave room for it.
    await this.#awaitRoom(() => this.#inFlightBytes + batch.held > this.#bufferMemory)
    this.#inFlight.push(batch)
    this.#inFlightBytes += batch.held
    // After a failure the batch waits for the resend, which keeps it in order behind the failed one.
    if (!this.#mustResend && !this.stopping) this.#dispatch(batch)
    await this.#awaitRoom(() => this.#inFlight.length >= MAX_IN_FLIGHT_BATCHES)
    this.#collectAcked()
  }

  /** Waits for the oldest sends to be acknowledged while `full()` (and something is in flight). */
  async #awaitRoom(full: () => boolean): Promise<void> {
    this.#collectAcked()
    while (this.#inFlight.length > 0 && full() && !this.#failure && !this.#mustResend && !this.cancelled) {
      await this.#settled(this.#inFlight[0])
      this.#collectAcked()
    }
  }

  /** Transforms and converts the records of one poll (errors per the `errors.*` keys) into a batch. */
  async #convertBatch(records: SourceRecord[], no: number): Promise<Batch> {
    const convertStart = this.metrics.now()
    const keep = this.#callsCommitRecord
    const batch: Batch = {
      no,
      bytes: 0,
      held: 0,
      polled: records.length,
      originals: keep ? records : [],
      sentIndex: [],
      produce: [],
      offsets: new Map(),
      state: 'unsent',
      metadata: null,
      error: null,
      settled: Promise.resolve(),
    }
    // Records of one poll usually share one partition object: its key is computed once, and its last
    // offset recorded when the partition changes and at the end.
    let lastPartition: SourceRecord['sourcePartition'] = null
    let lastKey = ''
    let lastOffset: SourceRecord['sourceOffset'] = null
    // One stage holder for the batch: records are converted one after another.
    const stage: { current: Stage } = { current: 'TRANSFORMATION' }
    for (let i = 0; i < records.length; i++) {
      // While a transaction's producer calls run (exactly-once), the conversion lets I/O through
      // every CONVERT_SLICE records: their answers are handled at once, not after the whole poll.
      if (i % CONVERT_SLICE === CONVERT_SLICE - 1 && this.#transactionWork !== null)
        await new Promise((resolve) => setImmediate(resolve))
      const original = records[i]
      const partition = original.sourcePartition
      if (partition) {
        if (partition !== lastPartition) {
          if (lastPartition) batch.offsets.set(lastKey, { partition: lastPartition, offset: lastOffset })
          lastPartition = partition
          lastKey = JSON.stringify(partition)
        }
        lastOffset = original.sourceOffset
      }
      stage.current = 'TRANSFORMATION' as Stage
      let produced: ProduceRecord | null | typeof SKIP
      try {
        const result = this.#process(original, stage)
        produced = isPromise(result) ? await result : result
      } catch (error) {
        produced = await this.#o.errorHandler.handle(
          stage.current,
          () => this.#process(original, stage),
          error,
          {
            connector: this.id.connector,
            task: this.id.task,
            source: original,
            executing: stage.current === 'TRANSFORMATION' ? 'transforms' : stage.current.toLowerCase(),
          },
        )
      }
      if (produced === null || produced === SKIP) continue
      const creating = this.#o.topicCreator.ensure(produced.topic)
      if (creating) await creating
      if (keep) batch.sentIndex.push(i)
      batch.produce.push(produced)
      const bytes = (produced.key?.length ?? 0) + (produced.value?.length ?? 0)
      batch.bytes += bytes
      batch.held += bytes + RECORD_OVERHEAD
      if (produced.headers)
        for (const h of produced.headers) batch.held += h.key.length + (h.value?.length ?? 0)
    }
    if (lastPartition) batch.offsets.set(lastKey, { partition: lastPartition, offset: lastOffset })
    this.metrics.stage('convert', convertStart, batch.produce.length, { batch: no })
    return batch
  }

  /** Transforms and converts one record; `stage` tracks where a failure happened. */
  #process(original: SourceRecord, stage: { current: Stage }): MaybePromise<ProduceRecord | null> {
    stage.current = 'TRANSFORMATION'
    const record = this.#o.transforms.isEmpty ? original : this.#o.transforms.apply(original)
    if (record === null) return null
    return convert(record, this.#o.converters, stage)
  }

  /** Sends the batch; its outcome lands in `state` (a retriable failure also stops the pipeline). */
  #dispatch(batch: Batch): void {
    batch.metadata = null
    batch.error = null
    if (batch.produce.length === 0) {
      batch.state = 'acked'
      batch.metadata = []
      batch.settled = Promise.resolve()
      return
    }
    batch.state = 'in-flight'
    const start = this.metrics.now()
    batch.settled = this.#o.producer.send(batch.produce).then(
      (metadata) => {
        batch.state = 'acked'
        batch.metadata = metadata
        this.metrics.stage('produce', start, batch.produce.length, { batch: batch.no, bytes: batch.bytes })
        // Released at once, not after the task's next poll (which may wait long for data): its
        // records and buffer.memory room go as soon as it and every earlier batch are written.
        this.#collectAcked()
      },
      (error: unknown) => {
        batch.state = 'failed'
        batch.error = error
        this.metrics.stage('produce', start, batch.produce.length, { batch: batch.no, error })
        if (isRetriable(error)) this.#mustResend = true
        else
          this.#failure ??= new ConnectError(
            'CONNECT',
            `failed to write records to the log: ${errorMessage(error)}`,
            {
              cause: error,
            },
          )
      },
    )
  }

  /**
   * After a retriable failure: lets every send in flight end, then sends the oldest unacknowledged
   * batch and every later one again, one at a time and in order, each retried with backoff until
   * written. Returns early on stop (what is not written is not committed) or a non-retriable failure.
   */
  async #resendInOrder(): Promise<void> {
    await Promise.race([Promise.all(this.#inFlight.map((b) => b.settled)), this.#cancelledSignal.promise])
    this.#collectAcked()
    // Later batches may have been written before the failed one; they are written again after it.
    for (const batch of this.#inFlight) batch.state = 'unsent'
    const total = this.#inFlight.reduce((n, b) => n + b.produce.length, 0)
    this.logger.warn(
      `${taskIdString(this.id)}: writing to the log failed (${errorMessage(this.#firstError())}); ` +
        `sending ${total} records in ${this.#inFlight.length} batches again, in order`,
    )
    const backoff = new Backoff(100, 10_000)
    while (this.#inFlight.length > 0 && !this.stopping && !this.#failure) {
      const batch = this.#inFlight[0]
      this.#dispatch(batch)
      await this.#settled(batch)
      if (batch.state === 'acked') {
        this.#collectAcked()
        backoff.reset()
        continue
      }
      // Cancelled (still in flight), stopped, or a non-retriable failure that fails the task.
      if (batch.state !== 'failed' || this.stopping || this.#failure) break
      const delay = backoff.next()
      this.logger.warn(
        `${taskIdString(this.id)}: writing ${batch.produce.length} records failed (${errorMessage(batch.error)}); retrying in ${delay} ms`,
      )
      batch.state = 'unsent'
      await this.#maybeCommit()
      await this.#sleep(delay)
    }
    if (this.#inFlight.length === 0) {
      this.#mustResend = false
      this.logger.info(`${taskIdString(this.id)}: writing to the log succeeded again`)
    }
  }

  #firstError(): unknown {
    return this.#inFlight.find((b) => b.error !== null)?.error ?? null
  }

  /** Moves the offsets of the acknowledged prefix of in-flight batches to the offset writer. */
  #collectAcked(): void {
    if (this.cancelled) return
    while (this.#inFlight.length > 0 && this.#inFlight[0].state === 'acked') {
      const batch = this.#inFlight.shift()!
      this.#inFlightBytes -= batch.held
      for (const { partition, offset } of batch.offsets.values()) {
        if (partition) this.#o.offsetWriter.offset(partition, offset)
      }
      this.#written(batch)
    }
  }

  /** A batch is written for good (acknowledged, or its transaction committed): counts, `commitRecord`. */
  #written(batch: Batch): void {
    this.metrics.done(batch.polled)
    this.reportTopics(batch.produce)
    // A task that does not override commitRecord is not called per record (two promises each).
    if (!this.#callsCommitRecord) return
    batch.sentIndex.forEach((recordIndex, i) => {
      void Promise.resolve(this.#o.task.commitRecord(batch.originals[recordIndex], batch.metadata![i])).catch(
        (error) => this.logger.warn(`${taskIdString(this.id)}: commitRecord failed: ${errorMessage(error)}`),
      )
    })
  }

  /** On stop: waits for the sends in flight (never retrying), so their offsets can be committed. */
  async #drain(): Promise<void> {
    await this.#settleTransactions()
    while (this.#inFlight.length > 0 && !this.#failure && !this.cancelled) {
      const head = this.#inFlight[0]
      if (head.state === 'unsent' || head.state === 'failed') break
      await this.#settled(head)
      this.#collectAcked()
    }
    if (this.#inFlight.length > 0 && !this.#failure && !this.cancelled) {
      const records = this.#inFlight.reduce((n, b) => n + b.produce.length, 0)
      this.logger.warn(
        `${taskIdString(this.id)}: stopped with ${records} records not acknowledged by the log; their offsets are not committed`,
      )
    }
  }

  async #maybeCommit(): Promise<void> {
    const transactional = this.#o.transactional
    if (transactional) {
      if (
        transactional.boundary === 'interval' &&
        this.#transaction !== null &&
        Date.now() - this.#transaction.started >= transactional.intervalMs
      )
        await this.#inTransactionOrder(() => this.#endTransaction('commit'))
      else if (this.#transactionWork === null) await this.#settleTransactions()
      return
    }
    this.#collectAcked()
    if (Date.now() - this.#lastFlush >= this.#o.offsetFlushIntervalMs) await this.#commitOffsets()
  }

  async #commitOffsets(): Promise<void> {
    if (this.cancelled) return
    if (this.#o.transactional) {
      await this.#settleTransactions()
      // After a failed send or commit nothing of the transaction may commit any more.
      if (this.#failure) return
      await this.#endTransaction('commit')
      return this.#settleTransactions()
    }
    if (this.#committing) return this.#committing
    this.#committing = (async () => {
      this.#lastFlush = Date.now()
      this.#collectAcked()
      if (!this.#o.offsetWriter.hasPending) return
      const start = this.metrics.now()
      try {
        await this.#o.offsetWriter.flush(this.#o.offsetFlushTimeoutMs)
        this.metrics.stage('commit', start, 0)
      } catch (error) {
        this.metrics.stage('commit', start, 0, { error })
        this.logger.warn(`${taskIdString(this.id)}: offset commit failed, will retry: ${errorMessage(error)}`)
        return
      }
      if (!this.cancelled) await this.#o.task.commit()
    })().finally(() => {
      this.#committing = null
    })
    return this.#committing
  }

  // ── exactly-once ─────────────────────────────────────────────────────────────────────────────

  /** Claims the transactional id, retrying while the log is unreachable; other failures fail the task. */
  async #initTransactions(producer: TransactionalProducer): Promise<void> {
    await this.#retrying(`claiming transactional.id '${producer.transactionalId}'`, () =>
      producer.init(),
    ).catch((error: unknown) => {
      throw fencingError(error, producer)
    })
  }

  /** Runs `call`, again after a backoff while it fails retriably; any other failure (or a stop) ends it. */
  async #retrying(what: string, call: () => Promise<void>): Promise<void> {
    const backoff = new Backoff(100, 5_000)
    for (;;) {
      try {
        await call()
        return
      } catch (error) {
        if (!isRetriable(error) || this.stopping) throw error
        const delay = backoff.next()
        this.logger.warn(
          `${taskIdString(this.id)}: ${what} failed (${errorMessage(error)}); retrying in ${delay} ms`,
        )
        this.setState(this.state, errorTrace(error))
        await this.#sleep(delay)
      }
    }
  }

  /**
   * Converts one poll's records (split where the task asked for a boundary after a record), then
   * hands them to the transaction work, which sends them in the open transaction (beginning one if
   * needed) and ends it as `transaction.boundary` says, while the loop polls and converts the next.
   */
  async #sendInTransactions(records: SourceRecord[], no: number): Promise<void> {
    const parts: { batch: Batch; end: 'commit' | 'abort' | null }[] = []
    let from = 0
    for (let i = 0; i < records.length; i++) {
      const request = this.#recordRequests.get(records[i])
      if (request === undefined) continue
      this.#recordRequests.delete(records[i])
      parts.push({ batch: await this.#convertBatch(records.slice(from, i + 1), no), end: request })
      from = i + 1
    }
    if (from < records.length) {
      const batch = await this.#convertBatch(from === 0 ? records : records.slice(from), no)
      parts.push({ batch, end: null })
    }
    // Read now: during the next poll the task may ask again, for the records of that poll.
    const end = this.#transactionRequest ?? (this.#o.transactional!.boundary === 'poll' ? 'commit' : null)
    this.#transactionRequest = null
    await this.#inTransactionOrder(async () => {
      for (const [i, { batch, end: after }] of parts.entries()) {
        const ends = after ?? (i === parts.length - 1 ? end : null)
        if (!(await this.#appendToTransaction(batch, ends === 'commit'))) return
        if (after !== null) await this.#endTransaction(after)
      }
      if (end !== null) await this.#endTransaction(end)
    })
  }

  /**
   * Starts `work` (producer calls) once the work before it has ended, without waiting for it: the
   * next poll and its conversion overlap it. A producer has one transaction at a time, so one piece
   * of work runs at a time; its failure fails the task at the next turn of the loop.
   */
  async #inTransactionOrder(work: () => Promise<void>): Promise<void> {
    await this.#settleTransactions()
    this.#throwIfFailed()
    if (this.cancelled) return
    const running: Promise<void> = work()
      .catch((error: unknown) => {
        this.#failure ??= error
      })
      .finally(() => {
        if (this.#transactionWork === running) this.#transactionWork = null
      })
    this.#transactionWork = running
  }

  /**
   * Waits for the transaction work under way, then calls the task for what committed meanwhile:
   * `commitRecord()` for each record, `commit()` once per transaction (in the loop, so never while
   * `poll()` runs, as in Java's `ExactlyOnceWorkerSourceTask`).
   */
  async #settleTransactions(): Promise<void> {
    const work = this.#transactionWork
    if (work !== null) await Promise.race([work, this.#cancelledSignal.promise])
    while (this.#committedTransactions.length > 0 && !this.cancelled) {
      for (const batch of this.#committedTransactions.shift()!.batches) this.#written(batch)
      await this.#o.task.commit()
    }
  }

  /**
   * Sends a batch in the open transaction; false when the runner stopped before it could be written.
   * `commitsNext`: the transaction commits right after it, so the offset records ride in the same
   * request (one round trip less per transaction).
   */
  async #appendToTransaction(batch: Batch, commitsNext: boolean): Promise<boolean> {
    const { producer } = this.#o.transactional!
    let transaction = this.#transaction
    if (transaction === null) {
      // A task its worker is stopping (reassigned, a zombie, a shutdown) begins no transaction: a
      // newer instance may hold the transactional id already, and a transaction a stop cut short in
      // #replay is still open in the producer (begin() would refuse it, "a transaction is already
      // open"). Records polled after the stop are not sent; their offsets are not committed either,
      // so whoever runs the task next polls them again.
      if (this.stopping || this.cancelled) {
        this.logger.debug(
          `${taskIdString(this.id)}: stopping: ${batch.produce.length} records polled after the stop are not sent`,
        )
        return false
      }
      transaction = { batches: [], offsets: new Map(), started: Date.now(), offsetsSent: false }
      try {
        await producer.begin()
      } catch (error) {
        if (!(await this.#replay(transaction, error))) return false
      }
      this.#transaction = transaction
    }
    transaction.batches.push(batch)
    for (const { partition, offset } of batch.offsets.values()) {
      if (partition)
        transaction.offsets.set(
          offsetKey(this.id.connector, partition),
          offset === null ? null : JSON.stringify(offset),
        )
    }
    if (commitsNext) {
      batch.trailer = this.#o.transactional!.offsetRecords(transaction.offsets)
      transaction.offsetsSent = true
    }
    try {
      await this.#sendBatch(batch)
    } catch (error) {
      if (!(await this.#replay(transaction, error))) {
        this.#transaction = null
        return false
      }
    }
    return true
  }

  async #sendBatch(batch: Batch): Promise<void> {
    const trailer = batch.trailer ?? []
    if (batch.produce.length + trailer.length === 0) {
      batch.metadata = []
      batch.state = 'acked'
      return
    }
    const start = this.metrics.now()
    try {
      const sent = trailer.length === 0 ? batch.produce : [...batch.produce, ...trailer]
      batch.metadata = (await this.#o.transactional!.producer.send(sent)).slice(0, batch.produce.length)
      batch.state = 'acked'
      this.metrics.stage('produce', start, batch.produce.length, { batch: batch.no, bytes: batch.bytes })
    } catch (error) {
      this.metrics.stage('produce', start, batch.produce.length, { batch: batch.no, error })
      throw error
    }
  }

  /**
   * After a failed send: a non-retriable failure (fenced: another instance holds the transactional
   * id) fails the task; a retriable one aborts the transaction and, after a backoff, sends its batches
   * again in a new one. False when the runner stopped meanwhile (the transaction is then abandoned:
   * nothing of it is visible, its offsets are not committed).
   */
  async #replay(transaction: OpenTransaction, error: unknown): Promise<boolean> {
    const { producer } = this.#o.transactional!
    const backoff = new Backoff(100, 10_000)
    for (let failure = error; ; ) {
      if (!isRetriable(failure)) {
        // Never committed, not even by the final commit of the failing task: a send of it failed.
        if (this.#transaction === transaction) this.#transaction = null
        await producer.abort().catch(() => {})
        throw fencingError(failure, producer)
      }
      const delay = backoff.next()
      this.logger.warn(
        `${taskIdString(this.id)}: writing a transaction failed (${errorMessage(failure)}); aborting it and sending its ${transaction.batches.length} batches again in ${delay} ms`,
      )
      this.setState('RUNNING', errorTrace(failure))
      await this.#sleep(delay)
      if (this.stopping || this.cancelled) return false
      try {
        // Until an abort succeeds the transaction may be open at the coordinator, and a new one
        // would join it: its first attempt's records would be committed with the resent ones. A
        // retriable failure here comes round again; a fenced producer fails the task above.
        await producer.abort()
        // Stopped during the abort: begin nothing new (see #appendToTransaction).
        if (this.stopping || this.cancelled) return false
        await producer.begin()
        for (const batch of transaction.batches) await this.#sendBatch(batch)
        this.setState('RUNNING')
        return true
      } catch (next) {
        failure = next
      }
    }
  }

  /**
   * Commits the open transaction with the offsets of its records, or aborts it. A commit that fails
   * retriably is retried as a commit (an abort after an ambiguous commit could write twice); a
   * non-retriable failure fails the task. `commitRecord` and `commit()` follow between polls.
   */
  async #endTransaction(kind: 'commit' | 'abort'): Promise<void> {
    const transaction = this.#transaction
    if (transaction === null || this.cancelled) return
    const transactional = this.#o.transactional!
    const { producer } = transactional
    if (kind === 'abort') {
      this.#transaction = null
      await producer.abort().catch((error) => {
        throw fencingError(error, producer)
      })
      this.logger.info(`${taskIdString(this.id)}: the task aborted a transaction`)
      return
    }
    const offsets = transaction.offsetsSent ? [] : transactional.offsetRecords(transaction.offsets)
    if (offsets.length > 0) {
      try {
        await producer.send(offsets)
      } catch (error) {
        if (!(await this.#replay(transaction, error))) {
          this.#transaction = null
          return
        }
        return this.#endTransaction('commit')
      }
    }
    const backoff = new Backoff(100, 10_000)
    for (;;) {
      const start = this.metrics.now()
      let deleting = true
      try {
        await transactional.beforeCommit?.(transaction.offsets)
        deleting = false
        await producer.commit()
        this.metrics.stage('commit', start, 0)
        break
      } catch (error) {
        this.metrics.stage('commit', start, 0, { error })
        const failure = deleting ? workerOffsetsError(error) : fencingError(error, producer)
        if (!isRetriable(error) || this.cancelled) throw failure
        const delay = backoff.next()
        const what = deleting
          ? errorMessage(failure)
          : `committing a transaction failed (${errorMessage(error)})`
        this.logger.warn(`${taskIdString(this.id)}: ${what}; retrying in ${delay} ms`)
        await this.#sleep(delay)
      }
    }
    this.#transaction = null
    transactional.committed(transaction.offsets)
    this.#committedTransactions.push(transaction)
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure
  }
}

/** How long a fenced exactly-once task waits for its worker to stop it before it reports FAILED. */
const FENCED_STOP_GRACE_MS = 10_000

/**
 * Whether the failure (or one of its causes) is the broker's refusal of a fenced transactional
 * producer. INVALID_TXN_STATE counts: under transactions v2 a fence (or a timeout) aborts the open
 * transaction and bumps the epoch by one, and the coordinator takes the old instance's EndTxn for a
 * retry of that abort: a commit then gets INVALID_TXN_STATE, not PRODUCER_FENCED.
 */
function isFenced(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/\b(PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|INVALID_TXN_STATE)\b/.test(e.message)) return true
  }
  return false
}

/**
 * The deletions of a transaction (a connector with its own offsets topic) could not be written to the
 * worker's offsets topic before the commit: retriable as the cause is.
 */
function workerOffsetsError(error: unknown): ConnectError {
  return new ConnectError(
    'CONNECT',
    `writing deleted source offsets to the worker's offsets topic (offset.storage.topic) before the transaction commits failed: ${errorMessage(error)}`,
    { cause: error, retriable: isRetriable(error) },
  )
}

/** A transactional failure as the task's error, saying what an aborted transaction means. */
function fencingError(error: unknown, producer: TransactionalProducer): ConnectError {
  const aborted = isFenced(error)
    ? ' (the coordinator aborted this transaction: a newer instance of the transactional id fenced this task, or the transaction outlived transaction.timeout.ms; nothing of it is visible to read_committed consumers, and a restart of the task resends it)'
    : ''
  return new ConnectError(
    'CONNECT',
    `exactly-once source: transactional.id '${producer.transactionalId}': ${errorMessage(error)}${aborted}`,
    { cause: error },
  )
}

/**
 * Converts one record with the connector's converters, in Kafka Connect's order
 * (`WorkerSourceTask.convertTransformedRecord`): the headers first, then the key and the value,
 * which get the converted headers as bytes and may add to them (schema ids in headers).
 * Synchronous unless a converter returns a promise (it must ask a schema registry); `stage` names
 * the converter at work when one fails. Exported for its tests.
 */
export function convert(
  record: SourceRecord,
  converters: ConnectorConverters,
  stage: { current: Stage },
): MaybePromise<ProduceRecord> {
  const { topic, headers } = record
  stage.current = 'HEADER_CONVERTER'
  if (headers.size === 0) return convertKey(record, converters, stage, new RecordHeaders())
  // One pass, straight into the record's headers; a converter's promise (rare) switches to waiting.
  const out = new RecordHeaders()
  let pending: MaybePromise<Uint8Array | null>[] | null = null
  for (const h of headers) {
    const value = converters.header.fromConnectHeader(topic, h.key, h.schema, h.value)
    if (pending === null && !isPromise(value)) out.add(h.key, value)
    else {
      pending ??= [...out].map((converted) => converted.value)
      pending.push(value)
    }
  }
  if (pending === null) return convertKey(record, converters, stage, out)
  const keys = [...headers].map((h) => h.key)
  return Promise.all(pending.map((c) => Promise.resolve(c))).then((values) =>
    convertKey(
      record,
      converters,
      stage,
      new RecordHeaders(values.map((value, i) => ({ key: keys[i], value }))),
    ),
  )
}

function convertKey(
  record: SourceRecord,
  converters: ConnectorConverters,
  stage: { current: Stage },
  headers: RecordHeaders,
): MaybePromise<ProduceRecord> {
  stage.current = 'KEY_CONVERTER'
  const key = converters.key.fromConnectData(record.topic, record.keySchema, record.key, headers)
  if (isPromise(key)) return key.then((k) => convertValue(record, converters, stage, headers, k))
  return convertValue(record, converters, stage, headers, key)
}

function convertValue(
  record: SourceRecord,
  converters: ConnectorConverters,
  stage: { current: Stage },
  headers: RecordHeaders,
  key: Uint8Array | null,
): MaybePromise<ProduceRecord> {
  stage.current = 'VALUE_CONVERTER'
  const value = converters.value.fromConnectData(record.topic, record.valueSchema, record.value, headers)
  if (isPromise(value)) return value.then((v) => produceRecord(record, headers, key, v))
  return produceRecord(record, headers, key, value)
}

function produceRecord(
  record: SourceRecord,
  headers: RecordHeaders,
  key: Uint8Array | null,
  value: Uint8Array | null,
): ProduceRecord {
  const out: ProduceRecord = { topic: record.topic, key, value }
  if (record.kafkaPartition !== null) out.partition = record.kafkaPartition
  if (record.timestamp !== null) out.timestamp = record.timestamp
  if (headers.size > 0) out.headers = headers.toArray()
  return out
}
