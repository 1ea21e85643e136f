import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DateType, TimestampType, TimeType } from '../../src/api/data/logical-types.ts'
import { Schemas } from '../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../src/api/data/schema-builder.ts'
import { Struct } from '../../src/api/data/struct.ts'
import { SimpleDateFormat } from '../../src/transforms/simple-date-format.ts'
import { TimestampConverter } from '../../src/transforms/timestamp-converter.ts'
import { sink } from './records.ts'

// Kafka's TimestampConverterTest values: 2017-01-03 06:27:58.664 UTC.
const DATE = new Date(Date.UTC(2017, 0, 3))
const TIME = new Date(Date.UTC(1970, 0, 1, 6, 27, 58, 664) - 0)
const DATE_PLUS_TIME = new Date(Date.UTC(2017, 0, 3, 6, 27, 58, 664))
const DATE_PLUS_TIME_UNIX = 1483424878664
const STRING_DATE_FMT = 'yyyy MM dd HH mm ss SSS z'
const DATE_PLUS_TIME_STRING = '2017 01 03 06 27 58 664 UTC'

function converter(props: Record<string, string>, side: 'key' | 'value' = 'value'): TimestampConverter {
  const t = new TimestampConverter(side)
  t.configure(props)
  return t
}

describe('TimestampConverter', () => {
  test('converts a schemaless Date to unix milliseconds, string, Date and Time', () => {
    assert.equal(
      converter({ 'target.type': 'unix' }).apply(sink({ value: DATE_PLUS_TIME })).value,
      DATE_PLUS_TIME_UNIX,
    )
    assert.equal(
      converter({ 'target.type': 'string', format: STRING_DATE_FMT }).apply(sink({ value: DATE_PLUS_TIME }))
        .value,
      DATE_PLUS_TIME_STRING,
    )
    assert.deepEqual(converter({ 'target.type': 'Date' }).apply(sink({ value: DATE_PLUS_TIME })).value, DATE)
    assert.deepEqual(converter({ 'target.type': 'Time' }).apply(sink({ value: DATE_PLUS_TIME })).value, TIME)
  })

  test('parses a string with the format, and unix time in the configured precision', () => {
    assert.deepEqual(
      converter({ 'target.type': 'Timestamp', format: STRING_DATE_FMT }).apply(
        sink({ value: DATE_PLUS_TIME_STRING }),
      ).value,
      DATE_PLUS_TIME,
    )
    assert.deepEqual(
      converter({ 'target.type': 'Timestamp', 'unix.precision': 'seconds' }).apply(
        sink({ value: 1483424878 }),
      ).value,
      new Date(1483424878000),
    )
    assert.deepEqual(
      converter({ 'target.type': 'Timestamp', 'unix.precision': 'microseconds' }).apply(
        sink({ value: 1483424878664123n }),
      ).value,
      DATE_PLUS_TIME,
    )
    assert.equal(
      converter({ 'target.type': 'unix', 'unix.precision': 'nanoseconds' }).apply(
        sink({ value: DATE_PLUS_TIME }),
      ).value,
      1483424878664000000n,
    )
  })

  test('converts a schema’d field and updates its schema, keeping optionality', () => {
    const schema = SchemaBuilder.struct()
      .field('ts', TimestampType.builder().optional().build())
      .field('other', Schemas.STRING)
      .build()
    const value = new Struct(schema).put('ts', DATE_PLUS_TIME).put('other', 'x')
    const out = converter({ field: 'ts', 'target.type': 'Date' }).apply(sink({ valueSchema: schema, value }))
    const ts = out.valueSchema!.field('ts')!.schema
    assert.equal(ts.name, DateType.LOGICAL_NAME)
    assert.equal(ts.optional, true)
    assert.deepEqual((out.value as Struct).get('ts'), DATE)
    assert.equal((out.value as Struct).get('other'), 'x')
  })

  test('converts a whole key with a schema; null passes as null with the new schema', () => {
    const out = converter({ 'target.type': 'Time' }, 'key').apply(
      sink({ keySchema: TimestampType.schema(), key: DATE_PLUS_TIME }),
    )
    assert.equal(out.keySchema!.name, TimeType.LOGICAL_NAME)
    assert.deepEqual(out.key, TIME)
    const nul = converter({ 'target.type': 'unix' }).apply(
      sink({ valueSchema: TimestampType.builder().optional().build(), value: null }),
    )
    assert.equal(nul.value, null)
    assert.equal(nul.valueSchema, Schemas.OPTIONAL_INT64)
  })

  test('fails on text that does not match the format, naming the field and the record', () => {
    assert.throws(
      () =>
        converter({ field: 'ts', 'target.type': 'unix', format: 'yyyy-MM-dd' }).apply(
          sink({ value: { ts: 'nope' } }),
        ),
      {
        message:
          "TimestampConverter$Value: field 'ts': Could not parse timestamp: value (nope) does not match pattern (yyyy-MM-dd): Unparseable date: \"nope\" (topic 'test', partition 0, offset 42)",
      },
    )
  })

  test('fails on a value that is not a timestamp', () => {
    assert.throws(
      () => converter({ 'target.type': 'unix' }).apply(sink({ value: true })),
      /does not support class java.lang.Boolean objects as timestamps/,
    )
  })

  test('requires a format for string targets, and a valid target.type', () => {
    assert.throws(() => converter({ 'target.type': 'string' }), {
      key: 'format',
      message: 'TimestampConverter requires format option to be specified when using string timestamps',
    })
    assert.throws(() => converter({ 'target.type': 'epoch' }), { key: 'target.type' })
    assert.throws(() => converter({ 'target.type': 'unix', format: 'yyyy-bb' }), { key: 'format' })
  })
})

