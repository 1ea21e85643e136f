/**
 * Captures Debezium's events for the fixed change script of test/golden/debezium-postgres/script.ts
 * into test/golden/debezium-postgres/events.json: real Debezium (bench/jvm/debezium.ts) on Apache
 * Kafka Connect, on the test Kafka broker and PostgreSQL, JsonConverter with schemas. Run once (and
 * again when the script changes):
 *
 *   npx node bench/cdc-golden-capture.ts
 *
 * With `types`, the script of test/golden/debezium-postgres-types/ instead, once per variant of the
 * connector settings, into events-<variant>.json there:
 *
 *   npx node bench/cdc-golden-capture.ts types
 *
 * Needs SLUICE_TEST_KAFKA (default 127.0.0.1:19092) and SLUICE_TEST_POSTGRES.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { WorkerConfig } from '../src/config/worker-config.ts'
import { createLog } from '../src/log/create-log.ts'
import * as basic from '../test/golden/debezium-postgres/script.ts'
import * as types from '../test/golden/debezium-postgres-types/script.ts'
import { DEBEZIUM_VERSION, startDebeziumConnect } from './jvm/debezium.ts'
import { freePort } from './lib/cases.ts'
import { writeProperties } from './lib/properties-file.ts'

const bootstrap = process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092'
const serverUrl = process.env.SLUICE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:15432/postgres'
const golden = join(import.meta.dirname, '..', 'test', 'golden')

interface Script {
  GOLDEN_TABLES: string[]
  GOLDEN_EXTRA_TOPICS: string[]
  EXPECTED_RECORDS: number
  /** Records of the snapshot of `setup` (default 3). */
  SNAPSHOT_RECORDS?: number
  setup: string[]
  changes: string[]
}

if (process.argv[2] === 'types') {
  for (const [variant, props] of Object.entries(types.VARIANTS)) {
    await capture(types, props, join(golden, 'debezium-postgres-types', `events-${variant}.json`))
  }
} else {
  await capture(basic, {}, join(golden, 'debezium-postgres', 'events.json'))
}

async function capture(script: Script, props: Record<string, string>, target: string): Promise<void> {
  const { changes, EXPECTED_RECORDS, GOLDEN_EXTRA_TOPICS, GOLDEN_TABLES, setup } = script
  const suffix = randomBytes(4).toString('hex')
  const database = `golden_${suffix}`
  const slot = `golden_${suffix}`
  const prefix = `golden-${suffix}`
  const dir = mkdtempSync(join(tmpdir(), 'sluice-golden-'))

  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${database}`)
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  for (const statement of setup) await db.query(statement)

  const connector = writeProperties(
    join(dir, 'debezium.properties'),
    {
      name: 'golden',
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname': url.hostname,
      'database.port': url.port,
      'database.user': 'postgres',
      'database.dbname': database,
      'topic.prefix': prefix,
      'plugin.name': 'pgoutput',
      'slot.name': slot,
      'publication.name': `pub_${suffix}`,
      'table.include.list': GOLDEN_TABLES.join(','),
      'topic.creation.default.partitions': '1',
      'topic.creation.default.replication.factor': '1',
      ...props,
    },
    'Debezium PostgreSQL connector for the golden capture',
  )
  const worker = startDebeziumConnect({
    cwd: dir,
    worker: {
      'bootstrap.servers': bootstrap,
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'offset.storage.file.filename': join(dir, 'connect.offsets'),
      'offset.flush.interval.ms': 1000,
      listeners: `http://127.0.0.1:${await freePort()}`,
    },
    connectorFiles: [connector],
  })

  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': bootstrap }), 'golden-capture')
  const topics = [...GOLDEN_TABLES, ...GOLDEN_EXTRA_TOPICS].map((t) => `${prefix}.${t}`)
  const records: {
    topic: string
    key: string | null
    value: string | null
    headers: Record<string, string>
  }[] = []
  try {
    // Wait for the snapshot reads, run the changes, wait for every record, then read them all.
    const count = async (): Promise<number> => {
      const existing = new Set(await log.listTopics())
      const partitions = topics.filter((t) => existing.has(t)).map((topic) => ({ topic, partition: 0 }))
      if (partitions.length === 0) return 0
      let total = 0
      for (const end of (await log.endOffsets(partitions)).values()) total += end
      return total
    }
    const waitFor = async (n: number): Promise<void> => {
      const deadline = Date.now() + 180_000
      while ((await count()) < n) {
        if (worker.exit()) throw new Error(`Kafka Connect exited: ${worker.exit()}\n${worker.logTail(60)}`)
        if (Date.now() > deadline)
          throw new Error(`fewer than ${n} records after 180 s:\n${worker.logTail(40)}`)
        await new Promise((r) => setTimeout(r, 500))
      }
    }
    await waitFor(script.SNAPSHOT_RECORDS ?? 3)
    for (const statement of changes) await db.query(statement)
    await waitFor(EXPECTED_RECORDS)
    const consumer = log.createConsumer({ groupId: `golden-${suffix}`, clientId: 'golden-capture' })
    await consumer.assign(topics.map((topic) => ({ topic, partition: 0 })))
    for (const topic of topics) consumer.seek({ topic, partition: 0 }, 0)
    while (records.length < EXPECTED_RECORDS) {
      for (const r of await consumer.poll(1000)) {
        // Kept as text: int64 values beyond 2^53 must survive (the test parses them losslessly).
        const text = (b: Uint8Array | null): string | null =>
          b === null ? null : Buffer.from(b).toString('utf8')
        records.push({
          topic: r.topic.slice(prefix.length + 1),
          key: text(r.key),
          value: text(r.value),
          headers: Object.fromEntries(
            r.headers
              .filter((h) => h.key.startsWith('__debezium.old') || h.key.startsWith('__debezium.new'))
              .map((h) => [h.key, h.value === null ? '' : Buffer.from(h.value).toString('utf8')]),
          ),
        })
      }
    }
    await consumer.close()
    writeFileSync(
      target,
      `${JSON.stringify({ debezium: DEBEZIUM_VERSION, prefix, database, records }, null, 1)}\n`,
    )
    console.log(`wrote ${records.length} records to ${target}`)
  } finally {
    await worker.stop()
    await log.deleteTopics(topics).catch(() => {})
    for (let i = 0; i < 50; i++) {
      const { rows } = await admin.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [
        slot,
      ])
      if (rows.length === 0) break
      if (!rows[0].active) await admin.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => {})
      await new Promise((r) => setTimeout(r, 200))
    }
    await log.close()
    await db.end()
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`)
    await admin.end()
    rmSync(dir, { recursive: true, force: true })
  }
}
