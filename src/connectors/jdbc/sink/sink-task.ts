/**
 * The JDBC sink task. One write (one database transaction) runs at a time while the runtime fetches
 * and converts the next records; the rows of the `put()` calls made meanwhile queue behind it, and
 * the next write takes all of them in one transaction (decision 0038). `put()` waits only when
 * `batch.size` rows are queued; `preCommit()` waits until every queued row is written, so the offsets
 * the runtime commits only ever cover rows that are in the database: at-least-once, and with
 * `insert.mode=upsert` replays are idempotent.
 *
 * Errors:
 * - the connection (refused, reset, server restarting): the batch is retried after `retry.backoff.ms`,
 *   up to `max.retries` times in a row, then the task fails;
 * - one bad row (constraint, bad value, a table that cannot take it) → the batch is replayed row by
 *   row, the good rows commit and each bad one goes to the errant-record reporter (errors.tolerance=all
 *   → dead-letter topic); a tombstone with deletes off is handled the same way, not a dead task.
 */

import { type Props, type SinkOffsets, SinkTask, type SinkTopicPartition } from '../../../api/connector.ts'
import { ConfigError, ConnectError, DataError, errorMessage, RetriableError } from '../../../api/errors.ts'
import { connectLogger } from '../../../api/log.ts'
import type { SinkRecord } from '../../../api/records.ts'
import { type DbConnection, isConnectionError, openConnection } from '../common/connection.ts'
import { parseJdbcUrl } from '../common/url.ts'
import { type Flavour, readSettings, type SinkSettings } from './config.ts'
import { RecordMapper, type RowOp, where } from './record-mapper.ts'
import { JDBC_SINK_VERSION } from './version.ts'
import { type RowFailure, SinkWriter } from './writer.ts'

export abstract class AbstractJdbcSinkTask extends SinkTask {
  protected abstract readonly flavour: Flavour
  #settings: SinkSettings | undefined
  #props: Props = {}
  #mapper: RecordMapper | undefined
  #connection: DbConnection | undefined
  #writer: SinkWriter | undefined
  #failedAttempts = 0
  #stopped = false
  /** The write under way, if any: it starts the next write of the queue when it ends. */
  #inflight: Promise<void> | undefined
  /** Rows of the `put()` calls made since that write started. */
  #queue: RowOp[] = []
  /** Why the task cannot go on (thrown by every later put/preCommit). */
  #fatal: Error | undefined

  version(): string {
    return JDBC_SINK_VERSION
  }

