/**
 * One connection to a database, the same shape over the three drivers (`pg`, `mysql2`, `node:sqlite`),
 * for every JDBC connector.
 *
 * Values come back close to the database's own form so no precision is lost on the way and the
 * connector, which knows the Connect schema, does the one conversion:
 * - PostgreSQL: the text form of every value (numeric, int8, timestamps, arrays as `{…}` literals: see
 *   `parsePostgresArray`), except `bool` → boolean and `bytea` → Buffer.
 * - MySQL/MariaDB: DECIMAL and BIGINT as strings, dates and times as strings, other numbers as numbers,
 *   binary as Buffer.
 * - SQLite: what SQLite stores (number, string, Uint8Array, null).
 * Rows are arrays in column order (duplicate column names stay distinct).
 *
 * Drivers are imported when a connection opens, so a worker that runs no JDBC connector never loads them.
 */
import { ConfigError, ConnectError, RetriableError } from '../../../api/errors.ts'
import { type Dialect, dialectFor } from './dialect.ts'
import { copyFromStdin } from './pg-copy.ts'
import { type FetchedRows, fetchRows } from './pg-fetch.ts'
import { type DatabaseLocation, redact, type ServerLocation, type SqliteLocation } from './url.ts'

export interface Column {
  name: string
  /**
   * The column's type as the database names it, lower case, without length or precision: `int4`,
   * `numeric`, `timestamptz`, `_int4` (an int4 array) on PostgreSQL; `long`, `newdecimal`, `var_string`,
   * `datetime` (mysql2's protocol type names) on MySQL; the declared type (`integer`, `text`, ``) on SQLite.
   */
  type: string
  /** Digits of a DECIMAL/NUMERIC, or the length of a character type, when the database says. */
  precision?: number | undefined
  /** Digits after the point of a DECIMAL/NUMERIC, when the database says. */
  scale?: number | undefined
  /** MySQL: whether a number column is UNSIGNED. */
  unsigned?: boolean | undefined
  /** Whether the column may hold NULL, when the driver says (MySQL). */
  nullable?: boolean | undefined
}

export interface ResultSet {
  columns: Column[]
  rows: unknown[][]
}

export interface DbConnection {
  readonly dialect: Dialect
  /** Runs one statement and returns all its rows. */
  query(sql: string, params?: readonly unknown[]): Promise<ResultSet>
  /** Runs one statement; returns the number of rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>
  /**
   * Runs a query and yields its rows `fetchSize` at a time without holding the result in memory
   * (PostgreSQL: a cursor in a read-only transaction; MySQL: a streamed result; SQLite: an iterator).
   * Other statements must not run on this connection until the iteration ends.
   */
  stream(sql: string, params: readonly unknown[], fetchSize: number): AsyncIterable<ResultSet>
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: () => Promise<T>): Promise<T>
  /**
   * PostgreSQL only: runs a `COPY … FROM STDIN` with `data` in COPY text format; resolves with the
   * number of rows copied. Undefined on the other databases.
   */
  copyIn?(sql: string, data: Buffer): Promise<number>
  close(): Promise<void>
}

