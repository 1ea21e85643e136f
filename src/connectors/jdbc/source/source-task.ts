import { setTimeout as sleep } from 'node:timers/promises'
import { type Props, SourceTask } from '../../../api/connector.ts'
import { ConfigError, ConnectError, errorMessage, RetriableError } from '../../../api/errors.ts'
import type { OffsetMap, SourceRecord } from '../../../api/records.ts'
import { type DbConnection, isConnectionError } from '../common/connection.ts'
import type { TableId } from '../common/dialect.ts'
import { describeTable } from './catalog.ts'
import {
  BATCH_MAX_ROWS,
  CONNECTION_BACKOFF_MS,
  DB_TIMEZONE,
  JdbcSourceConfig,
  POLL_INTERVAL_MS,
  QUERY_RETRY_ATTEMPTS,
  QUERY_SUFFIX,
  TASK_TABLES,
  TIMESTAMP_DELAY_INTERVAL_MS,
  TIMESTAMP_INITIAL,
  WAIT_FOR_OPEN_TRANSACTIONS,
} from './config.ts'
import { connect } from './database.ts'
import { offsetFromMap, QUERY_PARTITION, tablePartitionV0, tablePartitionV1 } from './offsets.ts'
import { TableQuerier } from './table-querier.ts'
import { planTable, type TablePlan } from './validation.ts'
import { JDBC_SOURCE_VERSION } from './version.ts'
import { warn } from './warnings.ts'

/** Longest a `poll()` waits for a table's turn before returning nothing (the runtime commits offsets meanwhile). */
const MAX_IDLE_WAIT_MS = 500

/**
 * Reads its share of the tables (or the custom query) into records. One connection per task; one
 * table's result set is read to its end before the next table's turn. A lost connection is
 * reconnected with `connection.backoff.ms` between tries (the task stays RUNNING, its status trace says
 * why while the database is away);
 * the interrupted query starts again from the offset of the last record handed out, so nothing is
 * lost and at most that query's records are repeated.
 */
export class JdbcSourceTask extends SourceTask {
  #config: JdbcSourceConfig | null = null
  #db: DbConnection | null = null
  #queriers: TableQuerier[] = []
  #current: TableQuerier | null = null
  #stopped = false
  #abort = new AbortController()
  #failures = 0

  version(): string {
    return JDBC_SOURCE_VERSION
  }

