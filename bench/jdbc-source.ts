/**
 * JDBC source benchmark: PostgreSQL → Sluice's JdbcSourceConnector → Kafka.
 *
 *   npx node bench/jdbc-source.ts [--rows 5000000] [--batch 1000] [--cases bulk,incrementing,latency] [--gc-trace]
 *
 * - bulk / incrementing: a 10-column table of `--rows` rows (made once in the database
 *   `sluice_bench_jdbc` on the test PostgreSQL, reused by later runs) loaded into a fresh one-partition
 *   topic by the built CLI in standalone mode. Time = worker spawn → the topic's end offset reaches
 *   the row count (records counted in Kafka). RSS of the worker process tree sampled every 250 ms.
 * - latency: `poll.interval.ms=100`, incrementing mode; one INSERT every 50 ms carrying its wall-clock
 *   time in a column, a consumer on the topic takes the difference on arrival (same machine clock).
 *
 * `--gc-trace` runs the worker with `--trace-gc` and adds the V8 heap bytes it allocated per row from
 * the first record on, and its largest heap (bench/lib/gc-trace.ts).
 *
 * Needs the shared services (SLUICE_TEST_KAFKA / SLUICE_TEST_POSTGRES or the defaults below).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { Admin, Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka'
import pg from 'pg'
import { treeCpuSeconds } from './lib/cpu-time.ts'
import { gcSummary } from './lib/gc-trace.ts'
import { machineInfo } from './lib/machine.ts'
import { mib, treeRssBytes } from './lib/rss.ts'
import { startSluiceStandalone } from './lib/sluice.ts'
import { round } from './lib/stats.ts'
import { createTopics, deleteTopics } from './lib/topics.ts'

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    batch: { type: 'string', default: '1000' },
    cases: { type: 'string', default: 'bulk,incrementing,latency' },
    samples: { type: 'string', default: '400' },
    'gc-trace': { type: 'boolean', default: false },
  },
})
const ROWS = Number(args.rows)
const BATCH = Number(args.batch)
const bootstrap = process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092'
const pgServer = new URL(process.env.SLUICE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:15432/postgres')
const DATABASE = 'sluice_bench_jdbc'
const TABLE = `bench_rows_${ROWS}`
const dbUrl = new URL(pgServer)
dbUrl.pathname = `/${DATABASE}`
const jdbcUrl = `jdbc:postgresql://${pgServer.host}/${DATABASE}`

async function withClient<T>(url: URL, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** The 10-column table, made once (generate_series) and kept for later runs. */
async function ensureTable(): Promise<void> {
  await withClient(pgServer, async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])
    if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${DATABASE}`)
  })
  await withClient(dbUrl, async (c) => {
    const count = await c
      .query(`SELECT count(*)::int AS n FROM ${TABLE}`)
      .then((r) => r.rows[0].n as number)
      .catch(() => -1)
    if (count === ROWS) return
    console.log(`creating ${TABLE} with ${ROWS} rows…`)
    const started = performance.now()
    await c.query(`DROP TABLE IF EXISTS ${TABLE}`)
    await c.query(`CREATE TABLE ${TABLE} (
      id BIGSERIAL PRIMARY KEY, customer_id INT NOT NULL, quantity INT NOT NULL, status SMALLINT NOT NULL,
      price NUMERIC(12,2) NOT NULL, discount NUMERIC(5,2), sku TEXT NOT NULL, note TEXT,
      paid BOOLEAN NOT NULL, modified TIMESTAMP NOT NULL)`)
    await c.query(`INSERT INTO ${TABLE} (customer_id, quantity, status, price, discount, sku, note, paid, modified)
      SELECT g % 100000, g % 17, g % 5, (g % 100000) / 100.0, CASE WHEN g % 3 = 0 THEN NULL ELSE (g % 50) / 10.0 END,
             'SKU-' || lpad((g % 99999)::text, 6, '0'), CASE WHEN g % 2 = 0 THEN 'note for row ' || g END,
             g % 2 = 0, timestamp '2024-01-01' + g * interval '1 millisecond'
        FROM generate_series(1, ${ROWS}) g`)
    await c.query(`VACUUM ANALYZE ${TABLE}`)
    console.log(`  made in ${round((performance.now() - started) / 1000)} s`)
  })
}

async function endOffset(topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'bench-count', bootstrapBrokers: [bootstrap] })
  try {
    const listed = await admin.listOffsets({
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    })
    return Number(listed[0].partitions[0].offset)
  } finally {
    await admin.close()
  }
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  } catch {
    return 'unknown'
  }
}

interface LoadResult {
  mode: string
  rows: number
  seconds: number
  rowsPerSecond: number
  /** From the first record in the topic to the last: the rate once the worker is up. */
  steadyRowsPerSecond: number
  /** CPU seconds the worker used, and rows per CPU second (robust to other load on the machine). */
  cpuSeconds: number
  rowsPerCpuSecond: number
  rssMiB: { min: number; median: number; max: number }
  /** `--gc-trace`: V8 heap bytes allocated per row from the first record on, and the largest heap (MiB). */
  heap?: { bytesPerRow: number; peakCommittedMiB: number; scavenges: number; markCompacts: number }
  load: string
}

async function load(mode: 'bulk' | 'incrementing'): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), `bench-jdbc-${mode}-`))
  const prefix = `bench-jdbc-${mode}-${Date.now()}-`
  const topic = `${prefix}${TABLE}`
  await createTopics(bootstrap, [topic])
  const connectorFile = join(dir, 'jdbc.properties')
  writeFileSync(
    connectorFile,
    [
      `name=bench-jdbc-${mode}`,
      'connector.class=io.confluent.connect.jdbc.JdbcSourceConnector',
      `connection.url=${jdbcUrl}`,
      `connection.user=${pgServer.username || 'postgres'}`,
      `table.whitelist=${TABLE}`,
      `mode=${mode}`,
      ...(mode === 'incrementing' ? ['incrementing.column.name=id'] : []),
      `topic.prefix=${prefix}`,
      'poll.interval.ms=3600000',
      `batch.max.rows=${BATCH}`,
      'tasks.max=1',
      // JSON without the schema envelope: ~250 bytes a row instead of ~1 KB (5 GB for 5M rows on the shared broker).
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable=false',
    ].join('\n'),
  )
  const loadBefore = loadAverage()
  const nodeArgs = process.env.SLUICE_BENCH_NODE_ARGS
  if (args['gc-trace']) process.env.SLUICE_BENCH_NODE_ARGS = `${nodeArgs ?? ''} --trace-gc`
  const worker = startSluiceStandalone({
    cwd: dir,
    worker: {
      'bootstrap.servers': bootstrap,
      'sluice.data.dir': join(dir, 'data'),
      listeners: 'http://127.0.0.1:0',
      'offset.flush.interval.ms': 10_000,
      'log.level': 'warn',
    },
    connectorFiles: [connectorFile],
  })
  if (nodeArgs === undefined) delete process.env.SLUICE_BENCH_NODE_ARGS
  else process.env.SLUICE_BENCH_NODE_ARGS = nodeArgs
  const rss: number[] = []
  const sampler = setInterval(() => {
    const bytes = treeRssBytes(worker.pid)
    if (bytes > 0) rss.push(bytes)
  }, 250)
  let count = 0
  let first: { at: number; count: number } | undefined
  const deadline = Date.now() + 30 * 60_000
  try {
    while (count < ROWS) {
      if (worker.exit()) throw new Error(`worker exited (${worker.exit()}): ${worker.logTail(30)}`)
      if (Date.now() > deadline) throw new Error(`timed out at ${count} of ${ROWS}: ${worker.logTail(30)}`)
      await sleep(first ? 500 : 100)
      count = await endOffset(topic).catch(() => count)
      if (!first && count > 0) first = { at: performance.now(), count }
    }
  } finally {
    clearInterval(sampler)
  }
  const end = performance.now()
  const seconds = (end - worker.spawnedAt) / 1000
  const cpuSeconds = treeCpuSeconds(worker.pid)
  let heap: LoadResult['heap']
  if (args['gc-trace'] && first) {
    const gc = gcSummary(readFileSync(worker.logFile, 'utf8'), first.at - worker.spawnedAt)
    heap = {
      bytesPerRow: Math.round(gc.allocatedBytes / (count - first.count)),
      peakCommittedMiB: gc.peakCommittedMiB,
      scavenges: gc.scavenges,
      markCompacts: gc.markCompacts,
    }
  }
  await worker.stop()
  await deleteTopics(bootstrap, [topic])
  rmSync(dir, { recursive: true, force: true })
  const sorted = [...rss].sort((a, b) => a - b)
  return {
    mode,
    rows: count,
    seconds: round(seconds, 1),
    rowsPerSecond: Math.round(count / seconds),
    steadyRowsPerSecond: first ? Math.round((count - first.count) / ((end - first.at) / 1000)) : 0,
    cpuSeconds: round(cpuSeconds, 1),
    rowsPerCpuSecond: Math.round(count / cpuSeconds),
    rssMiB: {
      min: round(mib(sorted[0] ?? 0)),
      median: round(mib(sorted[Math.floor(sorted.length / 2)] ?? 0)),
      max: round(mib(sorted.at(-1) ?? 0)),
    },
    ...(heap ? { heap } : {}),
    load: `${loadBefore} → ${loadAverage()}`,
  }
}

async function latency(
  samples: number,
): Promise<{ samples: number; p50: number; p99: number; max: number; load: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-jdbc-latency-'))
  const table = `latency_${Date.now()}`
  const prefix = 'bench-jdbc-latency-'
  const topic = `${prefix}${table}`
  await withClient(dbUrl, (c) =>
    c.query(`CREATE TABLE ${table} (id BIGSERIAL PRIMARY KEY, sent_ms BIGINT NOT NULL, body TEXT NOT NULL)`),
  )
  await createTopics(bootstrap, [topic])
  const connectorFile = join(dir, 'jdbc.properties')
  writeFileSync(
    connectorFile,
    [
      'name=bench-jdbc-latency',
      'connector.class=io.confluent.connect.jdbc.JdbcSourceConnector',
      `connection.url=${jdbcUrl}`,
      `table.whitelist=${table}`,
      'mode=incrementing',
      `topic.prefix=${prefix}`,
      'poll.interval.ms=100',
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable=false',
    ].join('\n'),
  )
  const worker = startSluiceStandalone({
    cwd: dir,
    worker: {
      'bootstrap.servers': bootstrap,
      'sluice.data.dir': join(dir, 'data'),
      listeners: 'http://127.0.0.1:0',
      'offset.flush.interval.ms': 1000,
      'log.level': 'warn',
    },
    connectorFiles: [connectorFile],
  })
  const consumer = new Consumer({
    clientId: 'bench-latency',
    groupId: `bench-latency-${Date.now()}`,
    bootstrapBrokers: [bootstrap],
    deserializers: stringDeserializers,
    maxWaitTime: 20,
  })
  const latencies: number[] = []
  const loadBefore = loadAverage()
  const client = new pg.Client({ connectionString: dbUrl.toString() })
  await client.connect()
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.LATEST,
      maxWaitTime: 20,
    })
    const collecting = (async () => {
      for await (const message of stream) {
        const arrived = Date.now()
        const value = JSON.parse(message.value as string) as { sent_ms: number }
        latencies.push(arrived - value.sent_ms)
        if (latencies.length >= samples) break
      }
    })()
    // Warm-up: the connector is RUNNING and its first poll happened once a first row arrives.
    await sleep(3000)
    for (let i = 0; i < samples + 20 && latencies.length < samples; i++) {
      await client.query(`INSERT INTO ${table} (sent_ms, body) VALUES ($1, 'x')`, [Date.now()])
      await sleep(50)
    }
    await Promise.race([collecting, sleep(30_000)])
    await stream.close()
  } finally {
    await client.query(`DROP TABLE ${table}`).catch(() => {})
    await client.end()
    await consumer.close(true)
    await worker.stop()
    await deleteTopics(bootstrap, [topic])
    rmSync(dir, { recursive: true, force: true })
  }
  // Drop the first samples: rows inserted before the consumer/worker were warm.
  const measured = latencies.slice(10).sort((a, b) => a - b)
  const pct = (p: number) => measured[Math.min(measured.length - 1, Math.floor((p / 100) * measured.length))]
  return {
    samples: measured.length,
    p50: pct(50),
    p99: pct(99),
    max: measured.at(-1) ?? 0,
    load: `${loadBefore} → ${loadAverage()}`,
  }
}

const cases = args.cases.split(',')
console.log(JSON.stringify({ machine: machineInfo(), rows: ROWS, batch: BATCH }, null, 2))
if (cases.some((c) => ['bulk', 'incrementing', 'prepare'].includes(c))) await ensureTable()
for (const mode of ['bulk', 'incrementing'] as const) {
  if (!cases.includes(mode)) continue
  const result = await load(mode)
  console.log(JSON.stringify(result))
}
if (cases.includes('latency')) console.log(JSON.stringify(await latency(Number(args.samples))))