/** True for errors that say the connection or server is gone or not yet there: retry, don't fail. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error instanceof RetriableError) return true
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    // PostgreSQL SQLSTATE class 08 (connection exception), 57P01-03 (shutdown, cannot connect now), 53300 (too many connections)
    if (/^08/.test(code) || /^57P0[1-3]$/.test(code) || code === '53300') return true
    if (
      [
        'ECONNREFUSED',
        'ECONNRESET',
        'ETIMEDOUT',
        'EPIPE',
        'EHOSTUNREACH',
        'ENOTFOUND',
        'EAI_AGAIN',
        'PROTOCOL_CONNECTION_LOST',
        'ER_CON_COUNT_ERROR',
        'ER_SERVER_SHUTDOWN',
        'ER_LOCK_DEADLOCK',
        'ER_LOCK_WAIT_TIMEOUT',
      ].includes(code)
    ) {
      return true
    }
  }
  return /Connection terminated|connection is closed|Can't add new command when connection is in closed state|socket hang up|Client has encountered a connection error/i.test(
    error.message,
  )
}

/** Wraps a driver error: connection failures become RetriableError (the runtime retries), others stay. */
export function classifyError(error: unknown, what: string): Error {
  if (error instanceof ConnectError) return error
  if (isConnectionError(error)) {
    return new RetriableError(`${what}: ${(error as Error).message || (error as { code?: string }).code}`, {
      cause: error,
    })
  }
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * Opens a connection. Wrong credentials or an unknown database are ConfigErrors naming the key to fix;
 * an unreachable server is a RetriableError.
 */
export async function openConnection(
  location: DatabaseLocation,
  options: { urlKey?: string; userKey?: string; passwordKey?: string; timezone?: string } = {},
): Promise<DbConnection> {
  const urlKey = options.urlKey ?? 'connection.url'
  const userKey = options.userKey ?? 'connection.user'
  const passwordKey = options.passwordKey ?? 'connection.password'
  const where =
    location.dialect === 'sqlite'
      ? `SQLite database ${location.path}`
      : `${location.dialect === 'postgresql' ? 'PostgreSQL' : 'MySQL/MariaDB'} at ${location.host}:${location.port}` +
        (location.database ? `/${location.database}` : '')
  try {
    if (location.dialect === 'sqlite') return await openSqlite(location)
    if (location.dialect === 'postgresql') return await openPostgres(location)
    return await openMysql(location, options.timezone)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    const message = error instanceof Error ? error.message : String(error)
    if (
      code === '28P01' ||
      code === '28000' ||
      code === 'ER_ACCESS_DENIED_ERROR' ||
      code === 'ER_DBACCESS_DENIED_ERROR'
    ) {
      throw new ConfigError(
        passwordKey,
        `cannot log in to ${where}: ${message}. Check ${userKey} and ${passwordKey}`,
        { cause: error },
      )
    }
    if (code === '3D000' || code === 'ER_BAD_DB_ERROR') {
      throw new ConfigError(
        urlKey,
        `${where} does not exist: ${message}. Fix the database name in ${urlKey}`,
        {
          cause: error,
        },
      )
    }
    if (isConnectionError(error)) {
      throw new RetriableError(`cannot reach ${where}: ${message || code}`, { cause: error })
    }
    throw new ConnectError('CONNECT', `cannot open ${where} (${redact(urlKey)}): ${message}`, {
      cause: error,
    })
  }
}

// ---------------------------------------------------------------------------------------------- PostgreSQL

const PG_BOOL = 16
const PG_BYTEA = 17
const PG_NUMERIC = 1700
const PG_VARCHAR = 1043
const PG_BPCHAR = 1042

async function openPostgres(location: ServerLocation): Promise<DbConnection> {
  const pg = (await import('pg')).default
  const byteaParser = pg.types.getTypeParser(PG_BYTEA, 'text')
  const identity = (value: string): string => value
  const boolParser = (value: string): boolean => value === 't'
  const fetchParser = (oid: number) =>
    oid === PG_BYTEA ? byteaParser : oid === PG_BOOL ? boolParser : undefined
  const client = new pg.Client({
    host: location.host,
    port: location.port,
    database: location.database || undefined,
    user: location.user ?? 'postgres',
    password: location.password,
    ssl: sslOption(location.properties),
    application_name: location.properties.ApplicationName ?? 'sluice',
    connectionTimeoutMillis: 10_000,
    types: {
      getTypeParser: ((oid: number) =>
        oid === PG_BYTEA ? byteaParser : oid === PG_BOOL ? boolParser : identity) as never,
    },
  })
  // An error on an idle connection (server restart) must not crash the process; the next call fails instead.
  client.on('error', () => {})
  await client.connect()
  if (location.properties.currentSchema) {
    await client.query(
      `SET search_path TO ${location.properties.currentSchema
        .split(',')
        .map((s: string) => `"${s.trim().replaceAll('"', '""')}"`)
        .join(', ')}`,
    )
  }

  const typeNames = new Map<number, string>()
  for (const [name, oid] of Object.entries(pg.types.builtins)) typeNames.set(oid, name.toLowerCase())
  const columnsOf = async (fields: { name: string; dataTypeID: number; dataTypeModifier: number }[]) => {
    const unknown = [...new Set(fields.map((f) => f.dataTypeID).filter((oid) => !typeNames.has(oid)))]
    if (unknown.length > 0) {
      const result = await client.query<{ oid: string; typname: string }>(
        'SELECT oid::text AS oid, typname FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])',
        [unknown],
      )
      for (const row of result.rows) typeNames.set(Number(row.oid), row.typname)
    }
    return fields.map((field): Column => {
      const type = typeNames.get(field.dataTypeID) ?? String(field.dataTypeID)
      const mod = field.dataTypeModifier
      if (field.dataTypeID === PG_NUMERIC && mod >= 4) {
        return { name: field.name, type, precision: ((mod - 4) >> 16) & 0xffff, scale: (mod - 4) & 0xffff }
      }
      if ((field.dataTypeID === PG_VARCHAR || field.dataTypeID === PG_BPCHAR) && mod >= 4) {
        return { name: field.name, type, precision: mod - 4 }
      }
      return { name: field.name, type }
    })
  }
  const run = async (sql: string, params: readonly unknown[] | undefined) => {
    try {
      return await client.query({ text: sql, values: params as unknown[] | undefined, rowMode: 'array' })
    } catch (error) {
      throw classifyError(error, 'PostgreSQL')
    }
  }
  let cursors = 0
  const connection: DbConnection = {
    dialect: dialectFor('postgresql'),
    async query(sql, params) {
      const result = await run(sql, params)
      return { columns: await columnsOf(result.fields), rows: result.rows as unknown[][] }
    },
    async execute(sql, params) {
      return (await run(sql, params)).rowCount ?? 0
    },
    async *stream(sql, params, fetchSize) {
      const name = `sluice_cursor_${++cursors}`
      await run('BEGIN READ ONLY', undefined)
      let open = true
      try {
        await run(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params)
        let columns: Column[] | undefined
        const fetch = `FETCH FORWARD ${Math.max(1, fetchSize)} FROM ${name}`
        for (;;) {
          let result: FetchedRows
          try {
            result = await fetchRows(client, fetch, fetchParser)
          } catch (error) {
            throw classifyError(error, 'PostgreSQL')
          }
          columns ??= await columnsOf(result.fields)
          if (result.rows.length > 0) yield { columns, rows: result.rows }
          if (result.rows.length < fetchSize) break
        }
        await run('COMMIT', undefined)
        open = false
      } finally {
        if (open) await client.query('ROLLBACK').catch(() => {})
      }
    },
    async transaction(work) {
      await run('BEGIN', undefined)
      try {
        const result = await work()
        await run('COMMIT', undefined)
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      }
    },
    async copyIn(sql, data) {
      try {
        return await copyFromStdin(client, sql, data)
      } catch (error) {
        throw classifyError(error, 'PostgreSQL')
      }
    },
    async close() {
      await client.end().catch(() => {})
    },
  }
  return connection
}

function sslOption(properties: Record<string, string>): false | { rejectUnauthorized: boolean } {
  const mode = properties.sslmode ?? (properties.ssl === 'true' ? 'require' : 'disable')
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false
  return { rejectUnauthorized: mode === 'verify-ca' || mode === 'verify-full' }
}

/**
 * Parses a PostgreSQL array literal (`{1,2,NULL}`, `{{"a b","c"},{d,e}}`) into nested arrays of the
 * elements' text forms (null for NULL).
 */
export function parsePostgresArray(literal: string): unknown[] {
  let i = 0
  // Optional dimension decoration: [1:2]={…}
  if (literal.charAt(0) === '[') i = literal.indexOf('=') + 1
  const parse = (): unknown[] => {
    const items: unknown[] = []
    i++ // '{'
    if (literal.charAt(i) === '}') {
      i++
      return items
    }
    for (;;) {
      const c = literal.charAt(i)
      if (c === '{') items.push(parse())
      else if (c === '"') {
        let value = ''
        i++
        while (literal.charAt(i) !== '"') {
          if (literal.charAt(i) === '\\') i++
          value += literal.charAt(i)
          i++
        }
        i++
        items.push(value)
      } else {
        let end = i
        while (literal.charAt(end) !== ',' && literal.charAt(end) !== '}') end++
        const raw = literal.slice(i, end)
        items.push(raw === 'NULL' ? null : raw)
        i = end
      }
      if (literal.charAt(i) === ',') i++
      else {
        i++ // '}'
        return items
      }
    }
  }
  return parse()
}

// ---------------------------------------------------------------------------------------------- MySQL/MariaDB

async function openMysql(location: ServerLocation, timezone: string | undefined): Promise<DbConnection> {
  const mysql = (await import('mysql2')).default
  const typeNames = new Map<number, string>()
  for (const [name, code] of Object.entries(mysql.Types as unknown as Record<string, number>))
    typeNames.set(code, name.toLowerCase())
  const core = mysql.createConnection({
    host: location.host,
    port: location.port,
    database: location.database || undefined,
    user: location.user ?? 'root',
    password: location.password,
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    rowsAsArray: true,
    timezone: timezone === undefined || timezone === 'UTC' ? 'Z' : 'local',
    connectTimeout: 10_000,
    ssl: location.properties.useSSL === 'true' || location.properties.sslMode === 'REQUIRED' ? {} : undefined,
  })
  core.on('error', () => {})
  await new Promise<void>((resolve, reject) => core.connect((error) => (error ? reject(error) : resolve())))
  // Session time zone UTC so TIMESTAMP columns read and write as UTC, as Confluent's connector does with db.timezone=UTC.
  await new Promise<void>((resolve, reject) =>
    core.query(`SET time_zone = '+00:00'`, (error) => (error ? reject(error) : resolve())),
  )

  type Field = {
    name: string
    columnType?: number
    type?: number
    columnLength?: number
    decimals: number
    flags: number | string[]
  }
  const columnsOf = (fields: Field[] | undefined): Column[] =>
    (fields ?? []).map((field) => {
      const code = field.columnType ?? field.type ?? -1
      const type = typeNames.get(code) ?? String(code)
      const flags = typeof field.flags === 'number' ? field.flags : 0
      const unsigned = (flags & 32) !== 0
      const column: Column = { name: field.name, type, unsigned, nullable: (flags & 1) === 0 }
      if (type === 'newdecimal' || type === 'decimal') {
        column.scale = field.decimals
        column.precision = (field.columnLength ?? 0) - (field.decimals > 0 ? 1 : 0) - (unsigned ? 0 : 1)
      }
      return column
    })
  const run = (sql: string, params: readonly unknown[] | undefined) =>
    new Promise<{ rows: unknown; fields: Field[] | undefined }>((resolve, reject) => {
      core.query(
        { sql, values: params as unknown[] | undefined, rowsAsArray: true },
        (error, rows, fields) => {
          if (error) reject(classifyError(error, 'MySQL/MariaDB'))
          else resolve({ rows, fields: fields as Field[] | undefined })
        },
      )
    })
  return {
    dialect: dialectFor('mysql'),
    async query(sql, params) {
      const result = await run(sql, params)
      return {
        columns: columnsOf(result.fields),
        rows: Array.isArray(result.rows) ? (result.rows as unknown[][]) : [],
      }
    },
    async execute(sql, params) {
      const result = await run(sql, params)
      return (result.rows as { affectedRows?: number }).affectedRows ?? 0
    },
    async *stream(sql, params, fetchSize) {
      const query = core.query({ sql, values: params as unknown[] | undefined, rowsAsArray: true })
      let columns: Column[] = []
      query.on('fields', (fields: Field[]) => {
        columns = columnsOf(fields)
      })
      const rows = query.stream({ highWaterMark: Math.max(16, fetchSize) })
      let batch: unknown[][] = []
      try {
        for await (const row of rows) {
          batch.push(row as unknown[])
          if (batch.length >= fetchSize) {
            yield { columns, rows: batch }
            batch = []
          }
        }
      } catch (error) {
        throw classifyError(error, 'MySQL/MariaDB')
      }
      if (batch.length > 0) yield { columns, rows: batch }
    },
    async transaction(work) {
      await run('START TRANSACTION', undefined)
      try {
        const result = await work()
        await run('COMMIT', undefined)
        return result
      } catch (error) {
        await run('ROLLBACK', undefined).catch(() => {})
        throw error
      }
    },
    async close() {
      await new Promise<void>((resolve) => core.end(() => resolve()))
    },
  }
}

// ---------------------------------------------------------------------------------------------- SQLite

async function openSqlite(location: SqliteLocation): Promise<DbConnection> {
  const { DatabaseSync } = await import('node:sqlite')
  const db = new DatabaseSync(location.path)
  db.exec('PRAGMA busy_timeout = 5000')
  const prepare = (sql: string) => {
    try {
      const statement = db.prepare(sql)
      statement.setReturnArrays(true)
      return statement
    } catch (error) {
      throw classifyError(error, 'SQLite')
    }
  }
  const columnsOf = (statement: ReturnType<typeof prepare>): Column[] =>
    statement
      .columns()
      .map((c) => ({ name: c.name, type: (c.type ?? '').toLowerCase().replace(/\(.*$/, '').trim() }))
  const bind = (params: readonly unknown[] | undefined) => (params ?? []) as never[]
  return {
    dialect: dialectFor('sqlite'),
    async query(sql, params) {
      const statement = prepare(sql)
      const rows = statement.all(...bind(params)) as unknown as unknown[][]
      return { columns: columnsOf(statement), rows }
    },
    async execute(sql, params) {
      return Number(prepare(sql).run(...bind(params)).changes)
    },
    async *stream(sql, params, fetchSize) {
      const statement = prepare(sql)
      const columns = columnsOf(statement)
      let batch: unknown[][] = []
      for (const row of statement.iterate(...bind(params))) {
        batch.push(row as unknown as unknown[])
        if (batch.length >= fetchSize) {
          yield { columns, rows: batch }
          batch = []
        }
      }
      if (batch.length > 0) yield { columns, rows: batch }
    },
    async transaction(work) {
      db.exec('BEGIN IMMEDIATE')
      try {
        const result = await work()
        db.exec('COMMIT')
        return result
      } catch (error) {
        if (db.isTransaction) db.exec('ROLLBACK')
        throw error
      }
    },
    async close() {
      if (db.isOpen) db.close()
    },
  }
}
