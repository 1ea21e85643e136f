/**
 * The one task of the PostgreSQL CDC connector: an optional initial snapshot (under the slot's
 * exported snapshot when the slot is new), then streaming from the slot through our pgoutput
 * decoder, with incremental snapshots interleaved by the DBLog watermark algorithm and blocking
 * snapshots that pause streaming, both triggered by signals from the signal table or a Kafka topic.
 *
 * Offsets and the slot: every record carries Debezium's offset map. The slot's flushed LSN moves
 * only in `commit()` — after the runtime wrote the offsets of acknowledged records — to the
 * `lsn_commit` of the newest of them, so the server never discards WAL we might still need.
 */

import type pg from 'pg'
import { type Props, SourceTask } from '../../api/connector.ts'
import { Struct } from '../../api/data/struct.ts'
import { ConnectError, errorMessage, RetriableError } from '../../api/errors.ts'
import { connectLogger } from '../../api/log.ts'
import type { OffsetMap, SourceRecord } from '../../api/records.ts'
import {
  BLOCKING_OFFSET_KEY,
  type BlockingTable,
  blockingOffsetKeys,
  blockingTables,
  parseSnapshotRequest,
  readBlocking,
  type SnapshotRequest,
} from './blocking-snapshot.ts'
import { Catalog } from './catalog.ts'
import {
  type ChangeHeader,
  changeRecord,
  contextHeaders,
  envelope,
  heartbeatRecord,
  logicalMessageRecord,
  nowUs,
  type SnapshotMarker,
  sourceStruct,
  transactionRecord,
} from './change-events.ts'
import { type CdcSettings, parseSettings } from './config.ts'
import { IncrementalSnapshot } from './incremental-snapshot.ts'
import { KAFKA_SIGNAL_OFFSET_KEY, type KafkaSignal, KafkaSignalChannel } from './kafka-signal-channel.ts'
import type { Lsn } from './lsn.ts'
import {
  incrementalOffsetKeys,
  positionReached,
  readOffset,
  type StoredOffset,
  type StreamPosition,
} from './offsets.ts'
import { decodePgOutput, type PgOutputMessage, type Tuple } from './pgoutput-decoder.ts'
import { clientConfig, newPgClient, ReplicationConnection, type XLogData } from './replication-connection.ts'
import { checkServer, checkSlot, ensurePublication, slotInfo } from './setup.ts'
import { InitialSnapshot } from './snapshot.ts'
import { StreamedTransactions } from './streamed-transactions.ts'
import {
  buildTableSchema,
  keyStruct,
  rowStruct,
  type TableSchema,
  TRANSACTION_BLOCK_SCHEMA,
} from './table-schema.ts'
import { SESSION_OPTIONS } from './value-converters.ts'
import { POSTGRES_CDC_VERSION } from './version.ts'

/** A blocking snapshot under way: streaming is paused at `pause` until it is done. */
interface Blocking {
  tables: BlockingTable[]
  /** The streaming offset at the pause, which its records carry. */
  pause: OffsetMap
  snapshot: InitialSnapshot | null
}

const WINDOW_SIGNALS = new Set(['snapshot-window-open', 'snapshot-window-close'])

interface Transaction {
  xid: number
  finalLsn: Lsn
  commitTimeUs: bigint
  /** Change messages seen so far in this transaction (captured or not). */
  ordinal: number
  /** Events emitted (for transaction metadata). */
  counts: Map<string, number>
  began: boolean
}

export class PostgresCdcSourceTask extends SourceTask {
  #s!: CdcSettings
  #partition!: OffsetMap
  #client: pg.Client | null = null
  readonly #clientRef = { current: null as unknown as pg.Client }
  #clientBroken = false
  #catalog!: Catalog
  #replication: ReplicationConnection | null = null
  #snapshot: InitialSnapshot | null = null
  #incremental!: IncrementalSnapshot
  #streamAfterSnapshot = true
  #startLsn: Lsn = 0
  readonly #queue: XLogData[] = []
  #wake: (() => void) | null = null
  #failure: (Error & { retriable?: boolean }) | null = null
  #stopped = false
  readonly #relations = new Map<number, TableSchema | null>()
  #tx: Transaction | null = null
  /** Where a restart resumes: skip what the stored offset says was done. */
  #resume: StreamPosition | null = null
  #lastCommitEnd: Lsn | null = null
  /** Where the slot stood when streaming began without an offset (for heartbeats before the first commit). */
  #slotStart: Lsn | null = null
  #lastLsn: Lsn | null = null
  #lastTxId: number | null = null
  /** Debezium's `__debezium.context.*` headers of this run (`extended.headers.enabled`). */
  #contextHeaders: ChangeHeader[] = []
  /** The offset given to the last change event and the one it went out with (tombstones repeat it). */
  #lastEmitted: { base: OffsetMap; offset: OffsetMap } | null = null
  /** Type of the last change message in an offset: Debezium's heartbeats carry it on. */
  #lastMessageType: string | null = null
  #lastTsUs: bigint = 0n
  #idleWalEnd: Lsn = 0
  #lastHeartbeat = Date.now()
  #warned = new Set<string>()
  #kafka: KafkaSignalChannel | null = null
  /** Kafka offset of the last Kafka signal handled; rides in every offset from then on. */
  #kafkaSignalOffset: number | null = null
  #blocking: Blocking | null = null
  /** Transactions the server streams while they run (protocol version 2), kept until their commit. */
  #streams: StreamedTransactions | null = null

