/**
 * The one task of the PostgreSQL CDC connector: an optional initial snapshot (under the slot's
 * exported snapshot when the slot is new), then streaming from the slot through our pgoutput
 * decoder, with incremental snapshots interleaved by the DBLog watermark algorithm and blocking
 * snapshots that pause streaming, both triggered by signals from the signal table or a Kafka topic.
 *
 * Offsets and the slot: every record carries Debezium's offset map. The slot's flushed LSN moves
 * only in `commit()` — after the runtime wrote the offsets of acknowledged records — to the
 * `lsn_commit` of the newest of them, so the server never discards WAL we might still need.
 *
 * This file holds the task's life cycle (start, poll, commit, stop, reconnect, heartbeats, initial
 * snapshot records); start-up decisions are in startup.ts, change events from the stream in
 * change-stream.ts, signals and blocking snapshots in signals.ts.
 */

import type pg from 'pg'
import { type Props, SourceTask } from '../../api/connector.ts'
import { ConnectError, DataError, errorMessage, RetriableError } from '../../api/errors.ts'
import { connectLogger } from '../../api/log.ts'
import type { OffsetMap, SourceRecord } from '../../api/records.ts'
import { BLOCKING_OFFSET_KEY, readBlocking } from './blocking-snapshot.ts'
import { Catalog } from './catalog.ts'
import {
  type ChangeHeader,
  changeRecord,
  contextHeaders,
  envelope,
  heartbeatRecord,
  nowUs,
  type SnapshotMarker,
  sourceStruct,
} from './change-events.ts'
import { ChangeStream } from './change-stream.ts'
import { type CdcSettings, parseSettings } from './config.ts'
import { registerConnectorMetrics, SnapshotMetrics, StreamingMetrics } from './connector-metrics.ts'
import { Fifo } from './fifo.ts'
import { IncrementalSnapshot } from './incremental-snapshot.ts'
import { KAFKA_SIGNAL_OFFSET_KEY, KafkaSignalChannel } from './kafka-signal-channel.ts'
import type { Lsn } from './lsn.ts'
import { incrementalOffsetKeys, positionReached, readOffset } from './offsets.ts'
import type { Row } from './pgoutput-decoder.ts'
import { clientConfig, newPgClient, ReplicationConnection, type XLogData } from './replication-connection.ts'
import { checkServer, checkSlot, ensurePublication, slotInfo } from './setup.ts'
import { Signals } from './signals.ts'
import { InitialSnapshot } from './snapshot.ts'
import {
  capturedTables,
  decideSnapshot,
  describeFailure,
  slotForStart,
  warnTablesWithoutKey,
} from './startup.ts'
import { StreamedTransactions } from './streamed-transactions.ts'
import { keyStruct, rowStruct, type TableSchema } from './table-schema.ts'
import { SESSION_OPTIONS } from './value-converters.ts'
import { POSTGRES_CDC_VERSION } from './version.ts'

/**
 * Records a poll hands out at most, snapshot or streaming (fewer when `max.batch.size` is smaller). A
 * poll's records live until the whole poll is converted, and the runtime keeps eight polls in flight:
 * at 2,048 records per poll (the `max.batch.size` default) they outlived two young-generation
 * collections and were promoted, so the old generation, and with it the worker's peak RSS, grew by
 * ~100 MiB between full collections. At 512 they mostly die young: a 1M-row snapshot peaked 60 MiB
 * lower at the same CPU, streaming 290,000 events ~40 MiB lower at ~20 % less CPU.
 */
export const POLL_RECORDS = 512

