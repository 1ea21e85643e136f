/**
 * Seed 000, the user story: a JDBC source pulls tables into topics prefixed `postgres-`, in mode
 * `timestamp` (a `modified` column: updates), `incrementing` (an `id` column: inserts) or
 * `timestamp+incrementing` (both), with the connector RUNNING through the REST API — on PostgreSQL,
 * MariaDB and SQLite, through a real worker on the test Kafka.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { request, waitRunning } from '../../../helpers/rest.ts'
import { kafkaSkipReason } from '../../../helpers/services.ts'
import {
  backends,
  type KafkaWorker,
  type SourceDatabase,
  seedConnectorConfig,
  startKafkaWorker,
  TopicReader,
  uniqueSuffix,
} from './support.ts'

for (const backend of backends) {
  describe(`[integration] JDBC source seed 000 on ${backend.name}`, {
    skip: kafkaSkipReason() || backend.skip,
  }, () => {
    let worker: KafkaWorker
    let db: SourceDatabase
    const readers: TopicReader[] = []
    before(async () => {
      worker = await startKafkaWorker()
      db = await backend.fresh('jdbc_seed')
    })
    after(async () => {
      for (const r of readers) await r.close()
      await worker?.close()
      await db?.drop()
    })

    async function setUp(mode: string) {
      const table = `customers_${mode.replace('+', '_')}_${uniqueSuffix()}`
      await db.sql(
        backend.createTable(table),
        `INSERT INTO ${q(table)} (name, price, born, active) VALUES ('ada', 10.50, '1815-12-10', true)`,
        `INSERT INTO ${q(table)} (name, price, born, active) VALUES ('grace', NULL, NULL, false)`,
      )
      const name = `seed-${mode.replace('+', '-')}-${uniqueSuffix()}`
      const res = await request(worker.base, 'POST', '/connectors', {
        name,
        config: seedConnectorConfig(db, table, mode),
      })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      await waitRunning(worker.base, name)
      const reader = new TopicReader(worker.worker, `postgres-${table}`)
      readers.push(reader)
      const first = await reader.until((r) => r.length >= 2)
      return { table, name, reader, first }
    }

    const q = (t: string) => (backend.name === 'MariaDB' ? `\`${t}\`` : `"${t}"`)

    function checkFirstRecords(records: TopicReader['records'], table: string) {
      assert.equal(records.length, 2)
      const [ada, grace] = records.map((r) => r.value)
      assert.equal(records[0].key, null, 'the key is null, as Confluent’s')
      assert.equal(ada.schema.type, 'struct')
      assert.equal(ada.schema.name, table, 'the value schema is named after the table')
      const field = (f: string) => ada.schema.fields.find((x) => x.field === f)!
      assert.deepEqual(
        ada.schema.fields.map((f) => f.field),
        ['id', 'name', 'price', 'born', 'active', 'data', 'modified'],
      )
      assert.equal(field('name').optional, false, 'NOT NULL column → required field')
      assert.equal(field('price').optional, true)
      assert.equal(field('price').name, 'org.apache.kafka.connect.data.Decimal')
      assert.equal(field('price').parameters?.scale, '2')
      assert.equal(field('born').name, 'org.apache.kafka.connect.data.Date')
      assert.equal(field('modified').name, 'org.apache.kafka.connect.data.Timestamp')
      assert.equal(field('modified').type, 'int64')
      assert.equal(ada.payload.name, 'ada')
      // 10.50 at scale 2 = unscaled 1050 = 0x041a, base64 "BBo=".
      assert.equal(ada.payload.price, 'BBo=')
      assert.equal(ada.payload.born, Math.round(Date.UTC(1815, 11, 10) / 86_400_000))
      assert.ok([true, 1].includes(ada.payload.active as never), `active: ${ada.payload.active}`)
      assert.equal(typeof ada.payload.modified, 'number')
      assert.ok(
        Math.abs((ada.payload.modified as number) - Date.now()) < 10 * 60_000,
        'modified is about now',
      )
      assert.equal(grace.payload.name, 'grace')
      assert.equal(grace.payload.price, null)
    }

    async function offsetsOf(name: string) {
      const res = await request<{
        offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> }[]
      }>(worker.base, 'GET', `/connectors/${name}/offsets`)
      assert.equal(res.status, 200, JSON.stringify(res.body))
      return res.body.offsets
    }

    it('timestamp mode: copies the table, then every update, with Confluent’s offsets', async () => {
      const { table, name, reader, first } = await setUp('timestamp')
      checkFirstRecords(first, table)
      await db.sql(
        `UPDATE ${q(table)} SET name = 'ada lovelace', modified = ${backend.now} WHERE name = 'ada'`,
      )
      const records = await reader.until((r) => r.some((x) => x.value.payload.name === 'ada lovelace'))
      assert.equal(records.length, 3, 'only the updated row comes again')
      await db.sql(`INSERT INTO ${q(table)} (name) VALUES ('linus')`)
      await reader.until((r) => r.some((x) => x.value.payload.name === 'linus'))
      const lastModified = reader.records.at(-1)!.value.payload.modified as number
      const offsets = await waitForOffset(name, (o) => o.timestamp === lastModified)
      assert.deepEqual(offsets.partition, { table: backend.qualified(db, table), protocol: '1' })
      assert.equal(typeof offsets.offset.timestamp_nanos, 'number')
      assert.equal(offsets.offset.incrementing, undefined)
    })

    it('incrementing mode: copies the table, then every insert (not updates)', async () => {
      const { table, name, reader, first } = await setUp('incrementing')
      checkFirstRecords(first, table)
      await db.sql(
        `UPDATE ${q(table)} SET name = 'ignored' WHERE name = 'ada'`,
        `INSERT INTO ${q(table)} (name) VALUES ('linus')`,
      )
      const records = await reader.until((r) => r.some((x) => x.value.payload.name === 'linus'))
      assert.equal(records.length, 3)
      assert.ok(
        !records.some((r) => r.value.payload.name === 'ignored'),
        'updates are not seen in incrementing mode',
      )
      const offsets = await waitForOffset(name, (o) => o.incrementing === records[2].value.payload.id)
      assert.deepEqual(offsets.partition, { table: backend.qualified(db, table), protocol: '1' })
      assert.deepEqual(Object.keys(offsets.offset), ['incrementing'])
    })

    it('timestamp+incrementing mode: sees both updates and inserts, with (timestamp, id) offsets', async () => {
      const { table, name, reader, first } = await setUp('timestamp+incrementing')
      checkFirstRecords(first, table)
      await db.sql(
        `UPDATE ${q(table)} SET name = 'grace hopper', modified = ${backend.now} WHERE name = 'grace'`,
      )
      await reader.until((r) => r.some((x) => x.value.payload.name === 'grace hopper'))
      await db.sql(`INSERT INTO ${q(table)} (name) VALUES ('linus')`)
      const records = await reader.until((r) => r.some((x) => x.value.payload.name === 'linus'))
      assert.deepEqual(
        records.map((r) => r.value.payload.name),
        ['ada', 'grace', 'grace hopper', 'linus'],
      )
      const last = records[3].value.payload
      const offsets = await waitForOffset(
        name,
        (o) => o.incrementing === last.id && o.timestamp === last.modified,
      )
      assert.deepEqual(offsets.partition, { table: backend.qualified(db, table), protocol: '1' })
    })

    it('query mode: a custom query in incrementing mode writes to the topic named by topic.prefix', async () => {
      const table = `orders_q_${uniqueSuffix()}`
      await db.sql(
        backend.createTable(table),
        `INSERT INTO ${q(table)} (name, price) VALUES ('ada', 1.25), ('grace', 2.50)`,
      )
      const topic = `postgres-query-${uniqueSuffix()}`
      const name = `seed-query-${uniqueSuffix()}`
      const config = seedConnectorConfig(db, table, 'incrementing', {
        query: `SELECT id, name, price FROM ${q(table)}`,
        'topic.prefix': topic,
      })
      delete config['table.whitelist']
      const res = await request(worker.base, 'POST', '/connectors', { name, config })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      await waitRunning(worker.base, name)
      const reader = new TopicReader(worker.worker, topic)
      readers.push(reader)
      await reader.until((r) => r.length >= 2)
      await db.sql(`INSERT INTO ${q(table)} (name) VALUES ('linus')`)
      const records = await reader.until((r) => r.length >= 3)
      assert.deepEqual(
        records.map((r) => r.value.payload.name),
        ['ada', 'grace', 'linus'],
      )
      assert.equal(records[0].value.schema.name, undefined, 'query mode: an unnamed struct')
      assert.deepEqual(
        records[0].value.schema.fields.map((f) => f.field),
        ['id', 'name', 'price'],
      )
      const offsets = await waitForOffset(name, (o) => o.incrementing === records[2].value.payload.id)
      assert.deepEqual(offsets.partition, { query: 'query' })
    })

    async function waitForOffset(name: string, check: (offset: Record<string, unknown>) => boolean) {
      const deadline = Date.now() + 20_000
      for (;;) {
        const offsets = await offsetsOf(name)
        const found = offsets.find((o) => o.offset && check(o.offset))
        if (found) return found
        if (Date.now() > deadline) throw new Error(`no matching offset; have ${JSON.stringify(offsets)}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  })
}
