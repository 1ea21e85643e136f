/**
 * The JsonSchemaConverter against real registries: Apicurio (Confluent-compatible API) and the
 * worker's own registry, bytes checked against Confluent's format and decoded by an independent
 * client (@kafkajs/confluent-schema-registry); then in a worker, a FileStream sink reading the
 * records the REST proxy's v2 jsonschema produce path wrote, with an invalid payload and
 * json.fail.invalid.schema=true sent to the dead-letter topic by errors.tolerance=all.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { isPromise } from '../../../src/api/converter.ts'
import { Schemas } from '../../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import { DataError, RetriableError } from '../../../src/api/errors.ts'
import { findBuiltInConverter } from '../../../src/converters/index.ts'
import { JsonSchemaConverter } from '../../../src/converters/json-schema-converter.ts'
import type { LogRecord } from '../../../src/log/log.ts'
import { waitForLines } from '../../helpers/files.ts'
import { eventually, request } from '../../helpers/rest.ts'
import { apicurioSkipReason, apicurioUrl } from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'

const BET = SchemaBuilder.struct()
  .name('com.example.Bet')
  .field('id', Schemas.INT64)
  .field('runner', Schemas.STRING)
  .field('stake', Schemas.FLOAT64)
  .field('note', Schemas.OPTIONAL_STRING)
  .build()

function bet(id: number): Struct {
  return new Struct(BET)
    .put('id', id)
    .put('runner', `r${id}`)
    .put('stake', id + 0.5)
    .put('note', null)
}

function converter(url: string, configs: Record<string, string> = {}, isKey = false): JsonSchemaConverter {
  const c = new JsonSchemaConverter()
  c.configure({ 'schema.registry.url': url, ...configs }, isKey)
  return c
}

async function roundTripAgainst(url: string) {
  const topic = `js-${randomUUID().slice(0, 8)}`
  const c = converter(url)
  const bytes = Buffer.from((await c.fromConnectData(topic, BET, bet(1)))!)
  // Confluent's framing: magic 0, 4-byte big-endian id, then the UTF-8 JSON.
  assert.equal(bytes[0], 0)
  const id = bytes.readInt32BE(1)
  assert.equal(bytes.subarray(5).toString('utf8'), '{"id":1,"runner":"r1","stake":1.5,"note":null}')
  // The registry holds the schema as a JSON schema under <topic>-value.
  const registered = (await (await fetch(`${url}/schemas/ids/${id}`)).json()) as {
    schema: string
    schemaType: string
  }
  assert.equal(registered.schemaType, 'JSON')
  assert.deepEqual(JSON.parse(registered.schema), c.jsonSchemaOf(BET))
  const versions = (await (await fetch(`${url}/subjects/${topic}-value/versions`)).json()) as number[]
  assert.deepEqual(versions, [1])
  // An independent Confluent client decodes it.
  // (Its Ajv is told to allow Confluent's connect.* keywords, as Confluent's own validator does.)
  const oracle = new SchemaRegistry({ host: url }, { [SchemaType.JSON]: { strict: false } })
  assert.deepEqual(await oracle.decode(bytes), {
    id: 1,
    runner: 'r1',
    stake: 1.5,
    note: null,
  })
  // And it reads back, with the registry version as the schema version; the second record is synchronous.
  const read = await converter(url).toConnectData(topic, bytes)
  assert.equal(read.schema!.version, 1)
  assert.equal(read.schema!.name, 'com.example.Bet')
  assert.equal((read.value as Struct).get('runner'), 'r1')
  const second = c.fromConnectData(topic, BET, bet(2))
  assert.ok(!isPromise(second))
  c.close()
}

describe('JsonSchemaConverter against Apicurio Registry', { skip: apicurioSkipReason() }, () => {
  test('writes Confluent’s wire format, registers a JSON schema, reads it back with the registry version', async () => {
    await roundTripAgainst(apicurioUrl())
  })

  test('is listed as a converter and a header converter under Confluent’s class name and alias', () => {
    for (const kind of ['converter', 'header_converter'] as const) {
      assert.equal(
        findBuiltInConverter('io.confluent.connect.json.JsonSchemaConverter', kind)?.aliases?.[0],
        'JsonSchemaConverter',
      )
    }
  })

  test('auto.register.schemas=false with use.latest.version writes with the latest id; strict refuses payloads it does not allow', async () => {
    const topic = `js-latest-${randomUUID().slice(0, 8)}`
    const url = apicurioUrl()
    const latest = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id', 'runner'] }
    const res = await fetch(`${url}/subjects/${topic}-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify(latest) }),
    })
    const { id } = (await res.json()) as { id: number }
    const settings = { 'auto.register.schemas': 'false', 'use.latest.version': 'true' }
    const bytes = Buffer.from((await converter(url, settings).fromConnectData(topic, BET, bet(3)))!)
    assert.equal(bytes.readInt32BE(1), id)
    const noRunner = SchemaBuilder.struct().name('Small').field('id', Schemas.INT64).build()
    await assert.rejects(
      async () =>
        converter(url, settings).fromConnectData(topic, noRunner, new Struct(noRunner).put('id', 1)),
      (e: Error) => e instanceof DataError && /runner/.test(e.message),
    )
    const lax = await converter(url, { ...settings, 'latest.compatibility.strict': 'false' }).fromConnectData(
      topic,
      noRunner,
      new Struct(noRunner).put('id', 1),
    )
    assert.ok(lax)
  })

  test('as a key converter with RecordNameStrategy the subject is the schema’s title; bytes that are not framed are a DataError', async () => {
    const url = apicurioUrl()
    const topic = `js-key-${randomUUID().slice(0, 8)}`
    const key = SchemaBuilder.struct()
      .name(`com.example.Key${randomUUID().slice(0, 8)}`)
      .field('id', Schemas.INT64)
      .build()
    const c = converter(
      url,
      { 'key.subject.name.strategy': 'io.confluent.kafka.serializers.subject.RecordNameStrategy' },
      true,
    )
    const bytes = Buffer.from((await c.fromConnectData(topic, key, new Struct(key).put('id', 9)))!)
    const versions = (await (await fetch(`${url}/subjects/${key.name}/versions`)).json()) as number[]
    assert.deepEqual(versions, [1])
    assert.equal(((await c.toConnectData(topic, bytes)).value as Struct).get('id'), 9)
    await assert.rejects(
      async () => c.toConnectData(topic, Buffer.from('{"id":9}')),
      (e: Error) =>
        e instanceof DataError &&
        /Unknown magic byte!.*\(record key\)|\(record key\).*Unknown magic byte!/.test(e.message),
    )
  })

  test('RecordNameStrategy refuses a schema without a name, as Confluent’s does', async () => {
    const c = converter(apicurioUrl(), {
      'value.subject.name.strategy': 'io.confluent.kafka.serializers.subject.TopicRecordNameStrategy',
    })
    await assert.rejects(
      async () => c.fromConnectData('t', Schemas.STRING, 'x'),
      (e: Error) => e instanceof DataError && /value.subject.name.strategy .*no name/.test(e.message),
    )
  })

  test('a registry that cannot be reached is a retriable error naming the URL', async () => {
    const c = converter('http://127.0.0.1:9', { 'max.retries': '0' })
    await assert.rejects(
      async () => c.fromConnectData('t', BET, bet(1)),
      (e: Error) =>
        e instanceof RetriableError &&
        /127\.0\.0\.1:9/.test(e.message) &&
        /topic t \(record value\)/.test(e.message),
    )
  })

  test('json.fail.invalid.schema=true refuses a payload that does not match its schema when reading', async () => {
    const url = apicurioUrl()
    const topic = `js-invalid-${randomUUID().slice(0, 8)}`
    const good = Buffer.from((await converter(url).fromConnectData(topic, BET, bet(4)))!)
    const bad = Buffer.concat([good.subarray(0, 5), Buffer.from('{"id":"four","runner":"r4","stake":1}')])
    await assert.rejects(
      async () => converter(url, { 'json.fail.invalid.schema': 'true' }).toConnectData(topic, bad),
      (e: Error) =>
        e instanceof DataError && /does not match schema id .*\/id must be integer/.test(e.message),
    )
  })
})

async function readTopic(tw: TestWorker, topic: string, count: number): Promise<LogRecord[]> {
  const consumer = tw.worker.log.createConsumer({
    groupId: `reader-${randomUUID()}`,
    clientId: 'test-reader',
  })
  try {
    await eventually(
      async () => ((await tw.worker.log.describeTopics([topic])).has(topic) ? true : undefined),
      30_000,
      topic,
    )
    await consumer.assign([{ topic, partition: 0 }])
    const out: LogRecord[] = []
    const deadline = Date.now() + 30_000
    while (out.length < count && Date.now() < deadline) out.push(...(await consumer.poll(500)))
    return out
  } finally {
    await consumer.close()
  }
}

describe('JsonSchemaConverter with the worker’s registry and REST proxy', { timeout: 180_000 }, () => {
  let tw: TestWorker
  let registry: string
  let proxy: string
  before(async () => {
    tw = await startTestWorker({
      'log.level': 'error',
      'schema.registry.listeners': 'http://127.0.0.1:0',
      'rest.proxy.listeners': 'http://127.0.0.1:0',
    })
    registry = `http://127.0.0.1:${tw.worker.services.registryServer!.port}`
    proxy = `http://127.0.0.1:${tw.worker.services.proxyServer!.port}`
  })
  after(async () => tw?.close())

  test('the bytes and schema round trip through the in-worker registry too', async () => {
    await roundTripAgainst(registry)
  })

  test('a sink reads what the proxy’s v2 jsonschema path wrote; an invalid payload goes to the dead-letter topic', async () => {
    const suffix = randomUUID().slice(0, 8)
    const topic = `bets-${suffix}`
    const dlq = `bets-dlq-${suffix}`
    await tw.worker.log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
    // A producer's own JSON schema, as a seed team would register it.
    const schema = {
      type: 'object',
      title: 'Bet',
      properties: { id: { type: 'integer' }, runner: { type: 'string' }, stake: { type: 'number' } },
      required: ['id', 'runner'],
    }
    const res = await fetch(`${proxy}/topics/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.jsonschema.v2+json' },
      body: JSON.stringify({
        value_schema: JSON.stringify(schema),
        records: [
          { value: { id: 1, runner: 'Alpha', stake: 2.5 } },
          { value: { id: 2, runner: 'Beta', stake: 10 } },
        ],
      }),
    })
    const answer = (await res.json()) as { value_schema_id: number; offsets: { error_code: number | null }[] }
    assert.equal(res.status, 200, JSON.stringify(answer))
    // A record framed with the same id that does not fit it (written past the proxy, which validates).
    const producer = tw.worker.log.createProducer({ clientId: 'bad-writer' })
    const bad = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), Buffer.from('{"id":"three","runner":"Gamma"}')])
    bad.writeInt32BE(answer.value_schema_id, 1)
    await producer.send([{ topic, partition: 0, key: null, value: bad, headers: [] }])
    await producer.close()
    const out = join(tw.dir, `bets-${suffix}.txt`)
    const created = await request(tw.base, 'POST', '/connectors', {
      name: `bets-sink-${suffix}`,
      config: {
        'connector.class': 'FileStreamSink',
        file: out,
        topics: topic,
        'value.converter': 'io.confluent.connect.json.JsonSchemaConverter',
        'value.converter.schema.registry.url': registry,
        'value.converter.json.fail.invalid.schema': 'true',
        // The file sink prints strings as they are: the runner field shows what the converter read.
        transforms: 'runner',
        'transforms.runner.type': 'org.apache.kafka.connect.transforms.ExtractField$Value',
        'transforms.runner.field': 'runner',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
        'errors.deadletterqueue.topic.replication.factor': '1',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const lines = await waitForLines(out, 2, 60_000)
    assert.deepEqual(lines, ['Alpha', 'Beta'])
    const dead = await readTopic(tw, dlq, 1)
    assert.equal(dead.length, 1)
    const header = (r: LogRecord, key: string) =>
      Buffer.from(r.headers.find((h) => h.key === key)?.value ?? new Uint8Array()).toString()
    assert.equal(header(dead[0]!, '__connect.errors.stage'), 'VALUE_CONVERTER')
    assert.match(
      header(dead[0]!, '__connect.errors.exception.message'),
      /json.fail.invalid.schema=true.*\/id must be integer/,
    )
    assert.match(
      header(dead[0]!, '__connect.errors.exception.message'),
      new RegExp(`topic ${topic} \\(record value\\)`),
    )
  })
})