export class PostgresCdcSourceTask extends SourceTask {
  #s!: CdcSettings
  /**
   * What a poll hands out at most: `max.batch.size`, capped at POLL_RECORDS unless each poll is a
   * broker transaction (exactly-once on Kafka): four times the transactions cost a quarter of the
   * throughput there (−30 % instead of −13 % against exactly-once off), more than the memory saved.
   */
  get #pollRecords(): number {
    return this.context.pollIsTransaction?.() === true
      ? this.#s.maxBatchSize
      : Math.min(this.#s.maxBatchSize, POLL_RECORDS)
  }
  #partition!: OffsetMap
  #client: pg.Client | null = null
  readonly #clientRef = { current: null as unknown as pg.Client }
  #clientBroken = false
  #catalog!: Catalog
  #replication: ReplicationConnection | null = null
  #snapshot: InitialSnapshot | null = null
  #incremental!: IncrementalSnapshot
  #stream!: ChangeStream
  #signals!: Signals
  #streamAfterSnapshot = true
  #startLsn: Lsn = 0
  readonly #queue = new Fifo<XLogData>()
  #wake: (() => void) | null = null
  #failure: (Error & { retriable?: boolean }) | null = null
  #stopped = false
  /** Debezium's `__debezium.context.*` headers of this run (`extended.headers.enabled`). */
  #contextHeaders: ChangeHeader[] = []
  #idleWalEnd: Lsn = 0
  #lastHeartbeat = Date.now()
  #warned = new Set<string>()
  #kafka: KafkaSignalChannel | null = null
  /** Transactions the server streams while they run (protocol version 2), kept until their commit. */
  #streams: StreamedTransactions | null = null
  readonly #snapshotMetrics = new SnapshotMetrics()
  readonly #streamingMetrics = new StreamingMetrics()
  #unregisterMetrics: (() => void) | null = null

  version(): string {
    return POSTGRES_CDC_VERSION
  }

