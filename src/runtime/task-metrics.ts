/**
 * What a task runner counts, as Kafka Connect's metric groups name it: `connector-task-metrics`,
 * `source-task-metrics` and `sink-task-metrics` (Kafka's "Connect monitoring" docs,
 * `WorkerTask.TaskMetricsGroup`, `WorkerSourceTask.SourceTaskMetricsGroup`,
 * `WorkerSinkTask.SinkTaskMetricsGroup`). The REST layer prints them under the names Strimzi's
 * JMX-exporter rules give those MBeans (rest/metrics-resource.ts).
 *
 * The runners' one hook is `stage()`: each poll, convert, produce, put and commit reports when it
 * started, how many records it carried and whether it failed. Besides the counters, a stage is
 * published on the `sluice:task-stage` diagnostics channel (only when something subscribes, so it
 * costs nothing otherwise): tracing subscribes there (telemetry/, decision 0018). Averages, maxima and rates
 * cover Kafka's default metric window: 2 samples of 30 s (`metrics.num.samples`,
 * `metrics.sample.window.ms`).
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import type { State } from '../common/states.ts'

export type TaskStage = 'poll' | 'convert' | 'produce' | 'put' | 'commit'

/** One stage of one task, as published on {@link taskStageChannel}. */
export interface TaskStageEvent {
  connector: string
  task: number
  taskType: 'source' | 'sink'
  stage: TaskStage
  /** Epoch milliseconds with sub-millisecond precision. */
  startMs: number
  endMs: number
  records: number
  /** The batch a stage belongs to: a poll opens one, its convert/produce/put carry its number. */
  batch: number
  error?: unknown
}

/** Where stages are published; tracing subscribes (see telemetry/). */
export const taskStageChannel = diagnosticsChannel.channel('sluice:task-stage')

const SAMPLE_WINDOW_MS = 30_000
const SAMPLES = 2

/** Kafka's `SampledStat` over `SAMPLES` windows: avg, max and rate of what was recorded lately. */
export class WindowedStat {
  readonly #samples: { start: number; count: number; sum: number; max: number }[] = []

  record(value: number, now = Date.now()): void {
    let current = this.#samples.at(-1)
    if (!current || now - current.start >= SAMPLE_WINDOW_MS) {
      current = { start: now, count: 0, sum: 0, max: Number.NEGATIVE_INFINITY }
      this.#samples.push(current)
      if (this.#samples.length > SAMPLES) this.#samples.shift()
    }
    current.count++
    current.sum += value
    if (value > current.max) current.max = value
  }

  #live(now: number) {
    return this.#samples.filter((s) => now - s.start < SAMPLE_WINDOW_MS * SAMPLES)
  }

  /** NaN with nothing recorded in the window, as Kafka's Avg reports. */
  avg(now = Date.now()): number {
    const live = this.#live(now)
    const count = live.reduce((n, s) => n + s.count, 0)
    return count === 0 ? Number.NaN : live.reduce((n, s) => n + s.sum, 0) / count
  }

  max(now = Date.now()): number {
    const live = this.#live(now)
    return live.length === 0 ? Number.NaN : Math.max(...live.map((s) => s.max))
  }

  /** The sum of what was recorded, per second of the window elapsed (Kafka's Rate). */
  rate(now = Date.now()): number {
    const live = this.#live(now)
    if (live.length === 0) return 0
    const elapsed = Math.max(now - live[0].start, SAMPLE_WINDOW_MS * (SAMPLES - 1))
    return live.reduce((n, s) => n + s.sum, 0) / (elapsed / 1000)
  }
}

/** The metrics of one task on this worker. */
export class TaskMetrics {
  readonly connector: string
  readonly task: number
  readonly type: 'source' | 'sink'
  readonly #createdAt = performance.now()
  // connector-task-metrics
  #state: State = 'UNASSIGNED'
  #stateSince = performance.now()
  readonly #stateTime = new Map<State, number>()
  readonly batchSize = new WindowedStat()
  readonly offsetCommitTime = new WindowedStat()
  offsetCommitSuccesses = 0
  offsetCommitFailures = 0
  // source-task-metrics
  sourceRecordPollTotal = 0
  readonly sourceRecordPoll = new WindowedStat()
  sourceRecordWriteTotal = 0
  readonly sourceRecordWrite = new WindowedStat()
  readonly pollBatchTime = new WindowedStat()
  /** Records polled and not yet written (or dropped) — Connect's source-record-active-count. */
  activeCount = 0
  readonly activeCountStat = new WindowedStat()
  // sink-task-metrics
  sinkRecordReadTotal = 0
  readonly sinkRecordRead = new WindowedStat()
  sinkRecordSendTotal = 0
  readonly sinkRecordSend = new WindowedStat()
  readonly putBatchTime = new WindowedStat()
  partitionCount = 0
  offsetCommitSeqNo = 0
  offsetCommitCompletionTotal = 0
  readonly offsetCommitCompletion = new WindowedStat()
  offsetCommitSkipTotal = 0
  readonly offsetCommitSkip = new WindowedStat()
  // the task's Kafka clients (producer-metrics, consumer-fetch-manager-metrics): key and value bytes
  producerRecordSendTotal = 0
  producerOutgoingByteTotal = 0
  consumerRecordsConsumedTotal = 0
  consumerIncomingByteTotal = 0
  #batch = 0

