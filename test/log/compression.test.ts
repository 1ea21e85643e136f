/**
 * `compression.type` reaches the broker: a source connector with `producer.override.compression.type`
 * (and a worker with `producer.compression.type`) writes compressed record batches — the partition
 * holds a fraction of the bytes of the same records uncompressed — and they read back unchanged.
 * Bad values are refused naming the key. Also the worker's Kafka security keys: mapped, or refused.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { tpKey } from '../../src/api/topic-partition.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { workerKafkaOptions } from '../../src/log/kafka/worker-client-options.ts'
import { type KafkaWorker, startKafkaWorker } from '../connectors/jdbc/source/support.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

describe('worker Kafka client settings', () => {
  const config = (props: Record<string, string>): WorkerConfig =>
    new WorkerConfig({ 'bootstrap.servers': '127.0.0.1:1', ...props })

  it('maps producer.compression.type and refuses values Kafka does not know, naming the key', () => {
    assert.deepEqual(workerKafkaOptions(config({ 'producer.compression.type': 'ZSTD' })).producer, {
      compression: 'zstd',
    })
    assert.equal(workerKafkaOptions(config({})).producer, undefined)
    // Distributed workers build their Kafka log from these options: the sink consumer keys are checked here too.
    assert.throws(
      () => workerKafkaOptions(config({ 'consumer.auto.offset.reset': 'none' })),
      (e: Error & { key?: string }) => e.key === 'consumer.auto.offset.reset',
    )
    assert.throws(
      () => workerKafkaOptions(config({ 'producer.compression.type': 'brotli' })),
      (e: Error & { key?: string }) =>
        e.key === 'producer.compression.type' &&
        /must be one of: none, gzip, snappy, lz4, zstd/.test(e.message),
    )
  })

  it('maps the worker security keys and refuses a producer/consumer/admin security key that differs', () => {
    const sasl = workerKafkaOptions(
      config({
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.jaas.config':
          'org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="s3cret";',
        'producer.security.protocol': 'SASL_PLAINTEXT',
      }),
    )
    assert.deepEqual(sasl.sasl, { mechanism: 'SCRAM-SHA-512', username: 'connect', password: 's3cret' })
    assert.throws(
      () => workerKafkaOptions(config({ 'consumer.security.protocol': 'SSL' })),
      (e: Error & { key?: string }) => e.key === 'consumer.security.protocol',
    )
    assert.throws(
      () => workerKafkaOptions(config({ 'security.protocol': 'SASL_SSL' })),
      (e: Error & { key?: string }) => e.key === 'sasl.jaas.config',
    )
  })
})

describe('[integration] compression.type on a worker on Kafka', { skip: kafkaSkipReason() }, () => {
  let worker: KafkaWorker
  const dir = mkdtempSync(join(tmpdir(), 'sluice-compression-'))
  const suffix = randomBytes(4).toString('hex')
  const input = join(dir, 'in.txt')
  const lines = Array.from(
    { length: 3000 },
    (_, i) =>
      `{"order": ${i}, "status": "shipped", "customer": "customer-${i % 50}", "note": "same text again"}`,
  )
  const admin = new Admin({ clientId: `compression-test-${suffix}`, bootstrapBrokers: [kafkaBootstrap()] })

  before(async () => {
    writeFileSync(input, `${lines.join('\n')}\n`)
    worker = await startKafkaWorker()
  })
  after(async () => {
    await worker?.close()
    await admin.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const source = (name: string, topic: string, extra: Record<string, string>) =>
    request(worker.base, 'POST', '/connectors', {
      name,
      config: {
        'connector.class': 'FileStreamSource',
        file: input,
        topic,
        'topic.creation.default.partitions': '1',
        'topic.creation.default.replication.factor': '1',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        ...extra,
      },
    })

  async function partitionBytes(topic: string): Promise<number> {
    const dirs = await admin.describeLogDirs({ topics: [{ name: topic, partitions: [0] }] })
    let size = 0
    for (const broker of dirs)
      for (const d of broker.results ?? [])
        for (const t of d.topics ?? [])
          if (t.name === topic) for (const p of t.partitions) size += Number(p.partitionSize)
    return size
  }

  it('writes compressed batches with producer.override.compression.type, and they read back', async () => {
    const plain = `plain-${suffix}`
    const packed = `lz4-${suffix}`
    assert.equal((await source(`plain-${suffix}`, plain, {})).status, 201)
    assert.equal(
      (await source(`lz4-${suffix}`, packed, { 'producer.override.compression.type': 'lz4' })).status,
      201,
    )
    const log = worker.worker.log
    for (const topic of [plain, packed]) {
      await eventually(
        async () =>
          (await log.endOffsets([{ topic, partition: 0 }])).get(tpKey({ topic, partition: 0 })) === 3000
            ? true
            : undefined,
        60_000,
        `3000 lines in ${topic}`,
      )
    }
    const [plainBytes, packedBytes] = [await partitionBytes(plain), await partitionBytes(packed)]
    assert.ok(plainBytes > 0, 'the broker reports partition sizes')
    assert.ok(packedBytes < plainBytes / 2, `lz4 ${packedBytes} bytes against ${plainBytes} uncompressed`)
    const consumer = log.createConsumer({
      clientId: `compression-read-${suffix}`,
      groupId: `compression-${suffix}`,
    })
    await consumer.subscribe([packed])
    const read: string[] = []
    const deadline = Date.now() + 30_000
    while (read.length < 3000 && Date.now() < deadline)
      for (const r of await consumer.poll(500)) read.push(Buffer.from(r.value!).toString('utf8'))
    await consumer.close()
    assert.deepEqual(read, lines)
  })

  it('refuses an unknown producer.override.compression.type with 400 naming the key', async () => {
    const res = await source(`bad-${suffix}`, `bad-${suffix}`, {
      'producer.override.compression.type': 'brotli',
    })
    assert.equal(res.status, 400)
    assert.match(JSON.stringify(res.body), /producer\.override\.compression\.type/)
  })
})
