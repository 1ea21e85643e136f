/**
 * Where tolerated (and fatal) record failures are reported: the log (`errors.log.enable`) and the
 * dead-letter topic (`errors.deadletterqueue.topic.name`), as Kafka Connect's `LogReporter` and
 * `DeadLetterQueueReporter` do, with the same `__connect.errors.*` context headers.
 */
import type { Props } from '../../api/connector.ts'
import { errorMessage } from '../../api/errors.ts'
import type { SourceRecord } from '../../api/records.ts'
import type { Logger } from '../../common/logger.ts'
import type { Log, LogHeader, LogProducer, LogRecord, ProduceRecord } from '../../log/log.ts'

/** Where in the record's path a failure happened (Kafka Connect's `Stage`). */
export type Stage =
  | 'TASK_POLL'
  | 'TASK_PUT'
  | 'TRANSFORMATION'
  | 'KEY_CONVERTER'
  | 'VALUE_CONVERTER'
  | 'HEADER_CONVERTER'
  | 'KAFKA_PRODUCE'
  | 'KAFKA_CONSUME'

/** Counters of one task, named after Kafka Connect's `task-error-metrics` attributes. */
export interface ErrorMetrics {
  totalRecordFailures: number
  totalRecordErrors: number
  totalRecordsSkipped: number
  totalRetries: number
  totalErrorsLogged: number
  deadletterqueueProduceRequests: number
  deadletterqueueProduceFailures: number
  lastErrorTimestamp: number
}

export interface ErrorContext {
  connector: string
  task: number
  /** The record as read from the log (sink side): its original bytes go to the dead-letter topic. */
  consumed?: LogRecord
  /** The record as the source task returned it (source side). */
  source?: SourceRecord
  /** What was executing: the converter or transform alias, or the task. */
  executing?: string
}

export type FailureContext = ErrorContext & { stage: Stage; error: unknown }

export interface ErrorReporter {
  report(context: FailureContext, metrics: ErrorMetrics): Promise<void>
  close(): Promise<void>
}

export class LogReporter implements ErrorReporter {
  readonly #logger: Logger
  readonly #includeMessages: boolean

  constructor(logger: Logger, includeMessages: boolean) {
    this.#logger = logger
    this.#includeMessages = includeMessages
  }

  async report(context: FailureContext, metrics: ErrorMetrics): Promise<void> {
    metrics.totalErrorsLogged++
    this.#logger.error(
      { err: errorMessage(context.error) },
      `Error encountered in task ${context.connector}-${context.task}. ${describe(context, this.#includeMessages)}`,
    )
  }

  async close(): Promise<void> {}
}

function describe(context: FailureContext, includeMessages: boolean): string {
  let text = `Executing stage '${context.stage}' with class '${context.executing ?? 'null'}'`
  if (includeMessages && context.source) {
    const r = context.source
    text += `, where source record is = SourceRecord{sourcePartition=${JSON.stringify(r.sourcePartition)}, sourceOffset=${JSON.stringify(r.sourceOffset)}} ConnectRecord{topic='${r.topic}', kafkaPartition=${r.kafkaPartition}, key=${show(r.key)}, value=${show(r.value)}, timestamp=${r.timestamp}}`
  } else if (includeMessages && context.consumed) {
    const m = context.consumed
    text += `, where consumed record is {topic='${m.topic}', partition=${m.partition}, offset=${m.offset}, timestamp=${m.timestamp}, timestampType=${m.timestampType}}`
  }
  return `${text}.`
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  } catch {
    return String(value)
  }
}

export const ERROR_HEADERS = {
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  connector: '__connect.errors.connector.name',
  task: '__connect.errors.task.id',
  stage: '__connect.errors.stage',
  className: '__connect.errors.class.name',
  exceptionClass: '__connect.errors.exception.class.name',
  exceptionMessage: '__connect.errors.exception.message',
  exceptionStacktrace: '__connect.errors.exception.stacktrace',
} as const

const utf8 = new TextEncoder()

