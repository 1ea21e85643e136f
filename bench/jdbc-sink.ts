/**
 * JDBC sink throughput: 1,000,000 records (10 fields, JsonConverter with schemas, struct key) upserted
 * from one Kafka topic into a table the connector auto-creates, side by side on one machine:
 *
 *   sluice-pg-copy     Sluice, PostgreSQL, COPY into a temporary table + INSERT … SELECT … ON CONFLICT (default)
 *   sluice-pg-values   Sluice, PostgreSQL, multi-row INSERT … VALUES … ON CONFLICT
 *   sluice-pg-avro     Sluice, PostgreSQL, COPY, the same records in Avro (Confluent's AvroConverter wire
 *                      format; schemas in the registry at SLUICE_BENCH_REGISTRY, else SLUICE_TEST_APICURIO)
 *   sluice-mariadb     Sluice, MariaDB, multi-row INSERT … ON DUPLICATE KEY UPDATE
 *   debezium-pg        Debezium's JDBC sink (Maven Central) on Apache Kafka Connect 4.3.1, PostgreSQL
 *   debezium-mariadb   the same into MariaDB
 *
 *   npx node bench/jdbc-sink.ts [--records 1000000] [--cases a,b,…] [--timeout-ms 900000] [--keep] [--gc-trace]
 *
 * The records are produced once; each case is a connector of its own (its own consumer group) reading
 * the topic from the start into a fresh database, `tasks.max=1`, `insert.mode=upsert` on the record key,
 * default batch sizes (the consumer's 500 records per poll caps both). Rows are counted in the table: a
 * case ends when `count(*)` reaches the number of records. Throughput = records / (first row → last
 * row); also from spawn. Worker CPU and peak RSS are of the worker's process tree. `--gc-trace` runs
 * the Sluice workers with `--trace-gc` and adds the V8 heap bytes they allocated per record from the
 * first row on (bench/lib/gc-trace.ts). Prints a Markdown table and writes the JSON to
 * bench/out/jdbc-sink-<time>.json.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { ensureKafka } from '../scripts/kafka.ts'
import { AvroConverter } from '../src/converters/avro-converter.ts'
import { JsonConverter } from '../src/converters/json-converter.ts'
import { startConnectStandalone } from './jvm/connect.ts'
import { DEBEZIUM_VERSION, resolveDebeziumJdbc } from './jvm/debezium-jdbc.ts'
import { betPayload, KEY_SCHEMA, VALUE_SCHEMA } from './lib/bet-records.ts'
import { freePort } from './lib/cases.ts'
import { treeCpuSeconds } from './lib/cpu-time.ts'
import { gcSummary } from './lib/gc-trace.ts'
import { machineInfo } from './lib/machine.ts'
import { writeProperties } from './lib/properties-file.ts'
import { sluiceRevision } from './lib/revision.ts'
import { startSluiceStandalone } from './lib/sluice.ts'
import { round } from './lib/stats.ts'
import { createTopics, deleteTopics, produceRecords } from './lib/topics.ts'
import { measureDrain, type WorkerProcess } from './lib/worker-process.ts'

const CASES = [
  'sluice-pg-copy',
  'sluice-pg-values',
  'sluice-pg-avro',
  'sluice-mariadb',
  'debezium-pg',
  'debezium-mariadb',
] as const
type CaseName = (typeof CASES)[number]

const PG = new URL(process.env.SLUICE_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:15432/postgres')
const MARIADB = new URL(process.env.SLUICE_BENCH_MARIADB ?? 'mysql://root@127.0.0.1:3306')
const REGISTRY =
  process.env.SLUICE_BENCH_REGISTRY ??
  process.env.SLUICE_TEST_APICURIO ??
  'http://127.0.0.1:8080/apis/ccompat/v7'

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

const keyHead = `{"schema":${JSON.stringify(KEY_SCHEMA)},"payload":{"id":`
const valueHead = `{"schema":${JSON.stringify(VALUE_SCHEMA)},"payload":`

/**
 * The records in Avro: each JSON record read with JsonConverter and written with the AvroConverter
 * (schemas registered under `<topic>-key` / `<topic>-value`), so both topics hold the same data.
 */
