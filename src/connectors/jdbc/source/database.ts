/**
 * Opening the source's connection: `connection.attempts` tries `connection.backoff.ms` apart (as
 * Confluent's `CachedConnectionProvider`), then the session settings the source's time handling relies
 * on: PostgreSQL's `TimeZone` and MySQL's `time_zone` follow `db.timezone`, so zoneless values read
 * and bound bounds mean the same instants. And the database clock, the upper bound of timestamp windows.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError, RetriableError } from '../../../api/errors.ts'
import { type DbConnection, openConnection } from '../common/connection.ts'
import { type DatabaseLocation, parseJdbcUrl } from '../common/url.ts'
import {
  CONNECTION_ATTEMPTS,
  CONNECTION_BACKOFF_MS,
  CONNECTION_URL,
  CONNECTION_USER,
  DB_TIMEZONE,
  DIALECT_NAME,
  type JdbcSourceConfig,
} from './config.ts'
import { parseTimestamp, type SqlTimestamp, zoneOffsetMs } from './sql-time.ts'

const DIALECT_NAMES: Record<string, DatabaseLocation['dialect']> = {
  PostgreSqlDatabaseDialect: 'postgresql',
  MySqlDatabaseDialect: 'mysql',
  SqliteDatabaseDialect: 'sqlite',
}

/** The parsed `connection.url` (ConfigError naming the key when it is bad). */
export function locationOf(config: JdbcSourceConfig): DatabaseLocation {
  const location = parseJdbcUrl(config.getString(CONNECTION_URL), {
    key: CONNECTION_URL,
    user: config.getOptionalString(CONNECTION_USER) ?? undefined,
    password: config.password,
  })
  const named = config.getString(DIALECT_NAME)
  if (named && DIALECT_NAMES[named] !== location.dialect) {
    throw new ConfigError(
      DIALECT_NAME,
      `${DIALECT_NAME} ${named} does not match ${CONNECTION_URL} (a ${location.dialect} URL); leave ${DIALECT_NAME} empty`,
    )
  }
  return location
}

export interface ConnectOptions {
  /** Overrides `connection.attempts`. */
  attempts?: number
  signal?: AbortSignal
  onRetry?: (error: Error, attempt: number, delayMs: number) => void
}

/** Opens and prepares a connection, retrying unreachable servers; wrong credentials fail at once. */
export async function connect(config: JdbcSourceConfig, options: ConnectOptions = {}): Promise<DbConnection> {
  const location = locationOf(config)
  const attempts = options.attempts ?? config.getInt(CONNECTION_ATTEMPTS)
  const backoff = config.getLong(CONNECTION_BACKOFF_MS)
  const zone = config.getString(DB_TIMEZONE)
  for (let attempt = 1; ; attempt++) {
    try {
      const db = await openConnection(location, { timezone: zone })
      try {
        await prepareSession(db, zone)
      } catch (error) {
        await db.close()
        throw error
      }
      return db
    } catch (error) {
      if (!(error instanceof RetriableError) || attempt >= attempts || options.signal?.aborted) throw error
      options.onRetry?.(error, attempt, backoff)
      await sleep(backoff, undefined, { signal: options.signal }).catch(() => {})
    }
  }
}

async function prepareSession(db: DbConnection, zone: string): Promise<void> {
  if (db.dialect.name === 'postgresql') {
    await db.execute(`SET TIME ZONE '${zone.replaceAll("'", "''")}'`)
  } else if (db.dialect.name === 'mysql' && zone !== 'UTC') {
    // A fixed offset: MariaDB/MySQL often have no time zone tables for named zones.
    const offset = zoneOffsetMs(zone, Date.now()) / 60_000
    const sign = offset < 0 ? '-' : '+'
    const abs = Math.abs(offset)
    await db.execute(
      `SET time_zone = '${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}'`,
    )
  }
}

/** The database's current time (Confluent's `currentTimeOnDB`). */
export async function databaseNow(db: DbConnection, zone: string): Promise<SqlTimestamp> {
  switch (db.dialect.name) {
    case 'postgresql': {
      const result = await db.query('SELECT CURRENT_TIMESTAMP')
      return parseTimestamp(String(result.rows[0][0]), zone)
    }
    case 'mysql': {
      const result = await db.query('SELECT CURRENT_TIMESTAMP(6)')
      return parseTimestamp(String(result.rows[0][0]), zone)
    }
    case 'sqlite': {
      const result = await db.query(`SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')`)
      return parseTimestamp(String(result.rows[0][0]), 'UTC')
    }
  }
}

/** Digits of the fraction of a second bound into timestamp comparisons. */
export function boundFractionDigits(db: DbConnection): number {
  return db.dialect.name === 'sqlite' ? 3 : 6
}
