import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { isPromise } from '../../../src/api/converter.ts'
import { BigDecimal } from '../../../src/api/data/big-decimal.ts'
import { DateType, Decimal, TimestampType } from '../../../src/api/data/logical-types.ts'
import { Schemas, valueEquals } from '../../../src/api/data/schema.ts'
import type { SchemaAndValue } from '../../../src/api/data/schema-and-value.ts'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import { ConfigError, DataError, RetriableError } from '../../../src/api/errors.ts'
import { AvroConverter } from '../../../src/converters/avro-converter.ts'
import { findBuiltInConverter } from '../../../src/converters/index.ts'
import { apicurioSkipReason, apicurioUrl } from '../../helpers/services.ts'

function converter(configs: Record<string, string>, isKey = false): AvroConverter {
  const c = new AvroConverter()
  c.configure({ 'schema.registry.url': apicurioUrl(), ...configs }, isKey)
  return c
}

const write = async (
  c: AvroConverter,
  topic: string,
  schema: Parameters<AvroConverter['fromConnectData']>[1],
  value: unknown,
) => (await c.fromConnectData(topic, schema, value)) as Buffer
const read = async (c: AvroConverter, topic: string, bytes: Uint8Array | null): Promise<SchemaAndValue> =>
  c.toConnectData(topic, bytes)

const order = SchemaBuilder.struct()
  .name('com.example.Order')
  .field('id', Schemas.INT64)
  .field('customer', Schemas.STRING)
  .field('note', Schemas.OPTIONAL_STRING)
  .field('amount', Decimal.builder(2).parameter('connect.decimal.precision', '12').build())
  .field('placed', TimestampType.schema())
  .field('day', DateType.schema())
  .field('qty', Schemas.INT16)
  .field('tags', SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build())
  .build()

function sampleOrder(id: number | bigint = 7): Struct {
  return new Struct(order)
    .put('id', id)
    .put('customer', 'ada')
    .put('note', null)
    .put('amount', BigDecimal.parse('1234.50'))
    .put('placed', new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)))
    .put('day', new Date(Date.UTC(2026, 0, 2)))
    .put('qty', 3)
    .put('tags', { vip: 1 })
}

const topic = () => `avro-${randomUUID()}`

