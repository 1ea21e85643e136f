/**
 * Seed 004 end to end: Debezium's PostgreSQL connector captures a database into Kafka, and
 * Confluent's S3 sink lands the change events in an S3-compatible store (MinIO there, s3proxy here)
 * for analytics: as Parquet rows of the new record state (ExtractNewRecordState) and as the raw
 * Debezium envelopes in JSON. An ad-hoc snapshot is triggered through the signal table while writes
 * go on. What is read back from the objects must match the table.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import {
  dropReplicationSlot,
  freshPostgresDatabase,
  postgresCdcProps,
  type TestDatabase,
} from '../../helpers/databases.ts'
import { eventually, request, waitRunning } from '../../helpers/rest.ts'
import {
  kafkaBootstrap,
  kafkaSkipReason,
  postgresSkipReason,
  s3SkipReason,
  s3Url,
} from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'
import { TestBucket } from './s3-fixtures.ts'

const skip = postgresSkipReason() || kafkaSkipReason() || s3SkipReason()

interface Row {
  id: number
  name: string
  price: string
}

describe('[integration] seed 004: PostgreSQL CDC → Kafka → S3 sink (Parquet and JSON)', { skip }, () => {
  let db: TestDatabase
  let w: TestWorker
  let bucket: TestBucket
  const suffix = randomBytes(4).toString('hex')
  const slot = `seed004s3_${suffix}`
  const prefix = `lake-${suffix}`

  before(async () => {
    db = await freshPostgresDatabase('seed004s3')
    await db.sql(
      'CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL)',
      'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)',
      `INSERT INTO products SELECT g, 'product ' || g, g * 1.25 FROM generate_series(1, 150) g`,
    )
    w = await startTestWorker({ 'bootstrap.servers': kafkaBootstrap() })
    bucket = await TestBucket.create('lake')
  })

  after(async () => {
    await w?.close()
    if (db) await dropReplicationSlot(db.url, slot)
    await db?.drop()
    await bucket?.drop()
  })

  test('the objects hold every row of the table at its latest state, after streaming and a signalled snapshot', async () => {
    const topic = `${prefix}.public.products`
    const source = await request(w.base, 'POST', '/connectors', {
      name: `pg-${suffix}`,
      config: {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        ...postgresCdcProps(db, { prefix, slot, publication: `pub_${suffix}` }),
        'snapshot.mode': 'initial',
        'signal.data.collection': 'public.debezium_signal',
        'table.include.list': 'public.products,public.debezium_signal',
        'incremental.snapshot.chunk.size': '40',
        'decimal.handling.mode': 'string',
        'topic.creation.default.partitions': '2',
        'topic.creation.default.replication.factor': '1',
      },
    })
    assert.equal(source.status, 201, JSON.stringify(source.body))
    await waitRunning(w.base, `pg-${suffix}`, 60_000)
    const sinkCommon = {
      'connector.class': 'io.confluent.connect.s3.S3SinkConnector',
      'storage.class': 'io.confluent.connect.s3.storage.S3Storage',
      topics: topic,
      's3.bucket.name': bucket.name,
      's3.region': 'us-east-1',
      'store.url': s3Url(),
      's3.path.style.access.enabled': 'true',
      'aws.access.key.id': 'minio',
      'aws.secret.access.key': 'minio123',
      'flush.size': '50',
      'rotate.schedule.interval.ms': '2000',
      timezone: 'UTC',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    }
    const parquet = await request(w.base, 'POST', '/connectors', {
      name: `lake-parquet-${suffix}`,
      config: {
        ...sinkCommon,
        'topics.dir': 'parquet',
        'format.class': 'io.confluent.connect.s3.format.parquet.ParquetFormat',
        'behavior.on.null.values': 'ignore',
        transforms: 'unwrap',
        'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
        'transforms.unwrap.add.fields': 'op',
        'transforms.unwrap.delete.handling.mode': 'rewrite',
      },
    })
    assert.equal(parquet.status, 201, JSON.stringify(parquet.body))
    const json = await request(w.base, 'POST', '/connectors', {
      name: `lake-json-${suffix}`,
      config: {
        ...sinkCommon,
        'topics.dir': 'json',
        'format.class': 'io.confluent.connect.s3.format.json.JsonFormat',
        'behavior.on.null.values': 'ignore',
      },
    })
    assert.equal(json.status, 201, JSON.stringify(json.body))
    await waitRunning(w.base, `lake-parquet-${suffix}`, 60_000)
    await waitRunning(w.base, `lake-json-${suffix}`, 60_000)

    // Streaming changes, an ad-hoc snapshot through the signal table, and more writes meanwhile.
    await db.sql(
      `UPDATE products SET price = price + 100 WHERE id <= 10`,
      `DELETE FROM products WHERE id BETWEEN 141 AND 145`,
      `INSERT INTO products VALUES (1001, 'new one', 9.99)`,
    )
    await db.sql(
      `INSERT INTO debezium_signal VALUES ('s1', 'execute-snapshot', '{"data-collections": ["public.products"]}')`,
    )
    for (let i = 0; i < 10; i++) {
      await db.sql(
        `UPDATE products SET name = 'renamed ${i}' WHERE id = ${20 + i * 7}`,
        `INSERT INTO products VALUES (${2000 + i}, 'late ${i}', ${i}.50)`,
      )
    }
    await db.sql(`INSERT INTO products VALUES (9999, 'last', 1.00)`)

    const table = new Map<number, Row>()
    for (const r of (
      await db.sql('SELECT id, name, price::text AS price FROM products ORDER BY id')
    )[0] as Row[])
      table.set(r.id, r)

    // Parquet: the newest row of each id (by Kafka partition and offset order), deletes as __deleted=true.
    const fromParquet = await eventually(
      async () => {
        const state = new Map<number, Row | null>()
        const keys = await bucket.dataKeys('parquet/')
        const ordered = keys
          .map((k) => ({ k, offset: Number(/\+(\d+)\.snappy\.parquet$/.exec(k)?.[1]) }))
          .sort((a, b) => a.offset - b.offset)
        for (const { k } of ordered) {
          for (const row of await bucket.parquetRows(k)) {
            const id = row.id as number
            state.set(
              id,
              row.__deleted === 'true' ? null : { id, name: row.name as string, price: row.price as string },
            )
          }
        }
        const live = new Map([...state].filter((e): e is [number, Row] => e[1] !== null))
        return live.get(9999) && live.size === table.size ? live : undefined
      },
      120_000,
      'the Parquet objects to hold the table',
    )
    assert.deepEqual(new Map([...fromParquet].sort((a, b) => a[0] - b[0])), table)

    // JSON: the raw envelopes, snapshot reads included. Each partition's objects arrive on their own
    // schedule, so wait for the whole table, not for the last insert (which may sit in the other one).
    const events = await eventually(
      async () => {
        const out: { op: string; before: Row | null; after: Row | null; source: { snapshot: string } }[] = []
        const keys = await bucket.dataKeys('json/')
        const ordered = keys
          .map((k) => ({ k, offset: Number(/\+(\d+)\.json$/.exec(k)?.[1]) }))
          .sort((a, b) => a.offset - b.offset)
        for (const { k } of ordered) out.push(...((await bucket.jsonLines(k)) as typeof out))
        const latest = new Map<number, Row | null>()
        for (const e of out) {
          if (e.op === 'd') latest.set(e.before!.id, null)
          else latest.set(e.after!.id, e.after)
        }
        for (const [id, row] of table) assert.deepEqual(latest.get(id), row, `row ${id} in the JSON objects`)
        for (let id = 141; id <= 145; id++) assert.equal(latest.get(id), null, `row ${id} was deleted`)
        return out
      },
      120_000,
      'the JSON objects to hold the table at its latest state',
    )
    assert.ok(
      events.some((e) => e.op === 'r' && e.source.snapshot === 'incremental'),
      'the signalled snapshot reached the bucket',
    )
  })
})
