/**
 * The JDBC sink task against real databases (SQLite files, the test PostgreSQL and MariaDB), driven
 * through the SinkTask SPI with records as the runtime delivers them: auto-create, upsert, delete,
 * evolve, bad-row isolation, tombstones, identifiers that look like SQL, Debezium change events.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { SinkTaskContext } from '../../../../src/api/connector.ts'
import { BigDecimal } from '../../../../src/api/data/big-decimal.ts'
import { Decimal, TimestampType } from '../../../../src/api/data/logical-types.ts'
import type { Schema } from '../../../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../../src/api/data/struct.ts'
import { SinkRecord } from '../../../../src/api/records.ts'
import { type DbConnection, openConnection } from '../../../../src/connectors/jdbc/common/connection.ts'
import { parseJdbcUrl } from '../../../../src/connectors/jdbc/common/url.ts'
import { DebeziumJdbcSinkTask, JdbcSinkTask } from '../../../../src/connectors/jdbc/sink/sink-task.ts'
import { freshMariadbDatabase, freshPostgresDatabase, type TestDatabase } from '../../../helpers/databases.ts'
import { mariadbSkipReason, postgresSkipReason } from '../../../helpers/services.ts'

interface Target {
  name: string
  skip: string | false
  setup(): Promise<{ url: string; drop(): Promise<void> }>
}

const targets: Target[] = [
  {
    name: 'SQLite',
    skip: false,
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-jdbc-sink-'))
      return {
        url: `jdbc:sqlite:${join(dir, 'sink.db')}`,
        async drop() {
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  },
  {
    name: 'PostgreSQL',
    skip: postgresSkipReason(),
    async setup() {
      const db: TestDatabase = await freshPostgresDatabase('jdbc_sink')
      return { url: db.jdbcUrl, drop: () => db.drop() }
    },
  },
  {
    name: 'MariaDB',
    skip: mariadbSkipReason(),
    async setup() {
      const db: TestDatabase = await freshMariadbDatabase('jdbc_sink')
      return { url: db.jdbcUrl, drop: () => db.drop() }
    },
  },
]

const keySchema = SchemaBuilder.struct().name('bet.Key').field('id', SchemaBuilder.string().build()).build()
const valueSchema = SchemaBuilder.struct()
  .name('bet.Value')
  .field('id', SchemaBuilder.string().build())
  .field('race_id', SchemaBuilder.int32().build())
  .field('amount', Decimal.builder(2).parameter('connect.decimal.precision', '10').build())
  .field('placed_at', TimestampType.builder().build())
  .field('note', SchemaBuilder.string().optional().build())
  .build()

function bet(id: string, raceId: number, amount: string, note: string | null = null): Struct {
  return new Struct(valueSchema)
    .put('id', id)
    .put('race_id', raceId)
    .put('amount', BigDecimal.parse(amount).setScale(2))
    .put('placed_at', new Date(Date.UTC(2024, 4, 1, 10, 15, 30, 123)))
    .put('note', note)
}

let offset = 0
function record(
  topic: string,
  key: Struct | null,
  value: Struct | null,
  vSchema: Schema = valueSchema,
): SinkRecord {
  return new SinkRecord({
    topic,
    kafkaPartition: 0,
    kafkaOffset: offset++,
    keySchema: key ? key.schema : keySchema,
    key,
    valueSchema: value ? vSchema : null,
    value,
  })
}
const key = (id: string) => new Struct(keySchema).put('id', id)

/** put, then the flush the runtime does before committing offsets: the rows are committed after it. */
async function write(task: JdbcSinkTask | DebeziumJdbcSinkTask, records: SinkRecord[]): Promise<void> {
  await task.put(records)
  await task.flush(new Map())
}

interface Harness {
  reported: { record: SinkRecord; error: Error }[]
  context: SinkTaskContext
}
function harness(withReporter = true): Harness {
  const reported: { record: SinkRecord; error: Error }[] = []
  const context: SinkTaskContext = {
    configs: () => ({}),
    offset: () => {},
    timeout: () => {},
    assignment: () => [],
    pause: () => {},
    resume: () => {},
    requestCommit: () => {},
    errantRecordReporter: () =>
      withReporter
        ? {
            report: async (r, e) => {
              reported.push({ record: r, error: e })
            },
          }
        : null,
  }
  return { reported, context }
}

