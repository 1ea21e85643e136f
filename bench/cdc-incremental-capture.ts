/**
 * Incremental-snapshot handover between real Debezium (bench/jvm/debezium.ts on Kafka Connect) and
 * Sluice, both ways, on the same kind of table (a composite key of int8, date, numeric, varchar and
 * uuid), recorded into test/golden/debezium-postgres-incremental/handover.json for
 * test/connectors/postgres-cdc/incremental-offsets.test.ts:
 *
 *   1. Debezium → Sluice: Debezium runs an incremental snapshot and is stopped part-way; its stored
 *      offset (read from the standalone offsets file) and the rows it emitted are recorded. The test
 *      resumes Sluice from that offset.
 *   2. Sluice → Debezium: Sluice runs an incremental snapshot and is stopped part-way; its offset is
 *      written into Debezium's offsets file and Debezium started on the same slot. The rows Debezium
 *      then emits are recorded (they must be exactly the rest of the table).
 *
 *   npx node bench/cdc-incremental-capture.ts
 *
 * Needs SLUICE_TEST_KAFKA (default 127.0.0.1:19092) and SLUICE_TEST_POSTGRES.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { OffsetMap, SourceRecord } from '../src/api/records.ts'
import { WorkerConfig } from '../src/config/worker-config.ts'
import { PostgresCdcSourceTask } from '../src/connectors/postgres-cdc/source-task.ts'
import { createLog } from '../src/log/create-log.ts'
import { CHUNK_SIZE, ROWS, SIGNAL, TABLE_SETUP } from '../test/golden/debezium-postgres-incremental/script.ts'
import { DEBEZIUM_VERSION, startDebeziumConnect } from './jvm/debezium.ts'
import { freePort } from './lib/cases.ts'
import { writeProperties } from './lib/properties-file.ts'

const bootstrap = process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092'
const serverUrl = process.env.SLUICE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:15432/postgres'
const targetDir = join(import.meta.dirname, '..', 'test', 'golden', 'debezium-postgres-incremental')
const OFFSETS_PROGRAM = join(import.meta.dirname, 'jvm', 'OffsetsFile.java')

/** Reads after which each side is stopped. */
const STOP_AFTER = 45

const suffix = randomBytes(4).toString('hex')
const dir = mkdtempSync(join(tmpdir(), 'sluice-incremental-'))
const admin = new pg.Client({ connectionString: serverUrl })
await admin.connect()
const log = await createLog(new WorkerConfig({ 'bootstrap.servers': bootstrap }), 'incremental-capture')
const cleanups: (() => Promise<void>)[] = []

