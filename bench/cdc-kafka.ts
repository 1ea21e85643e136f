/**
 * PostgreSQL → Kafka change data capture, Sluice side by side with Debezium's PostgreSQL connector on
 * Apache Kafka Connect (bench/jvm/debezium.ts), same machine, same database server, same broker, same
 * converters (JsonConverter without schemas), counted at the destination (topic end offsets).
 *
 *   npm run build && npx node bench/cdc-kafka.ts [--cases sluice,debezium] [--rows 200000]
 *       [--rate 5000] [--latency-seconds 20] [--snapshot-rows 1000000]
 *
 * Cases `sluice` and `debezium` run standalone workers with file offsets. `sluice-dist`, `sluice-eos`,
 * `debezium-dist` and `debezium-eos` run one distributed worker each (own group.id and internal
 * topics, the connector created over REST) with `exactly.once.source.support` disabled (`-dist`) or
 * enabled (`-eos`, default `transaction.boundary=poll`); their events are counted by a
 * `read_committed` consumer (end offsets would count transaction markers), and their latency is also
 * given as commit → visible to that consumer, which is what exactly-once delays.
 *
 * Three phases per case, each on a fresh database:
 *   throughput  `--rows` INSERTs (10-column table, transactions of 10,000 rows), then UPDATEs of a
 *               quarter and DELETEs of a tenth (+ tombstones); events/s from the start of the writes to
 *               the last event in Kafka.
 *   latency     INSERTs at `--rate` rows/s (every 20 ms) for `--latency-seconds`; per event, Kafka's
 *               record timestamp (producer send time) minus `source.ts_ms` (commit time): p50/p99.
 *   snapshot    `--snapshot-rows` rows preloaded, `snapshot.mode=initial_only`: rows/s into Kafka, peak RSS.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { WorkerConfig } from '../src/config/worker-config.ts'
import { createLog } from '../src/log/create-log.ts'
import type { Log } from '../src/log/log.ts'
import { DEBEZIUM_VERSION, startDebeziumConnect, startDebeziumConnectDistributed } from './jvm/debezium.ts'
import { freePort } from './lib/cases.ts'
import { treeCpuSeconds } from './lib/cpu-time.ts'
import { machineInfo } from './lib/machine.ts'
import { distributedGroupKeys, writeProperties } from './lib/properties-file.ts'
import { dropSlotWhenInactive } from './lib/replication-slot.ts'
import { mib, RssSampler } from './lib/rss.ts'
import { startSluiceDistributed, startSluiceStandalone } from './lib/sluice.ts'
import type { WorkerProcess } from './lib/worker-process.ts'

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: 'sluice,debezium' },
    rows: { type: 'string', default: '200000' },
    rate: { type: 'string', default: '5000' },
    'latency-seconds': { type: 'string', default: '20' },
    'snapshot-rows': { type: 'string', default: '1000000' },
    phases: { type: 'string', default: 'throughput,latency,snapshot' },
  },
})
const bootstrap = process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092'
const serverUrl = process.env.SLUICE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:15432/postgres'
const TABLE = `CREATE TABLE bench (id bigint PRIMARY KEY, a int, b bigint, c text, d numeric(12,2),
  e timestamptz, f boolean, g uuid, h jsonb, i date)`
const rows = (from: number, to: number): string =>
  `INSERT INTO bench SELECT g, g % 1000, g * 7, 'name-' || g, g / 100.0, now(), g % 2 = 0,
     gen_random_uuid(), jsonb_build_object('k', g), current_date FROM generate_series(${from}, ${to}) g`

type CaseName = 'sluice' | 'debezium' | 'sluice-dist' | 'sluice-eos' | 'debezium-dist' | 'debezium-eos'

const distributed = (name: CaseName): boolean => name.endsWith('-dist') || name.endsWith('-eos')

interface Env {
  db: pg.Client
  database: string
  url: URL
  prefix: string
  slot: string
  dir: string
}

async function withDatabase<T>(fn: (env: Env) => Promise<T>): Promise<T> {
  const suffix = randomBytes(4).toString('hex')
  const database = `cdcbench_${suffix}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${database}`)
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  await db.query(TABLE)
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cdc-bench-'))
  const env = { db, database, url, prefix: `cdcbench-${suffix}`, slot: `cdcbench_${suffix}`, dir }
  try {
    return await fn(env)
  } finally {
    await dropSlotWhenInactive(admin, env.slot, 100)
    await db.end()
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`)
    await admin.end()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function startCase(name: CaseName, env: Env, snapshotMode: string): Promise<WorkerProcess> {
  const connectorConfig = {
    name: 'cdc-bench',
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'database.hostname': env.url.hostname,
    'database.port': env.url.port,
    'database.user': 'postgres',
    'database.dbname': env.database,
    'topic.prefix': env.prefix,
    'plugin.name': 'pgoutput',
    'slot.name': env.slot,
    'publication.name': env.slot,
    'snapshot.mode': snapshotMode,
    'table.include.list': 'public.bench',
    'topic.creation.default.partitions': '1',
    'topic.creation.default.replication.factor': '1',
    // SLUICE_BENCH_CONNECTOR_PROPS: extra connector keys, e.g. `max.batch.size=512,snapshot.fetch.size=2048`.
    ...Object.fromEntries(
      (process.env.SLUICE_BENCH_CONNECTOR_PROPS ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
  }
  const port = await freePort()
  const worker = {
    'bootstrap.servers': bootstrap,
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': 'false',
    'value.converter.schemas.enable': 'false',
    'offset.flush.interval.ms': 1000,
    listeners: `http://127.0.0.1:${port}`,
  }
  if (distributed(name)) {
    const group = `${env.prefix}-${name}`
    const distributedWorker = {
      ...worker,
      ...distributedGroupKeys(group),
      'exactly.once.source.support': name.endsWith('-eos') ? 'enabled' : 'disabled',
    }
    const process = name.startsWith('debezium')
      ? startDebeziumConnectDistributed({ cwd: env.dir, worker: distributedWorker })
      : startSluiceDistributed({
          cwd: env.dir,
          worker: { ...distributedWorker, 'sluice.data.dir': join(env.dir, 'data'), 'log.level': 'warn' },
        })
    await createOverRest(`http://127.0.0.1:${port}`, connectorConfig, process)
    return process
  }
  const connector = writeProperties(
    join(env.dir, 'connector.properties'),
    connectorConfig,
    'connector for bench/cdc-kafka.ts',
  )
  const standalone = { ...worker, 'offset.storage.file.filename': join(env.dir, 'connect.offsets') }
  if (name === 'debezium')
    return startDebeziumConnect({ cwd: env.dir, worker: standalone, connectorFiles: [connector] })
  return startSluiceStandalone({
    cwd: env.dir,
    worker: { ...standalone, 'sluice.data.dir': join(env.dir, 'data'), 'log.level': 'warn' },
    connectorFiles: [connector],
  })
}

/** POST /connectors once the worker serves REST and has joined its group (409 while it rebalances). */
async function createOverRest(
  url: string,
  config: Record<string, string>,
  worker: WorkerProcess,
): Promise<void> {
  const deadline = Date.now() + 180_000
  for (;;) {
    if (worker.exit()) throw new Error(`worker exited: ${worker.exit()}\n${worker.logTail(30)}`)
    const res = await fetch(`${url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: config.name, config }),
    }).catch(() => null)
    if (res?.status === 201) return
    if (Date.now() > deadline)
      throw new Error(`creating the connector: ${res?.status} ${await res?.text()}\n${worker.logTail(30)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/**
 * Counts a topic's records as a `read_committed` consumer sees them, from offset 0, noting for each
 * the moment it arrived and, when `lag` is set, arrival minus `source.ts_ms` and Kafka timestamp
 * minus `source.ts_ms`.
 */
class CommittedCounter {
  count = 0
  readonly visibleLags: number[] = []
  readonly sendLags: number[] = []
  lag = false
  readonly #consumer: ReturnType<Log['createConsumer']>
  #stopped = false
  #loop: Promise<void> = Promise.resolve()

  constructor(log: Log, topic: string) {
    const consumer = log.createConsumer({
      groupId: `cdcbench-${randomBytes(4).toString('hex')}`,
      clientId: 'cdc-bench-counter',
      isolationLevel: 'read_committed',
    })
    this.#consumer = consumer
    this.#loop = (async () => {
      await consumer.assign([{ topic, partition: 0 }])
      consumer.seek({ topic, partition: 0 }, 0)
      while (!this.#stopped) {
        const records = await consumer.poll(200)
        const now = Date.now()
        this.count += records.length
        if (!this.lag) continue
        for (const r of records) {
          if (r.value === null) continue
          const value = JSON.parse(Buffer.from(r.value).toString('utf8')) as { source?: { ts_ms: number } }
          if (value.source === undefined) continue
          this.visibleLags.push(now - value.source.ts_ms)
          this.sendLags.push(r.timestamp - value.source.ts_ms)
        }
      }
    })()
  }

  /** Resolves once the count has not moved for `quietMs`. */
  async settled(quietMs = 1500): Promise<number> {
    let last = -1
    while (last !== this.count) {
      last = this.count
      await new Promise((r) => setTimeout(r, quietMs))
    }
    return this.count
  }

  async close(): Promise<void> {
    this.#stopped = true
    await this.#loop.catch(() => {})
    await this.#consumer.close()
  }
}

async function topicCount(log: Log, topic: string): Promise<number> {
  if (!(await log.listTopics()).includes(topic)) return 0
  let total = 0
  for (const end of (await log.endOffsets([{ topic, partition: 0 }])).values()) total += end
  return total
}

async function waitForCount(
  counted: () => Promise<number> | number,
  n: number,
  worker: WorkerProcess,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const count = await counted()
    if (count >= n) return performance.now()
    if (worker.exit()) throw new Error(`worker exited: ${worker.exit()}\n${worker.logTail(30)}`)
    if (Date.now() > deadline)
      throw new Error(`${count} of ${n} events after ${timeoutMs} ms\n${worker.logTail(30)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Streams until a probe row arrives: the slot exists and the pipeline runs. */
async function waitUntilStreaming(env: Env, log: Log, topic: string, worker: WorkerProcess): Promise<void> {
  const deadline = Date.now() + 180_000
  let probe = 0
  while ((await topicCount(log, topic)) === 0) {
    if (worker.exit()) throw new Error(`worker exited: ${worker.exit()}\n${worker.logTail(30)}`)
    if (Date.now() > deadline) throw new Error(`no event after 180 s\n${worker.logTail(30)}`)
    await env.db.query(`INSERT INTO bench (id) VALUES (${--probe})`)
    await new Promise((r) => setTimeout(r, 1000))
  }
  await new Promise((r) => setTimeout(r, 2000))
}

/** How a case's events are counted: topic end offsets, or a read_committed consumer (distributed cases). */
async function counting(
  name: CaseName,
  log: Log,
  topic: string,
): Promise<{ count: () => Promise<number> | number; counter: CommittedCounter | null }> {
  if (!distributed(name)) return { count: () => topicCount(log, topic), counter: null }
  const counter = new CommittedCounter(log, topic)
  await counter.settled()
  return { count: () => counter.count, counter }
}

/** The internal topics of a distributed case's worker. */
function internalTopics(name: CaseName, env: Env): string[] {
  if (!distributed(name)) return []
  return ['configs', 'offsets', 'status'].map((t) => `${env.prefix}-${name}-${t}`)
}

async function throughput(name: CaseName, log: Log, n: number): Promise<string> {
  return withDatabase(async (env) => {
    const topic = `${env.prefix}.public.bench`
    const worker = await startCase(name, env, 'no_data')
    const rss = new RssSampler(worker.pid)
    let counter: CommittedCounter | null = null
    try {
      await waitUntilStreaming(env, log, topic, worker)
      const counted = await counting(name, log, topic)
      counter = counted.counter
      const base = await counted.count()
      const cpuBefore = treeCpuSeconds(worker.pid)
      const started = performance.now()
      for (let from = 1; from <= n; from += 10_000) await env.db.query(rows(from, Math.min(n, from + 9_999)))
      await env.db.query('UPDATE bench SET a = a + 1 WHERE id > 0 AND id % 4 = 0')
      await env.db.query('DELETE FROM bench WHERE id > 0 AND id % 10 = 0')
      const writesDone = performance.now()
      const expected = base + n + Math.floor(n / 4) + 2 * Math.floor(n / 10)
      const ended = await waitForCount(counted.count, expected, worker, 900_000)
      const cpu = treeCpuSeconds(worker.pid) - cpuBefore
      const events = expected - base
      const seconds = (ended - started) / 1000
      const peak = rss.stop().peakBytes
      return `| ${name} | throughput | ${events} events | ${seconds.toFixed(1)} s (writes took ${((writesDone - started) / 1000).toFixed(1)} s) | **${Math.round(events / seconds)} events/s** | ${mib(peak)} MiB | ${loadavg()[0].toFixed(1)} | worker ${cpu.toFixed(1)} CPU-s = **${((cpu * 1e6) / events).toFixed(1)} CPU-s per million events** |`
    } finally {
      rss.stop()
      await counter?.close()
      await worker.stop()
      await log.deleteTopics([topic, ...internalTopics(name, env)]).catch(() => {})
    }
  })
}

async function latency(name: CaseName, log: Log, rate: number, seconds: number): Promise<string> {
  return withDatabase(async (env) => {
    const topic = `${env.prefix}.public.bench`
    const worker = await startCase(name, env, 'no_data')
    let counter: CommittedCounter | null = null
    try {
      await waitUntilStreaming(env, log, topic, worker)
      const counted = await counting(name, log, topic)
      counter = counted.counter
      if (counter) counter.lag = true
      const base = await counted.count()
      const perTick = Math.round(rate / 50)
      const ticks = seconds * 50
      const t0 = performance.now()
      for (let tick = 0; tick < ticks; tick++) {
        const from = 1 + tick * perTick
        await env.db.query(rows(from, from + perTick - 1))
        const next = t0 + (tick + 1) * 20
        const wait = next - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      }
      const achieved = (ticks * perTick) / ((performance.now() - t0) / 1000)
      await waitForCount(counted.count, base + ticks * perTick, worker, 300_000)
      const q = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]
      if (counter) {
        const visible = [...counter.visibleLags].sort((a, b) => a - b)
        const sent = [...counter.sendLags].sort((a, b) => a - b)
        return `| ${name} | latency at ${Math.round(achieved)} rows/s for ${seconds} s | ${visible.length} events | commit → visible to read_committed p50 ${q(visible, 0.5)} ms, **p99 ${q(visible, 0.99)} ms**, max ${visible.at(-1)} ms; commit → producer send p99 ${q(sent, 0.99)} ms | | | ${loadavg()[0].toFixed(1)} |`
      }
      const consumer = log.createConsumer({
        groupId: `cdcbench-${randomBytes(4).toString('hex')}`,
        clientId: 'cdc-bench',
      })
      await consumer.assign([{ topic, partition: 0 }])
      consumer.seek({ topic, partition: 0 }, base)
      const lags: number[] = []
      while (lags.length < ticks * perTick) {
        for (const r of await consumer.poll(1000)) {
          if (r.value === null) continue
          const value = JSON.parse(Buffer.from(r.value).toString('utf8')) as { source: { ts_ms: number } }
          lags.push(r.timestamp - value.source.ts_ms)
        }
      }
      await consumer.close()
      lags.sort((a, b) => a - b)
      return `| ${name} | latency at ${Math.round(achieved)} rows/s for ${seconds} s | ${lags.length} events | commit → Kafka p50 ${q(lags, 0.5)} ms, **p99 ${q(lags, 0.99)} ms**, max ${lags[lags.length - 1]} ms | | | ${loadavg()[0].toFixed(1)} |`
    } finally {
      await counter?.close()
      await worker.stop()
      await log.deleteTopics([topic, ...internalTopics(name, env)]).catch(() => {})
    }
  })
}

async function snapshot(name: CaseName, log: Log, n: number): Promise<string> {
  return withDatabase(async (env) => {
    const topic = `${env.prefix}.public.bench`
    for (let from = 1; from <= n; from += 100_000) await env.db.query(rows(from, Math.min(n, from + 99_999)))
    await env.db.query('VACUUM ANALYZE bench')
    const started = performance.now()
    const worker = await startCase(name, env, 'initial_only')
    const rss = new RssSampler(worker.pid)
    // "Memory flat": RSS at each quarter of the run shows whether it grows with the rows read.
    const timeline: number[] = []
    const tick = setInterval(() => timeline.push(rss.sample()), 500)
    try {
      const ended = await waitForCount(() => topicCount(log, topic), n, worker, 1_800_000)
      const seconds = (ended - started) / 1000
      const peak = rss.stop().peakBytes
      const cpu = treeCpuSeconds(worker.pid)
      const quarters = [0.25, 0.5, 0.75, 1].map((q) =>
        mib(timeline[Math.max(0, Math.ceil(q * timeline.length) - 1)] ?? 0),
      )
      await log.deleteTopics([topic]).catch(() => {})
      return `| ${name} | snapshot (initial_only) | ${n} rows | ${seconds.toFixed(1)} s incl. worker start | **${Math.round(n / seconds)} rows/s** | ${mib(peak)} MiB (at ¼ ½ ¾ end: ${quarters.join(' / ')}) | ${loadavg()[0].toFixed(1)} | worker CPU ${cpu.toFixed(1)} s = ${Math.round(n / cpu)} rows per CPU-second |`
    } finally {
      clearInterval(tick)
      rss.stop()
      await worker.stop()
    }
  })
}

const machine = machineInfo()
console.log(`machine: ${JSON.stringify(machine)}; Debezium ${DEBEZIUM_VERSION}`)
console.log('| case | phase | volume | time | rate | peak RSS | load avg |')
console.log('|---|---|---|---|---|---|---|')
const log = await createLog(new WorkerConfig({ 'bootstrap.servers': bootstrap }), 'cdc-bench')
try {
  const phases = values.phases!.split(',')
  for (const name of values.cases!.split(',') as CaseName[]) {
    if (phases.includes('throughput')) console.log(await throughput(name, log, Number(values.rows)))
    if (phases.includes('latency'))
      console.log(await latency(name, log, Number(values.rate), Number(values['latency-seconds'])))
    if (phases.includes('snapshot')) console.log(await snapshot(name, log, Number(values['snapshot-rows'])))
  }
} finally {
  await log.close()
}
