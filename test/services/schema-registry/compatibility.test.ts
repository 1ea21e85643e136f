/**
 * The compatibility matrix: Avro's schema-resolution rules and the main JSON Schema rules, under
 * each level. Pure logic, so the cases are many and small.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  type CompatibilityLevel,
  compatibilityMessages,
} from '../../../src/services/schema-registry/compatibility.ts'
import { parseSchema, type SchemaType } from '../../../src/services/schema-registry/parsed-schema.ts'

const rec = (fields: object[], extra: object = {}) => ({
  type: 'record',
  name: 'R',
  namespace: 'n',
  fields,
  ...extra,
})
const enm = (symbols: string[], extra: object = {}) =>
  rec([{ name: 'e', type: { type: 'enum', name: 'E', symbols, ...extra } }])
const field = (type: unknown, extra: object = {}) => rec([{ name: 'f', type, ...extra }])

function compatible(
  level: CompatibilityLevel,
  history: unknown[],
  candidate: unknown,
  type: SchemaType = 'AVRO',
): boolean {
  const parse = (s: unknown) => parseSchema(type, JSON.stringify(s))
  const previous = history.map((s, i) => ({ version: i + 1, text: JSON.stringify(s), parsed: parse(s) }))
  return compatibilityMessages(level, parse(candidate), previous).length === 0
}

/** [name, old, new, backward?, forward?] */
const AVRO_CASES: [string, unknown, unknown, boolean, boolean][] = [
  [
    'add a field with a default',
    rec([{ name: 'a', type: 'int' }]),
    rec([
      { name: 'a', type: 'int' },
      { name: 'b', type: 'string', default: '' },
    ]),
    true,
    true,
  ],
  [
    'add a field without a default',
    rec([{ name: 'a', type: 'int' }]),
    rec([
      { name: 'a', type: 'int' },
      { name: 'b', type: 'string' },
    ]),
    false,
    true,
  ],
  [
    'remove a field without a default',
    rec([
      { name: 'a', type: 'int' },
      { name: 'b', type: 'string' },
    ]),
    rec([{ name: 'a', type: 'int' }]),
    true,
    false,
  ],
  [
    'remove a field with a default',
    rec([
      { name: 'a', type: 'int' },
      { name: 'b', type: 'string', default: 'x' },
    ]),
    rec([{ name: 'a', type: 'int' }]),
    true,
    true,
  ],
  ['promote int to long', field('int'), field('long'), true, false],
  ['promote int to double', field('int'), field('double'), true, false],
  ['promote float to double', field('float'), field('double'), true, false],
  ['narrow long to int', field('long'), field('int'), false, true],
  ['string to bytes and back', field('string'), field('bytes'), true, true],
  ['int to string', field('int'), field('string'), false, false],
  ['add an enum symbol', enm(['A', 'B']), enm(['A', 'B', 'C']), true, false],
  [
    'add an enum symbol, old reader has a default',
    enm(['A', 'B'], { default: 'A' }),
    enm(['A', 'B', 'C']),
    true,
    true,
  ],
  ['remove an enum symbol', enm(['A', 'B']), enm(['A']), false, true],
  [
    'widen a union',
    field(['null', 'int'], { default: null }),
    field(['null', 'int', 'string'], { default: null }),
    true,
    false,
  ],
  ['make a field optional', field('int'), field(['null', 'int'], { default: null }), true, false],
  [
    'union branch promoted',
    field(['null', 'int'], { default: null }),
    field(['null', 'long'], { default: null }),
    true,
    false,
  ],
  [
    'rename a record',
    rec([{ name: 'a', type: 'int' }]),
    { ...rec([{ name: 'a', type: 'int' }]), name: 'S' },
    false,
    false,
  ],
  [
    'rename a record with an alias',
    rec([{ name: 'a', type: 'int' }]),
    { ...rec([{ name: 'a', type: 'int' }]), name: 'S', aliases: ['n.R'] },
    true,
    false,
  ],
  [
    'rename a field with an alias',
    rec([{ name: 'a', type: 'int' }]),
    rec([{ name: 'b', type: 'int', aliases: ['a'] }]),
    true,
    false,
  ],
  [
    'change a namespace only',
    rec([{ name: 'a', type: 'int' }]),
    { ...rec([{ name: 'a', type: 'int' }]), namespace: 'm' },
    true,
    true,
  ],
  [
    'resize a fixed',
    field({ type: 'fixed', name: 'F', size: 4 }),
    field({ type: 'fixed', name: 'F', size: 8 }),
    false,
    false,
  ],
  [
    'promote array items',
    field({ type: 'array', items: 'int' }),
    field({ type: 'array', items: 'long' }),
    true,
    false,
  ],
  [
    'change map values',
    field({ type: 'map', values: 'int' }),
    field({ type: 'map', values: 'string' }),
    false,
    false,
  ],
  [
    'a recursive record gaining an optional field',
    rec([{ name: 'next', type: ['null', 'n.R'], default: null }]),
    rec([
      { name: 'next', type: ['null', 'n.R'], default: null },
      { name: 'v', type: ['null', 'int'], default: null },
    ]),
    true,
    true,
  ],
  [
    'logical type over the same base type',
    field('long'),
    field({ type: 'long', logicalType: 'timestamp-millis' }),
    true,
    true,
  ],
]

