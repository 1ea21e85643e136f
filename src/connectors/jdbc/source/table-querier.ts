/**
 * One table (or the custom query) being read: runs its mode's query through a cursor and turns rows
 * into records `batch.max.rows` at a time, so a table of any size never sits in memory. Like
 * Confluent's ≤10.8 poll loop, a started result set is read to its end before the next table's turn,
 * and the next run waits `poll.interval.ms` after the previous one ended.
 *
 * Offsets, per record (what the runtime commits once the record is in Kafka):
 * - incrementing: the row's id; timestamp+incrementing: the row's (ts, id) — exact;
 * - timestamp: the conservative rule of Confluent's PR #1093: a record carries its own timestamp only
 *   when the next row's is strictly greater (or the result set ended); otherwise the previous one. A
 *   restart inside a group of rows sharing one timestamp re-reads the group (duplicates), never skips
 *   the rest of it (the losses of kafka-connect-jdbc#598). A row is held back until the next one is
 *   read so its offset can be decided.
 */

import { DataError } from '../../../api/errors.ts'
import type { OffsetMap } from '../../../api/records.ts'
import { SourceRecord } from '../../../api/records.ts'
import type { Column, DbConnection, ResultSet } from '../common/connection.ts'
import type { TableId } from '../common/dialect.ts'
import type { DialectName } from '../common/url.ts'
import type { ColumnInfo } from './catalog.ts'
import type { Mode, NumericMapping } from './config.ts'
import { boundFractionDigits, databaseNow } from './database.ts'
import { offsetToMap, type QueryOffset } from './offsets.ts'
import { type BuiltQuery, buildQuery } from './query-builder.ts'
import { buildRowMapping, type RowMapping } from './schema-mapping.ts'
import {
  compareTimestamps,
  EPOCH,
  formatTimestamp,
  fromEpochMs,
  minusMs,
  parseTimestamp,
  type SqlTimestamp,
} from './sql-time.ts'
import { warn } from './warnings.ts'

const TRANSACTION_RECHECK_MS = 50

/**
 * Other client transactions of this database that started before `bound` (wall-clock text in the
 * session's zone) and are still open, as `pid (state since xact_start)`. Sluice's own connections
 * (application_name 'sluice', e.g. other tasks' cursors) are not waited for.
 */
async function openTransactionsBefore(db: DbConnection, bound: string): Promise<string[]> {
  const result = await db.query(
    `SELECT pid::text || ' (' || coalesce(state, '?') || ' since ' || xact_start::text || ')'
       FROM pg_catalog.pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND application_name <> 'sluice' AND xact_start < $1::timestamptz`,
    [bound],
  )
  return result.rows.map((r) => String(r[0]))
}

export interface QuerierOptions {
  dialect: DialectName
  mode: Mode
  /** Table mode: the table; query mode: undefined. */
  table?: TableId | undefined
  query?: string | undefined
  topic: string
  partition: OffsetMap
  incrementingColumn?: string | undefined
  timestampColumns: readonly string[]
  suffix: string
  quote: boolean
  numericMapping: NumericMapping
  zone: string
  delayMs: number
  pollIntervalMs: number
  batchMaxRows: number
  /** `timestamp.initial`: epoch ms, or -1 for the database's current time; null/undefined: from the beginning. */
  timestampInitial?: number | null | undefined
  /** The table's columns from the catalog (table mode), for nullability and exact types. */
  tableColumns?: ReadonlyMap<string, ColumnInfo> | undefined
  /**
   * PostgreSQL, timestamp modes: before querying a window, wait until every other transaction of the
   * database that started before the window's upper bound has ended (`wait.for.open.transactions`).
   */
  waitForTransactions?: boolean | undefined
}

interface PendingRow {
  struct: unknown
  schema: RowMapping['schema']
  ts: SqlTimestamp
}

