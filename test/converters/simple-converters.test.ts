import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Schemas } from '../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../src/api/data/schema-builder.ts'
import { ByteArrayConverter } from '../../src/converters/byte-array-converter.ts'
import { builtInConverters, findBuiltInConverter } from '../../src/converters/index.ts'
import {
  BooleanConverter,
  DoubleConverter,
  FloatConverter,
  IntegerConverter,
  LongConverter,
  ShortConverter,
} from '../../src/converters/number-converters.ts'
import { StringConverter } from '../../src/converters/string-converter.ts'

const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'))

describe('StringConverter', () => {
  test('writes strings in UTF-8 and reads them back with an optional string schema', () => {
    const c = new StringConverter()
    c.configure({}, false)
    assert.equal(hex(c.fromConnectData('t', Schemas.STRING, 'héllo')), '68c3a96c6c6f')
    assert.deepEqual(c.toConnectData('t', Buffer.from('68c3a96c6c6f', 'hex')), {
      schema: Schemas.OPTIONAL_STRING,
      value: 'héllo',
    })
    assert.equal(c.fromConnectData('t', Schemas.OPTIONAL_STRING, null), null)
    assert.deepEqual(c.toConnectData('t', null), { schema: Schemas.OPTIONAL_STRING, value: null })
  })

  test("writes non-strings with Java's toString forms where JavaScript can tell them", () => {
    const c = new StringConverter()
    c.configure({}, true)
    const str = (schema: Parameters<StringConverter['fromConnectData']>[1], v: unknown) =>
      Buffer.from(c.fromConnectData('t', schema, v)!).toString()
    assert.equal(str(Schemas.INT32, 42), '42')
    assert.equal(str(Schemas.FLOAT64, 1), '1.0')
    assert.equal(str(Schemas.FLOAT32, 0.1), '0.1')
    assert.equal(str(null, 1.5e-7), '1.5E-7')
    assert.equal(str(null, 12345678901234567890n), '12345678901234567890')
    assert.equal(str(null, true), 'true')
  })

  test('honours converter.encoding and replaces what the charset cannot encode with ?', () => {
    const latin = new StringConverter()
    latin.configure({ 'converter.encoding': 'ISO-8859-1' }, false)
    assert.equal(hex(latin.fromConnectData('t', null, 'é€')), 'e93f')
    assert.equal(latin.toConnectData('t', Uint8Array.of(0xe9)).value, 'é')
    const utf16 = new StringConverter()
    utf16.configure({ 'converter.encoding': 'UTF-16' }, false)
    assert.equal(hex(utf16.fromConnectData('t', null, 'A')), 'feff0041')
    assert.equal(utf16.toConnectData('t', Buffer.from('feff0041', 'hex')).value, 'A')
    const utf8 = new StringConverter()
    utf8.configure({}, false)
    assert.equal(hex(utf8.fromConnectData('t', null, 'a\ud800')), '613f')
    assert.throws(() => new StringConverter().configure({ 'converter.encoding': 'EBCDIC-XYZ' }, false), {
      name: 'ConfigError',
      message: 'Unsupported encoding EBCDIC-XYZ',
    })
  })
})

describe('ByteArrayConverter', () => {
  test('passes bytes through both ways and reads an optional bytes schema', () => {
    const c = new ByteArrayConverter()
    c.configure({}, false)
    const b = Uint8Array.of(1, 2, 3)
    assert.equal(c.fromConnectData('t', Schemas.BYTES, b), b)
    assert.equal(c.fromConnectData('t', null, null), null)
    assert.deepEqual(c.toConnectData('t', b), { schema: Schemas.OPTIONAL_BYTES, value: b })
  })

  test("refuses other schemas and values with Kafka's messages", () => {
    const c = new ByteArrayConverter()
    assert.throws(() => c.fromConnectData('t', Schemas.INT32, Uint8Array.of(1)), {
      name: 'DataError',
      message: 'Invalid schema type for ByteArrayConverter: INT32',
    })
    assert.throws(() => c.fromConnectData('t', null, 'string'), {
      message: 'ByteArrayConverter is not compatible with objects of type class java.lang.String',
    })
  })
})

