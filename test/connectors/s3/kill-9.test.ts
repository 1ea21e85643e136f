/**
 * Exactly once under kill -9: a real `sluice standalone` worker drains a topic into s3proxy and is
 * killed with SIGKILL at random moments, several times, then left to finish. Every record must be
 * in exactly one object. The rotation includes a wall-clock schedule, whose file boundaries differ
 * on replay: only the commit markers and the cleanup of uncommitted objects keep that exact.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { eventually } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, s3SkipReason, s3Url } from '../../helpers/services.ts'
import { workerProcess } from '../../helpers/worker-process.ts'
import { produce, TestBucket, uniqueTopic } from './s3-fixtures.ts'

const RECORDS = 150_000
const PARTITIONS = 4
const KILLS = 4

describe('[integration] S3 sink worker killed with SIGKILL at random moments', {
  skip: kafkaSkipReason() || s3SkipReason(),
}, () => {
  const worker = workerProcess(['sink.json'])
  let bucket: TestBucket | undefined
  after(async () => {
    worker.close()
    await bucket?.drop()
  })

  /** Every record number found in the data objects, with how often. */
  async function census(): Promise<{ counts: Map<number, number>; objects: number }> {
    const counts = new Map<number, number>()
    const keys = await bucket!.dataKeys('topics/')
    for (const key of keys) {
      for (const doc of await bucket!.jsonLines(key)) {
        const n = (doc as { n: number }).n
        counts.set(n, (counts.get(n) ?? 0) + 1)
      }
    }
    return { counts, objects: keys.length }
  }

  /** Records the commit markers say are in complete objects (each run moves them on as it commits). */
  async function committed(): Promise<number> {
    let total = 0
    for (const key of await bucket!.keys('topics/_sluice/commits/')) {
      total += (JSON.parse(await bucket!.text(key)) as { endOffset: number }).endOffset + 1
    }
    return total
  }

  it('ends with every record in exactly one object after repeated kill -9 and restarts', async () => {
    bucket = await TestBucket.create('kill')
    const topic = uniqueTopic('s3-kill')
    await produce(
      topic,
      Array.from({ length: RECORDS }, (_, n) => ({
        value: JSON.stringify({ n, pad: 'x'.repeat(60) }),
        partition: n % PARTITIONS,
      })),
      PARTITIONS,
    )
    worker.writeProperties({ 'bootstrap.servers': kafkaBootstrap(), 'offset.flush.interval.ms': '500' })
    writeFileSync(
      join(worker.dir, 'sink.json'),
      JSON.stringify({
        name: `s3-kill-${topic}`,
        config: {
          'connector.class': 'io.confluent.connect.s3.S3SinkConnector',
          topics: topic,
          'tasks.max': '2',
          's3.bucket.name': bucket.name,
          'store.url': s3Url(),
          'aws.access.key.id': 'test',
          'aws.secret.access.key': 'test',
          'format.class': 'io.confluent.connect.s3.format.json.JsonFormat',
          'flush.size': '700',
          'rotate.schedule.interval.ms': '1500',
          timezone: 'UTC',
          'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'value.converter.schemas.enable': 'false',
          'consumer.override.max.poll.records': '20',
          // A killed member's partitions move on after its session expires: keep that short.
          'consumer.override.session.timeout.ms': '6000',
          'consumer.override.heartbeat.interval.ms': '1000',
        },
      }),
    )
    const started = Date.now()
    const seenAtKill: number[] = []
    for (let kill = 0; kill < KILLS; kill++) {
      const before = await committed()
      if (before >= RECORDS) break
      // Kill it at a random moment after this run has committed something.
      await worker.killMidway(
        async () => {
          const now = await committed()
          return now > before || now >= RECORDS
        },
        120_000,
        'a commit from this run',
        1000,
      )
      const { counts } = await census()
      seenAtKill.push(counts.size)
    }
    assert.ok(
      seenAtKill.filter((n) => n < RECORDS).length >= 1,
      `at least one kill should land mid-drain (records in the bucket at each: ${seenAtKill.join(', ')})`,
    )
    worker.start()
    const final = await eventually(
      async () => {
        const c = await census()
        return c.counts.size === RECORDS ? c : undefined
      },
      240_000,
      'every record in the bucket',
    )
    // Let the last run go on a little: nothing may be written twice later either.
    await sleep(3000)
    const { counts, objects } = await census()
    const duplicates = [...counts.values()].filter((c) => c > 1).length
    const missing = RECORDS - counts.size
    process.stderr.write(
      `[s3 sink kill -9] ${seenAtKill.length} kills (records in the bucket at each: ${seenAtKill.join(', ')}); ` +
        `${objects} objects, ${duplicates} duplicates, ${missing} missing, in ${Date.now() - started} ms\n`,
    )
    assert.equal(final.counts.size, RECORDS)
    assert.equal(missing, 0)
    assert.equal(duplicates, 0, 'no record may be in two objects')
  })
})
