/**
 * A fresh database per test (or per suite) on the real test servers, dropped afterwards, so tests
 * running in parallel never see each other's tables.
 */
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { mariadbUrl, postgresUrl } from './services.ts'

export interface TestDatabase {
  /** Database name (lower case, unique per call). */
  name: string
  /** Driver URL: `postgres://…/<name>` or `mysql://…/<name>`. */
  url: string
  /** The same database as a JDBC URL (`jdbc:postgresql://…`, `jdbc:mariadb://…`), as users configure. */
  jdbcUrl: string
  /** Runs SQL statements in order on the database (a new connection each call). */
  sql(...statements: string[]): Promise<unknown[]>
  drop(): Promise<void>
}

function uniqueName(prefix: string): string {
  return `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`
}

/**
 * The keys that point Debezium's PostgreSQL connector (pgoutput, as the superuser) at `db`, with its
 * topic prefix, replication slot and publication.
 */
export function postgresCdcProps(
  db: TestDatabase,
  o: { prefix: string; slot: string; publication: string },
): Record<string, string> {
  const url = new URL(db.url)
  return {
    'database.hostname': url.hostname,
    'database.port': url.port,
    'database.user': 'postgres',
    'database.dbname': db.name,
    'topic.prefix': o.prefix,
    'plugin.name': 'pgoutput',
    'slot.name': o.slot,
    'publication.name': o.publication,
  }
}

/** Makes an empty database on the test PostgreSQL cluster (wal_level=logical). */
export async function freshPostgresDatabase(prefix: string): Promise<TestDatabase> {
  const serverUrl = new URL(postgresUrl())
  const name = uniqueName(prefix)
  const admin = new pg.Client({ connectionString: serverUrl.toString() })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const jdbcUrl = `jdbc:postgresql://${url.host}/${name}`
  return {
    name,
    url: url.toString(),
    jdbcUrl,
    async sql(...statements) {
      const client = new pg.Client({ connectionString: url.toString() })
      await client.connect()
      try {
        const results: unknown[] = []
        for (const statement of statements) results.push((await client.query(statement)).rows)
        return results
      } finally {
        await client.end()
      }
    },
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl.toString() })
      await client.connect()
      try {
        // Replication slots of the database hold it open; tests that made slots drop them first.
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await client.end()
      }
    },
  }
}

/** Makes an empty database on the machine's MariaDB. */
export async function freshMariadbDatabase(prefix: string): Promise<TestDatabase> {
  const serverUrl = new URL(mariadbUrl())
  const name = uniqueName(prefix)
  const admin = await mysql.createConnection(serverUrl.toString())
  try {
    await admin.query(`CREATE DATABASE \`${name}\``)
  } finally {
    await admin.end()
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    jdbcUrl: `jdbc:mariadb://${url.host}/${name}`,
    async sql(...statements) {
      const connection = await mysql.createConnection(url.toString())
      try {
        const results: unknown[] = []
        for (const statement of statements) results.push((await connection.query(statement))[0])
        return results
      } finally {
        await connection.end()
      }
    },
    async drop() {
      const connection = await mysql.createConnection(serverUrl.toString())
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``)
      } finally {
        await connection.end()
      }
    },
  }
}

/**
 * Drops a replication slot a test made, ending its walsender first: a worker killed with -9 (or a task
 * just stopped) leaves the slot active for a moment, and an active slot cannot be dropped. Gives up
 * quietly after ~10 s; a slot that is already gone is fine.
 */
export async function dropReplicationSlot(url: string, slot: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    for (let i = 0; i < 100; i++) {
      await admin.query(
        'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
        [slot],
      )
      await admin.query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
        [slot],
      )
      const left = await admin.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])
      if (left.rows.length === 0) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } finally {
    await admin.end()
  }
}
