/**
 * The S3 and MongoDB sinks through broker faults: a broker of the test's own is crashed (SIGKILL)
 * and restarted on its kept data while both sinks drain a topic, its connections are cut (`ss -K`),
 * and it is stopped cleanly and restarted, with more records produced between the faults. Then:
 * every record is in exactly one S3 object (the sink's commit markers make it exact), every record
 * is a document in MongoDB, and no task was ever FAILED or needed a hand restart.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MongoClient } from 'mongodb'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { createLog } from '../../src/log/create-log.ts'
import { TestBucket, uniqueTopic } from '../connectors/s3/s3-fixtures.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaSkipReason, mongoSkipReason, mongoUrl, s3SkipReason, s3Url } from '../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'
import { canCutConnections, cutConnections, ownBroker } from './services.ts'

const PARTITIONS = 3
const PER_PHASE = 20_000
const PHASES = 3

interface Status {
  connector: { state: string }
  tasks: { id: number; state: string; trace?: string }[]
}

describe('[integration] S3 and MongoDB sinks through a broker crash, a blip and a restart', {
  skip: kafkaSkipReason() || s3SkipReason() || mongoSkipReason(),
}, () => {
  let broker: Awaited<ReturnType<typeof ownBroker>> | undefined
  let w: TestWorker | undefined
  let bucket: TestBucket | undefined
  let mongo: MongoClient | undefined
  const database = `chaos_${Date.now().toString(36)}`
  after(async () => {
    await w?.close()
    await broker?.destroy()
    await bucket?.drop()
    await mongo?.db(database).dropDatabase()
    await mongo?.close()
  })

  async function produce(topic: string, from: number, count: number): Promise<void> {
    const log = await createLog(new WorkerConfig({ 'bootstrap.servers': broker!.bootstrap }), 'chaos-sinks')
    try {
      if (!(await log.listTopics()).includes(topic))
        await log.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 1 }])
      const producer = log.createProducer({ clientId: 'chaos-sinks' })
      for (let i = from; i < from + count; i += 2000) {
        await producer.send(
          Array.from({ length: Math.min(2000, from + count - i) }, (_, j) => {
            const n = i + j
            return {
              topic,
              partition: n % PARTITIONS,
              key: Buffer.from(String(n)),
              value: Buffer.from(JSON.stringify({ _id: n, n, pad: 'x'.repeat(40) })),
            }
          }),
        )
      }
      await producer.close()
    } finally {
      await log.close()
    }
  }

  /** How often each record number appears in the bucket's data objects. */
  async function census(): Promise<Map<number, number>> {
    const counts = new Map<number, number>()
    for (const key of await bucket!.dataKeys('topics/'))
      for (const doc of await bucket!.jsonLines(key)) {
        const n = (doc as { n: number }).n
        counts.set(n, (counts.get(n) ?? 0) + 1)
      }
    return counts
  }

  it('ends with every record exactly once in S3 and in MongoDB, every task RUNNING', async () => {
    broker = await ownBroker()
    await broker.start()
    bucket = await TestBucket.create('chaos')
    mongo = new MongoClient(mongoUrl(), { serverSelectionTimeoutMS: 5000 })
    await mongo.connect()
    const topic = uniqueTopic('chaos-sinks')
    await produce(topic, 0, PER_PHASE)
    const worker = await startTestWorker({ 'bootstrap.servers': broker.bootstrap, 'log.level': 'error' })
    w = worker
    const common = {
      topics: topic,
      'tasks.max': '2',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
      'consumer.override.max.poll.records': '200',
    }
    const connectors = {
      's3-chaos': {
        ...common,
        'connector.class': 'io.confluent.connect.s3.S3SinkConnector',
        's3.bucket.name': bucket.name,
        'store.url': s3Url(),
        'aws.access.key.id': 'test',
        'aws.secret.access.key': 'test',
        'format.class': 'io.confluent.connect.s3.format.json.JsonFormat',
        'flush.size': '500',
        'rotate.schedule.interval.ms': '1000',
        timezone: 'UTC',
      },
      'mongo-chaos': {
        ...common,
        'connector.class': 'com.mongodb.kafka.connect.MongoSinkConnector',
        'connection.uri': mongoUrl(),
        database,
        collection: 'numbers',
        'document.id.strategy':
          'com.mongodb.kafka.connect.sink.processor.id.strategy.ProvidedInValueStrategy',
      },
    }
    for (const [name, config] of Object.entries(connectors)) {
      const created = await request(worker.base, 'POST', '/connectors', { name, config })
      assert.equal(created.status, 201, JSON.stringify(created.body))
    }

    // Every state any task shows while the faults happen.
    const seen = new Map<string, Set<string>>()
    let watching = true
    const watcher = (async () => {
      while (watching) {
        for (const name of Object.keys(connectors)) {
          const s = await request<Status>(worker.base, 'GET', `/connectors/${name}/status`).catch(
            () => undefined,
          )
          for (const t of s?.body.tasks ?? []) {
            const states = seen.get(`${name}/${t.id}`) ?? new Set<string>()
            states.add(t.state === 'FAILED' ? `FAILED: ${t.trace?.split('\n')[0]}` : t.state)
            seen.set(`${name}/${t.id}`, states)
          }
        }
        await sleep(250)
      }
    })()

    const documents = () => mongo!.db(database).collection('numbers').countDocuments()
    const faults: string[] = []
    for (let phase = 1; phase <= PHASES; phase++) {
      // Let the sinks get going on what is there, then fault the broker mid-drain.
      await eventually(
        async () => ((await documents()) > (phase - 1) * PER_PHASE ? true : undefined),
        120_000,
      )
      await sleep(Math.floor(Math.random() * 500))
      if (phase === 1) {
        await broker.stop('SIGKILL')
        await sleep(2000)
        await broker.start()
        faults.push('SIGKILL + restart')
      } else if (phase === 2 && canCutConnections) {
        faults.push(`ss -K cut ${cutConnections(process.pid, broker.port)} connections`)
      } else {
        await broker.stop('SIGTERM')
        await broker.start()
        faults.push('SIGTERM + restart')
      }
      await produce(topic, phase * PER_PHASE, phase < PHASES ? PER_PHASE : 0)
    }
    const total = PHASES * PER_PHASE
    await eventually(
      async () => ((await documents()) === total ? true : undefined),
      240_000,
      'every document',
    )
    const counts = await eventually(
      async () => {
        const c = await census()
        return c.size === total ? c : undefined
      },
      240_000,
      'every record in the bucket',
    )
    // A little longer: nothing may be written twice later either.
    await sleep(3000)
    watching = false
    await watcher
    const final = await census()
    const duplicates = [...final.values()].filter((c) => c > 1).length
    process.stderr.write(
      `[object sinks under broker faults] ${faults.join('; ')}; S3: ${final.size} of ${total} records, ` +
        `${duplicates} in two objects; MongoDB: ${await documents()} documents\n`,
    )
    assert.equal(counts.size, total)
    assert.equal(duplicates, 0, 'no record may be in two objects')
    const ids = await mongo
      .db(database)
      .collection<{ _id: number }>('numbers')
      .find({}, { projection: { _id: 1 } })
      .toArray()
    assert.deepEqual(
      ids.map((d) => d._id).sort((a, b) => a - b),
      Array.from({ length: total }, (_, n) => n),
    )
    for (const [task, states] of seen)
      assert.ok(
        ![...states].some((s) => s.startsWith('FAILED')),
        `${task} went through ${[...states].join(', ')}`,
      )
    for (const name of Object.keys(connectors)) {
      const status = await request<Status>(worker.base, 'GET', `/connectors/${name}/status`)
      assert.equal(status.body.connector.state, 'RUNNING')
      assert.deepEqual(
        status.body.tasks.map((t) => t.state),
        ['RUNNING', 'RUNNING'],
      )
    }
  })
})