  start(props: Props): void {
    this.#props = props
    this.#settings = readSettings(this.flavour, props)
    const location = parseJdbcUrl(this.#settings.url, { key: this.#settings.urlKey })
    this.#mapper = new RecordMapper(this.#settings, location.dialect)
  }

  /**
   * Queues the records' rows and starts writing them unless a write is under way (the next one then
   * takes them, with the rows of any later put). Returns at once while fewer than `batch.size` rows
   * wait, else once the write under way ended: the runtime converts the next records while the
   * database commits. `preCommit` waits for every queued row, so offsets cover only committed rows.
   */
  async put(records: SinkRecord[]): Promise<void> {
    if (this.#fatal) throw this.#fatal
    const mapper = this.#mapper!
    for (const record of records) this.#queue.push(mapper.map(record))
    if (this.#inflight === undefined) this.#startWrite()
    while (this.#inflight !== undefined && this.#queue.length >= this.#settings!.batchSize) {
      await this.#inflight
    }
    if (this.#fatal) throw this.#fatal
  }

  override async flush(_offsets: SinkOffsets): Promise<void> {
    while (this.#inflight !== undefined) await this.#inflight
    if (this.#fatal) throw this.#fatal
  }

  /**
   * Partitions taken away: their queued rows are dropped and the write under way is awaited, so
   * nothing of them is written after this returns. A revoked partition's rows were all written by the
   * commit before; a lost one's were not, and its new owner reads them again from the last commit —
   * written later here, they could overwrite the newer rows that owner writes.
   */
  override async close(partitions: SinkTopicPartition[]): Promise<void> {
    const gone = new Set(partitions.map((tp) => `${tp.partition}\u0000${tp.topic}`))
    this.#queue = this.#queue.filter(
      (op) => !gone.has(`${op.record.originalKafkaPartition}\u0000${op.record.originalTopic}`),
    )
    while (this.#inflight !== undefined) await this.#inflight
  }

  /** Writes the queued rows; when that ends, the rows queued meanwhile, until none are left. */
  #startWrite(): void {
    if (this.#queue.length === 0 || this.#fatal || this.#stopped) return
    const ops = this.#queue
    this.#queue = []
    this.#inflight = this.#write(ops).then(() => {
      this.#inflight = undefined
      this.#startWrite()
    })
  }

  /**
   * Writes one batch in one transaction, retrying connection failures every `retry.backoff.ms` up to
   * `max.retries` times in a row, then reports the records that could not be written. Never rejects:
   * a failure that retrying cannot fix is kept in `#fatal` for the next put or preCommit to throw.
   */
  async #write(ops: RowOp[]): Promise<void> {
    const settings = this.#settings!
    let failures: RowFailure[]
    for (;;) {
      try {
        const writer = await this.#open()
        failures = await writer.write(ops)
        this.#failedAttempts = 0
        break
      } catch (error) {
        if (!isConnectionError(error) || this.#stopped) {
          this.#fatal = fatal(error)
          return
        }
        await this.#drop()
        this.#failedAttempts++
        if (this.#failedAttempts > settings.maxRetries) {
          this.#fatal = new ConnectError(
            'CONNECT',
            `writing ${ops.length} records failed ${this.#failedAttempts} times in a row on the database ` +
              `connection (${errorMessage(error)}); giving up after ${settings.maxRetries} retries`,
            { cause: error },
          )
          return
        }
        connectLogger().warn(
          `JDBC sink: database connection failed (${errorMessage(error)}); retry ${this.#failedAttempts} of ` +
            `${settings.maxRetries} in ${settings.retryBackoffMs} ms`,
        )
        await new Promise((resolve) => setTimeout(resolve, settings.retryBackoffMs))
      }
    }
    // Records that could not be mapped and rows the database refused, in batch order, each reported once
    // (after the transaction committed).
    const all: { op: RowOp; error: Error }[] = [...failures]
    for (const op of ops) if (op.kind === 'fail') all.push({ op, error: op.error })
    const position = new Map(ops.map((op, i) => [op, i]))
    all.sort((a, b) => position.get(a.op)! - position.get(b.op)!)
    try {
      for (const failure of all) await this.#report(failure.op.record, failure.error)
    } catch (error) {
      this.#fatal = fatal(error)
    }
  }

  async #report(record: SinkRecord, error: Error): Promise<void> {
    const reporter = this.context.errantRecordReporter()
    const wrapped =
      error instanceof ConnectError
        ? error
        : new DataError(`cannot write record ${where(record)}: ${errorMessage(error)}`, { cause: error })
    if (reporter) {
      await reporter.report(record, wrapped)
      return
    }
    if ((this.#props['errors.tolerance'] ?? 'none').toLowerCase() === 'all') {
      connectLogger().warn(`JDBC sink skipped record ${where(record)}: ${wrapped.message}`)
      return
    }
    throw wrapped
  }

  async #open(): Promise<SinkWriter> {
    if (this.#writer) return this.#writer
    const s = this.#settings!
    const location = parseJdbcUrl(s.url, { key: s.urlKey, user: s.user, password: s.password })
    let last: unknown
    for (let attempt = 1; attempt <= s.connectionAttempts && !this.#stopped; attempt++) {
      try {
        this.#connection = await openConnection(location, {
          urlKey: s.urlKey,
          userKey: s.userKey,
          passwordKey: s.passwordKey,
          timezone: s.timezone,
        })
        this.#writer = new SinkWriter(this.#connection, s)
        return this.#writer
      } catch (error) {
        if (error instanceof ConfigError || !isConnectionError(error)) throw error
        last = error
        if (attempt < s.connectionAttempts) await new Promise((r) => setTimeout(r, s.connectionBackoffMs))
      }
    }
    throw last instanceof Error ? last : new RetriableError('the task is stopping')
  }

  async #drop(): Promise<void> {
    const connection = this.#connection
    this.#connection = undefined
    this.#writer = undefined
    await connection?.close().catch(() => {})
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#inflight
    // Rows not written yet are not committed either: the runtime delivers them again.
    this.#queue = []
    await this.#drop()
  }
}

/** An error that fails the task: never retriable, or the runtime would redeliver forever. */
function fatal(error: unknown): Error {
  if (error instanceof ConnectError && !error.retriable) return error
  if (!(error instanceof ConnectError) && error instanceof Error) return error
  return new ConnectError('CONNECT', `the JDBC sink cannot go on: ${errorMessage(error)}`, { cause: error })
}

/** The task of `io.confluent.connect.jdbc.JdbcSinkConnector`. */
export class JdbcSinkTask extends AbstractJdbcSinkTask {
  protected readonly flavour = 'confluent' as const
}

/** The task of `io.debezium.connector.jdbc.JdbcSinkConnector`. */
export class DebeziumJdbcSinkTask extends AbstractJdbcSinkTask {
  protected readonly flavour = 'debezium' as const
}