/**
 * Writes failed records to the dead-letter topic, creating it (one partition, the configured
 * replication factor) when missing. Resolves only when the log acknowledged the write, so the
 * runtime commits past a failed record only once it is safe in the dead-letter topic.
 */
export class DeadLetterQueueReporter implements ErrorReporter {
  readonly #log: Log
  readonly #topic: string
  readonly #replicationFactor: number
  readonly #contextHeaders: boolean
  readonly #clientId: string
  #producer: LogProducer | null = null
  #ready: Promise<void> | null = null

  constructor(log: Log, props: Props, clientId: string) {
    this.#log = log
    this.#topic = props['errors.deadletterqueue.topic.name']!.trim()
    this.#replicationFactor = Number(props['errors.deadletterqueue.topic.replication.factor'] ?? 3)
    this.#contextHeaders =
      (props['errors.deadletterqueue.context.headers.enable'] ?? 'false').toLowerCase() === 'true'
    this.#clientId = clientId
  }

  async report(context: FailureContext, metrics: ErrorMetrics): Promise<void> {
    const record = this.#record(context)
    if (!record) return
    metrics.deadletterqueueProduceRequests++
    try {
      this.#ready ??= this.#prepare()
      await this.#ready
      await this.#producer!.send([record])
    } catch (error) {
      metrics.deadletterqueueProduceFailures++
      this.#ready = null
      throw error
    }
  }

  async close(): Promise<void> {
    await this.#producer?.close()
  }

  async #prepare(): Promise<void> {
    const existing = await this.#log.describeTopics([this.#topic])
    if (!existing.has(this.#topic)) {
      await this.#log.createTopics([
        { name: this.#topic, partitions: 1, replicationFactor: this.#replicationFactor },
      ])
    }
    this.#producer ??= this.#log.createProducer({ clientId: this.#clientId })
  }

  #record(context: FailureContext): ProduceRecord | null {
    let record: ProduceRecord
    if (context.consumed) {
      const m = context.consumed
      record = {
        topic: this.#topic,
        key: m.key,
        value: m.value,
        headers: [...m.headers],
        timestamp: m.timestamp,
      }
    } else if (context.source) {
      // No bytes exist yet on the source side: the record goes out as schemaless JSON.
      const r = context.source
      record = {
        topic: this.#topic,
        key: r.key === null ? null : utf8.encode(show(r.key)),
        value: r.value === null ? null : utf8.encode(show(r.value)),
        headers: [
          { key: '__connect.errors.source.partition', value: utf8.encode(JSON.stringify(r.sourcePartition)) },
          { key: '__connect.errors.source.offset', value: utf8.encode(JSON.stringify(r.sourceOffset)) },
        ],
        ...(r.timestamp === null ? {} : { timestamp: r.timestamp }),
      }
    } else {
      return null
    }
    if (this.#contextHeaders) record.headers = [...(record.headers ?? []), ...contextHeaders(context)]
    return record
  }
}

function contextHeaders(context: FailureContext): LogHeader[] {
  const error = context.error
  const headers: [string, string | undefined][] = [
    [ERROR_HEADERS.topic, context.consumed?.topic ?? context.source?.topic],
    [ERROR_HEADERS.partition, context.consumed ? String(context.consumed.partition) : undefined],
    [ERROR_HEADERS.offset, context.consumed ? String(context.consumed.offset) : undefined],
    [ERROR_HEADERS.connector, context.connector],
    [ERROR_HEADERS.task, String(context.task)],
    [ERROR_HEADERS.stage, context.stage],
    [ERROR_HEADERS.className, context.executing],
    [ERROR_HEADERS.exceptionClass, error instanceof Error ? error.name : typeof error],
    [ERROR_HEADERS.exceptionMessage, errorMessage(error)],
    [
      ERROR_HEADERS.exceptionStacktrace,
      error instanceof Error ? (error.stack ?? error.message) : String(error),
    ],
  ]
  return headers.filter(([, v]) => v !== undefined).map(([key, v]) => ({ key, value: utf8.encode(v!) }))
}
