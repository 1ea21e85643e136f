/**
 * Writes the rows of one `put()` in one transaction, and finds the bad rows when that fails.
 *
 * 1. Tables first (outside the transaction, since MySQL commits around DDL): CREATE when missing
 *    (`auto.create`), ALTER … ADD for missing columns (`auto.evolve`). A table that cannot be made
 *    fit fails only its own rows.
 * 2. Consecutive rows for the same table, operation and columns become one multi-row statement
 *    (upserts deduplicated by key, last wins, since one statement may not touch a row twice); on
 *    PostgreSQL large upserts go through COPY into a temporary table and one INSERT … SELECT.
 * 3. If the transaction fails for anything but the connection, it is rolled back and replayed one row
 *    at a time, each under a SAVEPOINT, in one new transaction: the good rows commit, each bad row is
 *    returned with its error for the errant-record reporter. Connection errors are thrown (retriable).
 */
import { DataError } from '../../../api/errors.ts'
import type { DbConnection } from '../common/connection.ts'
import { isConnectionError } from '../common/connection.ts'
import type { TableId } from '../common/dialect.ts'
import { type BindContext, bindValue, copyText } from './column-kind.ts'
import type { SinkSettings } from './config.ts'
import { addColumnsSql, createTableSql } from './ddl.ts'
import { deleteSql, insertSql, truncateSql, updateSql, upsertTail } from './dml.ts'
import type { RowOp, TablePlan } from './record-mapper.ts'
import { tableColumns } from './table-columns.ts'

export interface RowFailure {
  op: RowOp
  error: Error
}

/** A row ready to bind. */
interface Row {
  op: Extract<RowOp, { kind: 'write' | 'delete' }>
  values: unknown[]
}

type Segment =
  | { kind: 'write' | 'delete'; table: TableId; plan: TablePlan; columns: string[]; rows: Row[] }
  | { kind: 'truncate'; table: TableId; op: RowOp }

/** Parameters per statement: below every driver's limit (PostgreSQL 65535, SQLite 32766). */
const MAX_PARAMS = 30_000
/** Smallest batch worth a COPY round trip on PostgreSQL. */
const COPY_MIN_ROWS = 64

export class SinkWriter {
  readonly #connection: DbConnection
  readonly #s: SinkSettings
  readonly #ctx: BindContext
  /** Actual column names per table and column plan, once the table is known to fit. */
  readonly #resolved = new Map<string, string[]>()
  /**
   * PostgreSQL staging tables of this session, per target table and column list: temporary, emptied at
   * each commit (ON COMMIT DELETE ROWS), created once. Forgotten when a transaction rolls back, since
   * one created inside it is gone too.
   */
  readonly #stages = new Map<string, string>()
  /** Staging tables filled in the current transaction. */
  readonly #stagesInUse = new Set<string>()

  constructor(connection: DbConnection, settings: SinkSettings) {
    this.#connection = connection
    this.#s = settings
    this.#ctx = { dialect: connection.dialect.name, timezone: settings.timezone }
  }