describe('AvroConverter against Apicurio Registry', { skip: apicurioSkipReason() }, () => {
  test('is a built-in plugin under its Confluent class name and alias, as converter and header converter', () => {
    for (const kind of ['converter', 'header_converter'] as const) {
      assert.ok(findBuiltInConverter('io.confluent.connect.avro.AvroConverter', kind))
      assert.ok(findBuiltInConverter('AvroConverter', kind))
    }
  })

  test('writes V0 framing (magic 0, big-endian id) that an independent client decodes, registering under <topic>-value', async () => {
    const t = topic()
    const c = converter({})
    const bytes = await write(c, t, order, sampleOrder())
    assert.equal(bytes[0], 0)
    const id = bytes.readInt32BE(1)
    const oracle = new SchemaRegistry({ host: apicurioUrl() })
    assert.equal(await oracle.getLatestSchemaId(`${t}-value`), id)
    const decoded = await oracle.decode(bytes)
    assert.equal(decoded.id, 7)
    assert.equal(decoded.customer, 'ada')
    assert.equal(decoded.note, null)
    assert.deepEqual([...decoded.amount], [0x01, 0xe2, 0x3a]) // 123450 as two's complement
    assert.equal(decoded.placed, Date.UTC(2026, 0, 2, 3, 4, 5, 6))
    assert.equal(decoded.day, 20455)
    assert.equal(decoded.qty, 3)
    assert.deepEqual({ ...decoded.tags }, { vip: 1 })
    // The second record of the same schema is written from the caches, synchronously.
    const again = c.fromConnectData(t, order, sampleOrder(8))
    assert.ok(!isPromise(again))
    assert.equal((again as Buffer).readInt32BE(1), id)
  })

  test('reads what an independent client wrote, with the registry version as the Connect schema version', async () => {
    const t = topic()
    const oracle = new SchemaRegistry({ host: apicurioUrl() })
    const v1 = { type: 'record', name: 'Bet', namespace: 'tote', fields: [{ name: 'stake', type: 'long' }] }
    const v2 = {
      ...v1,
      fields: [...v1.fields, { name: 'horse', type: ['null', 'string'], default: null }],
    }
    await oracle.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject: `${t}-value` })
    const { id } = await oracle.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(v2) },
      { subject: `${t}-value` },
    )
    const bytes = await oracle.encode(id, { stake: 2 ** 40, horse: 'Red Rum' })
    const c = converter({})
    const { schema, value } = await read(c, t, bytes)
    assert.equal(schema!.name, 'tote.Bet')
    assert.equal(schema!.version, 2)
    assert.equal((value as Struct).get('stake'), 2 ** 40)
    assert.equal((value as Struct).get('horse'), 'Red Rum')
    // A second read of the same id is answered from the cache, synchronously.
    assert.ok(!isPromise(c.toConnectData(t, bytes)))
  })

  test('a schema registered under another subject reads with the version it has there', async () => {
    const t = topic()
    const oracle = new SchemaRegistry({ host: apicurioUrl() })
    const name = `N${randomUUID().replaceAll('-', '')}`
    const schema = { type: 'record', name, namespace: 'elsewhere', fields: [{ name: 'x', type: 'string' }] }
    const { id } = await oracle.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: `other-${t}` },
    )
    const back = await read(converter({}), t, await oracle.encode(id, { x: 'y' }))
    assert.equal(back.schema!.version, 1)
    assert.equal((back.value as Struct).get('x'), 'y')
  })

  test('round trips every field through the registry, int64 exact beyond 2^53', async () => {
    const t = topic()
    const c = converter({})
    const value = sampleOrder(2n ** 62n + 1n)
    const back = await read(c, t, await write(c, t, order, value))
    assert.equal(back.schema!.version, 1)
    for (const field of order.fields) {
      assert.ok(valueEquals((back.value as Struct).get(field.name), value.get(field)), field.name)
    }
  })

  test('keys use <topic>-key; RecordNameStrategy and TopicRecordNameStrategy name subjects after the record', async () => {
    const t = topic()
    const oracle = new SchemaRegistry({ host: apicurioUrl() })
    const key = SchemaBuilder.struct()
      .name(`keys.K${randomUUID().replaceAll('-', '')}`)
      .field('id', Schemas.INT32)
      .build()
    const keyConverter = converter({}, true)
    const keyBytes = await write(keyConverter, t, key, new Struct(key).put('id', 1))
    assert.equal(await oracle.getLatestSchemaId(`${t}-key`), keyBytes.readInt32BE(1))
    const record = converter({
      'value.subject.name.strategy': 'io.confluent.kafka.serializers.subject.RecordNameStrategy',
    })
    const recordBytes = await write(record, t, key, new Struct(key).put('id', 2))
    assert.equal(await oracle.getLatestSchemaId(key.name!), recordBytes.readInt32BE(1))
    const topicRecord = converter({
      'value.subject.name.strategy': 'io.confluent.kafka.serializers.subject.TopicRecordNameStrategy',
    })
    const trBytes = await write(topicRecord, t, key, new Struct(key).put('id', 3))
    assert.equal(await oracle.getLatestSchemaId(`${t}-${key.name}`), trBytes.readInt32BE(1))
  })

  test('with auto.register.schemas=false an unregistered schema is a DataError naming topic, side and subject', async () => {
    const t = topic()
    const c = converter({ 'auto.register.schemas': 'false' })
    await assert.rejects(write(c, t, order, sampleOrder()), (error: unknown) => {
      assert.ok(error instanceof DataError, String(error))
      assert.match(error.message, new RegExp(`topic ${t} \\(record value\\)`))
      assert.match(error.message, new RegExp(`${t}-value`))
      return true
    })
    // Registered by another converter, it is found and used.
    const id = (await write(converter({}), t, order, sampleOrder())).readInt32BE(1)
    assert.equal((await write(c, t, order, sampleOrder())).readInt32BE(1), id)
  })

  test('use.latest.version writes with the latest registered schema of the subject', async () => {
    const t = topic()
    const oracle = new SchemaRegistry({ host: apicurioUrl() })
    const latest = {
      type: 'record',
      name: 'Order',
      namespace: 'com.example',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'customer', type: 'string' },
      ],
    }
    const { id } = await oracle.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(latest) },
      { subject: `${t}-value` },
    )
    const schema = SchemaBuilder.struct()
      .name('com.example.Order')
      .field('id', Schemas.INT64)
      .field('customer', Schemas.STRING)
      .build()
    const c = converter({ 'auto.register.schemas': 'false', 'use.latest.version': 'true' })
    const bytes = await write(c, t, schema, new Struct(schema).put('id', 5).put('customer', 'bo'))
    assert.equal(bytes.readInt32BE(1), id)
    assert.deepEqual({ ...(await oracle.decode(bytes)) }, { id: 5, customer: 'bo' })
  })

  test('use.schema.id writes with that schema; auto.register.schemas=true would register instead', async () => {
    const t = topic()
    const oracle = new SchemaRegistry({ host: apicurioUrl() })
    const fixed = {
      type: 'record',
      name: `Fixed${randomUUID().replaceAll('-', '')}`,
      namespace: 'fixed',
      fields: [{ name: 'id', type: 'long' }],
    }
    const { id } = await oracle.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(fixed) },
      { subject: `elsewhere-${t}` },
    )
    const schema = SchemaBuilder.struct().name('x.Y').field('id', Schemas.INT64).build()
    const value = new Struct(schema).put('id', 9)
    const pinned = converter({ 'auto.register.schemas': 'false', 'use.schema.id': String(id) })
    const bytes = await write(pinned, t, schema, value)
    assert.equal(bytes.readInt32BE(1), id)
    assert.deepEqual({ ...(await oracle.decode(bytes)) }, { id: 9 })
    const registering = converter({ 'use.schema.id': String(id) })
    assert.notEqual((await write(registering, t, schema, value)).readInt32BE(1), id)
  })

  test('null is a tombstone both ways', async () => {
    const c = converter({})
    assert.equal(await c.fromConnectData('t', order, null), null)
    assert.deepEqual(await c.toConnectData('t', null), { schema: null, value: null })
  })

  test('works as a header converter (the values subject)', async () => {
    const t = topic()
    const c = new AvroConverter()
    c.configure({ 'schema.registry.url': apicurioUrl() })
    const bytes = await c.fromConnectHeader(t, 'h', Schemas.STRING, 'trace-1')
    const back = await c.toConnectHeader(t, 'h', bytes)
    assert.equal(back.value, 'trace-1')
  })

  test('bytes that are not framed fail with "Unknown magic byte!" naming topic, side and the first byte', async () => {
    const c = converter({}, true)
    await assert.rejects(
      async () => read(c, 'orders', Buffer.from('{"id":1}')),
      (error: unknown) => {
        assert.ok(error instanceof DataError)
        assert.match(error.message, /topic orders \(record key\)/)
        assert.match(error.message, /Unknown magic byte! .*0x7b \('\{'\)/)
        return true
      },
    )
  })

  test('an id the registry does not know is a DataError naming the id, topic and registry', async () => {
    const c = converter({})
    const bytes = Buffer.from([0, 0x3f, 0xff, 0xff, 0xfe, 2])
    await assert.rejects(
      async () => read(c, 'orders', bytes),
      (error: unknown) => {
        assert.ok(error instanceof DataError, String(error))
        assert.match(
          error.message,
          /topic orders \(record value\).*schema id 1073741822 is not in the schema registry at http/,
        )
        return true
      },
    )
  })

  test('a payload that does not match its schema is a DataError, not a crash', async () => {
    const t = topic()
    const c = converter({})
    const bytes = await write(c, t, order, sampleOrder())
    await assert.rejects(
      async () => read(c, t, bytes.subarray(0, 8)),
      (error: unknown) => error instanceof DataError && /does not match schema id/.test(error.message),
    )
  })
})

