/**
 * Seed 001 end to end (examples/seed-001-tote-pool): the bet and odds schemas are registered in the
 * worker's schema registry, two batches of bets and the odds are POSTed to the worker's REST proxy
 * by `value_schema_id` (keys by `key_schema`), and a JDBC sink with `AvroConverter` and
 * `topics.regex=tote_.*` creates the PostgreSQL tables with typed columns and upserts into them.
 * On the embedded log and on Kafka, with the example's own files.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { SchemaRegistry as ConfluentClient } from '@kafkajs/confluent-schema-registry'
import type { LogRecord } from '../../src/log/log.ts'
import { freshPostgresDatabase, type TestDatabase } from '../helpers/databases.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'seed-001-tote-pool')
const read = (file: string) => readFileSync(join(EXAMPLE, file), 'utf8')

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await sleep(250)
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
}

for (const backend of ['embedded', 'kafka'] as const) {
  const skip = postgresSkipReason() || (backend === 'kafka' ? kafkaSkipReason() : false)
  describe(`seed 001: bets through the REST proxy into PostgreSQL, on the ${backend} log`, {
    skip,
    timeout: 180_000,
  }, () => {
    let tw: TestWorker
    let db: TestDatabase
    let registry: string
    let proxy: string
    // Kafka is shared: the example's topic names get a per-run suffix there (still matching tote_.*).
    const suffix = backend === 'kafka' ? `_${randomUUID().slice(0, 8)}` : ''
    const bets = `tote_win_bets${suffix}`
    const odds = `tote_race_runners_odds${suffix}`
    const ids: Record<string, number> = {}

    before(async () => {
      db = await freshPostgresDatabase('seed001')
      tw = await startTestWorker({
        'schema.registry.listeners': 'http://127.0.0.1:0',
        'rest.proxy.listeners': 'http://127.0.0.1:0',
        'schema.registry.topic': `_schemas${suffix}`,
        ...(backend === 'kafka' ? { 'bootstrap.servers': kafkaBootstrap() } : {}),
      })
      registry = `http://127.0.0.1:${tw.worker.services.registryServer!.port}`
      proxy = `http://127.0.0.1:${tw.worker.services.proxyServer!.port}`
    })
    after(async () => {
      if (tw && suffix) await tw.worker.log.deleteTopics([bets, odds, `_schemas${suffix}`]).catch(() => {})
      await tw?.close()
      await db?.drop()
    })

    test('registers the schemas and posts two batches of bets and the odds by value_schema_id', async () => {
      for (const [topic, file] of [
        [bets, 'schemas/tote_win_bets.avsc'],
        [odds, 'schemas/tote_race_runners_odds.avsc'],
      ] as const) {
        const res = await fetch(`${registry}/subjects/${topic}-value/versions`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
          body: JSON.stringify({ schema: read(file) }),
        })
        assert.equal(res.status, 200)
        ids[topic] = ((await res.json()) as { id: number }).id
      }
      for (const [topic, file] of [
        [bets, 'bets-batch-1.json'],
        [bets, 'bets-batch-2.json'],
        [odds, 'odds.json'],
      ] as const) {
        const body = { ...JSON.parse(read(file)), value_schema_id: ids[topic] }
        const res = await fetch(`${proxy}/topics/${topic}`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.kafka.avro.v2+json' },
          body: JSON.stringify(body),
        })
        const answer = (await res.json()) as {
          value_schema_id: number
          key_schema_id: number
          offsets: { error_code: number | null }[]
        }
        assert.equal(res.status, 200, JSON.stringify(answer))
        assert.equal(answer.value_schema_id, ids[topic])
        assert.equal(typeof answer.key_schema_id, 'number')
        assert.ok(answer.offsets.every((o) => o.error_code === null))
      }
      // What landed in the topic decodes with an independent Confluent client.
      const consumer = tw.worker.log.createConsumer({
        groupId: `seed-${randomUUID()}`,
        clientId: 'seed-reader',
      })
      const records: LogRecord[] = []
      try {
        await consumer.assign([{ topic: bets, partition: 0 }])
        const deadline = Date.now() + 20_000
        while (records.length < 7 && Date.now() < deadline) records.push(...(await consumer.poll(500)))
      } finally {
        await consumer.close()
      }
      assert.equal(records.length, 7)
      const client = new ConfluentClient({ host: registry })
      const first = (await client.decode(Buffer.from(records[0]!.value!))) as Record<string, unknown>
      assert.equal(first.bet_id, 'b-0001')
      assert.equal(first.customer_id, 'c-17')
      assert.equal(await client.decode(Buffer.from(records[0]!.key!)), 'b-0001')
    })

    test('the JDBC sink with AvroConverter and topics.regex creates typed tables and upserts', async () => {
      const plugins = (await (await fetch(`${tw.base}/connector-plugins?connectorsOnly=false`)).json()) as {
        class: string
      }[]
      assert.ok(
        plugins.some((p) => p.class === 'io.confluent.connect.avro.AvroConverter'),
        'io.confluent.connect.avro.AvroConverter is a built-in plugin',
      )
      const { name, config } = JSON.parse(read('connect-jdbc-sink.json')) as {
        name: string
        config: Record<string, string>
      }
      const pgUrl = new URL(db.url)
      config['connection.url'] = db.jdbcUrl
      config['connection.user'] = decodeURIComponent(pgUrl.username)
      config['connection.password'] = decodeURIComponent(pgUrl.password)
      config['key.converter.schema.registry.url'] = registry
      config['value.converter.schema.registry.url'] = registry
      config['topics.regex'] = suffix ? `tote_.*${suffix}` : 'tote_.*'
      const created = await fetch(`${tw.base}/connectors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, config }),
      })
      assert.equal(created.status, 201, await created.text())
      const rows = await until('both tables filled', async () => {
        const [betRows, oddsRows] = (await db.sql(
          `SELECT * FROM "${bets}" ORDER BY id`,
          `SELECT * FROM "${odds}" ORDER BY id`,
        )) as Record<string, unknown>[][]
        return betRows!.length === 5 &&
          oddsRows!.length === 3 &&
          betRows!.find((r) => r.id === 'b-0004')?.amount === 12
          ? { betRows: betRows!, oddsRows: oddsRows! }
          : undefined
      })
      const [columns] = (await db.sql(
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name IN ('${bets}', '${odds}') ORDER BY table_name, column_name`,
      )) as { table_name: string; column_name: string; data_type: string; is_nullable: string }[][]
      const typeOf = (table: string, column: string) => {
        const c = columns!.find((x) => x.table_name === table && x.column_name === column)
        return c ? `${c.data_type}${c.is_nullable === 'YES' ? ' null' : ''}` : undefined
      }
      assert.equal(typeOf(bets, 'id'), 'text')
      assert.equal(typeOf(bets, 'bet_id'), 'text')
      assert.equal(typeOf(bets, 'race_id'), 'integer')
      assert.equal(typeOf(bets, 'amount'), 'double precision')
      assert.equal(typeOf(bets, 'placed_at'), 'timestamp without time zone')
      assert.equal(typeOf(bets, 'is_each_way'), 'boolean')
      assert.equal(typeOf(bets, 'customer_id'), 'text null')
      assert.equal(typeOf(odds, 'odds'), 'double precision null')
      const [pk] = (await db.sql(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '"${bets}"'::regclass AND i.indisprimary`,
      )) as { attname: string }[][]
      assert.deepEqual(
        pk!.map((r) => r.attname),
        ['id'],
      )
      const byId = Object.fromEntries(rows.betRows.map((r) => [r.id, r]))
      assert.equal(byId['b-0002']!.amount, 0)
      assert.equal(byId['b-0004']!.amount, 12)
      assert.equal(byId['b-0004']!.customer_id, 'c-04')
      assert.equal(byId['b-0001']!.customer_id, 'c-17')
      assert.equal(byId['b-0002']!.customer_id, null)
      const [stamp] = (await db.sql(
        `SELECT to_char(placed_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS t FROM "${bets}" WHERE id = 'b-0001'`,
      )) as { t: string }[][]
      assert.equal(`${stamp![0]!.t}Z`, new Date(1796515200000).toISOString())
      assert.deepEqual(
        rows.oddsRows.map((r) => [r.id, r.odds]),
        [
          ['0-1', 1.4],
          ['0-2', null],
          ['0-3', 5.1],
        ],
      )
    })
  })
}