export class TableQuerier {
  readonly options: QuerierOptions
  /** When the next query may start (epoch ms). */
  nextRunAt = 0
  /** The offset of the last record handed out: where a re-run (after an error) starts. */
  #offset: QueryOffset
  #iterator: AsyncIterator<ResultSet> | null = null
  /**
   * The next chunk, already asked for: the database fetches it while the runtime converts and sends
   * the current one. At most one chunk ahead, so memory stays bounded by 2 × batch.max.rows rows.
   */
  #prefetch: Promise<IteratorResult<ResultSet>> | null = null
  #mapping: RowMapping | null = null
  #mappedColumns: readonly Column[] | null = null
  #incrementingIndex = -1
  #timestampIndexes: number[] = []
  #pending: PendingRow | null = null
  /** Timestamp mode: the offset timestamp the held-back row would carry. */
  #committable: SqlTimestamp | undefined
  /**
   * A read waiting for older transactions to end (`waitForTransactions`): its clock bound, and in
   * incrementing mode the highest id handed out before it.
   */
  #pendingEnd: { now: SqlTimestamp; upper?: bigint | undefined; since: number; warned: number } | null = null
  #warnedNoSequence = false

  constructor(options: QuerierOptions, stored: QueryOffset) {
    this.options = options
    this.#offset = { ...stored }
  }

  get name(): string {
    return this.options.table ? this.options.table.table : 'query'
  }

  get offset(): QueryOffset {
    return this.#offset
  }

  get running(): boolean {
    return this.#iterator !== null
  }

