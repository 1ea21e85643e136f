/**
 * The initial snapshot: every captured table read with `COPY (SELECT …) TO STDOUT` in one REPEATABLE
 * READ transaction. When the slot was just created, the transaction imports the slot's exported
 * snapshot, so the snapshot shows exactly the database at the slot's consistent point and streaming
 * continues from there without loss or overlap. The server streams each table while we turn rows into
 * records; at most `snapshot.fetch.size` rows, and at most 1 MiB of them, wait (then the socket pauses,
 * copy-reader.ts), and they are handed out at most `max` per call (source-task.ts: 512, or a smaller
 * `max.batch.size`); memory stays flat. COPY sends each row as one
 * message of tab-separated texts (the same texts a query returns), which we split in place: cheaper
 * than the driver's per-row objects and strings of a cursor's FETCH, on our side and the server's.
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
import { CopyReader } from './copy-reader.ts'
import { type Lsn, parseLsn } from './lsn.ts'
import type { Row } from './pgoutput-decoder.ts'
import { clientConfig, newPgClient, oneStatement, quoteIdent } from './replication-connection.ts'
import { checkSelect } from './signal-data.ts'
import { buildTableSchema, type TableSchema } from './table-schema.ts'
import { SESSION_OPTIONS } from './value-converters.ts'

export type RowToRecord = (ts: TableSchema, tuple: Row, marker: SnapshotMarker) => SourceRecord

export class InitialSnapshot {
  readonly #client: pg.Client
  readonly #settings: CdcSettings
  readonly #catalog: Catalog
  readonly #tables: string[]
  readonly #selects: ReadonlyMap<string, string>
  /** For a SELECT override: position in its result of each table column (-1: absent). */
  #columnMap: number[] | null = null
  readonly #warn: (m: string) => void
  readonly #metrics: SnapshotMetrics | null
  #tableIndex = -1
  #current: TableSchema | null = null
  /** One row held back to know whether the next one exists (for the last_* markers). */
  #pendingTs: TableSchema | null = null
  #pendingRow: Row | null = null
  #pendingFirstInTable = false
  #first = true
  /** The COPY of the table being read, if any. */
  #reader: CopyReader | null = null
  /** Rows read and not yet turned into records, from `#rowIndex` on, of table `#rowsTable`. */
  #rows: Row[] = []
  #rowIndex = 0
  #rowsTable: TableSchema | null = null
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
    // A connection lost mid-snapshot fails the read under way (or the next one), which fails the poll;
    // the driver's 'error' event, without a listener, would end the whole process instead.
    client.on('error', () => {})
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
        if (this.#pendingRow) out.push(toRecord(this.#pendingTs!, this.#pendingRow, 'last'))
        this.#pendingRow = null
        this.#pendingTs = null
        this.done = true
        this.#metrics?.completed()
        break
      }
      const ts = this.#rowsTable!
      const rows = this.#rows
      const end = Math.min(rows.length, this.#rowIndex + (max - out.length))
      for (let i = this.#rowIndex; i < end; i++) {
        const pendingTs = this.#pendingTs
        if (this.#pendingRow) {
          out.push(
            toRecord(
              pendingTs!,
              this.#pendingRow,
              this.#marker(this.#pendingFirstInTable, false, pendingTs !== ts),
            ),
          )
        }
        this.#pendingFirstInTable = pendingTs !== ts
        this.#pendingTs = ts
        this.#pendingRow = rows[i]
      }
      this.#rowIndex = end
    }
    return out
  }

  /** Loads the next rows read (starting the next table's COPY when one ends); false when all are read. */
  async #refill(): Promise<boolean> {
    for (;;) {
      if (!this.#reader && !(await this.#openNextTable())) return false
      const ts = this.#current!
      const rows = await this.#reader!.take()
      if (rows === null) {
        this.#reader = null
        this.#metrics?.tableDone(ts.id)
        continue
      }
      this.#metrics?.rowsScanned(ts.id, rows.length)
      const expected = this.#columnMap ? null : ts.relationColumns.length
      if (expected !== null && rows[0].length !== expected)
        throw new Error(`snapshot of ${ts.id}: a COPY row has ${rows[0].length} columns, not ${expected}`)
      const map = this.#columnMap
      this.#rows = map ? rows.map((r) => r.pick(map)) : rows
      this.#rowIndex = 0
      this.#rowsTable = ts
      return true
    }
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
      this.#columnMap = null
      if (select !== undefined) {
        // Checked when the signal arrived; again here for one resumed from an offset of an earlier version.
        // The check (one SELECT, balanced parentheses, no comment) also keeps it inside COPY's parentheses.
        checkSelect(select)
        // Its columns are matched to the table's by name: a query that returns none tells their names.
        const probe = await this.#client.query(
          oneStatement(`SELECT * FROM (${select}) AS sluice_snapshot LIMIT 0`, [], 'array'),
        )
        const names = probe.fields.map((f) => f.name)
        this.#columnMap = this.#current.relationColumns.map((c) => names.indexOf(c))
      }
      // The extended protocol takes exactly one statement.
      this.#reader = new CopyReader(
        this.#client,
        oneStatement(
          `COPY (${select ?? `SELECT ${columns} FROM ${quoteIdent(schema)}.${quoteIdent(table)}`}) TO STDOUT`,
        ),
        this.#settings.snapshotFetchSize,
      )
      return true
    }
  }

  async close(): Promise<void> {
    // A COPY under way would hold a COMMIT back until the whole table was sent: end the connection
    // instead (the transaction only read), which the driver does by closing the socket.
    if (this.#reader?.running) this.#reader.abandon()
    else await this.#client.query('COMMIT').catch(() => {})
    this.#reader = null
    await this.#client.end().catch(() => {})
  }
}
