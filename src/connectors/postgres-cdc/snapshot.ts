/**
 * The initial snapshot: every captured table read through a cursor in one REPEATABLE READ
 * transaction. When the slot was just created, the transaction imports the slot's exported snapshot,
 * so the snapshot shows exactly the database at the slot's consistent point and streaming continues
 * from there without loss or overlap. Rows are fetched `snapshot.fetch.size` at a time, the next
 * fetch under way while the previous rows are turned into records (the server reads while we
 * convert), and handed out at most `max.batch.size` per poll; memory stays flat.
 *
 * Blocking snapshots (an `execute-snapshot` signal of type `blocking`) read the same way, in a READ ONLY
 * REPEATABLE READ transaction of their own (every snapshot transaction is READ ONLY), with an optional SELECT per table replacing `SELECT *`
 * (its columns are matched to the table's by name).
 */
import type pg from 'pg'
import type { SourceRecord } from '../../api/records.ts'
import type { Catalog } from './catalog.ts'
import type { SnapshotMarker } from './change-events.ts'
import type { CdcSettings } from './config.ts'
import { estimateRows, type SnapshotMetrics } from './connector-metrics.ts'
import { type Lsn, parseLsn } from './lsn.ts'
import type { Tuple } from './pgoutput-decoder.ts'
import { clientConfig, newPgClient, oneStatement, quoteIdent } from './replication-connection.ts'
import { checkSelect } from './signal-data.ts'
import { buildTableSchema, type TableSchema } from './table-schema.ts'
import { SESSION_OPTIONS } from './value-converters.ts'

export type RowToRecord = (ts: TableSchema, tuple: Tuple, marker: SnapshotMarker) => SourceRecord

export class InitialSnapshot {
  readonly #client: pg.Client
  readonly #settings: CdcSettings
  readonly #catalog: Catalog
  readonly #tables: string[]
  readonly #selects: ReadonlyMap<string, string>
  /** For a SELECT override: position in the result of each table column (-1: absent). */
  #columnMap: number[] | null = null
  #columnMapPending = false
  readonly #warn: (m: string) => void
  readonly #metrics: SnapshotMetrics | null
  #tableIndex = -1
  #current: TableSchema | null = null
  /** One row held back to know whether the next one exists (for the last_* markers). */
  #pending: { ts: TableSchema; tuple: Tuple; firstInTable: boolean } | null = null
  #first = true
  #cursorOpen = false
  /** Fetched rows not yet turned into records, from `#rowIndex` on, of table `#rowsTable`. */
  #rows: Tuple[] = []
  #rowIndex = 0
  #rowsTable: TableSchema | null = null
  /** The FETCH issued ahead for the open cursor, if any. */
  #ahead: Promise<Tuple[]> | null = null
  done = false
  readonly lsn: Lsn
  readonly txId: number

  private constructor(
    client: pg.Client,
    settings: CdcSettings,
    catalog: Catalog,
    tables: string[],
    lsn: Lsn,
    txId: number,
    warn: (m: string) => void,
    selects: ReadonlyMap<string, string>,
    metrics: SnapshotMetrics | null,
  ) {
    this.#client = client
    this.#metrics = metrics
    this.#settings = settings
    this.#catalog = catalog
    this.#tables = tables
    this.#selects = selects
    this.lsn = lsn
    this.txId = txId
    this.#warn = warn
  }

  static async begin(
    settings: CdcSettings,
    catalog: Catalog,
    tables: string[],
    exportedSnapshot: string | null,
    warn: (m: string) => void,
    blocking: { selects: ReadonlyMap<string, string> } | null = null,
    metrics: SnapshotMetrics | null = null,
  ): Promise<InitialSnapshot> {
    const client = await newPgClient(clientConfig(settings, { options: SESSION_OPTIONS }))
    await client.connect()
    // Snapshots only read: READ ONLY, so nothing a SELECT override calls can write.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    if (exportedSnapshot)
      await client.query(`SET TRANSACTION SNAPSHOT '${exportedSnapshot.replaceAll("'", "''")}'`)
    const { rows } = await client.query('SELECT pg_current_wal_lsn() AS lsn, txid_current() AS txid')
    metrics?.started(blocking ? 'BLOCKING' : 'INITIAL', tables, await estimateRows(client, tables))
    return new InitialSnapshot(
      client,
      settings,
      catalog,
      tables,
      parseLsn(String(rows[0].lsn)),
      Number(rows[0].txid),
      warn,
      blocking?.selects ?? new Map(),
      metrics,
    )
  }

