/**
 * The Connect ↔ JSON Schema mapping of Confluent's JsonSchemaData, both ways, and the payloads it
 * gives (pure logic: the converter's mapping without a registry).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BigDecimal } from '../../../src/api/data/big-decimal.ts'
import { DateType, Decimal, TimestampType, TimeType } from '../../../src/api/data/logical-types.ts'
import { type Schema, Schemas, schemaEquals } from '../../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import { compileReader, MISMATCH, readFastValue } from '../../../src/converters/json-fast-reader.ts'
import { readJson } from '../../../src/converters/json-reader.ts'
import { JsonSchemaConverter } from '../../../src/converters/json-schema-converter.ts'
import { JsonToConnect } from '../../../src/converters/json-to-connect.ts'
import { JsonWriter } from '../../../src/converters/json-writer.ts'

function converter(configs: Record<string, string> = {}): JsonSchemaConverter {
  const c = new JsonSchemaConverter()
  c.configure({ 'schema.registry.url': 'http://127.0.0.1:1', ...configs }, false)
  return c
}

const writer = new JsonWriter({ decimalNumeric: false, replaceNullWithDefault: true, jsonSchema: true })
const reader = new JsonToConnect(true, true)
const payload = (schema: Schema, value: unknown) => writer.toJson(schema, value)
const back = (schema: Schema, text: string) => reader.toConnect(schema, readJson(text, 'tree'))

describe('Connect schema to JSON Schema (JsonSchemaData.fromConnectSchema)', () => {
  const c = converter()

  test('prints the text Java prints: everit’s key order and Java HashMap iteration (Confluent’s SchemaValuesTest schema)', () => {
    // The JSON schema of Confluent's core/src/test/.../storage/SchemaValuesTest.java
    // (testSchemaValueComplexJsonMD5), printed by JsonSchemaData from this Connect schema.
    const schema = SchemaBuilder.struct()
      .field('int8', Schemas.INT8)
      .field('int16', Schemas.INT16)
      .field('int32', Schemas.INT32)
      .field('int64', Schemas.INT64)
      .field('float32', Schemas.FLOAT32)
      .field('float64', Schemas.FLOAT64)
      .field('boolean', Schemas.BOOLEAN)
      .field('string', Schemas.STRING)
      .field('bytes', Schemas.BYTES)
      .field('array', SchemaBuilder.array(Schemas.STRING).build())
      .field('map', SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build())
      .build()
    assert.equal(
      JSON.stringify(c.jsonSchemaOf(schema)),
      '{"type":"object","properties":{' +
        '"boolean":{"connect.index":6,"type":"boolean"},' +
        '"string":{"type":"string","connect.index":7},' +
        '"int32":{"type":"integer","connect.index":2,"connect.type":"int32"},' +
        '"array":{"type":"array","connect.index":9,"items":{"type":"string"}},' +
        '"int64":{"type":"integer","connect.index":3,"connect.type":"int64"},' +
        '"bytes":{"type":"string","connect.index":8,"connect.type":"bytes"},' +
        '"int8":{"type":"integer","connect.index":0,"connect.type":"int8"},' +
        '"float32":{"type":"number","connect.index":4,"connect.type":"float32"},' +
        '"float64":{"type":"number","connect.index":5,"connect.type":"float64"},' +
        '"map":{"type":"object","connect.index":10,"connect.type":"map","additionalProperties":{"type":"integer","connect.type":"int32"}},' +
        '"int16":{"type":"integer","connect.index":1,"connect.type":"int16"}}}',
    )
  })

  test('primitives carry connect.type; a struct is an object with connect.index per property and its name as title', () => {
    const schema = SchemaBuilder.struct()
      .name('com.example.Bet')
      .doc('a bet')
      .version(3)
      .field('i8', Schemas.INT8)
      .field('i64', Schemas.INT64)
      .field('f32', Schemas.FLOAT32)
      .field('ok', Schemas.BOOLEAN)
      .field('raw', Schemas.BYTES)
      .field('note', Schemas.OPTIONAL_STRING)
      .build()
    assert.deepEqual(c.jsonSchemaOf(schema), {
      type: 'object',
      properties: {
        i8: { type: 'integer', 'connect.index': 0, 'connect.type': 'int8' },
        i64: { type: 'integer', 'connect.index': 1, 'connect.type': 'int64' },
        f32: { type: 'number', 'connect.index': 2, 'connect.type': 'float32' },
        ok: { type: 'boolean', 'connect.index': 3 },
        raw: { type: 'string', 'connect.index': 4, 'connect.type': 'bytes' },
        note: { oneOf: [{ type: 'null' }, { type: 'string' }], 'connect.index': 5 },
      },
      title: 'com.example.Bet',
      description: 'a bet',
      'connect.version': 3,
    })
  })

  test('maps: string keys are additionalProperties, other keys arrays of key/value objects, both connect.type map', () => {
    assert.deepEqual(c.jsonSchemaOf(SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build()), {
      type: 'object',
      additionalProperties: { type: 'integer', 'connect.type': 'int32' },
      'connect.type': 'map',
    })
    assert.deepEqual(c.jsonSchemaOf(SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build()), {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: { type: 'integer', 'connect.index': 0, 'connect.type': 'int32' },
          value: { type: 'string', 'connect.index': 1 },
        },
      },
      'connect.type': 'map',
    })
    // An optional string key is not a JSON object key either.
    assert.equal(
      (c.jsonSchemaOf(SchemaBuilder.map(Schemas.OPTIONAL_STRING, Schemas.STRING).build()) as { type: string })
        .type,
      'array',
    )
  })

  test('logical types keep their Connect names as title; Decimal is bytes (base64) or a number with decimal.format=NUMERIC', () => {
    assert.deepEqual(c.jsonSchemaOf(Decimal.schema(2)), {
      type: 'string',
      title: Decimal.LOGICAL_NAME,
      'connect.type': 'bytes',
      'connect.version': 1,
      'connect.parameters': { scale: '2' },
    })
    assert.equal(
      (converter({ 'decimal.format': 'numeric' }).jsonSchemaOf(Decimal.schema(2)) as { type: string }).type,
      'number',
    )
    assert.deepEqual(c.jsonSchemaOf(DateType.schema()), {
      type: 'integer',
      title: DateType.LOGICAL_NAME,
      'connect.type': 'int32',
      'connect.version': 1,
    })
    assert.equal(
      (c.jsonSchemaOf(TimestampType.schema()) as { 'connect.type': string })['connect.type'],
      'int64',
    )
  })

  test('object.additional.properties=false closes structs; an optional struct is oneOf null and the object', () => {
    const inner = SchemaBuilder.struct().name('Inner').field('a', Schemas.INT32).optional().build()
    const outer = SchemaBuilder.struct().field('inner', inner).build()
    const closed = converter({ 'object.additional.properties': 'false' }).jsonSchemaOf(outer)
    assert.deepEqual(closed, {
      type: 'object',
      properties: {
        inner: {
          oneOf: [
            { type: 'null' },
            {
              type: 'object',
              properties: { a: { type: 'integer', 'connect.index': 0, 'connect.type': 'int32' } },
              additionalProperties: false,
              title: 'Inner',
            },
          ],
          'connect.index': 0,
        },
      },
      additionalProperties: false,
    })
  })

  test('defaults and parameters outside Confluent’s namespace are written', () => {
    const schema = SchemaBuilder.string()
      .defaultValue('x')
      .parameter('p', 'v')
      .parameter('io.confluent.connect.json.Enum', '')
      .build()
    assert.deepEqual(c.jsonSchemaOf(schema), { enum: [], default: 'x', 'connect.parameters': { p: 'v' } })
  })
})

describe('JSON Schema to Connect schema (JsonSchemaData.toConnectSchema)', () => {
  const c = converter()

  test('every Connect schema survives the round trip, with the registry version when connect.version is absent', () => {
    const schema = SchemaBuilder.struct()
      .name('com.example.All')
      .field('i8', Schemas.INT8)
      .field('i16', Schemas.OPTIONAL_INT16)
      .field('f64', Schemas.FLOAT64)
      .field('s', SchemaBuilder.string().defaultValue('dflt').build())
      .field('b', Schemas.OPTIONAL_BYTES)
      .field('list', SchemaBuilder.array(Schemas.STRING).optional().build())
      .field('smap', SchemaBuilder.map(Schemas.STRING, Schemas.INT64).build())
      .field('imap', SchemaBuilder.map(Schemas.INT32, Schemas.OPTIONAL_STRING).build())
      .field('dec', Decimal.schema(3))
      .field('day', DateType.builder().optional().build())
      .field('t', TimeType.schema())
      .field('ts', TimestampType.schema())
      .build()
    const read = c.connectSchemaOf(c.jsonSchemaOf(schema), 7)
    const expected = SchemaBuilder.from(schema).version(7).build()
    assert.ok(schemaEquals(read, expected), `${JSON.stringify(c.jsonSchemaOf(read))}`)
  })

  test('a producer’s plain JSON Schema: integer is INT64, number FLOAT64, fields in the Java HashMap order Confluent reads properties in, required honoured by use.optional.for.nonrequired', () => {
    const document = {
      type: 'object',
      title: 'Order',
      properties: {
        id: { type: 'integer' },
        price: { type: 'number' },
        tags: { type: 'array', items: { type: 'string' } },
      },
      required: ['id'],
    }
    const plain = c.connectSchemaOf(document)
    assert.equal(plain.name, 'Order')
    assert.deepEqual(
      plain.fields.map((f) => [f.name, f.schema.type, f.schema.optional]),
      [
        ['price', 'FLOAT64', false],
        ['id', 'INT64', false],
        ['tags', 'ARRAY', false],
      ],
    )
    const optional = converter({ 'use.optional.for.nonrequired': 'true' }).connectSchemaOf(document)
    assert.deepEqual(
      optional.fields.map((f) => [f.name, f.schema.optional]),
      [
        ['price', true],
        ['id', false],
        ['tags', true],
      ],
    )
  })

  test('connect.index orders the fields; type arrays and oneOf with null are optional; other oneOfs are OneOf structs', () => {
    const s = c.connectSchemaOf({
      type: 'object',
      properties: {
        b: { type: ['string', 'null'], 'connect.index': 1 },
        a: { oneOf: [{ type: 'null' }, { type: 'integer', 'connect.type': 'int32' }], 'connect.index': 0 },
        u: { oneOf: [{ type: 'string' }, { type: 'integer' }], 'connect.index': 2 },
      },
    })
    assert.deepEqual(
      s.fields.map((f) => [f.name, f.schema.type, f.schema.optional]),
      [
        ['a', 'INT32', true],
        ['b', 'STRING', true],
        ['u', 'STRUCT', false],
      ],
    )
    const u = s.field('u')!.schema
    assert.equal(u.name, 'io.confluent.connect.json.OneOf')
    assert.deepEqual(
      u.fields.map((f) => f.name),
      ['io.confluent.connect.json.OneOf.field.0', 'io.confluent.connect.json.OneOf.field.1'],
    )
    assert.ok(back(u, '12') instanceof Struct)
    assert.equal((back(u, '12') as Struct).get('io.confluent.connect.json.OneOf.field.1'), 12)
    assert.equal(payload(u, new Struct(u).put('io.confluent.connect.json.OneOf.field.0', 'x')), '"x"')
  })

  test('$refs carrying connect.index, required and oneOf-null properties (Confluent’s JsonSchemaDataTest vehicle case)', () => {
    const c = converter({ 'use.optional.for.nonrequired': 'true' })
    const schema = c.connectSchemaOf({
      type: 'object',
      properties: { vehicle: { $ref: '#/definitions/VehicleDto' } },
      definitions: {
        PriceDto: {
          type: 'object',
          required: ['amount'],
          properties: { amount: { type: 'number', format: 'decimal' } },
        },
        VehicleDto: {
          type: 'object',
          required: ['offerPrice', 'firstRegistrationDate'],
          properties: {
            offerPrice: { 'connect.index': 1, $ref: '#/definitions/PriceDto' },
            catalogPrice: {
              'connect.index': 2,
              oneOf: [{ type: 'null' }, { $ref: '#/definitions/PriceDto' }],
            },
            firstRegistrationDate: { 'connect.index': 3, type: 'string', format: 'date-time' },
          },
        },
      },
    })
    const vehicle = schema.field('vehicle')!.schema
    assert.deepEqual(
      vehicle.fields.map((f) => [f.name, f.schema.optional]),
      [
        ['offerPrice', false],
        ['catalogPrice', true],
        ['firstRegistrationDate', false],
      ],
    )
    const read = back(
      schema,
      '{"vehicle":{"offerPrice":{"amount":20000},"firstRegistrationDate":"2020-08-19T12:05:15.953Z"}}',
    ) as Struct
    const v = read.get('vehicle') as Struct
    assert.equal((v.get('offerPrice') as Struct).get('amount'), 20000)
    assert.equal(v.get('catalogPrice'), null)
  })

  test('enums, const, allOf and local $refs', () => {
    const e = c.connectSchemaOf({ type: 'string', enum: ['A', 'B'] })
    assert.deepEqual(e.parameters, {
      'io.confluent.connect.json.Enum': '',
      'io.confluent.connect.json.Enum.A': 'A',
      'io.confluent.connect.json.Enum.B': 'B',
    })
    assert.deepEqual(c.jsonSchemaOf(e), { enum: ['A', 'B'] })
    assert.equal(c.connectSchemaOf({ type: 'integer', enum: [1, 2] }).type, 'INT64')
    const s = c.connectSchemaOf({
      $defs: { Money: { type: 'object', properties: { amount: { type: 'number' } } } },
      allOf: [{ properties: { id: { type: 'string' } }, required: ['id'] }, { $ref: '#/$defs/Money' }],
    })
    assert.deepEqual(
      s.fields.map((f) => f.name),
      ['id', 'amount'],
    )
    const ref = c.connectSchemaOf({ definitions: { X: { type: 'boolean' } }, $ref: '#/definitions/X' })
    assert.equal(ref.type, 'BOOLEAN')
  })
})

describe('payloads (JsonSchemaData.fromConnectData / toConnectData)', () => {
  test('maps with non-string keys are arrays of key/value objects, both ways', () => {
    const schema = SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build()
    const text = payload(
      schema,
      new Map([
        [1, 'a'],
        [2, 'b'],
      ]),
    )
    assert.equal(text, '[{"key":1,"value":"a"},{"key":2,"value":"b"}]')
    assert.deepEqual(
      back(schema, text),
      new Map([
        [1, 'a'],
        [2, 'b'],
      ]),
    )
  })

  test('a null required struct field is left out, and reads back as null; null optional fields are written as null', () => {
    const schema = SchemaBuilder.struct()
      .field('req', Schemas.STRING)
      .field('opt', Schemas.OPTIONAL_STRING)
      .build()
    const struct = new Struct(schema).put('opt', null)
    assert.equal(payload(schema, struct), '{"opt":null}')
    const read = back(schema, '{"opt":null}') as Struct
    assert.equal(read.get('req'), null)
  })

  test('Decimal is base64 of the unscaled bytes by default, a JSON number with decimal.format=NUMERIC; dates are numbers', () => {
    const d = Decimal.schema(2)
    assert.equal(payload(d, new BigDecimal(12345n, 2)), '"MDk="')
    const numeric = new JsonWriter({ decimalNumeric: true, replaceNullWithDefault: true, jsonSchema: true })
    assert.equal(numeric.toJson(d, new BigDecimal(12345n, 2)), '123.45')
    assert.deepEqual(back(d, '123.45'), BigDecimal.parse('123.45'))
    assert.deepEqual(back(d, '"MDk="'), new BigDecimal(12345n, 2))
    assert.equal(payload(DateType.schema(), new Date(Date.UTC(2026, 0, 2))), '20455')
  })

  test('ignore.default.for.nullables keeps a null optional field null instead of its default', () => {
    const schema = SchemaBuilder.struct()
      .field('s', SchemaBuilder.string().optional().defaultValue('d').build())
      .build()
    const struct = new Struct(schema).put('s', null)
    assert.equal(payload(schema, struct), '{"s":"d"}')
    const ignoring = new JsonWriter({
      decimalNumeric: false,
      replaceNullWithDefault: false,
      jsonSchema: true,
    })
    assert.equal(ignoring.toJson(schema, struct), '{"s":null}')
  })

  test('a missing member takes its schema default when reading', () => {
    const schema = SchemaBuilder.struct().field('n', SchemaBuilder.int32().defaultValue(5).build()).build()
    assert.equal((back(schema, '{}') as Struct).get('n'), 5)
  })

  test('the schema-specialised reader gives what the general reader gives, or leaves the record to it', () => {
    const union = SchemaBuilder.struct()
      .name('io.confluent.connect.json.OneOf')
      .field('io.confluent.connect.json.OneOf.field.0', Schemas.OPTIONAL_STRING)
      .field('io.confluent.connect.json.OneOf.field.1', Schemas.OPTIONAL_INT64)
      .optional()
      .build()
    const schema = SchemaBuilder.struct()
      .field('id', Schemas.INT64)
      .field('note', Schemas.OPTIONAL_STRING)
      .field('when', TimestampType.builder().optional().build())
      .field('amount', Decimal.builder(2).optional().build())
      .field('tags', SchemaBuilder.map(Schemas.OPTIONAL_STRING, Schemas.INT32).optional().build())
      .field('either', union)
      .build()
    const fast = compileReader(schema, reader)
    const payloads = [
      '{"id":1,"note":"a","when":1700000000000,"amount":"MDk=","tags":[{"key":"x","value":1}],"either":"s"}',
      '{"id":2,"note":null,"when":null,"amount":null,"tags":null,"either":7}',
      '{ "id" : 3 , "note" : "spaced", "when": 0, "amount": "AA==", "tags": [], "either": null }',
      '{"note":"reordered","id":4}',
      '{"id":5}',
      '{"id":6,"extra":true}',
    ]
    for (const text of payloads) {
      const general = back(schema, text) as Struct
      const quick = readFastValue(text, fast)
      if (quick !== MISMATCH) assert.ok(general.equals(quick), text)
    }
    assert.notEqual(readFastValue(payloads[0]!, fast), MISMATCH)
  })
})
