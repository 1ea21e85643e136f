/**
 * The S3 sink's partitioners, rotations and null handling through a real worker on the real
 * broker, checked against the object names and contents Confluent's sink produces.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createLog } from '../../../src/log/create-log.ts'
import { eventually, request } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, s3SkipReason, s3Url } from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'
import { envelope, produce, TestBucket, uniqueTopic } from './s3-fixtures.ts'

const skip = kafkaSkipReason() || s3SkipReason()

const EVENT = {
  type: 'struct',
  name: 'Event',
  optional: false,
  fields: [
    { field: 'id', type: 'int32', optional: false },
    { field: 'region', type: 'string', optional: true },
    { field: 'kind', type: 'string', optional: false },
  ],
}

interface Status {
  connector: { state: string }
  tasks: { state: string; trace?: string }[]
}

describe('[integration] S3 sink partitioners, rotation and null values', { skip }, () => {
  let w: TestWorker
  let bucket: TestBucket

  before(async () => {
    w = await startTestWorker({ 'bootstrap.servers': kafkaBootstrap() })
    bucket = await TestBucket.create('behaviour')
  })
  after(async () => {
    await w?.close()
    await bucket?.drop()
  })

  async function run(name: string, config: Record<string, string>): Promise<void> {
    const created = await request(w.base, 'POST', '/connectors', {
      name,
      config: {
        'connector.class': 'S3SinkConnector',
        's3.bucket.name': bucket.name,
        'store.url': s3Url(),
        'aws.access.key.id': 'any',
        'aws.secret.access.key': 'any',
        'format.class': 'io.confluent.connect.s3.format.json.JsonFormat',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        ...config,
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
  }

  async function objects(prefix: string, count: number): Promise<string[]> {
    return await eventually(
      async () => {
        const keys = await bucket.dataKeys(prefix)
        return keys.length >= count ? keys : undefined
      },
      30_000,
      `${count} objects under ${prefix}`,
    )
  }

  test('FieldPartitioner: field=value directories, files of one Kafka partition rotated together', async () => {
    const topic = uniqueTopic('field')
    const regions = ['eu', 'us', 'eu', null, 'us', 'eu']
    await produce(
      topic,
      regions.map((region, id) => ({ value: envelope(EVENT, { id, region, kind: id % 2 ? 'b' : 'a' }) })),
      1,
    )
    await run(`field-${topic}`, {
      topics: topic,
      'partitioner.class': 'io.confluent.connect.storage.partitioner.FieldPartitioner',
      'partition.field.name': 'region,kind',
      'flush.size': '6',
    })
    const keys = await objects(`topics/${topic}/`, 5)
    assert.deepEqual(keys, [
      `topics/${topic}/region=eu/kind=a/${topic}+0+0000000000.json`,
      `topics/${topic}/region=eu/kind=b/${topic}+0+0000000005.json`,
      `topics/${topic}/region=null/kind=b/${topic}+0+0000000003.json`,
      `topics/${topic}/region=us/kind=a/${topic}+0+0000000004.json`,
      `topics/${topic}/region=us/kind=b/${topic}+0+0000000001.json`,
    ])
    assert.deepEqual(
      (await bucket.jsonLines(keys[0]!)).map((d) => (d as { id: number }).id),
      [0, 2],
    )
  })

  test('HourlyPartitioner and TimeBasedPartitioner with the Record extractor: Joda paths in the time zone', async () => {
    const topic = uniqueTopic('time')
    // 2023-11-14T22:13:20Z and 2023-11-14T23:30:00Z: in Paris (UTC+1) the second one is already the 15th.
    const t1 = Date.UTC(2023, 10, 14, 22, 13, 20)
    const t2 = Date.UTC(2023, 10, 14, 23, 30, 0)
    await produce(
      topic,
      [t1, t2].map((timestamp, id) => ({
        value: envelope(EVENT, { id, region: 'eu', kind: 'a' }),
        timestamp,
      })),
      1,
    )
    await run(`hourly-${topic}`, {
      topics: topic,
      'partitioner.class': 'io.confluent.connect.storage.partitioner.HourlyPartitioner',
      'timestamp.extractor': 'Record',
      locale: 'en_US',
      timezone: 'UTC',
      'flush.size': '2',
    })
    await run(`daily-${topic}`, {
      topics: topic,
      'topics.dir': 'daily',
      'partitioner.class': 'io.confluent.connect.storage.partitioner.TimeBasedPartitioner',
      'partition.duration.ms': '86400000',
      'path.format': "'dt'=YYYY-MM-dd/'h'=HH",
      'timestamp.extractor': 'Record',
      locale: 'fr_FR',
      timezone: 'Europe/Paris',
      'flush.size': '2',
    })
    assert.deepEqual(await objects(`topics/${topic}/`, 2), [
      `topics/${topic}/year=2023/month=11/day=14/hour=22/${topic}+0+0000000000.json`,
      `topics/${topic}/year=2023/month=11/day=14/hour=23/${topic}+0+0000000001.json`,
    ])
    assert.deepEqual(await objects(`daily/${topic}/`, 2), [
      `daily/${topic}/dt=2023-11-14/h=00/${topic}+0+0000000000.json`,
      `daily/${topic}/dt=2023-11-15/h=00/${topic}+0+0000000001.json`,
    ])
  })

  test('rotate.interval.ms rotates on record time with a time-based partitioner', async () => {
    const topic = uniqueTopic('interval')
    const t0 = Date.UTC(2024, 0, 1, 10, 0, 0)
    const times = [t0, t0 + 1000, t0 + 5000, t0 + 5500, t0 + 9000]
    await produce(
      topic,
      times.map((timestamp, id) => ({ value: envelope(EVENT, { id, region: 'eu', kind: 'a' }), timestamp })),
      1,
    )
    await run(`interval-${topic}`, {
      topics: topic,
      'partitioner.class': 'TimeBasedPartitioner',
      'partition.duration.ms': '3600000',
      'path.format': "'hour'=HH",
      'timestamp.extractor': 'Record',
      locale: 'en_US',
      timezone: 'UTC',
      'rotate.interval.ms': '3000',
      'flush.size': '100',
    })
    const keys = await objects(`topics/${topic}/`, 2)
    assert.deepEqual(keys, [
      `topics/${topic}/hour=10/${topic}+0+0000000000.json`,
      `topics/${topic}/hour=10/${topic}+0+0000000002.json`,
    ])
    assert.deepEqual(
      (await bucket.jsonLines(keys[1]!)).map((d) => (d as { id: number }).id),
      [2, 3],
    )
  })

  test('rotate.schedule.interval.ms commits a partial file on the wall clock, without further records', async () => {
    const topic = uniqueTopic('schedule')
    await produce(
      topic,
      [0, 1, 2].map((id) => ({ value: envelope(EVENT, { id, region: 'eu', kind: 'a' }) })),
      1,
    )
    await run(`schedule-${topic}`, {
      topics: topic,
      'rotate.schedule.interval.ms': '1000',
      timezone: 'UTC',
      'flush.size': '1000',
    })
    const keys = await objects(`topics/${topic}/`, 1)
    assert.deepEqual(keys, [`topics/${topic}/partition=0/${topic}+0+0000000000.json`])
    assert.equal((await bucket.jsonLines(keys[0]!)).length, 3)
  })

  test('schema.compatibility: NONE rotates at each schema change, BACKWARD only for a newer version', async () => {
    const v1 = { ...EVENT, version: 1 }
    const v2 = {
      ...EVENT,
      version: 2,
      fields: [...EVENT.fields, { field: 'extra', type: 'string', optional: true }],
    }
    const seq = [v1, v1, v2, v1, v2, v2]
    const topic = uniqueTopic('compat')
    await produce(
      topic,
      seq.map((schema, id) => ({ value: envelope(schema, { id, region: 'eu', kind: 'a' }) })),
      1,
    )
    // flush.size counts the records since the last rotation, whatever rotated it (as in Confluent's).
    await run(`none-${topic}`, { topics: topic, 'flush.size': '4', 'topics.dir': 'none' })
    await run(`backward-${topic}`, {
      topics: topic,
      'flush.size': '4',
      'topics.dir': 'backward',
      'schema.compatibility': 'BACKWARD',
    })
    const none = await objects(`none/${topic}/`, 3)
    assert.deepEqual(
      none.map((k) => k.slice(-15)),
      ['0000000000.json', '0000000002.json', '0000000003.json'],
    )
    // BACKWARD: v2 at offset 2 starts new files; the v1 record after it is kept in the v2 file.
    const backward = await objects(`backward/${topic}/`, 2)
    assert.deepEqual(
      backward.map((k) => k.slice(-15)),
      ['0000000000.json', '0000000002.json'],
    )
    assert.deepEqual(
      (await bucket.jsonLines(backward[1]!)).map((d) => (d as { id: number }).id),
      [2, 3, 4, 5],
    )
  })

  test('behavior.on.null.values: ignore skips tombstones, write puts their keys under the tombstone partition', async () => {
    const topic = uniqueTopic('nulls')
    await produce(
      topic,
      [
        { key: 'a', value: JSON.stringify({ n: 0 }) },
        { key: 'b', value: null },
        { key: 'c', value: JSON.stringify({ n: 2 }) },
      ],
      1,
    )
    const common = {
      topics: topic,
      'flush.size': '2',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter.schemas.enable': 'false',
    }
    await run(`ignore-${topic}`, { ...common, 'topics.dir': 'ignore', 'behavior.on.null.values': 'ignore' })
    const ignored = await objects(`ignore/${topic}/`, 1)
    assert.deepEqual(ignored, [`ignore/${topic}/partition=0/${topic}+0+0000000000.json`])
    assert.deepEqual(await bucket.jsonLines(ignored[0]!), [{ n: 0 }, { n: 2 }])

    await run(`write-${topic}`, {
      ...common,
      'topics.dir': 'write',
      'behavior.on.null.values': 'write',
      'store.kafka.keys': 'true',
      'keys.format.class': 'JsonFormat',
    })
    const written = await objects(`write/${topic}/`, 3)
    assert.deepEqual(written, [
      `write/${topic}/partition=0/${topic}+0+0000000000.json`,
      `write/${topic}/partition=0/${topic}+0+0000000000.keys.json`,
      `write/${topic}/tombstone/${topic}+0+0000000001.keys.json`,
    ])
    assert.deepEqual(await bucket.jsonLines(written[2]!), ['b'])
  })

  test('behavior.on.null.values=fail fails the task naming the record; with errors.tolerance=all the tombstone goes to the DLQ', async () => {
    const topic = uniqueTopic('nullfail')
    await produce(
      topic,
      [{ value: JSON.stringify({ n: 0 }) }, { value: null }, { value: JSON.stringify({ n: 2 }) }],
      1,
    )
    const common = { topics: topic, 'flush.size': '2', 'value.converter.schemas.enable': 'false' }
    await run(`fail-${topic}`, { ...common, 'topics.dir': 'fail' })
    const status = await eventually(
      async () => {
        const r = await request<Status>(w.base, 'GET', `/connectors/fail-${topic}/status`)
        return r.body.tasks[0]?.state === 'FAILED' ? r.body : undefined
      },
      30_000,
      'the task to fail',
    )
    assert.match(
      status.tasks[0]!.trace ?? '',
      new RegExp(`${topic}-0@1 has a null value.*behavior.on.null.values=fail`),
    )

    const dlq = `${topic}-dlq`
    await run(`dlq-${topic}`, {
      ...common,
      'topics.dir': 'dlq',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
    })
    const keys = await objects(`dlq/${topic}/`, 1)
    assert.deepEqual(await bucket.jsonLines(keys[0]!), [{ n: 0 }, { n: 2 }])
    assert.equal(keys[0], `dlq/${topic}/partition=0/${topic}+0+0000000000.json`)
    const dead = await readTopic(dlq, 1)
    assert.equal(dead[0]!.offset, 1)
    assert.match(dead[0]!.headers['__connect.errors.exception.message'] ?? '', /null value/)
  })

  test('schemaless JSON into ParquetFormat: each record goes to the DLQ naming the cause, the task keeps running', async () => {
    const topic = uniqueTopic('pqdlq')
    await produce(
      topic,
      [0, 1, 2].map((id) => ({ value: JSON.stringify({ id }) })),
      1,
    )
    const dlq = `${topic}-dlq`
    await run(`pqdlq-${topic}`, {
      topics: topic,
      'format.class': 'ParquetFormat',
      'flush.size': '2',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
      'value.converter.schemas.enable': 'false',
    })
    const dead = await readTopic(dlq, 3)
    assert.deepEqual(
      dead.map((d) => d.offset),
      [0, 1, 2],
    )
    assert.match(
      dead[0]!.headers['__connect.errors.exception.message'] ?? '',
      /ParquetFormat needs records with a STRUCT schema/,
    )
    const status = await request<Status>(w.base, 'GET', `/connectors/pqdlq-${topic}/status`)
    assert.equal(status.body.tasks[0]?.state, 'RUNNING')
    assert.deepEqual(await bucket.dataKeys(`topics/${topic}/`), [])
  })
})

/** The first `count` records of a topic, with their headers as text. */
async function readTopic(
  topic: string,
  count: number,
): Promise<{ offset: number; headers: Record<string, string> }[]> {
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': kafkaBootstrap() }), 's3-dlq-reader')
  try {
    return await eventually(
      async () => {
        const consumer = log.createConsumer({
          clientId: 's3-dlq-reader',
          groupId: `s3-dlq-reader-${topic}-${Date.now()}`,
        })
        try {
          await consumer.assign([{ topic, partition: 0 }])
          const out: { offset: number; headers: Record<string, string> }[] = []
          const deadline = Date.now() + 5000
          while (out.length < count && Date.now() < deadline) {
            for (const r of await consumer.poll(500)) {
              const headers: Record<string, string> = {}
              for (const h of r.headers)
                headers[h.key] = h.value === null ? '' : Buffer.from(h.value).toString()
              const original = headers['__connect.errors.offset']
              out.push({ offset: original === undefined ? r.offset : Number(original), headers })
            }
          }
          return out.length >= count ? out : undefined
        } finally {
          await consumer.close()
        }
      },
      30_000,
      `${count} records on ${topic}`,
    )
  } finally {
    await log.close()
  }
}
