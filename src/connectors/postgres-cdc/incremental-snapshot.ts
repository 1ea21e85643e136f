/**
 * Incremental snapshots by the DBLog watermark algorithm (Andreakis & Papapanagiotou, "DBLog: A
 * Watermark Based Change-Data-Capture Framework"), driven by the signal table as in Debezium:
 *
 *   1. INSERT '<chunk>-open' (snapshot-window-open) into the signal table; commit.
 *   2. SELECT the next chunk by primary key: WHERE (pk) > (last key) AND NOT (pk) > (max key)
 *      ORDER BY pk LIMIT incremental.snapshot.chunk.size — rows go into a window keyed by key. A read
 *      that comes back empty finishes the table and reads the next one in the same window; with none
 *      left the window closes empty (so a snapshot ends with an empty window, as Debezium's does).
 *   3. INSERT '<chunk>-close' (snapshot-window-close); commit.
 *   4. On the stream: between the open and close markers every change of the table removes its key
 *      from the window (the streamed event is newer); at the close marker the rows left are emitted as
 *      `op: r`, `source.snapshot: incremental`, and the next chunk is read.
 *
 * Progress (collections, key of the last row emitted, maximum key) rides in the offsets as Debezium
 * keeps it (keys as hex of a Java-serialized Object[], java-serialization.ts), so a restart — of
 * Sluice or of Debezium on Sluice's offsets, and the other way round — resumes after the last row
 * emitted. Keys of types Debezium's form does not cover here are kept as JSON arrays of texts.
 */
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { errorMessage } from '../../api/errors.ts'
import { compileJavaRegex } from '../../api/java-regex.ts'
import type { Catalog } from './catalog.ts'
import type { CdcSettings } from './config.ts'
import { estimateRows, type SnapshotMetrics } from './connector-metrics.ts'
import { javaTypeOf } from './java-serialization.ts'
import type { IncrementalState } from './offsets.ts'
import { type Row, type Tuple, textAt } from './pgoutput-decoder.ts'
import { oneStatement, quoteIdent, readOnly } from './replication-connection.ts'
import {
  checkExpression,
  readSnapshotRequest,
  readStopRequest,
  SignalError,
  type SnapshotRequest,
} from './signal-data.ts'
import { buildTableSchema, type TableSchema } from './table-schema.ts'

export interface WindowRow {
  table: TableSchema
  tuple: Tuple
  /** The row's key values (texts), for {@link IncrementalSnapshot.sent}. */
  key: (string | null)[]
}

export class IncrementalSnapshot {
  readonly #ref: { current: pg.Client }
  readonly #catalog: Catalog
  readonly #s: CdcSettings
  readonly #warn: (m: string) => void
  /** A collection skipped for a reason the operator must see (also on the task's status). */
  readonly #problem: (m: string) => void
  #state: IncrementalState | null
  /** True when a chunk must be read (snapshot started, or the previous window closed). */
  #needChunk: boolean
  #chunkId: string | null = null
  #windowOpen = false
  #window = new Map<string, Tuple>()
  #table: TableSchema | null = null
  #keyPositions: number[] = []
  /** When the open marker of the current window was written (its `data`, as Debezium writes it). */
  #openedAt: string | null = null
  /** Last key of the last chunk read: the next chunk starts after it (Debezium's chunkEndPosition). */
  #chunkEnd: (string | null)[] | null
  readonly #metrics: SnapshotMetrics | null