  /** The next batch of records (at most `max`), marking the last one of all as `last`. */
  async next(toRecord: RowToRecord, max: number): Promise<SourceRecord[]> {
    const out: SourceRecord[] = []
    while (out.length < max && !this.done) {
      if (this.#rowIndex >= this.#rows.length && !(await this.#refill())) {
        // No more tables: the held-back row is the last of the snapshot.
        if (this.#pending) out.push(toRecord(this.#pending.ts, this.#pending.tuple, 'last'))
        this.#pending = null
        this.done = true
        this.#metrics?.completed()
        break
      }
      const ts = this.#rowsTable!
      const rows = this.#rows
      const end = Math.min(rows.length, this.#rowIndex + (max - out.length))
      for (let i = this.#rowIndex; i < end; i++) {
        if (this.#pending) {
          const p = this.#pending
          out.push(toRecord(p.ts, p.tuple, this.#marker(p.firstInTable, false, p.ts !== ts)))
        }
        this.#pending = { ts, tuple: rows[i], firstInTable: this.#pending?.ts !== ts }
      }
      this.#rowIndex = end
    }
    return out
  }

  /** Loads the next fetched rows (opening the next table's cursor when one ends); false when all are read. */
  async #refill(): Promise<boolean> {
    for (;;) {
      if (!this.#cursorOpen) {
        if (!(await this.#openNextTable())) return false
        this.#ahead = this.#fetch()
      }
      const rows = await this.#ahead!
      this.#ahead = null
      this.#metrics?.rowsScanned(this.#current!.id, rows.length)
      if (rows.length < this.#settings.snapshotFetchSize) {
        await this.#client.query('CLOSE sluice_snapshot')
        this.#cursorOpen = false
        this.#metrics?.tableDone(this.#current!.id)
      } else {
        this.#ahead = this.#fetch()
        // Handled when awaited; meanwhile a failure must not surface as an unhandled rejection.
        this.#ahead.catch(() => {})
      }
      if (rows.length > 0) {
        this.#rows = rows
        this.#rowIndex = 0
        this.#rowsTable = this.#current
        return true
      }
    }
  }

  async #fetch(): Promise<Tuple[]> {
    const result = await this.#client.query({
      text: `FETCH ${this.#settings.snapshotFetchSize} FROM sluice_snapshot`,
      rowMode: 'array',
    })
    // Fetches only ever run for the open cursor, so #current is the table they read.
    if (this.#columnMapPending) {
      const names = result.fields.map((f) => f.name)
      this.#columnMap = this.#current!.relationColumns.map((c) => names.indexOf(c))
      this.#columnMapPending = false
    }
    const map = this.#columnMap
    const rows = result.rows as Tuple[]
    return map ? rows.map((r) => map.map((i) => (i < 0 ? null : (r[i] ?? null)))) : rows
  }

  #marker(firstInTable: boolean, last: boolean, lastInTable: boolean): SnapshotMarker {
    if (last) return 'last'
    if (this.#first) {
      this.#first = false
      return 'first'
    }
    if (lastInTable) return 'last_in_data_collection'
    if (firstInTable) return 'first_in_data_collection'
    return 'true'
  }

  async #openNextTable(): Promise<boolean> {
    for (;;) {
      this.#tableIndex++
      if (this.#tableIndex >= this.#tables.length) return false
      const id = this.#tables[this.#tableIndex]
      const [schema, table] = id.split('.')
      const info = await this.#catalog.table(schema, table)
      if (!info) continue
      const types = await this.#catalog.types(info.columns.map((c) => c.typeOid))
      this.#current = buildTableSchema(this.#settings, schema, table, info.columns, info, types, {
        warn: this.#warn,
      })
      const columns = info.columns.map((c) => quoteIdent(c.name)).join(', ')
      const select = this.#selects.get(id)
      // Checked when the signal arrived; again here for one resumed from an offset of an earlier version.
      if (select !== undefined) checkSelect(select)
      this.#columnMap = null
      this.#columnMapPending = select !== undefined
      // The extended protocol takes exactly one statement.
      await this.#client.query(
        oneStatement(
          `DECLARE sluice_snapshot NO SCROLL CURSOR FOR ${select ?? `SELECT ${columns} FROM ${quoteIdent(schema)}.${quoteIdent(table)}`}`,
        ),
      )
      this.#cursorOpen = true
      return true
    }
  }

  async close(): Promise<void> {
    await this.#client.query('COMMIT').catch(() => {})
    await this.#client.end().catch(() => {})
  }
}
