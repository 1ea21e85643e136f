/**
 * Streaming: pgoutput messages in WAL order turned into Debezium's change events — transactions and
 * their metadata, the resume point inside a transaction after a restart, tombstones, primary-key
 * changes as delete + tombstone + create, logical decoding messages — and the position reached, which
 * every offset (and the signals and heartbeats acting between messages) is made from.
 */

import { Struct } from '../../api/data/struct.ts'
import { ConnectError } from '../../api/errors.ts'
import type { OffsetMap, SourceRecord } from '../../api/records.ts'
import type { Catalog } from './catalog.ts'
import {
  type ChangeHeader,
  changeRecord,
  envelope,
  logicalMessageRecord,
  nowUs,
  type SnapshotMarker,
  sourceStruct,
  transactionRecord,
} from './change-events.ts'
import type { CdcSettings } from './config.ts'
import type { IncrementalSnapshot } from './incremental-snapshot.ts'
import { KAFKA_SIGNAL_OFFSET_KEY } from './kafka-signal-channel.ts'
import type { Lsn } from './lsn.ts'
import { incrementalOffsetKeys, positionReached, type StreamPosition } from './offsets.ts'
import { decodePgOutput, type PgOutputMessage } from './pgoutput-decoder.ts'
import type { XLogData } from './replication-connection.ts'
import { isCaptured } from './startup.ts'
import type { StreamedTransactions } from './streamed-transactions.ts'
import {
  buildTableSchema,
  ENVELOPE_OP,
  keyStruct,
  rowStruct,
  type TableSchema,
  TRANSACTION_BLOCK_SCHEMA,
} from './table-schema.ts'

/** The offsets' `messageType` of each row change. */
const MESSAGE_TYPES = { insert: 'INSERT', update: 'UPDATE', delete: 'DELETE' } as const

/** A change of a row of the signal table (an insert is a signal). */
export type SignalRowMessage = Exclude<
  PgOutputMessage,
  { tag: 'begin' | 'commit' | 'relation' | 'type' | 'origin' | 'message' | 'truncate' }
>

/** Handles a signal-table change; returns whether the row is also emitted as a change event. */
export type SignalRowHandler = (
  ts: TableSchema,
  message: SignalRowMessage,
  lsn: Lsn,
  records: SourceRecord[],
) => Promise<boolean>

export interface Transaction {
  xid: number
  finalLsn: Lsn
  commitTimeUs: bigint
  /** Change messages seen so far in this transaction (captured or not). */
  ordinal: number
  /** Events emitted (for transaction metadata). */
  counts: Map<string, number>
  began: boolean
}

export class ChangeStream {
  readonly #s: CdcSettings
  readonly #partition: OffsetMap
  readonly #catalog: Catalog
  readonly #incremental: IncrementalSnapshot
  readonly #contextHeaders: ChangeHeader[]
  readonly #onSignalRow: SignalRowHandler
  readonly #warn: (key: string, message: string) => void
  readonly relations = new Map<number, TableSchema | null>()
  tx: Transaction | null = null
  /** Where a restart resumes: skip what the stored offset says was done. */
  resume: StreamPosition | null = null
  lastCommitEnd: Lsn | null = null
  /** Where the slot stood when streaming began without an offset (for heartbeats before the first commit). */
  slotStart: Lsn | null = null
  lastLsn: Lsn | null = null
  lastTxId: number | null = null
  /** The offset given to the last change event and the one it went out with (tombstones repeat it). */
  #lastEmitted: { base: OffsetMap; offset: OffsetMap } | null = null
  /** Type of the last change message in an offset: Debezium's heartbeats carry it on. */
  lastMessageType: string | null = null
  lastTsUs: bigint = 0n
  /** Kafka offset of the last Kafka signal handled; rides in every offset from then on. */
  kafkaSignalOffset: number | null = null

  constructor(options: {
    settings: CdcSettings
    partition: OffsetMap
    catalog: Catalog
    incremental: IncrementalSnapshot
    contextHeaders: ChangeHeader[]
    onSignalRow: SignalRowHandler
    warn: (key: string, message: string) => void
  }) {
    this.#s = options.settings
    this.#partition = options.partition
    this.#catalog = options.catalog
    this.#incremental = options.incremental
    this.#contextHeaders = options.contextHeaders
    this.#onSignalRow = options.onSignalRow
    this.#warn = options.warn
  }