describe('Avro compatibility', () => {
  for (const [name, before, after, backward, forward] of AVRO_CASES) {
    test(`${name}: BACKWARD ${backward ? 'ok' : 'refused'}, FORWARD ${forward ? 'ok' : 'refused'}, FULL ${backward && forward ? 'ok' : 'refused'}`, () => {
      assert.equal(compatible('BACKWARD', [before], after), backward, 'BACKWARD')
      assert.equal(compatible('FORWARD', [before], after), forward, 'FORWARD')
      assert.equal(compatible('FULL', [before], after), backward && forward, 'FULL')
      assert.equal(compatible('NONE', [before], after), true, 'NONE')
    })
  }

  test('transitive levels check every earlier version, the others only the latest', () => {
    const v1 = rec([{ name: 'a', type: 'string' }])
    const v2 = rec([])
    const v3 = rec([{ name: 'a', type: 'int', default: 0 }])
    assert.equal(compatible('BACKWARD', [v1, v2], v3), true)
    assert.equal(compatible('BACKWARD_TRANSITIVE', [v1, v2], v3), false)
    assert.equal(compatible('FULL', [v1, v2], v3), true)
    assert.equal(compatible('FULL_TRANSITIVE', [v1, v2], v3), false)
    const f1 = rec([
      { name: 'a', type: 'int' },
      { name: 'b', type: 'int' },
    ])
    const f2 = rec([
      { name: 'a', type: 'int' },
      { name: 'b', type: 'int', default: 0 },
    ])
    const f3 = rec([{ name: 'a', type: 'int' }])
    assert.equal(compatible('FORWARD', [f1, f2], f3), true)
    assert.equal(compatible('FORWARD_TRANSITIVE', [f1, f2], f3), false)
  })

  test('messages name the error type, the field, the old version and the level', () => {
    const parse = (s: unknown) => parseSchema('AVRO', JSON.stringify(s))
    const old = rec([{ name: 'a', type: 'int' }])
    const messages = compatibilityMessages(
      'BACKWARD',
      parse(
        rec([
          { name: 'a', type: 'int' },
          { name: 'b', type: 'int' },
        ]),
      ),
      [{ version: 4, text: JSON.stringify(old), parsed: parse(old) }],
    )
    assert.match(messages[0]!, /READER_FIELD_MISSING_DEFAULT_VALUE.*'b'.*\/fields\/1/)
    assert.ok(messages.includes('{oldSchemaVersion: 4}'))
    assert.ok(messages.includes("{compatibility: 'BACKWARD'}"))
  })
})

