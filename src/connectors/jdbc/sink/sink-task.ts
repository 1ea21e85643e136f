/**
 * The JDBC sink task. Each `put()` is one database transaction, committed before `put()` returns,
 * so the offsets the runtime commits afterwards (through `preCommit`) only ever cover rows that are
 * in the database: at-least-once, and with `insert.mode=upsert` replays are idempotent.
 *
 * Errors:
 * - the connection (refused, reset, server restarting) → `RetriableError`: the runtime redelivers the
 *   same batch after `retry.backoff.ms`, up to `max.retries` times in a row, then the task fails;
 * - one bad row (constraint, bad value, a table that cannot take it) → the batch is replayed row by
 *   row, the good rows commit and each bad one goes to the errant-record reporter (errors.tolerance=all
 *   → dead-letter topic); a tombstone with deletes off is handled the same way, not a dead task.
 */
import { type Props, SinkTask } from '../../../api/connector.ts'
import { ConfigError, ConnectError, DataError, errorMessage, RetriableError } from '../../../api/errors.ts'
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

  version(): string {
    return JDBC_SINK_VERSION
  }

  start(props: Props): void {
    this.#props = props
    this.#settings = readSettings(this.flavour, props)
    const location = parseJdbcUrl(this.#settings.url, { key: this.#settings.urlKey })
    this.#mapper = new RecordMapper(this.#settings, location.dialect)
  }

  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return
    const settings = this.#settings!
    const ops: RowOp[] = records.map((record) => this.#mapper!.map(record))
    let failures: RowFailure[]
    try {
      const writer = await this.#open()
      failures = await writer.write(ops)
      this.#failedAttempts = 0
    } catch (error) {
      if (!isConnectionError(error)) throw error
      await this.#drop()
      this.#failedAttempts++
      if (this.#failedAttempts > settings.maxRetries) {
        throw new ConnectError(
          'CONNECT',
          `writing ${records.length} records failed ${this.#failedAttempts} times in a row on the database ` +
            `connection (${errorMessage(error)}); giving up after ${settings.maxRetries} retries`,
          { cause: error },
        )
      }
      this.context.timeout(settings.retryBackoffMs)
      throw error instanceof RetriableError
        ? error
        : new RetriableError(`database connection failed: ${errorMessage(error)}`, { cause: error })
    }
    // Records that could not be mapped, then rows the database refused, each reported once (after the
    // transaction committed, so a redelivered batch does not report them twice).
    for (const op of ops) if (op.kind === 'fail') await this.#report(op.record, op.error)
    for (const failure of failures) await this.#report(failure.op.record, failure.error)
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
      process.emitWarning(`JDBC sink skipped record ${where(record)}: ${wrapped.message}`)
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
    await this.#drop()
  }
}

/** The task of `io.confluent.connect.jdbc.JdbcSinkConnector`. */
export class JdbcSinkTask extends AbstractJdbcSinkTask {
  protected readonly flavour = 'confluent' as const
}

/** The task of `io.debezium.connector.jdbc.JdbcSinkConnector`. */
export class DebeziumJdbcSinkTask extends AbstractJdbcSinkTask {
  protected readonly flavour = 'debezium' as const
}