  /**
   * One pgoutput message, in order; events go to `records`. A promise only when the message needs the
   * database (a relation to look up, a signal to act on): row changes are handled at once, without a
   * promise and a turn of the microtask queue each.
   */
  handle(
    data: XLogData,
    records: SourceRecord[],
    streams: StreamedTransactions | null,
  ): Promise<void> | undefined {
    const message = data.decoded ?? decodePgOutput(data.payload, 0, data.streamed === true)
    switch (message.tag) {
      case 'stream-commit':
        // Handled as the transaction version 1 would send: Begin, its messages, Commit (next polls).
        streams!.commit(message, data.lsn)
        return
      case 'stream-start':
      case 'stream-stop':
      case 'stream-abort':
        return // taken by StreamedTransactions.route before queueing
      case 'begin':
        this.tx = {
          xid: message.xid,
          finalLsn: message.finalLsn,
          commitTimeUs: message.commitTimeUs,
          ordinal: 0,
          counts: new Map(),
          began: false,
        }
        return
      case 'commit': {
        const tx = this.tx
        if (tx?.began && this.#s.provideTransactionMetadata) {
          records.push(
            transactionRecord(
              this.#s.transactionTopic,
              'END',
              `${tx.xid}:${data.lsn}`,
              Number(tx.commitTimeUs / 1000n),
              tx.counts,
              this.#partition,
              { ...this.offset(data.lsn, 'COMMIT'), ...txOffsetKeys(tx.xid, tx.counts) },
            ),
          )
        }
        this.tx = null
        this.lastCommitEnd = data.lsn
        // The resumed transaction is the first one the server sends again (streaming restarts at the commit
        // before it): past any commit the stored position is behind, and must not hold offsets back.
        this.resume = null
        return
      }
      case 'relation':
        return this.#relation(message)
      case 'type':
        this.#catalog.forget(message.typeOid)
        return
      case 'origin':
        return
      case 'message':
        this.#message(message, data.lsn, records)
        return
      default:
        return this.#change(message, data.lsn, records)
    }
  }

