import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BigDecimal } from '../../src/api/data/big-decimal.ts'
import {
  bigIntToBytes,
  bytesToBigInt,
  DateType,
  Decimal,
  TimeType,
} from '../../src/api/data/logical-types.ts'
import { Schemas, schemaEquals, validateValue } from '../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../src/api/data/schema-builder.ts'
import { Struct } from '../../src/api/data/struct.ts'
import { DataError } from '../../src/api/errors.ts'

describe('schemas and structs', () => {
  const schema = SchemaBuilder.struct()
    .name('com.example.Order')
    .field('id', Schemas.INT32)
    .field('name', Schemas.OPTIONAL_STRING)
    .field('qty', SchemaBuilder.int16().defaultValue(1))
    .build()

  it('puts and gets fields, substituting defaults for null', () => {
    const s = new Struct(schema).put('id', 7)
    assert.equal(s.get('id'), 7)
    assert.equal(s.get('name'), null)
    assert.equal(s.get('qty'), 1)
    s.validate()
  })

  it('trusted: takes a value array as it is, and still refuses a required field left null as put does', () => {
    const values: unknown[] = [7, undefined, null]
    const s = Struct.trusted(schema, values)
    assert.ok(s.equals(new Struct(schema).put('id', 7)))
    assert.equal(s.get('qty'), 1, 'a null with a default reads as the default')
    assert.equal(s.getWithoutDefault('name'), null, 'undefined is stored as null')
    assert.ok(s.isComplete)
    s.validate()
    // No check per value: the values come from code made for the schema (checked by the converters).
    assert.equal(Struct.trusted(schema, ['seven', null, null]).get('id'), 'seven')
    // Still a struct like any other: put checks and counts as before.
    s.put('id', 8)
    assert.equal(s.get('id'), 8)
    assert.throws(() => s.put('id', 'x'), /does not match INT32/)
    assert.throws(() => Struct.trusted(schema, [null, 'a', 2]), /field 'id'/)
    assert.throws(() => Struct.trusted(schema, [1, 'a']), /3 fields got 2 values/)
    // The next struct built the ordinary way does not take anyone's values.
    assert.equal(new Struct(schema).get('id'), null)
  })

  it('rejects values of the wrong type, naming the field', () => {
    assert.throws(() => new Struct(schema).put('id', 'seven'), /field 'id'.*does not match INT32/)
    assert.throws(() => new Struct(schema).put('id', 2 ** 31), DataError)
    assert.throws(
      () => new Struct(schema).put('nope', 1),
      /'nope' is not a valid field name; the struct has: id, name, qty/,
    )
  })

  it('reports a missing required field on validate', () => {
    assert.throws(() => new Struct(schema).validate(), /null used for required INT32 schema/)
  })

  it('refuses a nested struct until its required fields are set', () => {
    const outer = SchemaBuilder.struct().field('order', schema).build()
    const inner = new Struct(schema).put('name', 'x')
    assert.throws(() => new Struct(outer).put('order', inner), /null used for required INT32/)
    assert.throws(() => inner.put('id', null), /null used for required INT32/)
    inner.put('id', 2).put('id', 3)
    new Struct(outer).put('order', inner).validate()
  })

  it('validates a schema whose name is also an Object.prototype member like any other', () => {
    const named = SchemaBuilder.string().name('toString').build()
    assert.throws(() => validateValue(named, 42), /does not match STRING/)
    const holder = SchemaBuilder.struct().field('s', named).build()
    assert.throws(() => new Struct(holder).put('s', 42), /field 's'.*does not match STRING/)
    assert.throws(() => new Struct(holder).put('s', new Date()), /does not match STRING/)
  })

  it('compares schemas and structs structurally', () => {
    const again = SchemaBuilder.struct()
      .name('com.example.Order')
      .field('id', Schemas.INT32)
      .field('name', Schemas.OPTIONAL_STRING)
      .field('qty', SchemaBuilder.int16().defaultValue(1))
      .build()
    assert.ok(schemaEquals(schema, again))
    assert.ok(new Struct(schema).put('id', 1).equals(new Struct(again).put('id', 1)))
    assert.ok(!new Struct(schema).put('id', 1).equals(new Struct(again).put('id', 2)))
  })

  it('accepts bigint and safe integers for INT64 and rejects fractions', () => {
    validateValue(Schemas.INT64, 2n ** 62n)
    validateValue(Schemas.INT64, 12)
    assert.throws(() => validateValue(Schemas.INT64, 1.5), DataError)
    assert.throws(() => validateValue(Schemas.INT64, 2n ** 63n), DataError)
  })
})

