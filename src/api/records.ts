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
    const init = merged(this, changes) as SourceRecordInit
    init.sourcePartition = 'sourcePartition' in changes ? changes.sourcePartition : this.sourcePartition
    init.sourceOffset = 'sourceOffset' in changes ? changes.sourceOffset : this.sourceOffset
    return new SourceRecord(init) as this
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
    const init = merged(this, changes) as SinkRecordInit
    init.kafkaOffset = changes.kafkaOffset ?? this.kafkaOffset
    init.timestampType = changes.timestampType ?? this.timestampType
    init.originalTopic = changes.originalTopic ?? this.originalTopic
    init.originalKafkaPartition = changes.originalKafkaPartition ?? this.originalKafkaPartition
    init.originalKafkaOffset = changes.originalKafkaOffset ?? this.originalKafkaOffset
    return new SinkRecord(init) as this
  }
}

/**
 * The record's properties with `changes` applied — one object, since transforms call this for
 * every record. A key present in `changes` wins even when its value is null or undefined.
 */
function merged(r: ConnectRecord, changes: Partial<ConnectRecordInit>): ConnectRecordInit {
  return {
    topic: changes.topic ?? r.topic,
    kafkaPartition: 'kafkaPartition' in changes ? changes.kafkaPartition : r.kafkaPartition,
    keySchema: 'keySchema' in changes ? changes.keySchema : r.keySchema,
    key: 'key' in changes ? changes.key : r.key,
    valueSchema: 'valueSchema' in changes ? changes.valueSchema : r.valueSchema,
    value: 'value' in changes ? changes.value : r.value,
    timestamp: 'timestamp' in changes ? changes.timestamp : r.timestamp,
    headers: changes.headers ?? r.headers.duplicate(),
  }
}