  version(): string {
    return POSTGRES_CDC_VERSION
  }

  async start(props: Props): Promise<void> {
    this.#s = parseSettings(props)
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
    this.#kafkaSignalOffset =
      typeof raw?.[KAFKA_SIGNAL_OFFSET_KEY] === 'number' ? raw[KAFKA_SIGNAL_OFFSET_KEY] : null
    await this.#connectClient()
    await checkServer(this.#client!, s)
    this.#catalog = new Catalog(this.#clientRef)
    const captured = await this.#capturedTables()
    await ensurePublication(this.#client!, this.#catalog, s, [
      ...captured,
      ...(s.signalTable ? [s.signalTable] : []),
    ])
    await this.#warnTablesWithoutKey(captured)
    this.#incremental = new IncrementalSnapshot(
      this.#clientRef,
      this.#catalog,
      s,
      stored?.incremental ?? null,
      (m) => this.#warn(m, m),
    )
    for (const warning of stored?.warnings ?? []) this.#warn(warning, warning)

    let slot = await slotInfo(this.#client!, s.slotName)
    // A slot still held by a walsender whose client just died (kill -9) frees up shortly: retry.
    for (let attempt = 0; slot?.active && attempt < s.slotMaxRetries && !this.#stopped; attempt++) {
      this.#warn(
        `busy:${attempt}`,
        `replication slot '${s.slotName}' is active for PID ${slot.activePid}; retrying`,
      )
      const until = Date.now() + s.slotRetryDelayMs
      while (Date.now() < until && !this.#stopped) await new Promise((resolve) => setTimeout(resolve, 100))
      // stop() during the wait closed the client: leave quietly rather than fail on it.
      if (this.#stopped) return
      slot = await slotInfo(this.#client!, s.slotName)
    }
    if (slot) checkSlot(slot, s)
    const offsetLsn = stored ? (stored.position.lsnCommit ?? stored.position.lsn) : null
    let slotLost = false
    if (
      !slot &&
      stored &&
      !stored.snapshotIncomplete &&
      s.snapshotMode !== 'always' &&
      s.snapshotMode !== 'when_needed'
    ) {
      throw new ConnectError(
        'CONNECT',
        `replication slot '${s.slotName}' does not exist although offsets say streaming was under way: it was dropped, ` +
          'so changes made since are lost. Set snapshot.mode=when_needed (or always) to re-snapshot, or reset the offsets.',
      )
    }
    if (
      slot &&
      stored &&
      offsetLsn !== null &&
      slot.confirmedFlush !== null &&
      slot.confirmedFlush > offsetLsn
    ) {
      if (s.snapshotMode === 'when_needed' || s.snapshotMode === 'always') slotLost = true
      else {
        throw new ConnectError(
          'CONNECT',
          `replication slot '${s.slotName}' is at ${slot.confirmedFlush}, past the connector's offset ${offsetLsn}: the slot was ` +
            'dropped and recreated or advanced by someone else, and the changes in between are lost. Set ' +
            'snapshot.mode=when_needed to re-snapshot, or reset the offsets.',
        )
      }
    }

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
      this.#resume = stored.position
      this.#lastCommitEnd = stored.position.lsnCommit
      this.#startLsn = stored.position.lsnCommit ?? 0
      // A blocking snapshot was under way: read its remaining tables again before streaming on.
      const blocking = readBlocking(raw)
      if (blocking) {
        const drop = ['snapshot', 'last_snapshot_record', 'snapshot_completed', BLOCKING_OFFSET_KEY]
        const pause: OffsetMap = Object.fromEntries(
          Object.entries(raw ?? {}).filter(([k]) => !drop.includes(k)),
        )
        this.#blocking = { tables: blocking, pause, snapshot: null }
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
      this.#snapshot = await InitialSnapshot.begin(s, this.#catalog, tables, exportedSnapshot, (m) =>
        this.#warn(m, m),
      )
      this.#lastCommitEnd = consistentPoint ?? this.#snapshot.lsn
      this.#lastLsn = this.#lastCommitEnd
    } else if (this.#streamAfterSnapshot) {
      // No offset and no snapshot: streaming starts where the slot is (just made: its consistent point),
      // the position a heartbeat reports until the first commit.
      if (!stored) this.#slotStart = consistentPoint ?? slot?.confirmedFlush ?? null
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
        this.#kafkaSignalOffset,
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
        this.#s.maxBatchSize,
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
    if (this.#kafka && !this.#blocking) {
      for (const signal of this.#kafka.take()) await this.#kafkaSignal(signal)
    }
    if (this.#blocking) return this.#blockingStep(records)
    if (this.#queue.length === 0 && !this.#streams?.replaying) await this.#waitForData(this.#s.pollIntervalMs)
    // Messages already received are whole and are all handled even if the connection failed meanwhile:
    // throwing here would drop records whose position the resume point already counts as handled. The
    // failure is dealt with at the next poll (reconnect, or fail the task). A streamed transaction being
    // replayed (after its Stream Commit) comes before what was received after that commit.
    for (let n = 0; n < this.#s.maxBatchSize; n++) {
      const message = this.#streams?.next() ?? this.#queue.shift()
      if (!message) break
      await this.#handle(message, records)
      // A blocking snapshot pauses streaming right after its signal; the rest waits (queue or replay).
      if (this.#blocking) break
    }
    if (this.#queue.length < this.#s.maxQueueSize / 2) this.#replication?.resume()
    if (this.#blocking) return records
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
    this.#wake?.()
    await this.#kafka?.stop()
    this.#kafka = null
    await this.#snapshot?.close().catch(() => {})
    this.#snapshot = null
    await this.#blocking?.snapshot?.close().catch(() => {})
    if (this.#blocking) this.#blocking.snapshot = null
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
    this.#queue.length = 0
    // The lost connection's keepalive position is past the messages just dropped from the queue.
    this.#idleWalEnd = 0
    // The server sends transactions that were not committed before the restart point again, whole.
    this.#streams?.reset()
    const tx = this.#tx
    if (tx) {
      // Still skipping what the position it resumed from counts as done: that position stays.
      this.#resume = positionReached(this.#resume, {
        txId: tx.xid,
        txEventsProcessed: tx.ordinal,
        lsnCommit: this.#lastCommitEnd,
        lsn: this.#lastLsn,
      })
    }
    this.#tx = null
    this.#relations.clear()
    this.#startLsn = this.#lastCommitEnd ?? 0
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
    this.#replication!.startStreaming(
      s.slotName,
      s.publicationName,
      this.#startLsn,
      s.statusIntervalMs,
      handlers,
      s.pgoutputStreaming,
    )
  }

  async #handle(data: XLogData, records: SourceRecord[]): Promise<void> {
    const message = data.decoded ?? decodePgOutput(data.payload, 0, data.streamed === true)
    switch (message.tag) {
      case 'stream-commit':
        // Handled as the transaction version 1 would send: Begin, its messages, Commit (next polls).
        this.#streams!.commit(message, data.lsn)
        return
      case 'stream-start':
      case 'stream-stop':
      case 'stream-abort':
        return // taken by StreamedTransactions.route before queueing
      case 'begin':
        this.#tx = {
          xid: message.xid,
          finalLsn: message.finalLsn,
          commitTimeUs: message.commitTimeUs,
          ordinal: 0,
          counts: new Map(),
          began: false,
        }
        return
      case 'commit': {
        const tx = this.#tx
        if (tx?.began && this.#s.provideTransactionMetadata) {
          records.push(
            transactionRecord(
              this.#s.transactionTopic,
              'END',
              `${tx.xid}:${data.lsn}`,
              Number(tx.commitTimeUs / 1000n),
              tx.counts,
              this.#partition,
              { ...this.#offset(data.lsn, 'COMMIT'), ...txOffsetKeys(tx.xid, tx.counts) },
            ),
          )
        }
        this.#tx = null
        this.#lastCommitEnd = data.lsn
        // The resumed transaction is the first one the server sends again (streaming restarts at the commit
        // before it): past any commit the stored position is behind, and must not hold offsets back.
        this.#resume = null
        return
      }
      case 'relation':
        await this.#relation(message)
        return
      case 'type':
        this.#catalog.forget(message.typeOid)
        return
      case 'origin':
        return
      case 'message':
        this.#message(message, data.lsn, records)
        return
      default:
        await this.#change(message, data.lsn, records)
    }
  }

  async #relation(message: Extract<PgOutputMessage, { tag: 'relation' }>): Promise<void> {
    const id = `${message.schema}.${message.table}`
    if (!this.#captured(message.schema, id) && id !== this.#s.signalTable) {
      this.#relations.set(message.relationId, null)
      return
    }
    const catalog = await this.#catalog.table(message.schema, message.table)
    const types = await this.#catalog.types(message.columns.map((c) => c.typeOid))
    const ts = buildTableSchema(this.#s, message.schema, message.table, message.columns, catalog, types, {
      warn: (m) => this.#warn(m, m),
    })
    this.#relations.set(message.relationId, ts)
  }

  async #change(
    message: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' | 'truncate' }>,
    lsn: Lsn,
    records: SourceRecord[],
  ): Promise<void> {
    const tx = this.#tx
    if (!tx)
      throw new ConnectError('CONNECT', `pgoutput sent a ${message.tag} outside a transaction at LSN ${lsn}`)
    tx.ordinal++
    this.#lastLsn = lsn
    this.#lastTxId = tx.xid
    this.#lastTsUs = tx.commitTimeUs
    // A restart inside a transaction: skip what the stored offset says was already handled.
    const resume = this.#resume
    if (resume && tx.xid === resume.txId) {
      if (
        resume.txEventsProcessed !== null ? tx.ordinal <= resume.txEventsProcessed : lsn <= (resume.lsn ?? 0)
      )
        return
    }
    if (message.tag === 'truncate') {
      if (this.#s.skipped.has('t')) return
      for (const relationId of message.relationIds) {
        const ts = this.#relations.get(relationId)
        if (!ts) continue
        const value = envelope(ts, 't', null, null, this.#source(ts, lsn, 'false'))
        this.#emit(ts, records, null, value, this.#offset(lsn, 'TRUNCATE'))
      }
      return
    }
    const ts = this.#relations.get(message.relationId)
    if (!ts) return
    if (ts.id === this.#s.signalTable) {
      // Signal rows are also change events (Debezium emits them); the signal acts at this WAL position.
      const emitted = await this.#signal(ts, message, lsn, records)
      if (!emitted) return
    }
    this.#incremental.onStreamedKey(
      ts,
      message.tag === 'insert'
        ? message.newTuple
        : message.tag === 'update'
          ? message.newTuple
          : message.oldTuple,
    )
    if (message.tag === 'update' && message.oldKind === 'K' && message.oldTuple) {
      this.#incremental.onStreamedKey(ts, message.oldTuple)
    }
    if (ts.id === this.#s.signalTable && !this.#captured(ts.schema, ts.id)) return
    const offset = this.#offset(lsn, message.tag.toUpperCase())
    const source = (): Struct => this.#source(ts, lsn, 'false')
    switch (message.tag) {
      case 'insert': {
        if (this.#s.skipped.has('c')) return
        const after = rowStruct(ts, message.newTuple, 'full')
        this.#emit(
          ts,
          records,
          keyStruct(ts, message.newTuple),
          envelope(ts, 'c', null, after, source()),
          offset,
        )
        return
      }
      case 'update': {
        const newKey = keyStruct(ts, message.newTuple)
        const oldKey = message.oldKind && message.oldTuple ? keyStruct(ts, message.oldTuple) : null
        if (oldKey && newKey && !oldKey.equals(newKey)) {
          // A primary key change: delete of the old key, tombstone, create of the new one (Debezium's triplet).
          const before = rowStruct(ts, message.oldTuple!, message.oldKind === 'O' ? 'full' : 'old-key')
          if (!this.#s.skipped.has('d')) {
            // Debezium puts the new key on the delete and on its tombstone.
            const newKeyHeader = [{ key: '__debezium.newkey', schema: ts.keySchema, value: newKey }]
            this.#emit(ts, records, oldKey, envelope(ts, 'd', before, null, source()), offset, newKeyHeader)
            if (this.#s.tombstonesOnDelete) this.#emit(ts, records, oldKey, null, offset, newKeyHeader)
          }
          if (!this.#s.skipped.has('c')) {
            const after = rowStruct(
              ts,
              message.newTuple,
              'full',
              message.oldKind === 'O' ? message.oldTuple : null,
            )
            this.#emit(ts, records, newKey, envelope(ts, 'c', null, after, source()), offset, [
              { key: '__debezium.oldkey', schema: ts.keySchema, value: oldKey },
            ])
          }
          return
        }
        if (this.#s.skipped.has('u')) return
        const old = message.oldKind === 'O' ? message.oldTuple : null
        const before = old ? rowStruct(ts, old, 'full') : null
        const after = rowStruct(ts, message.newTuple, 'full', old)
        this.#emit(ts, records, newKey, envelope(ts, 'u', before, after, source()), offset)
        return
      }
      case 'delete': {
        if (this.#s.skipped.has('d')) return
        const before = rowStruct(ts, message.oldTuple, message.oldKind === 'O' ? 'full' : 'old-key')
        const key = keyStruct(ts, message.oldTuple)
        this.#emit(ts, records, key, envelope(ts, 'd', before, null, source()), offset)
        if (this.#s.tombstonesOnDelete) this.#emit(ts, records, key, null, offset)
        return
      }
    }
  }

  /** A `pg_logical_emit_message` message: its own topic, inside its transaction or alone. */
  #message(message: Extract<PgOutputMessage, { tag: 'message' }>, lsn: Lsn, records: SourceRecord[]): void {
    const tx = message.transactional ? this.#tx : null
    if (tx) {
      tx.ordinal++
      const resume = this.#resume
      if (
        resume &&
        tx.xid === resume.txId &&
        resume.txEventsProcessed !== null &&
        tx.ordinal <= resume.txEventsProcessed
      )
        return
    }
    const mode = this.#s.binaryMode
    const content =
      mode === 'bytes'
        ? message.content
        : mode === 'hex'
          ? message.content.toString('hex')
          : message.content.toString(mode === 'base64' ? 'base64' : 'base64url')
    const source = sourceStruct(
      { schema: '', table: '' },
      {
        database: this.#s.database,
        serverName: this.#s.topicPrefix,
        timeUs: tx ? tx.commitTimeUs : nowUs(),
        snapshot: 'false',
        lsnCommit: this.#lastCommitEnd,
        lsn,
        txId: tx ? tx.xid : null,
      },
    )
    records.push(
      logicalMessageRecord(
        `${this.#s.topicPrefix}.message`,
        message.prefix,
        content,
        source,
        this.#partition,
        this.#offset(lsn, 'MESSAGE'),
      ),
    )
  }

  /** Handles a signal-table change; returns whether the row is also emitted as a change event. */
  async #signal(
    ts: TableSchema,
    message: Exclude<
      PgOutputMessage,
      { tag: 'begin' | 'commit' | 'relation' | 'type' | 'origin' | 'message' | 'truncate' }
    >,
    lsn: Lsn,
    records: SourceRecord[],
  ): Promise<boolean> {
    if (message.tag !== 'insert') return true
    const idIndex = ts.relationColumns.indexOf('id')
    const typeIndex = ts.relationColumns.indexOf('type')
    const dataIndex = ts.relationColumns.indexOf('data')
    const id = String(message.newTuple[idIndex] ?? '')
    const type = String(message.newTuple[typeIndex] ?? '')
    const data = dataIndex >= 0 ? (message.newTuple[dataIndex] ?? null) : null
    if (!WINDOW_SIGNALS.has(type) && !this.#s.signalChannels.has('source')) {
      this.#warn(
        `source-off:${id}`,
        `signal ${id} in the signal table ignored: 'source' is not in signal.enabled.channels`,
      )
      return true
    }
    if (type === 'execute-snapshot') {
      const request = parseSnapshotRequest(data)
      if (request?.type === 'blocking') {
        // The signal acts at its WAL position: the snapshot's records carry the offset of this message.
        await this.#requestBlocking(id, request, this.#offset(lsn, 'INSERT'))
        return true
      }
    }
    const windowRows = await this.#incremental.onSignal(id, type, data)
    for (const row of windowRows) {
      this.#incremental.sent(row)
      const after = rowStruct(row.table, row.tuple, 'full')
      const source = this.#source(row.table, null, 'incremental')
      this.#emit(
        row.table,
        records,
        keyStruct(row.table, row.tuple),
        envelope(row.table, 'r', null, after, source),
        this.#offset(lsn, 'INSERT'),
      )
    }
    return true
  }

  #emit(
    ts: TableSchema,
    records: SourceRecord[],
    key: Struct | null,
    value: Struct | null,
    offset: OffsetMap,
    headers?: { key: string; schema: TableSchema['keySchema']; value: unknown }[],
  ): void {
    // Snapshot reads emitted from the stream (incremental-snapshot windows) belong to no transaction:
    // Debezium gives them `transaction: null` and leaves them out of the transaction's counts.
    const tx = value?.get('op') === 'r' ? null : this.#tx
    // A tombstone has its delete's offset (Debezium copies the delete record).
    let recordOffset =
      value === null && this.#lastEmitted?.base === offset ? this.#lastEmitted.offset : offset
    if (tx && value !== null && this.#s.provideTransactionMetadata) {
      // Debezium's PostgreSQL ids are `<xid>:<LSN of the event at hand>` (PostgresTransactionMonitor): BEGIN
      // takes its first event's LSN, each event its own, END the commit's.
      const id = `${tx.xid}:${offset.lsn}`
      if (!tx.began) {
        tx.began = true
        records.push(
          transactionRecord(
            this.#s.transactionTopic,
            'BEGIN',
            id,
            Number(tx.commitTimeUs / 1000n),
            null,
            this.#partition,
            { ...offset, ...txOffsetKeys(tx.xid, new Map()) },
          ),
        )
      }
      const count = (tx.counts.get(ts.id) ?? 0) + 1
      tx.counts.set(ts.id, count)
      let total = 0
      for (const c of tx.counts.values()) total += c
      // The offsets of a transaction's events carry its id and per-table counts, as Debezium's do.
      recordOffset = { ...offset, ...txOffsetKeys(tx.xid, tx.counts) }
      value.put(
        'transaction',
        new Struct(TRANSACTION_BLOCK_SCHEMA)
          .put('id', id)
          .put('total_order', total)
          .put('data_collection_order', count),
      )
    }
    this.#lastEmitted = { base: offset, offset: recordOffset }
    records.push(
      changeRecord(ts, key, value, this.#partition, recordOffset, [
        ...(headers ?? []),
        ...this.#contextHeaders,
      ]),
    )
  }

