import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BigDecimal } from '../../src/api/data/big-decimal.ts'
import { Decimal, TimestampType } from '../../src/api/data/logical-types.ts'
import { Schemas } from '../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../src/api/data/schema-builder.ts'
import { Struct } from '../../src/api/data/struct.ts'
import { type ConfigError, DataError } from '../../src/api/errors.ts'
import { Cast } from '../../src/transforms/cast.ts'
import { DropHeaders } from '../../src/transforms/drop-headers.ts'
import { ExtractField } from '../../src/transforms/extract-field.ts'
import { Filter } from '../../src/transforms/filter.ts'
import { Flatten } from '../../src/transforms/flatten.ts'
import { HeaderFrom } from '../../src/transforms/header-from.ts'
import { HoistField } from '../../src/transforms/hoist-field.ts'
import { InsertField } from '../../src/transforms/insert-field.ts'
import { InsertHeader } from '../../src/transforms/insert-header.ts'
import { MaskField } from '../../src/transforms/mask-field.ts'
import { RegexRouter } from '../../src/transforms/regex-router.ts'
import { ReplaceField } from '../../src/transforms/replace-field.ts'
import { SetSchemaMetadata } from '../../src/transforms/set-schema-metadata.ts'
import { TimestampRouter } from '../../src/transforms/timestamp-router.ts'
import { ValueToKey } from '../../src/transforms/value-to-key.ts'
import { sink, source } from './records.ts'

function configured<T extends { configure(p: Record<string, string>): void }>(
  t: T,
  props: Record<string, string>,
): T {
  t.configure(props)
  return t
}

describe('Cast', () => {
  test('casts schemaless fields to the requested types', () => {
    const cast = configured(new Cast('value'), { spec: 'a:int8,b:string,c:boolean,d:float32,e:int64' })
    const out = cast.apply(sink({ value: { a: '12', b: 42, c: 'TRUE', d: 1.5, e: 3.9, f: 'kept' } }))
    assert.deepEqual(out.value, { a: 12, b: '42', c: true, d: 1.5, e: 3, f: 'kept' })
  })

  test('casts struct fields and keeps optionality and defaults in the new schema', () => {
    const schema = SchemaBuilder.struct()
      .field('int', SchemaBuilder.int32().optional().defaultValue(7).build())
      .field('bool', Schemas.BOOLEAN)
      .field('bytes', Schemas.BYTES)
      .build()
    const value = new Struct(schema).put('int', 300).put('bool', true).put('bytes', Buffer.from('hi'))
    const cast = configured(new Cast('value'), { spec: 'int:int8,bool:int32,bytes:string' })
    const out = cast.apply(sink({ valueSchema: schema, value }))
    assert.equal(out.valueSchema!.field('int')!.schema.type, 'INT8')
    assert.equal(out.valueSchema!.field('int')!.schema.optional, true)
    assert.equal(out.valueSchema!.field('int')!.schema.defaultValue, 7)
    const s = out.value as Struct
    assert.equal(s.get('int'), 44, '300 keeps its low byte, as Java narrowing does')
    assert.equal(s.get('bool'), 1)
    assert.equal(s.get('bytes'), 'aGk=', 'bytes are base64')
  })

  test('casts the whole key with a single type and reuses the updated schema', () => {
    const cast = configured(new Cast('key'), { spec: 'int32' })
    const a = cast.apply(sink({ keySchema: Schemas.INT64, key: 42 }))
    const b = cast.apply(sink({ keySchema: Schemas.INT64, key: 43 }))
    assert.equal(a.keySchema!.type, 'INT32')
    assert.equal(a.key, 42)
    assert.equal(a.keySchema, b.keySchema)
  })

  test('casts a Timestamp to its epoch milliseconds and a Decimal to a double', () => {
    const schema = SchemaBuilder.struct()
      .field('ts', TimestampType.schema())
      .field('price', Decimal.schema(2))
      .build()
    const value = new Struct(schema).put('ts', new Date(1000)).put('price', new BigDecimal(1234n, 2))
    const out = configured(new Cast('value'), { spec: 'ts:int64,price:float64' }).apply(
      sink({ valueSchema: schema, value }),
    )
    assert.equal((out.value as Struct).get('ts'), 1000)
    assert.equal((out.value as Struct).get('price'), 12.34)
  })

  test('passes null values through', () => {
    const record = sink({ value: null })
    assert.equal(configured(new Cast('value'), { spec: 'a:int8' }).apply(record), record)
  })

  test('rejects an unknown type, a whole-value cast among others and bytes as target, naming spec', () => {
    assert.throws(() => configured(new Cast('value'), { spec: 'a:int9' }), {
      name: 'ConfigError',
      key: 'spec',
      message: 'Invalid type found in casting spec: int9',
    })
    assert.throws(
      () => configured(new Cast('value'), { spec: 'int8,a:int16' }),
      /may only specify a single cast/,
    )
    assert.throws(
      () => configured(new Cast('value'), { spec: 'a:bytes' }),
      /does not support casting to BYTES/,
    )
    assert.throws(
      () => configured(new Cast('value'), { spec: '' }),
      (e: ConfigError) => e.key === 'spec',
    )
  })

  test('fails on an unparseable string, naming the transform, the field and the record', () => {
    const cast = configured(new Cast('value'), { spec: 'a:int8' })
    assert.throws(
      () => cast.apply(sink({ value: { a: '1000' }, topic: 'orders', offset: 5 })),
      (e: DataError) => {
        assert.ok(e instanceof DataError)
        assert.equal(
          e.message,
          "Cast$Value: field 'a': Value (1000) was out of range for requested data type (topic 'orders', partition 0, offset 5)",
        )
        return true
      },
    )
  })

  test('fails on casting from a map type', () => {
    const cast = configured(new Cast('value'), { spec: 'a:string' })
    assert.throws(
      () => cast.apply(sink({ value: { a: { nested: 1 } } })),
      /does not support casting from MAP/,
    )
  })
})