for (const target of targets) {
  describe(`[integration] JDBC sink task on ${target.name}`, { skip: target.skip }, () => {
    let url = ''
    let drop: () => Promise<void> = async () => {}
    let db: DbConnection
    before(async () => {
      ;({ url, drop } = await target.setup())
      db = await openConnection(parseJdbcUrl(url))
    })
    const tasks: { stop(): Promise<void> }[] = []
    after(async () => {
      for (const task of tasks) await task.stop()
      await db?.close()
      await drop()
    })
    const q = (name: string) => db.dialect.quoteIdentifier(name)
    const rows = async (table: string, order = 'id') =>
      (await db.query(`SELECT * FROM ${q(table)} ORDER BY ${q(order)}`)).rows

    async function startTask(props: Record<string, string>, h = harness(), debezium = false) {
      const task = debezium ? new DebeziumJdbcSinkTask() : new JdbcSinkTask()
      task.initialize(h.context)
      task.start({ 'connection.url': url, ...props })
      tasks.push(task)
      return task
    }

    test('auto-creates the table and upserts by record key; a replayed batch changes nothing', async () => {
      const task = await startTask({
        'auto.create': 'true',
        'insert.mode': 'upsert',
        'pk.mode': 'record_key',
      })
      const batch = [
        record('tote_win_bets', key('a'), bet('a', 1, '10.50')),
        record('tote_win_bets', key('b'), bet('b', 1, '3.00', 'each way')),
        record('tote_win_bets', key('a'), bet('a', 1, '12.25')),
      ]
      await write(task, batch)
      await write(task, batch)
      const got = await rows('tote_win_bets')
      assert.equal(got.length, 2)
      assert.deepEqual(
        got.map((r) => [r[0], Number(r[2]).toFixed(2), r[4] ?? null]),
        [
          ['a', '12.25', null],
          ['b', '3.00', 'each way'],
        ],
      )
      await task.stop()
    })

    test('close() drops the queued rows of the partitions it closes: nothing of a lost partition is written after it', async () => {
      const task = await startTask({
        'auto.create': 'true',
        'insert.mode': 'upsert',
        'pk.mode': 'record_key',
        'batch.size': '100',
      })
      const on = (partition: number, id: string, raceId: number) =>
        new SinkRecord({
          topic: 'closed_rows',
          kafkaPartition: partition,
          kafkaOffset: offset++,
          keySchema,
          key: key(id),
          valueSchema,
          value: bet(id, raceId, '1'),
        })
      await write(task, [on(0, 'a', 1)])
      // The first put starts a write; the second one's rows queue behind it.
      await task.put([on(0, 'a', 2)])
      await task.put([on(1, 'b', 1), on(0, 'c', 1)])
      // Partition 1 is lost (its new owner reads b again); partition 0 stays.
      await task.close([{ topic: 'closed_rows', partition: 1 }])
      await task.flush(new Map())
      assert.deepEqual(
        (await rows('closed_rows')).map((r) => [r[0], Number(r[1])]),
        [
          ['a', 2],
          ['c', 1],
        ],
      )
    })

    test('puts made while a write is under way queue behind it and go in one transaction, in order; put waits once batch.size rows are queued', async () => {
      const task = await startTask({
        'auto.create': 'true',
        'insert.mode': 'upsert',
        'pk.mode': 'record_key',
        'batch.size': '3',
      })
      await write(task, [record('queued', key('a'), bet('a', 1, '1'))])
      // The first put starts a write; the next ones queue behind it (1 row, then 3 ≥ batch.size: wait).
      await task.put([record('queued', key('a'), bet('a', 2, '2'))])
      await task.put([record('queued', key('b'), bet('b', 1, '1'))])
      await task.put([
        record('queued', key('c'), bet('c', 1, '3')),
        record('queued', key('d'), bet('d', 1, '4')),
      ])
      // The third put returned once the write of the first had ended: its row is committed.
      assert.deepEqual(
        (await db.query(`SELECT ${q('race_id')} FROM ${q('queued')} WHERE ${q('id')} = 'a'`)).rows.map((r) =>
          Number(r[0]),
        ),
        [2],
      )
      await task.flush(new Map())
      assert.deepEqual(
        (await rows('queued')).map((r) => [r[0], Number(r[1])]),
        [
          ['a', 2],
          ['b', 1],
          ['c', 1],
          ['d', 1],
        ],
      )
      if (target.name === 'PostgreSQL') {
        // Rows of one transaction share its id (xmin): b, c and d (puts 2 and 3) were written together.
        const xmin = new Map(
          (await db.query('SELECT id, xmin::text FROM queued')).rows.map((r) => [r[0], r[1]]),
        )
        assert.equal(xmin.get('b'), xmin.get('c'))
        assert.equal(xmin.get('c'), xmin.get('d'))
        assert.notEqual(xmin.get('a'), xmin.get('b'))
      }
      await task.stop()
    })

    // SQLite has one writer per database file: concurrent tasks there are a different matter.
    if (target.name !== 'SQLite')
      test('tasks creating the same table at the same moment all succeed (one creates it, the others use it)', async () => {
        const props = { 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'record_key' }
        const racers = await Promise.all(Array.from({ length: 8 }, () => startTask(props)))
        await Promise.all(
          racers.map((task, i) => write(task, [record('tote_race', key(`r${i}`), bet(`r${i}`, 1, '1.00'))])),
        )
        assert.equal((await rows('tote_race')).length, 8)
        for (const task of racers) await task.stop()
      })

    test('deletes on tombstones with delete.enabled=true, in order with writes of the same batch', async () => {
      const task = await startTask({
        'auto.create': 'true',
        'insert.mode': 'upsert',
        'pk.mode': 'record_key',
        'delete.enabled': 'true',
      })
      await write(task, [
        record('deletes', key('a'), bet('a', 1, '1')),
        record('deletes', key('b'), bet('b', 1, '2')),
        record('deletes', key('a'), null),
        record('deletes', key('c'), bet('c', 1, '3')),
        record('deletes', key('c'), null),
        record('deletes', key('c'), bet('c', 2, '4')),
      ])
      assert.deepEqual(
        (await rows('deletes')).map((r) => r[0]),
        ['b', 'c'],
      )
      await task.stop()
    })

    test('reports a tombstone with deletes disabled to the errant reporter and writes the rest', async () => {
      const h = harness()
      const task = await startTask(
        { 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'record_key' },
        h,
      )
      await write(task, [
        record('tomb', key('a'), bet('a', 1, '1')),
        record('tomb', key('a'), null),
        record('tomb', key('b'), bet('b', 1, '2')),
      ])
      assert.equal((await rows('tomb')).length, 2)
      assert.equal(h.reported.length, 1)
      assert.equal(h.reported[0]!.record.value, null)
      assert.match(h.reported[0]!.error.message, /delete\.enabled/)
      await task.stop()
    })

    test('isolates one bad row: the batch is retried row by row, the bad row reported, the others committed', async () => {
      const h = harness()
      const task = await startTask(
        { 'auto.create': 'true', 'insert.mode': 'insert', 'pk.mode': 'record_key' },
        h,
      )
      await write(task, [record('isolate', key('dup'), bet('dup', 1, '1'))])
      const dup = record('isolate', key('dup'), bet('dup', 2, '2'))
      await write(task, [
        record('isolate', key('x1'), bet('x1', 1, '1')),
        dup,
        record('isolate', key('x2'), bet('x2', 1, '3')),
      ])
      assert.deepEqual(
        (await rows('isolate')).map((r) => r[0]),
        ['dup', 'x1', 'x2'],
      )
      assert.equal(h.reported.length, 1)
      // The very record handed to put(), even when its write ends after later puts: by it the runtime
      // finds the bytes as consumed for the dead letter queue.
      assert.equal(h.reported[0]!.record, dup)
      assert.equal((h.reported[0]!.record.value as Struct).get('id'), 'dup')
      await task.stop()
    })

    test('without a reporter and errors.tolerance=none a bad row fails the task at the next put or flush', async () => {
      const task = await startTask({ 'auto.create': 'true', 'pk.mode': 'record_key' }, harness(false))
      await write(task, [record('strict', key('a'), bet('a', 1, '1'))])
      await assert.rejects(
        write(task, [record('strict', key('a'), bet('a', 1, '1'))]),
        /cannot write record strict-0@/,
      )
      await assert.rejects(task.put([]), /cannot write record strict-0@/, 'and stays failed')
      await task.stop()
    })

    test('auto.evolve adds a nullable column for a new optional field and never drops one', async () => {
      const task = await startTask({
        'auto.create': 'true',
        'auto.evolve': 'true',
        'insert.mode': 'upsert',
        'pk.mode': 'record_key',
      })
      await write(task, [record('evolve', key('a'), bet('a', 1, '1'))])
      const wider = SchemaBuilder.struct()
        .name('bet.Value')
        .field('id', SchemaBuilder.string().build())
        .field('race_id', SchemaBuilder.int32().build())
        .field('amount', Decimal.builder(2).parameter('connect.decimal.precision', '10').build())
        .field('placed_at', TimestampType.builder().build())
        .field('odds', SchemaBuilder.float64().optional().build())
        .build()
      await write(task, [
        record(
          'evolve',
          key('b'),
          new Struct(wider)
            .put('id', 'b')
            .put('race_id', 2)
            .put('amount', BigDecimal.parse('1.00'))
            .put('placed_at', new Date(0))
            .put('odds', 2.5),
          wider,
        ),
      ])
      const result = await db.query(`SELECT * FROM ${q('evolve')} ORDER BY ${q('id')}`)
      assert.deepEqual(
        result.columns.map((c) => c.name),
        ['id', 'race_id', 'amount', 'placed_at', 'note', 'odds'],
      )
      assert.equal(result.rows.length, 2)
      assert.equal(Number(result.rows[1]![5]), 2.5)
      assert.equal(result.rows[0]![5], null)
      await task.stop()
    })

    test('a topic and a field that look like SQL become odd identifiers, nothing else runs', async () => {
      await db.execute(`CREATE TABLE ${q('y')} (id INT)`)
      const odd = 'x"; DROP TABLE y; --'
      const oddField = "n`); DROP TABLE y; --'"
      const schema = SchemaBuilder.struct()
        .field('id', SchemaBuilder.int32().build())
        .field(oddField, SchemaBuilder.string().build())
        .build()
      const task = await startTask({
        'auto.create': 'true',
        'pk.mode': 'record_value',
        'pk.fields': 'id',
        'insert.mode': 'upsert',
      })
      await write(task, [
        new SinkRecord({
          topic: odd,
          kafkaPartition: 0,
          kafkaOffset: 1,
          valueSchema: schema,
          value: new Struct(schema).put('id', 1).put(oddField, 'v'),
        }),
      ])
      const got = await db.query(`SELECT ${q(oddField)} FROM ${q(odd)}`)
      assert.deepEqual(got.rows, [['v']])
      assert.deepEqual(
        (await db.query(`SELECT COUNT(*) FROM ${q('y')}`)).rows.map((r) => Number(r[0])),
        [0],
        'table y is still there',
      )
      await task.stop()
    })

    test('large batches (COPY on PostgreSQL): writes, deletes and rewrites of one table in one put keep their order; a bad row is isolated', async () => {
      const h = harness()
      const task = await startTask(
        { 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'delete.enabled': 'true' },
        h,
      )
      const ids = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}`)
      await write(task, [
        ...ids.map((id) => record('bulk', key(id), bet(id, 1, '1'))),
        ...ids.slice(0, 100).map((id) => record('bulk', key(id), null)),
        ...ids.slice(0, 50).map((id) => record('bulk', key(id), bet(id, 2, '2'))),
        ...ids.slice(200).map((id) => record('bulk', key(id), bet(id, 3, '3'))),
      ])
      const got = await rows('bulk')
      assert.equal(got.length, 250)
      const raceOf = new Map(got.map((r) => [String(r[0]), Number(r[1])]))
      assert.equal(raceOf.get('k000'), 2)
      assert.equal(raceOf.has('k099'), false)
      assert.equal(raceOf.get('k150'), 1)
      assert.equal(raceOf.get('k299'), 3)
      // One row whose key is already taken, in insert mode, among 99 good ones.
      const insert = await startTask(
        { 'insert.mode': 'insert', 'pk.mode': 'record_key', 'table.name.format': 'bulk' },
        h,
      )
      await write(insert, [
        ...Array.from({ length: 99 }, (_, i) => record('other', key(`n${i}`), bet(`n${i}`, 4, '4'))),
        record('other', key('k150'), bet('k150', 4, '4')),
      ])
      assert.equal((await rows('bulk')).length, 349)
      assert.equal(h.reported.length, 1)
      assert.equal((h.reported[0]!.record.value as Struct).get('id'), 'k150')
      assert.equal(
        Number((await rows('bulk')).find((r) => r[0] === 'k150')![1]),
        1,
        'the old row is untouched',
      )
    })

    test('insert.mode=update, fields.whitelist and quote.sql.identifiers=never', async () => {
      const task = await startTask({
        'auto.create': 'true',
        'insert.mode': 'upsert',
        'pk.mode': 'record_key',
        'fields.whitelist': 'race_id,note',
        'quote.sql.identifiers': 'never',
        'table.name.format': 'Mixed_Case',
      })
      await write(task, [
        record('t', key('a'), bet('a', 1, '1', 'first')),
        record('t', key('b'), bet('b', 1, '1')),
      ])
      // PostgreSQL folds unquoted names to lower case; MySQL and SQLite keep them.
      const table = db.dialect.name === 'postgresql' ? 'mixed_case' : 'Mixed_Case'
      const result = await db.query(`SELECT * FROM ${q(table)} ORDER BY ${q('id')}`)
      assert.deepEqual(
        result.columns.map((c) => c.name),
        ['id', 'race_id', 'note'],
      )
      const update = await startTask({
        'insert.mode': 'update',
        'pk.mode': 'record_key',
        'fields.whitelist': 'note',
        'quote.sql.identifiers': 'never',
        'table.name.format': 'Mixed_Case',
      })
      await write(update, [
        record('t', key('a'), bet('a', 9, '1', 'second')),
        record('t', key('zz'), bet('zz', 9, '1')),
      ])
      const after = await db.query(
        `SELECT ${q('id')}, ${q('race_id')}, ${q('note')} FROM ${q(table)} ORDER BY ${q('id')}`,
      )
      assert.deepEqual(
        after.rows.map((r) => [r[0], Number(r[1]), r[2]]),
        [
          ['a', 1, 'second'],
          ['b', 1, null],
        ],
        'update changes only the listed columns of existing rows and inserts nothing',
      )
    })

    test('pk.mode=kafka keys rows by topic, partition and offset', async () => {
      const task = await startTask({ 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'kafka' })
      const r = record('by_offset', null, bet('a', 1, '1'))
      await write(task, [r, r])
      const got = await db.query(
        `SELECT ${q('__connect_topic')}, ${q('__connect_partition')}, ${q('__connect_offset')}, ${q('id')} FROM ${q('by_offset')}`,
      )
      assert.deepEqual(
        got.rows.map((row) => row.map(String)),
        [['by_offset', '0', String(r.kafkaOffset), 'a']],
      )
      await task.stop()
    })

    test('Debezium flavour: consumes change events (c/u/r upsert after, d delete); a tombstone deletes too, skipped with deletes off', async () => {
      const row = SchemaBuilder.struct()
        .name('srv.public.bets.Value')
        .field('id', SchemaBuilder.int32().build())
        .field('stake', SchemaBuilder.string().optional().build())
        .optional()
        .build()
      const source = SchemaBuilder.struct()
        .name('io.debezium.connector.postgresql.Source')
        .field('table', SchemaBuilder.string().build())
        .build()
      const envelope = SchemaBuilder.struct()
        .name('srv.public.bets.Envelope')
        .field('before', row)
        .field('after', row)
        .field('source', source)
        .field('op', SchemaBuilder.string().build())
        .build()
      const dKey = SchemaBuilder.struct()
        .name('srv.public.bets.Key')
        .field('id', SchemaBuilder.int32().build())
        .build()
      const event = (op: string, id: number, stake: string | null) => {
        const after = op === 'd' ? null : new Struct(row).put('id', id).put('stake', stake)
        const before = op === 'd' ? new Struct(row).put('id', id) : null
        return new SinkRecord({
          topic: 'srv.public.bets',
          kafkaPartition: 0,
          kafkaOffset: offset++,
          keySchema: dKey,
          key: new Struct(dKey).put('id', id),
          valueSchema: envelope,
          value: new Struct(envelope)
            .put('before', before)
            .put('after', after)
            .put('source', new Struct(source).put('table', 'bets'))
            .put('op', op),
        })
      }
      const tombstone = new SinkRecord({
        topic: 'srv.public.bets',
        kafkaPartition: 0,
        kafkaOffset: offset++,
        keySchema: dKey,
        key: new Struct(dKey).put('id', 1),
        valueSchema: null,
        value: null,
      })
      const task = await startTask(
        {
          'schema.evolution': 'basic',
          'insert.mode': 'upsert',
          'primary.key.mode': 'record_key',
          'delete.enabled': 'true',
        },
        harness(),
        true,
      )
      const read = async () =>
        (
          await db.query(`SELECT ${q('id')}, ${q('stake')} FROM ${q('srv_public_bets')} ORDER BY ${q('id')}`)
        ).rows.map((r) => [Number(r[0]), r[1]])
      await write(task, [
        event('r', 1, '5'),
        event('c', 2, '6'),
        event('u', 1, '7'),
        event('c', 3, '8'),
        event('c', 4, '9'),
        event('d', 3, null),
      ])
      assert.deepEqual(await read(), [
        [1, '7'],
        [2, '6'],
        [4, '9'],
      ])
      // Deletes off: d events and tombstones are skipped.
      const keep = await startTask(
        {
          'insert.mode': 'upsert',
          'primary.key.mode': 'record_key',
          'collection.name.format': 'srv_public_bets',
        },
        harness(),
        true,
      )
      await write(keep, [event('d', 2, null), tombstone])
      assert.equal((await read()).length, 3)
      // Deletes on: a tombstone (the only delete an ExtractNewRecordState stream carries) deletes.
      await write(task, [tombstone])
      assert.deepEqual(await read(), [
        [2, '6'],
        [4, '9'],
      ])
    })
  })
}
