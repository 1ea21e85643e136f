/**
 * The MongoDB sink in a real worker on Kafka, managed through the REST API: PostgreSQL changes
 * captured by our Debezium-compatible CDC connector applied to MongoDB by the RdbmsHandler, and
 * documents the server refuses sent to the dead-letter topic.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Decimal128, type MongoClient } from 'mongodb'
import {
  dropReplicationSlot,
  freshPostgresDatabase,
  postgresCdcProps,
  type TestDatabase,
} from '../../helpers/databases.ts'
import { readLines } from '../../helpers/files.ts'
import { eventually, request, waitRunning } from '../../helpers/rest.ts'
import {
  kafkaBootstrap,
  kafkaSkipReason,
  mongoSkipReason,
  mongoUrl,
  postgresSkipReason,
} from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'
import { connect, freshDatabase } from './mongo-helpers.ts'

const skip = postgresSkipReason() || kafkaSkipReason() || mongoSkipReason()

describe('[integration] MongoDB sink in a worker on Kafka', { skip }, () => {
  let db: TestDatabase
  let w: TestWorker
  let mongo: MongoClient
  const suffix = randomBytes(4).toString('hex')
  const slot = `mongo_${suffix}`
  const prefix = `mongocdc-${suffix}`
  const database = freshDatabase('pipeline')

  before(async () => {
    db = await freshPostgresDatabase('mongocdc')
    await db.sql(
      'CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, balance numeric(10,2))',
      `INSERT INTO customers VALUES (1, 'Ada', 10.50), (2, 'Bob', 20.00)`,
    )
    w = await startTestWorker({ 'bootstrap.servers': kafkaBootstrap() })
    mongo = await connect()
  })

  after(async () => {
    await w?.close()
    if (db) await dropReplicationSlot(db.url, slot)
    await db?.drop()
    await mongo
      ?.db(database)
      .dropDatabase()
      .catch(() => {})
    await mongo?.close()
  })

  test('PostgreSQL snapshot, inserts, updates and deletes captured by the CDC connector are applied by the RdbmsHandler', async () => {
    const created = await request(w.base, 'POST', '/connectors', {
      name: `pg-${suffix}`,
      config: {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        ...postgresCdcProps(db, { prefix, slot, publication: `pub_${suffix}` }),
        'topic.creation.default.partitions': '1',
        'topic.creation.default.replication.factor': '1',
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await waitRunning(w.base, `pg-${suffix}`, 60_000)
    const sink = await request(w.base, 'POST', '/connectors', {
      name: `mongo-${suffix}`,
      config: {
        'connector.class': 'com.mongodb.kafka.connect.MongoSinkConnector',
        topics: `${prefix}.public.customers`,
        'connection.uri': mongoUrl(),
        database,
        collection: 'customers',
        'change.data.capture.handler':
          'com.mongodb.kafka.connect.sink.cdc.debezium.rdbms.postgres.PostgresHandler',
      },
    })
    assert.equal(sink.status, 201, JSON.stringify(sink.body))
    await waitRunning(w.base, `mongo-${suffix}`, 60_000)
    const coll = mongo.db(database).collection('customers')
    await eventually(
      async () => ((await coll.countDocuments()) === 2 ? true : undefined),
      60_000,
      'the snapshot in MongoDB',
    )

    await db.sql(
      `INSERT INTO customers VALUES (3, 'Cy', 30.25)`,
      `UPDATE customers SET name = 'Ada L.', balance = 11.75 WHERE id = 1`,
      'DELETE FROM customers WHERE id = 2',
    )
    const docs = await eventually(
      async () => {
        const all = await coll.find({}).sort({ '_id.id': 1 }).toArray()
        return all.length === 2 && all[0]?.name === 'Ada L.' ? all : undefined
      },
      60_000,
      'the changes in MongoDB',
    )
    assert.deepEqual(
      docs.map((d) => ({ ...d, _id: { ...d._id }, balance: (d.balance as Decimal128).toString() })),
      [
        { _id: { id: 1 }, name: 'Ada L.', balance: '11.75' },
        { _id: { id: 3 }, name: 'Cy', balance: '30.25' },
      ],
    )
    assert.ok(docs[0]!.balance instanceof Decimal128)
  })

  test('documents the server refuses go to the dead-letter topic; the others are written and the task keeps running', async () => {
    const topic = `mongo-dlq-in-${suffix}`
    const dlq = `mongo-dlq-${suffix}`
    const coll = mongo.db(database).collection('dlq')
    await coll.insertOne({ _id: 'taken' as never })
    const output = join(w.dir, 'dlq.txt')
    const source = await request(w.base, 'POST', '/connectors', {
      name: `file-${suffix}`,
      config: {
        'connector.class': 'FileStreamSource',
        file: join(w.dir, 'in.txt'),
        topic,
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'topic.creation.default.partitions': '1',
        'topic.creation.default.replication.factor': '1',
      },
    })
    assert.equal(source.status, 201, JSON.stringify(source.body))
    writeFileSync(join(w.dir, 'in.txt'), '{"_id": "a"}\n{"_id": "taken"}\n{"_id": "b"}\n')
    const sink = await request(w.base, 'POST', '/connectors', {
      name: `mongo-dlq-${suffix}`,
      config: {
        'connector.class': 'MongoSinkConnector',
        topics: topic,
        'connection.uri': mongoUrl(),
        database,
        collection: 'dlq',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'document.id.strategy':
          'com.mongodb.kafka.connect.sink.processor.id.strategy.ProvidedInValueStrategy',
        'writemodel.strategy': 'com.mongodb.kafka.connect.sink.writemodel.strategy.InsertOneDefaultStrategy',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
        'errors.deadletterqueue.topic.replication.factor': '1',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    })
    assert.equal(sink.status, 201, JSON.stringify(sink.body))
    await eventually(
      async () => ((await coll.countDocuments()) === 3 ? true : undefined),
      60_000,
      'a and b in MongoDB',
    )
    const reader = await request(w.base, 'POST', '/connectors', {
      name: `dlq-reader-${suffix}`,
      config: {
        'connector.class': 'FileStreamSink',
        file: output,
        topics: dlq,
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
    })
    assert.equal(reader.status, 201, JSON.stringify(reader.body))
    const lines = await eventually(
      () => (readLines(output).length >= 1 ? readLines(output) : undefined),
      60_000,
      'the DLQ record',
    )
    assert.deepEqual(lines, ['{"_id": "taken"}'])
    const status = await request<{ tasks: { state: string }[] }>(
      w.base,
      'GET',
      `/connectors/mongo-dlq-${suffix}/status`,
    )
    assert.equal(status.body.tasks[0]?.state, 'RUNNING')
  })
})
