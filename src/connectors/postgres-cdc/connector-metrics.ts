/**
 * Debezium's connector metrics for this task, registered as Debezium registers its MBeans
 * (`debezium.postgres:type=connector-metrics,context=snapshot|streaming,server=<topic.prefix>`) with
 * the attribute names of its `SnapshotChangeEventSourceMetricsMXBean` and
 * `StreamingChangeEventSourceMetricsMXBean`: SnapshotRunning, SnapshotCompleted, SnapshotAborted,
 * SnapshotPaused, TotalTableCount, RemainingTableCount, RowsScanned (per table),
 * SnapshotDurationInSeconds, MilliSecondsSinceLastEvent, TotalNumberOfEventsSeen; Connected,
 * MilliSecondsBehindSource, NumberOfCommittedTransactions.
 *
 * Two attributes are Sluice's own (Debezium logs them but has no metric for them):
 * `SnapshotType` (INITIAL, BLOCKING or INCREMENTAL) and `RowsEstimated`, the planner's row estimate
 * of each table (`pg_class.reltuples`, -1 when never analyzed) read when the snapshot starts, so
 * progress can be shown against a total.
 */
import type pg from 'pg'
import { type PluginMetricValue, registerPluginMetrics } from '../../api/plugin-metrics.ts'

export type SnapshotType = 'INITIAL' | 'BLOCKING' | 'INCREMENTAL'

export class SnapshotMetrics {
  #type: SnapshotType | '' = ''
  #running = false
  #completed = false
  #aborted = false
  #paused = false
  #startedAt = 0
  #endedAt = 0
  #tables: string[] = []
  readonly #done = new Set<string>()
  readonly #rows = new Map<string, number>()
  readonly #estimates = new Map<string, number>()
  #lastEventAt = 0
  #events = 0

  /** A snapshot of `tables` begins (a new one replaces the figures of the last). */
  started(type: SnapshotType, tables: readonly string[], estimates: ReadonlyMap<string, number>): void {
    this.#type = type
    this.#running = true
    this.#completed = false
    this.#aborted = false
    this.#paused = false
    this.#startedAt = Date.now()
    this.#endedAt = 0
    this.#tables = [...tables]
    this.#done.clear()
    this.#rows.clear()
    this.#estimates.clear()
    for (const t of tables) {
      this.#rows.set(t, 0)
      this.#estimates.set(t, estimates.get(t) ?? -1)
    }
  }

  /** Incremental snapshots grow when another signal names more tables. */
  addTables(tables: readonly string[], estimates: ReadonlyMap<string, number>): void {
    for (const t of tables) {
      if (this.#tables.includes(t)) continue
      this.#tables.push(t)
      this.#rows.set(t, 0)
      this.#estimates.set(t, estimates.get(t) ?? -1)
    }
  }

  rowsScanned(table: string, rows: number): void {
    this.#rows.set(table, (this.#rows.get(table) ?? 0) + rows)
    this.#events += rows
    this.#lastEventAt = Date.now()
  }

  tableDone(table: string): void {
    this.#done.add(table)
  }

  /** Tables dropped from the snapshot (an incremental snapshot's stop signal) count as done. */
  completed(): void {
    for (const t of this.#tables) this.#done.add(t)
    this.#end()
    this.#completed = true
  }

  aborted(): void {
    this.#end()
    this.#aborted = true
  }

  set paused(paused: boolean) {
    this.#paused = paused
  }

  #end(): void {
    if (!this.#running) return
    this.#running = false
    this.#endedAt = Date.now()
  }

  read(): Record<string, PluginMetricValue> {
    const now = Date.now()
    const started = this.#startedAt
    return {
      SnapshotType: this.#type,
      SnapshotRunning: this.#running,
      SnapshotCompleted: this.#completed,
      SnapshotAborted: this.#aborted,
      SnapshotPaused: this.#paused,
      TotalTableCount: this.#tables.length,
      RemainingTableCount: this.#tables.filter((t) => !this.#done.has(t)).length,
      RowsScanned: new Map(this.#rows),
      RowsEstimated: new Map(this.#estimates),
      SnapshotDurationInSeconds: started === 0 ? 0 : Math.floor(((this.#endedAt || now) - started) / 1000),
      MilliSecondsSinceLastEvent: this.#lastEventAt === 0 ? -1 : now - this.#lastEventAt,
      TotalNumberOfEventsSeen: this.#events,
    }
  }
}

export class StreamingMetrics {
  connected = false
  #lastEventAt = 0
  #behindMs = -1
  #events = 0
  #transactions = 0

  /** Change events of a committed transaction went out; `commitTimeMs` is the source's commit time. */
  events(count: number, commitTimeMs: number): void {
    this.#events += count
    this.#transactions++
    this.#lastEventAt = Date.now()
    if (commitTimeMs > 0) this.#behindMs = Math.max(0, this.#lastEventAt - commitTimeMs)
  }

  read(): Record<string, PluginMetricValue> {
    return {
      Connected: this.connected,
      MilliSecondsBehindSource: this.#behindMs,
      MilliSecondsSinceLastEvent: this.#lastEventAt === 0 ? -1 : Date.now() - this.#lastEventAt,
      TotalNumberOfEventsSeen: this.#events,
      NumberOfCommittedTransactions: this.#transactions,
    }
  }
}

/** Registers both groups for `server` (the topic prefix); the returned function removes them. */
export function registerConnectorMetrics(
  server: string,
  snapshot: SnapshotMetrics,
  streaming: StreamingMetrics,
): () => void {
  const closers = [
    registerPluginMetrics({
      domain: 'debezium.postgres',
      properties: { type: 'connector-metrics', context: 'snapshot', server },
      read: () => snapshot.read(),
    }),
    registerPluginMetrics({
      domain: 'debezium.postgres',
      properties: { type: 'connector-metrics', context: 'streaming', server },
      read: () => streaming.read(),
    }),
  ]
  return () => {
    for (const close of closers) close()
  }
}

/** The planner's row estimate of each table (`schema.table`); -1 for a table never analyzed. */
export async function estimateRows(
  client: pg.Client,
  tables: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  if (tables.length === 0) return out
  const { rows } = await client.query(
    `SELECT n.nspname || '.' || c.relname AS id, c.reltuples::float8 AS estimate
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname || '.' || c.relname = ANY($1::text[])`,
    [tables],
  )
  for (const row of rows as { id: string; estimate: number }[])
    out.set(row.id, Math.round(Number(row.estimate)))
  return out
}
