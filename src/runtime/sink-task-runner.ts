/**
 * Runs a sink task: fetch → convert → transform → `put`, then `preCommit`/`flush` and only then
 * commit the consumer group's offsets (Kafka Connect's `WorkerSinkTask`). The group is
 * `connect-<connector>`, so sink offsets are ordinary consumer-group offsets, as in Kafka Connect.
 *
 * - A `RetriableError` from `put` pauses every partition and redelivers the same batch after the
 *   task's `context.timeout(ms)` (default 1 s), until it succeeds or the task stops; meanwhile the
 *   task's RUNNING status carries the error's trace, so the status says why nothing moves. Meanwhile the
 *   consumer is still polled (with everything paused), so the task takes part in rebalances; records
 *   of partitions taken away leave the batch (WorkerSinkTask does the same).
 * - Offsets are committed every `offset.flush.interval.ms`, on `context.requestCommit()`, before
 *   partitions are revoked, and on stop — always after `preCommit` said what is durable. A commit
 *   that fails is logged and tried again at the next one (a broker away, a rebalance); only an error
 *   that retrying cannot fix (e.g. authorization) fails the task.
 * - Partitions *lost* with the group membership (session expired, member fenced) are closed without
 *   a commit: another member may own them already. Their records since the last commit come again to
 *   whoever owns them next (decision 0015).
 * - A retriable error from `poll()` (broker away while fetching) is logged and polled again.
 * - If `preCommit` throws, the consumer rewinds to the last committed offsets so nothing is skipped.
 */
import type {
  ErrantRecordReporter,
  MaybePromise,
  Props,
  SinkOffsets,
  SinkTask,
  SinkTaskContext,
  SinkTopicPartition,
} from '../api/connector.ts'
import { isPromise } from '../api/converter.ts'
import type { SchemaAndValue } from '../api/data/schema-and-value.ts'
import { ConnectError, errorMessage, errorTrace, isRetriable } from '../api/errors.ts'
import { Headers } from '../api/headers.ts'
import { RecordHeaders } from '../api/record-headers.ts'
import { SinkRecord } from '../api/records.ts'
import { type TopicPartition, tpKey } from '../api/topic-partition.ts'
import type { TargetState } from '../common/states.ts'
import { taskIdString } from '../common/states.ts'
import type { LogConsumer, LogRecord } from '../log/log.ts'
import type { ConnectorConverters } from './converters.ts'
import { type ErrorHandler, SKIP, type Stage } from './errors/error-handler.ts'
import { TaskRunner, type TaskRunnerContext } from './task-runner.ts'
import type { TransformationChain } from './transformation-chain.ts'

const DEFAULT_RETRY_TIMEOUT_MS = 1000
const MAX_POLL_BACKOFF_MS = 5000
/** The converted headers of a record without headers. */
const NO_HEADERS: readonly SchemaAndValue[] = []

/** A batch whose `put` failed with a retriable error, to deliver again at `at` (epoch ms). */
interface Redelivery {
  records: SinkRecord[]
  fetched: LogRecord[]
  at: number
}

export interface SinkTaskRunnerOptions {
  task: SinkTask
  taskConfig: Props
  converters: ConnectorConverters
  transforms: TransformationChain<SinkRecord>
  consumer: LogConsumer
  /** `topics` list, or the `topics.regex` pattern. */
  topics: string[] | RegExp
  offsetFlushIntervalMs: number
  offsetFlushTimeoutMs: number
  errorHandler: ErrorHandler
}