async function avroRecords(
  topic: string,
): Promise<(key: Buffer, value: Buffer) => Promise<[Buffer, Buffer]>> {
  const json = { key: new JsonConverter(), value: new JsonConverter() }
  json.key.configure({}, true)
  json.value.configure({}, false)
  const avro = { key: new AvroConverter(), value: new AvroConverter() }
  avro.key.configure({ 'schema.registry.url': REGISTRY }, true)
  avro.value.configure({ 'schema.registry.url': REGISTRY }, false)
  return async (key, value) => {
    const k = json.key.toConnectData(topic, key)
    const v = json.value.toConnectData(topic, value)
    return [
      Buffer.from((await avro.key.fromConnectData(topic, k.schema, k.value))!),
      Buffer.from((await avro.value.fromConnectData(topic, v.schema, v.value))!),
    ]
  }
}

async function produce(bootstrap: string, topic: string, records: number, avro = false): Promise<void> {
  const toAvro = avro ? await avroRecords(topic) : undefined
  const ms = await produceRecords(bootstrap, 'bench-jdbc-producer', records, async (id) => {
    let key: Buffer = Buffer.from(`${keyHead}${id}}}`)
    let value: Buffer = Buffer.from(`${valueHead}${JSON.stringify(betPayload(id))}}`)
    if (toAvro) [key, value] = await toAvro(key, value)
    return { topic, partition: 0, key, value }
  })
  log(`produced ${records} records to ${topic} in ${round(ms / 1000, 1)} s`)
}

interface Database {
  jdbcUrl: string
  count(table: string): Promise<number>
  /** PostgreSQL: CPU seconds of the connector's server backends so far (same machine, /proc). */
  serverCpuSeconds?(): Promise<number>
  drop(): Promise<void>
}