  constructor(
    client: { current: pg.Client },
    catalog: Catalog,
    settings: CdcSettings,
    state: IncrementalState | null,
    warn: (m: string) => void,
    problem: (m: string) => void = warn,
    metrics: SnapshotMetrics | null = null,
  ) {
    this.#metrics = metrics
    this.#ref = client
    this.#catalog = catalog
    this.#s = settings
    this.#state = state && state.collections.length > 0 ? state : null
    if (this.#state)
      metrics?.started(
        'INCREMENTAL',
        this.#state.collections.map((c) => c.id),
        new Map(),
      )
    // A snapshot that was running when we stopped resumes with the chunk after the last emitted key.
    this.#needChunk = this.#state !== null
    this.#chunkEnd = this.#state?.lastKey ?? null
    this.#warn = warn
    this.#problem = problem
  }

  /** A window row went out as an event: the offsets now say to resume after its key. */
  sent(row: WindowRow): void {
    this.#metrics?.rowsScanned(row.table.id, 1)
    if (this.#state) this.#state.lastKey = row.key
  }

  get state(): IncrementalState | null {
    return this.#state
  }

  /**
   * A signal (from the signal table through the WAL, or from Kafka). Returns window rows to emit now, if
   * any. Throws a {@link SignalError} for a malformed signal, which the caller reports and skips.
   */
  async onSignal(id: string, type: string, data: string | null): Promise<WindowRow[]> {
    switch (type) {
      case 'execute-snapshot':
        await this.#execute(id, readSnapshotRequest(data))
        return []
      case 'stop-snapshot':
        this.#stop(readStopRequest(data))
        return []
      case 'pause-snapshot':
        if (this.#state) this.#state.paused = true
        if (this.#metrics) this.#metrics.paused = this.#state !== null
        return []
      case 'resume-snapshot':
        if (this.#state?.paused) {
          this.#state.paused = false
          if (this.#metrics) this.#metrics.paused = false
          if (!this.#chunkId) this.#needChunk = true
        }
        return []
      case 'snapshot-window-open':
        if (this.#chunkId && id === `${this.#chunkId}-open`) this.#windowOpen = true
        return []
      case 'snapshot-window-close':
        if (this.#chunkId && id === `${this.#chunkId}-close`) return this.#closeWindow()
        return []
      case 'log':
        this.#warn(`signal ${id}: ${data ?? ''}`)
        return []
      default:
        throw new SignalError(`its type '${type}' is unknown`)
    }
  }

  /** A streamed change of `ts` supersedes the snapshot's copy of the same key inside an open window. */
  onStreamedKey(ts: TableSchema, tuple: Row | null): void {
    if (!this.#windowOpen || !tuple || !this.#table || ts.id !== this.#table.id) return
    const streamedPositions = this.#table.keyColumns.map((k) => ts.relationColumns.indexOf(k.name))
    this.#window.delete(JSON.stringify(streamedPositions.map((p) => textAt(tuple, p) ?? null)))
  }

  /** Reads the next chunk when one is due and nothing else is waiting. */
  async maybeReadChunk(_idle: boolean): Promise<void> {
    if (!this.#needChunk || !this.#state || this.#state.paused) return
    this.#needChunk = false
    // As Debezium: every chunk read is inside a window, also the read that finds a table exhausted
    // (then the next table is read in the same window, and with none left the window closes empty).
    this.#chunkId = randomUUID()
    this.#window.clear()
    this.#windowOpen = false
    this.#openedAt = new Date().toISOString()
    await this.#marker(`${this.#chunkId}-open`, 'snapshot-window-open', {
      openWindowTimestamp: this.#openedAt,
    })
    while (this.#state && this.#state.collections.length > 0) {
      const collection = this.#state.collections[0]
      const [schema, table] = collection.id.split('.')
      const info = await this.#catalog.table(schema, table)
      const key = collection.surrogateKey
        ? [collection.surrogateKey]
        : (this.#s.messageKeyColumns.find((k) => k.table.test(collection.id))?.columns ??
          info?.primaryKey ??
          [])
      if (!info || key.length === 0) {
        this.#warn(
          `incremental snapshot of ${collection.id} skipped: ${info ? 'it has no primary key' : 'no such table'}`,
        )
        this.#nextCollection()
        continue
      }
      const types = await this.#catalog.types(info.columns.map((c) => c.typeOid))
      this.#table = buildTableSchema(this.#s, schema, table, info.columns, info, types, { warn: this.#warn })
      this.#keyPositions = key.map((k) => info.columns.findIndex((c) => c.name === k))
      this.#state.keyTypes = this.#keyPositions.map((p) => {
        const type = types.get(info.columns[p]?.typeOid ?? -1)
        return type && !type.element ? javaTypeOf(type.name) : null
      })
      const qualified = `${quoteIdent(schema)}.${quoteIdent(table)}`
      const keyList = key.map(quoteIdent).join(', ')
      const filter = collection.additionalCondition
      try {
        // Checked when the signal arrived; again here for a snapshot resumed from an older offset.
        if (filter) checkExpression(filter)
      } catch (error) {
        this.#problem(`incremental snapshot of ${collection.id} skipped: ${errorMessage(error)}`)
        this.#nextCollection()
        continue
      }
      const condition = filter ? ` AND (${filter})` : ''
      const client = this.#ref.current
      let rows: Tuple[]
      try {
        if (!this.#state.maximumKey) {
          const max = await readOnly(
            client,
            oneStatement(
              `SELECT ${keyList} FROM ${qualified} WHERE TRUE${condition} ORDER BY ${key.map((k) => `${quoteIdent(k)} DESC`).join(', ')} LIMIT 1`,
              [],
              'array',
            ),
          )
          if (max.rows.length === 0) {
            this.#nextCollection()
            continue
          }
          this.#state.maximumKey = max.rows[0] as (string | null)[]
        }
        rows = await this.#readChunk(info.columns, qualified, keyList, condition, this.#state.maximumKey)
      } catch (error) {
        // The operator's filter fails on the server (a typo, a function that writes): the collection is
        // skipped, as the signal would have been. Anything else (connection lost) fails the task as before.
        if (!filter || !isStatementError(error)) throw error
        this.#problem(
          `incremental snapshot of ${collection.id} skipped: its additional condition '${filter}' fails: ${errorMessage(error)}`,
        )
        this.#nextCollection()
        continue
      }
      if (rows.length === 0) {
        this.#nextCollection()
        continue
      }
      for (const row of rows as Tuple[]) {
        this.#window.set(JSON.stringify(this.#keyPositions.map((p) => row[p] ?? null)), row)
      }
      const last = rows[rows.length - 1] as Tuple
      this.#chunkEnd = this.#keyPositions.map((p) => last[p] ?? null)
      break
    }
    await this.#marker(`${this.#chunkId}-close`, 'snapshot-window-close', {
      openWindowTimestamp: this.#openedAt,
      closeWindowTimestamp: new Date().toISOString(),
    })
  }

  /** The rows after the last chunk's end, up to the maximum key: one read-only statement, keys as parameters. */
  async #readChunk(
    tableColumns: readonly { name: string }[],
    qualified: string,
    keyList: string,
    condition: string,
    maximumKey: (string | null)[],
  ): Promise<Tuple[]> {
    const params: unknown[] = []
    const placeholders = (values: unknown[]): string =>
      values
        .map((v) => {
          params.push(v)
          return `$${params.length}`
        })
        .join(', ')
    const lower = this.#chunkEnd ? ` AND (${keyList}) > (${placeholders(this.#chunkEnd)})` : ''
    const upper = ` AND NOT ((${keyList}) > (${placeholders(maximumKey)}))`
    const columns = tableColumns.map((c) => quoteIdent(c.name)).join(', ')
    const { rows } = await readOnly(
      this.#ref.current,
      oneStatement(
        `SELECT ${columns} FROM ${qualified} WHERE TRUE${lower}${upper}${condition} ORDER BY ${keyList} LIMIT ${this.#s.chunkSize}`,
        params,
        'array',
      ),
    )
    return rows as Tuple[]
  }

  #closeWindow(): WindowRow[] {
    const table = this.#table
    const rows = [...this.#window.values()].flatMap((tuple) =>
      table === null
        ? []
        : [
            {
              table,
              tuple,
              key: this.#keyPositions.map((p) => tuple[p] ?? null),
            },
          ],
    )
    this.#window.clear()
    this.#windowOpen = false
    this.#chunkId = null
    this.#needChunk = this.#state !== null
    return rows
  }

