/**
 * The connector SPI, as Kafka Connect's `org.apache.kafka.connect.{connector,source,sink}`.
 * A connector is configured once and splits its work into task configs; tasks move the data.
 * Methods may return promises; the runtime awaits them. `stop()` may be called while a `poll()`
 * or `put()` is pending, and must make it return promptly.
 */
import type { ConfigDef, ConfigValue } from './config-def.ts'
import type { OffsetMap, SinkRecord, SourceRecord } from './records.ts'
import type { TopicPartition } from './topic-partition.ts'
import type { TopicReader, TopicReaderOptions } from './topic-reader.ts'

export type Props = Readonly<Record<string, string>>
export type MaybePromise<T> = T | Promise<T>

/** What the runtime offers a connector instance. */
export interface ConnectorContext {
  /** Asks the runtime to call `taskConfigs()` again, e.g. because tables were added. */
  requestTaskReconfiguration(): void
  /** Fails the connector with this error (it shows as FAILED with the trace in status). */
  raiseError(error: Error): void
}

export interface SourceConnectorContext extends ConnectorContext {
  offsetStorageReader(): OffsetStorageReader
}

export type SinkConnectorContext = ConnectorContext

export type TaskClass<T> = new () => T

export abstract class Connector {
  #context: ConnectorContext | undefined

  /** Called once by the runtime before `start`. */
  initialize(context: ConnectorContext): void {
    this.#context = context
  }

  get context(): ConnectorContext {
    if (!this.#context) throw new Error('the connector has not been initialized by the runtime yet')
    return this.#context
  }

  abstract version(): string
  abstract config(): ConfigDef
  abstract start(props: Props): MaybePromise<void>
  /** Configs for at most `maxTasks` tasks. */
  abstract taskConfigs(maxTasks: number): MaybePromise<Props[]>
  abstract stop(): MaybePromise<void>

  /**
   * Validates a config for `config/validate` and before start. The default checks each key
   * against `config()`; override to add checks across keys or against the external system.
   */
  validate(props: Props): MaybePromise<ConfigValue[]> {
    return this.config().validate(props)
  }
}

/** Java's `ExactlyOnceSupport` (KIP-618): whether a source connector can run exactly-once. */
export type ExactlyOnceSupport = 'SUPPORTED' | 'UNSUPPORTED'

/** Java's `ConnectorTransactionBoundaries` (KIP-618): whether it can define its own transactions. */
export type ConnectorTransactionBoundaries = 'SUPPORTED' | 'UNSUPPORTED'

/**
 * Lets a source task define its transactions, when its connector runs with
 * `transaction.boundary=connector` under exactly-once (Java's `TransactionContext`, KIP-618). The
 * request takes effect after the records already returned by `poll()` (or, with a record, after that
 * record) have been sent.
 */
export interface TransactionContext {
  /** Commits the transaction after the current batch returned by `poll()`. */
  commitTransaction(): void
  /** Commits the transaction after this record (one the task returned from `poll()`). */
  commitTransaction(record: SourceRecord): void
  /** Aborts the transaction after the current batch: none of its records become visible. */
  abortTransaction(): void
  /** Aborts the transaction after this record (which is aborted with it). */
  abortTransaction(record: SourceRecord): void
}

export abstract class SourceConnector extends Connector {
  abstract taskClass(): TaskClass<SourceTask>

  override get context(): SourceConnectorContext {
    return super.context as SourceConnectorContext
  }

  /**
   * Whether this connector, with these props, can run under exactly-once (KIP-618). Checked at
   * validation when `exactly.once.support=required`; null means it cannot tell (the same as
   * UNSUPPORTED for `required`). @default null
   */
  exactlyOnceSupport(_props: Props): ExactlyOnceSupport | null {
    return null
  }

  /**
   * Whether its tasks define transaction boundaries themselves through
   * `SourceTaskContext.transactionContext()`; required by `transaction.boundary=connector`.
   * @default 'UNSUPPORTED'
   */
  canDefineTransactionBoundaries(_props: Props): ConnectorTransactionBoundaries {
    return 'UNSUPPORTED'
  }

  /**
   * Called (connector stopped) when a user alters or resets offsets through the REST API. Return
   * true when the connector also manages the change externally. The default accepts any offsets.
   */
  alterOffsets(_props: Props, _offsets: ReadonlyMap<OffsetMap, OffsetMap | null>): MaybePromise<boolean> {
    return false
  }
}

export abstract class SinkConnector extends Connector {
  abstract taskClass(): TaskClass<SinkTask>