  #source(ts: TableSchema, lsn: Lsn | null, snapshot: SnapshotMarker): Struct {
    const incremental = snapshot === 'incremental'
    return sourceStruct(ts, {
      database: this.#s.database,
      serverName: this.#s.topicPrefix,
      timeUs: incremental ? nowUs() : (this.#tx?.commitTimeUs ?? nowUs()),
      snapshot,
      lsnCommit: incremental ? null : this.#lastCommitEnd,
      lsn: incremental ? null : lsn,
      txId: incremental ? null : (this.#tx?.xid ?? null),
    })
  }

  #offset(lsn: Lsn, messageType: string): OffsetMap {
    this.#lastMessageType = messageType
    const at = positionReached(this.#resume, {
      lsnCommit: this.#lastCommitEnd,
      lsn,
      txId: this.#tx?.xid ?? this.#lastTxId,
      txEventsProcessed: this.#tx?.ordinal ?? null,
    })
    return {
      lsn_proc: at.lsn ?? lsn,
      messageType,
      lsn_commit: at.lsnCommit,
      lsn: at.lsn ?? lsn,
      txId: at.txId,
      ts_usec: Number(this.#tx?.commitTimeUs ?? this.#lastTsUs),
      tx_events_processed: at.txEventsProcessed,
      ...incrementalOffsetKeys(this.#incremental.state),
      ...this.#signalOffsetKeys(),
    }
  }

  #signalOffsetKeys(): OffsetMap {
    return this.#kafkaSignalOffset === null ? {} : { [KAFKA_SIGNAL_OFFSET_KEY]: this.#kafkaSignalOffset }
  }

