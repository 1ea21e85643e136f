/**
 * JsonConverter reads a record whose schema text repeats the previous record's with a reader
 * specialised to that schema (`#readFast`). These tests pin it to the general path: every generated
 * envelope is read by a fresh converter (general path only) and by one that has already seen the
 * schema (specialised path), and the outcomes — schema, value, or error — must be identical.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { betPayload, KEY_SCHEMA, VALUE_SCHEMA } from '../../bench/lib/bet-records.ts'
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
import { JsonConverter } from '../../src/converters/json-converter.ts'

function converter(configs: Record<string, string> = {}): JsonConverter {
  const c = new JsonConverter()
  c.configure(configs, false)
  return c
}

/** A deterministic PRNG (mulberry32), so a failure names a seed that reproduces it. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Connect data as plain, comparable data (Struct fields are private; Dates, bytes, decimals spelt out). */
function plain(value: unknown): unknown {
  if (value instanceof Struct)
    return { struct: value.schema.fields.map((f) => [f.name, plain(value.getWithoutDefault(f))]) }
  if (value instanceof Date) return { date: value.getTime() }
  if (value instanceof BigDecimal) return { decimal: `${value.unscaled}e-${value.scale}` }
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('hex') }
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [plain(k), plain(v)]) }
  if (Array.isArray(value)) return value.map(plain)
  if (typeof value === 'object' && value !== null) {
    return {
      object: Object.keys(value).map((k) => [k, plain((value as Record<string, unknown>)[k])]),
      proto: Object.getPrototypeOf(value) === Object.prototype,
    }
  }
  if (typeof value === 'bigint') return { bigint: `${value}` }
  return value
}

type Outcome = { schema: Schema | null; value: unknown } | { error: string }

function outcome(c: JsonConverter, json: string | Uint8Array): Outcome {
  // (A string is sent as a Buffer; a Uint8Array as given.)
  try {
    const result = c.toConnectData('topic', typeof json === 'string' ? Buffer.from(json, 'utf8') : json)
    return { schema: result.schema, value: plain(result.value) }
  } catch (error) {
    const e = error as Error & { cause?: Error }
    return {
      error: `${e.constructor.name}: ${e.message} / ${e.cause?.constructor.name}: ${e.cause?.message}`,
    }
  }
}

function assertSame(general: Outcome, fast: Outcome, context: string): void {
  if ('error' in general || 'error' in fast) {
    assert.deepEqual(fast, general, context)
    return
  }
  assert.ok(schemaEquals(fast.schema, general.schema), `schema differs: ${context}`)
  assert.deepStrictEqual(fast.value, general.value, context)
}

/**
 * Compares both paths over `envelopes` sharing the schema text `schemaText`: a converter primed with
 * that schema text (two records, so the specialised reader is compiled) reads each; a fresh one reads
 * each the general way. Returns how many the specialised path read.
 */
function compareAll(
  schemaText: string,
  envelopes: (string | Uint8Array)[],
  configs: Record<string, string> = {},
): number {
  const fast = converter(configs)
  const prime = `{"schema":${schemaText},"payload":null}`
  outcome(fast, prime)
  outcome(fast, prime)
  const before = fast.specialisedReads
  for (const json of envelopes) {
    assertSame(
      outcome(converter(configs), json),
      outcome(fast, json),
      typeof json === 'string' ? json : Buffer.from(json).toString('hex'),
    )
  }
  return fast.specialisedReads - before
}

// ---- random schemas and payload texts ---------------------------------------------------------------

type Gen = { r: () => number; pick: <T>(xs: readonly T[]) => T; chance: (p: number) => boolean }

function gen(seed: number): Gen {
  const r = prng(seed)
  return { r, pick: (xs) => xs[Math.floor(r() * xs.length)]!, chance: (p) => r() < p }
}

const PRIMITIVES = ['INT8', 'INT16', 'INT32', 'INT64', 'FLOAT32', 'FLOAT64', 'BOOLEAN', 'STRING', 'BYTES']
const LOGICAL = ['decimal', 'timestamp', 'date', 'time'] as const