describe('SimpleDateFormat', () => {
  test('formats the common pattern letters in UTC', () => {
    const f = new SimpleDateFormat("EEE, d MMM yyyy HH:mm:ss.SSS Z 'at' h a (EEEE MMMM, D)")
    assert.equal(f.format(DATE_PLUS_TIME), 'Tue, 3 Jan 2017 06:27:58.664 +0000 at 6 AM (Tuesday January, 3)')
    assert.equal(
      new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ssXXX").format(DATE_PLUS_TIME),
      '2017-01-03T06:27:58Z',
    )
    assert.equal(new SimpleDateFormat("yy''MM").format(DATE_PLUS_TIME), "17'01")
  })

  test('parses adjacent numeric fields by width, zone offsets and month names', () => {
    assert.deepEqual(
      new SimpleDateFormat('yyyyMMddHHmmss').parse('20170103062758'),
      new Date(Date.UTC(2017, 0, 3, 6, 27, 58)),
    )
    assert.deepEqual(
      new SimpleDateFormat('yyyy-MM-dd HH:mm Z').parse('2017-01-03 08:27 +0200'),
      new Date(Date.UTC(2017, 0, 3, 6, 27)),
    )
    assert.deepEqual(
      new SimpleDateFormat('d MMM yyyy hh a').parse('3 Jan 2017 06 PM'),
      new Date(Date.UTC(2017, 0, 3, 18)),
    )
  })

  test('rejects unknown pattern letters', () => {
    assert.throws(() => new SimpleDateFormat('yyyy-bb'), /Illegal pattern character 'b'/)
  })
})

describe('SimpleDateFormat week year (Y)', () => {
  // GregorianCalendar for Locale.US: weeks start on Sunday and week 1 holds January 1, so a December
  // day whose Sunday-to-Saturday week reaches into January has the next week year.
  const cases: [string, string][] = [
    ['2014-12-27', '2014'], // Saturday
    ['2014-12-28', '2015'], // Sunday of the week holding 2015-01-01
    ['2014-12-31', '2015'],
    ['2015-01-01', '2015'],
    ['2021-12-25', '2021'], // Saturday
    ['2021-12-26', '2022'], // the week ends on Saturday 2022-01-01
    ['2022-01-01', '2022'],
    ['2024-12-28', '2024'],
    ['2024-12-29', '2025'],
    ['2025-01-04', '2025'],
    ['2027-01-01', '2027'], // Friday: week 1 of 2027 starts on 2026-12-27
    ['2026-12-26', '2026'],
    ['2026-12-27', '2027'],
  ]
  for (const [day, weekYear] of cases) {
    test(`${day} has week year ${weekYear}`, () => {
      const date = new Date(`${day}T12:00:00Z`)
      assert.equal(new SimpleDateFormat('YYYY').format(date), weekYear)
      assert.equal(new SimpleDateFormat('YY').format(date), weekYear.slice(2))
      assert.equal(new SimpleDateFormat('yyyy').format(date), day.slice(0, 4))
    })
  }
})

describe('SimpleDateFormat parsing a week year (Y), as Java resolves week dates', () => {
  const cases: [string, string, string][] = [
    ['YYYY-MM-dd', '2024-06-15', '2023-12-31'], // month and day give way to week 1's Sunday
    ['YYYY-MM-dd', '2015-01-05', '2014-12-28'],
    ['YYYY-MM-dd', '2012-11-29', '2012-01-01'],
    ['YYYY EEE', '2025 Wed', '2025-01-01'],
    ['YYYY u', '2025 7', '2024-12-29'],
    ['YYYY yyyy-MM-dd', '2024 2024-03-05', '2024-03-05'], // a later y wins
  ]
  for (const [pattern, text, day] of cases) {
    test(`${JSON.stringify(text)} read with ${pattern} is ${day}`, () => {
      assert.equal(new SimpleDateFormat(pattern).parse(text).toISOString(), `${day}T00:00:00.000Z`)
    })
  }
})