describe('DropHeaders', () => {
  test('removes every header with a listed name and keeps the others in order', () => {
    const record = sink({ value: 'v' })
    record.headers.add('a', 1).add('b', 2).add('a', 3).add('c', 4)
    const out = configured(new DropHeaders(), { headers: 'a,c' }).apply(record)
    assert.deepEqual(
      [...out.headers].map((h) => h.key),
      ['b'],
    )
  })

  test('requires a non-empty list', () => {
    assert.throws(() => configured(new DropHeaders(), { headers: '' }), {
      key: 'headers',
      message: 'Invalid value  for configuration headers: Empty list',
    })
  })
})

describe('ExtractField', () => {
  test('extracts a field of a schemaless map', () => {
    const out = configured(new ExtractField('key'), { field: 'magic' }).apply(sink({ key: { magic: 42 } }))
    assert.equal(out.key, 42)
    assert.equal(out.keySchema, null)
  })

  test('extracts a struct field with its schema', () => {
    const schema = SchemaBuilder.struct().field('magic', Schemas.INT32).build()
    const out = configured(new ExtractField('key'), { field: 'magic' }).apply(
      sink({ keySchema: schema, key: new Struct(schema).put('magic', 42) }),
    )
    assert.equal(out.key, 42)
    assert.equal(out.keySchema, Schemas.INT32)
  })

  test('extracts a nested field with field.syntax.version=V2, backticks around dotted names', () => {
    const t = configured(new ExtractField('value'), { field: '`a.b`.c', 'field.syntax.version': 'v2' })
    assert.equal(t.apply(sink({ value: { 'a.b': { c: 'deep' } } })).value, 'deep')
  })

  test('passes a null value through and yields null for a missing schemaless field', () => {
    const t = configured(new ExtractField('value'), { field: 'x' })
    assert.equal(t.apply(sink({ value: null })).value, null)
    assert.equal(t.apply(sink({ value: { y: 1 } })).value, null)
  })

  test('fails for a field the schema does not have, and for a non-map schemaless value', () => {
    const schema = SchemaBuilder.struct().field('magic', Schemas.INT32).build()
    const t = configured(new ExtractField('value'), { field: 'nope' })
    assert.throws(() => t.apply(sink({ valueSchema: schema, value: new Struct(schema).put('magic', 1) })), {
      message: "ExtractField$Value: Unknown field: nope (topic 'test', partition 0, offset 42)",
    })
    assert.throws(() => t.apply(sink({ value: 'text' })), {
      message:
        "ExtractField$Value: Only Map objects supported in absence of schema for [field extraction], found: java.lang.String (topic 'test', partition 0, offset 42)",
    })
  })

  test('requires field', () => {
    assert.throws(() => configured(new ExtractField('value'), {}), {
      key: 'field',
      message: 'Missing required configuration "field" which has no default value.',
    })
  })
})

