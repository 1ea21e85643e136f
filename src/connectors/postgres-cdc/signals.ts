/**
 * Signals — rows of the signal table (acting at their WAL position) and records of the Kafka channel
 * (acting between polls) — and the blocking snapshots they start, which pause streaming until done.
 * A malformed signal is reported and skipped (signal-data.ts); incremental snapshots are
 * incremental-snapshot.ts, driven from here.
 */
import { errorMessage } from '../../api/errors.ts'
import { connectLogger } from '../../api/log.ts'
import type { OffsetMap, SourceRecord } from '../../api/records.ts'
import { type BlockingTable, blockingOffsetKeys, blockingTables } from './blocking-snapshot.ts'
import type { Catalog } from './catalog.ts'
import {
  type ChangeHeader,
  changeRecord,
  envelope,
  nowUs,
  type SnapshotMarker,
  sourceStruct,
} from './change-events.ts'
import type { ChangeStream, SignalRowMessage } from './change-stream.ts'
import type { CdcSettings } from './config.ts'
import type { SnapshotMetrics } from './connector-metrics.ts'
import type { IncrementalSnapshot } from './incremental-snapshot.ts'
import type { KafkaSignal } from './kafka-signal-channel.ts'
import type { Lsn } from './lsn.ts'
import { type Row, textAt } from './pgoutput-decoder.ts'
import { checkSignal, readSnapshotRequest, SignalError, type SnapshotRequest } from './signal-data.ts'
import { InitialSnapshot } from './snapshot.ts'
import { capturedTables } from './startup.ts'
import { keyStruct, rowStruct, type TableSchema } from './table-schema.ts'

export /** A blocking snapshot under way: streaming is paused at `pause` until it is done. */
interface Blocking {
  tables: BlockingTable[]
  /** The streaming offset at the pause, which its records carry. */
  pause: OffsetMap
  snapshot: InitialSnapshot | null
}

const WINDOW_SIGNALS = new Set(['snapshot-window-open', 'snapshot-window-close'])

export class Signals {
  readonly #s: CdcSettings
  readonly #partition: OffsetMap
  readonly #catalog: Catalog
  readonly #incremental: IncrementalSnapshot
  readonly #stream: ChangeStream
  readonly #contextHeaders: ChangeHeader[]
  readonly #stopped: () => boolean
  readonly #warn: (key: string, message: string) => void
  readonly #problem: (message: string) => void
  readonly #snapshotMetrics: SnapshotMetrics | null
  /** The blocking snapshot under way, if any: streaming waits for it. */
  blocking: Blocking | null = null

  constructor(options: {
    settings: CdcSettings
    partition: OffsetMap
    catalog: Catalog
    incremental: IncrementalSnapshot
    stream: ChangeStream
    contextHeaders: ChangeHeader[]
    stopped: () => boolean
    warn: (key: string, message: string) => void
    problem: (message: string) => void
    snapshotMetrics?: SnapshotMetrics
  }) {
    this.#s = options.settings
    this.#partition = options.partition
    this.#catalog = options.catalog
    this.#incremental = options.incremental
    this.#stream = options.stream
    this.#contextHeaders = options.contextHeaders
    this.#stopped = options.stopped
    this.#warn = options.warn
    this.#problem = options.problem
    this.#snapshotMetrics = options.snapshotMetrics ?? null
  }

