/**
 * Seed 001, the tote pool: topics of bets on Kafka (JsonConverter with schemas) written into a
 * database by the JDBC sink — tables auto-created from the record schemas, upserts by key, deletes on
 * tombstones, a new optional field added as a column — through a real worker, configured over REST
 * with a `topics` list and with `topics.regex`, on PostgreSQL, MariaDB and SQLite.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { bigIntToBytes } from '../../../../src/api/data/logical-types.ts'
import { type StandaloneWorker, startStandalone } from '../../../../src/cli/standalone.ts'
import { WorkerConfig } from '../../../../src/config/worker-config.ts'
import { type DbConnection, openConnection } from '../../../../src/connectors/jdbc/common/connection.ts'
import { parseJdbcUrl } from '../../../../src/connectors/jdbc/common/url.ts'
import { TOPIC_VARIABLE } from '../../../../src/connectors/jdbc/sink/config.ts'
import { freshMariadbDatabase, freshPostgresDatabase } from '../../../helpers/databases.ts'
import { eventually, request, waitRunning } from '../../../helpers/rest.ts'
import {
  kafkaBootstrap,
  kafkaSkipReason,
  mariadbSkipReason,
  postgresSkipReason,
} from '../../../helpers/services.ts'

const databases = [
  {
    name: 'PostgreSQL',
    skip: postgresSkipReason(),
    async make() {
      const db = await freshPostgresDatabase('seed001')
      return { url: db.jdbcUrl, drop: () => db.drop() }
    },
  },
  {
    name: 'MariaDB',
    skip: mariadbSkipReason(),
    async make() {
      const db = await freshMariadbDatabase('seed001')
      return { url: db.jdbcUrl, drop: () => db.drop() }
    },
  },
  {
    name: 'SQLite',
    skip: false as string | false,
    async make() {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-seed001-'))
      return {
        url: `jdbc:sqlite:${join(dir, 'totes.db')}`,
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      }
    },
  },
]

const KEY_SCHEMA = {
  type: 'struct',
  optional: false,
  name: 'tote.BetKey',
  fields: [{ field: 'bet_id', type: 'int64', optional: false }],
}
const betSchema = (withOdds: boolean) => ({
  type: 'struct',
  optional: false,
  name: 'tote.Bet',
  fields: [
    { field: 'bet_id', type: 'int64', optional: false },
    { field: 'race_id', type: 'int32', optional: false },
    { field: 'runner', type: 'string', optional: false },
    {
      field: 'amount',
      type: 'bytes',
      optional: false,
      name: 'org.apache.kafka.connect.data.Decimal',
      version: 1,
      parameters: { scale: '2', 'connect.decimal.precision': '12' },
    },
    {
      field: 'placed_at',
      type: 'int64',
      optional: false,
      name: 'org.apache.kafka.connect.data.Timestamp',
      version: 1,
    },
    ...(withOdds ? [{ field: 'odds', type: 'double', optional: true }] : []),
  ],
})
const cents = (amount: number) =>
  Buffer.from(bigIntToBytes(BigInt(Math.round(amount * 100)))).toString('base64')

function bet(betId: number, raceId: number, runner: string, amount: number, odds?: number) {
  const payload: Record<string, unknown> = {
    bet_id: betId,
    race_id: raceId,
    runner,
    amount: cents(amount),
    placed_at: Date.UTC(2024, 4, 1, 12, 0, betId),
  }
  if (odds !== undefined) payload.odds = odds
  return {
    key: Buffer.from(JSON.stringify({ schema: KEY_SCHEMA, payload: { bet_id: betId } })),
    value: Buffer.from(JSON.stringify({ schema: betSchema(odds !== undefined), payload })),
  }
}
const tombstone = (betId: number) => ({
  key: Buffer.from(JSON.stringify({ schema: KEY_SCHEMA, payload: { bet_id: betId } })),
  value: null,
})

describe('[integration] seed 001: tote topics into databases through a worker on Kafka', {
  skip: kafkaSkipReason(),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-seed001-worker-'))
  let worker: StandaloneWorker
  let base = ''
  before(async () => {
    worker = await startStandalone(
      new WorkerConfig({
        'bootstrap.servers': kafkaBootstrap(),
        'sluice.data.dir': join(dir, 'data'),
        listeners: 'http://127.0.0.1:0',
        'offset.flush.interval.ms': '200',
        'log.level': 'error',
      }),
    )
    base = `http://127.0.0.1:${worker.rest.port}`
  })
  after(async () => {
    await worker?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const database of databases) {
    it(`writes tote_ topics into ${database.name}: topics list and topics.regex, auto-create, upsert, delete, evolve`, {
      skip: database.skip,
    }, async () => {
      const { url, drop } = await database.make()
      let db: DbConnection | undefined
      const sfx = Math.random().toString(36).slice(2, 8)
      const bets = `tote_${sfx}_win_bets`
      const odds = `tote_${sfx}_race_runners_odds`
      try {
        await worker.log.createTopics([
          { name: bets, partitions: 2, replicationFactor: 1 },
          { name: odds, partitions: 1, replicationFactor: 1 },
        ])
        const producer = worker.log.createProducer({ clientId: `seed001-${sfx}` })
        await producer.send([
          ...[1, 2, 3, 4].map((n) => ({ topic: bets, ...bet(n, 7, `runner-${n}`, n * 2.5) })),
          ...[10, 11].map((n) => ({ topic: odds, ...bet(n, 7, `odds-${n}`, 1) })),
        ])
        const common = {
          'connection.url': url,
          'auto.create': 'true',
          'auto.evolve': 'true',
          'insert.mode': 'upsert',
          'pk.mode': 'record_key',
          'delete.enabled': 'true',
          'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'connection.backoff.ms': '500',
        }
        for (const [name, config] of [
          [
            `seed-list-${sfx}`,
            {
              ...common,
              'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
              topics: `${bets},${odds}`,
            },
          ],
          [
            `seed-regex-${sfx}`,
            {
              ...common,
              'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
              'topics.regex': `tote_${sfx}_.*`,
              'table.name.format': `regex_${TOPIC_VARIABLE}`,
            },
          ],
        ] as const) {
          const res = await request(base, 'POST', '/connectors', { name, config })
          assert.equal(res.status, 201, JSON.stringify(res.body))
        }
        for (const name of [`seed-list-${sfx}`, `seed-regex-${sfx}`]) {
          await waitRunning(base, name)
        }
        db = await openConnection(parseJdbcUrl(url))
        const q = db.dialect.quoteIdentifier
        const read = async (table: string, columns = 'bet_id,runner,amount') => {
          try {
            const result = await db!.query(
              `SELECT ${columns.split(',').map(q).join(',')} FROM ${q(table)} ORDER BY ${q('bet_id')}`,
            )
            return result.rows.map((r) =>
              r.map((v) => (v === null ? null : String(Number.isNaN(Number(v)) ? v : Number(v)))),
            )
          } catch {
            return undefined
          }
        }
        const expectRows = async (table: string, expected: (string | null)[][], columns?: string) =>
          eventually(
            async () => {
              const got = await read(table, columns)
              return JSON.stringify(got) === JSON.stringify(expected) ? true : undefined
            },
            60_000,
            `${table} = ${JSON.stringify(expected)} (last: ${JSON.stringify(await read(table, columns))})`,
          )
        for (const prefix of ['', 'regex_']) {
          await expectRows(`${prefix}${bets}`, [
            ['1', 'runner-1', '2.5'],
            ['2', 'runner-2', '5'],
            ['3', 'runner-3', '7.5'],
            ['4', 'runner-4', '10'],
          ])
          await expectRows(`${prefix}${odds}`, [
            ['10', 'odds-10', '1'],
            ['11', 'odds-11', '1'],
          ])
        }
        // Updates (upsert by key), a delete, and a new optional field (auto.evolve adds a column).
        await producer.send([
          { topic: bets, ...bet(2, 7, 'runner-2b', 6) },
          { topic: bets, ...tombstone(3) },
          { topic: bets, ...bet(5, 8, 'runner-5', 1.25, 3.5) },
          { topic: bets, ...bet(1, 7, 'runner-1', 0) },
        ])
        await producer.close()
        for (const prefix of ['', 'regex_']) {
          await expectRows(
            `${prefix}${bets}`,
            [
              ['1', 'runner-1', '0', null],
              ['2', 'runner-2b', '6', null],
              ['4', 'runner-4', '10', null],
              ['5', 'runner-5', '1.25', '3.5'],
            ],
            'bet_id,runner,amount,odds',
          )
        }
        for (const name of [`seed-list-${sfx}`, `seed-regex-${sfx}`]) {
          const status = await request<{ tasks: { state: string }[] }>(
            base,
            'GET',
            `/connectors/${name}/status`,
          )
          assert.equal(status.body.tasks[0]?.state, 'RUNNING')
          assert.equal((await request(base, 'DELETE', `/connectors/${name}`)).status, 204)
        }
      } finally {
        await db?.close()
        await drop()
      }
    })
  }

  it('runs as io.debezium.connector.jdbc.JdbcSinkConnector on Debezium change events (JsonConverter envelopes)', async () => {
    const { url, drop } = await databases[2]!.make()
    const sfx = Math.random().toString(36).slice(2, 8)
    const topic = `srv${sfx}.public.bets`
    let db: DbConnection | undefined
    const row = {
      type: 'struct',
      optional: true,
      name: `srv${sfx}.public.bets.Value`,
      fields: [
        { field: 'id', type: 'int32', optional: false },
        { field: 'stake', type: 'string', optional: true },
      ],
    }
    const envelope = {
      type: 'struct',
      optional: false,
      name: `srv${sfx}.public.bets.Envelope`,
      version: 2,
      fields: [
        { ...row, field: 'before' },
        { ...row, field: 'after' },
        {
          type: 'struct',
          optional: false,
          name: 'io.debezium.connector.postgresql.Source',
          field: 'source',
          fields: [{ field: 'table', type: 'string', optional: false }],
        },
        { field: 'op', type: 'string', optional: false },
        { field: 'ts_ms', type: 'int64', optional: true },
      ],
    }
    const keySchema = {
      type: 'struct',
      optional: false,
      name: `srv${sfx}.public.bets.Key`,
      fields: [{ field: 'id', type: 'int32', optional: false }],
    }
    const event = (op: string, id: number, stake: string | null) => ({
      topic,
      key: Buffer.from(JSON.stringify({ schema: keySchema, payload: { id } })),
      value: Buffer.from(
        JSON.stringify({
          schema: envelope,
          payload: {
            before: op === 'd' ? { id, stake: null } : null,
            after: op === 'd' ? null : { id, stake },
            source: { table: 'bets' },
            op,
            ts_ms: 1,
          },
        }),
      ),
    })
    try {
      await worker.log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
      const producer = worker.log.createProducer({ clientId: `dbz-${sfx}` })
      await producer.send([
        event('r', 1, '5'),
        event('c', 2, '6'),
        event('u', 1, '7'),
        event('d', 2, null),
        { topic, key: Buffer.from(JSON.stringify({ schema: keySchema, payload: { id: 2 } })), value: null },
        event('c', 3, '8'),
      ])
      await producer.close()
      const name = `dbz-${sfx}`
      const res = await request(base, 'POST', '/connectors', {
        name,
        config: {
          'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
          topics: topic,
          'connection.url': url,
          'insert.mode': 'upsert',
          'primary.key.mode': 'record_key',
          'delete.enabled': 'true',
          'schema.evolution': 'basic',
          'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        },
      })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      db = await openConnection(parseJdbcUrl(url))
      const q = db.dialect.quoteIdentifier
      await eventually(
        async () => {
          const got = await db!
            .query(`SELECT ${q('id')}, ${q('stake')} FROM ${q(`srv${sfx}_public_bets`)} ORDER BY ${q('id')}`)
            .catch(() => undefined)
          return JSON.stringify(got?.rows) ===
            JSON.stringify([
              [1, '7'],
              [3, '8'],
            ])
            ? true
            : undefined
        },
        60_000,
        'rows 1 and 3 in srv_public_bets',
      )
      const status = await request<{ tasks: { state: string }[] }>(base, 'GET', `/connectors/${name}/status`)
      assert.equal(status.body.tasks[0]?.state, 'RUNNING')
      await request(base, 'DELETE', `/connectors/${name}`)
    } finally {
      await db?.close()
      await drop()
    }
  })

  it('answers 400 naming the key for delete.enabled without pk.mode=record_key, on validate and on create', async () => {
    const name = `bad-${Math.random().toString(36).slice(2, 8)}`
    const config = {
      name,
      'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
      topics: 'tote_x',
      'connection.url': 'jdbc:sqlite:/tmp/never-opened.db',
      'delete.enabled': 'true',
      'pk.mode': 'record_value',
    }
    const validate = await request<{
      error_count: number
      configs: { value: { name: string; errors: string[] } }[]
    }>(base, 'PUT', '/connector-plugins/io.confluent.connect.jdbc.JdbcSinkConnector/config/validate', config)
    assert.equal(validate.status, 200)
    assert.equal(
      validate.body.error_count,
      1,
      JSON.stringify(validate.body.configs.filter((c) => c.value.errors.length)),
    )
    const bad = validate.body.configs.find((c) => c.value.errors.length > 0)!
    assert.equal(bad.value.name, 'delete.enabled')
    assert.match(bad.value.errors[0]!, /needs pk\.mode=record_key/)
    const create = await request<{ error_code: number; message: string }>(base, 'POST', '/connectors', {
      name,
      config,
    })
    assert.equal(create.status, 400)
    assert.match(create.body.message, /delete\.enabled/)
  })

  it('sends a bad row and a tombstone (deletes off) to the dead-letter topic and keeps running (errors.tolerance=all)', async () => {
    const { url, drop } = await databases[2]!.make()
    const sfx = Math.random().toString(36).slice(2, 8)
    const topic = `tote_${sfx}_dlq_bets`
    const dlq = `tote_${sfx}_dead`
    let db: DbConnection | undefined
    try {
      await worker.log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
      const producer = worker.log.createProducer({ clientId: `seed001-dlq-${sfx}` })
      await producer.send([
        { topic, ...bet(1, 7, 'a', 1) },
        { topic, ...bet(2, 7, 'b', 2) },
        { topic, ...bet(1, 7, 'again', 3) },
        { topic, ...tombstone(2) },
        { topic, ...bet(3, 7, 'c', 4) },
      ])
      await producer.close()
      const name = `seed-dlq-${sfx}`
      const res = await request(base, 'POST', '/connectors', {
        name,
        config: {
          'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
          topics: topic,
          'connection.url': url,
          'auto.create': 'true',
          'insert.mode': 'insert',
          'pk.mode': 'record_key',
          'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'errors.tolerance': 'all',
          'errors.deadletterqueue.topic.name': dlq,
          'errors.deadletterqueue.topic.replication.factor': '1',
          'errors.deadletterqueue.context.headers.enable': 'true',
        },
      })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      db = await openConnection(parseJdbcUrl(url))
      const q = db.dialect.quoteIdentifier
      await eventually(
        async () => {
          const got = await db!
            .query(`SELECT ${q('runner')} FROM ${q(topic)} ORDER BY ${q('bet_id')}`)
            .catch(() => undefined)
          return JSON.stringify(got?.rows) === JSON.stringify([['a'], ['b'], ['c']]) ? true : undefined
        },
        60_000,
        'rows a, b, c',
      )
      const consumer = worker.log.createConsumer({ groupId: `dlq-reader-${sfx}`, clientId: 'dlq-reader' })
      const dead: {
        value: Uint8Array | null
        headers: readonly { key: string; value: Uint8Array | null }[]
      }[] = []
      try {
        await eventually(
          async () => ((await worker.log.describeTopics([dlq])).has(dlq) ? true : undefined),
          30_000,
          'the DLQ',
        )
        await consumer.assign([{ topic: dlq, partition: 0 }])
        const deadline = Date.now() + 30_000
        while (dead.length < 2 && Date.now() < deadline) dead.push(...(await consumer.poll(500)))
      } finally {
        await consumer.close()
      }
      assert.equal(dead.length, 2)
      assert.match(Buffer.from(dead[0]!.value!).toString(), /"again"/)
      assert.equal(dead[1]!.value, null, 'the tombstone')
      const header = (i: number, k: string) =>
        Buffer.from(dead[i]!.headers.find((h) => h.key === k)?.value ?? new Uint8Array()).toString()
      assert.equal(header(0, '__connect.errors.offset'), '2')
      assert.match(header(1, '__connect.errors.exception.message'), /delete\.enabled=false/)
      const status = await request<{ tasks: { state: string }[] }>(base, 'GET', `/connectors/${name}/status`)
      assert.equal(status.body.tasks[0]?.state, 'RUNNING')
      await request(base, 'DELETE', `/connectors/${name}`)
    } finally {
      await db?.close()
      await drop()
    }
  })
})