function randomSchema(g: Gen, depth: number): Schema {
  const kind = g.r()
  let builder: SchemaBuilder
  if (depth < 3 && kind < 0.15) {
    builder = SchemaBuilder.struct()
    const n = 1 + Math.floor(g.r() * 5)
    for (let i = 0; i < n; i++)
      builder.field(g.pick(['a', 'b_2', 'ünï', 'quo"te', `f${i}`]) + i, randomSchema(g, depth + 1))
  } else if (depth < 3 && kind < 0.22) {
    builder = SchemaBuilder.array(randomSchema(g, depth + 1))
  } else if (depth < 3 && kind < 0.27) {
    builder = SchemaBuilder.map(Schemas.STRING, randomSchema(g, depth + 1))
  } else if (depth < 3 && kind < 0.3) {
    builder = SchemaBuilder.map(Schemas.INT32, randomSchema(g, depth + 1))
  } else if (kind < 0.42) {
    switch (g.pick(LOGICAL)) {
      case 'decimal':
        builder = Decimal.builder(g.pick([0, 2, 5]))
        break
      case 'timestamp':
        builder = TimestampType.builder()
        break
      case 'date':
        builder = DateType.builder()
        break
      default:
        builder = TimeType.builder()
    }
  } else {
    const type = g.pick(PRIMITIVES)
    builder = new SchemaBuilder(type as never)
    if (g.chance(0.15)) builder.name('some.Name')
    if (g.chance(0.15)) {
      const defaults: Record<string, unknown> = {
        INT8: 7,
        INT16: -300,
        INT32: 42,
        INT64: 1234567890123,
        FLOAT32: 1.5,
        FLOAT64: -0.25,
        BOOLEAN: true,
        STRING: 'dflt',
        BYTES: new Uint8Array([1, 2]),
      }
      builder.defaultValue(defaults[type])
    }
  }
  if (g.chance(0.4)) builder.optional()
  return builder.build()
}

const WS = [' ', '\n', '\t', '\r\n  ']
function ws(g: Gen): string {
  return g.chance(0.05) ? g.pick(WS) : ''
}

const INTEGERS = [
  '0',
  '-0',
  '1',
  '-1',
  '12',
  '0012',
  '127',
  '128',
  '-129',
  '300',
  '32768',
  '-40000',
  '2147483647',
  '2147483648',
  '-2147483649',
  '4294967297',
  '999999999999999',
  '-999999999999999',
  '1000000000000000',
  '9007199254740991',
  '9007199254740993',
  '-9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '18446744073709551617',
  '123456789012345678901234567890',
  '1714560000000',
  '86400000',
  '86400001',
  '-1',
  '19723',
]
const DECIMALS = [
  '1.5',
  '-2.5',
  '0.0',
  '-0.0',
  '-0',
  '1e3',
  '1E3',
  '1e+3',
  '-2.5E-3',
  '1e400',
  '-1e-400',
  '5e-324',
  '0.1',
  '1.0e10',
  '12345678901234567890.5',
  '1e20',
  '1.234567890123456789e19',
  '3.4028235e38',
  '1.0',
]
const STRINGS = [
  '""',
  '"a"',
  '"plain text"',
  '"tab\\tquote\\"back\\\\slash\\/"',
  '"\\u00e9\\u00E9"',
  '"é😀中"',
  '"\\ud83d\\ude00"',
  '"\\ud800"',
  '"\\n\\r\\b\\f"',
  '"NaN"',
  '"Infinity"',
  '"-Infinity"',
  '"7"',
  '"true"',
  '"AQI="',
  '"AAAA"',
  '"/w=="',
  '"gA=="',
  '"!!"',
  '"A"',
  '"__proto__"',
]
const OTHER = ['true', 'false', 'null', '[]', '{}', '[1,2]', '{"x":1}']

function anyToken(g: Gen): string {
  return g.pick([g.pick(INTEGERS), g.pick(DECIMALS), g.pick(STRINGS), g.pick(OTHER)])
}

function base64Of(g: Gen): string {
  const n = Math.floor(g.r() * 7)
  const bytes = Buffer.alloc(n)
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(g.r() * 256)
  return `"${bytes.toString('base64')}"`
}

