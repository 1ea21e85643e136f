/**
 * The JDBC source when things change under it, on the test PostgreSQL and Kafka: its connections
 * killed mid-read (`pg_terminate_backend`, the shared server itself stays up), tables created and
 * dropped while it runs, rows sharing one timestamp, and a task spread over several tables.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { freshPostgresDatabase, type TestDatabase } from '../../../helpers/databases.ts'
import { eventually, request, type StatusBody, waitRunning } from '../../../helpers/rest.ts'
import { kafkaSkipReason, postgresSkipReason } from '../../../helpers/services.ts'
import { TcpProxy } from '../../../helpers/tcp-proxy.ts'
import {
  type KafkaWorker,
  seedConnectorConfig,
  startKafkaWorker,
  TopicReader,
  uniqueSuffix,
} from './support.ts'

describe('[integration] JDBC source resilience on PostgreSQL', {
  skip: kafkaSkipReason() || postgresSkipReason(),
}, () => {
  let worker: KafkaWorker
  let db: TestDatabase
  const readers: TopicReader[] = []
  before(async () => {
    worker = await startKafkaWorker()
    db = await freshPostgresDatabase('jdbc_resilience')
  })
  after(async () => {
    for (const r of readers) await r.close()
    await worker?.close()
    await db?.drop()
  })

  const killConnections = () =>
    db.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}' AND pid <> pg_backend_pid()`,
    )

  it('reconnects after its connections are killed mid-read and loses no row', async () => {
    const table = `events_${uniqueSuffix()}`
    await db.sql(
      `CREATE TABLE ${table} (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)`,
      `INSERT INTO ${table} (body) SELECT 'row ' || g FROM generate_series(1, 3000) g`,
    )
    const name = `kill-${uniqueSuffix()}`
    const res = await request(worker.base, 'POST', '/connectors', {
      name,
      config: seedConnectorConfig(db, table, 'incrementing', {
        'batch.max.rows': '50',
        'poll.interval.ms': '100',
        'connection.backoff.ms': '200',
      }),
    })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    await waitRunning(worker.base, name)
    const reader = new TopicReader(worker.worker, `postgres-${table}`)
    readers.push(reader)
    // Kill the task's connection while it is reading the first 3000 rows, and again while rows keep coming.
    await reader.until((r) => r.length >= 200)
    await killConnections()
    for (let round = 0; round < 3; round++) {
      await db.sql(`INSERT INTO ${table} (body) SELECT 'more ' || g FROM generate_series(1, 500) g`)
      await killConnections()
    }
    const total = 3000 + 3 * 500
    const records = await reader.until((r) => new Set(r.map((x) => x.value.payload.id)).size >= total, 60_000)
    const ids = new Set(records.map((r) => r.value.payload.id as number))
    for (let id = 1; id <= total; id++) assert.ok(ids.has(id), `row ${id} is missing`)
    const status = await request<StatusBody>(worker.base, 'GET', `/connectors/${name}/status`)
    assert.deepEqual(
      status.body.tasks.map((t) => t.state),
      ['RUNNING'],
    )
  })

  it('shows a database that went away in the task status, then recovers without losing a row', async () => {
    const table = `away_${uniqueSuffix()}`
    await db.sql(
      `CREATE TABLE ${table} (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)`,
      `INSERT INTO ${table} (body) SELECT 'row ' || g FROM generate_series(1, 100) g`,
    )
    const server = new URL(db.url)
    const proxy = await new TcpProxy({ host: server.hostname, port: Number(server.port) }).start()
    try {
      const name = `away-${uniqueSuffix()}`
      const config = seedConnectorConfig(db, table, 'incrementing', {
        'connection.url': `jdbc:postgresql://127.0.0.1:${proxy.port}/${db.name}`,
        'poll.interval.ms': '100',
        'connection.backoff.ms': '200',
      })
      assert.equal((await request(worker.base, 'POST', '/connectors', { name, config })).status, 201)
      await waitRunning(worker.base, name)
      const reader = new TopicReader(worker.worker, `postgres-${table}`)
      readers.push(reader)
      await reader.until((r) => r.length >= 100)
      // The database is unreachable for the task (connections dropped, new ones refused).
      await proxy.cut()
      await db.sql(`INSERT INTO ${table} (body) SELECT 'while away ' || g FROM generate_series(1, 50) g`)
      const away = await eventually(async () => {
        const status = await request<StatusBody>(worker.base, 'GET', `/connectors/${name}/status`)
        const task = status.body.tasks[0]
        return task?.trace?.includes('cannot reconnect to the database') ? task : undefined
      }, 30_000)
      assert.equal(away.state, 'RUNNING')
      assert.match(away.trace ?? '', /connection\.backoff\.ms/)
      await proxy.restore()
      const records = await reader.until((r) => new Set(r.map((x) => x.value.payload.id)).size >= 150, 60_000)
      const ids = new Set(records.map((r) => r.value.payload.id as number))
      for (let id = 1; id <= 150; id++) assert.ok(ids.has(id), `row ${id} is missing`)
      // The trace clears once polls succeed again.
      await eventually(async () => {
        const status = await request<StatusBody>(worker.base, 'GET', `/connectors/${name}/status`)
        const task = status.body.tasks[0]
        return task?.state === 'RUNNING' && !task.trace ? true : undefined
      }, 30_000)
    } finally {
      await proxy.close()
    }
  })

  it('resumes from offsets written by Confluent’s connector (v1 partition, and the v0 fallback)', async () => {
    for (const [label, partition] of [
      ['v1', (t: string) => ({ table: `public.${t}`, protocol: '1' })],
      ['v0', (t: string) => ({ table: t })],
    ] as const) {
      const table = `resume_${label}_${uniqueSuffix()}`
      await db.sql(
        `CREATE TABLE ${table} (id SERIAL PRIMARY KEY, modified TIMESTAMP NOT NULL, v TEXT NOT NULL)`,
      )
      const name = `resume-${label}-${uniqueSuffix()}`
      // Created running on the empty table, then stopped: offsets can only be altered on a stopped connector.
      // (Creating it with initial_state STOPPED would be shorter, but the standalone herder then refuses
      // the resume with 409 "already running".)
      const res = await request(worker.base, 'POST', '/connectors', {
        name,
        config: seedConnectorConfig(db, table, 'timestamp+incrementing'),
      })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      await waitRunning(worker.base, name)
      assert.ok((await request(worker.base, 'PUT', `/connectors/${name}/stop`)).status < 300)
      await eventually(
        async () => {
          const s = await request<StatusBody>(worker.base, 'GET', `/connectors/${name}/status`)
          return s.body.connector.state === 'STOPPED' ? true : undefined
        },
        20_000,
        `${name} STOPPED`,
      )
      await db.sql(
        `INSERT INTO ${table} (modified, v) VALUES ('2024-01-01 00:00:01', 'old'), ('2024-01-01 00:00:02', 'seen'),
           ('2024-01-01 00:00:02', 'twin'), ('2024-01-01 00:00:03', 'new')`,
      )
      // What Confluent's task would have committed after the row 'seen' (id 2 at 00:00:02.000000).
      const patched = await request(worker.base, 'PATCH', `/connectors/${name}/offsets`, {
        offsets: [
          {
            partition: partition(table),
            offset: { timestamp: Date.UTC(2024, 0, 1, 0, 0, 2), timestamp_nanos: 0, incrementing: 2 },
          },
        ],
      })
      assert.equal(patched.status, 200, JSON.stringify(patched.body))
      const resumed = await request(worker.base, 'PUT', `/connectors/${name}/resume`)
      assert.equal(resumed.status, 202, JSON.stringify(resumed.body))
      await waitRunning(worker.base, name)
      const reader = new TopicReader(worker.worker, `postgres-${table}`)
      readers.push(reader)
      const records = await reader.until((r) => r.some((x) => x.value.payload.v === 'new'))
      assert.deepEqual(
        records.map((r) => r.value.payload.v),
        ['twin', 'new'],
        `${label}: resumes inside the group of one timestamp, after the committed id`,
      )
    }
  })

  it('picks up a table created after the start and forgets a dropped one (table monitor)', async () => {
    const prefix = `mon_${uniqueSuffix()}`
    await db.sql(
      `CREATE TABLE ${prefix}_a (id SERIAL PRIMARY KEY, v TEXT)`,
      `INSERT INTO ${prefix}_a (v) VALUES ('a1')`,
    )
    const name = `monitor-${uniqueSuffix()}`
    const config = seedConnectorConfig(db, '', 'incrementing', {
      'table.include.list': `public\\.${prefix}_.*`,
      'table.poll.interval.ms': '300',
      'tasks.max': '2',
    })
    delete config['table.whitelist']
    const res = await request(worker.base, 'POST', '/connectors', { name, config })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    await waitRunning(worker.base, name)
    const a = new TopicReader(worker.worker, `postgres-${prefix}_a`)
    readers.push(a)
    await a.until((r) => r.length === 1)
    await db.sql(
      `CREATE TABLE ${prefix}_b (id SERIAL PRIMARY KEY, v TEXT)`,
      `INSERT INTO ${prefix}_b (v) VALUES ('b1')`,
    )
    const b = new TopicReader(worker.worker, `postgres-${prefix}_b`)
    readers.push(b)
    await b.until((r) => r.length === 1 && r[0].value.payload.v === 'b1', 30_000)
    const two = await eventually(
      async () => {
        const s = await request<StatusBody>(worker.base, 'GET', `/connectors/${name}/status`)
        return s.body.tasks.length === 2 && s.body.tasks.every((t) => t.state === 'RUNNING')
          ? s.body
          : undefined
      },
      30_000,
      'two tasks, one per table',
    )
    assert.equal(two.tasks.length, 2)
    await db.sql(`DROP TABLE ${prefix}_a`)
    await eventually(
      async () => {
        const s = await request<StatusBody>(worker.base, 'GET', `/connectors/${name}/status`)
        return s.body.tasks.length === 1 && s.body.tasks[0].state === 'RUNNING' ? true : undefined
      },
      30_000,
      'one task left after the drop',
    )
    await db.sql(`INSERT INTO ${prefix}_b (v) VALUES ('b2')`)
    await b.until((r) => r.some((x) => x.value.payload.v === 'b2'))
  })

  it('timestamp mode: rows sharing one timestamp, read one per batch, are all delivered, also across a restart', async () => {
    const table = `same_ts_${uniqueSuffix()}`
    await db.sql(
      `CREATE TABLE ${table} (id SERIAL PRIMARY KEY, v TEXT NOT NULL, modified TIMESTAMP NOT NULL)`,
      `CREATE INDEX ON ${table} (modified)`,
      `INSERT INTO ${table} (v, modified) VALUES ('a', '2024-01-01 00:00:01'), ('b', '2024-01-01 00:00:01')`,
    )
    const name = `same-ts-${uniqueSuffix()}`
    const res = await request(worker.base, 'POST', '/connectors', {
      name,
      config: seedConnectorConfig(db, table, 'timestamp', {
        'batch.max.rows': '1',
        'poll.interval.ms': '100',
      }),
    })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    await waitRunning(worker.base, name)
    const reader = new TopicReader(worker.worker, `postgres-${table}`)
    readers.push(reader)
    await reader.until((r) => r.length >= 2)
    // Offsets of the group: the first row cannot carry its own timestamp while its twin is unread.
    const offsets = await request<{ offsets: { offset: { timestamp: number } }[] }>(
      worker.base,
      'GET',
      `/connectors/${name}/offsets`,
    )
    assert.ok(offsets.body.offsets.every((o) => o.offset.timestamp <= Date.UTC(2024, 0, 1, 0, 0, 1)))
    // Restart from the stored offset: nothing of the group may be skipped (duplicates are allowed).
    assert.equal(
      (await request(worker.base, 'POST', `/connectors/${name}/restart?includeTasks=true`)).status < 300,
      true,
    )
    await db.sql(`INSERT INTO ${table} (v, modified) VALUES ('c', '2024-01-01 00:00:02')`)
    const records = await reader.until((r) => r.some((x) => x.value.payload.v === 'c'))
    assert.deepEqual([...new Set(records.map((r) => r.value.payload.v))].sort(), ['a', 'b', 'c'])
  })
})
