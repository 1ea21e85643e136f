/**
 * Builds Debezium change event records: envelope values, the `source` block, tombstones and
 * heartbeats, on Debezium's topics.
 */
import { randomBytes } from 'node:crypto'
import type { Schema } from '../../api/data/schema.ts'
import { SchemaBuilder } from '../../api/data/schema-builder.ts'
import { Struct } from '../../api/data/struct.ts'
import { Headers } from '../../api/headers.ts'
import { type OffsetMap, SourceRecord } from '../../api/records.ts'
import {
  ENVELOPE_AFTER,
  ENVELOPE_BEFORE,
  ENVELOPE_OP,
  ENVELOPE_SOURCE,
  ENVELOPE_TS_MS,
  ENVELOPE_TS_NS,
  ENVELOPE_TS_US,
  SOURCE_SCHEMA,
  type TableSchema,
  TRANSACTION_BLOCK_SCHEMA,
} from './table-schema.ts'

/** The Debezium release whose event format we emit (`source.version`). */
export const DEBEZIUM_FORMAT_VERSION = '3.6.1.Final'

export type SnapshotMarker =
  | 'false'
  | 'true'
  | 'first'
  | 'first_in_data_collection'
  | 'last_in_data_collection'
  | 'last'
  | 'incremental'

export interface SourceInfo {
  database: string
  serverName: string
  /** Commit (or read) time, µs since the epoch. */
  timeUs: bigint
  snapshot: SnapshotMarker
  lsnCommit: number | null
  lsn: number | null
  txId: number | null
}

/** The `source` block's fields, in SOURCE_SCHEMA's order: its structs are built from value arrays. */
const SOURCE_FIELDS = [
  'version',
  'connector',
  'name',
  'ts_ms',
  'snapshot',
  'db',
  'sequence',
  'ts_us',
  'ts_ns',
  'schema',
  'table',
  'txId',
  'lsn',
  'xmin',
  'origin',
  'origin_lsn',
] as const
if (SOURCE_SCHEMA.fields.map((f) => f.name).join() !== SOURCE_FIELDS.join())
  throw new Error('SOURCE_SCHEMA and SOURCE_FIELDS disagree: keep them in the same order')

/**
 * The events of a transaction share their commit LSN and time: the start of `sequence` and `ts_ns` are
 * made once for them, not per event; a snapshot's rows share the whole `sequence` (same LSN).
 */
let sequenceCommit: number | null | undefined
let sequenceHead = ''
let sequenceLsn: number | null | undefined
let sequenceText: string | null = null
let nanosOfUs: bigint | undefined
let nanos = 0n

/** Debezium's `sequence`: `["<lsn_commit>","<lsn>"]`, null for either unknown. */
function sequenceOf(lsnCommit: number | null, lsn: number | null): string | null {
  if (lsn === null && lsnCommit === null) return null
  if (lsnCommit !== sequenceCommit) {
    sequenceCommit = lsnCommit
    sequenceHead = lsnCommit === null ? '[null,' : `["${lsnCommit}",`
    sequenceLsn = undefined
  }
  if (lsn !== sequenceLsn) {
    sequenceLsn = lsn
    sequenceText = lsn === null ? `${sequenceHead}null]` : `${sequenceHead}"${lsn}"]`
  }
  return sequenceText
}

export function sourceStruct(ts: Pick<TableSchema, 'schema' | 'table'>, info: SourceInfo): Struct {
  const us = Number(info.timeUs)
  const sequence = sequenceOf(info.lsnCommit, info.lsn)
  if (info.timeUs !== nanosOfUs) {
    nanosOfUs = info.timeUs
    nanos = info.timeUs * 1000n
  }
  // Values in SOURCE_FIELDS order, each of its field's type: no check per field (Struct.trusted).
  return Struct.trusted(SOURCE_SCHEMA, [
    DEBEZIUM_FORMAT_VERSION,
    'postgresql',
    info.serverName,
    Math.trunc(us / 1000),
    info.snapshot,
    info.database,
    sequence,
    us,
    nanos,
    ts.schema,
    ts.table,
    info.txId,
    info.lsn,
    null,
    null,
    null,
  ])
}

export type Op = 'c' | 'u' | 'd' | 'r' | 't'

/** Wall-clock µs since the epoch, as a number (exact: below 2^53 for the next 280 years). */
/** Read once: the getter makes a new heap number on every call (twice per event). */
const TIME_ORIGIN = performance.timeOrigin