/** A JSON text for `schema`: usually of the expected kind, sometimes anything at all. */
function payloadText(g: Gen, schema: Schema, depth = 0): string {
  if (g.chance(0.06)) return 'null'
  if (g.chance(0.06) || depth > 6) return anyToken(g)
  if (schema.name === Decimal.LOGICAL_NAME) {
    return g.chance(0.8)
      ? g.chance(0.5)
        ? `"${Buffer.from(bigIntToBytes(BigInt(Math.floor((g.r() - 0.5) * 1e12)))).toString('base64')}"`
        : base64Of(g)
      : g.pick([g.pick(INTEGERS), g.pick(DECIMALS)])
  }
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'INT64':
      return g.chance(0.8) ? g.pick(INTEGERS) : g.pick(DECIMALS)
    case 'FLOAT32':
    case 'FLOAT64':
      return g.chance(0.85)
        ? g.pick(g.chance(0.5) ? DECIMALS : INTEGERS)
        : g.pick(['"NaN"', '"Infinity"', '"-Infinity"'])
    case 'BOOLEAN':
      return g.pick(['true', 'false'])
    case 'STRING':
      return g.pick(STRINGS)
    case 'BYTES':
      return g.chance(0.85) ? base64Of(g) : g.pick(STRINGS)
    case 'ARRAY': {
      const n = Math.floor(g.r() * 4)
      const items = Array.from(
        { length: n },
        () => ws(g) + payloadText(g, schema.valueSchema!, depth + 1) + ws(g),
      )
      return g.chance(0.05) ? `{"k":${items[0] ?? '1'}}` : `[${items.join(',')}]`
    }
    case 'MAP': {
      const n = Math.floor(g.r() * 4)
      if (schema.keySchema!.type === 'STRING') {
        const keys = ['"k"', '"k2"', '"k"', '"__proto__"', '"1"', '"0"', '"é"', '"\\u0041"']
        const members = Array.from(
          { length: n },
          () => `${ws(g)}${g.pick(keys)}${ws(g)}:${ws(g)}${payloadText(g, schema.valueSchema!, depth + 1)}`,
        )
        return `{${members.join(',')}}`
      }
      const entries = Array.from(
        { length: n },
        () => `[${g.pick(INTEGERS)},${payloadText(g, schema.valueSchema!, depth + 1)}]`,
      )
      return `[${entries.join(',')}]`
    }
    case 'STRUCT': {
      const members = schema.fields.map(
        (f) =>
          `${ws(g)}${JSON.stringify(f.name)}${ws(g)}:${ws(g)}${payloadText(g, f.schema, depth + 1)}${ws(g)}`,
      )
      const shape = g.r()
      if (shape < 0.04 && members.length > 1) members.reverse()
      else if (shape < 0.07) members.pop()
      else if (shape < 0.1) members.push(`"extra":${anyToken(g)}`)
      else if (shape < 0.12 && members.length > 0) members.push(members[0]!)
      else if (shape < 0.13 && members.length > 0) members[0] = members[0]!.replace(/^"/, '"\\u0061')
      return `{${members.join(',')}}`
    }
    default:
      return anyToken(g)
  }
}

/** Envelope text around a payload: usually Kafka's compact form, sometimes spaced or odd. */
function envelope(g: Gen, schemaText: string, payload: string): string {
  const shape = g.r()
  if (shape < 0.8) return `{"schema":${schemaText},"payload":${payload}}`
  if (shape < 0.88) return ` {\n "schema" : ${schemaText} ,\t"payload" :\r\n${payload} } `
  if (shape < 0.9) return `{"payload":${payload},"schema":${schemaText}}`
  if (shape < 0.92) return `{"schema":${schemaText},"payload":${payload}} trailing`
  if (shape < 0.93) return `\ufeff{"schema":${schemaText},"payload":${payload}}`
  if (shape < 0.94) return `{"schema":${schemaText},"payload":${payload},"schema":${schemaText}}`
  if (shape < 0.95) return `{"schema":${schemaText},"payload":${payload}`
  if (shape < 0.96) return `{"schema":${schemaText},"payload":${payload}]`
  if (shape < 0.97) return `{"schema":${schemaText},"payload":${payload},"x":1}`
  if (shape < 0.975) return `{"schema":${schemaText},"payload":${payload.slice(0, -1)}}`
  if (shape < 0.98) return `{"schemX":${schemaText},"payload":${payload}}`
  if (shape < 0.985) return `{"schema":${schemaText} "payload":${payload}}`
  if (shape < 0.99) return `{"schema":${schemaText},"payloaX":${payload}}`
  return `{"schema":${schemaText},"payload":${payload} ${payload}}`
}

/** The schema text with its object members in reverse order (same schema, different text). */
function reordered(schemaText: string): string {
  const reverse = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(reverse)
    if (typeof node !== 'object' || node === null) return node
    return Object.fromEntries(
      Object.entries(node)
        .reverse()
        .map(([k, v]) => [k, reverse(v)]),
    )
  }
  return JSON.stringify(reverse(JSON.parse(schemaText)))
}

