/**
 * Source partitions and offsets, byte-compatible with Confluent's JDBC source so a deployment moving
 * from Kafka Connect resumes from its stored offsets (its `TimestampIncrementingOffset`):
 *
 * - table mode, protocol v1: `{"table": "<catalog>.<schema>.<table>" (null parts skipped), "protocol": "1"}`;
 *   at start the v0 partition `{"table": "<table>"}` is read when no v1 offset exists;
 * - bulk mode: `{"table": "<table>"}` with a null offset;
 * - query mode: `{"query": "query"}` (the text is not part of it: editing the query keeps the offset);
 * - offset: `incrementing` (long), `timestamp` (epoch ms), `timestamp_nanos` (nanos of the second),
 *   each present only when the mode uses it.
 */
import type { OffsetMap } from '../../../api/records.ts'
import type { Dialect, TableId } from '../common/dialect.ts'
import { epochMs, fromOffsetFields, type SqlTimestamp } from './sql-time.ts'

export const INCREMENTING_FIELD = 'incrementing'
export const TIMESTAMP_FIELD = 'timestamp'
export const TIMESTAMP_NANOS_FIELD = 'timestamp_nanos'

export function tablePartitionV1(dialect: Dialect, table: TableId): OffsetMap {
  return { table: dialect.tableName(table), protocol: '1' }
}

export function tablePartitionV0(table: TableId): OffsetMap {
  return { table: table.table }
}

export const QUERY_PARTITION: OffsetMap = Object.freeze({ query: 'query' })

export interface QueryOffset {
  /** The last incrementing value read; undefined before any. */
  incrementing?: bigint | undefined
  timestamp?: SqlTimestamp | undefined
}

export function offsetToMap(offset: QueryOffset): OffsetMap {
  const map: Record<string, number> = {}
  if (offset.incrementing !== undefined) map[INCREMENTING_FIELD] = Number(offset.incrementing)
  if (offset.timestamp !== undefined) {
    map[TIMESTAMP_FIELD] = epochMs(offset.timestamp)
    map[TIMESTAMP_NANOS_FIELD] = offset.timestamp.nanos
  }
  return map
}

function asInteger(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value)
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value)
  if (typeof value === 'bigint') return value
  return undefined
}

/** Reads a stored offset (Confluent's or ours); unknown or malformed fields are ignored. */
export function offsetFromMap(map: OffsetMap | null | undefined): QueryOffset {
  if (!map) return {}
  const incrementing = asInteger(map[INCREMENTING_FIELD])
  const ms = asInteger(map[TIMESTAMP_FIELD])
  const nanos = asInteger(map[TIMESTAMP_NANOS_FIELD])
  return {
    incrementing,
    timestamp:
      ms === undefined
        ? undefined
        : fromOffsetFields(Number(ms), nanos === undefined ? undefined : Number(nanos)),
  }
}