export class SinkTaskRunner extends TaskRunner {
  readonly #o: SinkTaskRunnerOptions
  /** Next offset to deliver per assigned partition (what a commit would store). */
  readonly #current = new Map<string, { topic: string; partition: number; offset: number }>()
  readonly #lastCommitted = new Map<string, number>()
  readonly #assigned = new Map<string, TopicPartition>()
  /** Partitions the task itself paused through its context. */
  readonly #taskPaused = new Set<string>()
  #nextCommit = 0
  #commitRequested = false
  #retryTimeoutMs = DEFAULT_RETRY_TIMEOUT_MS
  #redelivery: Redelivery | null = null
  #pausedForRetry = false
  /** The RUNNING status carries the trace of a put that failed and waits for redelivery. */
  #retryReported = false
  /** Consecutive retriable poll failures, for the backoff. */
  #pollFailures = 0
  /** An error of the task's open/close inside a rebalance callback, thrown once poll() returns. */
  #rebalanceError: unknown
  #wakeSleep: (() => void) | undefined
  /** The fetched records of the batch being delivered, and by partition and offset once a record is reported. */
  #batchFetched: LogRecord[] = []
  #batchOriginals: Map<string, LogRecord> | undefined
  /**
   * The consumed record of each record handed to `put()`, while the task holds that record (only
   * with a reporter). A task may report a record long after its batch (the JDBC sink reports the rows
   * of a queued put when the write that took them fails), and the report must carry the bytes as
   * consumed, as Kafka Connect's `InternalSinkRecord.originalRecord()` does. Weak, so the runner holds
   * nothing past the batch: the task's own references keep the original alive, and no longer. The
   * original's key and value are views of its fetch response (at most 256 KiB of a partition), so a
   * task that holds records across puts keeps those responses too, with a reporter only.
   */
  readonly #originals: WeakMap<SinkRecord, LogRecord> | undefined
  readonly #pendingReports = new Set<Promise<void>>()

  constructor(ctx: TaskRunnerContext, initialTarget: TargetState, options: SinkTaskRunnerOptions) {
    super(ctx, initialTarget, 'sink')
    this.#o = options
    this.#originals = options.errorHandler.hasReporters ? new WeakMap() : undefined
  }