describe('JsonConverter schema-specialised reading', () => {
  test('gives the general path’s schema, value or error for thousands of generated schemas and envelopes', () => {
    const writer = converter()
    let records = 0
    let specialised = 0
    for (let seed = 1; seed <= 300; seed++) {
      const g = gen(seed)
      const schema = randomSchema(g, g.chance(0.7) ? 0 : 2)
      const compact = writer.asJsonSchema(schema)
      const variants = [compact, JSON.stringify(JSON.parse(compact), null, 1), reordered(compact)]
      for (const schemaText of variants) {
        const envelopes = Array.from({ length: 20 }, () => envelope(g, schemaText, payloadText(g, schema)))
        for (const configs of [{}, { 'replace.null.with.default': 'false' }] as Record<string, string>[]) {
          specialised += compareAll(schemaText, envelopes, configs)
          records += envelopes.length
        }
      }
    }
    // The comparison means something only if the specialised path took most records.
    assert.ok(
      specialised > records * 0.5,
      `only ${specialised} of ${records} records took the specialised path`,
    )
  })

  test('reads the JDBC sink benchmark’s records on the specialised path, identically', () => {
    const keyText = JSON.stringify(KEY_SCHEMA)
    const valueText = JSON.stringify(VALUE_SCHEMA)
    const values = Array.from({ length: 500 }, (_, id) =>
      JSON.stringify({ schema: VALUE_SCHEMA, payload: betPayload(id) }),
    )
    const keys = Array.from({ length: 500 }, (_, id) =>
      JSON.stringify({ schema: KEY_SCHEMA, payload: { id } }),
    )
    assert.equal(compareAll(valueText, values), values.length)
    assert.equal(compareAll(keyText, keys), keys.length)
  })

  test('reads edge cases of every kind identically on both paths', () => {
    const schema = SchemaBuilder.struct()
      .field('i8', Schemas.INT8)
      .field('i16', Schemas.OPTIONAL_INT16)
      .field('i32', SchemaBuilder.int32().optional().defaultValue(42).build())
      .field('i64', Schemas.INT64)
      .field('f32', Schemas.FLOAT32)
      .field('f64', Schemas.OPTIONAL_FLOAT64)
      .field('b', Schemas.BOOLEAN)
      .field('s', Schemas.OPTIONAL_STRING)
      .field('bytes', Schemas.OPTIONAL_BYTES)
      .field('dec', Decimal.builder(2).optional().build())
      .field('ts', TimestampType.builder().optional().build())
      .field('day', DateType.builder().optional().build())
      .field('time', TimeType.builder().optional().build())
      .field('list', SchemaBuilder.array(Schemas.OPTIONAL_INT64).optional().build())
      .field('map', SchemaBuilder.map(Schemas.STRING, Schemas.STRING).optional().build())
      .field('pairs', SchemaBuilder.map(Schemas.INT32, Schemas.STRING).optional().build())
      .field('inner', SchemaBuilder.struct().field('x', Schemas.INT64).optional().build())
      .build()
    const schemaText = converter().asJsonSchema(schema)
    const base: Record<string, string> = {
      i8: '1',
      i16: '2',
      i32: '3',
      i64: '4',
      f32: '1.5',
      f64: '2.5',
      b: 'true',
      s: '"s"',
      bytes: '"AQI="',
      dec: '"AQ=="',
      ts: '1714560000000',
      day: '19723',
      time: '1000',
      list: '[1,null,3]',
      map: '{"a":"b"}',
      pairs: '[[1,"x"]]',
      inner: '{"x":5}',
    }
    const variations: [string, string][] = [
      ['i8', '300'],
      ['i8', '-129'],
      ['i8', '1.9'],
      ['i8', '"7"'],
      ['i8', '0012'],
      ['i8', 'null'],
      ['i16', '40000'],
      ['i16', 'null'],
      ['i32', 'null'],
      ['i32', '2147483648'],
      ['i32', '1e10'],
      ['i32', '12345678901234567890'],
      ['i32', '-0'],
      ['i32', 'true'],
      ['i64', '9007199254740993'],
      ['i64', '-9223372036854775808'],
      ['i64', '9223372036854775808'],
      ['i64', '18446744073709551617'],
      ['i64', '1.5e3'],
      ['i64', '-0'],
      ['i64', '-0.0'],
      ['i64', '999999999999999'],
      ['i64', '1000000000000000'],
      ['i64', '[1]'],
      ['i64', 'null'],
      ['f32', '3.4028236e38'],
      ['f32', '1e400'],
      ['f32', '"NaN"'],
      ['f32', '-0'],
      ['f32', '-0.0'],
      ['f64', '-0'],
      ['f64', '-0.0'],
      ['f64', '-1e-400'],
      ['f64', '5e-324'],
      ['f64', '1E+2'],
      ['f64', '"Infinity"'],
      ['f64', '"-Infinity"'],
      ['f64', '123456789012345678901'],
      ['f64', '"1.5"'],
      ['f64', 'null'],
      ['b', 'false'],
      ['b', '1'],
      ['b', '"true"'],
      ['b', 'null'],
      ['b', 'truex'],
      ['s', '"\\u00e9\\n\\"q\\"\\\\"'],
      ['s', '"é😀"'],
      ['s', '"\\ud83d\\ude00"'],
      ['s', '"\\ud800"'],
      ['s', '5'],
      ['s', '"\\x"'],
      ['s', '"a\u0001b"'],
      ['s', '{}'],
      ['bytes', '"!!"'],
      ['bytes', '"A"'],
      ['bytes', '""'],
      ['bytes', '5'],
      ['dec', '"/w=="'],
      ['dec', '12.345'],
      ['dec', '1E+2'],
      ['dec', '7'],
      ['dec', '"**"'],
      ['dec', 'true'],
      ['dec', 'null'],
      ['ts', '-1'],
      ['ts', '9223372036854775807'],
      ['ts', '1.5'],
      ['ts', '"1"'],
      ['ts', 'null'],
      ['day', '2147483648'],
      ['day', '-1'],
      ['day', '1.0'],
      ['time', '86400000'],
      ['time', '86400001'],
      ['time', '-1'],
      ['list', '[]'],
      ['list', '[ 1 , 2 ]'],
      ['list', '{"a":1,"b":2}'],
      ['list', '7'],
      ['list', '[1,]'],
      ['list', '[1 2]'],
      ['list', '[9223372036854775808]'],
      ['map', '{}'],
      ['map', '{"a":"1","a":"2"}'],
      ['map', '{"__proto__":"p","constructor":"c"}'],
      ['map', '{"2":"x","1":"y"}'],
      ['map', '[["a","b"]]'],
      ['map', '{"a":1}'],
      ['map', '{"a" "b"}'],
      ['map', '{"a":"b",}'],
      ['pairs', '[[1,"x"],[2]]'],
      ['pairs', '{"1":"x"}'],
      ['pairs', '[]'],
      ['inner', '{}'],
      ['inner', '{"x":1,"y":2}'],
      ['inner', '{"y":2,"x":1}'],
      ['inner', '{"x":1,"x":2}'],
      ['inner', '[]'],
      ['inner', 'null'],
      ['inner', '{"x":null}'],
    ]
    const envelopes = variations.map(([field, text]) => {
      const members = Object.entries({ ...base, [field]: text }).map(([k, v]) => `"${k}":${v}`)
      return `{"schema":${schemaText},"payload":{${members.join(',')}}}`
    })
    envelopes.push(`{"schema":${schemaText},"payload":null}`, `{"schema":${schemaText},"payload":"x"}`)
    // Wrong closing brackets: a struct, array or map closed by the other kind.
    for (const [field, text] of [
      ['inner', '{"x":5]'],
      ['list', '[1,2}'],
      ['map', '{"a":"b"]'],
      // A separator other than a comma between elements or members.
      ['list', '[1:2]'],
      ['map', '{"a":"b";"c":"d"}'],
      ['inner', '{"x":5;}'],
    ] as const) {
      const members = Object.entries({ ...base, [field]: text }).map(([k, v]) => `"${k}":${v}`)
      envelopes.push(`{"schema":${schemaText},"payload":{${members.join(',')}}}`)
    }
    const specialised = compareAll(schemaText, envelopes)
    assert.ok(specialised >= envelopes.length / 2, `${specialised} of ${envelopes.length} specialised`)
    compareAll(schemaText, envelopes, { 'replace.null.with.default': 'false' })
  })

  test('decodes Decimal base64 (valid, padded, invalid, long) as the general path does', () => {
    const schemaText = converter().asJsonSchema(Decimal.schema(3))
    const g = gen(7)
    const alphabet = 'AB/+gw09az=*'
    const envelopes: string[] = []
    for (let i = 0; i < 3000; i++) {
      let s = ''
      const length = Math.floor(g.r() * 13)
      for (let j = 0; j < length; j++) s += g.chance(0.2) ? '=' : g.pick([...alphabet])
      envelopes.push(`{"schema":${schemaText},"payload":"${s}"}`)
    }
    for (let v = -70000; v <= 70000; v += 997) {
      const b64 = Buffer.from(bigIntToBytes(BigInt(v) * 12345678n)).toString('base64')
      envelopes.push(`{"schema":${schemaText},"payload":"${b64}"}`)
    }
    assert.ok(compareAll(schemaText, envelopes) > 140)
  })

  test('checks UTF-8 as the general path does, on Buffers and plain Uint8Arrays alike', () => {
    const schemaText = converter().asJsonSchema(
      SchemaBuilder.struct().field('s', Schemas.STRING).field('é', Schemas.OPTIONAL_STRING).build(),
    )
    const good = Buffer.from(`{"schema":${schemaText},"payload":{"s":"ü€😀","é":"x"}}`, 'utf8')
    const at = good.indexOf('ü')
    const envelopes: Uint8Array[] = [good, new Uint8Array(good)]
    for (const bad of [
      [0xff],
      [0xc3],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xc0, 0xaf],
      [0xe2, 0x82],
    ]) {
      // In the payload, in the schema, and cut off at the very end.
      envelopes.push(Buffer.concat([good.subarray(0, at), Buffer.from(bad), good.subarray(at)]))
      envelopes.push(Buffer.concat([good.subarray(0, 20), Buffer.from(bad), good.subarray(20)]))
      envelopes.push(Buffer.concat([good, Buffer.from(bad)]))
    }
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), good])
    envelopes.push(bom, new Uint8Array(bom))
    const offset = Buffer.alloc(good.length + 10)
    good.copy(offset, 5)
    envelopes.push(
      offset.subarray(5, 5 + good.length),
      new Uint8Array(offset.buffer, offset.byteOffset + 5, good.length),
    )
    assert.equal(compareAll(schemaText, envelopes), 4)
  })

  test('refuses nesting beyond 1000 levels on both paths, counting the levels the specialised reader walks', () => {
    const schema = SchemaBuilder.array(SchemaBuilder.array(Schemas.OPTIONAL_INT64).build()).build()
    const schemaText = converter().asJsonSchema(schema)
    // Envelope (1) + two arrays of the schema (2) + n arrays read as a tree for the INT64 element.
    const nested = (n: number) => `[[${'['.repeat(n)}${']'.repeat(n)}]]`
    const envelopes = [996, 997, 998].map((n) => `{"schema":${schemaText},"payload":${nested(n)}}`)
    assert.equal(compareAll(schemaText, envelopes), 2)
    assert.match(JSON.stringify(outcome(converter(), envelopes[2]!)), /nesting depth/)
  })

  test('falls back to the general path when the schema text changes, and specialises the new one', () => {
    const c = converter()
    const a = '{"type":"int64","optional":false}'
    const b = '{"type":"string","optional":true}'
    const read = (schema: string, payload: string) =>
      c.toConnectData('t', Buffer.from(`{"schema":${schema},"payload":${payload}}`)).value
    assert.equal(read(a, '1'), 1)
    assert.equal(read(a, '2'), 2)
    assert.equal(read(a, '3'), 3)
    assert.equal(c.specialisedReads, 1)
    assert.equal(read(b, '"x"'), 'x')
    assert.equal(read(a, '"x"'), 0)
    assert.equal(read(a, '4'), 4)
    assert.equal(c.specialisedReads, 2)
    // A schema text that differs only after the cached text's length, or only in its last character.
    const named = c.toConnectData('t', Buffer.from(`{"schema":${a.slice(0, -1)},"name":"x"},"payload":5}`))
    assert.equal(named.schema?.name, 'x')
    assert.equal(named.value, 5)
    const optional = '{"type":"int64","optional":true }'
    assert.equal(read(a, '6'), 6)
    assert.equal(read(a, '7'), 7)
    const before = c.specialisedReads
    assert.equal(c.toConnectData('t', Buffer.from(`{"schema":${optional},"payload":null}`)).value, null)
    assert.equal(c.specialisedReads, before)
  })
})