  alterOffsets(
    _props: Props,
    _offsets: ReadonlyMap<{ topic: string; partition: number }, number | null>,
  ): MaybePromise<boolean> {
    return false
  }
}

/** Reads the offsets the runtime stored for this connector's source partitions. */
export interface OffsetStorageReader {
  offset(partition: OffsetMap): Promise<OffsetMap | null>
  /** Offsets of several partitions, in a map keyed by the same partition objects passed in. */
  offsets(partitions: readonly OffsetMap[]): Promise<Map<OffsetMap, OffsetMap | null>>
}

export interface SourceTaskContext {
  configs(): Props
  offsetStorageReader(): OffsetStorageReader
  /**
   * Opens a reader of one partition of a Kafka topic, on any cluster (decision 0011). Rejects with a
   * retriable `ConnectError` when the brokers cannot be reached, with a `ConfigError` for properties
   * the client cannot honour. Absent where the runtime offers no Kafka client (e.g. a bare test harness).
   */
  openTopicReader?(options: TopicReaderOptions): Promise<TopicReader>
  /**
   * The task keeps working but something it depends on does not (a side channel, an optional
   * service): the problem shows as the trace of the task's RUNNING status until reported again as
   * `null`. For failures that stop the task's work, throw from `poll()` instead.
   */
  reportProblem?(problem: Error | null): void
  /**
   * The task's transaction context when its connector runs exactly-once with
   * `transaction.boundary=connector`; null otherwise (KIP-618).
   */
  transactionContext?(): TransactionContext | null
  /**
   * Sluice: whether each poll's records are committed in a transaction of their own at a broker
   * (exactly-once on Kafka with `transaction.boundary=poll`), so every poll costs a round trip to the
   * transaction coordinator. A task that keeps its polls small for memory may hand out larger ones then.
   */
  pollIsTransaction?(): boolean
}

export type SinkTopicPartition = TopicPartition

/** Sends a record the task could not process to the dead-letter queue, per the connector's `errors.*` keys. */
export interface ErrantRecordReporter {
  /** Resolves once the report is durable (or logged, without a DLQ); throws if tolerance is `none`. */
  report(record: SinkRecord, error: Error): Promise<void>
}

export interface SinkTaskContext {
  configs(): Props
  /** Rewinds (or skips) a partition: the next records delivered start at this offset. */
  offset(partition: SinkTopicPartition, offset: number): void
  /** After a `RetriableError` from `put`, wait this long before redelivering the batch. */
  timeout(ms: number): void
  assignment(): SinkTopicPartition[]
  pause(...partitions: SinkTopicPartition[]): void
  resume(...partitions: SinkTopicPartition[]): void
  /** Asks for a flush and offset commit as soon as possible. */
  requestCommit(): void
  /** `null` when the runtime has no reporter for this connector. */
  errantRecordReporter(): ErrantRecordReporter | null
}

export abstract class Task {
  abstract version(): string
  abstract start(props: Props): MaybePromise<void>
  abstract stop(): MaybePromise<void>
}

export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
}

export abstract class SourceTask extends Task {
  #context: SourceTaskContext | undefined

  initialize(context: SourceTaskContext): void {
    this.#context = context
  }

  get context(): SourceTaskContext {
    if (!this.#context) throw new Error('the task has not been initialized by the runtime yet')
    return this.#context
  }

  /**
   * The next records, or null/[] when none are ready. It should wait a little (not spin) when
   * there is nothing to return, and return promptly once `stop()` is called.
   */
  abstract poll(): Promise<SourceRecord[] | null>

  /** Offsets up to the last acknowledged records were committed. */
  commit(): MaybePromise<void> {}

  /** One record was acknowledged by the log (metadata is null if a transform dropped it). */
  commitRecord(_record: SourceRecord, _metadata: RecordMetadata | null): MaybePromise<void> {}
}

/** Offsets keyed by `tpKey(partition)`: `offset` is the next record the task expects. */
export type SinkOffsets = Map<string, { topic: string; partition: number; offset: number }>

export abstract class SinkTask extends Task {
  #context: SinkTaskContext | undefined

  initialize(context: SinkTaskContext): void {
    this.#context = context
  }

  get context(): SinkTaskContext {
    if (!this.#context) throw new Error('the task has not been initialized by the runtime yet')
    return this.#context
  }

  /** Writes (or buffers) the records. Throw a `RetriableError` to have the same batch redelivered. */
  abstract put(records: SinkRecord[]): Promise<void>

  /** Makes everything `put` so far durable in the destination. */
  flush(_offsets: SinkOffsets): MaybePromise<void> {}

  /**
   * The offsets safe to commit. The default flushes and returns them all; a task that writes
   * asynchronously returns only what is durable.
   */
  async preCommit(offsets: SinkOffsets): Promise<SinkOffsets> {
    await this.flush(offsets)
    return offsets
  }

  open(_partitions: SinkTopicPartition[]): MaybePromise<void> {}
  close(_partitions: SinkTopicPartition[]): MaybePromise<void> {}
}
