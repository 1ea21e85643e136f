/**
 * Seed 004: Debezium captures every change of a PostgreSQL database into Kafka, and an operator
 * triggers an ad-hoc snapshot of two tables through the signal table while writes go on. Runs a real
 * worker on the real Kafka broker, managed through the REST API; a FileStreamSink writes what
 * reached Kafka to a file, which is what we check.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  dropReplicationSlot,
  freshPostgresDatabase,
  postgresCdcProps,
  type TestDatabase,
} from '../../helpers/databases.ts'
import { readLines } from '../../helpers/files.ts'
import { eventually, request, waitRunning } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../rest/worker.ts'

const skip = postgresSkipReason() || kafkaSkipReason()

interface Event {
  op: string
  after: { id: number; v: string } | null
  source: { snapshot: string; table: string }
}

describe('[integration] seed 004: signal-table incremental snapshot through a worker on Kafka', {
  skip,
}, () => {
  let db: TestDatabase
  let w: TestWorker
  const suffix = randomBytes(4).toString('hex')
  const slot = `seed004_${suffix}`
  const prefix = `seed004-${suffix}`

  before(async () => {
    db = await freshPostgresDatabase('seed004')
    await db.sql(
      'CREATE TABLE table1 (id int PRIMARY KEY, v text)',
      'CREATE TABLE table2 (id int PRIMARY KEY, v text)',
      'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)',
      `INSERT INTO table1 SELECT g, 'old' FROM generate_series(1, 120) g`,
      `INSERT INTO table2 SELECT g, 'old' FROM generate_series(1, 80) g`,
    )
    w = await startTestWorker({
      'bootstrap.servers': kafkaBootstrap(),
      'value.converter.schemas.enable': 'false',
      'key.converter.schemas.enable': 'false',
    })
  })

  after(async () => {
    await w?.close()
    if (db) await dropReplicationSlot(db.url, slot)
    await db?.drop()
  })

  test('snapshots public.table1 and public.table2 on an execute-snapshot signal while streaming continues', async () => {
    const output = join(w.dir, 'events.txt')
    const created = await request(w.base, 'POST', '/connectors', {
      name: `pg-${suffix}`,
      config: {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        ...postgresCdcProps(db, { prefix, slot, publication: `pub_${suffix}` }),
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'incremental.snapshot.chunk.size': '25',
        'topic.creation.default.partitions': '1',
        'topic.creation.default.replication.factor': '1',
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const sink = await request(w.base, 'POST', '/connectors', {
      name: `sink-${suffix}`,
      config: {
        'connector.class': 'FileStreamSink',
        file: output,
        topics: `${prefix}.public.table1,${prefix}.public.table2`,
      },
    })
    assert.equal(sink.status, 201, JSON.stringify(sink.body))
    await waitRunning(w.base, `pg-${suffix}`, 60_000)

    // A change before the signal, so the sink's topics exist and streaming is shown to work.
    await db.sql(`INSERT INTO table1 VALUES (1000, 'streamed')`)
    await eventually(
      () => (readLines(output).length >= 1 ? true : undefined),
      60_000,
      'the first streamed event',
    )

    await db.sql(
      `INSERT INTO debezium_signal VALUES (1, 'execute-snapshot', '{"data-collections": ["public.table1", "public.table2"]}')`,
    )
    // Writes while the snapshot runs: streamed events must win over the snapshot's copies.
    for (let i = 0; i < 10; i++) {
      await db.sql(
        `UPDATE table1 SET v = 'new' WHERE id = ${i * 10 + 5}`,
        `INSERT INTO table2 VALUES (${1000 + i}, 'streamed')`,
      )
    }
    const events = await eventually(
      () => {
        const parsed = readLines(output).map((l) => JSON.parse(l) as Event)
        const read = parsed.filter((e) => e.op === 'r')
        const t1 = new Set(read.filter((e) => e.source.table === 'table1').map((e) => e.after!.id))
        const t2 = new Set(read.filter((e) => e.source.table === 'table2').map((e) => e.after!.id))
        return t2.size >= 80 && t1.size >= 110 ? parsed : undefined
      },
      120_000,
      'both tables to be snapshotted',
    )
    const latest = new Map<string, string>()
    for (const e of events) if (e.after) latest.set(`${e.source.table}:${e.after.id}`, e.after.v)
    for (let id = 1; id <= 120; id++) assert.ok(latest.has(`table1:${id}`), `table1 row ${id} is in Kafka`)
    for (let id = 1; id <= 80; id++) assert.ok(latest.has(`table2:${id}`), `table2 row ${id} is in Kafka`)
    for (let i = 0; i < 10; i++)
      assert.equal(latest.get(`table1:${i * 10 + 5}`), 'new', 'the streamed update wins')
    assert.ok(events.filter((e) => e.op === 'r').every((e) => e.source.snapshot === 'incremental'))
    assert.equal(events.filter((e) => e.op === 'c' && e.source.table === 'table2').length, 10)

    const status = await request<{ tasks: { state: string }[] }>(
      w.base,
      'GET',
      `/connectors/pg-${suffix}/status`,
    )
    assert.equal(status.body.tasks[0].state, 'RUNNING')
    await request(w.base, 'DELETE', `/connectors/pg-${suffix}`)
    await request(w.base, 'DELETE', `/connectors/sink-${suffix}`)
  })
})
