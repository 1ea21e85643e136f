/**
 * The AvroConverter inside a real worker (embedded log): a source writes Avro through the registry,
 * a sink reads it back; records that are not Avro go to the dead-letter topic with the converter's
 * message; a registry that cannot be reached fails the task with the registry named in its status.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import type { StandaloneWorker } from '../../../src/cli/standalone.ts'
import type { LogRecord } from '../../../src/log/log.ts'
import { waitForLines } from '../../helpers/files.ts'
import { eventually, request } from '../../helpers/rest.ts'
import { apicurioSkipReason, apicurioUrl } from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'

async function readTopic(worker: StandaloneWorker, topic: string, count: number): Promise<LogRecord[]> {
  const consumer = worker.log.createConsumer({ groupId: `reader-${Math.random()}`, clientId: 'test-reader' })
  try {
    await eventually(
      async () => ((await worker.log.describeTopics([topic])).has(topic) ? true : undefined),
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

describe('AvroConverter in a worker', { skip: apicurioSkipReason() }, () => {
  let w: TestWorker
  before(async () => {
    w = await startTestWorker({ 'log.level': 'error' })
  })
  after(async () => w?.close())

  const create = async (name: string, config: Record<string, string>) => {
    const res = await request(w.base, 'POST', '/connectors', { name, config })
    assert.equal(res.status, 201, JSON.stringify(res.body))
  }

  test('source writes Avro, sink reads it; non-Avro records land in the dead-letter topic', async () => {
    const suffix = randomUUID().slice(0, 8)
    const topic = `avro-lines-${suffix}`
    const dlq = `avro-dlq-${suffix}`
    const avroIn = join(w.dir, 'avro-in.txt')
    const plainIn = join(w.dir, 'plain-in.txt')
    const out = join(w.dir, 'out.txt')
    writeFileSync(avroIn, `${Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n')}\n`)
    writeFileSync(plainIn, 'not avro 1\nnot avro 2\n')
    const topicCreation = {
      'topic.creation.default.partitions': '1',
      'topic.creation.default.replication.factor': '1',
    }
    await create(`avro-src-${suffix}`, {
      'connector.class': 'FileStreamSource',
      file: avroIn,
      topic,
      'value.converter': 'io.confluent.connect.avro.AvroConverter',
      'value.converter.schema.registry.url': apicurioUrl(),
      ...topicCreation,
    })
    const avro = await readTopic(w.worker, topic, 50)
    assert.equal(avro.length, 50)
    const oracle = new SchemaRegistry({ host: apicurioUrl() })
    assert.equal(await oracle.decode(Buffer.from(avro[0].value!)), 'line 0')
    await create(`plain-src-${suffix}`, {
      'connector.class': 'FileStreamSource',
      file: plainIn,
      topic,
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      ...topicCreation,
    })
    await create(`avro-sink-${suffix}`, {
      'connector.class': 'FileStreamSink',
      file: out,
      topics: topic,
      'value.converter': 'AvroConverter',
      'value.converter.schema.registry.url': apicurioUrl(),
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
    })
    const lines = await waitForLines(out, 50, 60_000)
    assert.deepEqual(
      lines,
      Array.from({ length: 50 }, (_, i) => `line ${i}`),
    )
    const dead = await readTopic(w.worker, dlq, 2)
    assert.deepEqual(
      dead.map((r) => Buffer.from(r.value!).toString()),
      ['not avro 1', 'not avro 2'],
    )
    const header = (r: LogRecord, key: string) =>
      Buffer.from(r.headers.find((h) => h.key === key)?.value ?? new Uint8Array()).toString()
    assert.equal(header(dead[0], '__connect.errors.stage'), 'VALUE_CONVERTER')
    assert.match(header(dead[0], '__connect.errors.exception.message'), /Unknown magic byte!.*0x6e \('n'\)/)
    assert.match(
      header(dead[0], '__connect.errors.exception.message'),
      new RegExp(`topic ${topic} \\(record value\\)`),
    )
  })

  test('a registry that cannot be reached fails the task, the status naming the registry', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const name = `down-src-${randomUUID().slice(0, 8)}`
    const input = join(w.dir, 'down-in.txt')
    writeFileSync(input, 'a\n')
    await create(name, {
      'connector.class': 'FileStreamSource',
      file: input,
      topic: `down-${name}`,
      'value.converter': 'io.confluent.connect.avro.AvroConverter',
      'value.converter.schema.registry.url': `http://127.0.0.1:${port}`,
      'value.converter.max.retries': '1',
      'value.converter.retries.wait.ms': '50',
      'errors.retry.timeout': '500',
      'topic.creation.default.partitions': '1',
      'topic.creation.default.replication.factor': '1',
    })
    const task = await eventually(
      async () => {
        const res = await request<{ tasks: { state: string; trace?: string }[] }>(
          w.base,
          'GET',
          `/connectors/${name}/status`,
        )
        return res.body.tasks?.[0]?.state === 'FAILED' ? res.body.tasks[0] : undefined
      },
      30_000,
      'task FAILED',
    )
    assert.match(
      task.trace ?? '',
      new RegExp(`schema registry is unreachable at http://127\\.0\\.0\\.1:${port}`),
    )
  })
})
