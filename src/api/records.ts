import type { Schema } from './data/schema.ts'
import { Headers } from './headers.ts'

/** A source partition or offset: a flat map of strings, numbers and booleans (Kafka Connect's `Map<String, ?>`). */
export type OffsetMap = Readonly<Record<string, string | number | boolean | null>>

export type RecordTimestampType = 'NoTimestampType' | 'CreateTime' | 'LogAppendTime'

export interface ConnectRecordInit {
  topic: string
  /** `null` lets the log choose from the key. */
  kafkaPartition?: number | null
  keySchema?: Schema | null
  key?: unknown
  valueSchema?: Schema | null
  value?: unknown
  /** Milliseconds since the epoch, or null. */
  timestamp?: number | null
  headers?: Iterable<{ key: string; schema: Schema | null; value: unknown }>
}

/** The common shape of source and sink records (Java's `ConnectRecord`). */
export abstract class ConnectRecord {
  readonly topic: string
  readonly kafkaPartition: number | null
  readonly keySchema: Schema | null
  readonly key: unknown
  readonly valueSchema: Schema | null
  readonly value: unknown
  readonly timestamp: number | null
  readonly headers: Headers

  constructor(init: ConnectRecordInit) {
    this.topic = init.topic
    this.kafkaPartition = init.kafkaPartition ?? null
    this.keySchema = init.keySchema ?? null
    this.key = init.key ?? null
    this.valueSchema = init.valueSchema ?? null
    this.value = init.value ?? null
    this.timestamp = init.timestamp ?? null
    this.headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers)
  }

  /** A copy with some properties replaced — what transforms return. Headers are copied. */
  abstract newRecord(changes: Partial<ConnectRecordInit>): this
}

export interface SourceRecordInit extends ConnectRecordInit {
  sourcePartition?: OffsetMap | null
  sourceOffset?: OffsetMap | null
}

/**
 * A record produced by a source task. `sourcePartition` and `sourceOffset` say where it came from;
 * the runtime stores the offset once the record is durable in the log, and gives it back to the
 * task through `OffsetStorageReader` after a restart.
 */
export class SourceRecord extends ConnectRecord {
  readonly sourcePartition: OffsetMap | null
  readonly sourceOffset: OffsetMap | null

  constructor(init: SourceRecordInit) {
    super(init)
    this.sourcePartition = init.sourcePartition ?? null
    this.sourceOffset = init.sourceOffset ?? null
  }

  newRecord(changes: Partial<SourceRecordInit>): this {
    return new SourceRecord({
      ...recordInit(this),
      sourcePartition: this.sourcePartition,
      sourceOffset: this.sourceOffset,
      ...changes,
      headers: (changes.headers ?? this.headers.duplicate()) as Headers,
    }) as this
  }
}

export interface SinkRecordInit extends ConnectRecordInit {
  kafkaOffset: number
  timestampType?: RecordTimestampType
  /** Where the record was read from, before transforms changed topic or partition (KIP-793). */
  originalTopic?: string
  originalKafkaPartition?: number
  originalKafkaOffset?: number
}

/** A record delivered to a sink task, with its position in the log. */
export class SinkRecord extends ConnectRecord {
  readonly kafkaOffset: number
  readonly timestampType: RecordTimestampType
  readonly originalTopic: string
  readonly originalKafkaPartition: number
  readonly originalKafkaOffset: number

  constructor(init: SinkRecordInit) {
    super(init)
    this.kafkaOffset = init.kafkaOffset
    this.timestampType = init.timestampType ?? 'NoTimestampType'
    this.originalTopic = init.originalTopic ?? init.topic
    this.originalKafkaPartition = init.originalKafkaPartition ?? init.kafkaPartition ?? 0
    this.originalKafkaOffset = init.originalKafkaOffset ?? init.kafkaOffset
  }

  newRecord(changes: Partial<SinkRecordInit>): this {
    return new SinkRecord({
      ...recordInit(this),
      kafkaOffset: this.kafkaOffset,
      timestampType: this.timestampType,
      originalTopic: this.originalTopic,
      originalKafkaPartition: this.originalKafkaPartition,
      originalKafkaOffset: this.originalKafkaOffset,
      ...changes,
      headers: (changes.headers ?? this.headers.duplicate()) as Headers,
    }) as this
  }
}

function recordInit(r: ConnectRecord): ConnectRecordInit {
  return {
    topic: r.topic,
    kafkaPartition: r.kafkaPartition,
    keySchema: r.keySchema,
    key: r.key,
    valueSchema: r.valueSchema,
    value: r.value,
    timestamp: r.timestamp,
  }
}
