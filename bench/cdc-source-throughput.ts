/**
 * Source-side throughput of the PostgreSQL CDC task, without Kafka: how fast the task turns WAL
 * (streaming) and table rows (initial snapshot) into Debezium change records, polled as the runtime
 * polls. This isolates decode + conversion; the Kafka path adds converter and producer cost on top.
 *
 *   npx node bench/cdc-source-throughput.ts [--stream-rows 200000] [--snapshot-rows 1000000] [--convert]
 *
 * `--convert` also runs every record through the JsonConverter (key and value, schemas.enable=false,
 * as bench/cdc-kafka.ts configures the workers) and reports the task's and the converter's CPU time
 * per record separately: what the worker spends before the producer.
 *
 * Needs the test PostgreSQL (SLUICE_TEST_POSTGRES or postgres://postgres@127.0.0.1:15432/postgres).
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { PostgresCdcSourceTask } from '../src/connectors/postgres-cdc/source-task.ts'
import { JsonConverter } from '../src/converters/json-converter.ts'
import { dropSlotWhenInactive } from './lib/replication-slot.ts'

const { values } = parseArgs({
  options: {
    'stream-rows': { type: 'string', default: '200000' },
    'snapshot-rows': { type: 'string', default: '1000000' },
    convert: { type: 'boolean', default: false },
  },
})
const serverUrl = process.env.SLUICE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:15432/postgres'
const TABLE = `CREATE TABLE bench (id bigint PRIMARY KEY, a int, b bigint, c text, d numeric(12,2), e timestamptz,
  f boolean, g uuid, h jsonb, i date)`
const ROWS = (from: number, to: number): string =>
  `INSERT INTO bench SELECT g, g % 1000, g * 7, 'name-' || g, g / 100.0, now(), g % 2 = 0,
     gen_random_uuid(), jsonb_build_object('k', g), current_date FROM generate_series(${from}, ${to}) g`

/** The fixed semi-space size in MiB when Node runs with equal --min/--max-semi-space-size, else null. */
function semiSpaceMiB(): number | null {
  const flag = (name: string): string | undefined =>
    process.execArgv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const min = flag('min-semi-space-size')
  return min !== undefined && min === flag('max-semi-space-size') ? Number(min) : null
}

async function run(mode: 'stream' | 'snapshot', rows: number): Promise<void> {
  const name = `bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  await db.query(TABLE)
  if (mode === 'snapshot') await db.query(ROWS(1, rows))
  const task = new PostgresCdcSourceTask()
  const props = {
    'database.hostname': url.hostname,
    'database.port': url.port,
    'database.user': 'postgres',
    'database.dbname': name,
    'topic.prefix': 'bench',
    'plugin.name': 'pgoutput',
    'slot.name': name,
    'publication.name': name,
    'snapshot.mode': mode === 'snapshot' ? 'initial_only' : 'no_data',
    'poll.interval.ms': '50',
  }
  task.initialize({
    configs: () => props,
    offsetStorageReader: () => ({
      offset: async () => null,
      offsets: async (ps) => new Map(ps.map((p) => [p, null])),
    }),
  })
  let peakRss = 0
  try {
    await task.start(props)
    if (mode === 'stream') {
      // Mixed workload: inserts, then updates and deletes of part of them.
      await db.query(ROWS(1, rows))
      await db.query(`UPDATE bench SET a = a + 1 WHERE id % 4 = 0`)
      await db.query(`DELETE FROM bench WHERE id % 10 = 0`)
    }
    const expected = mode === 'stream' ? rows + rows / 4 + (rows / 10) * 2 : rows
    const keyConverter = new JsonConverter()
    keyConverter.configure({ 'schemas.enable': 'false' }, true)
    const valueConverter = new JsonConverter()
    valueConverter.configure({ 'schemas.enable': 'false' }, false)
    let got = 0
    let started = 0
    let rssSampledAt = 0
    let cpuAtStart = process.cpuUsage()
    let convertMs = 0
    let bytes = 0
    // Young-generation collections, and those that began while converting: with a fixed semi-space
    // (--min-semi-space-size = --max-semi-space-size) their count times its size estimates the bytes
    // allocated, a figure that does not depend on the machine's load.
    const convertSpans: number[] = []
    let scavenges = 0
    let convertScavenges = 0
    const gcs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if ((e as { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MINOR)
          continue
        if (started === 0) continue
        scavenges++
        for (let i = convertSpans.length - 2; i >= 0; i -= 2)
          if (e.startTime >= convertSpans[i] && e.startTime <= convertSpans[i + 1]) {
            convertScavenges++
            break
          }
      }
    })
    gcs.observe({ entryTypes: ['gc'] })
    while (got < expected) {
      const batch = (await task.poll()) ?? []
      if (batch.length > 0 && started === 0) {
        started = performance.now()
        cpuAtStart = process.cpuUsage()
      }
      got += batch.length
      if (values.convert) {
        const t0 = performance.now()
        for (const r of batch) {
          bytes += keyConverter.fromConnectData(r.topic, r.keySchema, r.key)?.length ?? 0
          bytes += valueConverter.fromConnectData(r.topic, r.valueSchema, r.value)?.length ?? 0
        }
        const t1 = performance.now()
        convertMs += t1 - t0
        convertSpans.push(t0, t1)
      }
      // Sampled at most every 100 ms: reading RSS (from /proc) per poll cost ~10 % of the streaming run's CPU.
      const now = performance.now()
      if (now - rssSampledAt >= 100) {
        rssSampledAt = now
        peakRss = Math.max(peakRss, process.memoryUsage.rss())
      }
    }
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
    const seconds = (performance.now() - started) / 1000
    await new Promise((resolve) => setImmediate(resolve))
    gcs.disconnect()
    const cpu = process.cpuUsage(cpuAtStart)
    const cpuPerMillion = ((cpu.user + cpu.system) / 1e6) * (1e6 / got)
    const taskUs = ((seconds * 1000 - convertMs) * 1000) / got
    const converted = values.convert
      ? `; task ${taskUs.toFixed(2)} µs/record, JsonConverter ${((convertMs * 1000) / got).toFixed(2)} µs/record (${Math.round(bytes / got)} B)`
      : ''
    const semiSpace = semiSpaceMiB()
    const allocated = semiSpace
      ? `; scavenges ${scavenges} (${convertScavenges} while converting) ≈ ${((scavenges * semiSpace * 1024) / (got / 1000)).toFixed(0)} B/record allocated (${((convertScavenges * semiSpace * 1024) / (got / 1000)).toFixed(0)} converting)`
      : ''
    console.log(
      `${mode}: ${got} records in ${seconds.toFixed(2)} s = ${Math.round(got / seconds)} records/s${converted}${allocated}; ${cpuPerMillion.toFixed(1)} CPU-s per 1M records; peak RSS ${Math.round(peakRss / 2 ** 20)} MiB; load ${loadavg()[0].toFixed(2)}`,
    )
  } catch (error) {
    console.error(`${mode} failed:`, error)
  } finally {
    await task.stop()
    await dropSlotWhenInactive(admin, name)
    await db.end()
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`)
    await admin.end()
  }
}

if (Number(values['stream-rows']) > 0) await run('stream', Number(values['stream-rows']))
if (Number(values['snapshot-rows']) > 0) await run('snapshot', Number(values['snapshot-rows']))