  protected async execute(): Promise<void> {
    const { task, consumer } = this.#o
    task.initialize(this.#context())
    await task.start(this.#o.taskConfig)
    this.setState(this.targetState === 'STARTED' ? 'RUNNING' : 'PAUSED')
    this.logger.info(`${taskIdString(this.id)} sink task started`)
    // The callbacks never throw into the consumer (it finishes its rebalance); a failure of the
    // task's open/close fails the task once poll() returns, as WorkerSinkTask's rebalanceException.
    const guard =
      (fn: (tps: TopicPartition[]) => Promise<void>) =>
      async (tps: TopicPartition[]): Promise<void> => {
        try {
          await fn(tps)
        } catch (error) {
          this.#rebalanceError ??= error
        }
      }
    await consumer.subscribe(this.#o.topics, {
      onPartitionsAssigned: guard((tps) => this.#onAssigned(tps)),
      onPartitionsRevoked: guard((tps) => this.#onRemoved(tps, false)),
      onPartitionsLost: guard((tps) => this.#onRemoved(tps, true)),
    })
    this.#nextCommit = Date.now() + this.#o.offsetFlushIntervalMs
    let pausedState = this.targetState !== 'STARTED'
    while (!this.stopping) {
      const paused = this.targetState !== 'STARTED'
      if (paused !== pausedState) {
        pausedState = paused
        this.#applyPause()
        if (paused) {
          await this.#commit()
          this.setState('PAUSED')
        } else {
          this.setState('RUNNING')
        }
      }
      await this.#iteration(paused)
    }
    await this.#close()
  }

  protected async onStopRequested(): Promise<void> {
    this.#o.errorHandler.stop()
    this.#o.consumer.wakeup()
    this.#wakeSleep?.()
  }

  protected override onTargetStateChange(): void {
    this.#o.consumer.wakeup()
  }

  protected override async cleanupAfterFailure(): Promise<void> {
    await this.#close().catch((error) =>
      this.logger.warn(`${taskIdString(this.id)}: cleanup after failure: ${errorMessage(error)}`),
    )
  }

  async #iteration(paused: boolean): Promise<void> {
    if (this.#commitRequested || Date.now() >= this.#nextCommit) {
      this.#commitRequested = false
      await this.#commit()
      this.#nextCommit = Date.now() + this.#o.offsetFlushIntervalMs
    }
    let waitMs = Math.max(0, Math.min(this.#nextCommit - Date.now(), 1000))
    if (this.#redelivery) waitMs = Math.max(0, Math.min(waitMs, this.#redelivery.at - Date.now()))
    // Polled even while a batch waits for redelivery (everything is paused then): the consumer
    // heartbeats, rebalances and calls the listener only inside poll().
    const pollStart = this.metrics.now()
    const fetched = await this.#poll(waitMs)
    let bytes = 0
    for (const r of fetched) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
    const batch = this.metrics.stage('poll', pollStart, fetched.length, { bytes })
    if (this.stopping || paused || this.#redelivery) {
      // Records fetched while pausing, stopping or redelivering are not delivered; rewind so they come again.
      this.#rewind(fetched)
      const retry = this.#redelivery
      if (retry && !this.stopping && !paused && Date.now() >= retry.at) {
        await this.#deliver(retry.records, retry.fetched, batch)
      }
      return
    }
    const convertStart = this.metrics.now()
    const records = await this.#convert(fetched)
    this.metrics.stage('convert', convertStart, records.length, { batch })
    await this.#deliver(records, fetched, batch)
  }

  /**
   * One poll. A retriable error (the broker away while fetching or joining) is logged and answered
   * with no records after a backoff, so the loop polls again; Kafka's own consumer retries these
   * inside poll() as well.
   */
  async #poll(waitMs: number): Promise<LogRecord[]> {
    let fetched: LogRecord[] = []
    try {
      fetched = await this.#o.consumer.poll(waitMs)
      this.#pollFailures = 0
    } catch (error) {
      if (this.#rebalanceError === undefined && !isRetriable(error)) throw error
      if (this.#rebalanceError === undefined) {
        const backoff = Math.min(100 * 2 ** this.#pollFailures++, MAX_POLL_BACKOFF_MS)
        this.logger.warn(
          `${taskIdString(this.id)}: polling the consumer failed (${errorMessage(error)}); polling again in ${backoff} ms`,
        )
        await this.#sleep(backoff)
      }
    }
    if (this.#rebalanceError !== undefined) {
      const error = this.#rebalanceError
      this.#rebalanceError = undefined
      throw new ConnectError('CONNECT', `the sink task failed in a rebalance: ${errorMessage(error)}`, {
        cause: error,
      })
    }
    return fetched
  }

  /** Waits `ms`, or less if the task is asked to stop. */
  async #sleep(ms: number): Promise<void> {
    if (this.stopping) return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      this.#wakeSleep = resolve
      timer = setTimeout(resolve, ms)
    })
    clearTimeout(timer)
    this.#wakeSleep = undefined
  }

  /**
   * Converts and transforms fetched records. A record that fails goes through the error handler:
   * retried, then skipped and reported (tolerance `all`) or failing the task (`none`).
   */
  async #convert(fetched: LogRecord[]): Promise<SinkRecord[]> {
    const out: SinkRecord[] = []
    this.#batchFetched = fetched
    this.#batchOriginals = undefined
    this.reportTopics(fetched)
    // One stage holder for the batch: records are converted one after another.
    const stage: { current: Stage } = { current: 'KEY_CONVERTER' }
    for (const r of fetched) {
      stage.current = 'KEY_CONVERTER' as Stage
      let converted: SinkRecord | null | typeof SKIP
      try {
        const result = this.#convertOne(r, stage)
        converted = isPromise(result) ? await result : result
      } catch (error) {
        converted = await this.#o.errorHandler.handle(
          stage.current,
          () => this.#convertOne(r, stage),
          error,
          {
            connector: this.id.connector,
            task: this.id.task,
            consumed: r,
            executing: stage.current === 'TRANSFORMATION' ? 'transforms' : `${stage.current.toLowerCase()}`,
          },
        )
      }
      if (converted !== null && converted !== SKIP) {
        out.push(converted)
        this.#originals?.set(converted, r)
      }
    }
    return out
  }

  /**
   * Converts (key, value, headers, in that order) and transforms one record. Synchronous unless a
   * converter returns a promise (it must ask a schema registry); `stage` names the step at work.
   */
  #convertOne(r: LogRecord, stage: { current: Stage }): MaybePromise<SinkRecord | null> {
    const { converters } = this.#o
    // The key and value converters see the record's headers as bytes, as in Kafka Connect.
    const headers = new RecordHeaders(r.headers)
    stage.current = 'KEY_CONVERTER'
    const key = converters.key.toConnectData(r.topic, r.key, headers)
    if (isPromise(key)) return key.then((k) => this.#convertValue(r, stage, headers, k))
    return this.#convertValue(r, stage, headers, key)
  }

  #convertValue(
    r: LogRecord,
    stage: { current: Stage },
    headers: RecordHeaders,
    key: SchemaAndValue,
  ): MaybePromise<SinkRecord | null> {
    stage.current = 'VALUE_CONVERTER'
    const value = this.#o.converters.value.toConnectData(r.topic, r.value, headers)
    if (isPromise(value)) return value.then((v) => this.#convertHeaders(r, stage, key, v))
    return this.#convertHeaders(r, stage, key, value)
  }

  #convertHeaders(
    r: LogRecord,
    stage: { current: Stage },
    key: SchemaAndValue,
    value: SchemaAndValue,
  ): MaybePromise<SinkRecord | null> {
    stage.current = 'HEADER_CONVERTER'
    if (r.headers.length === 0) return this.#assemble(r, stage, key, value, NO_HEADERS)
    const converted = r.headers.map((h) => this.#o.converters.header.toConnectHeader(r.topic, h.key, h.value))
    if (converted.some(isPromise)) {
      return Promise.all(converted.map((c) => Promise.resolve(c))).then((values) =>
        this.#assemble(r, stage, key, value, values),
      )
    }
    return this.#assemble(r, stage, key, value, converted as SchemaAndValue[])
  }

  #assemble(
    r: LogRecord,
    stage: { current: Stage },
    key: SchemaAndValue,
    value: SchemaAndValue,
    headerValues: readonly SchemaAndValue[],
  ): SinkRecord | null {
    const headers = new Headers()
    for (let i = 0; i < r.headers.length; i++) {
      headers.add(r.headers[i].key, headerValues[i].value, headerValues[i].schema)
    }
    const record = new SinkRecord({
      topic: r.topic,
      kafkaPartition: r.partition,
      keySchema: key.schema,
      key: key.value,
      valueSchema: value.schema,
      value: value.value,
      timestamp: r.timestamp,
      timestampType: r.timestampType,
      kafkaOffset: r.offset,
      headers,
    })
    stage.current = 'TRANSFORMATION'
    const { transforms } = this.#o
    return transforms.isEmpty ? record : transforms.apply(record)
  }

