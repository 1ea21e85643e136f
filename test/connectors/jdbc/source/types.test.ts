/**
 * Column types → Connect schemas and values on the real databases, read through the task (table mode),
 * against Confluent's mapping (`GenericDatabaseDialect.addFieldToSchema`).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Props } from '../../../../src/api/connector.ts'
import type { Schema } from '../../../../src/api/data/schema.ts'
import type { Struct } from '../../../../src/api/data/struct.ts'
import { JdbcSourceTask } from '../../../../src/connectors/jdbc/source/source-task.ts'
import { freshMariadbDatabase, freshPostgresDatabase, type TestDatabase } from '../../../helpers/databases.ts'
import { mariadbSkipReason, postgresSkipReason } from '../../../helpers/services.ts'

async function firstRow(props: Props): Promise<Struct> {
  const task = new JdbcSourceTask()
  task.initialize({
    configs: () => props,
    offsetStorageReader: () => ({
      offset: async () => null,
      offsets: async (partitions) => new Map(partitions.map((p) => [p, null])),
    }),
  })
  await task.start(props)
  try {
    for (let i = 0; i < 20; i++) {
      const records = await task.poll()
      if (records && records.length > 0) return records[0].value as Struct
    }
    throw new Error('no row read')
  } finally {
    await task.stop()
  }
}

function shape(schema: Schema): Record<string, string> {
  return Object.fromEntries(
    schema.fields.map((f) => [
      f.name,
      `${f.schema.name ?? f.schema.type}${f.schema.type === 'ARRAY' ? `<${f.schema.valueSchema!.type}>` : ''}${
        f.schema.parameters?.scale ? `(${f.schema.parameters.scale})` : ''
      }${f.schema.optional ? '?' : ''}`,
    ]),
  )
}

const DECIMAL = 'org.apache.kafka.connect.data.Decimal'
const DATE = 'org.apache.kafka.connect.data.Date'
const TIME = 'org.apache.kafka.connect.data.Time'
const TIMESTAMP = 'org.apache.kafka.connect.data.Timestamp'

describe('[integration] JDBC source types on PostgreSQL', { skip: postgresSkipReason() }, () => {
  let db: TestDatabase
  before(async () => {
    db = await freshPostgresDatabase('jdbc_types')
    await db.sql(
      `CREATE TABLE t (id SERIAL PRIMARY KEY, s SMALLINT, i INTEGER NOT NULL, b BIGINT, r REAL, d DOUBLE PRECISION,
        n NUMERIC(12,3), n0 NUMERIC(5,0), tx TEXT, vc VARCHAR(10), ch CHAR(3), by BYTEA, dt DATE, tm TIME,
        ts TIMESTAMP, tz TIMESTAMPTZ, bo BOOLEAN, u UUID, j JSONB, arr INTEGER[], iv INTERVAL)`,
      `INSERT INTO t (s, i, b, r, d, n, n0, tx, vc, ch, by, dt, tm, ts, tz, bo, u, j, arr, iv) VALUES
        (-2, 42, 9007199254740993, 1.5, 2.25, 1234.567, 99999, 'text', 'vc', 'abc', '\\x0102', '2024-02-29',
         '13:14:15.5', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15+02', true,
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2]}', '{1,NULL,3}', '1 day 2 hours')`,
    )
  })
  after(async () => {
    await db?.drop()
  })
  const props = (extra: Record<string, string> = {}) => ({
    'connection.url': db.jdbcUrl,
    mode: 'bulk',
    tables: JSON.stringify([{ schema: 'public', table: 't' }]),
    ...extra,
  })

  it('maps each type as Confluent does (arrays and other types kept instead of dropped)', async () => {
    const row = await firstRow(props())
    assert.equal(row.schema.name, 't')
    assert.deepEqual(shape(row.schema), {
      id: 'INT32',
      s: 'INT16?',
      i: 'INT32',
      b: 'INT64?',
      r: 'FLOAT32?',
      d: 'FLOAT64?',
      n: `${DECIMAL}(3)?`,
      n0: `${DECIMAL}(0)?`,
      tx: 'STRING?',
      vc: 'STRING?',
      ch: 'STRING?',
      by: 'BYTES?',
      dt: `${DATE}?`,
      tm: `${TIME}?`,
      ts: `${TIMESTAMP}?`,
      tz: `${TIMESTAMP}?`,
      bo: 'BOOLEAN?',
      u: 'STRING?',
      j: 'STRING?',
      arr: 'ARRAY<INT32>?',
      iv: 'STRING?',
    })
    assert.equal(row.get('b'), 9007199254740993n)
    assert.equal(String(row.get('n')), '1234.567')
    assert.deepEqual([...(row.get('by') as Uint8Array)], [1, 2])
    assert.equal((row.get('dt') as Date).toISOString(), '2024-02-29T00:00:00.000Z')
    assert.equal((row.get('tm') as Date).getTime(), (13 * 3600 + 14 * 60 + 15) * 1000 + 500)
    assert.equal((row.get('ts') as Date).toISOString(), '2024-02-29T13:14:15.123Z')
    assert.equal((row.get('tz') as Date).toISOString(), '2024-02-29T11:14:15.000Z')
    assert.equal(row.get('ch'), 'abc')
    assert.deepEqual(JSON.parse(row.get('j') as string), { k: [1, 2] })
    assert.deepEqual(row.get('arr'), [1, null, 3])
  })

  it('numeric.mapping=best_fit turns NUMERIC into integers and doubles', async () => {
    const row = await firstRow(props({ 'numeric.mapping': 'best_fit' }))
    const types = shape(row.schema)
    assert.equal(types.n, 'FLOAT64?')
    assert.equal(types.n0, 'INT32?')
    assert.equal(row.get('n'), 1234.567)
    assert.equal(row.get('n0'), 99999)
  })
})

describe('[integration] JDBC source types on MariaDB', { skip: mariadbSkipReason() }, () => {
  let db: TestDatabase
  before(async () => {
    db = await freshMariadbDatabase('jdbc_types')
    await db.sql(
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, su SMALLINT UNSIGNED,
        iu INT UNSIGNED NOT NULL, bi BIGINT, f FLOAT, d DOUBLE, de DECIMAL(10,2), b1 BIT(1), b8 BIT(8),
        vc VARCHAR(20), tx TEXT, bl BLOB, dt DATE, tm TIME(3), dtm DATETIME(3), ts TIMESTAMP(6) NULL, j JSON,
        e ENUM('a','b'))`,
      `INSERT INTO t (ti, tu, su, iu, bi, f, d, de, b1, b8, vc, tx, bl, dt, tm, dtm, ts, j, e) VALUES
        (-1, 255, 65535, 4294967295, -9007199254740993, 1.5, 2.25, 12345678.91, b'1', b'10000001', 'vc', 'text',
         x'0102', '2024-02-29', '13:14:15.5', '2024-02-29 13:14:15.123', '2024-02-29 13:14:15.123456',
         '{"k": 1}', 'b')`,
    )
  })
  after(async () => {
    await db?.drop()
  })

  it('maps each type as Confluent does (UNSIGNED one size up, DECIMAL always Decimal, BIT(1) boolean)', async () => {
    const row = await firstRow({
      'connection.url': db.jdbcUrl,
      mode: 'bulk',
      'numeric.mapping': 'best_fit',
      tables: JSON.stringify([{ catalog: db.name, table: 't' }]),
    })
    assert.deepEqual(shape(row.schema), {
      id: 'INT32',
      ti: 'INT8?',
      tu: 'INT16?',
      su: 'INT32?',
      iu: 'INT64',
      bi: 'INT64?',
      f: 'FLOAT32?',
      d: 'FLOAT64?',
      de: `${DECIMAL}(2)?`,
      b1: 'BOOLEAN?',
      b8: 'BYTES?',
      vc: 'STRING?',
      tx: 'STRING?',
      bl: 'BYTES?',
      dt: `${DATE}?`,
      tm: `${TIME}?`,
      dtm: `${TIMESTAMP}?`,
      ts: `${TIMESTAMP}?`,
      j: 'STRING?',
      e: 'STRING?',
    })
    assert.equal(row.get('tu'), 255)
    assert.equal(row.get('iu'), 4294967295)
    assert.equal(row.get('bi'), -9007199254740993n)
    assert.equal(String(row.get('de')), '12345678.91')
    assert.equal(row.get('b1'), true)
    assert.deepEqual([...(row.get('bl') as Uint8Array)], [1, 2])
    assert.equal((row.get('dtm') as Date).toISOString(), '2024-02-29T13:14:15.123Z')
    assert.equal((row.get('ts') as Date).toISOString(), '2024-02-29T13:14:15.123Z')
    assert.equal(row.get('e'), 'b')
  })
})
