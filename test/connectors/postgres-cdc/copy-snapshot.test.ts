/**
 * The snapshot reads tables with `COPY … TO STDOUT` and both paths convert the common types straight
 * from the bytes: COPY's text format split as the server writes it (escapes, `\N`), the byte
 * converters giving exactly what the text converters give, snapshot and stream agreeing on awkward
 * values, flow control over a large table, and a COPY that fails or is abandoned midway.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pg from 'pg'
import type { Struct } from '../../../src/api/data/struct.ts'
import type { SourceRecord } from '../../../src/api/records.ts'
import { parseSettings } from '../../../src/connectors/postgres-cdc/config.ts'
import { CopyReader, splitRow } from '../../../src/connectors/postgres-cdc/copy-reader.ts'
import { POLL_RECORDS } from '../../../src/connectors/postgres-cdc/source-task.ts'
import {
  type ColumnConverter,
  columnConverter,
} from '../../../src/connectors/postgres-cdc/value-converters.ts'
import { freshPostgresDatabase } from '../../helpers/databases.ts'
import { postgresSkipReason } from '../../helpers/services.ts'
import { after, harness, op, plain } from './harness.ts'

describe('COPY text rows (pure)', () => {
  test('columns split on tabs, escapes decoded, \\N is null and an escaped \\N is text', () => {
    const line = Buffer.from('1\ta\\tb\\nc\\\\d\t\\N\t\\\\N\t\tx\\by\\fz\\rw\\v\th\u00e9llo \u2713\t\\q\n')
    const row = splitRow(line, 0, line.length)
    assert.deepEqual(row.texts(), [
      '1',
      'a\tb\nc\\d',
      null,
      '\\N',
      '',
      'x\by\fz\rw\v',
      'h\u00e9llo \u2713',
      'q',
    ])
    // A row inside a larger buffer, without its newline.
    const inside = Buffer.concat([Buffer.from('xx'), Buffer.from('7\t\\N'), Buffer.from('yy')])
    assert.deepEqual(splitRow(inside, 2, 6).texts(), ['7', null])
    // The expected column count only sizes the arrays: more or fewer columns read the same.
    assert.deepEqual(splitRow(line, 0, line.length, 3).texts(), row.texts())
    assert.deepEqual(splitRow(inside, 2, 6, 20).texts(), ['7', null])
    assert.deepEqual(row.pick([6, -1, 0, 99]).texts(), ['h\u00e9llo \u2713', null, '1', null])
  })
})

const settings = parseSettings({
  'database.hostname': 'h',
  'database.user': 'u',
  'database.dbname': 'd',
  'topic.prefix': 'p',
})
const base = { kind: 'b', element: null, enumLabels: null, baseTypmod: -1 }
const converter = (name: string, typmod = -1): ColumnConverter =>
  columnConverter({ type: { oid: 1, name, ...base }, typmod }, true, null, settings)!

describe('byte converters (pure)', () => {
  test('give what the text converters give, or leave the value to them', () => {
    const cases: [string, number, string[]][] = [
      ['bool', -1, ['t', 'f']],
      ['int2', -1, ['0', '-32768', '32767']],
      ['int4', -1, ['7', '-2147483648', '2147483647']],
      ['int8', -1, ['0', '-1', '999999999999999', '9007199254740993', '-9223372036854775808']],
      ['numeric', ((12 << 16) | 2) + 4, ['0.00', '-1234.50', '1234567890.12', '1.5', '7', 'NaN']],
      ['numeric', ((30 << 16) | 3) + 4, ['123456789012345678.123', '-0.001']],
      ['date', -1, ['2024-02-29', '1970-01-01', '1000-01-01', '0500-01-01', 'infinity', '-infinity']],
      ...[-1, 0, 3].map((typmod): [string, number, string[]] => [
        'timestamptz',
        typmod,
        [
          '2024-05-01 10:15:30+00',
          '2024-05-01 10:15:30.5+00',
          '2024-05-01 10:15:30.123456+00',
          '1699-12-31 23:59:59.9+00',
          '2200-01-01 00:00:00+00',
          '1500-01-01 00:00:00+00',
          '0044-03-15 12:00:00+00 BC',
          'infinity',
          '-infinity',
        ],
      ]),
    ]
    for (const [type, typmod, texts] of cases) {
      const c = converter(type, typmod)
      assert.ok(c.bytes, `${type} converts from bytes`)
      for (const text of texts) {
        const bytes = Buffer.from(`##${text}##`)
        const fast = c.bytes(bytes, 2, bytes.length - 2)
        let expected: unknown
        try {
          expected = c.convert(text)
        } catch (error) {
          // The text converter refuses it: the byte converter must leave it to the text one.
          assert.equal(fast, undefined, `${type} ${text}: ${String(error)}`)
          continue
        }
        if (fast !== undefined) assert.deepEqual(fast, expected, `${type}(${typmod}) ${text}`)
      }
    }
    // The forms a byte converter must leave to the text converter, which knows them.
    assert.equal(converter('int8').bytes!(Buffer.from('9007199254740993'), 0, 16), undefined)
    assert.equal(converter('date').bytes!(Buffer.from('infinity'), 0, 8), undefined)
    assert.equal(converter('timestamptz').bytes!(Buffer.from('1500-01-01 00:00:00+00'), 0, 22), undefined)
    assert.equal(converter('text').bytes, null)
  })
})

const TABLE = `CREATE TABLE cp (id int PRIMARY KEY, t text, j jsonb, b bytea, n numeric, m numeric(12,2),
  big bigint, ts timestamptz, d date, f boolean, s smallint)`
/** Texts that COPY escapes, or that look like its escapes, and values beside the fast paths. */
const TEXTS = [
  `'tab' || chr(9) || 'here'`,
  `'line' || chr(10) || 'break' || chr(13) || 'cr'`,
  `'back\\slash'`,
  `'\\N'`,
  `''`,
  'NULL',
  `'h\u00e9llo \u2713'`,
  `'ctl' || chr(1) || chr(8) || chr(12) || chr(11)`,
  `'ends\\'`,
]
const EXPECTED = [
  'tab\there',
  'line\nbreak\rcr',
  'back\\slash',
  '\\N',
  '',
  null,
  'h\u00e9llo \u2713',
  'ctl\u0001\b\f\u000b',
  'ends\\',
]
const rows = (offset: number): string =>
  TEXTS.map(
    (t, i) => `(${offset + i}, ${t}, jsonb_build_object('k', ${t}), convert_to(${t}, 'UTF8'),
      ${i % 2 === 0 ? '12345678901234567890.123' : '-0.5'}, ${i === 5 ? 'NULL' : `${i * 1000 + 0.5}`},
      ${i % 3 === 0 ? '9007199254740993' : `-${i}`},
      ${['now()', `'infinity'`, `'1500-06-01 12:00:00.25+02'`][i % 3]},
      ${[`'2024-02-29'`, `'1999-12-31'`, `'0500-01-01'`][i % 3]}, ${i % 2 === 0}, ${-32768 + i})`,
  ).join(', ')

