/**
 * Schema ids in record headers (Confluent's HeaderSchemaIdSerializer and DualSchemaIdDeserializer)
 * against the registry a worker serves: the payload is the bare Avro body, the header holds magic
 * byte 1 and the schema's GUID, which the registry resolves; records with the id in the prefix
 * still read; without the record headers the header serializer is refused naming its key.
 */
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import avro from 'avsc'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import type { ConnectError } from '../../../src/api/errors.ts'
import { Headers } from '../../../src/api/headers.ts'
import { RecordHeaders } from '../../../src/api/record-headers.ts'
import { AvroConverter } from '../../../src/converters/avro-converter.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'

const bet = SchemaBuilder.struct()
  .name('tote.Bet')
  .field('bet_id', SchemaBuilder.string().build())
  .field('amount', SchemaBuilder.float64().build())
  .build()

const HEADER_SERIALIZER = 'io.confluent.kafka.serializers.schema.id.HeaderSchemaIdSerializer'

describe('AvroConverter with schema ids in record headers', () => {
  let tw: TestWorker
  let registry: string
  const converters: AvroConverter[] = []
  const converter = (configs: Record<string, string>, isKey = false) => {
    const c = new AvroConverter()
    c.configure({ 'schema.registry.url': registry, ...configs }, isKey)
    converters.push(c)
    return c
  }

  before(async () => {
    tw = await startTestWorker({ 'schema.registry.listeners': 'http://127.0.0.1:0' })
    registry = `http://127.0.0.1:${tw.worker.services.registryServer!.port}`
  })
  after(async () => {
    for (const c of converters) c.close()
    await tw?.close()
  })

  test('HeaderSchemaIdSerializer writes the bare Avro body and magic byte 1 + the GUID in __value_schema_id', async () => {
    const topic = `hdr-${randomUUID().slice(0, 8)}`
    const headers = new RecordHeaders([{ key: 'trace', value: Buffer.from('t1') }])
    const writer = converter({ 'value.schema.id.serializer': HEADER_SERIALIZER })
    const value = new Struct(bet).put('bet_id', 'b1').put('amount', 2.5)
    const bytes = Buffer.from((await writer.fromConnectData(topic, bet, value, headers))!)
    const latest = (await (await fetch(`${registry}/subjects/${topic}-value/versions/latest`)).json()) as {
      schema: string
      guid: string
    }
    // The body alone: an independent Avro decoder reads it from byte 0.
    assert.deepEqual(
      { ...avro.Type.forSchema(JSON.parse(latest.schema)).fromBuffer(bytes) },
      { bet_id: 'b1', amount: 2.5 },
    )
    const header = headers.lastHeader('__value_schema_id')!.value!
    const md5 = createHash('md5').update(latest.schema).digest()
    assert.deepEqual(Buffer.from(header), Buffer.concat([Buffer.from([1]), md5]))
    assert.equal(latest.guid.replace(/-/g, ''), md5.toString('hex'))
    assert.equal(headers.lastHeader('trace')?.key, 'trace')
    // The same schema again: the header is not repeated.
    await writer.fromConnectData(topic, bet, value, headers)
    assert.equal([...headers].filter((h) => h.key === '__value_schema_id').length, 1)

    // DualSchemaIdDeserializer (the default) reads it through the registry's GUID lookup.
    const reader = converter({})
    const back = await reader.toConnectData(topic, bytes, headers)
    assert.equal((back.value as Struct).get('bet_id'), 'b1')
    assert.equal(back.schema?.version, 1)
    // PrefixSchemaIdDeserializer ignores the header: a bare body has no magic byte.
    const prefixOnly = converter({
      'value.schema.id.deserializer': 'io.confluent.kafka.serializers.schema.id.PrefixSchemaIdDeserializer',
    })
    await assert.rejects(async () => prefixOnly.toConnectData(topic, bytes, headers), /Unknown magic byte/)
  })

  test('keys use __key_schema_id, and a header holding a V0 id reads too', async () => {
    const topic = `hdr-${randomUUID().slice(0, 8)}`
    const keySchema = SchemaBuilder.string().build()
    const headers = new RecordHeaders()
    const writer = converter({ 'key.schema.id.serializer': HEADER_SERIALIZER }, true)
    const bytes = Buffer.from((await writer.fromConnectData(topic, keySchema, 'k-1', headers))!)
    assert.equal(headers.lastHeader('__value_schema_id'), undefined)
    assert.equal(headers.lastHeader('__key_schema_id')!.value![0], 1)
    const reader = converter({}, true)
    assert.equal((await reader.toConnectData(topic, bytes, headers)).value, 'k-1')

    const id = (
      (await (await fetch(`${registry}/subjects/${topic}-key/versions/1`)).json()) as { id: number }
    ).id
    const v0 = Buffer.from([0, 0, 0, 0, 0])
    v0.writeInt32BE(id, 1)
    const byId = await converter({}, true).toConnectData(
      topic,
      bytes,
      new RecordHeaders([{ key: '__key_schema_id', value: v0 }]),
    )
    assert.equal(byId.value, 'k-1')
  })

  test('records framed with the prefix read as before when no id header is there', async () => {
    const topic = `hdr-${randomUUID().slice(0, 8)}`
    const value = new Struct(bet).put('bet_id', 'b2').put('amount', 1)
    const bytes = (await converter({}).fromConnectData(topic, bet, value, new RecordHeaders()))!
    assert.equal(bytes[0], 0)
    const back = await converter({}).toConnectData(topic, bytes, new RecordHeaders())
    assert.equal((back.value as Struct).get('bet_id'), 'b2')
  })

  test('the header serializer without the record headers is refused naming its key', async () => {
    const writer = converter({ 'value.schema.id.serializer': HEADER_SERIALIZER })
    const value = new Struct(bet).put('bet_id', 'b3').put('amount', 1)
    for (const headers of [undefined, new Headers()]) {
      assert.throws(
        () => writer.fromConnectData('t', bet, value, headers),
        (error: ConnectError) => error.key === 'value.schema.id.serializer',
      )
    }
    assert.throws(
      () => converter({ 'value.schema.id.serializer': 'com.example.Mine' }),
      (error: ConnectError) => error.key === 'value.schema.id.serializer',
    )
  })
})
