/**
 * Type mapping parity with Debezium 3.6.1's PostgresValueConverter on a real server: point, hstore
 * (json/map), ltree, citext, money (money.fraction.digits), interval (string), time.precision.mode,
 * unknown types (include.unknown.datatypes), and the arrays Debezium leaves out. Every row is read by
 * the snapshot and again by the stream, and both must give the same values.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { SourceRecord } from '../../../src/api/records.ts'
import { parseSettings } from '../../../src/connectors/postgres-cdc/config.ts'
import {
  columnConverter,
  hstoreJson,
  parseHstore,
} from '../../../src/connectors/postgres-cdc/value-converters.ts'
import { postgresSkipReason } from '../../helpers/services.ts'
import { after, harness, op } from './harness.ts'
import { javaKeys } from './java/java-keys.ts'

const fieldSchemas = (r: SourceRecord): Record<string, string> =>
  Object.fromEntries(
    r.valueSchema!.fields[1].schema.fields.map((f) => [
      f.name,
      f.schema.name ?? (f.schema.type === 'ARRAY' ? `ARRAY<${f.schema.valueSchema?.type}>` : f.schema.type),
    ]),
  )

const TABLE = `CREATE TABLE ty (
  id int PRIMARY KEY, p point, p_nn point NOT NULL DEFAULT '(0,0)', h hstore, l ltree, c citext, ca citext[],
  la ltree[], m money, iv interval, ivz interval, d date, t time(6), ts timestamp(3), tsu timestamp(6),
  bx box, pa point[], ma money[], ia interval[], na name[], xa xml[], va varbit[], i inet, cr cidr,
  mac macaddr, tsv tsvector, r int4range, x xml, b bit(3))`
const ROW = (id: number): string => `(${id}, '(1.5,-2)', '(3,4)',
  '"a"=>"1", "b"=>NULL, "k\\"q"=>"v\\\\w", "zz"=>"", "key10"=>"x"', 'top.mid.leaf', 'MiXeD', '{A,b}',
  '{a.b,c}', 12.345, '1 year 2 mons 3 days 04:05:06.78', '3 days', '2024-05-01', '10:15:30.5',
  '2024-05-01 10:15:30.120', '2024-05-01 10:15:30.123456', '((1,1),(0,0))', '{"(1,2)"}', '{1}', '{1 day}',
  '{n}', '{<a/>}', '{101}', '10.0.0.1/8', '10.0.0.0/8', '08:00:2b:01:02:03', 'a fat cat', '[1,5)', '<a>x</a>',
  B'101')`

describe('[integration] PostgreSQL types as Debezium 3.6.1 maps them', { skip: postgresSkipReason() }, () => {
  for (const variant of ['defaults', 'alternatives'] as const) {
    test(`snapshot and stream agree (${variant})`, async () => {
      const h = await harness('cdc_types')
      try {
        await h.db.sql(
          'CREATE EXTENSION hstore',
          'CREATE EXTENSION ltree',
          'CREATE EXTENSION citext',
          TABLE,
          `INSERT INTO ty VALUES ${ROW(1)}`,
        )
        const props: Record<string, string> =
          variant === 'defaults'
            ? {}
            : {
                'hstore.handling.mode': 'map',
                'money.fraction.digits': '3',
                'interval.handling.mode': 'string',
                'include.unknown.datatypes': 'true',
                'binary.handling.mode': 'hex',
                'time.precision.mode': 'isostring',
              }
        await h.start(props)
        await h.pollUntil((r) => r.length >= 1, 30_000, 'the snapshot')
        await h.db.sql(`INSERT INTO ty VALUES ${ROW(2)}`)
        await h.pollUntil((r) => r.some((x) => op(x) === 'c'), 30_000, 'the streamed row')
        const snap = h.records.find((x) => op(x) === 'r')!
        const streamed = h.records.find((x) => op(x) === 'c')!
        const { id: _a, ...fromSnapshot } = after(snap)!
        const { id: _b, ...fromStream } = after(streamed)!
        assert.deepEqual(fromStream, fromSnapshot, 'the stream gives what the snapshot gave')
        assert.deepEqual(fieldSchemas(streamed), fieldSchemas(snap))
        const schemas = fieldSchemas(snap)
        const row = fromSnapshot
        // Arrays Debezium 3.6.1 leaves out (PostgresValueConverter.schemaBuilder returns null for them).
        for (const dropped of ['pa', 'ma', 'ia', 'na', 'xa', 'va'])
          assert.equal(schemas[dropped], undefined, dropped)
        const wkb = (x: number, y: number): string => {
          const b = Buffer.alloc(21)
          b.writeUInt8(1, 0)
          b.writeUInt32LE(1, 1)
          b.writeDoubleLE(x, 5)
          b.writeDoubleLE(y, 13)
          return b.toString('base64')
        }
        assert.equal(schemas.p, 'io.debezium.data.geometry.Point')
        assert.deepEqual(row.p, { x: 1.5, y: -2, wkb: wkb(1.5, -2), srid: null })
        assert.deepEqual(row.p_nn, { x: 3, y: 4, wkb: wkb(3, 4), srid: null })
        const pointSchema = snap.valueSchema!.fields[1].schema.fields.find((f) => f.name === 'p')!.schema
        assert.deepEqual(
          pointSchema.fields.map((f) => [f.name, f.schema.type, f.schema.optional]),
          [
            ['x', 'FLOAT64', false],
            ['y', 'FLOAT64', false],
            ['wkb', 'BYTES', true],
            ['srid', 'INT32', true],
          ],
        )
        assert.equal(pointSchema.doc, 'Geometry (POINT)')
        assert.equal(schemas.l, 'io.debezium.data.Ltree')
        assert.equal(row.l, 'top.mid.leaf')
        assert.equal(schemas.c, 'STRING')
        assert.equal(row.c, 'MiXeD')
        assert.deepEqual(row.ca, ['A', 'b'])
        assert.deepEqual(row.la, ['a.b', 'c'])
        assert.equal(row.i, '10.0.0.1/8')
        assert.equal(row.cr, '10.0.0.0/8')
        assert.equal(row.mac, '08:00:2b:01:02:03')
        assert.equal(schemas.tsv, 'io.debezium.data.Tsvector')
        assert.equal(row.tsv, "'a' 'cat' 'fat'")
        assert.equal(row.r, '[1,5)')
        assert.equal(schemas.x, 'io.debezium.data.Xml')
        assert.equal(schemas.b, 'io.debezium.data.Bits')
        assert.equal(row.b, Buffer.from([0b101]).toString('base64'))
        // Money: "$12.35" as printed by the server (lc_monetary C).
        assert.equal(schemas.m, 'org.apache.kafka.connect.data.Decimal')
        // hstore pairs in java.util.HashMap order, as Debezium writes them.
        const pairs =
          variant === 'defaults'
            ? Object.entries(JSON.parse(row.h as string))
            : [...(row.h as Map<string, string | null>).entries()]
        const keys = pairs.map(([k]) => k)
        const [javaOrder] = javaKeys('hashmap', [
          keys.map((k) => Buffer.from(k).toString('base64')).join('|'),
        ])
        assert.deepEqual(
          keys,
          javaOrder.split('|').map((k) => Buffer.from(k, 'base64').toString()),
        )
        assert.deepEqual(Object.fromEntries(pairs), { a: '1', b: null, 'k"q': 'v\\w', zz: '', key10: 'x' })
        if (variant === 'defaults') {
          assert.equal(schemas.h, 'io.debezium.data.Json')
          assert.equal(row.m, '12.35')
          assert.equal(schemas.iv, 'io.debezium.time.MicroDuration')
          assert.equal(schemas.bx, undefined, 'unknown types are left out by default')
          assert.equal(schemas.d, 'io.debezium.time.Date')
          assert.equal(schemas.t, 'io.debezium.time.MicroTime')
          assert.equal(schemas.ts, 'io.debezium.time.Timestamp')
          assert.equal(row.ts, Date.UTC(2024, 4, 1, 10, 15, 30, 120))
        } else {
          assert.equal(schemas.h, 'MAP')
          assert.equal(row.m, '12.350')
          assert.equal(schemas.iv, 'io.debezium.time.Interval')
          assert.equal(row.iv, 'P1Y2M3DT4H5M6.78S')
          assert.equal(row.ivz, 'P0Y0M3DT0H0M0S')
          assert.equal(schemas.bx, 'STRING', 'unknown types as their text, per binary.handling.mode')
          // The text of pgjdbc's PGbox, with Java's doubles, as Debezium 3.6.1 emits it.
          assert.equal(row.bx, Buffer.from('(1.0,1.0),(0.0,0.0)').toString('hex'))
          assert.equal(schemas.d, 'io.debezium.time.IsoDate')
          assert.equal(row.d, '2024-05-01Z')
          assert.equal(schemas.t, 'io.debezium.time.IsoTime')
          assert.equal(row.t, '10:15:30.5Z')
          assert.equal(schemas.ts, 'io.debezium.time.IsoTimestamp')
          assert.equal(row.ts, '2024-05-01T10:15:30.12Z')
          assert.equal(row.tsu, '2024-05-01T10:15:30.123456Z')
        }
      } finally {
        await h.close()
      }
    })
  }
})

const hstoreText = '"a"=>"1", "b"=>NULL, "k\\"q"=>"v\\\\w", "zz"=>"", "key10"=>"x"'

describe('hstore as Debezium writes it (pure)', () => {
  test('JSON in java.util.HashMap order, as Jackson escapes it, for more keys than one table resize', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `key${i * 7}`)
    const text = keys.map((k, i) => `"${k}"=>"${i}"`).join(', ')
    const [javaOrder] = javaKeys('hashmap', [keys.map((k) => Buffer.from(k).toString('base64')).join('|')])
    assert.deepEqual(
      Object.keys(JSON.parse(hstoreJson(text))),
      javaOrder.split('|').map((k) => Buffer.from(k, 'base64').toString()),
    )
    assert.equal(hstoreJson('"t"=>"a\tb\u0001"'), '{"t":"a\\tb\\u0001"}')
    assert.deepEqual(parseHstore(hstoreText), [
      ['a', '1'],
      ['b', null],
      ['k"q', 'v\\w'],
      ['zz', ''],
      ['key10', 'x'],
    ])
  })
})

describe('time.precision.mode=nanoseconds (pure)', () => {
  test('timestamps outside INT64 epoch nanoseconds fail naming the settings that hold them', () => {
    const settings = parseSettings({
      'database.hostname': 'db',
      'database.user': 'u',
      'database.dbname': 'd',
      'topic.prefix': 'srv',
      'time.precision.mode': 'nanoseconds',
    })
    const timestamp = {
      oid: 1114,
      name: 'timestamp',
      kind: 'b',
      element: null,
      enumLabels: null,
      baseTypmod: -1,
    }
    const converter = columnConverter({ type: timestamp, typmod: 6 }, true, null, settings)!
    assert.equal(converter.schema.name, 'io.debezium.time.NanoTimestamp')
    assert.equal(converter.convert('2262-04-11 23:47:16.854775'), 9223372036854775000n)
    assert.throws(
      () => converter.convert('1500-01-01 00:00:00'),
      /time\.precision\.mode 'microseconds' or 'isostring'/,
    )
    assert.throws(() => converter.convert('infinity'), /outside the range/)
  })
})
