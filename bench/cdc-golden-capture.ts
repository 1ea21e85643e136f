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
 * With `signals`, the phases of test/golden/debezium-postgres-signals/ (signal-table and Kafka-channel
 * incremental snapshots, a blocking snapshot, transaction metadata, heartbeats), with the offsets
 * Debezium stored after each phase, into events.json there:
 *
 *   npx node bench/cdc-golden-capture.ts signals
 *
 * Needs SLUICE_TEST_KAFKA (default 127.0.0.1:19092) and SLUICE_TEST_POSTGRES.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { WorkerConfig } from '../src/config/worker-config.ts'
import { createLog } from '../src/log/create-log.ts'
import { parseTpKey } from '../src/log/log.ts'
import * as basic from '../test/golden/debezium-postgres/script.ts'
import * as signals from '../test/golden/debezium-postgres-signals/script.ts'
import * as types from '../test/golden/debezium-postgres-types/script.ts'
import { DEBEZIUM_VERSION, startDebeziumConnect } from './jvm/debezium.ts'
import { freePort } from './lib/cases.ts'
import { writeProperties } from './lib/properties-file.ts'
import { dropSlotWhenInactive } from './lib/replication-slot.ts'

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
} else if (process.argv[2] === 'signals') {
  await captureSignals()
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
    await dropSlotWhenInactive(admin, slot)
    await log.close()
    await db.end()
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`)
    await admin.end()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The phases of the signals script, one after the other: each runs, then the capture waits until
 * the record counts of every topic stop growing (6 s without a new record) and, where the phase asks,
 * until Debezium has flushed its offsets, which it reads from the standalone offsets file.
 */
async function captureSignals(): Promise<void> {
  const suffix = randomBytes(4).toString('hex')
  const database = `golden_${suffix}`
  const slot = `golden_${suffix}`
  const prefix = `golden-${suffix}`
  const signalTopic = `${prefix}-signal`
  const heartbeatTopic = `__debezium-heartbeat.${prefix}`
  const dir = mkdtempSync(join(tmpdir(), 'sluice-golden-'))
  const offsetsFile = join(dir, 'connect.offsets')
  const offsetsProgram = join(import.meta.dirname, 'jvm', 'OffsetsFile.java')

  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${database}`)
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  for (const statement of signals.setup) await db.query(statement)

  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': bootstrap }), 'golden-capture')
  await log.createTopics([{ name: signalTopic, partitions: 1, replicationFactor: 1, configs: {} }])
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
      'topic.creation.default.partitions': '1',
      'topic.creation.default.replication.factor': '1',
      ...signals.PROPS,
      'signal.kafka.topic': signalTopic,
      'signal.kafka.bootstrap.servers': bootstrap,
      'signal.kafka.groupId': `golden-signal-${suffix}`,
    },
    'Debezium PostgreSQL connector for the golden capture (signals)',
  )
  const worker = startDebeziumConnect({
    cwd: dir,
    worker: {
      'bootstrap.servers': bootstrap,
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'offset.storage.file.filename': offsetsFile,
      'offset.flush.interval.ms': 1000,
      listeners: `http://127.0.0.1:${await freePort()}`,
    },
    connectorFiles: [connector],
  })

  const isData = (t: string): boolean => t.startsWith(`${prefix}.`)
  const counts = async (): Promise<Record<string, number>> => {
    const existing = (await log.listTopics()).filter(isData).sort()
    if (existing.length === 0) return {}
    const ends = await log.endOffsets(existing.map((topic) => ({ topic, partition: 0 })))
    return Object.fromEntries(
      [...ends].map(([tp, end]) => [parseTpKey(tp).topic.slice(prefix.length + 1), end] as const),
    )
  }
  const total = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0)
  const settle = async (atLeast: number): Promise<Record<string, number>> => {
    const deadline = Date.now() + 180_000
    let last = await counts()
    let since = Date.now()
    for (;;) {
      if (worker.exit()) throw new Error(`Kafka Connect exited: ${worker.exit()}\n${worker.logTail(60)}`)
      if (Date.now() > deadline) throw new Error(`no quiet after 180 s: ${JSON.stringify(last)}`)
      await new Promise((r) => setTimeout(r, 500))
      const now = await counts()
      if (JSON.stringify(now) !== JSON.stringify(last)) {
        last = now
        since = Date.now()
      } else if (total(now) >= atLeast && Date.now() - since > 6000) return now
    }
  }
  const storedOffset = (): unknown => {
    const line = execFileSync('java', [offsetsProgram, 'read', offsetsFile], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .find(([key]) => key.includes(prefix))
    return line ? JSON.parse(line[1]) : null
  }

  const phases: { name: string; counts: Record<string, number>; offset?: unknown }[] = []
  const records: {
    topic: string
    key: string | null
    value: string | null
    headers: Record<string, string>
  }[] = []
  try {
    let before = await settle(signals.SNAPSHOT_RECORDS)
    phases.push({ name: 'initial snapshot', counts: before })
    for (const phase of signals.PHASES) {
      if ('sql' in phase) {
        for (const statement of phase.sql) await db.query(statement)
      } else {
        const producer = log.createProducer({ clientId: 'golden-capture' })
        await producer.send([
          {
            topic: signalTopic,
            partition: 0,
            key: Buffer.from(prefix),
            value: Buffer.from(JSON.stringify(phase.kafkaSignal)),
          },
        ])
        await producer.close()
      }
      const after = await settle(total(before) + 1)
      // Offsets are flushed every second; the quiet period above already waited several flushes.
      phases.push({ name: phase.name, counts: after, ...(phase.offset ? { offset: storedOffset() } : {}) })
      console.log(`${phase.name}: ${JSON.stringify(after)}`)
      before = after
    }
    const consumer = log.createConsumer({ groupId: `golden-${suffix}`, clientId: 'golden-capture' })
    const topics = Object.keys(before).map((t) => `${prefix}.${t}`)
    const wanted = total(before) + 1
    const all = [...topics, heartbeatTopic]
    await consumer.assign(all.map((topic) => ({ topic, partition: 0 })))
    for (const topic of all) consumer.seek({ topic, partition: 0 }, 0)
    let heartbeats = 0
    const deadline = Date.now() + 60_000
    while (records.length < wanted) {
      if (Date.now() > deadline) throw new Error(`read ${records.length} of ${wanted} records`)
      for (const r of await consumer.poll(1000)) {
        if (r.topic === heartbeatTopic && heartbeats++ > 0) continue
        const text = (b: Uint8Array | null): string | null =>
          b === null ? null : Buffer.from(b).toString('utf8')
        records.push({
          topic: r.topic === heartbeatTopic ? '__debezium-heartbeat' : r.topic.slice(prefix.length + 1),
          key: text(r.key),
          value: text(r.value),
          headers: Object.fromEntries(
            r.headers.map((h) => [h.key, h.value === null ? '' : Buffer.from(h.value).toString('utf8')]),
          ),
        })
      }
    }
    await consumer.close()
    const target = join(golden, 'debezium-postgres-signals', 'events.json')
    writeFileSync(
      target,
      `${JSON.stringify({ debezium: DEBEZIUM_VERSION, prefix, database, phases, records }, null, 1)}\n`,
    )
    console.log(`wrote ${records.length} records to ${target}`)
  } finally {
    await worker.stop()
    const mine = (await log.listTopics()).filter((t) => t.includes(prefix))
    await log.deleteTopics(mine).catch(() => {})
    await dropSlotWhenInactive(admin, slot)
    await log.close()
    await db.end()
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`)
    await admin.end()
    rmSync(dir, { recursive: true, force: true })
  }
}
