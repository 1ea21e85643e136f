/**
 * The JDBC sink task. Each `put()` batch is one database transaction. The write runs while the
 * runtime fetches and converts the next batch (at most one batch in flight); the next `put()` and
 * `preCommit()` wait for it, so the offsets the runtime commits only ever cover rows that are in the
 * database: at-least-once, and with `insert.mode=upsert` replays are idempotent.
 *
 * Errors:
 * - the connection (refused, reset, server restarting): the batch is retried after `retry.backoff.ms`,
 *   up to `max.retries` times in a row, then the task fails;
 * - one bad row (constraint, bad value, a table that cannot take it) → the batch is replayed row by
 *   row, the good rows commit and each bad one goes to the errant-record reporter (errors.tolerance=all
 *   → dead-letter topic); a tombstone with deletes off is handled the same way, not a dead task.
 */

import { type Props, type SinkOffsets, SinkTask } from '../../../api/connector.ts'
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
  /** The batch being written, if any. */
  #inflight: Promise<void> | undefined
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
   * Starts writing the batch and returns once the previous batch is committed: the runtime converts
   * the next batch while the database commits this one. `preCommit` waits for the write in flight,
   * so offsets still cover only committed rows.
   */
  async put(records: SinkRecord[]): Promise<void> {
    await this.#settle()
    if (records.length === 0) return
    const ops: RowOp[] = records.map((record) => this.#mapper!.map(record))
    this.#inflight = this.#write(ops)
  }

  override async flush(_offsets: SinkOffsets): Promise<void> {
    await this.#settle()
  }

  /** Waits for the write in flight; throws what made it fail for good (the task then fails). */
  async #settle(): Promise<void> {
    const inflight = this.#inflight
    this.#inflight = undefined
    await inflight
    if (this.#fatal) throw this.#fatal
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
