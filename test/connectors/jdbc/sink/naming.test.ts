/**
 * Table and column names the Debezium JDBC sink cannot resolve or PostgreSQL cannot hold, on the real
 * test PostgreSQL: a tombstone under `collection.name.format=${source.table}` is skipped (as Debezium's
 * DefaultCollectionNamingStrategy does), and a field name over PostgreSQL's 63-byte identifier limit
 * is refused with its name and the limit instead of a misleading "column already exists".
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { SinkTaskContext } from '../../../../src/api/connector.ts'
import { SchemaBuilder } from '../../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../../src/api/data/struct.ts'
import { SinkRecord } from '../../../../src/api/records.ts'
import { type DbConnection, openConnection } from '../../../../src/connectors/jdbc/common/connection.ts'
import { parseJdbcUrl } from '../../../../src/connectors/jdbc/common/url.ts'
import { DebeziumJdbcSinkTask, JdbcSinkTask } from '../../../../src/connectors/jdbc/sink/sink-task.ts'
import { freshPostgresDatabase, type TestDatabase } from '../../../helpers/databases.ts'
import { postgresSkipReason } from '../../../helpers/services.ts'

function context(reported: { record: SinkRecord; error: Error }[]): SinkTaskContext {
  return {
    configs: () => ({}),
    offset: () => {},
    timeout: () => {},
    assignment: () => [],
    pause: () => {},
    resume: () => {},
    requestCommit: () => {},
    errantRecordReporter: () => ({
      report: async (record, error) => {
        reported.push({ record, error })
      },
    }),
  }
}

describe('[integration] JDBC sink names on PostgreSQL', { skip: postgresSkipReason() }, () => {
  let pg: TestDatabase
  let db: DbConnection
  before(async () => {
    pg = await freshPostgresDatabase('jdbc_sink_names')
    db = await openConnection(parseJdbcUrl(pg.jdbcUrl))
  })
  after(async () => {
    await db?.close()
    await pg?.drop()
  })

  test('Debezium flavour, collection.name.format from source.table: the tombstone after a delete is skipped, the delete applied', async () => {
    const row = SchemaBuilder.struct()
      .name('srv.public.orders.Value')
      .field('id', SchemaBuilder.int32().build())
      .field('note', SchemaBuilder.string().optional().build())
      .optional()
      .build()
    const source = SchemaBuilder.struct()
      .name('io.debezium.connector.postgresql.Source')
      .field('table', SchemaBuilder.string().build())
      .build()
    const envelope = SchemaBuilder.struct()
      .name('srv.public.orders.Envelope')
      .field('before', row)
      .field('after', row)
      .field('source', source)
      .field('op', SchemaBuilder.string().build())
      .build()
    const keySchema = SchemaBuilder.struct()
      .name('srv.public.orders.Key')
      .field('id', SchemaBuilder.int32().build())
      .build()
    let offset = 0
    const event = (op: string, id: number): SinkRecord =>
      new SinkRecord({
        topic: 'srv.public.orders',
        kafkaPartition: 0,
        kafkaOffset: offset++,
        keySchema,
        key: new Struct(keySchema).put('id', id),
        valueSchema: envelope,
        value: new Struct(envelope)
          .put('before', op === 'd' ? new Struct(row).put('id', id) : null)
          .put('after', op === 'd' ? null : new Struct(row).put('id', id).put('note', `n${id}`))
          .put('source', new Struct(source).put('table', 'orders'))
          .put('op', op),
      })
    const tombstone = (id: number): SinkRecord =>
      new SinkRecord({
        topic: 'srv.public.orders',
        kafkaPartition: 0,
        kafkaOffset: offset++,
        keySchema,
        key: new Struct(keySchema).put('id', id),
        valueSchema: null,
        value: null,
      })
    const reported: { record: SinkRecord; error: Error }[] = []
    const task = new DebeziumJdbcSinkTask()
    task.initialize(context(reported))
    task.start({
      'connection.url': pg.jdbcUrl,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Debezium placeholder syntax
      'collection.name.format': '${source.table}',
      'insert.mode': 'upsert',
      'primary.key.mode': 'record_key',
      'delete.enabled': 'true',
      'schema.evolution': 'basic',
    })
    try {
      await task.put([event('c', 1), event('c', 2), event('d', 1), tombstone(1), event('c', 3)])
      await task.flush(new Map())
      await task.put([event('d', 3), tombstone(3)])
      await task.flush(new Map())
      assert.deepEqual(
        reported.map((r) => r.error.message),
        [],
        'nothing is reported: the tombstones are skipped',
      )
      const { rows } = await db.query('SELECT id FROM orders ORDER BY id')
      assert.deepEqual(
        rows.map((r) => Number(r[0])),
        [2],
      )
    } finally {
      await task.stop()
    }
  })

  test('a field name over 63 bytes is reported naming the field and the limit; the other records are written', async () => {
    const long = (c: string) => `${c.repeat(60)}_suffix_${c}`
    const schema = SchemaBuilder.struct()
      .name('wide')
      .field('id', SchemaBuilder.int32().build())
      .field(long('a'), SchemaBuilder.string().optional().build())
      .field(long('b'), SchemaBuilder.string().optional().build())
      .build()
    const plainSchema = SchemaBuilder.struct()
      .name('narrow')
      .field('id', SchemaBuilder.int32().build())
      .build()
    const reported: { record: SinkRecord; error: Error }[] = []
    const task = new JdbcSinkTask()
    task.initialize(context(reported))
    task.start({ 'connection.url': pg.jdbcUrl, 'auto.create': 'true', 'auto.evolve': 'true' })
    try {
      await task.put([
        new SinkRecord({
          topic: 'wide',
          kafkaPartition: 0,
          kafkaOffset: 0,
          keySchema: null,
          key: null,
          valueSchema: schema,
          value: new Struct(schema).put('id', 1).put(long('a'), 'x').put(long('b'), 'y'),
        }),
        new SinkRecord({
          topic: 'narrow',
          kafkaPartition: 0,
          kafkaOffset: 0,
          keySchema: null,
          key: null,
          valueSchema: plainSchema,
          value: new Struct(plainSchema).put('id', 7),
        }),
      ])
      await task.flush(new Map())
      assert.equal(reported.length, 1)
      const message = reported[0]!.error.message
      assert.match(message, new RegExp(`field '${long('a')}' is 69 bytes long`))
      assert.match(message, /at most 63 bytes/)
      assert.deepEqual(
        (await db.query('SELECT id FROM narrow')).rows.map((r) => Number(r[0])),
        [7],
      )
    } finally {
      await task.stop()
    }
  })
})