  async start(props: Props): Promise<void> {
    const config = new JdbcSourceConfig(props)
    this.#config = config
    const tables = JSON.parse(props[TASK_TABLES] || '[]') as TableId[]
    if (config.query === '' && tables.length === 0) {
      throw new ConfigError(TASK_TABLES, 'this task was given no table to read')
    }
    const db = await connect(config, {
      signal: this.#abort.signal,
      onRetry: (e, n, ms) => this.#onRetry(e, n, ms),
    })
    this.#db = db
    const settings = {
      dialect: db.dialect.name,
      mode: config.mode === '' ? ('bulk' as const) : config.mode,
      suffix: config.getString(QUERY_SUFFIX),
      quote: config.quoteIdentifiers,
      numericMapping: config.numericMapping,
      zone: config.getString(DB_TIMEZONE),
      delayMs: config.getLong(TIMESTAMP_DELAY_INTERVAL_MS),
      pollIntervalMs: config.getInt(POLL_INTERVAL_MS),
      batchMaxRows: config.getInt(BATCH_MAX_ROWS),
      timestampInitial: config.get(TIMESTAMP_INITIAL) as number | null,
      waitForTransactions: config.getBoolean(WAIT_FOR_OPEN_TRANSACTIONS),
    }
    if (config.mode === '') throw new ConfigError('mode', 'mode must be set')
    const reader = this.context.offsetStorageReader()
    if (config.query !== '') {
      const stored = config.mode === 'bulk' ? null : await reader.offset(QUERY_PARTITION)
      this.#queriers = [
        new TableQuerier(
          {
            ...settings,
            query: config.query,
            topic: config.topicPrefix,
            partition: QUERY_PARTITION,
            incrementingColumn: config.usesIncrementing ? config.incrementingColumn : undefined,
            timestampColumns: config.usesTimestamp ? config.timestampColumns : [],
          },
          offsetFromMap(stored),
        ),
      ]
      return
    }
    const problems: [string, string][] = []
    const warnings: string[] = []
    const plans: TablePlan[] = []
    for (const table of tables) {
      const plan = await planTable(db, config, table, problems, warnings)
      if (plan) plans.push(plan)
    }
    for (const w of warnings) warn(w)
    if (problems.length > 0) throw new ConfigError(problems[0][0], problems[0][1])
    const partitions = plans.map((p) =>
      config.mode === 'bulk' ? tablePartitionV0(p.table) : tablePartitionV1(db.dialect, p.table),
    )
    const stored =
      config.mode === 'bulk' ? new Map<OffsetMap, OffsetMap | null>() : await reader.offsets(partitions)
    const legacy =
      config.mode === 'bulk'
        ? new Map<OffsetMap, OffsetMap | null>()
        : await reader.offsets(plans.map((p) => tablePartitionV0(p.table)))
    const legacyByTable = new Map([...legacy].map(([partition, offset]) => [String(partition.table), offset]))
    this.#queriers = plans.map((plan, i) => {
      const offset = stored.get(partitions[i]) ?? legacyByTable.get(plan.table.table) ?? null
      return new TableQuerier(
        {
          ...settings,
          table: plan.table,
          topic: config.topicPrefix + plan.table.table,
          partition: partitions[i],
          incrementingColumn: plan.incrementingColumn,
          timestampColumns: plan.timestampColumns,
          tableColumns: plan.columns,
        },
        offsetFromMap(offset),
      )
    })
  }

  async poll(): Promise<SourceRecord[] | null> {
    const config = this.#config!
    while (!this.#stopped) {
      if (!this.#db) {
        if (!(await this.#reconnect())) return null
        continue
      }
      const querier = this.#current ?? this.#nextDue()
      if (!querier) {
        const due = Math.min(...this.#queriers.map((q) => q.nextRunAt))
        await this.#idle(Math.min(Math.max(0, due - Date.now()), MAX_IDLE_WAIT_MS))
        return null
      }
      this.#current = querier
      try {
        const { records, done } = await querier.poll(this.#db)
        this.#failures = 0
        if (done) this.#current = null
        if (records.length > 0) return records
        // A query ended with nothing new: hand control back (offset commits, pause, stop) between tables.
        if (done) return null
      } catch (error) {
        if (this.#stopped) return null
        this.#current = null
        querier.reset()
        if (!isConnectionError(error)) {
          if (
            isMissingTable(error) &&
            querier.options.table &&
            (await describeTable(this.#db, querier.options.table).catch(() => [])) === undefined
          ) {
            warn(`table ${querier.name} is gone (${errorMessage(error)}); it is no longer read`)
            this.#queriers = this.#queriers.filter((q) => q !== querier)
            if (this.#queriers.length === 0) return null
            continue
          }
          throw error
        }
        const limit = config.getInt(QUERY_RETRY_ATTEMPTS)
        this.#failures++
        if (limit >= 0 && this.#failures > limit) {
          throw new ConnectError(
            'CONNECT',
            `query on ${querier.name} failed ${this.#failures} times: ${errorMessage(error)}`,
            {
              cause: error,
            },
          )
        }
        warn(`reading ${querier.name} failed, the connection was lost (${errorMessage(error)}); reconnecting`)
        const db = this.#db
        this.#db = null
        await db.close().catch(() => {})
        return null
      }
    }
    return null
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#abort.abort()
    // The connection first: a fetch in flight on a hung connection must not hold the stop up.
    const db = this.#db
    this.#db = null
    await db?.close()
    for (const q of this.#queriers) q.reset()
  }

  #nextDue(): TableQuerier | null {
    let best: TableQuerier | null = null
    for (const q of this.#queriers) if (!best || q.nextRunAt < best.nextRunAt) best = q
    return best && best.nextRunAt <= Date.now() ? best : null
  }

  /** One reconnection try per call, `connection.backoff.ms` apart; false while the database is away. */
  async #reconnect(): Promise<boolean> {
    const config = this.#config!
    try {
      this.#db = await connect(config, { attempts: 1 })
      warn('reconnected to the database; resuming from the last offsets handed out')
      return true
    } catch (error) {
      if (!isConnectionError(error) && !(error instanceof ConnectError && error.retriable)) throw error
      await this.#idle(config.getLong(CONNECTION_BACKOFF_MS))
      if (this.#stopped) return false
      // Thrown, not swallowed: the runner keeps the task RUNNING with this as its status trace and polls again.
      throw new RetriableError(
        `cannot reconnect to the database (${errorMessage(error)}); retrying every ${config.getLong(CONNECTION_BACKOFF_MS)} ms (connection.backoff.ms)`,
        { cause: error },
      )
    }
  }

  #onRetry(error: Error, attempt: number, delayMs: number): void {
    warn(
      `connecting to the database failed (attempt ${attempt}: ${error.message}); retrying in ${delayMs} ms`,
    )
  }

  async #idle(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopped) return
    await sleep(ms, undefined, { signal: this.#abort.signal }).catch(() => {})
  }
}

function isMissingTable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === '42P01' || code === 'ER_NO_SUCH_TABLE' || /no such table/i.test(errorMessage(error))
}
