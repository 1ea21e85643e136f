/**
 * The REST proxy's produce API on a standalone worker, on the embedded log and on Kafka: v2 with
 * every embedded format (records read back from the topic, schema formats in Confluent's wire
 * format), v3 single, streamed and batch records, and the 4xx answers for bad input.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { after, before, describe, test } from 'node:test'
import avro from 'avsc'
import type { Log, LogRecord } from '../../../src/log/log.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Answer = any

async function readBack(log: Log, topic: string, count: number, timeoutMs = 20_000): Promise<LogRecord[]> {
  const consumer = log.createConsumer({ groupId: `read-${randomUUID()}`, clientId: 'test-reader' })
  try {
    const partitions = (await log.describeTopics([topic])).get(topic)!.partitions
    await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })))
    const out: LogRecord[] = []
    const deadline = Date.now() + timeoutMs
    while (out.length < count && Date.now() < deadline) out.push(...(await consumer.poll(500)))
    return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  } finally {
    await consumer.close()
  }
}

const BET = JSON.stringify({
  type: 'record',
  name: 'Bet',
  namespace: 'tote',
  fields: [
    { name: 'bet_id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'runner', type: ['null', 'int'], default: null },
  ],
})

for (const backend of ['embedded', 'kafka'] as const) {
  const skip = backend === 'kafka' ? kafkaSkipReason() : false
  describe(`REST proxy on the ${backend} log`, { skip }, () => {
    let tw: TestWorker
    let proxy: string
    let registry: string
    const run = randomUUID().slice(0, 8)
    const topic = (name: string) => `proxy-${name}-${run}`

    async function post(
      path: string,
      contentType: string,
      body: unknown,
    ): Promise<{ status: number; body: Answer; type: string }> {
      const response = await fetch(`${proxy}${path}`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {}
      return { status: response.status, body: parsed, type: response.headers.get('content-type') ?? '' }
    }

    before(async () => {
      tw = await startTestWorker({
        'rest.proxy.listeners': 'http://127.0.0.1:0',
        'schema.registry.listeners': 'http://127.0.0.1:0',
        'schema.registry.topic': `_schemas-proxy-${run}`,
        ...(backend === 'kafka' ? { 'bootstrap.servers': kafkaBootstrap() } : {}),
      })
      proxy = `http://127.0.0.1:${tw.worker.services.proxyServer!.port}`
      registry = `http://127.0.0.1:${tw.worker.services.registryServer!.port}`
    })
    after(async () => {
      if (tw && backend === 'kafka') {
        const mine = (await tw.worker.log.listTopics()).filter((name) => name.endsWith(run))
        await tw.worker.log.deleteTopics(mine).catch(() => {})
      }
      await tw?.close()
    })

    test('v2 json and binary records land in the topic in order', async () => {
      await tw.worker.log.createTopics([{ name: topic('json'), partitions: 2 }])
      const json = await post(`/topics/${topic('json')}`, 'application/vnd.kafka.json.v2+json', {
        records: [{ key: { k: 1 }, value: { a: 'x' } }, { value: [1, 2], partition: 1 }, { value: null }],
      })
      assert.equal(json.status, 200)
      assert.equal(json.type, 'application/vnd.kafka.v2+json')
      assert.equal(json.body.key_schema_id, null)
      assert.equal(json.body.value_schema_id, null)
      assert.equal(json.body.offsets.length, 3)
      assert.equal(json.body.offsets[1].partition, 1)
      assert.equal(typeof json.body.offsets[1].offset, 'number')
      assert.deepEqual([json.body.offsets[1].error_code, json.body.offsets[1].error], [null, null])
      const records = await readBack(tw.worker.log, topic('json'), 3)
      const values = records.map((r) => (r.value === null ? null : Buffer.from(r.value).toString()))
      assert.ok(values.includes('{"a":"x"}'))
      assert.ok(values.includes('[1,2]'))
      assert.ok(values.includes(null))
      const binary = await post(
        `/topics/${topic('bin')}/partitions/0`,
        'application/vnd.kafka.binary.v2+json',
        {
          records: [
            { key: Buffer.from('k1').toString('base64'), value: Buffer.from([0, 1, 255]).toString('base64') },
          ],
        },
      )
      assert.equal(binary.status, 200, JSON.stringify(binary.body))
      const [bin] = await readBack(tw.worker.log, topic('bin'), 1)
      assert.deepEqual(Buffer.from(bin!.value!), Buffer.from([0, 1, 255]))
      assert.equal(Buffer.from(bin!.key!).toString(), 'k1')
    })

    test('v2 avro by schema text then by id: Confluent wire format, schema registered under <topic>-value', async () => {
      const t = topic('avro')
      const first = await post(`/topics/${t}`, 'application/vnd.kafka.avro.v2+json', {
        value_schema: BET,
        records: [{ value: { bet_id: 'b1', amount: 2.5, runner: { int: 3 } } }],
      })
      assert.equal(first.status, 200, JSON.stringify(first.body))
      const id = first.body.value_schema_id as number
      assert.equal(typeof id, 'number')
      const registered = (await (
        await fetch(`${registry}/subjects/${t}-value/versions/latest`)
      ).json()) as Answer
      assert.equal(registered.id, id)
      const second = await post(`/topics/${t}`, 'application/vnd.kafka.avro.v2+json', {
        value_schema_id: id,
        records: [
          { value: { bet_id: 'b2', amount: 4, runner: null } },
          { value: { bet_id: 'b3', amount: 1, runner: 7 } },
        ],
      })
      assert.equal(second.status, 200, JSON.stringify(second.body))
      assert.equal(second.body.value_schema_id, id)
      const records = await readBack(tw.worker.log, t, 3)
      const type = avro.Type.forSchema(JSON.parse(BET))
      const decoded = records.map((r) => {
        const bytes = Buffer.from(r.value!)
        assert.equal(bytes[0], 0)
        assert.equal(bytes.readInt32BE(1), id)
        return type.fromBuffer(bytes.subarray(5))
      })
      assert.deepEqual(
        decoded.map((d: Answer) => [d.bet_id, d.amount, d.runner]),
        [
          ['b1', 2.5, 3],
          ['b2', 4, null],
          ['b3', 1, 7],
        ],
      )
    })

    test('v2 jsonschema validates and writes the wire format', async () => {
      const t = topic('js')
      const schema = JSON.stringify({
        type: 'object',
        properties: { n: { type: 'integer' } },
        required: ['n'],
      })
      const ok = await post(`/topics/${t}`, 'application/vnd.kafka.jsonschema.v2+json', {
        value_schema: schema,
        records: [{ value: { n: 1 } }],
      })
      assert.equal(ok.status, 200, JSON.stringify(ok.body))
      const [record] = await readBack(tw.worker.log, t, 1)
      const bytes = Buffer.from(record!.value!)
      assert.equal(bytes.readInt32BE(1), ok.body.value_schema_id)
      assert.deepEqual(JSON.parse(bytes.subarray(5).toString()), { n: 1 })
      const bad = await post(`/topics/${t}`, 'application/vnd.kafka.jsonschema.v2+json', {
        value_schema_id: ok.body.value_schema_id,
        records: [{ value: { n: 'one' } }],
      })
      assert.deepEqual([bad.status, bad.body.error_code], [422, 42203])
    })

    test('v2 bad input is a 4xx with kafka-rest error codes', async () => {
      const t = topic('bad')
      const cases: [string, string, unknown, number, number][] = [
        [
          `/topics/${t}`,
          'application/vnd.kafka.avro.v2+json',
          { records: [{ value: { a: 1 } }] },
          422,
          42202,
        ],
        [
          `/topics/${t}`,
          'application/vnd.kafka.avro.v2+json',
          { value_schema: BET, records: [{ key: 'k', value: { bet_id: 'x', amount: 1 } }] },
          422,
          42201,
        ],
        [
          `/topics/${t}`,
          'application/vnd.kafka.avro.v2+json',
          { value_schema: BET, records: [{ value: { bet_id: 1 } }] },
          422,
          42203,
        ],
        [
          `/topics/${t}`,
          'application/vnd.kafka.avro.v2+json',
          { value_schema: '{"type":"nope"}', records: [{ value: 1 }] },
          422,
          42205,
        ],
        [
          `/topics/${t}`,
          'application/vnd.kafka.avro.v2+json',
          { value_schema_id: 987654, records: [{ value: 1 }] },
          404,
          40403,
        ],
        [`/topics/${t}`, 'application/vnd.kafka.json.v2+json', { records: [] }, 422, 42206],
        [
          `/topics/${t}`,
          'application/vnd.kafka.json.v2+json',
          { records: [{ value: 1, partition: 9 }] },
          404,
          40402,
        ],
        [`/topics/${t}`, 'application/vnd.kafka.binary.v2+json', { records: [{ value: '***' }] }, 422, 42203],
        [`/topics/${t}`, 'application/vnd.kafka.protobuf.v2+json', { records: [{ value: 1 }] }, 422, 42205],
        [`/topics/${t}`, 'text/plain', { records: [{ value: 1 }] }, 415, 415],
        [`/topics/${t}`, 'application/vnd.kafka.json.v2+json', '{"records": [', 400, 400],
      ]
      for (const [path, type, body, status, code] of cases) {
        const answer = await post(path, type, body)
        assert.deepEqual(
          [answer.status, answer.body.error_code],
          [status, code],
          `${type} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`,
        )
      }
    })

    test('v3: clusters, a single record, a batch, and streamed records', async () => {
      const clusters = (await (await fetch(`${proxy}/v3/clusters`)).json()) as Answer
      const clusterId = clusters.data[0].cluster_id as string
      assert.equal(clusterId, await tw.worker.log.clusterId())
      const one = (await (await fetch(`${proxy}/v3/clusters/${clusterId}`)).json()) as Answer
      assert.equal(one.cluster_id, clusterId)
      assert.equal((await fetch(`${proxy}/v3/clusters/nope`)).status, 404)
      const t = topic('v3')
      const path = `/v3/clusters/${clusterId}/topics/${t}/records`
      const single = await post(path, 'application/json', {
        key: { type: 'STRING', data: 'k' },
        value: { type: 'JSON', data: { hello: 'world' } },
        headers: [{ name: 'h', value: Buffer.from('v').toString('base64') }],
      })
      assert.equal(single.status, 200, JSON.stringify(single.body))
      assert.equal(single.body.error_code, 200)
      assert.equal(single.body.topic_name, t)
      assert.deepEqual(single.body.key, { type: 'STRING', size: 1 })
      const avroOne = await post(path, 'application/json', {
        value: { schema: BET, data: { bet_id: 'v3', amount: 9, runner: null } },
      })
      assert.equal(avroOne.body.error_code, 200, JSON.stringify(avroOne.body))
      assert.equal(avroOne.body.value.type, 'AVRO')
      assert.equal(avroOne.body.value.subject, `${t}-value`)
      const byLatest = await post(path, 'application/json', {
        value: { data: { bet_id: 'v3b', amount: 1, runner: 2 } },
      })
      assert.equal(byLatest.body.value.schema_id, avroOne.body.value.schema_id, JSON.stringify(byLatest.body))
      const byRecordName = await post(path, 'application/json', {
        value: {
          subject_name_strategy: 'RECORD_NAME',
          schema: BET,
          data: { bet_id: 'r', amount: 1, runner: null },
        },
      })
      assert.equal(byRecordName.body.value.subject, 'tote.Bet', JSON.stringify(byRecordName.body))
      const byTopicRecord = await post(path, 'application/json', {
        value: {
          subject_name_strategy: 'TOPIC_RECORD_NAME',
          schema_id: byRecordName.body.value.schema_id,
          data: { bet_id: 'tr', amount: 1, runner: null },
        },
      })
      assert.equal(byTopicRecord.body.error_code, 200, JSON.stringify(byTopicRecord.body))
      assert.equal(byTopicRecord.body.value.subject, `${t}-tote.Bet`)
      const noSchema = await post(path, 'application/json', {
        value: { subject_name_strategy: 'RECORD_NAME', data: {} },
      })
      assert.deepEqual([noSchema.status, noSchema.body.error_code], [400, 400])
      const unknownStrategy = await post(path, 'application/json', {
        value: { subject_name_strategy: 'RANDOM', schema: BET, data: {} },
      })
      assert.deepEqual([unknownStrategy.status, unknownStrategy.body.error_code], [400, 400])
      const bad = await post(path, 'application/json', { value: { type: 'BINARY', data: '!!!' } })
      assert.deepEqual([bad.status, bad.body.error_code], [400, 400])
      const batch = await post(`${path}:batch`, 'application/json', {
        entries: [
          { id: 'a', value: { type: 'STRING', data: 'A' } },
          { id: 'b', value: { type: 'BINARY', data: 'not base64!' } },
        ],
      })
      assert.equal(batch.status, 207)
      assert.deepEqual(
        batch.body.successes.map((s: Answer) => s.id),
        ['a'],
      )
      assert.deepEqual(
        batch.body.failures.map((f: Answer) => [f.id, f.error_code]),
        [['b', 400]],
      )
      const dupes = await post(`${path}:batch`, 'application/json', { entries: [{ id: 'x' }, { id: 'x' }] })
      assert.deepEqual([dupes.status, dupes.body.error_code], [422, 42208])
      const empty = await post(`${path}:batch`, 'application/json', { entries: [] })
      assert.deepEqual([empty.status, empty.body.error_code], [422, 42208])

      // Topics: create, list, describe, delete.
      const topics = `/v3/clusters/${clusterId}/topics`
      const made = await post(topics, 'application/json', {
        topic_name: topic('made'),
        partitions_count: 3,
        configs: [{ name: 'cleanup.policy', value: 'delete' }],
      })
      assert.equal(made.status, 201, JSON.stringify(made.body))
      assert.deepEqual(
        [made.body.topic_name, made.body.partitions_count, made.body.kind],
        [topic('made'), 3, 'KafkaTopic'],
      )
      const again = await post(topics, 'application/json', { topic_name: topic('made') })
      assert.deepEqual([again.status, again.body.error_code], [400, 40002])
      const illegal = await post(topics, 'application/json', { topic_name: 'no spaces' })
      assert.deepEqual([illegal.status, illegal.body.error_code], [400, 40002])
      const list = (await (await fetch(`${proxy}${topics}`)).json()) as Answer
      assert.ok(list.data.some((x: Answer) => x.topic_name === topic('made')))
      assert.equal(
        ((await (await fetch(`${proxy}${topics}/${topic('made')}`)).json()) as Answer).partitions_count,
        3,
      )
      const missing = await fetch(`${proxy}${topics}/${topic('never')}`)
      assert.deepEqual([missing.status, ((await missing.json()) as Answer).error_code], [404, 40403])
      assert.equal((await fetch(`${proxy}${topics}/${topic('made')}`, { method: 'DELETE' })).status, 204)

      // Streaming: chunked concatenated records, one report per record in order.
      const reports = await new Promise<string>((resolve, reject) => {
        const url = new URL(`${proxy}${path}`)
        const req = httpRequest(
          url,
          { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
          (res) => {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (c) => {
              text += c
            })
            res.on('end', () => resolve(text))
          },
        )
        req.on('error', reject)
        for (let i = 0; i < 5; i++) req.write(JSON.stringify({ value: { type: 'STRING', data: `s${i}` } }))
        req.write('{"value": {"type": "BINARY", "data": "???"}}')
        req.end(JSON.stringify({ value: { type: 'STRING', data: 'last' } }))
      })
      const lines = reports
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Answer)
      assert.deepEqual(
        lines.map((l) => l.error_code),
        [200, 200, 200, 200, 200, 400, 200],
      )
      const offsets = lines.filter((l) => l.error_code === 200).map((l) => l.offset as number)
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
      )
      const records = await readBack(tw.worker.log, t, 10)
      const values = records.map((r) => (r.value ? Buffer.from(r.value).toString('latin1') : null))
      assert.ok(values.includes('s0') && values.includes('last') && values.includes('A'))
      const withHeader = records.find((r) => r.headers.length > 0)!
      assert.deepEqual(
        [withHeader.headers[0]!.key, Buffer.from(withHeader.headers[0]!.value!).toString()],
        ['h', 'v'],
      )
    })

    // On Kafka the offsets topic is the broker's, not reserved: the embedded log's refusal only.
    if (backend === 'embedded')
      void test('connect-offsets is refused as kafka-rest refuses an unauthorized request: 403, 40301, saying why', async () => {
        const clusterId = await tw.worker.log.clusterId()
        const topics = `/v3/clusters/${clusterId}/topics`
        const reserved = /worker's source offsets/
        const del = await fetch(`${proxy}${topics}/connect-offsets`, { method: 'DELETE' })
        const delBody = (await del.json()) as Answer
        assert.deepEqual([del.status, delBody.error_code], [403, 40301], JSON.stringify(delBody))
        assert.match(delBody.message, reserved)
        assert.match(delBody.message, /DELETE \/connectors\/<name>\/offsets/)
        assert.ok((await tw.worker.log.listTopics()).includes('connect-offsets'))

        const v3 = await post(`${topics}/connect-offsets/records`, 'application/json', {
          key: { type: 'STRING', data: '["c",{}]' },
          value: { type: 'JSON', data: { offset: 1 } },
        })
        assert.deepEqual([v3.status, v3.body.error_code], [403, 40301], JSON.stringify(v3.body))
        assert.match(v3.body.message, reserved)
        assert.match(v3.body.message, /another topic/)

        const batch = await post(`${topics}/connect-offsets/records:batch`, 'application/json', {
          entries: [{ id: 'a', key: { type: 'STRING', data: 'k' }, value: { type: 'STRING', data: 'v' } }],
        })
        assert.equal(batch.status, 207)
        assert.deepEqual(
          batch.body.failures.map((f: Answer) => [f.id, f.error_code]),
          [['a', 40301]],
        )

        // v2 answers 200 with each record's error code, as kafka-rest does.
        const v2 = await post('/topics/connect-offsets', 'application/vnd.kafka.json.v2+json', {
          records: [{ key: 'k', value: { offset: 1 } }],
        })
        assert.equal(v2.status, 200, JSON.stringify(v2.body))
        assert.equal(v2.body.offsets[0].error_code, 40301)
        assert.match(v2.body.offsets[0].error, reserved)

        const remade = await post(topics, 'application/json', { topic_name: 'connect-offsets' })
        assert.deepEqual([remade.status, remade.body.error_code], [400, 40002])
      })
  })
}

describe('REST proxy without a registry listener', () => {
  test('schema formats use the in-process registry; a missing topic is 40401 when auto-creation is off', async () => {
    const tw = await startTestWorker({
      'rest.proxy.listeners': 'http://127.0.0.1:0',
      'rest.proxy.auto.create.topics': 'false',
    })
    try {
      assert.equal(tw.worker.services.registryServer, undefined)
      const proxy = `http://127.0.0.1:${tw.worker.services.proxyServer!.port}`
      const post = async (topic: string) => {
        const res = await fetch(`${proxy}/topics/${topic}`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.kafka.avro.v2+json' },
          body: JSON.stringify({
            value_schema: BET,
            records: [{ value: { bet_id: 'x', amount: 1, runner: null } }],
          }),
        })
        return { status: res.status, body: (await res.json()) as Answer }
      }
      const missing = await post('not-there')
      assert.deepEqual([missing.status, missing.body.error_code], [404, 40401])
      await tw.worker.log.createTopics([{ name: 'there', partitions: 1 }])
      const ok = await post('there')
      assert.equal(ok.status, 200, JSON.stringify(ok.body))
      assert.equal(tw.worker.services.registry!.version('there-value', 'latest').id, ok.body.value_schema_id)
    } finally {
      await tw.close()
    }
  })
})
