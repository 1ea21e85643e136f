/**
 * The CDC task's start-up decisions, apart from the task's state: which tables are captured, whether
 * the slot can be used with the stored offsets (waiting for a slot a dead client still holds), whether
 * to snapshot, and what a replication failure tells the operator.
 */
import type pg from 'pg'
import { ConnectError, errorMessage, RetriableError } from '../../api/errors.ts'
import type { Catalog } from './catalog.ts'
import type { CdcSettings } from './config.ts'
import type { StoredOffset } from './offsets.ts'
import { checkSlot, type SlotInfo, slotInfo } from './setup.ts'

/** Whether `schema.table` (`id`) is captured by the include/exclude lists. */
export function isCaptured(s: CdcSettings, schema: string, id: string): boolean {
  if (s.schemaInclude.length > 0 && !s.schemaInclude.some((r) => r.test(schema))) return false
  if (s.schemaExclude.some((r) => r.test(schema))) return false
  if (s.tableInclude.length > 0) return s.tableInclude.some((r) => r.test(id))
  return !s.tableExclude.some((r) => r.test(id))
}

export async function capturedTables(catalog: Catalog, s: CdcSettings): Promise<string[]> {
  const ids = (await catalog.tables())
    .filter(([schema, table]) => isCaptured(s, schema, `${schema}.${table}`))
    .map(([schema, table]) => `${schema}.${table}`)
  // Debezium snapshots tables in the order of table.include.list, then by name.
  const rank = (id: string): number => {
    const i = s.tableInclude.findIndex((r) => r.test(id))
    return i < 0 ? Number.MAX_SAFE_INTEGER : i
  }
  return ids.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
}

export async function warnTablesWithoutKey(
  client: pg.Client,
  s: CdcSettings,
  tables: string[],
  warn: (key: string, message: string) => void,
): Promise<void> {
  if (tables.length === 0) return
  const { rows } = await client.query(
    `SELECT n.nspname || '.' || c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname || '.' || c.relname = ANY($1) AND c.relreplident IN ('d', 'n')
        AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)`,
    [tables],
  )
  for (const r of rows) {
    const id = String(r.id)
    if (s.messageKeyColumns.some((k) => k.table.test(id))) continue
    warn(
      `nokey:${id}`,
      `table ${id} has no primary key and REPLICA IDENTITY DEFAULT: its events have null keys, and UPDATE/DELETE on it ` +
        `fail in PostgreSQL while it is in a publication that publishes them. Add a primary key, or run ALTER TABLE ${id} REPLICA IDENTITY FULL.`,
    )
  }
}

/**
 * The slot as start finds it, checked against the stored offsets: null when `stopped()` turned true
 * while waiting for a slot still held by a walsender whose client just died (kill -9).
 */
export async function slotForStart(
  client: pg.Client,
  s: CdcSettings,
  stored: StoredOffset | null,
  stopped: () => boolean,
  warn: (key: string, message: string) => void,
): Promise<{ slot: SlotInfo | null; slotLost: boolean } | null> {
  let slot = await slotInfo(client, s.slotName)
  // A slot still held by a walsender whose client just died (kill -9) frees up shortly: retry.
  for (let attempt = 0; slot?.active && attempt < s.slotMaxRetries && !stopped(); attempt++) {
    warn(`busy:${attempt}`, `replication slot '${s.slotName}' is active for PID ${slot.activePid}; retrying`)
    const until = Date.now() + s.slotRetryDelayMs
    while (Date.now() < until && !stopped()) await new Promise((resolve) => setTimeout(resolve, 100))
    // stop() during the wait closed the client: leave quietly rather than fail on it.
    if (stopped()) return null
    slot = await slotInfo(client, s.slotName)
  }
  if (slot) checkSlot(slot, s)
  const offsetLsn = stored ? (stored.position.lsnCommit ?? stored.position.lsn) : null
  let slotLost = false
  if (
    !slot &&
    stored &&
    !stored.snapshotIncomplete &&
    s.snapshotMode !== 'always' &&
    s.snapshotMode !== 'when_needed'
  ) {
    throw new ConnectError(
      'CONNECT',
      `replication slot '${s.slotName}' does not exist although offsets say streaming was under way: it was dropped, ` +
        'so changes made since are lost. Set snapshot.mode=when_needed (or always) to re-snapshot, or reset the offsets.',
    )
  }
  if (
    slot &&
    stored &&
    offsetLsn !== null &&
    slot.confirmedFlush !== null &&
    slot.confirmedFlush > offsetLsn
  ) {
    if (s.snapshotMode === 'when_needed' || s.snapshotMode === 'always') slotLost = true
    else {
      throw new ConnectError(
        'CONNECT',
        `replication slot '${s.slotName}' is at ${slot.confirmedFlush}, past the connector's offset ${offsetLsn}: the slot was ` +
          'dropped and recreated or advanced by someone else, and the changes in between are lost. Set ' +
          'snapshot.mode=when_needed to re-snapshot, or reset the offsets.',
      )
    }
  }
  return { slot, slotLost }
}

export function decideSnapshot(s: CdcSettings, stored: StoredOffset | null, slotNewOrLost: boolean): boolean {
  switch (s.snapshotMode) {
    case 'always':
      return true
    case 'no_data':
      return false
    case 'when_needed':
      return !stored || stored.snapshotIncomplete || slotNewOrLost
    default:
      return !stored || stored.snapshotIncomplete
  }
}

/** Turns server errors on the replication connection into messages that say what to do. */
export function describeFailure(error: Error, s: CdcSettings | undefined): Error {
  const message = errorMessage(error)
  const slot = s?.slotName ?? 'debezium'
  if (/replication slot .* does not exist/.test(message)) {
    return new ConnectError(
      'CONNECT',
      `replication slot '${slot}' was dropped while the connector was streaming (${message}): changes since are lost. ` +
        'Restart the connector with snapshot.mode=when_needed to re-create the slot and re-snapshot.',
      { cause: error },
    )
  }
  if (/is active for PID/.test(message)) {
    return new RetriableError(
      `${message}: stop the other consumer of slot '${slot}' or set slot.name to another slot`,
      {
        cause: error,
      },
    )
  }
  if (
    /can no longer get changes|has been invalidated|requested WAL segment .* has already been removed/.test(
      message,
    )
  ) {
    return new ConnectError(
      'CONNECT',
      `replication slot '${slot}' can no longer stream (${message}): the WAL it needs is gone. Drop the slot and restart with snapshot.mode=when_needed.`,
      { cause: error },
    )
  }
  if (error instanceof ConnectError) return error
  return new RetriableError(`lost the replication connection: ${message}`, { cause: error })
}