  async write(ops: readonly RowOp[]): Promise<RowFailure[]> {
    const failures: RowFailure[] = []
    const segments = await this.#segments(ops, failures)
    if (segments.length === 0) return failures
    try {
      this.#stagesInUse.clear()
      await this.#connection.transaction(async () => {
        for (const segment of segments) await this.#execute(segment, false)
      })
      return failures
    } catch (error) {
      this.#stages.clear()
      if (isConnectionError(error)) throw error
      // A table may have changed under us: look again next time.
      this.#resolved.clear()
    }
    await this.#connection.transaction(async () => {
      for (const segment of segments) {
        const singles: Segment[] =
          segment.kind === 'truncate' ? [segment] : segment.rows.map((row) => ({ ...segment, rows: [row] }))
        for (const single of singles) {
          await this.#connection.execute('SAVEPOINT sluice_row')
          try {
            await this.#execute(single, true)
            await this.#connection.execute('RELEASE SAVEPOINT sluice_row')
          } catch (error) {
            if (isConnectionError(error)) throw error
            await this.#connection.execute('ROLLBACK TO SAVEPOINT sluice_row')
            const err = error instanceof Error ? error : new Error(String(error))
            if (single.kind === 'truncate') failures.push({ op: single.op, error: err })
            else for (const row of single.rows) failures.push({ op: row.op, error: err })
          }
        }
      }
    })
    return failures
  }

  /** Groups ops into statements, running DDL first; rows that cannot be written go to `failures`. */
  async #segments(ops: readonly RowOp[], failures: RowFailure[]): Promise<Segment[]> {
    const segments: Segment[] = []
    const tableErrors = new Map<string, Error>()
    let current: Extract<Segment, { kind: 'write' | 'delete' }> | undefined
    // The table and plan of the previous row, and their columns: consecutive rows usually share them.
    let lastTable: TableId | undefined
    let lastPlan: TablePlan | undefined
    let lastColumns: string[] | undefined
    for (const op of ops) {
      if (op.kind === 'skip' || op.kind === 'fail') continue
      if (op.kind === 'truncate') {
        segments.push({ kind: 'truncate', table: op.table, op })
        current = undefined
        continue
      }
      let columns = op.table === lastTable && op.plan === lastPlan ? lastColumns : undefined
      const key = columns ? '' : `${tableKey(op.table)}\u0002${op.plan.signature}`
      columns ??= this.#resolved.get(key)
      if (!columns) {
        const known = tableErrors.get(key)
        if (known) {
          failures.push({ op, error: known })
          continue
        }
        try {
          columns = await this.#ensureTable(op.table, op.plan)
          this.#resolved.set(key, columns)
        } catch (error) {
          if (isConnectionError(error)) throw error
          const err = error instanceof Error ? error : new Error(String(error))
          tableErrors.set(key, err)
          failures.push({ op, error: err })
          continue
        }
      }
      lastTable = op.table
      lastPlan = op.plan
      lastColumns = columns
      let values: unknown[]
      try {
        const planColumns = op.plan.columns
        const count = op.kind === 'delete' ? op.plan.keyCount : planColumns.length
        values = new Array(count)
        for (let i = 0; i < count; i++) values[i] = bindValue(planColumns[i]!.type, op.values[i], this.#ctx)
      } catch (error) {
        failures.push({ op, error: error instanceof Error ? error : new Error(String(error)) })
        continue
      }
      if (
        current &&
        current.kind === op.kind &&
        current.plan === op.plan &&
        sameTable(current.table, op.table)
      ) {
        current.rows.push({ op, values })
      } else {
        current = { kind: op.kind, table: op.table, plan: op.plan, columns, rows: [{ op, values }] }
        segments.push(current)
      }
    }
    return segments
  }

  async #execute(segment: Segment, single: boolean): Promise<void> {
    const dialect = this.#connection.dialect
    const table = dialect.quoteTable(segment.table)
    if (segment.kind === 'truncate') {
      await this.#connection.execute(truncateSql(dialect, table))
      return
    }
    const quote = dialect.quoteIdentifier
    const { plan, columns } = segment
    const keyCount = plan.keyCount
    if (segment.kind === 'delete') {
      const keys = columns.slice(0, keyCount)
      const rows = dedupe(segment.rows, keyCount)
      for (const chunk of chunks(
        rows,
        Math.max(1, Math.min(this.#s.batchSize, Math.floor(MAX_PARAMS / keys.length))),
      )) {
        await this.#connection.execute(
          deleteSql(dialect, table, quote, keys, chunk.length),
          chunk.flatMap((r) => r.values),
        )
      }
      return
    }
    const mode = this.#s.insertMode
    if (mode === 'update') {
      const sql = updateSql(dialect, table, quote, columns, keyCount)
      for (const row of segment.rows) {
        await this.#connection.execute(sql, [...row.values.slice(keyCount), ...row.values.slice(0, keyCount)])
      }
      return
    }
    const upsert = mode === 'upsert'
    const rows = upsert ? dedupe(segment.rows, keyCount) : segment.rows
    if (
      !single &&
      dialect.name === 'postgresql' &&
      this.#s.pgBulkMode === 'copy' &&
      this.#connection.copyIn &&
      rows.length >= COPY_MIN_ROWS &&
      !plan.columns.some((c) => c.type.kind === 'array')
    ) {
      await this.#copy(table, columns, keyCount, rows, upsert)
      return
    }
    const perStatement = Math.max(1, Math.min(this.#s.batchSize, Math.floor(MAX_PARAMS / columns.length)))
    let sql = ''
    let sqlRows = -1
    for (const chunk of chunks(rows, perStatement)) {
      if (chunk.length !== sqlRows) {
        sql = insertSql(dialect, table, quote, columns, keyCount, chunk.length, upsert)
        sqlRows = chunk.length
      }
      await this.#connection.execute(
        sql,
        chunk.flatMap((r) => r.values),
      )
    }
  }

  /** COPY into a temporary table shaped like the target's columns, then one INSERT … SELECT. */
  async #copy(
    table: string,
    columns: string[],
    keyCount: number,
    rows: Row[],
    upsert: boolean,
  ): Promise<void> {
    const dialect = this.#connection.dialect
    const quote = dialect.quoteIdentifier
    const list = columns.map(quote).join(',')
    const stageKey = `${table}\u0000${list}`
    let stage = this.#stages.get(stageKey)
    if (stage === undefined) {
      stage = quote(`sluice_stage_${this.#stages.size + 1}`)
      await this.#connection.execute(`DROP TABLE IF EXISTS ${stage}`)
      await this.#connection.execute(
        `CREATE TEMP TABLE ${stage} ON COMMIT DELETE ROWS AS SELECT ${list} FROM ${table} WITH NO DATA`,
      )
      this.#stages.set(stageKey, stage)
    } else if (this.#stagesInUse.has(stage)) {
      // A second segment for the table in this transaction must not see the first one's rows.
      await this.#connection.execute(`TRUNCATE ${stage}`)
    }
    this.#stagesInUse.add(stage)
    // One string for the whole batch, encoded once: no array or join per row.
    let text = ''
    for (const row of rows) {
      const values = row.values
      let line = copyText(values[0])
      for (let i = 1; i < values.length; i++) line += `\t${copyText(values[i])}`
      text += `${line}\n`
    }
    await this.#connection.copyIn!(`COPY ${stage} (${list}) FROM STDIN`, Buffer.from(text))
    await this.#connection.execute(
      `INSERT INTO ${table} (${list}) SELECT ${list} FROM ${stage}${upsert ? upsertTail(dialect, quote, columns, keyCount) : ''}`,
    )
  }

  /** Creates or evolves the table so it has the plan's columns; returns their names as the table spells them. */
  async #ensureTable(table: TableId, plan: TablePlan): Promise<string[]> {
    const dialect = this.#connection.dialect
    const quoted = dialect.quoteTable(table)
    const name = dialect.tableName(table)
    let existing = await tableColumns(this.#connection, table)
    if (existing === null) {
      if (!this.#s.autoCreate) {
        throw new DataError(
          `table ${name} does not exist and ${this.#s.flavour === 'confluent' ? 'auto.create=false' : 'schema.evolution=none'}: ` +
            `create it, or set ${this.#s.flavour === 'confluent' ? 'auto.create=true' : 'schema.evolution=basic'}`,
        )
      }
      try {
        await this.#connection.execute(
          createTableSql(
            dialect.name,
            quoted,
            dialect.quoteIdentifier,
            plan.columns,
            this.#s.defaultDecimalPrecision,
          ),
        )
      } catch (error) {
        // Another task may have created it at the same moment: PostgreSQL's CREATE TABLE IF NOT EXISTS
        // then fails on its catalog's unique index. Only fail if the table is still not there.
        if (isConnectionError(error) || (await tableColumns(this.#connection, table)) === null) throw error
      }
      existing = await tableColumns(this.#connection, table)
      if (existing === null) throw new DataError(`table ${name} was created but cannot be found`)
    }
    const match = (have: string[]) =>
      plan.columns.map(
        (c) => have.find((h) => h === c.name) ?? have.find((h) => h.toLowerCase() === c.name.toLowerCase()),
      )
    let names = match(existing)
    const missing = plan.columns.filter((_, i) => names[i] === undefined)
    if (missing.length > 0) {
      if (!this.#s.autoEvolve) {
        throw new DataError(
          `table ${name} has no column ${missing.map((c) => `'${c.name}'`).join(', ')}: add ` +
            `${missing.length > 1 ? 'them' : 'it'}, or set ${this.#s.flavour === 'confluent' ? 'auto.evolve=true' : 'schema.evolution=basic'}`,
        )
      }
      if (missing.some((c) => c.isKey)) {
        throw new DataError(
          `table ${name} lacks key column(s) ${missing
            .filter((c) => c.isKey)
            .map((c) => c.name)
            .join(', ')}; the primary key is never changed`,
        )
      }
      const statements = addColumnsSql(
        dialect.name,
        quoted,
        dialect.quoteIdentifier,
        missing,
        this.#s.defaultDecimalPrecision,
      )
      for (const sql of statements) {
        try {
          await this.#connection.execute(sql)
        } catch (error) {
          // Another task may have added the same columns: only fail if they are still missing.
          if (isConnectionError(error)) throw error
          const again = await tableColumns(this.#connection, table)
          if (!again || match(again).some((n) => n === undefined)) throw error
        }
      }
      existing = (await tableColumns(this.#connection, table)) ?? []
      names = match(existing)
      const still = plan.columns.filter((_, i) => names[i] === undefined)
      if (still.length > 0)
        throw new DataError(`table ${name} still lacks ${still.map((c) => c.name).join(', ')}`)
    }
    return names as string[]
  }
}

function tableKey(table: TableId): string {
  return `${table.catalog ?? ''}\u0001${table.schema ?? ''}\u0001${table.table}`
}

function sameTable(a: TableId, b: TableId): boolean {
  return a === b || tableKey(a) === tableKey(b)
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let at = 0; at < items.length; at += size) yield items.slice(at, at + size)
}

/** Keeps the last row per key, in the order of their last occurrence's first position. */
function dedupe(rows: Row[], keyCount: number): Row[] {
  if (rows.length < 2 || keyCount === 0) return rows
  const byKey = new Map<unknown, number>()
  const out: Row[] = []
  for (const row of rows) {
    let key: unknown
    const first = row.values[0]
    if (keyCount === 1 && (typeof first === 'string' || typeof first === 'number')) key = first
    else {
      key = '\u0001'
      for (let i = 0; i < keyCount; i++) {
        const v = row.values[i]
        key += `${typeof v}:${Buffer.isBuffer(v) ? v.toString('hex') : String(v)}\u0000`
      }
    }
    const at = byKey.get(key)
    if (at === undefined) {
      byKey.set(key, out.length)
      out.push(row)
    } else out[at] = row
  }
  return out
}
