/**
 * Pre-flight checks and the publication, with plain-language failures: what is wrong and how to fix
 * it, before anything is streamed.
 */
import type pg from 'pg'
import { ConfigError, ConnectError, RetriableError } from '../../api/errors.ts'
import type { Catalog } from './catalog.ts'
import type { CdcSettings } from './config.ts'
import { type Lsn, parseLsn } from './lsn.ts'
import { APPLICATION_NAME, quoteIdent } from './replication-connection.ts'

export interface SlotInfo {
  plugin: string
  database: string
  active: boolean
  activePid: number | null
  confirmedFlush: Lsn | null
  walStatus: string | null
}

/** A problem found before start: the config key to fix, and how. */
export type ServerProblem = [key: string, message: string]

/**
 * What logical decoding needs of the server, checked by the connector's `validate()` (config/validate
 * and create) so a server that cannot stream is refused before the connector is accepted: `wal_level`,
 * the user's REPLICATION attribute, and the slot — a free one under `max_replication_slots`, or the
 * named slot usable (pgoutput, this database, not held by a client other than Sluice).
 */
export async function serverProblems(client: pg.Client, settings: CdcSettings): Promise<ServerProblem[]> {
  const problems: ServerProblem[] = []
  const { rows } = await client.query(
    `SELECT current_setting('wal_level') AS wal_level,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_replicate,
            current_setting('max_replication_slots')::int AS max_slots,
            (SELECT count(*) FROM pg_replication_slots)::int AS slots`,
  )
  const server = rows[0] as { wal_level: string; can_replicate: unknown; max_slots: unknown; slots: unknown }
  if (server.wal_level !== 'logical') {
    problems.push(['database.hostname', walLevelMessage(settings, server.wal_level)])
  }
  if (server.can_replicate !== 't' && server.can_replicate !== true) {
    problems.push(['database.user', replicationMessage(settings)])
  }
  const slot = await slotInfo(client, settings.slotName)
  if (!slot) {
    if (Number(server.slots) >= Number(server.max_slots)) {
      problems.push([
        'slot.name',
        `replication slot '${settings.slotName}' does not exist and cannot be created: all ${String(server.max_slots)} ` +
          'slots of max_replication_slots are taken. Drop an unused slot (SELECT pg_drop_replication_slot(…)), ' +
          'raise max_replication_slots (server restart), or set slot.name to an existing slot of this connector',
      ])
    }
    return problems
  }
  try {
    checkSlot(slot, settings)
  } catch (error) {
    if (!(error instanceof RetriableError)) problems.push(['slot.name', (error as Error).message])
    else {
      // Held by a walsender: fine when that is a Sluice task (this connector, reconfigured while it runs).
      const { rows: holder } = await client.query(
        'SELECT application_name FROM pg_stat_activity WHERE pid = $1',
        [slot.activePid],
      )
      const application = holder.length > 0 ? String(holder[0].application_name) : null
      if (application !== APPLICATION_NAME) {
        problems.push([
          'slot.name',
          `replication slot '${settings.slotName}' is in use by PID ${slot.activePid}` +
            `${application ? ` (application '${application}')` : ''}: stop that consumer or set slot.name to another slot`,
        ])
      }
    }
  }
  return problems
}

function walLevelMessage(settings: CdcSettings, walLevel: unknown): string {
  return (
    `PostgreSQL at ${settings.host}:${settings.port} has wal_level=${String(walLevel)}: logical decoding needs ` +
    "wal_level=logical. Run ALTER SYSTEM SET wal_level = 'logical' and restart the server."
  )
}

function replicationMessage(settings: CdcSettings): string {
  return (
    `user '${settings.user}' has no REPLICATION privilege: run ALTER ROLE "${settings.user}" WITH REPLICATION ` +
    '(or use a role that has it)'
  )
}

export async function checkServer(client: pg.Client, settings: CdcSettings): Promise<void> {
  const { rows } = await client.query(
    `SELECT current_setting('wal_level') AS wal_level,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_replicate`,
  )
  if (rows[0].wal_level !== 'logical') {
    throw new ConnectError('CONNECT', walLevelMessage(settings, rows[0].wal_level))
  }
  if (rows[0].can_replicate !== 't' && rows[0].can_replicate !== true) {
    throw new ConnectError('CONNECT', replicationMessage(settings))
  }
}

