/**
 * Kill -9 the worker while PostgreSQL takes writes, then restart it: every row reaches Kafka (checked
 * through a FileStreamSink), at least once. Runs the real `sluice standalone` command on the real
 * Kafka broker. The database's `logical_decoding_work_mem` is 64 kB and each transaction larger, so
 * the server streams them while they run (pgoutput version 2): the kill lands while transactions are
 * being buffered or emitted from the task's stream buffer.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createLog } from '../../../src/log/create-log.ts'
import { dropReplicationSlot, freshPostgresDatabase, type TestDatabase } from '../../helpers/databases.ts'
import { readLines } from '../../helpers/files.ts'
import { eventually } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../../helpers/services.ts'
import { workerProcess } from '../../helpers/worker-process.ts'

async function createTopic(name: string): Promise<void> {
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': kafkaBootstrap() }), 'cdc-kill-test')
  try {
    await log.createTopics([{ name, partitions: 1, replicationFactor: 1 }])
  } finally {
    await log.close()
  }
}

const skip = postgresSkipReason() || kafkaSkipReason()
const TRANSACTIONS = 40
const ROWS_PER_TRANSACTION = 250

describe('[integration] a CDC worker killed with SIGKILL during writes', { skip }, () => {
  const debug = Boolean(process.env.CDC_KILL_DEBUG)
  const worker = workerProcess(['source.properties', 'sink.json'], { stderr: debug ? 'inherit' : 'pipe' })
  const dir = worker.dir
  const suffix = randomBytes(4).toString('hex')
  const slot = `kill_${suffix}`
  let db: TestDatabase | undefined

  after(async () => {
    worker.close()
    if (db) {
      await dropReplicationSlot(db.url, slot)
      await db.drop()
    }
  })

  test('loses no row: every insert is in Kafka after the restart', async () => {
    db = await freshPostgresDatabase('cdc_kill')
    await db.sql(
      'CREATE TABLE w (id int PRIMARY KEY, v text)',
      `ALTER DATABASE "${db.name}" SET logical_decoding_work_mem = '64kB'`,
    )
    const prefix = `kill-${suffix}`
    const output = join(dir, 'out.txt')
    worker.writeProperties({
      'bootstrap.servers': kafkaBootstrap(),
      'key.converter.schemas.enable': 'false',
      'value.converter.schemas.enable': 'false',
      'offset.flush.interval.ms': '200',
      'log.level': debug ? 'info' : 'warn',
    })
    const url = new URL(db.url)
    writeFileSync(
      join(dir, 'source.properties'),
      [
        `name=cdc-kill-${suffix}`,
        'connector.class=io.debezium.connector.postgresql.PostgresConnector',
        `database.hostname=${url.hostname}`,
        `database.port=${url.port}`,
        'database.user=postgres',
        `database.dbname=${db.name}`,
        `topic.prefix=${prefix}`,
        'plugin.name=pgoutput',
        `slot.name=${slot}`,
        `publication.name=pub_${suffix}`,
        'snapshot.mode=no_data',
        'tombstones.on.delete=false',
        // The killed worker's walsender holds the slot until PostgreSQL notices (wal_sender_timeout, 60 s).
        'slot.max.retries=60',
        'slot.retry.delay.ms=2000',
        'topic.creation.default.partitions=1',
        'topic.creation.default.replication.factor=1',
        '',
      ].join('\n'),
    )
    writeFileSync(
      join(dir, 'sink.json'),
      JSON.stringify({
        name: `cdc-kill-sink-${suffix}`,
        config: { 'connector.class': 'FileStreamSink', file: output, topics: `${prefix}.public.w` },
      }),
    )
    // The topic exists before the sink subscribes (the broker does not auto-create topics).
    await createTopic(`${prefix}.public.w`)
    const first = worker.start()
    // A probe row (negative ids) until one arrives: the pipeline runs (slot made, sink reading). Rows
    // written before the slot exists are not streamed (snapshot.mode=no_data), hence a new one each time.
    let probe = 0
    await eventually(
      async () => {
        await db!.sql(`INSERT INTO w VALUES (${--probe}, 'probe')`)
        return readLines(output).length > 0 ? true : undefined
      },
      90_000,
      'the first event at the sink',
    )
    const writer = (async () => {
      for (let t = 0; t < TRANSACTIONS; t++) {
        const from = 1 + t * ROWS_PER_TRANSACTION
        await db!.sql(
          `INSERT INTO w SELECT g, 'v' || g || repeat('x', 300) FROM generate_series(${from}, ${from + ROWS_PER_TRANSACTION - 1}) g`,
        )
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    await eventually(() => (readLines(output).length > 2000 ? true : undefined), 90_000, 'events to flow')
    await worker.kill(first)
    const before = readLines(output).length
    await writer
    worker.start()
    const total = TRANSACTIONS * ROWS_PER_TRANSACTION
    const ids = await eventually(
      () => {
        const seen = new Set(
          readLines(output).map((l) => (JSON.parse(l) as { after: { id: number } }).after.id),
        )
        return [...seen].filter((id) => id > 0).length >= total ? seen : undefined
      },
      120_000,
      'every row at the sink after the restart',
    )
    for (let id = 1; id <= total; id++) assert.ok(ids.has(id), `row ${id} reached Kafka`)
    const [stats] = (await db.sql(
      `SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = '${slot}'`,
    )) as { stream_txns: string }[][]
    assert.ok(Number(stats[0]?.stream_txns ?? 0) > 0, 'the server streamed the transactions')
    const lines = readLines(output).length
    process.stderr.write(
      `[cdc kill] killed at ${before} events; ${lines - ids.size} duplicates after the restart\n`,
    )
  })
})
