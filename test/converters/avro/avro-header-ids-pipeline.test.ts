/**
 * Schema ids in record headers through a real worker (embedded log, the worker's own registry): a
 * source writes with HeaderSchemaIdSerializer, the topic holds bare Avro bodies and the GUID in
 * `__value_schema_id`, and a sink with the default DualSchemaIdDeserializer reads them back.
 */
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { LogRecord } from '../../../src/log/log.ts'
import { waitForLines } from '../../helpers/files.ts'
import { eventually, request } from '../../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'

describe('schema ids in headers through a worker', () => {
  let w: TestWorker
  let registry: string
  before(async () => {
    w = await startTestWorker({ 'log.level': 'error', 'schema.registry.listeners': 'http://127.0.0.1:0' })
    registry = `http://127.0.0.1:${w.worker.services.registryServer!.port}`
  })
  after(async () => w?.close())

  test('a source writes the GUID header and a bare body; a sink reads them', async () => {
    const suffix = randomUUID().slice(0, 8)
    const topic = `hdr-lines-${suffix}`
    const input = join(w.dir, 'hdr-in.txt')
    const out = join(w.dir, 'hdr-out.txt')
    writeFileSync(input, 'line 0\nline 1\nline 2\n')
    const avro = {
      'value.converter': 'io.confluent.connect.avro.AvroConverter',
      'value.converter.schema.registry.url': registry,
    }
    let res = await request(w.base, 'POST', '/connectors', {
      name: `hdr-src-${suffix}`,
      config: {
        'connector.class': 'FileStreamSource',
        file: input,
        topic,
        ...avro,
        'value.converter.value.schema.id.serializer':
          'io.confluent.kafka.serializers.schema.id.HeaderSchemaIdSerializer',
        'topic.creation.default.partitions': '1',
        'topic.creation.default.replication.factor': '1',
      },
    })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    const records = await eventually(
      async () => {
        if (!(await w.worker.log.describeTopics([topic])).has(topic)) return undefined
        const consumer = w.worker.log.createConsumer({ groupId: `r-${suffix}`, clientId: 'test-reader' })
        try {
          await consumer.assign([{ topic, partition: 0 }])
          const got: LogRecord[] = []
          const deadline = Date.now() + 5000
          while (got.length < 3 && Date.now() < deadline) got.push(...(await consumer.poll(300)))
          return got.length === 3 ? got : undefined
        } finally {
          await consumer.close()
        }
      },
      30_000,
      topic,
    )
    const guid = Buffer.concat([Buffer.from([1]), createHash('md5').update('"string"').digest()])
    for (const [i, r] of records.entries()) {
      const header = r.headers.find((h) => h.key === '__value_schema_id')
      assert.deepEqual(Buffer.from(header!.value!), guid)
      // Avro string: zigzag length, then the UTF-8 bytes — no magic byte, no id.
      assert.deepEqual(Buffer.from(r.value!), Buffer.concat([Buffer.from([12]), Buffer.from(`line ${i}`)]))
    }
    res = await request(w.base, 'POST', '/connectors', {
      name: `hdr-sink-${suffix}`,
      config: { 'connector.class': 'FileStreamSink', file: out, topics: topic, ...avro },
    })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.deepEqual(await waitForLines(out, 3, 30_000), ['line 0', 'line 1', 'line 2'])
  })
})
