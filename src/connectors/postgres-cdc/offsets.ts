/**
 * Debezium's PostgreSQL offset map (`PostgresOffsetContext.getOffset()`), partition
 * `{"server": <topic.prefix>}`. LSNs are 64-bit numbers. We add one key of our own,
 * `tx_events_processed`: how many change messages of transaction `txId` were already handled, so a
 * restart inside a transaction resumes at the next message even when several share one LSN (COPY,
 * multi-row INSERT) — the case Debezium's restart positioning loses (dbz#1554).
 */
import type { OffsetMap } from '../../api/records.ts'
import type { Lsn } from './lsn.ts'

export interface StreamPosition {
  /** End LSN of the last fully processed transaction: where streaming restarts, and what is flushed. */
  lsnCommit: Lsn | null
  /** LSN of the last processed change. */
  lsn: Lsn | null
  txId: number | null
  /** Change messages of `txId` already processed; null when unknown (an offset Debezium wrote). */
  txEventsProcessed: number | null
}

export interface StoredOffset {
  position: StreamPosition
  /** A snapshot was under way (`snapshot` key present) and did not reach its last record. */
  snapshotIncomplete: boolean
  /** Incremental snapshot state, if one was running. */
  incremental: IncrementalState | null
}

export interface IncrementalCollection {
  id: string
  additionalCondition: string | null
}

export interface IncrementalState {
  collections: IncrementalCollection[]
  /** Last key read of the current (first) collection, as a JSON array; null before its first chunk. */
  lastKey: unknown[] | null
  maximumKey: unknown[] | null
  correlationId: string | null
  paused: boolean
}

const num = (value: unknown): number | null => (typeof value === 'number' ? value : null)

export function readOffset(offset: OffsetMap | null): StoredOffset | null {
  if (!offset) return null
  const lsnCommit = num(offset.lsn_commit) ?? num(offset.lsn_proc)
  const snapshotKey = offset.snapshot
  // Only an initial snapshot re-runs when incomplete; a BLOCKING one resumes itself (blocking-snapshot.ts).
  const inSnapshot =
    snapshotKey !== undefined &&
    snapshotKey !== null &&
    snapshotKey !== false &&
    snapshotKey !== 'BLOCKING' &&
    snapshotKey !== 'INCREMENTAL'
  return {
    position: {
      lsnCommit,
      lsn: num(offset.lsn),
      txId: num(offset.txId),
      txEventsProcessed: num(offset.tx_events_processed),
    },
    snapshotIncomplete: inSnapshot && offset.last_snapshot_record !== true,
    incremental: readIncremental(offset),
  }
}

function readIncremental(offset: OffsetMap): IncrementalState | null {
  const raw = offset.incremental_snapshot_collections
  if (typeof raw !== 'string') return null
  const parsed = JSON.parse(raw) as Record<string, string | null>[]
  const key = (name: string): unknown[] | null => {
    const text = offset[name]
    if (typeof text !== 'string') return null
    if (!text.startsWith('[')) {
      throw new Error(
        `offset key ${name} holds a Java-serialized key (written by Debezium): restart that incremental snapshot ` +
          'with a stop-snapshot and an execute-snapshot signal',
      )
    }
    return JSON.parse(text) as unknown[]
  }
  return {
    collections: parsed.map((c) => ({
      id: String(c.incremental_snapshot_collections_id),
      additionalCondition: c.incremental_snapshot_collections_additional_condition ?? null,
    })),
    lastKey: key('incremental_snapshot_primary_key'),
    maximumKey: key('incremental_snapshot_maximum_key'),
    correlationId:
      typeof offset.incremental_snapshot_correlation_id === 'string'
        ? offset.incremental_snapshot_correlation_id
        : null,
    paused: offset.incremental_snapshot_paused === true,
  }
}

export function incrementalOffsetKeys(
  state: IncrementalState | null,
): Record<string, string | boolean | null> {
  if (!state || state.collections.length === 0) return {}
  return {
    incremental_snapshot_collections: JSON.stringify(
      state.collections.map((c) => ({
        incremental_snapshot_collections_id: c.id,
        incremental_snapshot_collections_additional_condition: c.additionalCondition,
        incremental_snapshot_collections_surrogate_key: null,
        incremental_snapshot_collections_correlation_id: state.correlationId,
      })),
    ),
    incremental_snapshot_primary_key: state.lastKey ? JSON.stringify(state.lastKey) : null,
    incremental_snapshot_maximum_key: state.maximumKey ? JSON.stringify(state.maximumKey) : null,
    incremental_snapshot_correlation_id: state.correlationId,
    incremental_snapshot_paused: state.paused,
  }
}
