/**
 * What the S3 sink says when the bucket, the credentials or the store are wrong: at create time
 * (validation, HTTP 400 naming the key) and at run time (a store that goes away: the task stays
 * RUNNING with the cause in its status, retries, and nothing is lost or written twice).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { S3Proxy } from '../../../scripts/s3proxy.ts'
import { eventually, request } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, s3SkipReason, s3Url } from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'
import { produce, s3Client, TestBucket, uniqueTopic } from './s3-fixtures.ts'

const skip = kafkaSkipReason() || s3SkipReason()

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

interface ConfigInfos {
  error_count: number
  configs: { value: { name: string; errors: string[] } }[]
}

interface Status {
  tasks: { state: string; trace?: string }[]
}

describe('[integration] S3 sink: bad bucket, credentials and store', { skip }, () => {
  let w: TestWorker
  let bucket: TestBucket
  const dir = mkdtempSync(join(tmpdir(), 'sluice-s3-bad-'))
  const proxies: S3Proxy[] = []

  before(async () => {
    w = await startTestWorker({ 'bootstrap.servers': kafkaBootstrap() })
    bucket = await TestBucket.create('bad')
  })
  after(async () => {
    await w?.close()
    await bucket?.drop()
    for (const p of proxies) await p.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const base = (overrides: Record<string, string>) => ({
    'connector.class': 'io.confluent.connect.s3.S3SinkConnector',
    name: 'bad-input',
    topics: 'bad-input',
    's3.bucket.name': bucket.name,
    'store.url': s3Url(),
    'aws.access.key.id': 'any',
    'aws.secret.access.key': 'any',
    'format.class': 'io.confluent.connect.s3.format.json.JsonFormat',
    'flush.size': '3',
    ...overrides,
  })

  async function validate(config: Record<string, string>): Promise<Map<string, string[]>> {
    const r = await request<ConfigInfos>(
      w.base,
      'PUT',
      '/connector-plugins/S3SinkConnector/config/validate',
      config,
    )
    assert.equal(r.status, 200, JSON.stringify(r.body))
    return new Map(
      r.body.configs.filter((c) => c.value.errors.length > 0).map((c) => [c.value.name, c.value.errors]),
    )
  }

  async function createFails(name: string, config: Record<string, string>, pattern: RegExp): Promise<void> {
    const r = await request<{ error_code: number; message: string }>(w.base, 'POST', '/connectors', {
      name,
      config: { ...config, name },
    })
    assert.equal(r.status, 400, JSON.stringify(r.body))
    assert.match(r.body.message, pattern)
  }

  test('a bucket that does not exist is reported on s3.bucket.name, and creating the connector fails with 400', async () => {
    const config = base({ 's3.bucket.name': 'no-such-bucket-here' })
    const errors = await validate(config)
    assert.deepEqual([...errors.keys()], ['s3.bucket.name'])
    assert.match(errors.get('s3.bucket.name')![0]!, /bucket 'no-such-bucket-here' does not exist .*create it/)
    await createFails('bad-bucket', config, /no-such-bucket-here' does not exist/)
  })

  test('a store that cannot be reached is reported on store.url', async () => {
    const port = await freePort()
    const errors = await validate(base({ 'store.url': `http://127.0.0.1:${port}` }))
    assert.deepEqual([...errors.keys()], ['store.url'])
    assert.match(
      errors.get('store.url')![0]!,
      new RegExp(`cannot reach the S3 store at http://127.0.0.1:${port}.*ECONNREFUSED`),
    )
  })

  test('credentials a signing store refuses are reported on aws.access.key.id; the right ones pass', async () => {
    const port = await freePort()
    const proxy = new S3Proxy({
      port,
      stateDir: join(dir, 'signed'),
      authorization: 'aws-v2-or-v4',
      identity: 'sluice-access',
      credential: 'sluice-secret',
    })
    proxies.push(proxy)
    await proxy.start()
    const name = 'signed-bucket'
    await s3Client(proxy.url, { accessKeyId: 'sluice-access', secretAccessKey: 'sluice-secret' }).send(
      new (await import('@aws-sdk/client-s3')).CreateBucketCommand({ Bucket: name }),
    )
    const wrong = await validate(
      base({
        'store.url': proxy.url,
        's3.bucket.name': name,
        'aws.access.key.id': 'sluice-access',
        'aws.secret.access.key': 'wrong',
      }),
    )
    assert.deepEqual([...wrong.keys()], ['aws.access.key.id'])
    assert.match(
      wrong.get('aws.access.key.id')![0]!,
      /refused the credentials \(SignatureDoesNotMatch|refused the credentials/,
    )
    const right = await validate(
      base({
        'store.url': proxy.url,
        's3.bucket.name': name,
        'aws.access.key.id': 'sluice-access',
        'aws.secret.access.key': 'sluice-secret',
      }),
    )
    assert.deepEqual([...right.keys()], [])
  })

  test('keys that do not fit together name the key to fix', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [
        { 'partitioner.class': 'FieldPartitioner' },
        'partition.field.name',
        /FieldPartitioner needs partition.field.name/,
      ],
      [{ 'partitioner.class': 'DailyPartitioner', locale: 'en_US' }, 'timezone', /needs timezone/],
      [
        { 'partitioner.class': 'HourlyPartitioner', timezone: 'Mars/Olympus' },
        'timezone',
        /Unknown time zone 'Mars\/Olympus'/,
      ],
      [
        { 'format.class': 'AvroFormat', 'avro.codec': 'snappy' },
        'avro.codec',
        /must be one of: null, deflate/,
      ],
      [{ 'format.class': 'com.example.CsvFormat' }, 'format.class', /Unknown format/],
      [
        { 'store.kafka.headers': 'true', 'headers.format.class': 'AvroFormat' },
        'headers.format.class',
        /headers are written as JSON only/,
      ],
      [{ 'aws.secret.access.key': '' }, 'aws.secret.access.key', /go together/],
      [{ 'behavior.on.null.values': 'write' }, 'behavior.on.null.values', /store.kafka.keys=true/],
      [{ 's3.part.size': '1000' }, 's3.part.size', /at least 5242880/],
      [
        {
          'partitioner.class': 'TimeBasedPartitioner',
          'partition.duration.ms': '1000',
          'path.format': "'x'=Q",
          locale: 'en',
          timezone: 'UTC',
        },
        'path.format',
        /Illegal pattern component 'Q'/,
      ],
    ]
    for (const [overrides, key, pattern] of cases) {
      const errors = await validate(base(overrides))
      assert.deepEqual([...errors.keys()], [key], JSON.stringify(overrides))
      assert.match(errors.get(key)![0]!, pattern)
    }
  })

  test('a store that goes away: the task stays RUNNING with the cause in its status, then catches up exactly once', async () => {
    const port = await freePort()
    const proxy = new S3Proxy({ port, stateDir: join(dir, 'flaky'), keepData: true })
    proxies.push(proxy)
    await proxy.start()
    const client = s3Client(proxy.url)
    const flaky = new TestBucket('flaky', client)
    await client.send(new (await import('@aws-sdk/client-s3')).CreateBucketCommand({ Bucket: 'flaky' }))
    const topic = uniqueTopic('flaky')
    await produce(
      topic,
      Array.from({ length: 6 }, (_, n) => ({ value: JSON.stringify({ n }) })),
      1,
    )
    const name = `flaky-${topic}`
    const created = await request(w.base, 'POST', '/connectors', {
      name,
      config: base({
        name,
        topics: topic,
        's3.bucket.name': 'flaky',
        'store.url': proxy.url,
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'retry.backoff.ms': '500',
        's3.part.retries': '1',
        's3.retry.backoff.ms': '50',
      }),
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await flaky.waitForDataKeys('', 2)

    await proxy.stop()
    await produce(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ value: JSON.stringify({ n: 6 + i }) })),
    )
    const status = await eventually(
      async () => {
        const r = await request<Status>(w.base, 'GET', `/connectors/${name}/status`)
        return r.body.tasks[0]?.trace ? r.body : undefined
      },
      30_000,
      'the cause in the task status',
    )
    assert.equal(status.tasks[0]!.state, 'RUNNING')
    assert.match(status.tasks[0]!.trace!, new RegExp(`cannot reach the S3 store at http://127.0.0.1:${port}`))

    await proxy.start()
    // All four objects once the store is back.
    const keys = await flaky.waitForDataKeys('', 4, 60_000)
    const all: number[] = []
    for (const key of keys) for (const doc of await flaky.jsonLines(key)) all.push((doc as { n: number }).n)
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    await eventually(
      async () => {
        const r = await request<Status>(w.base, 'GET', `/connectors/${name}/status`)
        return r.body.tasks[0]?.state === 'RUNNING' && !r.body.tasks[0].trace ? true : undefined
      },
      30_000,
      'the status to clear',
    )
  })
})