  /**
   * The errant record reporter (KIP-610): present when the connector logs errors or has a
   * dead-letter topic. Reports are awaited before the next offset commit.
   */
  #errantReporter(): ErrantRecordReporter | null {
    if (!this.#o.errorHandler.hasReporters) return null
    return {
      report: (record: SinkRecord, error: Error) => {
        // The record handed to put(), else a copy the task made of one of this batch, else (a copy
        // made of an earlier batch's record) serialized again.
        let original = this.#originals?.get(record)
        if (original === undefined) {
          this.#batchOriginals ??= new Map(this.#batchFetched.map((r) => [`${tpKey(r)}\u0000${r.offset}`, r]))
          original = this.#batchOriginals.get(
            `${tpKey({ topic: record.originalTopic, partition: record.originalKafkaPartition })}\u0000${record.originalKafkaOffset}`,
          )
        }
        const report = (async () =>
          this.#o.errorHandler.reportErrant({
            connector: this.id.connector,
            task: this.id.task,
            consumed: original ?? (await this.#reserialize(record)),
            executing: this.#o.task.constructor.name,
            stage: 'TASK_PUT',
            error,
          }))()
        this.#pendingReports.add(report)
        void report.finally(() => this.#pendingReports.delete(report)).catch(() => {})
        return report
      },
    }
  }

  /** A copy the task made of a record of an earlier batch: serialized again with the connector's converters. */
  async #reserialize(record: SinkRecord): Promise<LogRecord> {
    const { converters } = this.#o
    const headers = [...record.headers]
    return {
      topic: record.originalTopic,
      partition: record.originalKafkaPartition,
      offset: record.originalKafkaOffset,
      timestamp: record.timestamp ?? Date.now(),
      timestampType: 'CreateTime',
      key: await converters.key.fromConnectData(record.topic, record.keySchema, record.key),
      value: await converters.value.fromConnectData(record.topic, record.valueSchema, record.value),
      headers: await Promise.all(
        headers.map(async (h) => ({
          key: h.key,
          value: await converters.header.fromConnectHeader(record.topic, h.key, h.schema, h.value),
        })),
      ),
    }
  }

  async #deliver(records: SinkRecord[], fetched: LogRecord[], batch: number): Promise<void> {
    const start = this.metrics.now()
    try {
      await this.#o.task.put(records)
      this.metrics.stage('put', start, records.length, { batch })
    } catch (error) {
      this.metrics.stage('put', start, records.length, { batch, error })
      if (!isRetriable(error)) {
        throw new ConnectError('CONNECT', `the sink task failed in put(): ${errorMessage(error)}`, {
          cause: error,
        })
      }
      this.logger.warn(
        `${taskIdString(this.id)}: put of ${records.length} records failed (${errorMessage(error)}); redelivering in ${this.#retryTimeoutMs} ms`,
      )
      // The task keeps running, but its status says why nothing moves (a store away, refused credentials).
      if (this.state === 'RUNNING') {
        this.#retryReported = true
        this.setState('RUNNING', errorTrace(error))
      }
      this.#redelivery = { records, fetched, at: Date.now() + this.#retryTimeoutMs }
      if (!this.#pausedForRetry) {
        this.#pausedForRetry = true
        this.#applyPause()
      }
      return
    }
    if (this.#redelivery) this.#endRedelivery()
    if (this.#retryReported) {
      this.#retryReported = false
      if (this.state === 'RUNNING') this.setState('RUNNING')
    }
    // The last record of each run of one partition sets its position (a fetch holds runs, not a mix).
    for (let i = 0; i < fetched.length; i++) {
      const r = fetched[i]
      const next = fetched[i + 1]
      if (next !== undefined && next.partition === r.partition && next.topic === r.topic) continue
      const key = tpKey(r)
      if (this.#assigned.has(key))
        this.#current.set(key, { topic: r.topic, partition: r.partition, offset: r.offset + 1 })
    }
  }

  #endRedelivery(): void {
    this.#redelivery = null
    this.#pausedForRetry = false
    this.#retryTimeoutMs = DEFAULT_RETRY_TIMEOUT_MS
    this.#applyPause()
  }

  /** Pauses in the consumer what is paused by the target state, a retry, or the task itself. */
  #applyPause(): void {
    const all = [...this.#assigned.values()]
    const pauseAll = this.targetState !== 'STARTED' || this.#pausedForRetry
    const toPause = all.filter((tp) => pauseAll || this.#taskPaused.has(tpKey(tp)))
    const toResume = all.filter((tp) => !pauseAll && !this.#taskPaused.has(tpKey(tp)))
    if (toPause.length) this.#o.consumer.pause(toPause)
    if (toResume.length) this.#o.consumer.resume(toResume)
  }

  #rewind(fetched: LogRecord[]): void {
    const first = new Map<string, LogRecord>()
    for (const r of fetched) if (!first.has(tpKey(r))) first.set(tpKey(r), r)
    for (const r of first.values()) this.#o.consumer.seek(r, r.offset)
  }

  async #commit(partitions?: TopicPartition[]): Promise<void> {
    // A cancelled task may own nothing any more (Java's WorkerSinkTask skips its final commit too).
    if (this.cancelled) return
    const offsets: SinkOffsets = new Map()
    for (const [key, value] of this.#current) {
      if (partitions && !partitions.some((tp) => tpKey(tp) === key)) continue
      offsets.set(key, { ...value })
    }
    if (offsets.size === 0) return
    // Records reported as errant must be safe in the dead-letter topic before their offsets commit.
    await Promise.all(this.#pendingReports)
    let safe: SinkOffsets
    try {
      safe = await this.#o.task.preCommit(offsets)
    } catch (error) {
      this.logger.error(
        `${taskIdString(this.id)}: preCommit failed (${errorMessage(error)}); rewinding to the last committed offsets`,
      )
      for (const [key, offset] of this.#lastCommitted) {
        const tp = this.#assigned.get(key)
        if (tp) {
          this.#o.consumer.seek(tp, offset)
          this.#current.set(key, { ...tp, offset })
        }
      }
      return
    }
    const toCommit = new Map<string, number>()
    for (const [key, value] of safe) {
      const consumed = this.#current.get(key)
      if (!consumed || value.offset > consumed.offset) {
        this.logger.warn(
          `${taskIdString(this.id)}: ignoring preCommit offset ${value.offset} beyond what was consumed`,
        )
        continue
      }
      if (this.#lastCommitted.get(key) !== value.offset) toCommit.set(key, value.offset)
    }
    if (toCommit.size === 0) return
    const start = this.metrics.now()
    try {
      await this.#o.consumer.commit(toCommit)
      this.metrics.stage('commit', start, 0)
    } catch (error) {
      this.metrics.stage('commit', start, 0, { error })
      // WorkerSinkTask logs a failed commit and goes on: the offsets are committed by the next commit,
      // or — when the group rebalanced — the partitions are revoked or lost inside the next poll().
      if (!isRetriable(error)) throw error
      const why =
        error instanceof ConnectError && error.code === 'CONFLICT'
          ? 'the group rebalanced; the partitions are revoked or lost at the next poll'
          : 'trying again at the next commit'
      this.logger.warn(`${taskIdString(this.id)}: committing offsets failed (${errorMessage(error)}); ${why}`)
      return
    }
    for (const [key, offset] of toCommit) this.#lastCommitted.set(key, offset)
  }

  async #onAssigned(tps: TopicPartition[]): Promise<void> {
    for (const tp of tps) {
      const key = tpKey(tp)
      this.#assigned.set(key, { topic: tp.topic, partition: tp.partition })
      const position = this.#o.consumer.position(tp)
      this.#current.set(key, { topic: tp.topic, partition: tp.partition, offset: position })
      this.#lastCommitted.set(key, position)
    }
    this.metrics.partitionCount = this.#assigned.size
    this.#applyPause()
    // Kafka's consumer logs where each assigned partition starts (ConsumerCoordinator, INFO): what an
    // operator needs to tell a replay or a gap after a rebalance.
    this.logger.info(
      `${taskIdString(this.id)}: partitions assigned, starting at ${tps.map((tp) => `${tp.topic}-${tp.partition}@${this.#current.get(tpKey(tp))?.offset}`).join(', ')}`,
    )
    await this.#o.task.open(tps.map((tp) => ({ topic: tp.topic, partition: tp.partition })))
  }

  /**
   * Partitions taken away. Revoked ones (a rebalance this member takes part in) get a last commit;
   * lost ones (the membership expired or was fenced) do not — another member may own them already —
   * and their records since the last commit are read again by whoever owns them next. Either way
   * their records leave a batch waiting for redelivery, and the task closes them.
   */
  async #onRemoved(tps: TopicPartition[], lost: boolean): Promise<void> {
    const removed = new Set(tps.map(tpKey))
    if (lost) {
      this.logger.warn(
        `${taskIdString(this.id)}: partitions ${[...removed].join(', ')} lost with the group membership; ` +
          'closing them without committing (their records since the last commit are delivered again)',
      )
    } else {
      await this.#commit(tps)
      this.logger.info(
        `${taskIdString(this.id)}: partitions revoked, committed ${tps.map((tp) => `${tp.topic}-${tp.partition}@${this.#lastCommitted.get(tpKey(tp))}`).join(', ')}`,
      )
    }
    const retry = this.#redelivery
    if (retry) {
      const keep = (tp: TopicPartition) => !removed.has(tpKey(tp))
      retry.records = retry.records.filter((r) =>
        keep({ topic: r.originalTopic, partition: r.originalKafkaPartition }),
      )
      retry.fetched = retry.fetched.filter(keep)
    }
    try {
      await this.#o.task.close(tps.map((tp) => ({ topic: tp.topic, partition: tp.partition })))
    } finally {
      for (const key of removed) {
        this.#assigned.delete(key)
        this.#current.delete(key)
        this.#lastCommitted.delete(key)
        this.#taskPaused.delete(key)
      }
      this.metrics.partitionCount = this.#assigned.size
      if (retry && retry.fetched.length === 0) this.#endRedelivery()
    }
  }

  /**
   * Leaving the group revokes every partition through the listener (final commit, then
   * `task.close`); only then is the task stopped.
   */
  async #close(): Promise<void> {
    const { task, consumer, transforms } = this.#o
    try {
      await consumer.close()
      const error = this.#rebalanceError
      this.#rebalanceError = undefined
      if (error !== undefined) {
        throw new ConnectError(
          'CONNECT',
          `the sink task failed closing its partitions: ${errorMessage(error)}`,
          {
            cause: error,
          },
        )
      }
    } finally {
      await task.stop()
      transforms.close()
      await this.#o.errorHandler.close()
    }
  }

  #context(): SinkTaskContext {
    return {
      configs: () => this.#o.taskConfig,
      offset: (tp: SinkTopicPartition, offset: number) => {
        this.#o.consumer.seek(tp, offset)
        const key = tpKey(tp)
        if (this.#assigned.has(key))
          this.#current.set(key, { topic: tp.topic, partition: tp.partition, offset })
      },
      timeout: (ms: number) => {
        this.#retryTimeoutMs = ms
      },
      assignment: () => [...this.#assigned.values()],
      pause: (...tps: SinkTopicPartition[]) => {
        for (const tp of tps) this.#taskPaused.add(tpKey(tp))
        this.#applyPause()
      },
      resume: (...tps: SinkTopicPartition[]) => {
        for (const tp of tps) this.#taskPaused.delete(tpKey(tp))
        this.#applyPause()
      },
      requestCommit: () => {
        this.#commitRequested = true
      },
      errantRecordReporter: () => this.#errantReporter(),
    }
  }
}