describe('Filter', () => {
  test('drops every record', () => {
    assert.equal(configured(new Filter(), {}).apply(sink({ value: 1 })), null)
  })
})

describe('Flatten', () => {
  test('flattens nested maps with the delimiter and keeps arrays', () => {
    const t = configured(new Flatten('value'), { delimiter: '#' })
    const out = t.apply(sink({ value: { a: { b: 1, c: { d: 'x' } }, e: [1, 2], f: null } }))
    assert.deepEqual(out.value, { 'a#b': 1, 'a#c#d': 'x', e: [1, 2], f: null })
  })

  test('flattens nested structs; fields under an optional parent become optional', () => {
    const inner = SchemaBuilder.struct().optional().field('x', Schemas.INT32).build()
    const schema = SchemaBuilder.struct()
      .name('outer')
      .field('inner', inner)
      .field('y', Schemas.STRING)
      .build()
    const value = new Struct(schema).put('inner', new Struct(inner).put('x', 1)).put('y', 'z')
    const out = configured(new Flatten('value'), {}).apply(sink({ valueSchema: schema, value }))
    assert.deepEqual(
      out.valueSchema!.fields.map((f) => [f.name, f.schema.type, f.schema.optional]),
      [
        ['inner.x', 'INT32', true],
        ['y', 'STRING', false],
      ],
    )
    assert.equal(out.valueSchema!.name, 'outer')
    assert.equal((out.value as Struct).get('inner.x'), 1)
  })

  test('rejects MAP fields in schema’d records', () => {
    const schema = SchemaBuilder.struct()
      .field('m', SchemaBuilder.map(Schemas.STRING, Schemas.STRING).build())
      .build()
    const t = configured(new Flatten('value'), {})
    assert.throws(() => t.apply(sink({ valueSchema: schema, value: new Struct(schema).put('m', {}) })), {
      message:
        "Flatten$Value: Flatten transformation does not support MAP for record with schemas (for field m). (topic 'test', partition 0, offset 42)",
    })
  })
})

describe('HeaderFrom', () => {
  const schema = SchemaBuilder.struct().field('id', Schemas.INT32).field('name', Schemas.STRING).build()

  test('moves struct fields into headers with their schemas', () => {
    const t = configured(new HeaderFrom('value'), { fields: 'id', headers: 'h_id', operation: 'move' })
    const out = t.apply(
      sink({ valueSchema: schema, value: new Struct(schema).put('id', 1).put('name', 'n') }),
    )
    assert.deepEqual(
      out.valueSchema!.fields.map((f) => f.name),
      ['name'],
    )
    const h = out.headers.lastWithName('h_id')!
    assert.equal(h.value, 1)
    assert.equal(h.schema, Schemas.INT32)
  })

  test('copies schemaless fields and leaves the value as it was', () => {
    const t = configured(new HeaderFrom('key'), { fields: 'a,b', headers: 'x,y', operation: 'copy' })
    const out = t.apply(sink({ key: { a: 1, b: 'two' } }))
    assert.deepEqual(out.key, { a: 1, b: 'two' })
    assert.deepEqual(
      [...out.headers].map((h) => [h.key, h.value]),
      [
        ['x', 1],
        ['y', 'two'],
      ],
    )
  })

  test('requires as many headers as fields, and a known operation', () => {
    assert.throws(
      () => configured(new HeaderFrom('value'), { fields: 'a,b', headers: 'x', operation: 'copy' }),
      {
        message: "'fields' config must have the same number of elements as 'headers' config.",
      },
    )
    assert.throws(
      () => configured(new HeaderFrom('value'), { fields: 'a', headers: 'x', operation: 'steal' }),
      {
        key: 'operation',
        message: 'Invalid value steal for configuration operation: String must be one of: move, copy',
      },
    )
  })
})