const obj = (properties: object, extra: object = {}) => ({ type: 'object', properties, ...extra })
const closed = (properties: object, extra: object = {}) =>
  obj(properties, { additionalProperties: false, ...extra })
const JSON_CASES: [string, unknown, unknown, boolean, boolean][] = [
  [
    'add an optional property to a closed model',
    closed({ a: { type: 'string' } }),
    closed({ a: { type: 'string' }, b: { type: 'number' } }),
    true,
    false,
  ],
  [
    'add a typed property to an open model',
    obj({ a: { type: 'string' } }),
    obj({ a: { type: 'string' }, b: { type: 'number' } }),
    false,
    true,
  ],
  [
    'add a required property',
    closed({ a: { type: 'string' } }),
    closed({ a: { type: 'string' }, b: { type: 'number' } }, { required: ['b'] }),
    false,
    false,
  ],
  [
    'drop a required constraint',
    closed({ a: { type: 'string' } }, { required: ['a'] }),
    closed({ a: { type: 'string' } }),
    true,
    false,
  ],
  ['widen integer to number', obj({ a: { type: 'integer' } }), obj({ a: { type: 'number' } }), true, false],
  ['change string to number', obj({ a: { type: 'string' } }), obj({ a: { type: 'number' } }), false, false],
  [
    'add a type to a type list',
    obj({ a: { type: 'string' } }),
    obj({ a: { type: ['string', 'null'] } }),
    true,
    false,
  ],
  ['extend an enum', obj({ a: { enum: ['x', 'y'] } }), obj({ a: { enum: ['x', 'y', 'z'] } }), true, false],
  [
    'lower a maxLength',
    obj({ a: { type: 'string', maxLength: 10 } }),
    obj({ a: { type: 'string', maxLength: 5 } }),
    false,
    true,
  ],
  [
    'raise a minimum',
    obj({ a: { type: 'number', minimum: 0 } }),
    obj({ a: { type: 'number', minimum: 1 } }),
    false,
    true,
  ],
  ['close an open model', obj({ a: { type: 'string' } }), closed({ a: { type: 'string' } }), false, true],
  [
    'array items widened',
    obj({ a: { type: 'array', items: { type: 'integer' } } }),
    obj({ a: { type: 'array', items: { type: 'number' } } }),
    true,
    false,
  ],
  [
    'a oneOf branch added',
    obj({ a: { oneOf: [{ type: 'string' }] } }),
    obj({ a: { oneOf: [{ type: 'string' }, { type: 'number' }] } }),
    true,
    false,
  ],
  [
    'a local $ref followed',
    { definitions: { x: { type: 'integer' } }, ...obj({ a: { $ref: '#/definitions/x' } }) },
    { definitions: { x: { type: 'number' } }, ...obj({ a: { $ref: '#/definitions/x' } }) },
    true,
    false,
  ],
]

describe('JSON Schema compatibility', () => {
  for (const [name, before, after, backward, forward] of JSON_CASES) {
    test(`${name}: BACKWARD ${backward ? 'ok' : 'refused'}, FORWARD ${forward ? 'ok' : 'refused'}`, () => {
      assert.equal(compatible('BACKWARD', [before], after, 'JSON'), backward, 'BACKWARD')
      assert.equal(compatible('FORWARD', [before], after, 'JSON'), forward, 'FORWARD')
      assert.equal(compatible('FULL', [before], after, 'JSON'), backward && forward, 'FULL')
    })
  }

  test('a schema of another type is incompatible', () => {
    const parsedJson = parseSchema('JSON', '{"type":"string"}')
    const parsedAvro = parseSchema('AVRO', '"string"')
    assert.notDeepEqual(
      compatibilityMessages('BACKWARD', parsedJson, [{ version: 1, text: '"string"', parsed: parsedAvro }]),
      [],
    )
  })
})