async function freshDatabase(kind: 'pg' | 'mariadb', name: string): Promise<Database> {
  if (kind === 'pg') {
    const admin = new pg.Client({ connectionString: PG.toString() })
    await admin.connect()
    await admin.query(`CREATE DATABASE "${name}"`)
    await admin.end()
    const url = new URL(PG)
    url.pathname = `/${name}`
    const client = new pg.Client({ connectionString: url.toString() })
    await client.connect()
    return {
      jdbcUrl: `jdbc:postgresql://${PG.host}/${name}`,
      async count(table) {
        try {
          return Number((await client.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n)
        } catch {
          return 0
        }
      },
      async serverCpuSeconds() {
        const result = await client.query(
          "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'sluice'",
          [name],
        )
        return result.rows.reduce((sum, r) => sum + treeCpuSeconds(Number(r.pid)), 0)
      },
      async drop() {
        await client.end()
        const a = new pg.Client({ connectionString: PG.toString() })
        await a.connect()
        await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
        await a.end()
      },
    }
  }
  const admin = await mysql.createConnection(MARIADB.toString())
  await admin.query(`CREATE DATABASE \`${name}\``)
  return {
    jdbcUrl: `jdbc:mariadb://${MARIADB.host}/${name}`,
    async count(table) {
      try {
        const [rows] = await admin.query(`SELECT count(*) AS n FROM \`${name}\`.\`${table}\``)
        return Number((rows as { n: number }[])[0]!.n)
      } catch {
        return 0
      }
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await admin.end()
    },
  }
}

interface CaseResult {
  case: CaseName
  loadAverageAtStart: number
  rows?: number
  readyMs?: number
  firstRowMs?: number
  lastRowMs?: number
  rowsPerSecond?: number
  rowsPerSecondFromSpawn?: number
  peakRssMiB?: number
  cpuSeconds?: number
  /** PostgreSQL: CPU seconds of the connector's server backend (the database's side of the work). */
  dbCpuSeconds?: number
  /** `--gc-trace`: V8 heap bytes the worker allocated per record, from the first row on. */
  heapBytesPerRecord?: number
  error?: string
}

async function runCase(
  name: CaseName,
  options: {
    bootstrap: string
    topic: string
    /** The same records in Avro, for the avro case. */
    avroTopic: string
    records: number
    dir: string
    timeoutMs: number
    keep: boolean
    gcTrace: boolean
  },
): Promise<CaseResult> {
  const result: CaseResult = { case: name, loadAverageAtStart: round(loadavg()[0]!, 2) }
  const kind = name.endsWith('mariadb') ? 'mariadb' : 'pg'
  const dbName = `bench_jdbc_${name.replaceAll('-', '_')}_${Date.now().toString(36)}`
  const db = await freshDatabase(kind, dbName)
  const cwd = join(options.dir, name)
  mkdirSync(cwd, { recursive: true })
  const port = await freePort()
  const table = 'bets'
  const worker: Record<string, string | number> = {
    'bootstrap.servers': options.bootstrap,
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'offset.storage.file.filename': join(cwd, 'connect.offsets'),
    'offset.flush.interval.ms': 10_000,
    listeners: `http://127.0.0.1:${port}`,
  }
  const connectorName = `bench-jdbc-${name}-${Date.now().toString(36)}`
  let process_: WorkerProcess
  if (name.startsWith('sluice')) {
    const file = writeProperties(join(cwd, 'sink.properties'), {
      name: connectorName,
      'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
      'tasks.max': 1,
      topics: name === 'sluice-pg-avro' ? options.avroTopic : options.topic,
      ...(name === 'sluice-pg-avro'
        ? {
            'key.converter': 'io.confluent.connect.avro.AvroConverter',
            'key.converter.schema.registry.url': REGISTRY,
            'value.converter': 'io.confluent.connect.avro.AvroConverter',
            'value.converter.schema.registry.url': REGISTRY,
          }
        : {}),
      'connection.url': db.jdbcUrl,
      'connection.user': kind === 'pg' ? PG.username || 'postgres' : MARIADB.username || 'root',
      'insert.mode': 'upsert',
      'pk.mode': 'record_key',
      'auto.create': 'true',
      'table.name.format': table,
      'sluice.postgres.bulk.mode': name === 'sluice-pg-values' ? 'values' : 'copy',
    })
    const nodeArgs = process.env.SLUICE_BENCH_NODE_ARGS
    if (options.gcTrace) process.env.SLUICE_BENCH_NODE_ARGS = `${nodeArgs ?? ''} --trace-gc`
    process_ = startSluiceStandalone({ cwd, worker, connectorFiles: [file] })
    if (nodeArgs === undefined) delete process.env.SLUICE_BENCH_NODE_ARGS
    else process.env.SLUICE_BENCH_NODE_ARGS = nodeArgs
  } else {
    const plugins = resolveDebeziumJdbc()
    const file = writeProperties(join(cwd, 'sink.properties'), {
      name: connectorName,
      'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
      'tasks.max': 1,
      topics: options.topic,
      'connection.url': db.jdbcUrl,
      'connection.username': kind === 'pg' ? PG.username || 'postgres' : MARIADB.username || 'root',
      'connection.password': '',
      'insert.mode': 'upsert',
      'primary.key.mode': 'record_key',
      'schema.evolution': 'basic',
      'collection.name.format': table,
    })
    const { pluginDir } = await import('./jvm/connect.ts').then((m) => m.resolveConnectJars())
    process_ = startConnectStandalone({
      cwd,
      worker: { ...worker, 'plugin.path': `${pluginDir},${plugins}` },
      connectorFiles: [file],
    })
  }
  try {
    const drain = await measureDrain(process_, port, {
      count: () => db.count(table),
      target: options.records,
      timeoutMs: options.timeoutMs,
      pollMs: 200,
      unit: 'rows',
    })
    Object.assign<CaseResult, Partial<CaseResult>>(result, {
      readyMs: drain.readyMs,
      rows: drain.count,
      firstRowMs: drain.firstMs,
      lastRowMs: drain.lastMs,
      rowsPerSecond: drain.perSecond,
      rowsPerSecondFromSpawn: drain.perSecondFromSpawn,
      cpuSeconds: drain.cpuSeconds,
      peakRssMiB: drain.peakRssMiB,
    })
    if (db.serverCpuSeconds && name.startsWith('sluice'))
      result.dbCpuSeconds = round(await db.serverCpuSeconds(), 1)
    if (options.gcTrace && name.startsWith('sluice') && drain.firstMs !== undefined) {
      const gc = gcSummary(readFileSync(process_.logFile, 'utf8'), drain.firstMs)
      result.heapBytesPerRecord = Math.round(gc.allocatedBytes / options.records)
    }
    if (drain.lastMs === undefined) throw new Error(`timed out with ${drain.count}/${options.records} rows`)
    log(`${name}: ${result.rows} rows, ${result.rowsPerSecond} rows/s (first→last row)`)
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error)
    log(`${name} failed: ${result.error.split('\n')[0]}`)
  } finally {
    await process_.stop()
    if (!options.keep) await db.drop()
  }
  return result
}