describe('number converters', () => {
  test("write the same big-endian bytes as Kafka's serializers and read them back", () => {
    const cases = [
      [new ShortConverter(), -2, 'fffe', Schemas.OPTIONAL_INT16],
      [new IntegerConverter(), 305419896, '12345678', Schemas.OPTIONAL_INT32],
      [new LongConverter(), -9223372036854775808n, '8000000000000000', Schemas.OPTIONAL_INT64],
      [new LongConverter(), 1, '0000000000000001', Schemas.OPTIONAL_INT64],
      [new FloatConverter(), 1.5, '3fc00000', Schemas.OPTIONAL_FLOAT32],
      [new DoubleConverter(), -2.5, 'c004000000000000', Schemas.OPTIONAL_FLOAT64],
      [new BooleanConverter(), true, '01', Schemas.OPTIONAL_BOOLEAN],
      [new BooleanConverter(), false, '00', Schemas.OPTIONAL_BOOLEAN],
    ] as const
    for (const [c, value, bytes, schema] of cases) {
      c.configure({}, false)
      assert.equal(hex(c.fromConnectData('t', null, value)), bytes)
      assert.deepEqual(c.toConnectData('t', Buffer.from(bytes, 'hex')), { schema, value })
      assert.equal(c.fromConnectData('t', null, null), null)
      assert.deepEqual(c.toConnectData('t', null), { schema, value: null })
    }
  })

  test("fail with Kafka's messages on wrong sizes, bytes and types", () => {
    assert.throws(
      () => new ShortConverter().toConnectData('t', Uint8Array.of(1)),
      (e: Error) => {
        return (
          e.message === 'Failed to deserialize short: ' &&
          (e.cause as Error).message === 'Size of data received by ShortDeserializer is not 2'
        )
      },
    )
    assert.throws(
      () => new DoubleConverter().toConnectData('t', Uint8Array.of(1)),
      (e: Error) => {
        return (e.cause as Error).message === 'Size of data received by Deserializer is not 8'
      },
    )
    assert.throws(
      () => new BooleanConverter().toConnectData('t', Uint8Array.of(2)),
      (e: Error) => {
        return (
          e.message === 'Failed to deserialize boolean: ' &&
          (e.cause as Error).message === 'Unexpected byte received by BooleanDeserializer: 2'
        )
      },
    )
    assert.throws(() => new IntegerConverter().fromConnectData('t', null, 'x'), {
      message: 'Failed to serialize to integer (was class java.lang.String): ',
    })
    assert.throws(() => new ShortConverter().fromConnectData('t', null, 40000), {
      message: 'Failed to serialize to short (was class java.lang.Integer): ',
    })
    assert.throws(() => new BooleanConverter().fromConnectData('t', Schemas.INT8, true), {
      message: 'Invalid schema type for BooleanConverter: INT8',
    })
    assert.throws(() => new BooleanConverter().fromConnectData('t', null, 1), {
      message: 'BooleanConverter is not compatible with objects of type class java.lang.Integer',
    })
    assert.throws(() => new LongConverter().configure({}), { name: 'ConfigError' })
  })

  test('LongConverter reads beyond 2^53 as a bigint', () => {
    assert.equal(
      new LongConverter().toConnectData('t', Buffer.from('7fffffffffffffff', 'hex')).value,
      9223372036854775807n,
    )
  })
})

describe('built-in converter registry', () => {
  test('lists every Kafka converter class by its Java name, once per role, with short aliases', () => {
    const names = new Set(
      builtInConverters.map((c) => c.className).filter((n) => n.startsWith('org.apache.kafka.')),
    )
    assert.equal(names.size, 10)
    const json = findBuiltInConverter('JsonConverter', 'converter')
    assert.equal(json?.className, 'org.apache.kafka.connect.json.JsonConverter')
    assert.equal(
      findBuiltInConverter('org.apache.kafka.connect.json.JsonConverter', 'header_converter')?.kind,
      'header_converter',
    )
    assert.equal(findBuiltInConverter('SimpleHeaderConverter', 'converter'), undefined)
    assert.equal(
      findBuiltInConverter('org.apache.kafka.connect.storage.SimpleHeaderConverter', 'header_converter')
        ?.type,
      'header_converter',
    )
    for (const entry of builtInConverters) {
      const instance = entry.create()
      assert.equal(typeof instance.configure, 'function', entry.className)
      assert.match(entry.version, /^\d+\.\d+\.\d+/)
    }
    const value = findBuiltInConverter('StringConverter', 'converter')!.create() as StringConverter
    value.configure({}, false)
    assert.equal(
      Buffer.from(value.fromConnectData('t', SchemaBuilder.string().build(), 'x')!).toString(),
      'x',
    )
  })
})
