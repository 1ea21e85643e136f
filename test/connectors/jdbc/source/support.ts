/**
 * What the JDBC source tests share: a real standalone worker on the test Kafka, a fresh database on
 * each of the three databases (PostgreSQL, MariaDB, a SQLite file) with the DDL that differs, and
 * readers of the topics the connector writes (JsonConverter envelopes parsed back).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { type StandaloneWorker, startStandalone } from '../../../../src/cli/standalone.ts'
import { WorkerConfig } from '../../../../src/config/worker-config.ts'
import { freshMariadbDatabase, freshPostgresDatabase } from '../../../helpers/databases.ts'
import { eventually } from '../../../helpers/rest.ts'
import { kafkaBootstrap, mariadbSkipReason, postgresSkipReason } from '../../../helpers/services.ts'

export interface SourceDatabase {
  jdbcUrl: string
  sql(...statements: string[]): Promise<unknown[]>
  drop(): Promise<void>
}

export interface Backend {
  name: 'PostgreSQL' | 'MariaDB' | 'SQLite'
  skip: string | false
  fresh(prefix: string): Promise<SourceDatabase>
  /** A table with the seed's `id` and `modified` columns plus a few typed ones. */
  createTable(table: string): string
  /** SQL for "the current time" in an UPDATE. */
  now: string
  /** How the catalog names the table in offsets (`public.t`, `db.t`, `t`). */
  qualified(db: SourceDatabase, table: string): string
}

export const backends: Backend[] = [
  {
    name: 'PostgreSQL',
    skip: postgresSkipReason(),
    fresh: (prefix) => freshPostgresDatabase(prefix),
    createTable: (t) =>
      `CREATE TABLE "${t}" (id SERIAL PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2), born DATE, ` +
      `active BOOLEAN, data BYTEA, modified TIMESTAMP(3) NOT NULL DEFAULT clock_timestamp())`,
    now: 'clock_timestamp()',
    qualified: (_db, t) => `public.${t}`,
  },
  {
    name: 'MariaDB',
    skip: mariadbSkipReason(),
    fresh: (prefix) => freshMariadbDatabase(prefix),
    createTable: (t) =>
      `CREATE TABLE \`${t}\` (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, price DECIMAL(10,2), ` +
      `born DATE, active BOOLEAN, data VARBINARY(100), modified DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), ` +
      'INDEX (modified))',
    now: 'CURRENT_TIMESTAMP(3)',
    qualified: (db, t) => `${new URL(db.jdbcUrl.slice(5)).pathname.slice(1)}.${t}`,
  },
  {
    name: 'SQLite',
    skip: false,
    fresh: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-jdbc-source-'))
      const path = join(dir, 'db.sqlite')
      return {
        jdbcUrl: `jdbc:sqlite:${path}`,
        async sql(...statements) {
          const db = new DatabaseSync(path)
          try {
            db.exec('PRAGMA busy_timeout = 5000')
            return statements.map((s) => (/^\s*select/i.test(s) ? db.prepare(s).all() : db.prepare(s).run()))
          } finally {
            db.close()
          }
        },
        async drop() {
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
    createTable: (t) =>
      `CREATE TABLE "${t}" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10,2), born DATE, ` +
      `active BOOLEAN, data BLOB, modified TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')))`,
    now: `strftime('%Y-%m-%d %H:%M:%f', 'now')`,
    qualified: (_db, t) => t,
  },
]

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex')
}

export interface KafkaWorker {
  worker: StandaloneWorker
  base: string
  close(): Promise<void>
}

/** A standalone worker on the test Kafka, JSON converters with schemas, offsets flushed often. */
export async function startKafkaWorker(props: Record<string, string> = {}): Promise<KafkaWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-jdbc-worker-'))
  const worker = await startStandalone(
    new WorkerConfig({
      'bootstrap.servers': kafkaBootstrap(),
      'sluice.data.dir': join(dir, 'data'),
      listeners: 'http://127.0.0.1:0',
      'offset.flush.interval.ms': '200',
      'log.level': 'error',
      ...props,
    }),
  )
  return {
    worker,
    base: `http://127.0.0.1:${worker.rest.port}`,
    async close() {
      await worker.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface Envelope {
  schema: {
    type: string
    name?: string
    optional: boolean
    fields: {
      field: string
      type: string
      optional: boolean
      name?: string
      parameters?: Record<string, string>
    }[]
  }
  payload: Record<string, unknown>
}

/** A reader of one topic from its start; `until` polls until enough records arrived. */
export class TopicReader {
  readonly #worker: StandaloneWorker
  readonly topic: string
  readonly records: { key: string | null; value: Envelope }[] = []
  #consumer: ReturnType<StandaloneWorker['log']['createConsumer']> | null = null

  constructor(worker: StandaloneWorker, topic: string) {
    this.#worker = worker
    this.topic = topic
  }

  async until(
    check: (records: TopicReader['records']) => boolean,
    timeoutMs = 30_000,
    what = `records in ${this.topic}`,
  ): Promise<TopicReader['records']> {
    if (!this.#consumer) {
      await eventually(
        async () =>
          (await this.#worker.log.describeTopics([this.topic])).has(this.topic) ? true : undefined,
        timeoutMs,
        `topic ${this.topic}`,
      )
      this.#consumer = this.#worker.log.createConsumer({
        groupId: `reader-${uniqueSuffix()}`,
        clientId: 'test-reader',
      })
      await this.#consumer.assign([{ topic: this.topic, partition: 0 }])
    }
    const deadline = Date.now() + timeoutMs
    while (!check(this.records)) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; got ${this.records.length}: ${JSON.stringify(this.records.map((r) => r.value.payload)).slice(0, 2000)}`,
        )
      }
      for (const r of await this.#consumer.poll(300)) {
        this.records.push({
          key: r.key === null ? null : Buffer.from(r.key).toString('utf8'),
          value: JSON.parse(Buffer.from(r.value!).toString('utf8')) as Envelope,
        })
      }
    }
    return this.records
  }

  async close(): Promise<void> {
    await this.#consumer?.close()
  }
}

/** The connector config the seed's "add a JDBC source" script produces, for one table and mode. */
export function seedConnectorConfig(
  db: SourceDatabase,
  table: string,
  mode: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
    'connection.url': db.jdbcUrl,
    'table.whitelist': table,
    mode,
    ...(mode.includes('timestamp') ? { 'timestamp.column.name': 'modified' } : {}),
    ...(mode.includes('incrementing') ? { 'incrementing.column.name': 'id' } : {}),
    'topic.prefix': 'postgres-',
    'poll.interval.ms': '200',
    'tasks.max': '1',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'true',
    'topic.creation.default.partitions': '1',
    'topic.creation.default.replication.factor': '1',
    ...extra,
  }
}
