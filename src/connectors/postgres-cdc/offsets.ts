/**
 * Debezium's PostgreSQL offset map (`PostgresOffsetContext.getOffset()`), partition
 * `{"server": <topic.prefix>}`. LSNs are 64-bit numbers. We add one key of our own,
 * `tx_events_processed`: how many change messages of transaction `txId` were already handled, so a
 * restart inside a transaction resumes at the next message even when several share one LSN (COPY,
 * multi-row INSERT) — the case Debezium's restart positioning loses (dbz#1554).
 */
import type { OffsetMap } from '../../api/records.ts'
import { deserializeKey, type JavaType, serializeKey } from './java-serialization.ts'
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
  /** Problems met reading the offset that were worked around (to be logged). */
  warnings: string[]
}

export interface IncrementalCollection {
  id: string
  additionalCondition: string | null
  /** `surrogate-key` of the execute-snapshot signal: the column that replaces the primary key. */
  surrogateKey: string | null
}

/**
 * Incremental-snapshot progress, kept in the offsets in Debezium's form
 * (`AbstractIncrementalSnapshotContext.store`): keys are hex of a Java-serialized `Object[]`.
 */
export interface IncrementalState {
  collections: IncrementalCollection[]
  /**
   * Key of the last row of the current (first) collection handed on as an event (Debezium's
   * `lastEventKeySent`), as the key columns' text values; null before the first. A restart reads on
   * from the row after it.
   */
  lastKey: (string | null)[] | null
  /** Largest key of the current collection when its snapshot began; null until read. */
  maximumKey: (string | null)[] | null
  /**
   * Java classes of the key columns (what Debezium's keys hold), known from the offset Debezium wrote
   * or from the key columns' types; null while unknown. Keys are written in Debezium's form when every
   * class is known, else as JSON arrays (Sluice's earlier form, which Debezium cannot read).
   */
  keyTypes: (JavaType | null)[] | null
  correlationId: string | null
  paused: boolean
}

const num = (value: unknown): number | null => (typeof value === 'number' ? value : null)

/**
 * The position reached after `reached`, for a task that resumed at `resume`. A restart inside a
 * transaction receives it again from its start and skips the change messages the stored offset
 * counts as done: until it has passed them it has reached the stored position — not the message it
 * skipped to, nor the commit before the transaction. Offsets taken meanwhile (heartbeats, the pause
 * of a blocking snapshot) and a reconnect must keep it, or a second restart would emit again what the
 * first one skipped (Debezium's offset context likewise stays at the stored position until a message
 * past it is processed). A stored position that counts messages holds until its transaction's count
 * passes it; one that does not (Debezium's, skipping by LSN) while its transaction is at or before
 * its LSN.
 */
export function positionReached(resume: StreamPosition | null, reached: StreamPosition): StreamPosition {
  if (!resume || resume.txId === null) return reached
  const inTx = reached.txId === resume.txId
  if (resume.txEventsProcessed === null)
    return inTx && (reached.lsn ?? 0) <= (resume.lsn ?? 0) ? resume : reached
  return inTx && (reached.txEventsProcessed ?? 0) > resume.txEventsProcessed ? reached : resume
}

export function readOffset(offset: OffsetMap | null): StoredOffset | null {
  if (!offset) return null
  const warnings: string[] = []
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
    incremental: readIncremental(offset, warnings),
    warnings,
  }
}

const PRIMARY_KEY = 'incremental_snapshot_primary_key'
const MAXIMUM_KEY = 'incremental_snapshot_maximum_key'

interface DecodedKey {
  values: (string | null)[] | null
  types: (JavaType | null)[] | null
}

/** A key in Debezium's form (hex of Java serialization) or Sluice's earlier one (JSON array of texts). */
function decodeKey(text: string): DecodedKey {
  if (text.startsWith('[')) return { values: JSON.parse(text) as (string | null)[], types: null }
  const values = deserializeKey(text)
  if (!values) return { values: null, types: null }
  return { values: values.map((v) => v?.text ?? null), types: values.map((v) => v?.type ?? null) }
}

function readIncremental(offset: OffsetMap, warnings: string[]): IncrementalState | null {
  const raw = offset.incremental_snapshot_collections
  if (typeof raw !== 'string') return null
  const parsed = JSON.parse(raw) as Record<string, string | null>[]
  const text = (v: string | null | undefined): string | null => (v === undefined || v === '' ? null : v)
  const collections = parsed.map((c) => ({
    id: String(c.incremental_snapshot_collections_id),
    additionalCondition: text(c.incremental_snapshot_collections_additional_condition),
    surrogateKey: text(c.incremental_snapshot_collections_surrogate_key),
  }))
  let lastKey: DecodedKey = { values: null, types: null }
  let maximumKey: DecodedKey = { values: null, types: null }
  try {
    if (typeof offset[PRIMARY_KEY] === 'string') lastKey = decodeKey(offset[PRIMARY_KEY])
    if (typeof offset[MAXIMUM_KEY] === 'string') maximumKey = decodeKey(offset[MAXIMUM_KEY])
  } catch (error) {
    // Nothing is lost by starting the table over: its rows are read again (op r), not skipped.
    warnings.push(
      `the incremental snapshot keys in the offset (${PRIMARY_KEY}, ${MAXIMUM_KEY}) cannot be read ` +
        `(${error instanceof Error ? error.message : String(error)}): the incremental snapshot of ` +
        `${collections[0]?.id ?? 'the current table'} starts over from its first row. To avoid this, ` +
        'give the table a primary key of a type listed in the connector documentation, or use a surrogate-key',
    )
    lastKey = { values: null, types: null }
    maximumKey = { values: null, types: null }
  }
  return {
    collections,
    lastKey: lastKey.values,
    maximumKey: maximumKey.values,
    keyTypes: lastKey.types ?? maximumKey.types,
    correlationId:
      typeof offset.incremental_snapshot_correlation_id === 'string'
        ? offset.incremental_snapshot_correlation_id
        : null,
    paused: offset.incremental_snapshot_paused === true,
  }
}

/** A key as Debezium writes it when the Java classes are known, else as a JSON array. */
function encodeKey(key: (string | null)[] | null, types: (JavaType | null)[] | null): string {
  if (key === null) return serializeKey(null)
  if (!types || types.length !== key.length || types.some((t, i) => t === null && key[i] !== null)) {
    return JSON.stringify(key)
  }
  return serializeKey(key.map((v, i) => (v === null ? null : { type: types[i]!, text: v })))
}

export function incrementalOffsetKeys(
  state: IncrementalState | null,
): Record<string, string | boolean | null> {
  if (!state || state.collections.length === 0) return {}
  return {
    // Debezium 3.6 writes the first three keys of each collection; 3.7 adds the correlation id.
    incremental_snapshot_collections: JSON.stringify(
      state.collections.map((c) => ({
        incremental_snapshot_collections_id: c.id,
        incremental_snapshot_collections_additional_condition: c.additionalCondition,
        incremental_snapshot_collections_surrogate_key: c.surrogateKey,
        incremental_snapshot_collections_correlation_id: state.correlationId,
      })),
    ),
    [PRIMARY_KEY]: encodeKey(state.lastKey, state.keyTypes),
    [MAXIMUM_KEY]: encodeKey(state.maximumKey, state.keyTypes),
    incremental_snapshot_correlation_id: state.correlationId,
    incremental_snapshot_paused: state.paused,
  }
}