export function nowUsNumber(): number {
  // performance.timeOrigin + now() gives sub-millisecond wall-clock time.
  return Math.round((TIME_ORIGIN + performance.now()) * 1000)
}

export function nowUs(): bigint {
  return BigInt(nowUsNumber())
}

export function envelope(
  ts: TableSchema,
  op: Op,
  before: Struct | null,
  after: Struct | null,
  source: Struct,
): Struct {
  const us = nowUsNumber()
  // Debezium's envelope field order (table-schema.ts): before, after, source, transaction, op, ts_ms, ts_us, ts_ns.
  const values: unknown[] = [null, null, null, null, null, null, null, null]
  values[ENVELOPE_BEFORE] = before
  values[ENVELOPE_AFTER] = after
  values[ENVELOPE_SOURCE] = source
  values[ENVELOPE_OP] = op
  values[ENVELOPE_TS_MS] = Math.floor(us / 1000)
  values[ENVELOPE_TS_US] = us
  values[ENVELOPE_TS_NS] = BigInt(us) * 1000n
  // Its structs come from this connector's own builders for these schemas: no check per field.
  return Struct.trusted(ts.envelopeSchema, values)
}

export interface ChangeHeader {
  key: string
  schema: Schema | null
  value: unknown
}

/**
 * Debezium's extended headers (`extended.headers.enabled`, on by default since 3.3), on every change
 * event and tombstone but not on heartbeats, transaction events or logical decoding messages. One
 * PostgreSQL task: task id `0`. The run id is a time-ordered UUID (version 7), new at each start.
 */
export function contextHeaders(topicPrefix: string): ChangeHeader[] {
  const string = SchemaBuilder.string().build()
  return [
    { key: '__debezium.context.connectorLogicalName', schema: string, value: topicPrefix },
    { key: '__debezium.context.taskId', schema: string, value: '0' },
    { key: '__debezium.context.connectorName', schema: string, value: 'postgresql' },
    { key: '__debezium.context.runId', schema: string, value: uuidV7() },
  ]
}