describe('HoistField', () => {
  test('wraps a schemaless value in a map', () => {
    assert.deepEqual(
      configured(new HoistField('value'), { field: 'magic' }).apply(sink({ value: 42 })).value,
      { magic: 42 },
    )
  })

  test('wraps a schema’d key in a struct', () => {
    const out = configured(new HoistField('key'), { field: 'magic' }).apply(
      sink({ keySchema: Schemas.INT32, key: 42 }),
    )
    assert.equal(out.keySchema!.field('magic')!.schema, Schemas.INT32)
    assert.equal((out.key as Struct).get('magic'), 42)
  })
})

describe('InsertField', () => {
  const props = {
    'topic.field': 'topic_field!',
    'partition.field': 'partition_field',
    'offset.field': 'offset_field',
    'timestamp.field': 'timestamp_field?',
    'static.field': 'instance_id',
    'static.value': 'my-instance-id',
  }

  test('inserts metadata into a struct with required and optional fields as configured', () => {
    const schema = SchemaBuilder.struct()
      .name('name')
      .version(1)
      .doc('doc')
      .field('magic', Schemas.INT64)
      .build()
    const out = configured(new InsertField('value'), props).apply(
      sink({
        valueSchema: schema,
        value: new Struct(schema).put('magic', 42),
        timestamp: 1_500_000_000,
        offset: 7,
      }),
    )
    const s = out.valueSchema!
    assert.equal(s.name, 'name')
    assert.equal(s.version, 1)
    assert.equal(s.doc, 'doc')
    assert.equal(s.field('topic_field')!.schema.optional, false)
    assert.equal(s.field('partition_field')!.schema.optional, true)
    assert.equal(s.field('timestamp_field')!.schema.name, TimestampType.LOGICAL_NAME)
    const v = out.value as Struct
    assert.equal(v.get('magic'), 42)
    assert.equal(v.get('topic_field'), 'test')
    assert.equal(v.get('partition_field'), 0)
    assert.equal(v.get('offset_field'), 7)
    assert.deepEqual(v.get('timestamp_field'), new Date(1_500_000_000))
    assert.equal(v.get('instance_id'), 'my-instance-id')
  })

  test('inserts metadata into a schemaless map', () => {
    const out = configured(new InsertField('value'), props).apply(
      sink({ value: { magic: 42 }, timestamp: 123 }),
    )
    assert.deepEqual(out.value, {
      magic: 42,
      topic_field: 'test',
      partition_field: 0,
      offset_field: 42,
      timestamp_field: 123,
      instance_id: 'my-instance-id',
    })
  })

  test('passes tombstones through unchanged', () => {
    const record = sink({ value: null })
    assert.equal(configured(new InsertField('value'), props).apply(record), record)
  })

  test('offset.field fails for a source record, naming its source offset', () => {
    const t = configured(new InsertField('value'), { 'offset.field': 'o' })
    assert.throws(() => t.apply(source({ value: { a: 1 } })), {
      message:
        'InsertField$Value: Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord (topic \'test\', partition 0, source offset {"position":7})',
    })
  })

  test('fails for a schemaless value that is not a map', () => {
    assert.throws(() => configured(new InsertField('value'), props).apply(sink({ value: 'x' })), DataError)
  })

  test('needs at least one field, and static.value with static.field', () => {
    assert.throws(() => configured(new InsertField('value'), {}), /No field insertion configured/)
    assert.throws(() => configured(new InsertField('value'), { 'static.field': 's' }), {
      key: 'static.value',
      message: 'Invalid value null for configuration static.value: No value specified for static field: s',
    })
  })
})

describe('InsertHeader', () => {
  test('adds the literal parsed as Values.parseString does', () => {
    const out = configured(new InsertHeader(), { header: 'h', 'value.literal': '42' }).apply(
      sink({ value: 1 }),
    )
    const h = out.headers.lastWithName('h')!
    assert.equal(h.value, 42)
    assert.equal(h.schema!.type, 'INT8')
    const text = configured(new InsertHeader(), { header: 'h', 'value.literal': 'hello world' }).apply(
      sink({}),
    )
    assert.equal(text.headers.lastWithName('h')!.value, 'hello world')
  })

  test('requires header and value.literal', () => {
    assert.throws(() => configured(new InsertHeader(), { header: 'h' }), { key: 'value.literal' })
  })
})

