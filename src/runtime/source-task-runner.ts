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
 */
import { type MaybePromise, type Props, SourceTask, type SourceTaskContext } from '../api/connector.ts'
import { isPromise } from '../api/converter.ts'
import { ConnectError, errorMessage, errorTrace, isRetriable } from '../api/errors.ts'
import type { SourceRecord } from '../api/records.ts'
import type { TargetState } from '../common/states.ts'
import { taskIdString } from '../common/states.ts'
import { openTopicReader } from '../log/create-log.ts'
import type { LogProducer, ProduceRecord, RecordMetadata } from '../log/log.ts'
import { Backoff } from './backoff.ts'
import type { ConnectorConverters } from './converters.ts'
import { type ErrorHandler, SKIP, type Stage } from './errors/error-handler.ts'
import type { ConnectorOffsetReader, ConnectorOffsetWriter } from './offset-storage.ts'
import { TaskRunner, type TaskRunnerContext } from './task-runner.ts'
import type { TopicCreator } from './topic-creator.ts'
import type { TransformationChain } from './transformation-chain.ts'

/** Batches allowed in flight before `poll()` waits for the oldest acknowledgement. */
const MAX_IN_FLIGHT_BATCHES = 8

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
}

interface Batch {
  /** Its number in the task's metrics (for tracing). */
  no: number
  /** Key and value bytes of `produce` (the producer's byte metrics). */
  bytes: number
  /** Records as the task produced them (for `commitRecord`), aligned with `produced`. */
  originals: SourceRecord[]
  /** Index into `originals` of each record sent (transforms may drop some). */
  sentIndex: number[]
  produce: ProduceRecord[]
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
  readonly #inFlight: Batch[] = []
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

  constructor(ctx: TaskRunnerContext, initialTarget: TargetState, options: SourceTaskRunnerOptions) {
    super(ctx, initialTarget, 'source')
    this.#o = options
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
      this.#o.transforms.close()
      await this.#o.producer.close()
      await this.#o.errorHandler.close()
    }
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
    void this.#o.producer
      .close()
      .catch((error) =>
        this.logger.warn(`${taskIdString(this.id)}: closing the producer failed: ${errorMessage(error)}`),
      )
  }

  protected override async cleanupAfterFailure(): Promise<void> {
    await Promise.resolve(this.#o.task.stop()).catch(() => {})
  }

  async #send(records: SourceRecord[], no: number): Promise<void> {
    const convertStart = this.metrics.now()
    const batch: Batch = {
      no,
      bytes: 0,
      originals: records,
      sentIndex: [],
      produce: [],
      offsets: new Map(),
      state: 'unsent',
      metadata: null,
      error: null,
      settled: Promise.resolve(),
    }
    // Records of one poll usually share one partition object: its key is computed once.
    let lastPartition: SourceRecord['sourcePartition'] = null
    let lastKey = ''
    for (let i = 0; i < records.length; i++) {
      const original = records[i]
      const partition = original.sourcePartition
      if (partition) {
        if (partition !== lastPartition) {
          lastPartition = partition
          lastKey = JSON.stringify(partition)
        }
        batch.offsets.set(lastKey, { partition, offset: original.sourceOffset })
      }
      const stage: { current: Stage } = { current: 'TRANSFORMATION' }
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
      batch.sentIndex.push(i)
      batch.produce.push(produced)
      batch.bytes += (produced.key?.length ?? 0) + (produced.value?.length ?? 0)
    }
    this.metrics.stage('convert', convertStart, batch.produce.length, { batch: no })
    this.#inFlight.push(batch)
    // After a failure the batch waits for the resend, which keeps it in order behind the failed one.
    if (!this.#mustResend && !this.stopping) this.#dispatch(batch)
    while (
      this.#inFlight.length >= MAX_IN_FLIGHT_BATCHES &&
      !this.#failure &&
      !this.#mustResend &&
      !this.cancelled
    ) {
      await this.#settled(this.#inFlight[0])
      this.#collectAcked()
    }
    this.#collectAcked()
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
      this.metrics.done(batch.originals.length)
      this.reportTopics(batch.produce)
      for (const { partition, offset } of batch.offsets.values()) {
        if (partition) this.#o.offsetWriter.offset(partition, offset)
      }
      // A task that does not override commitRecord is not called per record (two promises each).
      if (this.#o.task.commitRecord === SourceTask.prototype.commitRecord) continue
      batch.sentIndex.forEach((recordIndex, i) => {
        void Promise.resolve(
          this.#o.task.commitRecord(batch.originals[recordIndex], batch.metadata![i]),
        ).catch((error) =>
          this.logger.warn(`${taskIdString(this.id)}: commitRecord failed: ${errorMessage(error)}`),
        )
      })
    }
  }

  /** On stop: waits for the sends in flight (never retrying), so their offsets can be committed. */
  async #drain(): Promise<void> {
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
    this.#collectAcked()
    if (Date.now() - this.#lastFlush >= this.#o.offsetFlushIntervalMs) await this.#commitOffsets()
  }

  async #commitOffsets(): Promise<void> {
    if (this.cancelled) return
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

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure
  }
}

/**
 * Converts one record with the connector's converters. Synchronous unless a converter returns a
 * promise (it must ask a schema registry); `stage` names the converter at work when one fails.
 */
function convert(
  record: SourceRecord,
  converters: ConnectorConverters,
  stage: { current: Stage },
): MaybePromise<ProduceRecord> {
  const { topic, headers } = record
  stage.current = 'KEY_CONVERTER'
  const key = converters.key.fromConnectData(topic, record.keySchema, record.key, headers)
  if (isPromise(key)) return key.then((k) => convertValue(record, converters, stage, k))
  return convertValue(record, converters, stage, key)
}

function convertValue(
  record: SourceRecord,
  converters: ConnectorConverters,
  stage: { current: Stage },
  key: Uint8Array | null,
): MaybePromise<ProduceRecord> {
  const { topic, headers } = record
  stage.current = 'VALUE_CONVERTER'
  const value = converters.value.fromConnectData(topic, record.valueSchema, record.value, headers)
  if (isPromise(value)) return value.then((v) => convertHeaders(record, converters, stage, key, v))
  return convertHeaders(record, converters, stage, key, value)
}

function convertHeaders(
  record: SourceRecord,
  converters: ConnectorConverters,
  stage: { current: Stage },
  key: Uint8Array | null,
  value: Uint8Array | null,
): MaybePromise<ProduceRecord> {
  const { topic, headers } = record
  stage.current = 'HEADER_CONVERTER'
  const out: ProduceRecord = { topic, key, value }
  if (record.kafkaPartition !== null) out.partition = record.kafkaPartition
  if (record.timestamp !== null) out.timestamp = record.timestamp
  if (headers.size === 0) return out
  const converted = [...headers].map((h) =>
    converters.header.fromConnectHeader(topic, h.key, h.schema, h.value),
  )
  const keys = [...headers].map((h) => h.key)
  if (!converted.some(isPromise)) {
    out.headers = converted.map((v, i) => ({ key: keys[i], value: v as Uint8Array | null }))
    return out
  }
  return Promise.all(converted.map((c) => Promise.resolve(c))).then((values) => {
    out.headers = values.map((v, i) => ({ key: keys[i], value: v }))
    return out
  })
}