  /**
   * Reads the next batch of rows as records. `done` says the result set ended (the querier then
   * waits for its next turn).
   */
  async poll(db: DbConnection): Promise<{ records: SourceRecord[]; done: boolean }> {
    if (!this.#iterator && !(await this.#start(db))) {
      // Transactions older than the window are still open: look again shortly, let other tables run.
      this.nextRunAt = Date.now() + TRANSACTION_RECHECK_MS
      return { records: [], done: true }
    }
    const pending = this.#prefetch ?? this.#iterator!.next()
    this.#prefetch = null
    const next = await pending
    if (!next.done && this.#iterator) {
      const prefetch = this.#iterator.next()
      // Handled here so a failure while nobody waits is not an unhandled rejection; the next poll rethrows it.
      void prefetch.catch(() => {})
      this.#prefetch = prefetch
    }
    if (next.done) {
      const records: SourceRecord[] = []
      this.#flushPending(records)
      this.#finish()
      return { records, done: true }
    }
    return { records: this.#toRecords(next.value), done: false }
  }

  /** Forgets the running query (after a connection error): the next run starts at the last handed-out offset. */
  reset(): void {
    const iterator = this.#iterator
    this.#iterator = null
    this.#prefetch = null
    this.#pending = null
    this.#committable = undefined
    this.#pendingEnd = null
    if (iterator?.return) void iterator.return(undefined).catch(() => {})
  }

  /** Ends a running query early (task stopping). */
  async close(): Promise<void> {
    const iterator = this.#iterator
    this.#iterator = null
    this.#prefetch = null
    if (iterator?.return) await iterator.return(undefined).catch(() => {})
  }

  /** Starts the query; false when the window must wait for open transactions (nothing started). */
  async #start(db: DbConnection): Promise<boolean> {
    const o = this.options
    const waits = o.waitForTransactions === true && db.dialect.name === 'postgresql'
    let upper: bigint | undefined
    if (waits && o.mode === 'incrementing') {
      if (!this.#pendingEnd) {
        const bound = await this.#sequenceBound(db)
        if (bound) this.#pendingEnd = { ...bound, since: Date.now(), warned: Date.now() }
      }
      if (this.#pendingEnd) {
        if (!(await this.#openTransactionsEnded(db, this.#pendingEnd.now))) return false
        upper = this.#pendingEnd.upper
        this.#pendingEnd = null
      }
    }
    const built: BuiltQuery = buildQuery({
      mode: o.mode,
      dialect: db.dialect,
      quote: o.quote,
      table: o.table,
      query: o.query,
      incrementingColumn: o.incrementingColumn,
      timestampColumns: o.timestampColumns,
      suffix: o.suffix,
      incrementingUpperBound: upper !== undefined,
    })
    const digits = boundFractionDigits(db)
    let begin = this.#offset.timestamp
    let end: SqlTimestamp | undefined
    if (o.mode === 'timestamp' || o.mode === 'timestamp+incrementing') {
      const now = this.#pendingEnd?.now ?? (await databaseNow(db, o.zone))
      if (waits) {
        this.#pendingEnd ??= { now, since: Date.now(), warned: Date.now() }
        if (!(await this.#openTransactionsEnded(db, minusMs(now, o.delayMs)))) return false
        this.#pendingEnd = null
      }
      if (begin === undefined) {
        const initial = o.timestampInitial
        begin =
          initial === null || initial === undefined ? EPOCH : initial === -1 ? now : fromEpochMs(initial)
        // -1 is fixed once, like Confluent's: later runs continue from here, not from "now" again.
        if (initial === -1) this.#offset = { ...this.#offset, timestamp: begin }
      }
      end = minusMs(now, o.delayMs)
    }
    const params = built.params.map((param): unknown => {
      if (param === 'begin') return formatTimestamp(begin ?? EPOCH, o.zone, digits)
      if (param === 'end') return formatTimestamp(end ?? EPOCH, o.zone, digits)
      const value = param === 'incrementingUpper' ? (upper ?? -1n) : (this.#offset.incrementing ?? -1n)
      return db.dialect.name === 'postgresql' ? value.toString() : Number(value)
    })
    // Confluent's timestamp offset starts at the window's start (epoch 0 when nothing was read yet).
    this.#committable = begin
    this.#iterator = db.stream(built.sql, params, o.batchMaxRows)[Symbol.asyncIterator]()
    return true
  }

  /**
   * True when no other transaction that started before `bound` is open; otherwise warns every 30 s
   * (naming them) and answers false.
   */
  async #openTransactionsEnded(db: DbConnection, bound: SqlTimestamp): Promise<boolean> {
    const open = await openTransactionsBefore(db, formatTimestamp(bound, this.options.zone, 6))
    if (open.length === 0) return true
    const pending = this.#pendingEnd
    if (pending && Date.now() - pending.warned >= 30_000) {
      pending.warned = Date.now()
      warn(
        `${this.name}: waiting ${Math.round((Date.now() - pending.since) / 1000)} s for transactions started ` +
          `before ${formatTimestamp(bound, this.options.zone, 3)} to end: ${open.join(', ')}`,
      )
    }
    return false
  }

  /**
   * Incrementing mode: the last value of the column's sequence, and the clock read after it (any
   * transaction that got an id up to that value had started by then). Undefined without a sequence.
   */
  async #sequenceBound(db: DbConnection): Promise<{ now: SqlTimestamp; upper: bigint } | undefined> {
    const { table, incrementingColumn } = this.options
    if (!table || !incrementingColumn) return undefined
    const result = await db.query(
      `SELECT s, CASE WHEN s IS NULL THEN NULL ELSE pg_catalog.pg_sequence_last_value(s::regclass)::text END,
              clock_timestamp()
         FROM (SELECT pg_catalog.pg_get_serial_sequence($1, $2) AS s) q`,
      [db.dialect.quoteTable(table), incrementingColumn],
    )
    const [sequence, last, clock] = result.rows[0] ?? []
    if (sequence === null || sequence === undefined) {
      if (!this.#warnedNoSequence) {
        this.#warnedNoSequence = true
        warn(
          `${this.name}: wait.for.open.transactions needs a serial/identity column in incrementing mode; ` +
            `'${incrementingColumn}' has no sequence, so late commits are not waited for`,
        )
      }
      return undefined
    }
    return {
      now: parseTimestamp(String(clock), this.options.zone),
      upper: last === null || last === undefined ? -1n : BigInt(String(last)),
    }
  }

  #finish(): void {
    this.#iterator = null
    this.#prefetch = null
    this.#pending = null
    this.nextRunAt = Date.now() + this.options.pollIntervalMs
  }

  #prepare(columns: readonly Column[]): RowMapping {
    if (this.#mapping && this.#mappedColumns === columns) return this.#mapping
    const o = this.options
    this.#mapping = buildRowMapping({
      dialect: o.dialect,
      columns,
      tableColumns: o.tableColumns,
      schemaName: o.table?.table,
      numericMapping: o.numericMapping,
      zone: o.zone,
    })
    this.#mappedColumns = columns
    const indexOf = (name: string): number => {
      let index = columns.findIndex((c) => c.name === name)
      if (index < 0) index = columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase())
      if (index < 0) {
        throw new DataError(
          `the result of ${this.name} has no column '${name}'; the query must return the columns the mode uses`,
        )
      }
      return index
    }
    this.#incrementingIndex = o.incrementingColumn ? indexOf(o.incrementingColumn) : -1
    this.#timestampIndexes = o.timestampColumns.map(indexOf)
    return this.#mapping
  }

  #timestampOf(row: readonly unknown[]): SqlTimestamp {
    for (const index of this.#timestampIndexes) {
      const raw = row[index]
      if (raw === null || raw === undefined) continue
      if (raw instanceof Date) return fromEpochMs(raw.getTime())
      if (typeof raw === 'number') return fromEpochMs(raw)
      return parseTimestamp(String(raw), this.options.zone)
    }
    throw new DataError(
      `a row of ${this.name} has NULL in every timestamp column (${this.options.timestampColumns.join(', ')})`,
    )
  }

  #incrementingOf(row: readonly unknown[]): bigint {
    const raw = row[this.#incrementingIndex]
    if (typeof raw === 'bigint') return raw
    if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw)
    if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return BigInt(raw)
    if (typeof raw === 'string' && /^-?\d+\.0*$/.test(raw)) return BigInt(raw.slice(0, raw.indexOf('.')))
    throw new DataError(
      `incrementing column '${this.options.incrementingColumn}' of ${this.name} holds ${String(raw)}, not an integer`,
    )
  }

  #record(struct: unknown, schema: RowMapping['schema'], offset: QueryOffset | null): SourceRecord {
    return new SourceRecord({
      topic: this.options.topic,
      valueSchema: schema,
      value: struct,
      sourcePartition: this.options.partition,
      sourceOffset: offset === null ? null : offsetToMap(offset),
    })
  }

  #toRecords(chunk: ResultSet): SourceRecord[] {
    const mapping = this.#prepare(chunk.columns)
    const { mode } = this.options
    const records: SourceRecord[] = []
    for (const row of chunk.rows) {
      const struct = mapping.toStruct(row)
      switch (mode) {
        case 'bulk':
          records.push(this.#record(struct, mapping.schema, null))
          break
        case 'incrementing':
          this.#offset = { incrementing: this.#incrementingOf(row) }
          records.push(this.#record(struct, mapping.schema, this.#offset))
          break
        case 'timestamp+incrementing':
          this.#offset = { timestamp: this.#timestampOf(row), incrementing: this.#incrementingOf(row) }
          records.push(this.#record(struct, mapping.schema, this.#offset))
          break
        case 'timestamp': {
          const ts = this.#timestampOf(row)
          if (this.#pending) this.#emitPending(records, ts)
          this.#pending = { struct, schema: mapping.schema, ts }
          break
        }
      }
    }
    return records
  }

  /** Emits the held-back row; it may carry its own timestamp only if `nextTs` is strictly later. */
  #emitPending(records: SourceRecord[], nextTs: SqlTimestamp | undefined): void {
    const pending = this.#pending!
    if (nextTs === undefined || compareTimestamps(pending.ts, nextTs) < 0) this.#committable = pending.ts
    this.#offset = this.#committable === undefined ? {} : { timestamp: this.#committable }
    records.push(this.#record(pending.struct, pending.schema, this.#offset))
    this.#pending = null
  }

  #flushPending(records: SourceRecord[]): void {
    if (this.#pending) this.#emitPending(records, undefined)
  }
}