describe('MaskField', () => {
  test('masks schemaless fields with their null values', () => {
    const t = configured(new MaskField('value'), { fields: 'i,s,b,l,m,d' })
    const out = t.apply(
      sink({ value: { i: 5, s: 'secret', b: true, l: [1], m: { a: 1 }, d: new Date(5), keep: 'x' } }),
    )
    assert.deepEqual(out.value, { i: 0, s: '', b: false, l: [], m: {}, d: new Date(0), keep: 'x' })
  })

  test('masks struct fields with a replacement converted to each type', () => {
    const schema = SchemaBuilder.struct()
      .field('i', Schemas.INT32)
      .field('s', Schemas.STRING)
      .field('f', Schemas.FLOAT64)
      .build()
    const value = new Struct(schema).put('i', 5).put('s', 'secret').put('f', 1.5)
    const out = configured(new MaskField('value'), { fields: 'i,s,f', replacement: '123' }).apply(
      sink({ valueSchema: schema, value }),
    )
    const v = out.value as Struct
    assert.deepEqual([v.get('i'), v.get('s'), v.get('f')], [123, '123', 123])
  })

  test('cannot put a custom replacement into a boolean, nor a non-number into a number', () => {
    assert.throws(
      () =>
        configured(new MaskField('value'), { fields: 'b', replacement: 'x' }).apply(
          sink({ value: { b: true } }),
        ),
      {
        message:
          "MaskField$Value: field 'b': Cannot mask value of type class java.lang.Boolean with custom replacement. (topic 'test', partition 0, offset 42)",
      },
    )
    assert.throws(
      () =>
        configured(new MaskField('value'), { fields: 'i', replacement: 'abc' }).apply(
          sink({ value: { i: 1 } }),
        ),
      /Unable to convert abc \(class java.lang.String\) to number/,
    )
  })

  test('does not pass tombstones through', () => {
    assert.throws(() => configured(new MaskField('value'), { fields: 'a' }).apply(sink({ value: null })), {
      message:
        "MaskField$Value: Only Map objects supported in absence of schema for [mask fields], found: null (topic 'test', partition 0, offset 42)",
    })
  })

  test('rejects an empty replacement', () => {
    assert.throws(() => configured(new MaskField('value'), { fields: 'a', replacement: '' }), {
      key: 'replacement',
    })
  })
})