describe('AvroConverter reading wire format V1 (magic 1 + schema GUID)', () => {
  test('fetches the schema by GUID and decodes the payload after the 17-byte header', async () => {
    const guid = '0123abcd-4567-89ef-0123-456789abcdef'
    const seen: string[] = []
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      if (req.url === `/schemas/guids/${guid}`) {
        res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(
          JSON.stringify({
            schema: '{"type":"record","name":"G","namespace":"v1","fields":[{"name":"a","type":"int"}]}',
          }),
        )
      } else {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"error_code":40401,"message":"Subject not found"}')
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const c = new AvroConverter()
      c.configure({ 'schema.registry.url': `http://127.0.0.1:${port}` }, false)
      const bytes = Buffer.concat([
        Buffer.from([1]),
        Buffer.from(guid.replaceAll('-', ''), 'hex'),
        Buffer.from([0x54]),
      ])
      const { schema, value } = await c.toConnectData('t', bytes)
      assert.equal(schema!.name, 'v1.G')
      assert.equal(schema!.version, undefined, 'no version when the subject does not hold the schema')
      assert.equal((value as Struct).get('a'), 42)
      assert.ok(seen.includes(`GET /schemas/guids/${guid}`))
    } finally {
      server.close()
    }
  })

  test('a GUID the registry does not know is a DataError naming it', {
    skip: apicurioSkipReason(),
  }, async () => {
    const c = converter({})
    const bytes = Buffer.concat([Buffer.from([1]), Buffer.alloc(16, 0xab), Buffer.from([2])])
    await assert.rejects(
      async () => read(c, 'orders', bytes),
      (error: unknown) =>
        error instanceof DataError &&
        /schema guid abababab-abab-abab-abab-abababababab is not in the schema registry/.test(error.message),
    )
  })
})

