import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AvroData, avscType } from '../../../src/api/avro/avro-data.ts'
import { avroSchemaText, parseAvroSchema } from '../../../src/api/avro/avro-schema.ts'
import { BigDecimal } from '../../../src/api/data/big-decimal.ts'
import {
  bigIntToBytes,
  DateType,
  Decimal,
  TimestampType,
  TimeType,
} from '../../../src/api/data/logical-types.ts'
import { type Schema, Schemas, schemaEquals, valueEquals } from '../../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import { DataError } from '../../../src/api/errors.ts'

const text = (data: AvroData, schema: Schema): string => avroSchemaText(data.fromConnectSchema(schema))

/** Connect → Avro schema and binary → Connect again, through the schema's JSON text (as a registry would). */
function roundTrip(data: AvroData, schema: Schema, value: unknown, version?: number) {
  const bytes = data.encode(schema, value)
  const avroText = text(data, schema)
  return { bytes, avroText, ...data.decode(avroText, bytes, version) }
}

describe('AvroData: Connect schemas as Avro schemas (Confluent text)', () => {
  const data = new AvroData()

  test('primitives map as AvroData maps them, INT8/INT16 annotated with connect.type', () => {
    assert.equal(text(data, Schemas.INT8), '{"type":"int","connect.type":"int8"}')
    assert.equal(text(data, Schemas.INT16), '{"type":"int","connect.type":"int16"}')
    assert.equal(text(data, Schemas.INT32), '"int"')
    assert.equal(text(data, Schemas.INT64), '"long"')
    assert.equal(text(data, Schemas.FLOAT32), '"float"')
    assert.equal(text(data, Schemas.FLOAT64), '"double"')
    assert.equal(text(data, Schemas.BOOLEAN), '"boolean"')
    assert.equal(text(data, Schemas.STRING), '"string"')
    assert.equal(text(data, Schemas.BYTES), '"bytes"')
    assert.equal(text(data, Schemas.OPTIONAL_STRING), '["null","string"]')
  })

  test('logical types carry connect.version, connect.name and Avro logicalType; Decimal precision defaults to 64', () => {
    assert.equal(
      text(data, Decimal.schema(2)),
      '{"type":"bytes","scale":2,"precision":64,"connect.version":1,"connect.parameters":{"scale":"2"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}',
    )
    assert.equal(
      text(data, Decimal.builder(2).parameter('connect.decimal.precision', '10').build()),
      '{"type":"bytes","scale":2,"precision":10,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"10"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}',
    )
    assert.equal(
      text(data, TimestampType.schema()),
      '{"type":"long","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Timestamp","logicalType":"timestamp-millis"}',
    )
    assert.equal(
      text(data, DateType.schema()),
      '{"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Date","logicalType":"date"}',
    )
    assert.equal(
      text(data, TimeType.schema()),
      '{"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Time","logicalType":"time-millis"}',
    )
  })

  test('a Decimal whose scale exceeds its precision keeps the legacy logicalType property and round trips', () => {
    const schema = Decimal.builder(5).parameter('connect.decimal.precision', '3').build()
    assert.equal(
      text(data, schema),
      '{"type":"bytes","scale":5,"precision":3,"connect.version":1,"connect.parameters":{"scale":"5","connect.decimal.precision":"3"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}',
    )
    const value = BigDecimal.parse('0.00123')
    assert.ok(valueEquals(data.decode(text(data, schema), data.encode(schema, value)).value, value))
  })

  test('a struct is a record named after it; optional fields are ["null",T] with default null, fields with a default [T,"null"]', () => {
    const schema = SchemaBuilder.struct()
      .name('com.example.Order')
      .doc('an order')
      .field('id', Schemas.INT64)
      .field('note', Schemas.OPTIONAL_STRING)
      .field('qty', SchemaBuilder.int32().optional().defaultValue(1).build())
      .field('ok', SchemaBuilder.bool().defaultValue(true).build())
      .build()
    assert.equal(
      text(data, schema),
      '{"type":"record","name":"Order","namespace":"com.example","fields":[' +
        '{"name":"id","type":"long"},' +
        '{"name":"note","type":["null","string"],"default":null},' +
        '{"name":"qty","type":[{"type":"int","connect.default":1},"null"],"default":1},' +
        '{"name":"ok","type":{"type":"boolean","connect.default":true},"default":true}' +
        '],"connect.doc":"an order","connect.name":"com.example.Order"}',
    )
  })

  test('unnamed structs are ConnectDefault, ConnectDefault2… in pre-order; optional structs are ["null", record]', () => {
    const inner = SchemaBuilder.struct().field('a', Schemas.INT32).optional().build()
    const other = SchemaBuilder.struct().field('b', Schemas.STRING).build()
    const schema = SchemaBuilder.struct().field('inner', inner).field('other', other).build()
    assert.equal(
      text(data, schema),
      '{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":[' +
        '{"name":"inner","type":["null",{"type":"record","name":"ConnectDefault2","fields":[{"name":"a","type":"int"}]}],"default":null},' +
        '{"name":"other","type":{"type":"record","name":"ConnectDefault3","fields":[{"name":"b","type":"string"}]}}]}',
    )
  })

  test('a struct met twice is defined once and then referred to by name', () => {
    const address = SchemaBuilder.struct().name('com.example.Address').field('city', Schemas.STRING).build()
    const schema = SchemaBuilder.struct()
      .name('com.example.Person')
      .field('home', address)
      .field('work', address)
      .build()
    assert.equal(
      text(data, schema),
      '{"type":"record","name":"Person","namespace":"com.example","fields":[' +
        '{"name":"home","type":{"type":"record","name":"Address","fields":[{"name":"city","type":"string"}],"connect.name":"com.example.Address"}},' +
        '{"name":"work","type":"Address"}],"connect.name":"com.example.Person"}',
    )
  })

  test('maps with string keys are Avro maps; other keys an array of io.confluent.connect.avro.MapEntry', () => {
    assert.equal(
      text(data, SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build()),
      '{"type":"map","values":"int"}',
    )
    assert.equal(
      text(data, SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build()),
      '{"type":"array","items":{"type":"record","name":"MapEntry","namespace":"io.confluent.connect.avro","fields":[{"name":"key","type":"int"},{"name":"value","type":"string"}]}}',
    )
    assert.equal(
      text(
        data,
        SchemaBuilder.map(Schemas.OPTIONAL_STRING, Schemas.INT32).name('com.example.Counts').build(),
      ),
      '{"type":"array","items":{"type":"record","name":"Counts","namespace":"com.example","fields":[{"name":"key","type":["null","string"],"default":null},{"name":"value","type":"int"}],"connect.internal.type":"MapEntry"},"connect.name":"com.example.Counts"}',
    )
  })

  test('two different unnamed non-string-key maps clash on the MapEntry name, as in Java ("Can\'t redefine")', () => {
    const schema = SchemaBuilder.struct()
      .field('a', SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build())
      .field('b', SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build())
      .field('c', SchemaBuilder.map(Schemas.INT64, Schemas.STRING).build())
      .build()
    assert.throws(() => text(data, schema), /Can't redefine: io.confluent.connect.avro.MapEntry/)
    const same = SchemaBuilder.struct()
      .field('a', SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build())
      .field('b', SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build())
      .build()
    assert.match(text(data, same), /\{"name":"b","type":\{"type":"array","items":"MapEntry"\}\}/)
  })

  test('parameters starting with avro are raw properties; others go to connect.parameters', () => {
    const schema = SchemaBuilder.string()
      .parameter('avro.java.string', 'String')
      .parameter('length', '10')
      .build()
    assert.equal(
      text(data, schema),
      '{"type":"string","connect.parameters":{"length":"10"},"avro.java.string":"String"}',
    )
  })

  test('connect.meta.data=false leaves the connect.* properties out', () => {
    const plain = new AvroData({ connectMetaData: false })
    assert.equal(text(plain, SchemaBuilder.string().name('x.Y').version(3).doc('d').build()), '"string"')
    assert.equal(
      text(plain, Decimal.schema(2)),
      '{"type":"bytes","scale":2,"precision":64,"logicalType":"decimal"}',
    )
  })
})

describe('AvroData: Avro schemas as Connect schemas', () => {
  const data = new AvroData()

  test('the registry version becomes the top-level version unless connect.version is set', () => {
    assert.equal(
      data.toConnectSchema('{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}', 7).version,
      7,
    )
    assert.equal(data.toConnectSchema('{"type":"string","connect.version":2}', 7).version, 2)
  })

  test('Avro logical types written by other producers become Connect logical types', () => {
    const schema = data.toConnectSchema(
      '{"type":"record","name":"R","namespace":"n","fields":[' +
        '{"name":"d","type":{"type":"int","logicalType":"date"}},' +
        '{"name":"t","type":{"type":"int","logicalType":"time-millis"}},' +
        '{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},' +
        '{"name":"m","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}},' +
        '{"name":"f","type":{"type":"fixed","name":"F","size":8,"logicalType":"decimal","precision":18,"scale":0}},' +
        '{"name":"u","type":{"type":"long","logicalType":"timestamp-micros"}}]}',
    )
    assert.equal(schema.name, 'n.R')
    assert.equal(schema.field('d')!.schema.name, DateType.LOGICAL_NAME)
    assert.equal(schema.field('t')!.schema.name, TimeType.LOGICAL_NAME)
    assert.equal(schema.field('ts')!.schema.name, TimestampType.LOGICAL_NAME)
    assert.deepEqual(schema.field('m')!.schema.parameters, { scale: '3', 'connect.decimal.precision': '10' })
    assert.equal(schema.field('f')!.schema.name, Decimal.LOGICAL_NAME)
    assert.equal(schema.field('u')!.schema.type, 'INT64')
    assert.equal(schema.field('u')!.schema.name, undefined)
  })

  test('a general union is a io.confluent.connect.avro.Union struct with one optional field per branch', () => {
    const schema = data.toConnectSchema(
      '["null","string","int",{"type":"record","name":"R","namespace":"n","fields":[]}]',
    )
    assert.equal(schema.name, 'io.confluent.connect.avro.Union')
    assert.equal(schema.optional, true)
    assert.deepEqual(
      schema.fields.map((f) => [f.name, f.schema.optional]),
      [
        ['string', true],
        ['int', true],
        ['R', true],
      ],
    )
    const enhanced = new AvroData({ enhancedAvroSchemaSupport: true })
    assert.equal(
      enhanced.toConnectSchema('["string",{"type":"record","name":"R","namespace":"n","fields":[]}]')
        .fields[1].name,
      'n.R',
    )
  })

  test('enums become strings with the io.confluent.connect.avro.Enum parameters, and back with enhanced support', () => {
    const enhanced = new AvroData({ enhancedAvroSchemaSupport: true })
    const avro = '{"type":"enum","name":"Suit","namespace":"cards","symbols":["HEARTS","SPADES"]}'
    const schema = enhanced.toConnectSchema(avro)
    assert.equal(schema.type, 'STRING')
    assert.equal(schema.name, 'cards.Suit')
    assert.deepEqual(schema.parameters, {
      'io.confluent.connect.avro.Enum': 'cards.Suit',
      'io.confluent.connect.avro.Enum.HEARTS': 'HEARTS',
      'io.confluent.connect.avro.Enum.SPADES': 'SPADES',
    })
    const back = enhanced.fromConnectSchema(schema)
    assert.equal(back.type, 'enum')
    const { value } = enhanced.decode(back, enhanced.encode(schema, 'SPADES'))
    assert.equal(value, 'SPADES')
    // Without enhanced support the enum is written as a plain string.
    assert.equal(new AvroData().fromConnectSchema(schema).type, 'string')
  })

  test('a Debezium change-event schema as a Java worker registers it reads and writes back to the same text', () => {
    const text =
      '{"type":"record","name":"Envelope","namespace":"dbserver1.inventory.customers","fields":[' +
      '{"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"id","type":"int"},' +
      '{"name":"first_name","type":"string"},{"name":"email","type":"string"}],"connect.name":"dbserver1.inventory.customers.Value"}],"default":null},' +
      '{"name":"after","type":["null","Value"],"default":null},' +
      '{"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium.connector.postgresql","fields":[' +
      '{"name":"version","type":"string"},{"name":"connector","type":"string"},{"name":"name","type":"string"},{"name":"ts_ms","type":"long"},' +
      '{"name":"snapshot","type":[{"type":"string","connect.version":1,"connect.parameters":{"allowed":"true,last,false,incremental"},"connect.default":"false","connect.name":"io.debezium.data.Enum"},"null"],"default":"false"},' +
      '{"name":"db","type":"string"}],"connect.name":"io.debezium.connector.postgresql.Source"}},' +
      '{"name":"op","type":"string"},{"name":"ts_ms","type":["null","long"],"default":null}],' +
      '"connect.version":1,"connect.name":"dbserver1.inventory.customers.Envelope"}'
    const schema = data.toConnectSchema(text, 4)
    assert.equal(schema.name, 'dbserver1.inventory.customers.Envelope')
    assert.equal(schema.version, 1, 'connect.version wins over the registry version')
    const snapshot = schema.field('source')!.schema.field('snapshot')!.schema
    assert.equal(snapshot.optional, true)
    assert.equal(snapshot.defaultValue, 'false')
    assert.equal(snapshot.name, 'io.debezium.data.Enum')
    assert.ok(schemaEquals(schema.field('before')!.schema, schema.field('after')!.schema))
    assert.equal(avroSchemaText(data.fromConnectSchema(schema)), text)
  })

  test('Avro field defaults and enum docs of schemas from other producers survive a round trip unchanged', () => {
    const enhanced = new AvroData({ enhancedAvroSchemaSupport: true })
    const text =
      '{"type":"record","name":"R","namespace":"p","fields":[' +
      '{"name":"n","type":"int","default":5},' +
      '{"name":"s","type":["string","null"],"default":"x"},' +
      '{"name":"e","type":{"type":"enum","name":"Color","doc":"colours","symbols":["RED","BLUE"],"default":"RED"}}]}'
    const schema = enhanced.toConnectSchema(text)
    assert.equal(schema.field('n')!.schema.defaultValue, 5)
    assert.equal(schema.field('n')!.schema.parameters?.['io.confluent.connect.avro.field.default'], 'true')
    // As Java: a union member takes only its own connect.default, not the field's.
    assert.equal(schema.field('s')!.schema.defaultValue, undefined)
    const back = avroSchemaText(enhanced.fromConnectSchema(schema))
    assert.match(back, /\{"name":"n","type":"int","default":5\}/)
    assert.match(
      back,
      /"type":"enum","name":"Color","doc":"colours","symbols":\["RED","BLUE"\],"default":"RED"/,
    )
  })

  test('a recursive Avro schema is refused with a DataError', () => {
    assert.throws(
      () =>
        data.toConnectSchema(
          '{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}',
        ),
      (e: unknown) => e instanceof DataError && /recursive/.test(e.message),
    )
  })
})

describe('AvroData: values round trip through Avro binary', () => {
  const data = new AvroData()

  const all = SchemaBuilder.struct()
    .name('com.example.All')
    .version(3)
    .field('i8', Schemas.INT8)
    .field('i16', Schemas.INT16)
    .field('i32', Schemas.INT32)
    .field('i64', Schemas.INT64)
    .field('f32', Schemas.FLOAT32)
    .field('f64', Schemas.FLOAT64)
    .field('bool', Schemas.BOOLEAN)
    .field('str', Schemas.STRING)
    .field('bytes', Schemas.BYTES)
    .field('dec', Decimal.builder(3).parameter('connect.decimal.precision', '20').build())
    .field('date', DateType.schema())
    .field('time', TimeType.schema())
    .field('ts', TimestampType.schema())
    .field('optStr', Schemas.OPTIONAL_STRING)
    .field('optDefault', SchemaBuilder.int64().optional().defaultValue(42).build())
    .field('array', SchemaBuilder.array(Schemas.OPTIONAL_INT32).build())
    .field('strMap', SchemaBuilder.map(Schemas.STRING, Schemas.FLOAT64).build())
    .field('intMap', SchemaBuilder.map(Schemas.INT64, Schemas.STRING).build())
    .field(
      'structMap',
      SchemaBuilder.map(SchemaBuilder.struct().field('k', Schemas.INT32).build(), Schemas.BOOLEAN)
        .name('com.example.StructMap')
        .build(),
    )
    .field(
      'nested',
      SchemaBuilder.struct()
        .name('com.example.Nested')
        .field('deep', SchemaBuilder.struct().field('x', Decimal.schema(0)).optional().build())
        .build(),
    )
    .build()

  function sample(): Struct {
    const nested = all.field('nested')!.schema
    const deep = nested.field('deep')!.schema
    const structKey = all.field('structMap')!.schema.keySchema!
    return new Struct(all)
      .put('i8', -128)
      .put('i16', 32767)
      .put('i32', -2147483648)
      .put('i64', 2n ** 63n - 1n)
      .put('f32', Math.fround(1.5))
      .put('f64', -0.1)
      .put('bool', true)
      .put('str', 'héllo ✓')
      .put('bytes', Buffer.from([0, 255, 1]))
      .put('dec', BigDecimal.parse('-12345678901234567.891'))
      .put('date', new Date(Date.UTC(2024, 1, 29)))
      .put('time', new Date(45_296_789))
      .put('ts', new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)))
      .put('optStr', null)
      .put('optDefault', null)
      .put('array', [1, null, -3])
      .put('strMap', { a: 1.25, __proto__: 2.5 } as Record<string, number>)
      .put(
        'intMap',
        new Map<unknown, unknown>([
          [-(2n ** 63n), 'min'],
          [7, 'seven'],
        ]),
      )
      .put('structMap', new Map([[new Struct(structKey).put('k', 5), false]]))
      .put('nested', new Struct(nested).put('deep', new Struct(deep).put('x', new BigDecimal(10n ** 30n, 0))))
  }

  test('every Connect type comes back equal, with the schema back equal too', () => {
    const value = sample()
    const back = roundTrip(data, all, value)
    assert.ok(schemaEquals(back.schema, all), `schema differs: ${back.avroText}`)
    const struct = back.value as Struct
    for (const field of all.fields) {
      const expected = field.name === 'optDefault' ? 42 : value.getWithoutDefault(field)
      assert.ok(valueEquals(struct.getWithoutDefault(field), expected), `field ${field.name}`)
    }
  })

  test('int64 is exact at both ends of its range, and safe integers read as numbers', () => {
    for (const v of [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n]) {
      assert.equal(data.decode(data.fromConnectSchema(Schemas.INT64), data.encode(Schemas.INT64, v)).value, v)
    }
    assert.equal(data.decode(data.fromConnectSchema(Schemas.INT64), data.encode(Schemas.INT64, 12)).value, 12)
  })

  test('longs around every varint length boundary are zig-zag varints and read back exactly', () => {
    const values: (number | bigint)[] = [0, -1, 1, 63, -64, 64]
    for (let bits = 6; bits <= 63; bits += 7) {
      const edge = 2n ** BigInt(bits)
      values.push(edge - 1n, edge, -edge, -edge - 1n)
    }
    values.push(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 63n - 1n, -(2n ** 63n))
    const avro = data.fromConnectSchema(Schemas.INT64)
    for (const v of values) {
      const big = BigInt(v)
      const bytes = data.encode(Schemas.INT64, v)
      // Zig-zag varint, computed independently.
      let z = BigInt.asUintN(64, (big << 1n) ^ (big >> 63n))
      const expected: number[] = []
      do {
        expected.push(Number(z & 0x7fn) | (z > 0x7fn ? 0x80 : 0))
        z >>= 7n
      } while (z > 0n)
      assert.deepEqual([...bytes], expected, `encoding of ${v}`)
      const back = data.decode(avro, bytes).value
      assert.equal(BigInt(back as number | bigint), big, `decoding of ${v}`)
      assert.equal(
        typeof back,
        Number.isSafeInteger(Number(big)) && BigInt(Number(big)) === big ? 'number' : 'bigint',
      )
    }
  })

  test('the bytes are plain Avro binary: zig-zag ints, length-prefixed strings, union branch indexes', () => {
    const schema = SchemaBuilder.struct()
      .field('a', Schemas.INT32)
      .field('b', Schemas.OPTIONAL_STRING)
      .build()
    const bytes = data.encode(schema, new Struct(schema).put('a', -1).put('b', 'hi'))
    assert.deepEqual([...bytes], [0x01, 0x02, 0x04, 0x68, 0x69])
    // And avsc reading the Java-identical schema text agrees.
    assert.deepEqual({ ...avscType(text(data, schema)).fromBuffer(bytes) }, { a: -1, b: 'hi' })
  })

  test('decimals keep Java BigInteger.toByteArray bytes at every length and sign', () => {
    const schema = Decimal.schema(1)
    const avro = data.fromConnectSchema(schema)
    for (let bits = 0; bits <= 80; bits += 3) {
      for (const unscaled of [
        2n ** BigInt(bits),
        -(2n ** BigInt(bits)),
        2n ** BigInt(bits) - 1n,
        -(2n ** BigInt(bits)) - 1n,
      ]) {
        const value = new BigDecimal(unscaled, 1)
        const bytes = data.encode(schema, value)
        const minimal = bigIntToBytes(unscaled)
        assert.deepEqual([...bytes.subarray(1)], [...minimal], `bytes of ${unscaled}`)
        assert.ok(valueEquals(data.decode(avro, bytes).value, value), `value ${unscaled}`)
      }
    }
  })

  test('a default of a Connect field applies to a null value on write, as Struct.get does', () => {
    const schema = SchemaBuilder.struct().field('n', SchemaBuilder.int32().defaultValue(9).build()).build()
    const back = roundTrip(data, schema, new Struct(schema))
    assert.equal((back.value as Struct).get('n'), 9)
  })

  test('field defaults survive the round trip, including bytes, decimal and array defaults', () => {
    const schema = SchemaBuilder.struct()
      .name('p.WithDefaults')
      .field(
        'bytes',
        SchemaBuilder.bytes()
          .defaultValue(Buffer.from([1, 2, 250]))
          .build(),
      )
      .field('dec', Decimal.builder(2).defaultValue(BigDecimal.parse('-1.50')).build())
      .field('list', SchemaBuilder.array(Schemas.STRING).defaultValue(['a']).build())
      .field('f', SchemaBuilder.float64().defaultValue(1).build())
      .build()
    const avroText = text(data, schema)
    assert.match(avroText, /"default":"\\u0001\\u0002ú"/)
    assert.match(avroText, /"default":1\.0/)
    const back = data.toConnectSchema(avroText)
    assert.ok(schemaEquals(back, schema), avroText)
  })

  test('a general union struct is written to and read from the right branch', () => {
    const schema = data.toConnectSchema('["null","string","int"]')
    const value = new Struct(schema).put('int', 12)
    const back = data.decode('["null","string","int"]', data.encode(schema, value))
    assert.equal((back.value as Struct).get('int'), 12)
    assert.equal((back.value as Struct).get('string'), null)
  })

  test('a value that does not match its schema is a DataError naming the field', () => {
    const schema = SchemaBuilder.struct().field('a', Schemas.INT32).build()
    assert.throws(
      () =>
        data.encode(schema, new Struct(SchemaBuilder.struct().field('b', Schemas.INT32).build()).put('b', 1)),
      DataError,
    )
    assert.throws(() => data.encode(Schemas.INT32, 'x'), DataError)
    assert.throws(() => data.decode('"int"', Buffer.from([0x80])), DataError)
  })

  test('schemas parse with Avro name resolution: namespaces inherit, references resolve', () => {
    const parsed = parseAvroSchema(
      '{"type":"record","name":"A","namespace":"x","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[]}},{"name":"c","type":"x.B"},{"name":"d","type":"B"}]}',
    )
    assert.equal(
      avroSchemaText(parsed),
      '{"type":"record","name":"A","namespace":"x","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[]}},{"name":"c","type":"B"},{"name":"d","type":"B"}]}',
    )
    assert.throws(
      () => parseAvroSchema('{"type":"record","name":"A","fields":[{"name":"b","type":"Nope"}]}'),
      DataError,
    )
  })
})