export async function slotInfo(client: pg.Client, slot: string): Promise<SlotInfo | null> {
  const { rows } = await client.query(
    `SELECT plugin, database, active, active_pid, confirmed_flush_lsn, wal_status
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  )
  if (rows.length === 0) return null
  const r = rows[0] as Record<string, string | null>
  return {
    plugin: String(r.plugin),
    database: String(r.database),
    active: r.active === 't',
    activePid: r.active_pid === null ? null : Number(r.active_pid),
    confirmedFlush: r.confirmed_flush_lsn === null ? null : parseLsn(r.confirmed_flush_lsn),
    walStatus: r.wal_status,
  }
}

/** Fails when an existing slot cannot be used by this connector, saying why and what to do. */
export function checkSlot(info: SlotInfo, settings: CdcSettings): void {
  const slot = settings.slotName
  if (info.plugin !== 'pgoutput') {
    throw new ConnectError(
      'CONNECT',
      `replication slot '${slot}' uses the ${info.plugin} plugin, but this connector decodes pgoutput: drop it ` +
        `(SELECT pg_drop_replication_slot('${slot}')) and re-snapshot, or set slot.name to a new slot`,
    )
  }
  if (info.database !== settings.database) {
    throw new ConnectError(
      'CONNECT',
      `replication slot '${slot}' belongs to database '${info.database}', not '${settings.database}': set slot.name to a slot of this database`,
    )
  }
  if (info.walStatus === 'lost') {
    throw new ConnectError(
      'CONNECT',
      `replication slot '${slot}' was invalidated by the server (wal_status=lost, e.g. max_slot_wal_keep_size): the WAL ` +
        'it needs is gone. Drop the slot, then restart with snapshot.mode=when_needed (or always) to re-snapshot.',
    )
  }
  if (info.active) {
    throw new RetriableError(
      `replication slot '${slot}' is active for PID ${info.activePid}: stop the other consumer ` +
        `(SELECT pg_terminate_backend(${info.activePid})) or set slot.name to another slot. If its client died, the ` +
        'server notices after wal_sender_timeout (60 s by default); slot.max.retries and slot.retry.delay.ms set how long we wait.',
    )
  }
}

/** Creates or adjusts the publication as `publication.autocreate.mode` says. */
export async function ensurePublication(
  client: pg.Client,
  catalog: Catalog,
  settings: CdcSettings,
  capturedTables: string[],
): Promise<void> {
  const name = settings.publicationName
  const { rows } = await client.query('SELECT puballtables FROM pg_publication WHERE pubname = $1', [name])
  const exists = rows.length > 0
  const mode = settings.publicationAutocreate
  const publish = publishOption(settings)
  if (mode === 'disabled') {
    if (!exists) {
      throw new ConfigError(
        'publication.autocreate.mode',
        `publication '${name}' does not exist and publication.autocreate.mode=disabled: create it ` +
          `(CREATE PUBLICATION "${name}" FOR ALL TABLES) or set publication.autocreate.mode=all_tables`,
      )
    }
    return
  }
  void catalog
  if (mode === 'all_tables') {
    if (!exists) await client.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR ALL TABLES${publish}`)
    return
  }
  if (mode === 'no_tables') {
    if (!exists) await client.query(`CREATE PUBLICATION ${quoteIdent(name)}${publish}`)
    return
  }
  // filtered
  const tables = [...new Set(capturedTables)].map((t) => t.split('.').map(quoteIdent).join('.'))
  if (tables.length === 0) {
    throw new ConnectError(
      'CONNECT',
      `no table matches the include/exclude lists, so the filtered publication '${name}' would be empty: check table.include.list`,
    )
  }
  if (!exists) {
    await client.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${tables.join(', ')}${publish}`)
  } else if (rows[0].puballtables === 't') {
    throw new ConnectError(
      'CONNECT',
      `publication '${name}' is FOR ALL TABLES, which publication.autocreate.mode=filtered cannot narrow: drop it or use another publication.name`,
    )
  } else {
    await client.query(`ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${tables.join(', ')}`)
  }
}

function publishOption(settings: CdcSettings): string {
  if (settings.skipped.size === 0) return ''
  const ops = [
    ['c', 'insert'],
    ['u', 'update'],
    ['d', 'delete'],
    ['t', 'truncate'],
  ]
    .filter(([op]) => !settings.skipped.has(op))
    .map(([, name]) => name)
  return ` WITH (publish = '${ops.join(', ')}')`
}
