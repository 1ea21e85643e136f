import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BigDecimal } from '../../src/api/data/big-decimal.ts'
import {
  bigIntToBytes,
  DateType,
  Decimal,
  TimestampType,
  TimeType,
} from '../../src/api/data/logical-types.ts'
import { type Schema, Schemas, schemaEquals } from '../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../src/api/data/schema-builder.ts'
import { Struct } from '../../src/api/data/struct.ts'
import { DataError } from '../../src/api/errors.ts'
import { JsonConverter } from '../../src/converters/json-converter.ts'
import { JsonWriter } from '../../src/converters/json-writer.ts'

function converter(configs: Record<string, string> = {}, isKey = false): JsonConverter {
  const c = new JsonConverter()
  c.configure(configs, isKey)
  return c
}

const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8')
const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('utf8'))

function write(c: JsonConverter, schema: Schema | null, value: unknown): string | null {
  return text(c.fromConnectData('topic', schema, value))
}

function read(c: JsonConverter, json: string) {
  return c.toConnectData('topic', bytes(json))
}

const ENVELOPE_MESSAGE =
  'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.'

describe('JsonConverter writing', () => {
  test('integers around 10^8 and 2^31 and decimals around 2^31 are written as Java writes them', () => {
    const c = new JsonConverter()
    c.configure({ 'schemas.enable': 'false' }, false)
    const ints = [0, 9, 10, 99_999_999, 100_000_000, 100_000_001, 1_000_000_007, 2 ** 31, 2 ** 32 + 5]
    for (const n of [...ints, 1_733_480_000_123_456, Number.MAX_SAFE_INTEGER, ...ints.map((n) => -n - 1)]) {
      assert.equal(write(c, Schemas.INT64, n), `${n}`)
      if (n >= -(2 ** 31) && n < 2 ** 31) assert.equal(write(c, Schemas.INT32, n), `${n}`)
    }
    const unscaled = [
      0n,
      1n,
      -1n,
      127n,
      128n,
      -128n,
      -129n,
      255n,
      256n,
      2n ** 31n - 1n,
      2n ** 31n,
      -(2n ** 31n),
    ]
    for (const u of [...unscaled, -(2n ** 31n) - 1n, 2n ** 51n, -(2n ** 51n)]) {
      const expected = Buffer.from(bigIntToBytes(u)).toString('base64')
      assert.equal(write(c, Decimal.schema(2), new BigDecimal(u, 2)), `"${expected}"`)
    }
  })

  test('writes a struct envelope byte for byte as the Java JsonConverter does', () => {
    const schema = SchemaBuilder.struct()
      .name('com.example.Order')
      .version(1)
      .field('id', Schemas.INT32)
      .field('name', Schemas.OPTIONAL_STRING)
      .field('price', Decimal.schema(2))
      .field('day', DateType.builder().optional().build())
      .field('ts', TimestampType.schema())
      .field('tags', SchemaBuilder.array(Schemas.STRING).build())
      .build()
    const order = new Struct(schema)
      .put('id', 1)
      .put('price', new BigDecimal(971n, 2))
      .put('day', new Date(19723 * 86_400_000))
      .put('ts', new Date(1_700_000_000_000))
      .put('tags', ['a', 'b'])
    const expected =
      '{"schema":{"type":"struct","fields":[' +
      '{"type":"int32","optional":false,"field":"id"},' +
      '{"type":"string","optional":true,"field":"name"},' +
      '{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},' +
      '{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"day"},' +
      '{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"},' +
      '{"type":"array","items":{"type":"string","optional":false},"optional":false,"field":"tags"}],' +
      '"optional":false,"name":"com.example.Order","version":1},' +
      '"payload":{"id":1,"name":null,"price":"A8s=","day":19723,"ts":1700000000000,"tags":["a","b"]}}'
    assert.equal(write(converter(), schema, order), expected)
    const back = read(converter(), expected)
    assert.ok(schemaEquals(back.schema, schema))
    assert.ok(order.equals(back.value))
  })

  test('writes a default-valued null as the default and says so in the schema (Kafka serializeNullToDefault)', () => {
    const schema = SchemaBuilder.string().optional().defaultValue('default').build()
    assert.equal(
      write(converter(), schema, null),
      '{"schema":{"type":"string","optional":true,"default":"default"},"payload":"default"}',
    )
  })

  test('writes a null as null when replace.null.with.default is false (Kafka serializeNullToNull)', () => {
    const schema = SchemaBuilder.string().optional().defaultValue('default').build()
    assert.equal(
      write(converter({ 'replace.null.with.default': 'false' }), schema, null),
      '{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}',
    )
  })

  test('writes a struct field left null as its default, or as null (Kafka serializeFieldNullTo*)', () => {
    const field = SchemaBuilder.string().optional().defaultValue('default').build()
    const schema = SchemaBuilder.struct().field('field1', field).build()
    const schemaJson =
      '{"type":"struct","fields":[{"type":"string","optional":true,"default":"default","field":"field1"}],"optional":false}'
    assert.equal(
      write(converter(), schema, new Struct(schema)),
      `{"schema":${schemaJson},"payload":{"field1":"default"}}`,
    )
    assert.equal(
      write(converter({ 'replace.null.with.default': 'false' }), schema, new Struct(schema)),
      `{"schema":${schemaJson},"payload":{"field1":null}}`,
    )
  })

  test('writes every schema attribute in Jackson order: type, optional, name, version, doc, parameters, default', () => {
    const schema = SchemaBuilder.bool()
      .defaultValue(true)
      .doc('the documentation')
      .parameter('foo', 'bar')
      .version(3)
      .name('bool')
      .build()
    assert.equal(
      write(converter(), schema, true),
      '{"schema":{"type":"boolean","optional":false,"name":"bool","version":3,"doc":"the documentation","parameters":{"foo":"bar"},"default":true},"payload":true}',
    )
  })

  test('writes every primitive type with its schema name and Java number formats', () => {
    const c = converter()
    const cases: [Schema, unknown, string][] = [
      [Schemas.INT8, 12, '{"type":"int8","optional":false},"payload":12'],
      [Schemas.INT16, -300, '{"type":"int16","optional":false},"payload":-300'],
      [Schemas.INT32, 2147483647, '{"type":"int32","optional":false},"payload":2147483647'],
      [Schemas.INT64, 4398046511104, '{"type":"int64","optional":false},"payload":4398046511104'],
      [
        Schemas.INT64,
        9223372036854775807n,
        '{"type":"int64","optional":false},"payload":9223372036854775807',
      ],
      [Schemas.FLOAT32, 12.34, '{"type":"float","optional":false},"payload":12.34'],
      [Schemas.FLOAT64, 12.34, '{"type":"double","optional":false},"payload":12.34'],
      [Schemas.FLOAT64, 1, '{"type":"double","optional":false},"payload":1.0'],
      [Schemas.FLOAT32, 1, '{"type":"float","optional":false},"payload":1.0'],
      [Schemas.BOOLEAN, false, '{"type":"boolean","optional":false},"payload":false'],
      [Schemas.STRING, 'test-string', '{"type":"string","optional":false},"payload":"test-string"'],
      [Schemas.BYTES, bytes('test-string'), '{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="'],
    ]
    for (const [schema, value, body] of cases) assert.equal(write(c, schema, value), `{"schema":${body}}`)
  })

  test('writes doubles and floats as Java does: exponents beyond 1e7 and below 1e-3, NaN and infinities quoted', () => {
    const c = converter({ 'schemas.enable': 'false' })
    const doubles: [number, string][] = [
      [1e7, '1.0E7'],
      [9999999.5, '9999999.5'],
      [0.001, '0.001'],
      [0.0001, '1.0E-4'],
      [-1.5e-10, '-1.5E-10'],
      [1.2345e300, '1.2345E300'],
      [-0, '-0.0'],
      [Number.NaN, '"NaN"'],
      [Number.POSITIVE_INFINITY, '"Infinity"'],
      [Number.NEGATIVE_INFINITY, '"-Infinity"'],
    ]
    for (const [value, expected] of doubles) assert.equal(write(c, Schemas.FLOAT64, value), expected)
    const floats: [number, string][] = [
      [0.1, '0.1'],
      [3.4028234663852886e38, '3.4028235E38'],
      [1e10, '1.0E10'],
      [16777216, '1.6777216E7'],
      [1234567, '1234567.0'],
      [1.4e-45, '1.4E-45'],
    ]
    for (const [value, expected] of floats) assert.equal(write(c, Schemas.FLOAT32, value), expected)
  })

  test('escapes strings as Jackson does, with upper-case hex for control characters and raw UTF-8', () => {
    const c = converter({ 'schemas.enable': 'false' })
    assert.equal(
      write(c, Schemas.STRING, 'a"b\\c\n\t\u0001\u001f/é€😀'),
      '"a\\"b\\\\c\\n\\t\\u0001\\u001F/é€😀"',
    )
    assert.equal(write(c, Schemas.STRING, '\\u001f'), '"\\\\u001f"')
  })

  test('writes maps with string keys as objects and other maps as arrays of pairs', () => {
    const c = converter()
    const stringKeys = SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build()
    assert.equal(
      write(c, stringKeys, { key1: 12, key2: 15 }),
      '{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12,"key2":15}}',
    )
    const intKeys = SchemaBuilder.map(Schemas.INT32, Schemas.INT32).build()
    assert.equal(
      write(
        c,
        intKeys,
        new Map([
          [1, 12],
          [2, 15],
        ]),
      ),
      '{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":[[1,12],[2,15]]}',
    )
  })

  test('writes schemaless values by their JavaScript type (Kafka nullSchemaAnd*ToJson)', () => {
    const c = converter()
    assert.equal(write(c, null, true), '{"schema":null,"payload":true}')
    assert.equal(write(c, null, [1, 'string', true]), '{"schema":null,"payload":[1,"string",true]}')
    assert.equal(
      write(c, null, { key1: 12, key2: 'string', key3: true }),
      '{"schema":null,"payload":{"key1":12,"key2":"string","key3":true}}',
    )
    const mixed = new Map<unknown, unknown>([
      ['string', 12],
      [52, 'string'],
      [false, true],
    ])
    assert.equal(
      write(c, null, mixed),
      '{"schema":null,"payload":[["string",12],[52,"string"],[false,true]]}',
    )
    assert.equal(write(c, null, 9223372036854775807n), '{"schema":null,"payload":9223372036854775807}')
    assert.throws(() => write(c, null, 2n ** 64n), {
      message: 'Java class class java.math.BigInteger does not have corresponding schema type.',
    })
  })

  test('writes a tombstone as null bytes, with or without schemas (Kafka nullSchemaAndNullValueToJson)', () => {
    assert.equal(converter().fromConnectData('topic', null, null), null)
    assert.equal(converter({ 'schemas.enable': 'false' }).fromConnectData('topic', null, null), null)
    assert.equal(write(converter({ 'schemas.enable': 'false' }), Schemas.OPTIONAL_STRING, null), 'null')
  })

  test('writes decimals as base64 by default and as plain or scientific numbers with decimal.format=NUMERIC', () => {
    assert.equal(
      write(converter(), Decimal.schema(2), new BigDecimal(156n, 2)),
      '{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}',
    )
    const numeric = converter({ 'decimal.format': 'numeric', 'schemas.enable': 'false' })
    assert.equal(write(numeric, Decimal.schema(4), new BigDecimal(15600n, 4)), '1.5600')
    assert.equal(write(numeric, Decimal.schema(-2), new BigDecimal(1n, -2)), '1E+2')
    assert.equal(write(numeric, Decimal.schema(10), new BigDecimal(-123n, 10)), '-1.23E-8')
  })

  test('writes Date, Time and Timestamp as their integers', () => {
    const c = converter({ 'schemas.enable': 'false' })
    assert.equal(write(c, DateType.schema(), new Date(10000 * 86_400_000)), '10000')
    assert.equal(write(c, TimeType.schema(), new Date(14_400_000)), '14400000')
    assert.equal(write(c, TimestampType.schema(), new Date(4_000_000_000)), '4000000000')
  })

  test('refuses values that do not match their schema, with Kafka messages', () => {
    const c = converter()
    assert.throws(() => c.fromConnectData('t', Schemas.FLOAT64, true), {
      name: 'DataError',
      message: 'Invalid type for FLOAT64: class java.lang.Boolean',
    })
    assert.throws(() => c.fromConnectData('t', Schemas.INT8, 300), {
      message: 'Invalid type for INT8: class java.lang.Integer',
    })
    assert.throws(() => c.fromConnectData('t', Schemas.INT32, 1.5), {
      message: 'Invalid type for INT32: class java.lang.Double',
    })
    assert.throws(() => c.fromConnectData('t', Schemas.BYTES, 'x'), {
      message: 'Invalid type for bytes type: class java.lang.String',
    })
    assert.throws(() => c.fromConnectData('t', Schemas.STRING, null), {
      message: 'Conversion error: null value for field that is required and has no default value',
    })
    assert.throws(() => c.fromConnectData('t', null, new BigDecimal(156n, 2)), {
      message: 'Java class class java.math.BigDecimal does not have corresponding schema type.',
    })
    assert.throws(() => c.fromConnectData('t', Decimal.schema(2), 1.5), {
      message: 'Invalid type for Decimal, expected BigDecimal but was class java.lang.Double',
    })
    assert.throws(() => c.fromConnectData('t', Decimal.schema(3), new BigDecimal(156n, 2)), {
      message:
        'Decimal value has mismatching scale for given Decimal schema. Schema has scale 3, value has scale 2.',
    })
    const a = SchemaBuilder.struct().field('x', Schemas.INT32).build()
    const b = SchemaBuilder.struct().field('y', Schemas.INT32).build()
    assert.throws(() => c.fromConnectData('t', a, new Struct(b).put('y', 1)), {
      message: 'Mismatching schema.',
    })
  })

  test('writes a struct whose schema is equal but not the same object (Kafka structSchemaIdentical)', () => {
    const make = () =>
      SchemaBuilder.struct().field('field1', Schemas.BOOLEAN).field('field2', Schemas.STRING).build()
    const out = write(converter(), make(), new Struct(make()).put('field1', true).put('field2', 'string2'))
    assert.match(out!, /"payload":\{"field1":true,"field2":"string2"\}\}$/)
  })

  test('writes the same text through the per-schema fast path as Java: large, negative and repeated integers and decimals', () => {
    const schema = SchemaBuilder.struct()
      .field('n', Schemas.INT64)
      .field('big', Schemas.OPTIONAL_INT64)
      .field('d', Decimal.schema(3))
      .field('s', Schemas.OPTIONAL_STRING)
      .build()
    const c = converter({ 'schemas.enable': 'false' })
    // Boundaries of the small-integer and 2^52 fast paths, signs, carries into the next 10^8 digit.
    const numbers = [
      0,
      1,
      -1,
      0x3fffffff,
      0x40000000,
      -0x40000000,
      -0x40000001,
      99_999_999,
      100_000_000,
      100_000_001,
      1_763_700_000_123_456,
      -1_763_700_000_000_001,
      -5_000_000_001,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      2 ** 52 - 1,
      -(2 ** 52) + 1,
      127,
      128,
      -128,
      -129,
      255,
      256,
      32767,
      32768,
      -32768,
      -32769,
      8_388_607,
      8_388_608,
      2 ** 31,
      -(2 ** 31) - 1,
    ]
    const javaBase64 = (v: bigint): string => {
      // BigInteger.toByteArray(): minimal big-endian two's complement.
      let hex = (v < 0n ? (1n << 80n) + v : v).toString(16).padStart(20, v < 0n ? 'f' : '0')
      while (
        hex.length > 2 &&
        (hex.startsWith('00')
          ? !(Number.parseInt(hex[2], 16) & 8)
          : hex.startsWith('ff') && Number.parseInt(hex[2], 16) & 8)
      )
        hex = hex.slice(2)
      return Buffer.from(hex, 'hex').toString('base64')
    }
    for (const [i, n] of numbers.entries()) {
      const unscaled = BigInt(n) * (i % 2 === 0 ? 1n : 1_000_000n)
      const value = new Struct(schema)
        .put('n', n)
        .put('big', i % 3 === 0 ? BigInt(n) * 1000n : null)
        .put('d', new BigDecimal(unscaled, 3))
        .put('s', i % 2 === 0 ? 'same' : `v${i}`)
      // Twice: the second write of the same values goes through each field's remembered last text.
      for (let round = 0; round < 2; round++) {
        assert.equal(
          write(c, schema, value),
          `{"n":${BigInt(n)},"big":${i % 3 === 0 ? BigInt(n) * 1000n : 'null'},"d":"${javaBase64(unscaled)}","s":"${i % 2 === 0 ? 'same' : `v${i}`}"}`,
          `value ${n}, round ${round}`,
        )
      }
    }
  })

  test('caches schema JSON per schema object and bounds the cache by schemas.cache.size', () => {
    const c = converter({ 'schemas.cache.size': '2' })
    const s = SchemaBuilder.bool().build()
    c.fromConnectData('t', s, true)
    c.fromConnectData('t', s, false)
    assert.equal(c.fromConnectSchemaCacheSize, 1)
    c.fromConnectData('t', SchemaBuilder.bool().optional().build(), true)
    c.fromConnectData('t', SchemaBuilder.string().build(), 'x')
    assert.equal(c.fromConnectSchemaCacheSize, 2)
  })

  test('works as a header converter when configured with converter.type=header', () => {
    const c = new JsonConverter()
    c.configure({ 'converter.type': 'header' })
    assert.equal(
      text(c.fromConnectHeader('t', 'h', Schemas.STRING, 'test-string')),
      '{"schema":{"type":"string","optional":false},"payload":"test-string"}',
    )
    assert.deepEqual(
      c.toConnectHeader('t', 'h', bytes('{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }')),
      {
        schema: Schemas.STRING,
        value: 'foo-bar-baz',
      },
    )
    assert.throws(() => new JsonConverter().configure({}), {
      message: 'Missing required configuration "converter.type" which has no default value.',
    })
    assert.throws(() => converter({ 'decimal.format': 'HEX' }), /decimal\.format/)
  })

  test('writes the bytes of the general path through the per-schema byte writer: strings, nulls, nesting, envelope', () => {
    const inner = SchemaBuilder.struct().optional().field('x', Schemas.INT32).build()
    const schema = SchemaBuilder.struct()
      .field('s', Schemas.OPTIONAL_STRING)
      .field('i', Schemas.OPTIONAL_INT32)
      .field('n', SchemaBuilder.int64().optional().defaultValue(7n).build())
      .field('b', Schemas.OPTIONAL_BOOLEAN)
      .field('t', TimestampType.builder().optional().build())
      .field('inner', inner)
      .field('ö "quoted" name', Schemas.OPTIONAL_STRING)
      .build()
    const strings = [
      '',
      'plain',
      'a"quote',
      'back\\slash',
      'tab\tnewline\n',
      '\u0001\u001f\u007f',
      'grüße',
      '日本語',
      '😀 emoji',
      'lone \ud800 surrogate',
      'x'.repeat(64),
      'y'.repeat(65),
      `${'z'.repeat(70)}"`,
      null,
    ]
    const ints = [0, -0, 1, -1, 2147483647, -2147483648, null]
    const longs = [
      0,
      -1,
      2n ** 63n - 1n,
      -(2n ** 63n),
      1_763_700_000_123_456,
      -9_007_199_254_740_991,
      2n ** 62n,
      2n ** 62n,
      null,
    ]
    const times = [
      new Date(0),
      new Date(-1),
      new Date(1_763_700_000_123),
      new Date(-62_135_596_800_000),
      null,
    ]
    for (const schemasEnable of ['false', 'true']) {
      for (const replace of ['false', 'true']) {
        const configs = { 'schemas.enable': schemasEnable, 'replace.null.with.default': replace }
        const c = converter(configs)
        const general = new JsonWriter({ decimalNumeric: false, replaceNullWithDefault: replace === 'true' })
        for (let k = 0; k < 60; k++) {
          const value = new Struct(schema)
            .put('s', strings[k % strings.length])
            .put('i', ints[k % ints.length])
            .put('n', longs[k % longs.length])
            .put('b', k % 3 === 0 ? null : k % 3 === 1)
            .put('t', times[k % times.length])
            .put('inner', k % 4 === 0 ? null : new Struct(inner).put('x', -k * 1000))
            .put('ö "quoted" name', strings[(k * 7) % strings.length])
          const payload = general.toJson(schema, value)
          const expected =
            schemasEnable === 'true' ? `{"schema":${c.asJsonSchema(schema)},"payload":${payload}}` : payload
          assert.equal(write(c, schema, value), expected, `record ${k}, ${JSON.stringify(configs)}`)
        }
      }
    }
  })
})