  async #relation(message: Extract<PgOutputMessage, { tag: 'relation' }>): Promise<void> {
    const id = `${message.schema}.${message.table}`
    if (!isCaptured(this.#s, message.schema, id) && id !== this.#s.signalTable) {
      this.relations.set(message.relationId, null)
      return
    }
    const catalog = await this.#catalog.table(message.schema, message.table)
    const types = await this.#catalog.types(message.columns.map((c) => c.typeOid))
    const ts = buildTableSchema(this.#s, message.schema, message.table, message.columns, catalog, types, {
      warn: (m) => this.#warn(m, m),
    })
    this.relations.set(message.relationId, ts)
  }

  #change(
    message: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' | 'truncate' }>,
    lsn: Lsn,
    records: SourceRecord[],
  ): Promise<void> | undefined {
    const tx = this.tx
    if (!tx)
      throw new ConnectError('CONNECT', `pgoutput sent a ${message.tag} outside a transaction at LSN ${lsn}`)
    tx.ordinal++
    this.lastLsn = lsn
    this.lastTxId = tx.xid
    this.lastTsUs = tx.commitTimeUs
    // A restart inside a transaction: skip what the stored offset says was already handled.
    const resume = this.resume
    if (resume && tx.xid === resume.txId) {
      if (
        resume.txEventsProcessed !== null ? tx.ordinal <= resume.txEventsProcessed : lsn <= (resume.lsn ?? 0)
      )
        return
    }
    if (message.tag === 'truncate') {
      if (this.#s.skipped.has('t')) return
      for (const relationId of message.relationIds) {
        const ts = this.relations.get(relationId)
        if (!ts) continue
        const value = envelope(ts, 't', null, null, this.source(ts, lsn, 'false'))
        this.emit(ts, records, null, value, this.offset(lsn, 'TRUNCATE'))
      }
      return
    }
    const ts = this.relations.get(message.relationId)
    if (!ts) return
    if (ts.id === this.#s.signalTable) {
      // Signal rows are also change events (Debezium emits them); the signal acts at this WAL position.
      return this.#onSignalRow(ts, message, lsn, records).then((emitted) => {
        if (emitted) this.#rowChange(ts, message, lsn, records)
      })
    }
    this.#rowChange(ts, message, lsn, records)
  }

  /** The events of a row change of table `ts`. */
  #rowChange(
    ts: TableSchema,
    message: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' }>,
    lsn: Lsn,
    records: SourceRecord[],
  ): void {
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
    if (ts.id === this.#s.signalTable && !isCaptured(this.#s, ts.schema, ts.id)) return
    const offset = this.offset(lsn, MESSAGE_TYPES[message.tag])
    switch (message.tag) {
      case 'insert': {
        if (this.#s.skipped.has('c')) return
        const after = rowStruct(ts, message.newTuple, 'full')
        this.emit(
          ts,
          records,
          keyStruct(ts, message.newTuple),
          envelope(ts, 'c', null, after, this.source(ts, lsn, 'false')),
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
            this.emit(
              ts,
              records,
              oldKey,
              envelope(ts, 'd', before, null, this.source(ts, lsn, 'false')),
              offset,
              newKeyHeader,
            )
            if (this.#s.tombstonesOnDelete) this.emit(ts, records, oldKey, null, offset, newKeyHeader)
          }
          if (!this.#s.skipped.has('c')) {
            const after = rowStruct(
              ts,
              message.newTuple,
              'full',
              message.oldKind === 'O' ? message.oldTuple : null,
            )
            this.emit(
              ts,
              records,
              newKey,
              envelope(ts, 'c', null, after, this.source(ts, lsn, 'false')),
              offset,
              [{ key: '__debezium.oldkey', schema: ts.keySchema, value: oldKey }],
            )
          }
          return
        }
        if (this.#s.skipped.has('u')) return
        const old = message.oldKind === 'O' ? message.oldTuple : null
        const before = old ? rowStruct(ts, old, 'full') : null
        const after = rowStruct(ts, message.newTuple, 'full', old)
        this.emit(
          ts,
          records,
          newKey,
          envelope(ts, 'u', before, after, this.source(ts, lsn, 'false')),
          offset,
        )
        return
      }
      case 'delete': {
        if (this.#s.skipped.has('d')) return
        const before = rowStruct(ts, message.oldTuple, message.oldKind === 'O' ? 'full' : 'old-key')
        const key = keyStruct(ts, message.oldTuple)
        this.emit(ts, records, key, envelope(ts, 'd', before, null, this.source(ts, lsn, 'false')), offset)
        if (this.#s.tombstonesOnDelete) this.emit(ts, records, key, null, offset)
        return
      }
    }
  }

  /** A `pg_logical_emit_message` message: its own topic, inside its transaction or alone. */
  #message(message: Extract<PgOutputMessage, { tag: 'message' }>, lsn: Lsn, records: SourceRecord[]): void {
    const tx = message.transactional ? this.tx : null
    if (tx) {
      tx.ordinal++
      const resume = this.resume
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
        lsnCommit: this.lastCommitEnd,
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
        this.offset(lsn, 'MESSAGE'),
      ),
    )
  }

  emit(
    ts: TableSchema,
    records: SourceRecord[],
    key: Struct | null,
    value: Struct | null,
    offset: OffsetMap,
    headers?: { key: string; schema: TableSchema['keySchema']; value: unknown }[],
  ): void {
    // Snapshot reads emitted from the stream (incremental-snapshot windows) belong to no transaction:
    // Debezium gives them `transaction: null` and leaves them out of the transaction's counts.
    const tx = value?.valueAt(ENVELOPE_OP) === 'r' ? null : this.tx
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
      changeRecord(
        ts,
        key,
        value,
        this.#partition,
        recordOffset,
        headers ? [...headers, ...this.#contextHeaders] : this.#contextHeaders,
      ),
    )
  }

  source(ts: TableSchema, lsn: Lsn | null, snapshot: SnapshotMarker): Struct {
    const incremental = snapshot === 'incremental'
    return sourceStruct(ts, {
      database: this.#s.database,
      serverName: this.#s.topicPrefix,
      timeUs: incremental ? nowUs() : (this.tx?.commitTimeUs ?? nowUs()),
      snapshot,
      lsnCommit: incremental ? null : this.lastCommitEnd,
      lsn: incremental ? null : lsn,
      txId: incremental ? null : (this.tx?.xid ?? null),
    })
  }

  offset(lsn: Lsn, messageType: string): OffsetMap {
    this.lastMessageType = messageType
    const at = positionReached(this.resume, {
      lsnCommit: this.lastCommitEnd,
      lsn,
      txId: this.tx?.xid ?? this.lastTxId,
      txEventsProcessed: this.tx?.ordinal ?? null,
    })
    const offset = {
      lsn_proc: at.lsn ?? lsn,
      messageType,
      lsn_commit: at.lsnCommit,
      lsn: at.lsn ?? lsn,
      txId: at.txId,
      ts_usec: Number(this.tx?.commitTimeUs ?? this.lastTsUs),
      tx_events_processed: at.txEventsProcessed,
    }
    // Most events carry neither: no spread of two empty objects per event.
    if (this.#incremental.state !== null || this.kafkaSignalOffset !== null)
      Object.assign(offset, incrementalOffsetKeys(this.#incremental.state), this.signalOffsetKeys())
    return offset
  }

  signalOffsetKeys(): OffsetMap {
    return this.kafkaSignalOffset === null ? {} : { [KAFKA_SIGNAL_OFFSET_KEY]: this.kafkaSignalOffset }
  }

  /** The offset of the stream position reached: where a pause between polls resumes. */
  positionOffset(): OffsetMap {
    // Nothing streamed yet: the slot's start, never 0 (a restart would take the slot to be past it).
    return this.offset(
      this.lastLsn ?? this.lastCommitEnd ?? this.slotStart ?? 0,
      this.tx ? 'INSERT' : 'COMMIT',
    )
  }
}

/** Debezium's transaction-metadata offset keys (TransactionContext.store) while a transaction is open. */
export function txOffsetKeys(
  xid: number,
  counts: ReadonlyMap<string, number>,
): Record<string, string | number> {
  const keys: Record<string, string | number> = { transaction_id: String(xid) }
  for (const [collection, count] of counts) keys[`transaction_data_collection_order_${collection}`] = count
  return keys
}