describe('RegexRouter', () => {
  function route(regex: string, replacement: string, topic: string): string {
    return configured(new RegexRouter(), { regex, replacement }).apply(sink({ topic })).topic
  }

  test('replaces the topic when the whole name matches, with $1 group references', () => {
    assert.equal(route('(.*)-(\\d\\d)', 'prefix-$1-$2', 'orders-01'), 'prefix-orders-01')
    assert.equal(route('(.*)', 'prefix-$1', 'orders'), 'prefix-orders')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka placeholder syntax
    assert.equal(route('(?<name>.*)', 'x.${name}', 'orders'), 'x.orders')
  })

  test('leaves the topic alone when only part of it matches (matches(), not find())', () => {
    assert.equal(route('order', 'x', 'orders'), 'orders')
  })

  test('rejects an invalid regex', () => {
    assert.throws(
      () => configured(new RegexRouter(), { regex: '(', replacement: 'x' }),
      (e: ConfigError) => {
        assert.equal(e.key, 'regex')
        assert.match(e.message, /^Invalid value \( for configuration regex: Invalid regex: /)
        return true
      },
    )
  })
})

describe('ReplaceField', () => {
  const schema = SchemaBuilder.struct()
    .field('dont', Schemas.STRING)
    .field('abc', Schemas.INT32)
    .field('foo', Schemas.BOOLEAN)
    .field('etc', Schemas.STRING)
    .build()
  const value = new Struct(schema).put('dont', 'whatever').put('abc', 42).put('foo', true).put('etc', 'etc')

  test('includes, excludes and renames struct fields', () => {
    const t = configured(new ReplaceField('value'), {
      include: 'abc,foo,dont',
      exclude: 'dont',
      renames: 'abc:xyz,foo:bar',
    })
    const out = t.apply(sink({ valueSchema: schema, value }))
    assert.deepEqual(
      out.valueSchema!.fields.map((f) => f.name),
      ['xyz', 'bar'],
    )
    assert.equal((out.value as Struct).get('xyz'), 42)
    assert.equal((out.value as Struct).get('bar'), true)
  })

  test('renames schemaless fields and drops excluded ones', () => {
    const t = configured(new ReplaceField('value'), { exclude: 'dont', renames: 'abc:xyz' })
    assert.deepEqual(t.apply(sink({ value: { dont: 1, abc: 2, etc: 3 } })).value, { xyz: 2, etc: 3 })
  })

  test('still reads the deprecated whitelist and blacklist when include and exclude are not set', () => {
    const t = configured(new ReplaceField('value'), { whitelist: 'abc,dont', blacklist: 'dont' })
    assert.deepEqual(t.apply(sink({ value: { dont: 1, abc: 2, etc: 3 } })).value, { abc: 2 })
    const both = configured(new ReplaceField('value'), { include: 'etc', whitelist: 'abc' })
    assert.deepEqual(both.apply(sink({ value: { abc: 2, etc: 3 } })).value, { etc: 3 })
  })

  test('rejects a rename mapping that is not a pair', () => {
    assert.throws(() => configured(new ReplaceField('value'), { renames: 'a:b:c' }), {
      key: 'renames',
      message: 'Invalid value a:b:c for configuration renames: Invalid rename mapping: a:b:c',
    })
  })
})

describe('SetSchemaMetadata', () => {
  test('sets name and version and rebuilds the struct on the new schema', () => {
    const schema = SchemaBuilder.struct().name('old').field('a', Schemas.INT32).build()
    const t = configured(new SetSchemaMetadata('value'), { 'schema.name': 'foo', 'schema.version': '42' })
    const out = t.apply(sink({ valueSchema: schema, value: new Struct(schema).put('a', 1) }))
    assert.equal(out.valueSchema!.name, 'foo')
    assert.equal(out.valueSchema!.version, 42)
    assert.equal((out.value as Struct).schema, out.valueSchema)
  })

  test('needs a schema, and a name or a version', () => {
    const t = configured(new SetSchemaMetadata('key'), { 'schema.name': 'foo' })
    assert.throws(() => t.apply(sink({ key: { a: 1 } })), /Schema required for \[updating schema metadata\]/)
    assert.throws(() => configured(new SetSchemaMetadata('key'), {}), {
      message: 'Neither schema name nor version configured',
    })
  })
})

describe('TimestampRouter', () => {
  test('formats the topic from the topic and the UTC timestamp', () => {
    const t = configured(new TimestampRouter(), {})
    assert.equal(t.apply(sink({ topic: 'test', timestamp: 1_483_425_001_864 })).topic, 'test-20170103')
    const custom = configured(new TimestampRouter(), {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka placeholder syntax
      'topic.format': '${timestamp}_${topic}',
      'timestamp.format': 'yyyy-MM',
    })
    assert.equal(custom.apply(sink({ topic: 't', timestamp: 0 })).topic, '1970-01_t')
  })

  test('fails for a record without a timestamp', () => {
    assert.throws(() => configured(new TimestampRouter(), {}).apply(sink({ topic: 't' })), {
      message: "TimestampRouter: Timestamp missing on record (topic 't', partition 0, offset 42)",
    })
  })
})

describe('ValueToKey', () => {
  test('builds a schemaless key from value fields', () => {
    const out = configured(new ValueToKey(), { fields: 'a,b' }).apply(sink({ value: { a: 1, b: 2, c: 3 } }))
    assert.deepEqual(out.key, { a: 1, b: 2 })
  })

  test('builds a struct key with the value fields’ schemas', () => {
    const schema = SchemaBuilder.struct().field('a', Schemas.INT32).field('b', Schemas.STRING).build()
    const out = configured(new ValueToKey(), { fields: 'b' }).apply(
      sink({ valueSchema: schema, value: new Struct(schema).put('a', 1).put('b', 'x') }),
    )
    assert.equal(out.keySchema!.field('b')!.schema, Schemas.STRING)
    assert.equal((out.key as Struct).get('b'), 'x')
  })

  test('fails for a field the value schema lacks', () => {
    const schema = SchemaBuilder.struct().field('a', Schemas.INT32).build()
    assert.throws(
      () =>
        configured(new ValueToKey(), { fields: 'z' }).apply(
          sink({ valueSchema: schema, value: new Struct(schema).put('a', 1) }),
        ),
      { message: "ValueToKey: Field does not exist: z (topic 'test', partition 0, offset 42)" },
    )
  })
})