describe('JsonConverter reading', () => {
  test('reads every primitive from Kafka JsonConverterTest envelopes', () => {
    const c = converter()
    const cases: [string, Schema, unknown][] = [
      ['{ "schema": { "type": "boolean" }, "payload": true }', Schemas.BOOLEAN, true],
      ['{ "schema": { "type": "int8" }, "payload": 12 }', Schemas.INT8, 12],
      ['{ "schema": { "type": "int16" }, "payload": 12 }', Schemas.INT16, 12],
      ['{ "schema": { "type": "int32" }, "payload": 12 }', Schemas.INT32, 12],
      ['{ "schema": { "type": "int64" }, "payload": 4398046511104 }', Schemas.INT64, 4398046511104],
      ['{ "schema": { "type": "int8" }, "payload": 0012 }', Schemas.INT8, 12],
      ['{ "schema": { "type": "int64" }, "payload": 00000123456789 }', Schemas.INT64, 123456789],
      ['{ "schema": { "type": "float" }, "payload": 12.34 }', Schemas.FLOAT32, Math.fround(12.34)],
      ['{ "schema": { "type": "double" }, "payload": 12.34 }', Schemas.FLOAT64, 12.34],
      ['{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }', Schemas.STRING, 'foo-bar-baz'],
      [
        '{ "schema": { "type": "bytes" }, "payload": "dGVzdC1zdHJpbmc=" }',
        Schemas.BYTES,
        bytes('test-string'),
      ],
    ]
    for (const [json, schema, value] of cases) {
      const result = read(c, json)
      assert.ok(schemaEquals(result.schema, schema), json)
      assert.deepEqual(
        result.value instanceof Uint8Array ? Buffer.from(result.value) : result.value,
        value,
        json,
      )
    }
  })

  test('reads schema metadata: optional, name, version, doc, parameters and default', () => {
    const result = read(
      converter(),
      '{ "schema": { "type": "boolean", "optional": false, "name": "bool", "version": 2, "doc": "the documentation", "parameters": { "foo": "bar" }}, "payload": true }',
    )
    const expected = SchemaBuilder.bool()
      .name('bool')
      .version(2)
      .doc('the documentation')
      .parameter('foo', 'bar')
      .build()
    assert.ok(schemaEquals(result.schema, expected))
    const withDefault = read(
      converter(),
      '{ "schema": { "type": "boolean", "default": true }, "payload": null }',
    )
    assert.ok(schemaEquals(withDefault.schema, SchemaBuilder.bool().defaultValue(true).build()))
    assert.equal(withDefault.value, true)
    assert.equal(
      read(
        converter({ 'replace.null.with.default': 'false' }),
        '{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}',
      ).value,
      null,
    )
  })

  test('reads arrays, maps with string and non-string keys, and structs with missing optional fields', () => {
    const c = converter()
    assert.deepEqual(
      read(c, '{ "schema": { "type": "array", "items": { "type" : "int32" } }, "payload": [1, 2, 3] }').value,
      [1, 2, 3],
    )
    assert.deepEqual(
      read(
        c,
        '{ "schema": { "type": "map", "keys": { "type" : "string" }, "values": { "type" : "int32" } }, "payload": { "key1": 12, "key2": 15} }',
      ).value,
      { key1: 12, key2: 15 },
    )
    assert.deepEqual(
      read(
        c,
        '{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }',
      ).value,
      new Map([
        [1, 12],
        [2, 15],
      ]),
    )
    const structJson =
      '{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, {  "field": "required", "type": "string" }] }, "payload": { "required": "required" } }'
    const schema = SchemaBuilder.struct()
      .field('optional', Schemas.OPTIONAL_STRING)
      .field('required', Schemas.STRING)
      .build()
    assert.ok(new Struct(schema).put('required', 'required').equals(read(c, structJson).value))
  })

  test('reads logical types from their integers, base64 or JSON numbers with every digit kept', () => {
    const c = converter()
    const decimal = (payload: string, scale = 2) =>
      read(
        c,
        `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "${scale}" } }, "payload": ${payload} }`,
      ).value
    assert.deepEqual(decimal('"AJw="'), new BigDecimal(156n, 2))
    assert.deepEqual(decimal('1.56'), new BigDecimal(156n, 2))
    assert.deepEqual(decimal('1.5600', 4), new BigDecimal(15600n, 4))
    assert.deepEqual(decimal('1.23456789123456789', 17), new BigDecimal(123456789123456789n, 17))
    assert.deepEqual(decimal('12345678901234567890123'), new BigDecimal(12345678901234567890123n, 0))
    const date = read(
      c,
      '{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1 }, "payload": 10000 }',
    )
    assert.deepEqual(date.value, new Date(10000 * 86_400_000))
    const time = read(
      c,
      '{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1 }, "payload": 14400000 }',
    )
    assert.deepEqual(time.value, new Date(14_400_000))
    const ts = read(
      c,
      '{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1 }, "payload": 4000000000 }',
    )
    assert.deepEqual(ts.value, new Date(4_000_000_000))
    const dateDefault = read(
      c,
      '{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1, "optional": true, "default": 0 }, "payload": null }',
    )
    assert.deepEqual(dateDefault.value, new Date(0))
    assert.deepEqual(dateDefault.schema?.defaultValue, new Date(0))
  })

  test('reads schemaless payloads: integers as INT64, decimals as FLOAT64, objects as maps (Kafka nullSchemaPrimitiveToConnect)', () => {
    const c = converter()
    assert.deepEqual(read(c, '{ "schema": null, "payload": null }'), { schema: null, value: null })
    assert.deepEqual(read(c, '{ "schema": null, "payload": 12 }'), { schema: null, value: 12 })
    assert.deepEqual(read(c, '{ "schema": null, "payload": 12.24 }'), { schema: null, value: 12.24 })
    assert.deepEqual(read(c, '{ "schema": null, "payload": [1, "2", 3] }').value, [1, '2', 3])
    assert.deepEqual(read(c, '{ "schema": null, "payload": { "field1": 1, "field2": 2} }').value, {
      field1: 1,
      field2: 2,
    })
    const plain = converter({ 'schemas.enable': 'false' })
    assert.deepEqual(read(plain, '{ "a": "", "b": null}').value, { a: '', b: null })
    assert.deepEqual(read(plain, 'true'), { schema: null, value: true })
    assert.deepEqual(plain.toConnectData('t', bytes('')), { schema: null, value: null })
  })

  test('keeps integers beyond 2^53 exact as bigints and wraps beyond 64 bits as Java longValue() does', () => {
    const plain = converter({ 'schemas.enable': 'false' })
    assert.deepEqual(
      read(plain, '[9007199254740993, -9223372036854775808, 18446744073709551617, 1e2, -0.0, 0012]').value,
      [9007199254740993n, -9223372036854775808n, 1, 100, 0, 12],
    )
    const c = converter()
    assert.equal(
      read(c, '{"schema":{"type":"int64"},"payload":9223372036854775807}').value,
      9223372036854775807n,
    )
    assert.equal(read(c, '{"schema":{"type":"int32"},"payload":4294967297}').value, 1)
    assert.equal(read(c, '{"schema":{"type":"int8"},"payload":300}').value, 44)
    const out = write(converter({ 'schemas.enable': 'false' }), Schemas.INT64, 9223372036854775807n)
    assert.equal(out, '9223372036854775807')
  })

  test('reads data of the wrong JSON kind as Java does rather than failing', () => {
    const c = converter()
    assert.equal(read(c, '{"schema":{"type":"int32"},"payload":"5"}').value, 0)
    assert.equal(read(c, '{"schema":{"type":"string","optional":true},"payload":5}').value, null)
    assert.equal(read(c, '{"schema":{"type":"int32"},"payload":7.9}').value, 7)
    assert.deepEqual(
      read(c, '{"schema":{"type":"array","items":{"type":"int32"}},"payload":{"a":1}}').value,
      [1],
    )
    assert.ok(Number.isNaN(read(c, '{"schema":{"type":"double"},"payload":"NaN"}').value as number))
  })

  test('round-trips every type through bytes', () => {
    const inner = SchemaBuilder.struct().field('n', Schemas.OPTIONAL_INT64).build()
    const schema = SchemaBuilder.struct()
      .field('i8', Schemas.INT8)
      .field('i16', Schemas.INT16)
      .field('i32', Schemas.INT32)
      .field('i64', Schemas.INT64)
      .field('f32', Schemas.FLOAT32)
      .field('f64', Schemas.FLOAT64)
      .field('bool', Schemas.BOOLEAN)
      .field('str', Schemas.STRING)
      .field('bytes', Schemas.BYTES)
      .field('arr', SchemaBuilder.array(Schemas.OPTIONAL_STRING).build())
      .field('smap', SchemaBuilder.map(Schemas.STRING, Schemas.FLOAT64).build())
      .field('imap', SchemaBuilder.map(Schemas.INT64, inner).build())
      .field('dec', Decimal.schema(3))
      .field('date', DateType.schema())
      .field('time', TimeType.schema())
      .field('ts', TimestampType.schema())
      .field('inner', inner)
      .build()
    const value = new Struct(schema)
      .put('i8', -128)
      .put('i16', 32767)
      .put('i32', -2147483648)
      .put('i64', -9223372036854775808n)
      .put('f32', Math.fround(3.14))
      .put('f64', Number.MAX_VALUE)
      .put('bool', true)
      .put('str', 'héllo "world"\n')
      .put('bytes', Uint8Array.of(0, 255, 128))
      .put('arr', ['a', null])
      .put('smap', { x: 1.5 })
      .put('imap', new Map([[5, new Struct(inner).put('n', 7)]]))
      .put('dec', new BigDecimal(-123456789012345678901234567890n, 3))
      .put('date', new Date(-86_400_000))
      .put('time', new Date(86_399_999))
      .put('ts', new Date(-1))
      .put('inner', new Struct(inner))
    for (const format of ['BASE64', 'NUMERIC']) {
      const c = converter({ 'decimal.format': format })
      const back = c.toConnectData('t', c.fromConnectData('t', schema, value))
      assert.ok(schemaEquals(back.schema, schema))
      assert.ok(value.equals(back.value), `${format}: ${String(back.value)}`)
    }
  })

  test('caches schemas read by their JSON text (Kafka testCacheSchemaToConnectConversion)', () => {
    const c = converter()
    const first = read(c, '{ "schema": { "type": "boolean" }, "payload": true }').schema
    assert.equal(read(c, '{ "schema": { "type": "boolean" }, "payload": false }').schema, first)
    read(c, '{ "schema": { "type": "boolean", "optional": true }, "payload": true }')
    read(c, '{ "schema": { "type": "boolean", "optional": false }, "payload": true }')
    assert.equal(c.toConnectSchemaCacheSize, 3)
  })

  test('reads a tombstone as a null schema and value (Kafka nullToConnect)', () => {
    assert.deepEqual(converter().toConnectData('t', null), { schema: null, value: null })
  })

  test('refuses malformed input with Kafka messages', () => {
    const c = converter()
    for (const json of ['{"schema":null}', '{"schema":null,"payload":1,"x":2}', '[1]', '', '"text"']) {
      assert.throws(() => read(c, json), { name: 'DataError', message: ENVELOPE_MESSAGE }, json)
    }
    const syntax = 'Converting byte[] to Kafka Connect data failed due to serialization error: '
    for (const json of ['{"schema":', '{"a":01x}', '[1,]', 'nul', '123abc', '{"a":"\u0001"}']) {
      assert.throws(
        () => read(c, json),
        (e: unknown) => e instanceof DataError && e.message === syntax && e.cause instanceof Error,
        json,
      )
    }
    assert.throws(() => c.toConnectData('t', Uint8Array.of(0x22, 0xff, 0x22)), { message: syntax })
    const cases: [string, string][] = [
      ['{"schema":{"type":"int32"},"payload":null}', 'Invalid null value for required INT32 field'],
      ['{"schema":{},"payload":1}', "Schema must contain 'type' field"],
      ['{"schema":{"type":"int128"},"payload":1}', 'Unknown schema type: int128'],
      ['{"schema":{"type":"array"},"payload":[]}', 'Array schema did not specify the element type'],
      [
        '{"schema":{"type":"map","values":{"type":"int8"}},"payload":[]}',
        'Map schema did not specify the key type',
      ],
      [
        '{"schema":{"type":"struct","fields":{}},"payload":{}}',
        'Struct schema\'s "fields" argument is not an array.',
      ],
      [
        '{"schema":{"type":"struct","fields":[{"type":"int8"}]},"payload":{}}',
        "Struct schema's field name not specified properly",
      ],
      [
        '{"schema":{"type":"int8","parameters":{"a":1}},"payload":1}',
        'Schema parameters must have string values.',
      ],
      [
        '{"schema":{"type":"struct","fields":[]},"payload":[]}',
        'Structs should be encoded as JSON objects, but found ARRAY',
      ],
      [
        '{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int8"}},"payload":[]}',
        'Maps with string fields should be encoded as JSON objects, but found ARRAY',
      ],
      [
        '{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":{}}',
        'Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT',
      ],
      [
        '{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":[1]}',
        'Found invalid map entry instead of array tuple: NUMBER',
      ],
      [
        '{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":[[1]]}',
        'Found invalid map entry, expected length 2 but found :1',
      ],
      ['{"schema":{"type":"bytes"},"payload":"not base64!"}', 'Invalid bytes field'],
      [
        '{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":1.0}',
        'Invalid type for Date, underlying representation should be integer but was NUMBER',
      ],
      [
        '{"schema":{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},"payload":"x"}',
        'Invalid type for Timestamp, underlying representation should be integral but was STRING',
      ],
      [
        '{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":true}',
        'Invalid type for Decimal, underlying representation should be numeric or bytes but was BOOLEAN',
      ],
      [
        '{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":"%%"}',
        'Invalid bytes for Decimal field',
      ],
    ]
    for (const [json, message] of cases)
      assert.throws(() => read(c, json), { name: 'DataError', message }, json)
  })

  test('reads every JSON escape, and refuses unknown ones and short \\u escapes', () => {
    const c = converter({ 'schemas.enable': 'false' })
    const escaped = String.raw`"\"\\\/\b\f\n\r\t\u0041\u00e9\uD83D\uDE00"`
    assert.equal(read(c, escaped).value, '"\\/\b\f\n\r\tAé😀')
    const schema = '{"schema":{"type":"string","optional":false},"payload":'
    assert.equal(read(converter(), `${schema}${escaped}}`).value, '"\\/\b\f\n\r\tAé😀')
    for (const json of [
      String.raw`"\a"`,
      String.raw`"\x41"`,
      String.raw`"\u00G1"`,
      String.raw`"\u12"`,
      '"\\é"',
    ]) {
      assert.throws(() => read(c, json), { name: 'DataError' }, json)
    }
  })

  test('ignores content after the first JSON value, as Jackson readTree does', () => {
    assert.equal(read(converter(), '{"schema":null,"payload":1} trailing').value, 1)
    assert.equal(read(converter({ 'schemas.enable': 'false' }), '{"a":1}{').value?.constructor, Object)
  })

  test('does not let a "__proto__" or "constructor" member change prototypes or fields', () => {
    const plain = converter({ 'schemas.enable': 'false' })
    const value = read(plain, '{"__proto__":{"polluted":1},"a":0012}').value as Record<string, unknown>
    assert.equal(Object.getPrototypeOf(value), Object.prototype)
    assert.deepEqual(Object.keys(value), ['__proto__', 'a'])
    const c = converter()
    const struct = read(
      c,
      '{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"field":"constructor"}]},"payload":{}}',
    ).value as Struct
    assert.equal(struct.get('constructor'), null)
  })
})