  async start(props: Props): Promise<void> {
    this.#s = parseSettings(props)
    this.#unregisterMetrics = registerConnectorMetrics(
      this.#s.topicPrefix,
      this.#snapshotMetrics,
      this.#streamingMetrics,
    )
    try {
      await this.#start()
    } catch (error) {
      this.#unregisterMetrics()
      throw error
    }
  }

  async #start(): Promise<void> {
    const s = this.#s
    if (s.pluginName === 'decoderbufs') {
      this.#warn(
        'plugin',
        'plugin.name=decoderbufs is read as pgoutput: set plugin.name=pgoutput to silence this warning',
      )
    }
    this.#partition = Object.freeze({ server: s.topicPrefix })
    this.#contextHeaders = s.extendedHeaders ? contextHeaders(s.topicPrefix) : []
    const raw = await this.context.offsetStorageReader().offset(this.#partition)
    const stored = readOffset(raw)
    await this.#connectClient()
    await checkServer(this.#client!, s)
    this.#catalog = new Catalog(this.#clientRef)
    const captured = await capturedTables(this.#catalog, s)
    await ensurePublication(this.#client!, this.#catalog, s, [
      ...captured,
      ...(s.signalTable ? [s.signalTable] : []),
    ])
    await warnTablesWithoutKey(this.#client!, s, captured, (k, m) => this.#warn(k, m))
    this.#incremental = new IncrementalSnapshot(
      this.#clientRef,
      this.#catalog,
      s,
      stored?.incremental ?? null,
      (m) => this.#warn(m, m),
      (m) => this.#problem(m),
      this.#snapshotMetrics,
    )
    this.#stream = new ChangeStream({
      settings: s,
      partition: this.#partition,
      catalog: this.#catalog,
      incremental: this.#incremental,
      contextHeaders: this.#contextHeaders,
      onSignalRow: (ts, message, lsn, records) => this.#signals.onTableSignal(ts, message, lsn, records),
      warn: (k, m) => this.#warn(k, m),
    })
    this.#stream.kafkaSignalOffset =
      typeof raw?.[KAFKA_SIGNAL_OFFSET_KEY] === 'number' ? raw[KAFKA_SIGNAL_OFFSET_KEY] : null
    this.#signals = new Signals({
      settings: s,
      partition: this.#partition,
      catalog: this.#catalog,
      incremental: this.#incremental,
      stream: this.#stream,
      contextHeaders: this.#contextHeaders,
      stopped: () => this.#stopped,
      warn: (k, m) => this.#warn(k, m),
      problem: (m) => this.#problem(m),
      snapshotMetrics: this.#snapshotMetrics,
    })
    for (const warning of stored?.warnings ?? []) this.#warn(warning, warning)

    const found = await slotForStart(
      this.#client!,
      s,
      stored,
      () => this.#stopped,
      (k, m) => this.#warn(k, m),
    )
    // stop() during the wait closed the client: leave quietly rather than fail on it.
    if (!found) return
    const { slot, slotLost } = found

    this.#replication = await ReplicationConnection.open(s).catch((error: unknown) => {
      throw new RetriableError(`cannot open a replication connection: ${errorMessage(error)}`, {
        cause: error,
      })
    })
    let exportedSnapshot: string | null = null
    let consistentPoint: Lsn | null = null
    if (!slot) {
      const created = await this.#replication.createSlot(s.slotName)
      exportedSnapshot = created.snapshotName
      consistentPoint = created.consistentPoint
    }
    const needSnapshot = decideSnapshot(s, stored, !slot || slotLost)
    this.#streamAfterSnapshot = s.snapshotMode !== 'initial_only'
    if (stored && !needSnapshot) {
      this.#stream.resume = stored.position
      this.#stream.lastCommitEnd = stored.position.lsnCommit
      this.#startLsn = stored.position.lsnCommit ?? 0
      // A blocking snapshot was under way: read its remaining tables again before streaming on.
      const blocking = readBlocking(raw)
      if (blocking) {
        const drop = ['snapshot', 'last_snapshot_record', 'snapshot_completed', BLOCKING_OFFSET_KEY]
        const pause: OffsetMap = Object.fromEntries(
          Object.entries(raw ?? {}).filter(([k]) => !drop.includes(k)),
        )
        this.#signals.blocking = { tables: blocking, pause, snapshot: null }
        this.#warn(
          'blocking-resume',
          `resuming the blocking snapshot of ${blocking.map((t) => t.id).join(', ')}`,
        )
      }
    }
    if (needSnapshot) {
      const tables = captured.filter(
        (t) => s.snapshotInclude.length === 0 || s.snapshotInclude.some((r) => r.test(t)),
      )
      this.#snapshot = await InitialSnapshot.begin(
        s,
        this.#catalog,
        tables,
        exportedSnapshot,
        (m) => this.#warn(m, m),
        null,
        this.#snapshotMetrics,
      )
      this.#stream.lastCommitEnd = consistentPoint ?? this.#snapshot.lsn
      this.#stream.lastLsn = this.#stream.lastCommitEnd
    } else if (this.#streamAfterSnapshot) {
      // No offset and no snapshot: streaming starts where the slot is (just made: its consistent point),
      // the position a heartbeat reports until the first commit.
      if (!stored) this.#stream.slotStart = consistentPoint ?? slot?.confirmedFlush ?? null
      this.#startStreaming()
    }
    if (s.kafkaSignal && this.#streamAfterSnapshot) {
      if (!s.signalTable) {
        this.#warn(
          'kafka-no-table',
          'the Kafka signal channel can run blocking snapshots only: incremental snapshots on PostgreSQL write their ' +
            'watermarks to the signal table, so set signal.data.collection to run them',
        )
      }
      this.#kafka = new KafkaSignalChannel(
        s.kafkaSignal,
        s.topicPrefix,
        this.context,
        this.#stream.kafkaSignalOffset,
        (k, m) => this.#warn(k, m),
      )
      this.#kafka.start()
    }
    // stop() may have run while we were starting: release what start opened after it, or the
    // replication connection would keep the slot busy for the next task.
    if (this.#stopped) await this.stop()
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.#failure?.retriable && !this.#snapshot && this.#streamAfterSnapshot && !this.#stopped)
      await this.#reconnect()
    this.#throwIfFailed()
    if (this.#stopped) return null
    if (this.#snapshot) {
      const records = await this.#snapshot.next(
        (ts, tuple, marker) => this.#snapshotRecord(ts, tuple, marker),
        this.#pollRecords,
      )
      if (this.#snapshot.done) {
        await this.#snapshot.close()
        this.#snapshot = null
        if (this.#streamAfterSnapshot) this.#startStreaming()
      }
      return records
    }
    if (!this.#replication) return this.#idle()
    const records: SourceRecord[] = []
    // Kafka signals act between polls; they wait while a blocking snapshot runs.
    if (this.#kafka && !this.#signals.blocking) {
      for (const signal of this.#kafka.take()) await this.#signals.onKafkaSignal(signal)
    }
    if (this.#signals.blocking) return this.#signals.blockingStep(records)
    if (this.#queue.length === 0 && !this.#streams?.replaying) await this.#waitForData(this.#s.pollIntervalMs)
    // Messages already received are whole and are all handled even if the connection failed meanwhile:
    // throwing here would drop records whose position the resume point already counts as handled. The
    // failure is dealt with at the next poll (reconnect, or fail the task). A streamed transaction being
    // replayed (after its Stream Commit) comes before what was received after that commit.
    for (let n = 0; n < this.#pollRecords; n++) {
      const message = this.#streams?.next() ?? this.#queue.shift()
      if (!message) break
      const pending = this.#stream.handle(message, records, this.#streams)
      if (pending) await pending
      // A blocking snapshot pauses streaming right after its signal; the rest waits (queue or replay).
      if (this.#signals.blocking) break
    }
    if (records.length > 0)
      this.#streamingMetrics.events(records.length, Number(this.#stream.lastTsUs / 1000n))
    if (this.#queue.length < this.#s.maxQueueSize / 2) this.#replication?.resume()
    if (this.#signals.blocking) return records
    await this.#incremental.maybeReadChunk(records.length === 0 && this.#queue.length === 0)
    await this.#maybeHeartbeat(records)
    return records
  }

  /**
   * The runtime wrote the offsets of acknowledged records: the slot may now forget the WAL before the
   * `lsn_commit` of the offset as it is stored. Read back from offset storage, not taken from
   * `commitRecord`: records acknowledged while the flush was under way are not in the stored offsets
   * yet, and confirming them would let the server drop WAL a restart still needs.
   */
  override async commit(): Promise<void> {
    if (!this.#replication || !this.#partition) return
    const raw = await this.context.offsetStorageReader().offset(this.#partition)
    const stored = readOffset(raw)
    const lsn = stored?.position.lsnCommit
    if (lsn !== undefined && lsn !== null) this.#replication?.confirm(lsn)
    // The signal topic's group offset follows the stored offsets, never ahead of them.
    const signalOffset = raw?.[KAFKA_SIGNAL_OFFSET_KEY]
    if (this.#kafka && typeof signalOffset === 'number') void this.#kafka.commit(signalOffset)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#unregisterMetrics?.()
    this.#streamingMetrics.connected = false
    this.#wake?.()
    await this.#kafka?.stop()
    this.#kafka = null
    await this.#snapshot?.close().catch(() => {})
    this.#snapshot = null
    // (No signals yet when start failed early.)
    const blocking = this.#signals?.blocking
    await blocking?.snapshot?.close().catch(() => {})
    if (blocking) blocking.snapshot = null
    await this.#replication?.close()
    this.#replication = null
    this.#streams?.reset()
    const client = this.#client
    this.#client = null
    if (client && !this.#clientBroken && this.#s?.slotDropOnStop) {
      await client
        .query(
          'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
          [this.#s.slotName],
        )
        .catch((error: unknown) =>
          this.#warn('drop', `could not drop slot ${this.#s.slotName}: ${errorMessage(error)}`),
        )
    }
    await client?.end().catch(() => {})
  }

  // ---- streaming ----

  async #connectClient(): Promise<void> {
    const s = this.#s
    const client = await newPgClient(clientConfig(s, { options: SESSION_OPTIONS }))
    client.on('error', (error) => {
      this.#clientBroken = true
      this.#fail(error)
    })
    try {
      await client.connect()
    } catch (error) {
      throw new RetriableError(
        `cannot connect to PostgreSQL at ${s.host}:${s.port}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      )
    }
    this.#client = client
    this.#clientRef.current = client
    this.#clientBroken = false
  }

  /**
   * The connection was lost (server restart, network): reconnect with backoff and resume right
   * after the last message handled — inside its transaction if need be — so nothing is lost and
   * nothing emitted twice. A slot that is gone or unusable ends the retries with a plain message.
   */
  async #reconnect(): Promise<void> {
    const cause = this.#failure!
    this.#failure = null
    await this.#replication?.close()
    this.#replication = null
    this.#queue.clear()
    // The lost connection's keepalive position is past the messages just dropped from the queue.
    this.#idleWalEnd = 0
    // The server sends transactions that were not committed before the restart point again, whole.
    this.#streams?.reset()
    const tx = this.#stream.tx
    if (tx) {
      // Still skipping what the position it resumed from counts as done: that position stays.
      this.#stream.resume = positionReached(this.#stream.resume, {
        txId: tx.xid,
        txEventsProcessed: tx.ordinal,
        lsnCommit: this.#stream.lastCommitEnd,
        lsn: this.#stream.lastLsn,
      })
    }
    this.#stream.tx = null
    this.#stream.relations.clear()
    this.#startLsn = this.#stream.lastCommitEnd ?? 0
    let delay = 200
    for (;;) {
      if (this.#stopped) return
      this.#warn(
        `reconnect:${Date.now()}`,
        `replication connection lost (${errorMessage(cause)}); reconnecting`,
      )
      try {
        if (this.#clientBroken || !this.#client) {
          await this.#client?.end().catch(() => {})
          await this.#connectClient()
        }
        const slot = await slotInfo(this.#client!, this.#s.slotName)
        if (!slot) {
          throw new ConnectError(
            'CONNECT',
            `replication slot '${this.#s.slotName}' was dropped while the connector was streaming: changes since are lost. ` +
              'Restart the connector with snapshot.mode=when_needed to re-create the slot and re-snapshot.',
          )
        }
        checkSlot(slot, this.#s)
        this.#replication = await ReplicationConnection.open(this.#s)
        this.#startStreaming()
        return
      } catch (error) {
        if (error instanceof ConnectError && !error.retriable) throw error
        this.#failure = null
        await new Promise((resolve) => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, 10_000)
      }
    }
  }

  #startStreaming(): void {
    const s = this.#s
    this.#streams ??= new StreamedTransactions(s.streamingBufferBytes)
    const streams = this.#streams
    const handlers = {
      onData: (message: XLogData) => {
        try {
          if (streams.route(message)) return
        } catch (error) {
          this.#fail(
            new ConnectError(
              'CONNECT',
              `cannot buffer a streamed transaction (${errorMessage(error)}): free space in the temp directory, ` +
                'point TMPDIR elsewhere, or set pgoutput.streaming=false',
              { cause: error },
            ),
          )
          return
        }
        this.#queue.push(message)
        if (this.#queue.length >= s.maxQueueSize) this.#replication?.pause()
        this.#wake?.()
      },
      onKeepalive: (walEnd: Lsn) => {
        this.#idleWalEnd = walEnd
      },
      onError: (error: Error) => this.#fail(error),
      onEnd: () => this.#fail(new RetriableError('the server ended the replication stream')),
    }
    this.#streamingMetrics.connected = true
    this.#replication!.startStreaming(
      s.slotName,
      s.publicationName,
      this.#startLsn,
      s.statusIntervalMs,
      handlers,
      s.pgoutputStreaming,
    )
  }

  async #maybeHeartbeat(records: SourceRecord[]): Promise<void> {
    const interval = this.#s.heartbeatIntervalMs
    if (interval <= 0 || Date.now() - this.#lastHeartbeat < interval) return
    this.#lastHeartbeat = Date.now()
    if (this.#s.heartbeatActionQuery) {
      await this.#client!.query(this.#s.heartbeatActionQuery).catch((error: unknown) =>
        this.#warn('heartbeat', `heartbeat.action.query failed: ${errorMessage(error)}`),
      )
    }
    // Inside a transaction: the position of the last change handled, with the count of the transaction's
    // changes handled (as every change event's offset), so a restart from this offset skips exactly those.
    // Before a restart inside a transaction has passed its stored position: that position.
    if (
      (this.#stream.tx && this.#stream.lastLsn !== null) ||
      typeof this.#stream.resume?.txEventsProcessed === 'number'
    ) {
      const offset = this.#stream.offset(
        this.#stream.lastLsn ?? 0,
        this.#stream.lastMessageType ?? 'HEARTBEAT',
      )
      records.push(heartbeatRecord(this.#s.heartbeatTopic, this.#s.topicPrefix, this.#partition, offset))
      return
    }
    // Idle and nothing half-read: the server's position is safe to resume from.
    let position = this.#stream.lastCommitEnd ?? this.#stream.slotStart ?? 0
    if (
      !this.#stream.tx &&
      this.#queue.length === 0 &&
      !this.#streams?.replaying &&
      this.#idleWalEnd > position
    )
      position = this.#idleWalEnd
    // No position known yet: a heartbeat at LSN 0 would make a restart think the slot ran ahead of it.
    if (position === 0) return
    this.#stream.lastCommitEnd = position
    const offset: OffsetMap = {
      lsn_proc: position,
      ...(this.#stream.lastMessageType === null ? {} : { messageType: this.#stream.lastMessageType }),
      lsn_commit: position,
      lsn: position,
      txId: this.#stream.lastTxId,
      ts_usec: Number(this.#stream.lastTsUs),
      ...incrementalOffsetKeys(this.#incremental.state),
      ...this.#stream.signalOffsetKeys(),
    }
    records.push(heartbeatRecord(this.#s.heartbeatTopic, this.#s.topicPrefix, this.#partition, offset))
  }

  // ---- snapshot ----

  #snapshotRecord(ts: TableSchema, tuple: Row, marker: SnapshotMarker): SourceRecord {
    const snapshot = this.#snapshot!
    const last = marker === 'last'
    const now = nowUs()
    const source = sourceStruct(ts, {
      database: this.#s.database,
      serverName: this.#s.topicPrefix,
      timeUs: now,
      snapshot: marker,
      lsnCommit: null,
      lsn: this.#stream.lastCommitEnd,
      txId: snapshot.txId,
    })
    const value = envelope(ts, 'r', null, rowStruct(ts, tuple, 'full'), source)
    const offset: Record<string, string | number | boolean | null> = {
      last_snapshot_record: last,
      lsn: this.#stream.lastCommitEnd,
      txId: snapshot.txId,
      ts_usec: Number(now),
      snapshot: 'INITIAL',
      snapshot_completed: last,
    }
    if (last) {
      offset.lsn_commit = this.#stream.lastCommitEnd
      offset.lsn_proc = this.#stream.lastCommitEnd
    }
    return changeRecord(ts, keyStruct(ts, tuple), value, this.#partition, offset, this.#contextHeaders)
  }

  // ---- helpers ----

  #waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done(): void {
        clearTimeout(timer)
        self.#wake = null
        resolve()
      }
      this.#wake = done
    })
  }

  async #idle(): Promise<null> {
    await this.#waitForData(this.#s.pollIntervalMs)
    return null
  }

  #fail(error: Error): void {
    if (this.#stopped || this.#failure) return
    this.#failure = describeFailure(error, this.#s)
    this.#wake?.()
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure
  }

  /** Something the operator must fix that does not stop the task: logged and reported on its status. */
  #problem(message: string): void {
    connectLogger().warn(message)
    this.context.reportProblem?.(new DataError(message))
  }

  #warn(key: string, message: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    connectLogger().warn(message)
  }
}