describe('AvroConverter configuration and unreachable registries', () => {
  test('schema.registry.url is required, and USER_INFO needs basic.auth.user.info', () => {
    assert.throws(
      () => new AvroConverter().configure({}, false),
      (e: unknown) => e instanceof ConfigError && /schema\.registry\.url/.test(e.message),
    )
    assert.throws(
      () =>
        new AvroConverter().configure(
          { 'schema.registry.url': 'http://127.0.0.1:1', 'basic.auth.credentials.source': 'USER_INFO' },
          false,
        ),
      (e: unknown) => e instanceof ConfigError && /basic\.auth\.user\.info/.test(e.message),
    )
  })

  test('a registry that cannot be reached gives a retriable error naming the topic, side and URL', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const c = new AvroConverter()
    c.configure(
      { 'schema.registry.url': `http://127.0.0.1:${port}`, 'max.retries': '1', 'retries.wait.ms': '10' },
      false,
    )
    await assert.rejects(
      async () => c.fromConnectData('orders', order, sampleOrder()),
      (error: unknown) => {
        assert.ok(error instanceof RetriableError)
        assert.match(
          error.message,
          /topic orders \(record value\).*unreachable at http:\/\/127\.0\.0\.1:\d+ after 2 attempts/,
        )
        return true
      },
    )
    await assert.rejects(
      async () => c.toConnectData('orders', Buffer.from([0, 0, 0, 0, 1, 0])),
      (error: unknown) => error instanceof RetriableError && /record value/.test(error.message),
    )
  })
})
