/**
 * Blocking snapshots (Debezium 2.5+): `execute-snapshot` with `"type": "blocking"`, from the signal table
 * or the Kafka channel. Streaming pauses right after the signal, the listed tables are read like the
 * initial snapshot (`op: r`, `source.snapshot` first/true/…/last), then streaming resumes where it paused.
 *
 * As in Debezium: `data-collections` are regular expressions (full match, case-insensitive) over the
 * captured tables; an `additional-conditions` entry `{"data-collection": <table>, "filter": <SELECT>}`
 * replaces the table's `SELECT *` (checked to be one query by signal-data.ts, run READ ONLY); the records carry the streaming offset of the pause with
 * `snapshot: BLOCKING`, `last_snapshot_record` and `snapshot_completed`.
 *
 * Restart during a blocking snapshot: Debezium abandons it (its offset says BLOCKING, not INITIAL, so
 * nothing re-runs it; streaming resumes at the pause). We resume it: the records also carry
 * `blocking_snapshot_collections`, the tables still to read (the current one first), so a restart
 * reads those again — the current table from its start (at-least-once) — then streams from the pause.
 */

import { compileJavaRegex } from '../../api/java-regex.ts'
import type { OffsetMap } from '../../api/records.ts'
import type { SnapshotRequest } from './signal-data.ts'

export interface BlockingTable {
  id: string
  /** A SELECT replacing `SELECT * FROM <table>`, or null. */
  select: string | null
}

export const BLOCKING_OFFSET_KEY = 'blocking_snapshot_collections'

/** The captured tables a blocking snapshot reads, in capture order, with their SELECT overrides. */
export function blockingTables(captured: readonly string[], request: SnapshotRequest): BlockingTable[] {
  // Debezium splits each entry on commas too (Strings.setOfRegex) and matches case-insensitively.
  const patterns = request.collections
    .flatMap((c) => c.split(','))
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .map((c) => compileJavaRegex(`(?i)${c}`).whole)
  return captured
    .filter((t) => patterns.some((p) => p.test(t)))
    .map((id) => {
      const condition = request.conditions.find(
        (c) => c.dataCollection === id || compileJavaRegex(`(?i)${c.dataCollection}`).whole.test(id),
      )
      return { id, select: condition?.filter ?? null }
    })
}

/** Offset keys of a blocking snapshot record: the tables still to read from this record on. */
export function blockingOffsetKeys(remaining: readonly BlockingTable[], last: boolean): OffsetMap {
  return {
    snapshot: 'BLOCKING',
    last_snapshot_record: last,
    snapshot_completed: last,
    ...(last ? {} : { [BLOCKING_OFFSET_KEY]: JSON.stringify(remaining) }),
  }
}

/** The tables of a blocking snapshot a stored offset says was under way, or null. */
export function readBlocking(offset: OffsetMap | null): BlockingTable[] | null {
  if (offset?.snapshot !== 'BLOCKING' || offset.last_snapshot_record === true) return null
  const raw = offset[BLOCKING_OFFSET_KEY]
  if (typeof raw !== 'string') return null
  const parsed = JSON.parse(raw) as BlockingTable[]
  return parsed.length > 0 ? parsed : null
}
