import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DateType, TimestampType, TimeType } from '../../src/api/data/logical-types.ts'
import { type Schema, Schemas, schemaEquals } from '../../src/api/data/schema.ts'
import type { SchemaAndValue } from '../../src/api/data/schema-and-value.ts'
import { SchemaBuilder } from '../../src/api/data/schema-builder.ts'
import { SimpleHeaderConverter } from '../../src/converters/simple-header-converter.ts'

const converter = new SimpleHeaderConverter()

function parse(text: string): SchemaAndValue {
  return converter.toConnectHeader('topic', 'header', Buffer.from(text, 'utf8'))
}

function roundTrip(schema: Schema | null, value: unknown): SchemaAndValue {
  return converter.toConnectHeader(
    'topic',
    'header',
    converter.fromConnectHeader('topic', 'header', schema, value),
  )
}

describe('SimpleHeaderConverter', () => {
  test('round-trips null, strings and strings with delimiters (Kafka SimpleHeaderConverterTest)', () => {
    assert.equal(converter.fromConnectHeader('t', 'h', Schemas.STRING, null), null)
    assert.deepEqual(roundTrip(Schemas.STRING, null), { schema: null, value: null })
    for (const s of [
      'simple',
      '',
      'three"blind\\"mice',
      "string with delimiters: <>?,./\\=+-!@#$%^&*(){}[]|;':",
    ]) {
      assert.deepEqual(roundTrip(Schemas.STRING, s), { schema: Schemas.STRING, value: s }, s)
    }
  })

  test('infers the smallest integer type, floats, booleans and null from header text', () => {
    const cases: [string, Schema, unknown][] = [
      ['42', Schemas.INT8, 42],
      ['300', Schemas.INT16, 300],
      ['66000.0', Schemas.INT32, 66000],
      ['9007199254740993', Schemas.INT64, 9007199254740993n],
      ['1.1', Schemas.FLOAT32, Math.fround(1.1)],
      ['1.0', Schemas.INT8, 1],
      [' true ', Schemas.BOOLEAN, true],
      ['false', Schemas.BOOLEAN, false],
    ]
    for (const [text, schema, value] of cases) {
      const result = parse(text)
      assert.ok(schemaEquals(result.schema, schema), text)
      assert.equal(result.value, value, text)
    }
    assert.deepEqual(parse('null'), { schema: null, value: null })
    assert.deepEqual(parse('true}'), { schema: Schemas.STRING, value: 'true}' })
  })

  test('round-trips lists and maps with their common element schemas', () => {
    const stringMap = SchemaBuilder.map(Schemas.STRING, Schemas.STRING).build()
    const result = roundTrip(
      stringMap,
      new Map([
        ['foo', '123'],
        ['bar', 'baz'],
      ]),
    )
    assert.ok(schemaEquals(result.schema, stringMap))
    assert.deepEqual(
      result.value,
      new Map([
        ['foo', '123'],
        ['bar', 'baz'],
      ]),
    )
    const shortMap = parse(' { "foo" :  12345 , "bar" : 0,  "baz" : -4321 }  ')
    assert.ok(schemaEquals(shortMap.schema, SchemaBuilder.map(Schemas.STRING, Schemas.INT16).build()))
    assert.deepEqual(
      shortMap.value,
      new Map([
        ['foo', 12345],
        ['bar', 0],
        ['baz', -4321],
      ]),
    )
    const ints = roundTrip(SchemaBuilder.array(Schemas.INT32).build(), [1234567890, -987654321])
    assert.ok(schemaEquals(ints.schema, SchemaBuilder.array(Schemas.INT32).build()))
    assert.deepEqual(ints.value, [1234567890, -987654321])
  })

  test('leaves the element schema out when list or map entries disagree', () => {
    const list = roundTrip(null, ['foo', 13344])
    assert.equal(list.schema?.type, 'ARRAY')
    assert.equal(list.schema?.valueSchema, undefined)
    assert.deepEqual(list.value, ['foo', 13344])
    const map = roundTrip(null, { foo: 'bar', baz: 3456 })
    assert.equal(map.schema?.type, 'MAP')
    assert.equal(map.schema?.keySchema?.type, 'STRING')
    assert.equal(map.schema?.valueSchema, undefined)
    const empty = roundTrip(null, [])
    assert.equal(empty.schema?.type, 'ARRAY')
    assert.deepEqual(empty.value, [])
  })

  test('keeps text that only looks structured as a string (Kafka ValuesTest)', () => {
    for (const text of [
      '{foo: 3}',
      '{3: foo}',
      '[foo]',
      'null=',
      '{6:9 4:20}',
      '[0 1 2]',
      '[1, null]',
      '[1, 2, 3,,,]',
      '{null: 3}',
    ]) {
      assert.deepEqual(parse(text), { schema: Schemas.STRING, value: text }, text)
    }
  })

  test('reads ISO dates, times and timestamps, also with escaped colons and inside arrays', () => {
    const ts = parse('2019-08-23T14:34:54.346Z')
    assert.ok(schemaEquals(ts.schema, TimestampType.schema()))
    assert.deepEqual(ts.value, new Date(Date.UTC(2019, 7, 23, 14, 34, 54, 346)))
    const time = parse('14\\:34\\:54.346Z')
    assert.ok(schemaEquals(time.schema, TimeType.schema()))
    assert.deepEqual(time.value, new Date(Date.UTC(1970, 0, 1, 14, 34, 54, 346)))
    const dates = parse('[2019-08-23]')
    assert.ok(schemaEquals(dates.schema, SchemaBuilder.array(DateType.schema()).build()))
    assert.deepEqual(dates.value, [new Date(Date.UTC(2019, 7, 23))])
    assert.equal(
      Buffer.from(converter.fromConnectHeader('t', 'h', TimestampType.schema(), ts.value)!).toString(),
      '2019-08-23T14:34:54.346Z',
    )
    assert.equal(
      Buffer.from(converter.fromConnectHeader('t', 'h', DateType.schema(), dates.value)!).toString(),
      '[2019-08-23]',
    )
  })

  test('writes whole doubles with a FLOAT64 schema as Java does', () => {
    assert.equal(Buffer.from(converter.fromConnectHeader('t', 'h', Schemas.FLOAT64, 1)!).toString(), '1.0')
    assert.deepEqual(roundTrip(Schemas.FLOAT64, 1.5), { schema: Schemas.FLOAT32, value: 1.5 })
  })
})

describe('SimpleHeaderConverter bytes of repeated values', () => {
  test('a header key repeating its string value shares one Buffer; a changed value gets its own', () => {
    const c = new SimpleHeaderConverter()
    const a = c.fromConnectHeader('t', 'k', Schemas.STRING, 'run-1')
    const b = c.fromConnectHeader('t', 'k', Schemas.STRING, 'run-1')
    assert.equal(a, b, 'the same bytes, not a copy per record')
    assert.equal(Buffer.from(a!).toString(), 'run-1')
    const changed = c.fromConnectHeader('t', 'k', Schemas.STRING, 'run-2')
    assert.equal(Buffer.from(changed!).toString(), 'run-2')
    assert.notEqual(c.fromConnectHeader('t', 'other', Schemas.STRING, 'run-2'), changed, 'per key')
    // Values that are not strings are encoded every time, as before.
    assert.equal(Buffer.from(c.fromConnectHeader('t', 'n', Schemas.INT32, 5)!).toString(), '5')
    assert.equal(c.fromConnectHeader('t', 'k', Schemas.OPTIONAL_STRING, null), null)
  })
})