const withoutId = (r: SourceRecord): Record<string, unknown> => {
  const { id: _id, ts: _ts, ...rest } = after(r)!
  return rest
}

describe('[integration] snapshot by COPY', { skip: postgresSkipReason() }, () => {
  test('snapshot and stream agree on values COPY escapes, with the socket paused every two rows', async () => {
    const h = await harness('cdc_copy')
    try {
      await h.db.sql(TABLE, `INSERT INTO cp VALUES ${rows(1)}`)
      await h.start({ 'snapshot.fetch.size': '2' })
      await h.pollUntil((r) => r.length >= TEXTS.length, 30_000, 'the snapshot')
      await h.db.sql(`INSERT INTO cp VALUES ${rows(101)}`)
      await h.pollUntil((r) => r.filter((x) => op(x) === 'c').length >= TEXTS.length, 30_000, 'the stream')
      const snapshot = h.records.filter((x) => op(x) === 'r')
      const streamed = h.records.filter((x) => op(x) === 'c')
      assert.deepEqual(
        snapshot.map((r) => after(r)!.t),
        EXPECTED,
      )
      assert.deepEqual(
        streamed.map(withoutId),
        snapshot.map(withoutId),
        'the stream gives what the snapshot gave',
      )
      assert.deepEqual(
        snapshot.map((r) => JSON.parse(after(r)!.j as string).k),
        EXPECTED,
      )
      assert.deepEqual(
        snapshot.map((r) =>
          after(r)!.b === null ? null : Buffer.from(after(r)!.b as string, 'base64').toString(),
        ),
        EXPECTED,
      )
      const first = after(snapshot[0])!
      assert.equal(((snapshot[0].value as Struct).get('after') as Struct).get('big'), 9007199254740993n)
      assert.equal(first.s, -32768)
      assert.equal(first.f, true)
      assert.equal(first.m, '0.50')
      assert.equal(first.d, 19782)
      assert.equal(after(snapshot[1])!.ts, 'infinity')
      assert.equal(after(snapshot[2])!.ts, '1500-06-01T10:00:00.250000Z')
      assert.equal(after(snapshot[1])!.d, 10956)
      assert.deepEqual(
        snapshot.map((r) => (plain(r.value) as { source: { snapshot: string } }).source.snapshot),
        ['first', ...Array(TEXTS.length - 2).fill('true'), 'last'],
      )
    } finally {
      await h.close()
    }
  })

  test('a large table arrives whole and in order with a small read-ahead', async () => {
    const h = await harness('cdc_copy_big')
    try {
      await h.db.sql(
        'CREATE TABLE big (id int PRIMARY KEY, v text)',
        `INSERT INTO big SELECT g, repeat('x', g % 50) FROM generate_series(1, 30000) g`,
      )
      await h.start({ 'snapshot.mode': 'initial_only', 'snapshot.fetch.size': '100' })
      await h.pollUntil((r) => r.length >= 30_000, 60_000, 'the snapshot')
      const ids = h.records.map((r) => after(r)!.id)
      assert.deepEqual(
        ids,
        Array.from({ length: 30_000 }, (_, i) => i + 1),
      )
      assert.equal(after(h.records[49])!.v, '')
      assert.equal(after(h.records[48])!.v, 'x'.repeat(49))
      // At most POLL_RECORDS per poll, below max.batch.size (2048): a poll's records then die
      // young instead of being promoted (source-task.ts).
      assert.equal(Math.max(...h.batchSizes), POLL_RECORDS)
    } finally {
      await h.close()
    }
  })

  test('rows waiting to be taken pause the COPY at a byte bound, whatever snapshot.fetch.size allows', async () => {
    const db = await freshPostgresDatabase('cdc_copy_bytes')
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      await db.sql(
        'CREATE TABLE wide (id int PRIMARY KEY, v text)',
        `INSERT INTO wide SELECT g, repeat('w', 1000) FROM generate_series(1, 20000) g`,
      )
      // ~20 MB of rows; a row count bound far above them, a byte bound of 100 kB.
      const reader = new CopyReader(
        client,
        { text: 'COPY (SELECT id, v FROM wide) TO STDOUT' },
        1_000_000,
        100_000,
      )
      await new Promise((r) => setTimeout(r, 1000))
      const first = (await reader.take())!
      // Paused at ~100 rows, plus the rest of the socket read under way (the driver parses it whole).
      assert.ok(first.length >= 100 && first.length < 1000, `${first.length} rows waited`)
      let total = first.length
      let last = first[first.length - 1].texts()[0]
      for (let rows = await reader.take(); rows !== null; rows = await reader.take()) {
        assert.ok(rows.length < 1000, `${rows.length} rows waited`)
        assert.equal(Number(rows[0].texts()[0]), Number(last) + 1)
        last = rows[rows.length - 1].texts()[0]
        total += rows.length
      }
      assert.equal(total, 20_000)
    } finally {
      await client.end()
      await db.drop()
    }
  })

  test('rows wider than a block and than the read-ahead arrive whole, between narrow ones', async () => {
    const db = await freshPostgresDatabase('cdc_copy_huge')
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      // Every tenth row ~200 KB (over the 64 KiB block and read-ahead), with escaped tabs in it.
      await db.sql(
        'CREATE TABLE mixed (id int PRIMARY KEY, v text)',
        `INSERT INTO mixed SELECT g, CASE WHEN g % 10 = 0 THEN repeat(E'z\\t' || g, 50000) ELSE 'n' || g END
           FROM generate_series(1, 300) g`,
      )
      const reader = new CopyReader(
        client,
        { text: 'COPY (SELECT id, v FROM mixed ORDER BY id) TO STDOUT' },
        10_240,
      )
      const seen: [number, string][] = []
      for (let rows = await reader.take(); rows !== null; rows = await reader.take())
        for (const row of rows) seen.push([Number(row.texts()[0]), row.texts()[1]!])
      assert.equal(seen.length, 300)
      for (const [i, [id, v]] of seen.entries()) {
        assert.equal(id, i + 1)
        assert.equal(v, id % 10 === 0 ? `z\t${id}`.repeat(50000) : `n${id}`, `row ${id}`)
      }
    } finally {
      await client.end()
      await db.drop()
    }
  })

  test('a COPY cut off midway fails the poll instead of ending the snapshot early', async () => {
    const h = await harness('cdc_copy_cut')
    try {
      await h.db.sql(
        'CREATE TABLE big (id int PRIMARY KEY, v text)',
        `INSERT INTO big SELECT g, repeat('y', 100) FROM generate_series(1, 200000) g`,
      )
      await h.start({ 'snapshot.mode': 'initial_only', 'snapshot.fetch.size': '50', 'max.batch.size': '10' })
      await h.pollUntil((r) => r.length >= 10, 30_000, 'the first rows')
      const [killed] = (await h.db.sql(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND query LIKE 'COPY%'`,
      )) as { n: number }[][]
      assert.equal(killed[0].n, 1, 'the COPY was found')
      await assert.rejects(
        h.pollUntil(() => false, 30_000, 'the failure'),
        (error: Error) => !/timed out/.test(error.message),
      )
      assert.ok(h.records.length < 200_000, 'the snapshot did not complete')
    } finally {
      await h.close()
    }
  })

  test('stopping while the server waits on a paused COPY returns and ends its connection', async () => {
    const h = await harness('cdc_copy_stop')
    try {
      await h.db.sql(
        'CREATE TABLE big (id int PRIMARY KEY, v text)',
        `INSERT INTO big SELECT g, repeat('y', 100) FROM generate_series(1, 200000) g`,
      )
      await h.start({ 'snapshot.mode': 'initial_only', 'snapshot.fetch.size': '50', 'max.batch.size': '10' })
      await h.pollUntil((r) => r.length >= 10, 30_000, 'the first rows')
      const started = Date.now()
      await h.stopTask()
      assert.ok(Date.now() - started < 10_000, `stop took ${Date.now() - started} ms`)
      const deadline = Date.now() + 10_000
      for (;;) {
        const [left] = (await h.db.sql(
          `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE 'COPY%' AND state = 'active'`,
        )) as { n: number }[][]
        if (left[0].n === 0) break
        assert.ok(Date.now() < deadline, 'the COPY connection ended')
        await new Promise((r) => setTimeout(r, 100))
      }
    } finally {
      await h.close()
    }
  })
})
