/**
 * One large transaction through the PostgreSQL CDC task, pgoutput protocol version 1 against version 2
 * with streaming (decision 0012): time from COMMIT to the last change event, and the task's peak RSS.
 * With version 1 the server decodes the whole transaction (spilling beyond logical_decoding_work_mem to
 * its own disk) and sends the first message only after the commit; with version 2 it streams the
 * transaction while it runs and the task keeps it (in a spill file beyond
 * pgoutput.streaming.buffer.bytes) until the commit. Each protocol runs in its own process so the RSS
 * figures do not mix. The server's logical_decoding_work_mem is left as configured.
 *
 *   npx node bench/cdc-large-transaction.ts [--rows 1000000] [--protocol 1|2] [--work-mem 4MB]
 *
 * --work-mem sets logical_decoding_work_mem for the bench's own database (ALTER DATABASE).
 *
 * Needs the test PostgreSQL (SLUICE_TEST_POSTGRES or postgres://postgres@127.0.0.1:15432/postgres).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { PostgresCdcSourceTask } from '../src/connectors/postgres-cdc/source-task.ts'
import { dropSlotWhenInactive } from './lib/replication-slot.ts'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    protocol: { type: 'string' },
    'work-mem': { type: 'string' },
  },
})
const serverUrl = process.env.SLUICE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:15432/postgres'
const rows = Number(values.rows)

if (!values.protocol) {
  for (const protocol of ['1', '2']) {
    const workMem = values['work-mem'] ? ['--work-mem', values['work-mem']] : []
    spawnSync(
      process.execPath,
      [import.meta.filename, '--rows', String(rows), '--protocol', protocol, ...workMem],
      { stdio: 'inherit' },
    )
  }
  process.exit(0)
}

const TABLE = `CREATE TABLE bench (id bigint PRIMARY KEY, a int, b bigint, c text, d numeric(12,2), e timestamptz,
  f boolean, g uuid, h jsonb, i date)`
const ROWS = `INSERT INTO bench SELECT g, g % 1000, g * 7, 'name-' || g, g / 100.0, now(), g % 2 = 0,
  gen_random_uuid(), jsonb_build_object('k', g), current_date FROM generate_series(1, ${rows}) g`

const name = `bench_${randomBytes(4).toString('hex')}`
const admin = new pg.Client({ connectionString: serverUrl })
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(serverUrl)
url.pathname = `/${name}`
const db = new pg.Client({ connectionString: url.toString() })
await db.connect()
await db.query(TABLE)
if (values['work-mem'])
  await db.query(`ALTER DATABASE ${name} SET logical_decoding_work_mem = '${values['work-mem']}'`)
const { rows: workMem } = await db.query('SHOW logical_decoding_work_mem')
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
  'snapshot.mode': 'no_data',
  'poll.interval.ms': '50',
  'pgoutput.streaming': values.protocol === '2' ? 'true' : 'false',
}
task.initialize({
  configs: () => props,
  offsetStorageReader: () => ({
    offset: async () => null,
    offsets: async (ps) => new Map(ps.map((p) => [p, null])),
  }),
})
let peakRss = 0
let atPeak = ''
const sampler = setInterval(() => {
  const m = process.memoryUsage()
  if (m.rss > peakRss) {
    peakRss = m.rss
    const mib = (n: number): number => Math.round(n / 2 ** 20)
    atPeak = `heap ${mib(m.heapUsed)}/${mib(m.heapTotal)} MiB, buffers ${mib(m.arrayBuffers)} MiB`
  }
}, 50)
try {
  await task.start(props)
  const began = performance.now()
  let committed = 0
  const writer = (async () => {
    await db.query('BEGIN')
    await db.query(ROWS)
    committed = performance.now()
    await db.query('COMMIT')
  })()
  let got = 0
  let first = 0
  while (got < rows) {
    const batch = (await task.poll()) ?? []
    if (batch.length > 0 && first === 0) first = performance.now()
    got += batch.length
  }
  const last = performance.now()
  await writer
  const { rows: stats } = await admin.query(
    'SELECT stream_txns, spill_txns, spill_bytes FROM pg_stat_replication_slots WHERE slot_name = $1',
    [name],
  )
  const s = stats[0] ?? {}
  console.log(
    `protocol ${values.protocol}: ${rows} rows in one transaction; INSERT ${((committed - began) / 1000).toFixed(1)} s; ` +
      `COMMIT → first event ${((first - committed) / 1000).toFixed(1)} s, → last event ${((last - committed) / 1000).toFixed(1)} s; ` +
      `peak RSS ${Math.round(peakRss / 2 ** 20)} MiB (${atPeak}); server: stream_txns ${s.stream_txns}, ` +
      `spill_txns ${s.spill_txns}, spill_bytes ${Math.round(Number(s.spill_bytes) / 2 ** 20)} MiB ` +
      `(logical_decoding_work_mem ${values['work-mem'] ?? workMem[0].logical_decoding_work_mem}); load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  )
} finally {
  clearInterval(sampler)
  await task.stop()
  await dropSlotWhenInactive(admin, name)
  await db.end()
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`)
  await admin.end()
}