  #nextCollection(): void {
    if (!this.#state) return
    const done = this.#state.collections.shift()
    if (done) this.#metrics?.tableDone(done.id)
    this.#state.lastKey = null
    this.#state.maximumKey = null
    this.#state.keyTypes = null
    this.#chunkEnd = null
    if (this.#state.collections.length === 0) {
      this.#state = null
      this.#metrics?.completed()
    }
  }

  async #execute(id: string, request: SnapshotRequest): Promise<void> {
    if (request.type !== 'incremental') {
      this.#warn(
        `signal ${id}: execute-snapshot of type '${request.type}' is not implemented (only incremental): ignored`,
      )
      return
    }
    const patterns = request.collections.map((p) => compileJavaRegex(p).whole)
    const tables = (await this.#catalog.tables())
      .map(([s, t]) => `${s}.${t}`)
      .filter((t) => patterns.some((p) => p.test(t)))
    const state = this.#state ?? {
      collections: [],
      lastKey: null,
      maximumKey: null,
      keyTypes: null,
      correlationId: id,
      paused: false,
    }
    for (const t of tables) {
      if (state.collections.some((c) => c.id === t)) continue
      state.collections.push({
        id: t,
        additionalCondition: request.conditions.find((c) => c.dataCollection === t)?.filter ?? null,
        surrogateKey: request.surrogateKey,
      })
    }
    if (state.collections.length === 0) return
    if (this.#metrics) {
      const estimates = await estimateRows(this.#ref.current, tables).catch(() => new Map<string, number>())
      if (this.#state === null) this.#metrics.started('INCREMENTAL', tables, estimates)
      else this.#metrics.addTables(tables, estimates)
    }
    const wasIdle = this.#state === null
    this.#state = state
    if (wasIdle) this.#needChunk = true
  }

  #stop(collections: string[]): void {
    if (!this.#state) return
    if (collections.length === 0) {
      this.#state = null
      this.#chunkEnd = null
      this.#metrics?.aborted()
    } else {
      const patterns = collections.map((p) => compileJavaRegex(p).whole)
      const current = this.#state.collections[0]?.id
      this.#state.collections = this.#state.collections.filter((c) => !patterns.some((p) => p.test(c.id)))
      if (current !== this.#state.collections[0]?.id) {
        this.#state.lastKey = null
        this.#state.maximumKey = null
        this.#state.keyTypes = null
        this.#chunkEnd = null
      }
      if (this.#state.collections.length === 0) this.#state = null
    }
    this.#window.clear()
    this.#windowOpen = false
    this.#chunkId = null
    this.#needChunk = this.#state !== null
  }

  /** A watermark row; `data` is written as Debezium 3.6 writes it: `{"openWindowTimestamp": "…", …}`. */
  async #marker(id: string, type: string, times: Record<string, string | null>): Promise<void> {
    const [schema, table] = this.#s.signalTable!.split('.')
    const data = `{${Object.entries(times)
      .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
      .join(', ')}}`
    await this.#ref.current.query(
      `INSERT INTO ${quoteIdent(schema)}.${quoteIdent(table)} (id, type, data) VALUES ($1, $2, $3)`,
      [id, type, data],
    )
  }
}

/**
 * A server error about the statement itself (syntax, unknown name, type, a write refused in READ ONLY),
 * not about the connection or the server's state (SQLSTATE classes 08, 40, 53, 57, 58, XX).
 */
function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.length === 5 && !/^(08|40|53|57|58|XX)/.test(code)
}