  constructor(connector: string, task: number, type: 'source' | 'sink') {
    this.connector = connector
    this.task = task
    this.type = type
  }

  get state(): State {
    return this.#state
  }

  /** Called on every status change; feeds running-ratio and pause-ratio. */
  onState(state: State): void {
    const now = performance.now()
    this.#stateTime.set(this.#state, (this.#stateTime.get(this.#state) ?? 0) + now - this.#stateSince)
    this.#state = state
    this.#stateSince = now
  }

  /** Share of the task's life spent in `state` (Connect's running-ratio / pause-ratio). */
  ratio(state: State): number {
    const now = performance.now()
    const total = now - this.#createdAt
    if (total <= 0) return 0
    const inState = (this.#stateTime.get(state) ?? 0) + (this.#state === state ? now - this.#stateSince : 0)
    return inState / total
  }

  /** A clock reading to pass to `stage()` as its start. */
  now(): number {
    return performance.now()
  }

  /**
   * Records one stage that began at `start` (from `now()`) and just ended. A poll with records
   * opens a batch and returns its number; the batch's later stages pass it back.
   */
  stage(
    stage: TaskStage,
    start: number,
    records: number,
    options: { batch?: number; error?: unknown; bytes?: number } = {},
  ): number {
    const end = performance.now()
    const ms = end - start
    const failed = options.error !== undefined
    let batch = options.batch ?? this.#batch
    switch (stage) {
      case 'poll':
        if (records > 0) batch = ++this.#batch
        if (this.type === 'source') {
          this.pollBatchTime.record(ms)
          this.sourceRecordPollTotal += records
          this.sourceRecordPoll.record(records)
          this.#active(records)
          if (records > 0) this.batchSize.record(records)
        } else {
          this.sinkRecordReadTotal += records
          this.sinkRecordRead.record(records)
          this.consumerRecordsConsumedTotal += records
          this.consumerIncomingByteTotal += options.bytes ?? 0
        }
        break
      case 'convert':
        if (this.type === 'sink') {
          this.sinkRecordSendTotal += records
          this.sinkRecordSend.record(records)
        }
        break
      case 'produce':
        if (!failed) {
          this.sourceRecordWriteTotal += records
          this.sourceRecordWrite.record(records)
          this.producerRecordSendTotal += records
          this.producerOutgoingByteTotal += options.bytes ?? 0
        }
        break
      case 'put':
        this.putBatchTime.record(ms)
        if (!failed) {
          this.batchSize.record(records)
          this.#active(records)
        }
        break
      case 'commit':
        this.offsetCommitTime.record(ms)
        if (failed) this.offsetCommitFailures++
        else this.offsetCommitSuccesses++
        if (this.type === 'sink') {
          this.offsetCommitSeqNo++
          if (failed) {
            this.offsetCommitSkipTotal++
            this.offsetCommitSkip.record(1)
          } else {
            this.offsetCommitCompletionTotal++
            this.offsetCommitCompletion.record(1)
            this.#active(-this.activeCount)
          }
        }
        break
    }
    if (taskStageChannel.hasSubscribers) {
      const origin = performance.timeOrigin
      const event: TaskStageEvent = {
        connector: this.connector,
        task: this.task,
        taskType: this.type,
        stage,
        startMs: origin + start,
        endMs: origin + end,
        records,
        batch,
      }
      if (failed) event.error = options.error
      taskStageChannel.publish(event)
    }
    return batch
  }

  /** Records left the pipeline (source: written or dropped). */
  done(records: number): void {
    this.#active(-records)
  }

  #active(delta: number): void {
    this.activeCount = Math.max(0, this.activeCount + delta)
    this.activeCountStat.record(this.activeCount)
  }
}

/** Connect's `connect-worker-metrics` startup counters. */
export interface StartupCounters {
  connectorStartupAttempts: number
  connectorStartupSuccesses: number
  connectorStartupFailures: number
  taskStartupAttempts: number
  taskStartupSuccesses: number
  taskStartupFailures: number
}