async function database(name: string): Promise<{ url: URL; client: pg.Client }> {
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  for (const statement of TABLE_SETUP) await client.query(statement)
  cleanups.push(async () => {
    await client.end()
    for (let i = 0; i < 50; i++) {
      const { rows } = await admin.query(
        `SELECT slot_name, active FROM pg_replication_slots WHERE database = $1`,
        [name],
      )
      if (rows.length === 0) break
      for (const r of rows) {
        if (!r.active) await admin.query('SELECT pg_drop_replication_slot($1)', [r.slot_name]).catch(() => {})
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`)
  })
  return { url, client }
}

function connectorProps(name: string, url: URL, prefix: string, slot: string): Record<string, string> {
  return {
    name,
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'database.hostname': url.hostname,
    'database.port': url.port,
    'database.user': 'postgres',
    'database.dbname': url.pathname.slice(1),
    'topic.prefix': prefix,
    'plugin.name': 'pgoutput',
    'slot.name': slot,
    'publication.name': `pub_${slot}`,
    'snapshot.mode': 'no_data',
    'signal.data.collection': 'public.debezium_signal',
    'incremental.snapshot.chunk.size': String(CHUNK_SIZE),
    'table.include.list': 'public.inc,public.debezium_signal',
    'topic.creation.default.partitions': '1',
    'topic.creation.default.replication.factor': '1',
  }
}

async function startDebezium(props: Record<string, string>, offsetsFile: string) {
  const connector = writeProperties(join(dir, `${props.name}.properties`), props, 'Debezium for the capture')
  return startDebeziumConnect({
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
}

/** Keys (`a`) of the `op: r` records on the table's topic so far. */
async function debeziumReads(topic: string): Promise<number[]> {
  if (!(await log.listTopics()).includes(topic)) return []
  const end = (await log.endOffsets([{ topic, partition: 0 }])).values().next().value ?? 0
  const consumer = log.createConsumer({
    groupId: `inc-${suffix}-${randomBytes(3).toString('hex')}`,
    clientId: 'c',
  })
  await consumer.assign([{ topic, partition: 0 }])
  consumer.seek({ topic, partition: 0 }, 0)
  const reads: number[] = []
  let seen = 0
  while (seen < end) {
    for (const r of await consumer.poll(1000)) {
      seen++
      if (r.value === null) continue
      const payload = JSON.parse(Buffer.from(r.value).toString('utf8')).payload
      if (payload.op === 'r') reads.push(payload.after.a)
    }
  }
  await consumer.close()
  return reads
}

async function until(
  what: string,
  check: () => Promise<boolean>,
  worker?: { exit(): string | undefined; logTail(n?: number): string },
): Promise<void> {
  const deadline = Date.now() + 180_000
  while (!(await check())) {
    if (worker?.exit()) throw new Error(`Kafka Connect exited: ${worker.exit()}\n${worker.logTail(60)}`)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${worker?.logTail(40) ?? ''}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

const slotActive = async (slot: string): Promise<boolean> =>
  (await admin.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot])).rows
    .length > 0

try {
  // 1. Debezium → Sluice.
  const one = await database(`inc1_${suffix}`)
  const prefix1 = `inc1-${suffix}`
  const slot1 = `inc1_${suffix}`
  const offsets1 = join(dir, 'one.offsets')
  let worker = await startDebezium(connectorProps('inc1', one.url, prefix1, slot1), offsets1)
  await until('Debezium streaming', () => slotActive(slot1), worker)
  await one.client.query(SIGNAL)
  const topic1 = `${prefix1}.public.inc`
  await until('Debezium reads', async () => (await debeziumReads(topic1)).length >= STOP_AFTER, worker)
  // Paused, its progress stays put while the worker stops (and commits the offsets of what it sent).
  await one.client.query(`INSERT INTO debezium_signal VALUES ('inc-pause', 'pause-snapshot', NULL)`)
  await new Promise((r) => setTimeout(r, 3000))
  await worker.stop(30_000)
  const stored = execFileSync('java', [OFFSETS_PROGRAM, 'read', offsets1], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.split('\t'))
    .find(([key]) => key.includes(prefix1))
  if (!stored) throw new Error('no offset stored by Debezium')
  const debeziumOffset = JSON.parse(stored[1]) as OffsetMap
  const readsBeforeStop = await debeziumReads(topic1)
  await log.deleteTopics((await log.listTopics()).filter((t) => t.startsWith(prefix1))).catch(() => {})

  // 2. Sluice → Debezium, on one slot.
  const two = await database(`inc2_${suffix}`)
  const prefix2 = `inc2-${suffix}`
  const slot2 = `inc2_${suffix}`
  const props2 = connectorProps('inc2', two.url, prefix2, slot2)
  const task = new PostgresCdcSourceTask()
  let sluiceOffset: OffsetMap | null = null
  task.initialize({
    configs: () => props2,
    offsetStorageReader: () => ({
      offset: async () => null,
      offsets: async (ps) => new Map(ps.map((p) => [p, null])),
    }),
  })
  await task.start(props2)
  await two.client.query(SIGNAL)
  const sluiceReads: number[] = []
  const deadline = Date.now() + 120_000
  while (sluiceReads.length < STOP_AFTER) {
    if (Date.now() > deadline) throw new Error('Sluice did not read enough rows')
    const batch: SourceRecord[] = (await task.poll()) ?? []
    for (const r of batch) {
      const value = r.value as { get(f: string): unknown } | null
      if (value && value.get('op') === 'r') {
        sluiceReads.push(Number((value.get('after') as { get(f: string): unknown }).get('a')))
      }
      sluiceOffset = r.sourceOffset ?? sluiceOffset
      await task.commitRecord(r, null)
      if (sluiceReads.length >= STOP_AFTER) break
    }
    if (batch.length > 0) await task.commit()
  }
  await task.stop()
  const offsets2 = join(dir, 'two.offsets')
  execFileSync('java', [OFFSETS_PROGRAM, 'write', offsets2], {
    input: `${JSON.stringify(['inc2', { server: prefix2 }])}\t${JSON.stringify(sluiceOffset)}\n`,
  })
  worker = await startDebezium(props2, offsets2)
  const topic2 = `${prefix2}.public.inc`
  await until(
    'Debezium finishing the snapshot',
    async () => (await debeziumReads(topic2)).includes(ROWS),
    worker,
  )
  await new Promise((r) => setTimeout(r, 3000))
  const debeziumAfterSluice = await debeziumReads(topic2)
  await worker.stop(30_000)
  await log.deleteTopics((await log.listTopics()).filter((t) => t.startsWith(prefix2))).catch(() => {})

  if (!existsSync(targetDir)) mkdirSync(targetDir, { recursive: true })
  const target = join(targetDir, 'handover.json')
  writeFileSync(
    target,
    `${JSON.stringify(
      {
        debezium: DEBEZIUM_VERSION,
        rows: ROWS,
        chunkSize: CHUNK_SIZE,
        debeziumToSluice: { offset: debeziumOffset, debeziumReads: readsBeforeStop },
        sluiceToDebezium: { offset: sluiceOffset, sluiceReads, debeziumReads: debeziumAfterSluice },
      },
      null,
      1,
    )}\n`,
  )
  console.log(`wrote ${target}`)
  console.log(
    `Debezium read ${readsBeforeStop.length} rows before its stop; Sluice read ${sluiceReads.length},`,
  )
  console.log(
    `then Debezium read ${debeziumAfterSluice.length}: ${debeziumAfterSluice.slice(0, 5).join(',')}…`,
  )
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(e))
  await log.close()
  await admin.end()
  rmSync(dir, { recursive: true, force: true })
}
