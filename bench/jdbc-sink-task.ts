/**
 * The JDBC sink task alone, without Kafka: N records (the same 10 fields as bench/jdbc-sink.ts) are
 * converted once with JsonConverter (schemas on), then handed to the task `--batch` records per put,
 * as the runtime would, into a fresh database. Measures the connector's own write path per bulk mode
 * and database, apart from the broker, the consumer and the converter (whose rate is printed too).
 *
 * Per case: rows/s, the process's CPU per row (the task and its driver; the database is another
 * process) and the V8 heap bytes allocated per row (from v8.GCProfiler: the heap in use before each
 * collection minus after the previous one).
 *
 *   npx node bench/jdbc-sink-task.ts [--records 200000] [--batch 500] [--cases pg-copy,pg-values,mariadb]
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { SinkRecord } from '../src/api/records.ts'
import { JdbcSinkTask } from '../src/connectors/jdbc/sink/sink-task.ts'
import { JsonConverter } from '../src/converters/json-converter.ts'
import { betPayload, KEY_SCHEMA, VALUE_SCHEMA } from './lib/bet-records.ts'

const PG = new URL(process.env.SLUICE_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:15432/postgres')
const MARIADB = new URL(process.env.SLUICE_BENCH_MARIADB ?? 'mysql://root@127.0.0.1:3306')
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '500' },
    cases: { type: 'string', default: 'pg-copy,pg-values,mariadb' },
  },
})
const N = Number(values.records)
const BATCH = Number(values.batch)

const keys = new JsonConverter()
keys.configure({}, true)
const vals = new JsonConverter()
vals.configure({}, false)
const raw: [Buffer, Buffer][] = []
for (let id = 0; id < N; id++) {
  const payload = betPayload(id)
  raw.push([
    Buffer.from(JSON.stringify({ schema: KEY_SCHEMA, payload: { id } })),
    Buffer.from(JSON.stringify({ schema: VALUE_SCHEMA, payload })),
  ])
}
let started = performance.now()
const records = raw.map(([k, v], i) => {
  const key = keys.toConnectData('bench', k)
  const value = vals.toConnectData('bench', v)
  return new SinkRecord({
    topic: 'bench',
    kafkaPartition: 0,
    kafkaOffset: i,
    keySchema: key.schema,
    key: key.value,
    valueSchema: value.schema,
    value: value.value,
  })
})
console.log(
  `JsonConverter (key + value, schemas on): ${Math.round(N / ((performance.now() - started) / 1000))} records/s`,
)

for (const name of values.cases.split(',')) {
  const database = `bench_jdbc_task_${name.replace('-', '_')}_${Date.now().toString(36)}`
  let url: string
  let drop: () => Promise<void>
  if (name.startsWith('pg')) {
    const admin = new pg.Client({ connectionString: PG.toString() })
    await admin.connect()
    await admin.query(`CREATE DATABASE "${database}"`)
    url = `jdbc:postgresql://${PG.host}/${database}?user=${PG.username || 'postgres'}`
    drop = async () => {
      await admin.query(`DROP DATABASE "${database}" WITH (FORCE)`)
      await admin.end()
    }
  } else {
    const admin = await mysql.createConnection(MARIADB.toString())
    await admin.query(`CREATE DATABASE \`${database}\``)
    url = `jdbc:mariadb://${MARIADB.host}/${database}?user=${MARIADB.username || 'root'}`
    drop = async () => {
      await admin.query(`DROP DATABASE \`${database}\``)
      await admin.end()
    }
  }
  const task = new JdbcSinkTask()
  task.initialize({
    configs: () => ({}),
    offset: () => {},
    timeout: () => {},
    assignment: () => [],
    pause: () => {},
    resume: () => {},
    requestCommit: () => {},
    errantRecordReporter: () => null,
  })
  task.start({
    'connection.url': url,
    'insert.mode': 'upsert',
    'pk.mode': 'record_key',
    'auto.create': 'true',
    'sluice.postgres.bulk.mode': name === 'pg-values' ? 'values' : 'copy',
  })
  const load = loadavg()[0]!.toFixed(2)
  const heapAtStart = v8.getHeapStatistics().used_heap_size
  const profiler = new v8.GCProfiler()
  profiler.start()
  const cpu = process.cpuUsage()
  started = performance.now()
  for (let at = 0; at < N; at += BATCH) await task.put(records.slice(at, at + BATCH))
  await task.flush(new Map())
  const seconds = (performance.now() - started) / 1000
  const { user, system } = process.cpuUsage(cpu)
  const allocated = allocatedSince(heapAtStart, profiler.stop())
  const rate = Math.round(N / seconds)
  console.log(
    `${name}: ${rate} rows/s (${N} upserts, ${BATCH} per put, load average ${load}); ` +
      `${((user + system) / N).toFixed(2)} µs CPU and ${Math.round(allocated / N)} heap bytes allocated per row`,
  )
  await task.stop()
  await drop()
}

interface HeapStats {
  usedHeapSize: number
}

/** Heap bytes allocated since `usedAtStart`: what each collection found in use minus what the previous one left. */
function allocatedSince(
  usedAtStart: number,
  profile: {
    statistics: { beforeGC: { heapStatistics: HeapStats }; afterGC: { heapStatistics: HeapStats } }[]
  },
): number {
  let allocated = 0
  let previous = usedAtStart
  for (const gc of profile.statistics) {
    allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - previous)
    previous = gc.afterGC.heapStatistics.usedHeapSize
  }
  return allocated + Math.max(0, v8.getHeapStatistics().used_heap_size - previous)
}