  // ---- signals from Kafka, blocking snapshots ----

  /**
   * A signal from the Kafka channel, acting at the current stream position (between polls). On
   * PostgreSQL an incremental snapshot needs the signal table for its watermarks, as in Debezium.
   */
  async #kafkaSignal(signal: KafkaSignal): Promise<void> {
    this.#kafkaSignalOffset = signal.offset
    if (WINDOW_SIGNALS.has(signal.type)) {
      this.#warn(
        `kafka-window:${signal.id}`,
        `signal ${signal.id}: ${signal.type} only counts in the signal table; ignored`,
      )
      return
    }
    if (signal.type === 'execute-snapshot') {
      const request = parseSnapshotRequest(signal.data)
      if (!request) {
        this.#warn(`kafka-data:${signal.id}`, `signal ${signal.id}: data is not JSON, ignored`)
        return
      }
      if (request.type === 'blocking') {
        await this.#requestBlocking(signal.id, request, this.#positionOffset())
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

  /** The offset of the stream position reached: where a pause between polls resumes. */
  #positionOffset(): OffsetMap {
    return this.#offset(this.#lastLsn ?? this.#lastCommitEnd ?? 0, this.#tx ? 'INSERT' : 'COMMIT')
  }

  async #requestBlocking(id: string, request: SnapshotRequest, pause: OffsetMap): Promise<void> {
    if (request.collections.length === 0) {
      this.#warn(`blocking-empty:${id}`, `signal ${id}: execute-snapshot without data-collections: ignored`)
      return
    }
    // The signal table itself is never snapshotted (as Debezium, DBZ-7944).
    const captured = (await this.#capturedTables()).filter((t) => t !== this.#s.signalTable)
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
    this.#blocking = { tables, pause, snapshot: null }
  }

  /** One batch of the blocking snapshot; when it is done, streaming resumes at the next poll. */
  async #blockingStep(records: SourceRecord[]): Promise<SourceRecord[]> {
    const blocking = this.#blocking!
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
        this.#blocking = null
        connectLogger().info('blocking snapshot completed; streaming resumes')
      }
    } catch (error) {
      if (this.#stopped) return records
      // As Debezium: a failed blocking snapshot is abandoned (with a warning) and streaming resumes.
      await blocking.snapshot?.close().catch(() => {})
      this.#blocking = null
      this.#warn(
        `blocking-failed:${Date.now()}`,
        `blocking snapshot of ${blocking.tables.map((t) => t.id).join(', ')} failed and was abandoned: ${errorMessage(error)}`,
      )
    }
    return records
  }

  #blockingRecord(blocking: Blocking, ts: TableSchema, tuple: Tuple, marker: SnapshotMarker): SourceRecord {
    const index = Math.max(
      0,
      blocking.tables.findIndex((t) => t.id === ts.id),
    )
    const source = sourceStruct(ts, {
      database: this.#s.database,
      serverName: this.#s.topicPrefix,
      timeUs: nowUs(),
      snapshot: marker,
      lsnCommit: this.#lastCommitEnd,
      lsn: this.#lastLsn,
      txId: this.#lastTxId,
    })
    const value = envelope(ts, 'r', null, rowStruct(ts, tuple, 'full'), source)
    const offset: OffsetMap = {
      ...blocking.pause,
      ...this.#signalOffsetKeys(),
      ...blockingOffsetKeys(blocking.tables.slice(index), marker === 'last'),
    }
    return changeRecord(ts, keyStruct(ts, tuple), value, this.#partition, offset, this.#contextHeaders)
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
    if ((this.#tx && this.#lastLsn !== null) || typeof this.#resume?.txEventsProcessed === 'number') {
      const offset = this.#offset(this.#lastLsn ?? 0, this.#lastMessageType ?? 'HEARTBEAT')
      records.push(heartbeatRecord(this.#s.heartbeatTopic, this.#s.topicPrefix, this.#partition, offset))
      return
    }
    // Idle and nothing half-read: the server's position is safe to resume from.
    let position = this.#lastCommitEnd ?? this.#slotStart ?? 0
    if (!this.#tx && this.#queue.length === 0 && !this.#streams?.replaying && this.#idleWalEnd > position)
      position = this.#idleWalEnd
    // No position known yet: a heartbeat at LSN 0 would make a restart think the slot ran ahead of it.
    if (position === 0) return
    this.#lastCommitEnd = position
    const offset: OffsetMap = {
      lsn_proc: position,
      ...(this.#lastMessageType === null ? {} : { messageType: this.#lastMessageType }),
      lsn_commit: position,
      lsn: position,
      txId: this.#lastTxId,
      ts_usec: Number(this.#lastTsUs),
      ...incrementalOffsetKeys(this.#incremental.state),
      ...this.#signalOffsetKeys(),
    }
    records.push(heartbeatRecord(this.#s.heartbeatTopic, this.#s.topicPrefix, this.#partition, offset))
  }

  // ---- snapshot ----

  #snapshotRecord(ts: TableSchema, tuple: Tuple, marker: SnapshotMarker): SourceRecord {
    const snapshot = this.#snapshot!
    const last = marker === 'last'
    const source = sourceStruct(ts, {
      database: this.#s.database,
      serverName: this.#s.topicPrefix,
      timeUs: nowUs(),
      snapshot: marker,
      lsnCommit: null,
      lsn: this.#lastCommitEnd,
      txId: snapshot.txId,
    })
    const value = envelope(ts, 'r', null, rowStruct(ts, tuple, 'full'), source)
    const offset: OffsetMap = {
      last_snapshot_record: last,
      lsn: this.#lastCommitEnd,
      txId: snapshot.txId,
      ts_usec: Number(nowUs()),
      snapshot: 'INITIAL',
      snapshot_completed: last,
      ...(last ? { lsn_commit: this.#lastCommitEnd, lsn_proc: this.#lastCommitEnd } : {}),
    }
    return changeRecord(ts, keyStruct(ts, tuple), value, this.#partition, offset, this.#contextHeaders)
  }

  // ---- helpers ----

  #captured(schema: string, id: string): boolean {
    const s = this.#s
    if (s.schemaInclude.length > 0 && !s.schemaInclude.some((r) => r.test(schema))) return false
    if (s.schemaExclude.some((r) => r.test(schema))) return false
    if (s.tableInclude.length > 0) return s.tableInclude.some((r) => r.test(id))
    return !s.tableExclude.some((r) => r.test(id))
  }

  async #capturedTables(): Promise<string[]> {
    const ids = (await this.#catalog.tables())
      .filter(([schema, table]) => this.#captured(schema, `${schema}.${table}`))
      .map(([schema, table]) => `${schema}.${table}`)
    // Debezium snapshots tables in the order of table.include.list, then by name.
    const rank = (id: string): number => {
      const i = this.#s.tableInclude.findIndex((r) => r.test(id))
      return i < 0 ? Number.MAX_SAFE_INTEGER : i
    }
    return ids.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
  }

  async #warnTablesWithoutKey(tables: string[]): Promise<void> {
    if (tables.length === 0) return
    const { rows } = await this.#client!.query(
      `SELECT n.nspname || '.' || c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname || '.' || c.relname = ANY($1) AND c.relreplident IN ('d', 'n')
          AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)`,
      [tables],
    )
    for (const r of rows) {
      const id = String(r.id)
      if (this.#s.messageKeyColumns.some((k) => k.table.test(id))) continue
      this.#warn(
        `nokey:${id}`,
        `table ${id} has no primary key and REPLICA IDENTITY DEFAULT: its events have null keys, and UPDATE/DELETE on it ` +
          `fail in PostgreSQL while it is in a publication that publishes them. Add a primary key, or run ALTER TABLE ${id} REPLICA IDENTITY FULL.`,
      )
    }
  }

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

  #warn(key: string, message: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    connectLogger().warn(message)
  }
}

function decideSnapshot(s: CdcSettings, stored: StoredOffset | null, slotNewOrLost: boolean): boolean {
  switch (s.snapshotMode) {
    case 'always':
      return true
    case 'no_data':
      return false
    case 'when_needed':
      return !stored || stored.snapshotIncomplete || slotNewOrLost
    default:
      return !stored || stored.snapshotIncomplete
  }
}

/** Turns server errors on the replication connection into messages that say what to do. */
function describeFailure(error: Error, s: CdcSettings | undefined): Error {
  const message = errorMessage(error)
  const slot = s?.slotName ?? 'debezium'
  if (/replication slot .* does not exist/.test(message)) {
    return new ConnectError(
      'CONNECT',
      `replication slot '${slot}' was dropped while the connector was streaming (${message}): changes since are lost. ` +
        'Restart the connector with snapshot.mode=when_needed to re-create the slot and re-snapshot.',
      { cause: error },
    )
  }
  if (/is active for PID/.test(message)) {
    return new RetriableError(
      `${message}: stop the other consumer of slot '${slot}' or set slot.name to another slot`,
      {
        cause: error,
      },
    )
  }
  if (
    /can no longer get changes|has been invalidated|requested WAL segment .* has already been removed/.test(
      message,
    )
  ) {
    return new ConnectError(
      'CONNECT',
      `replication slot '${slot}' can no longer stream (${message}): the WAL it needs is gone. Drop the slot and restart with snapshot.mode=when_needed.`,
      { cause: error },
    )
  }
  if (error instanceof ConnectError) return error
  return new RetriableError(`lost the replication connection: ${message}`, { cause: error })
}

/** Debezium's transaction-metadata offset keys (TransactionContext.store) while a transaction is open. */
function txOffsetKeys(xid: number, counts: ReadonlyMap<string, number>): Record<string, string | number> {
  const keys: Record<string, string | number> = { transaction_id: String(xid) }
  for (const [collection, count] of counts) keys[`transaction_data_collection_order_${collection}`] = count
  return keys
}