function table(results: CaseResult[]): string {
  const n = (v: number | undefined) => (v === undefined ? '–' : v.toLocaleString('en-US'))
  const s = (ms: number | undefined) => (ms === undefined ? '–' : (ms / 1000).toFixed(1))
  return [
    '| case | rows in table | rows/s first→last row | rows/s from spawn | spawn→first row (s) | spawn→last row (s) | worker CPU (s) | PostgreSQL backend CPU (s) | heap B/record | peak RSS (MiB) | load avg at start |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...results.map(
      (r) =>
        `| ${r.case}${r.error ? ` (failed: ${r.error.split('\n')[0]})` : ''} | ${n(r.rows)} | ${n(r.rowsPerSecond)} | ${n(r.rowsPerSecondFromSpawn)} | ${s(r.firstRowMs)} | ${s(r.lastRowMs)} | ${r.cpuSeconds ?? '–'} | ${r.dbCpuSeconds ?? '–'} | ${n(r.heapBytesPerRecord)} | ${r.peakRssMiB ?? '–'} | ${r.loadAverageAtStart} |`,
    ),
  ].join('\n')
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      cases: { type: 'string', default: CASES.join(',') },
      'timeout-ms': { type: 'string', default: '900000' },
      keep: { type: 'boolean', default: false },
      'gc-trace': { type: 'boolean', default: false },
    },
  })
  const records = Number(values.records)
  const cases = values.cases.split(',').map((c) => c.trim()) as CaseName[]
  for (const c of cases)
    if (!CASES.includes(c)) throw new Error(`unknown case '${c}'; choose from ${CASES.join(', ')}`)
  const { bootstrap } = await ensureKafka()
  const topic = `bench-jdbc-${Date.now().toString(36)}`
  const dir = join(import.meta.dirname, 'out', topic)
  mkdirSync(dir, { recursive: true })
  const avroTopic = `${topic}-avro`
  const withAvro = cases.includes('sluice-pg-avro')
  await createTopics(bootstrap, withAvro ? [topic, avroTopic] : [topic], 1)
  const results: CaseResult[] = []
  try {
    await produce(bootstrap, topic, records)
    if (withAvro) await produce(bootstrap, avroTopic, records, true)
    for (const name of cases) {
      log(`case ${name} (load average ${loadavg()[0]!.toFixed(2)})`)
      results.push(
        await runCase(name, {
          bootstrap,
          topic,
          avroTopic,
          records,
          dir,
          timeoutMs: Number(values['timeout-ms']),
          keep: values.keep,
          gcTrace: values['gc-trace'],
        }),
      )
    }
  } finally {
    await deleteTopics(bootstrap, withAvro ? [topic, avroTopic] : [topic])
    if (!values.keep) rmSync(dir, { recursive: true, force: true })
  }
  const report = {
    benchmark: 'jdbc-sink',
    at: new Date().toISOString(),
    records,
    debeziumVersion: DEBEZIUM_VERSION,
    machine: machineInfo(),
    revision: sluiceRevision(),
    loadAverageAtEnd: loadavg().map((v) => round(v, 2)),
    results,
  }
  const out = join(import.meta.dirname, 'out', `jdbc-sink-${report.at.replaceAll(':', '-')}.json`)
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
  console.log(table(results))
  log(`wrote ${out}`)
}

await main()