describe('logical types', () => {
  it('encodes decimals as Java BigInteger.toByteArray does', () => {
    assert.deepEqual([...bigIntToBytes(971n)], [0x03, 0xcb])
    assert.deepEqual([...bigIntToBytes(128n)], [0x00, 0x80])
    assert.deepEqual([...bigIntToBytes(-1n)], [0xff])
    assert.deepEqual([...bigIntToBytes(-129n)], [0xff, 0x7f])
    assert.deepEqual([...bigIntToBytes(0n)], [0x00])
    for (const n of [0n, 1n, -1n, 127n, -128n, 255n, 2n ** 70n, -(2n ** 70n) + 3n])
      assert.equal(bytesToBigInt(bigIntToBytes(n)), n)
  })

  it('round-trips a Decimal at its schema scale', () => {
    const schema = Decimal.schema(2)
    const bytes = Decimal.fromLogical(schema, BigDecimal.parse('9.71'))
    assert.equal(Buffer.from(bytes).toString('base64'), 'A8s=')
    assert.equal(Decimal.toLogical(schema, bytes).toString(), '9.71')
    assert.throws(() => Decimal.fromLogical(schema, BigDecimal.parse('9.7')), DataError)
  })

  it('parses and prints decimals exactly', () => {
    assert.equal(BigDecimal.parse('-12.340').toString(), '-12.340')
    assert.equal(BigDecimal.parse('1e3').toString(), '1000')
    assert.equal(BigDecimal.parse('4.5E-2').toString(), '0.045')
    assert.equal(BigDecimal.parse('0.5').setScale(3).toString(), '0.500')
    assert.throws(() => BigDecimal.parse('0.55').setScale(1), DataError)
    assert.throws(() => BigDecimal.parse('abc'), DataError)
  })

  it('reads plain decimals of up to 15 digits and longer or other forms alike (unscaled value and scale)', () => {
    const cases: [string, bigint, number][] = [
      ['0', 0n, 0],
      ['-0', 0n, 0],
      ['-0.00', 0n, 2],
      ['007.50', 750n, 2],
      ['999999999999999', 999999999999999n, 0],
      ['-99999999999999.9', -999999999999999n, 1],
      ['9999999999999999', 9999999999999999n, 0],
      ['1234567890.1234567890', 12345678901234567890n, 10],
      ['5.', 5n, 0],
      ['.5', 5n, 1],
      ['+5', 5n, 0],
      [' 5 ', 5n, 0],
      ['1e3', 1n, -3],
    ]
    for (const [text, unscaled, scale] of cases) {
      const d = BigDecimal.parse(text)
      assert.deepEqual([d.unscaled, d.scale], [unscaled, scale], text)
    }
    for (const bad of ['', '-', '.', '1.2.3', '1-2', '--1', '1_000'])
      assert.throws(() => BigDecimal.parse(bad), DataError, bad)
  })

  it('converts Date and Time like Kafka Connect', () => {
    assert.equal(DateType.fromLogical(DateType.schema(), new Date('2024-01-01T00:00:00Z')), 19723)
    assert.throws(() => DateType.fromLogical(DateType.schema(), new Date('2024-01-01T00:00:01Z')), DataError)
    assert.equal(TimeType.fromLogical(TimeType.schema(), new Date(3_600_000)), 3_600_000)
  })
})

describe('headers', () => {
  it('keeps a duplicate independent of its original in both directions', async () => {
    const { Headers } = await import('../../src/api/headers.ts')
    const original = new Headers().add('a', 1).add('b', 2)
    const copy = original.duplicate()
    copy.add('c', 3).remove('a')
    assert.deepEqual(
      [...original].map((h) => h.key),
      ['a', 'b'],
    )
    assert.deepEqual(
      [...copy].map((h) => h.key),
      ['b', 'c'],
    )
    original.add('d', 4)
    assert.deepEqual(
      [...copy].map((h) => h.key),
      ['b', 'c'],
    )
    assert.equal(original.lastWithName('d')?.value, 4)
  })
})