/** RFC 9562 version 7: 48 bits of Unix milliseconds, then random bits with version and variant. */
export function uuidV7(now = Date.now()): string {
  const bytes = randomBytes(16)
  bytes.writeUIntBE(now, 0, 6)
  bytes[6] = (bytes[6] & 0x0f) | 0x70
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * The list of headers last passed (a task passes its context headers with every event) and one
 * `Headers` of it whose duplicates the records get: they share the list until one of them changes
 * (copy-on-write), instead of a copy of the list per event. Lists must not change once passed.
 */
let lastHeaderList: ChangeHeader[] | null = null
let lastHeaders: Headers | null = null

function headersFor(list: ChangeHeader[]): Headers {
  if (list !== lastHeaderList || lastHeaders === null) {
    lastHeaderList = list
    lastHeaders = new Headers(list)
  }
  return lastHeaders.duplicate()
}

export function changeRecord(
  ts: TableSchema,
  key: Struct | null,
  value: Struct | null,
  partition: OffsetMap,
  offset: OffsetMap,
  headers?: ChangeHeader[],
): SourceRecord {
  return new SourceRecord({
    topic: ts.topic,
    keySchema: ts.keySchema,
    key,
    valueSchema: value === null ? null : ts.envelopeSchema,
    value,
    sourcePartition: partition,
    sourceOffset: offset,
    headers: headers === undefined ? undefined : headersFor(headers),
  })
}

const HEARTBEAT_KEY_SCHEMA = SchemaBuilder.struct()
  .name('io.debezium.connector.common.ServerNameKey')
  .version(1)
  .field('serverName', SchemaBuilder.string().build())
  .build()
const HEARTBEAT_VALUE_SCHEMA = SchemaBuilder.struct()
  .name('io.debezium.connector.common.Heartbeat')
  .version(1)
  .field('ts_ms', SchemaBuilder.int64().build())
  .build()

export function heartbeatRecord(
  topic: string,
  serverName: string,
  partition: OffsetMap,
  offset: OffsetMap,
): SourceRecord {
  return new SourceRecord({
    topic,
    keySchema: HEARTBEAT_KEY_SCHEMA,
    key: new Struct(HEARTBEAT_KEY_SCHEMA).put('serverName', serverName),
    valueSchema: HEARTBEAT_VALUE_SCHEMA,
    value: new Struct(HEARTBEAT_VALUE_SCHEMA).put('ts_ms', Date.now()),
    sourcePartition: partition,
    sourceOffset: offset,
  })
}

// Names and versions as Debezium 3.6 writes them (test/golden/debezium-postgres-signals/).
const TX_KEY_SCHEMA = SchemaBuilder.struct()
  .name('io.debezium.connector.common.TransactionMetadataKey')
  .version(1)
  .field('id', SchemaBuilder.string().build())
  .build()
const TX_COLLECTION_SCHEMA = SchemaBuilder.struct()
  .name('event.collection')
  .version(1)
  .optional()
  .field('data_collection', SchemaBuilder.string().build())
  .field('event_count', SchemaBuilder.int64().build())
  .build()
const TX_VALUE_SCHEMA = SchemaBuilder.struct()
  .name('io.debezium.connector.common.TransactionMetadataValue')
  .version(1)
  .field('status', SchemaBuilder.string().build())
  .field('id', SchemaBuilder.string().build())
  .field('event_count', SchemaBuilder.int64().optional().build())
  .field('data_collections', SchemaBuilder.array(TX_COLLECTION_SCHEMA).optional().build())
  .field('ts_ms', SchemaBuilder.int64().build())
  .build()

export function transactionRecord(
  topic: string,
  status: 'BEGIN' | 'END',
  id: string,
  timeMs: number,
  counts: Map<string, number> | null,
  partition: OffsetMap,
  offset: OffsetMap,
): SourceRecord {
  const value = new Struct(TX_VALUE_SCHEMA).put('status', status).put('id', id).put('ts_ms', timeMs)
  if (counts) {
    let total = 0
    const collections = [...counts].map(([name, count]) => {
      total += count
      return new Struct(TX_COLLECTION_SCHEMA).put('data_collection', name).put('event_count', count)
    })
    value.put('event_count', total).put('data_collections', collections)
  }
  return new SourceRecord({
    topic,
    keySchema: TX_KEY_SCHEMA,
    key: new Struct(TX_KEY_SCHEMA).put('id', id),
    valueSchema: TX_VALUE_SCHEMA,
    value,
    sourcePartition: partition,
    sourceOffset: offset,
  })
}

const MESSAGE_KEY_SCHEMA = SchemaBuilder.struct()
  .name('io.debezium.connector.postgresql.MessageKey')
  .version(1)
  .field('prefix', SchemaBuilder.string().optional().build())
  .build()

function messageSchemas(binaryAsString: boolean): { block: Schema; value: Schema } {
  const block = SchemaBuilder.struct()
    .name('io.debezium.connector.postgresql.Message')
    .version(1)
    .field('prefix', SchemaBuilder.string().optional().build())
    .field('content', (binaryAsString ? SchemaBuilder.string() : SchemaBuilder.bytes()).optional().build())
    .build()
  const value = SchemaBuilder.struct()
    .name('io.debezium.connector.postgresql.MessageValue')
    .version(1)
    .field('op', SchemaBuilder.string().build())
    .field('ts_ms', SchemaBuilder.int64().optional().build())
    .field('source', SOURCE_SCHEMA)
    .field('transaction', TRANSACTION_BLOCK_SCHEMA)
    .field('message', block)
    .build()
  return { block, value }
}
const MESSAGE_BYTES = messageSchemas(false)
const MESSAGE_STRING = messageSchemas(true)

/**
 * A logical decoding message (`pg_logical_emit_message`) as Debezium emits it: topic
 * `<prefix>.message`, key `MessageKey {prefix}`, value `MessageValue` with `op: "m"`. The content
 * follows `binary.handling.mode`.
 */
export function logicalMessageRecord(
  topic: string,
  prefix: string,
  content: Uint8Array | string,
  source: Struct,
  partition: OffsetMap,
  offset: OffsetMap,
): SourceRecord {
  const schemas = typeof content === 'string' ? MESSAGE_STRING : MESSAGE_BYTES
  const value = new Struct(schemas.value)
    .put('op', 'm')
    .put('ts_ms', Date.now())
    .put('source', source)
    .put('message', new Struct(schemas.block).put('prefix', prefix).put('content', content))
  return new SourceRecord({
    topic,
    keySchema: MESSAGE_KEY_SCHEMA,
    key: new Struct(MESSAGE_KEY_SCHEMA).put('prefix', prefix),
    valueSchema: schemas.value,
    value,
    sourcePartition: partition,
    sourceOffset: offset,
  })
}