  /** Handles a signal-table change; returns whether the row is also emitted as a change event. */
  async onTableSignal(
    ts: TableSchema,
    message: SignalRowMessage,
    lsn: Lsn,
    records: SourceRecord[],
  ): Promise<boolean> {
    if (message.tag !== 'insert') return true
    const idIndex = ts.relationColumns.indexOf('id')
    const typeIndex = ts.relationColumns.indexOf('type')
    const dataIndex = ts.relationColumns.indexOf('data')
    const rawId = textAt(message.newTuple, idIndex) ?? null
    const rawType = textAt(message.newTuple, typeIndex) ?? null
    const data = dataIndex >= 0 ? (textAt(message.newTuple, dataIndex) ?? null) : null
    if (!WINDOW_SIGNALS.has(String(rawType)) && !this.#s.signalChannels.has('source')) {
      this.#warn(
        `source-off:${String(rawId)}`,
        `signal ${String(rawId)} in the signal table ignored: 'source' is not in signal.enabled.channels`,
      )
      return true
    }
    let windowRows: Awaited<ReturnType<IncrementalSnapshot['onSignal']>>
    try {
      const { id, type } = checkSignal(rawId, rawType)
      if (type === 'execute-snapshot') {
        const request = readSnapshotRequest(data)
        if (request.type === 'blocking') {
          // The signal acts at its WAL position: the snapshot's records carry the offset of this message.
          await this.#requestBlocking(id, request, this.#stream.offset(lsn, 'INSERT'))
          return true
        }
      }
      windowRows = await this.#incremental.onSignal(id, type, data)
    } catch (error) {
      if (!(error instanceof SignalError)) throw error
      this.#signalProblem(String(rawId), `the signal table ${this.#s.signalTable}`, error)
      return true
    }
    for (const row of windowRows) {
      this.#incremental.sent(row)
      const after = rowStruct(row.table, row.tuple, 'full')
      const source = this.#stream.source(row.table, null, 'incremental')
      this.#stream.emit(
        row.table,
        records,
        keyStruct(row.table, row.tuple),
        envelope(row.table, 'r', null, after, source),
        this.#stream.offset(lsn, 'INSERT'),
      )
    }
    return true
  }

  /**
   * A signal from the Kafka channel, acting at the current stream position (between polls). On
   * PostgreSQL an incremental snapshot needs the signal table for its watermarks, as in Debezium.
   */
  async onKafkaSignal(signal: KafkaSignal): Promise<void> {
    this.#stream.kafkaSignalOffset = signal.offset
    try {
      await this.#kafkaSignalAction(signal)
    } catch (error) {
      if (!(error instanceof SignalError)) throw error
      this.#signalProblem(signal.id, 'the Kafka signal channel', error)
    }
  }

  async #kafkaSignalAction(signal: KafkaSignal): Promise<void> {
    if (signal.problem) throw new SignalError(signal.problem)
    if (WINDOW_SIGNALS.has(signal.type)) {
      this.#warn(
        `kafka-window:${signal.id}`,
        `signal ${signal.id}: ${signal.type} only counts in the signal table; ignored`,
      )
      return
    }
    if (signal.type === 'execute-snapshot') {
      const request = readSnapshotRequest(signal.data)
      if (request.type === 'blocking') {
        await this.#requestBlocking(signal.id, request, this.#stream.positionOffset())
        return
      }
      if (!this.#s.signalTable) {
        this.#warn(
          `kafka-incremental:${signal.id}`,
          `signal ${signal.id}: an incremental snapshot needs signal.data.collection (its watermarks go to the signal table); ignored`,
        )
        return
      }
    }
    if (
      ['stop-snapshot', 'pause-snapshot', 'resume-snapshot'].includes(signal.type) &&
      !this.#s.signalTable
    ) {
      this.#warn(
        `kafka-incremental:${signal.id}`,
        `signal ${signal.id}: no incremental snapshot runs without signal.data.collection; ignored`,
      )
      return
    }
    await this.#incremental.onSignal(signal.id, signal.type, signal.data)
  }

  async #requestBlocking(id: string, request: SnapshotRequest, pause: OffsetMap): Promise<void> {
    if (request.collections.length === 0) {
      this.#warn(`blocking-empty:${id}`, `signal ${id}: execute-snapshot without data-collections: ignored`)
      return
    }
    // The signal table itself is never snapshotted (as Debezium, DBZ-7944).
    const captured = (await capturedTables(this.#catalog, this.#s)).filter((t) => t !== this.#s.signalTable)
    const tables = blockingTables(captured, request)
    if (tables.length === 0) {
      this.#warn(
        `blocking-none:${id}`,
        `signal ${id}: no captured table matches ${request.collections.join(', ')}: blocking snapshot skipped`,
      )
      return
    }
    connectLogger().info(
      `signal ${id}: blocking snapshot of ${tables.map((t) => t.id).join(', ')}; streaming paused`,
    )
    this.blocking = { tables, pause, snapshot: null }
  }

  /** One batch of the blocking snapshot; when it is done, streaming resumes at the next poll. */
  async blockingStep(records: SourceRecord[]): Promise<SourceRecord[]> {
    const blocking = this.blocking!
    try {
      if (!blocking.snapshot) {
        const selects = new Map<string, string>()
        for (const t of blocking.tables) if (t.select) selects.set(t.id, t.select)
        blocking.snapshot = await InitialSnapshot.begin(
          this.#s,
          this.#catalog,
          blocking.tables.map((t) => t.id),
          null,
          (m) => this.#warn(m, m),
          { selects },
          this.#snapshotMetrics,
        )
      }
      const snapshot = blocking.snapshot
      records.push(
        ...(await snapshot.next(
          (ts, tuple, marker) => this.#blockingRecord(blocking, ts, tuple, marker),
          this.#s.maxBatchSize,
        )),
      )
      if (snapshot.done) {
        await snapshot.close()
        this.blocking = null
        connectLogger().info('blocking snapshot completed; streaming resumes')
      }
    } catch (error) {
      if (this.#stopped()) return records
      // As Debezium: a failed blocking snapshot is abandoned (with a warning) and streaming resumes.
      await blocking.snapshot?.close().catch(() => {})
      this.blocking = null
      this.#snapshotMetrics?.aborted()
      this.#problem(
        `blocking snapshot of ${blocking.tables.map((t) => t.id).join(', ')} failed and was abandoned: ${errorMessage(error)}`,
      )
    }
    return records
  }

  #blockingRecord(blocking: Blocking, ts: TableSchema, tuple: Row, marker: SnapshotMarker): SourceRecord {
    const index = Math.max(
      0,
      blocking.tables.findIndex((t) => t.id === ts.id),
    )
    const source = sourceStruct(ts, {
      database: this.#s.database,
      serverName: this.#s.topicPrefix,
      timeUs: nowUs(),
      snapshot: marker,
      lsnCommit: this.#stream.lastCommitEnd,
      lsn: this.#stream.lastLsn,
      txId: this.#stream.lastTxId,
    })
    const value = envelope(ts, 'r', null, rowStruct(ts, tuple, 'full'), source)
    const offset: OffsetMap = {
      ...blocking.pause,
      ...this.#stream.signalOffsetKeys(),
      ...blockingOffsetKeys(blocking.tables.slice(index), marker === 'last'),
    }
    return changeRecord(ts, keyStruct(ts, tuple), value, this.#partition, offset, this.#contextHeaders)
  }

  /** A malformed signal: logged and shown on the task's status, then skipped (as Debezium does). */
  #signalProblem(id: string, channel: string, error: SignalError): void {
    this.#problem(`signal '${id}' from ${channel} skipped: ${error.message}`)
  }
}
