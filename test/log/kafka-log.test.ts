/**
 * The Kafka backend against a real broker (started by test/global-setup.ts): the shared Log
 * conformance suite, plus what only Kafka can show — placement seen by the broker, two members of
 * one group, wakeup during a group join, error messages for an unreachable cluster.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { ConnectError } from '../../src/api/errors.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { type Log, type LogConsumer, type LogRecord, type TopicPartition, tpKey } from '../../src/log/log.ts'
import { partitionForKey } from '../../src/log/murmur2.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { runLogConformance } from './log-conformance.ts'

const skip = kafkaSkipReason()
const bytes = (s: string) => new TextEncoder().encode(s)
const unique = (prefix: string) => `kafka-${prefix}-${randomUUID().slice(0, 8)}`

function makeLog(): Log {
  return createKafkaLog({
    bootstrapServers: [kafkaBootstrap()],
    clientId: 'sluice-test',
    // Short group timings keep rebalances quick in tests.
    consumer: {
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 20_000,
      metadataRefreshMs: 1000,
    },
  })
}

if (skip === false) {
  runLogConformance('kafka', async () => {
    const log = makeLog()
    return { log, cleanup: () => log.close() }
  })
}

async function pollUntil(
  consumers: LogConsumer[],
  done: () => boolean,
  timeoutMs: number,
  onRecords: (index: number, records: LogRecord[]) => void = () => {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await Promise.all(consumers.map(async (c, i) => onRecords(i, await c.poll(100))))
  }
}

void describe('Kafka log', { skip }, () => {
  let log: Log
  before(() => {
    log = makeLog()
  })
  after(() => log.close())

  void it('places keyed records in the partition a Java producer would choose, including keys with a negative murmur2 hash', async () => {
    const topic = unique('murmur')
    await log.createTopics([{ name: topic, partitions: 7 }])
    // "21" hashes to -973932308: unsigned (platformatic's default) and Java's rule disagree on it.
    const keys = [
      '21',
      'foobar',
      'a-little-bit-long-string',
      ...Array.from({ length: 40 }, (_, i) => `key-${i}`),
    ]
    const producer = log.createProducer({ clientId: 'murmur' })
    const metadata = await producer.send(keys.map((k) => ({ topic, key: bytes(k), value: bytes(k) })))
    await producer.close()
    for (const [i, k] of keys.entries())
      assert.equal(metadata[i].partition, partitionForKey(bytes(k), 7), `key ${k}`)
    assert.notEqual(partitionForKey(bytes('21'), 7), (-973932308 >>> 0) % 7)
    // What the broker holds agrees with the metadata.
    const consumer = log.createConsumer({ groupId: unique('g'), clientId: 'murmur' })
    await consumer.assign(Array.from({ length: 7 }, (_, partition) => ({ topic, partition })))
    const seen = new Map<string, number>()
    await pollUntil(
      [consumer],
      () => seen.size === keys.length,
      20_000,
      (_, records) => {
        for (const r of records) seen.set(new TextDecoder().decode(r.key!), r.partition)
      },
    )
    await consumer.close()
    for (const k of keys) assert.equal(seen.get(k), partitionForKey(bytes(k), 7), `key ${k} on the broker`)
  })

  void it('writes every compression.type, with timestamps years apart in one batch, and reads them back unchanged', async () => {
    const topic = unique('codecs')
    await log.createTopics([{ name: topic, partitions: 1 }])
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
    const sent: { value: string; timestamp: number; header: string }[] = []
    for (const compression of codecs) {
      const producer = log.createProducer({ clientId: `codec-${compression}`, compression })
      // 2^31 ms is ~25 days: deltas beyond it once had to go to separate requests. The broker
      // refuses timestamps more than an hour ahead (message.timestamp.after.max.ms).
      const base = Date.now() - 2 ** 40 - 60_000
      const records = [0, 2 ** 33, 5, 2 ** 40].map((delta, i) => ({
        value: `${compression}-${i}-${'x'.repeat(100)}`,
        timestamp: base + delta,
        header: `${compression}-${i}`,
      }))
      await producer.send(
        records.map((r) => ({
          topic,
          key: null,
          value: bytes(r.value),
          timestamp: r.timestamp,
          headers: [{ key: 'h', value: bytes(r.header) }],
        })),
      )
      await producer.close()
      sent.push(...records)
    }
    const consumer = log.createConsumer({ groupId: unique('g'), clientId: 'codecs' })
    await consumer.assign([{ topic, partition: 0 }])
    const read: LogRecord[] = []
    await pollUntil(
      [consumer],
      () => read.length >= sent.length,
      20_000,
      (_, records) => read.push(...records),
    )
    await consumer.close()
    assert.deepEqual(
      read.map((r) => ({
        value: new TextDecoder().decode(r.value!),
        timestamp: r.timestamp,
        header: new TextDecoder().decode(r.headers[0]!.value!),
      })),
      sent,
    )
  })

  void it('revokes from the first member, inside its poll, before the second member joins with those partitions', async () => {
    const topic = unique('group')
    const groupId = unique('group')
    await log.createTopics([{ name: topic, partitions: 4 }])
    const events: string[] = []
    const listener = (name: string) => ({
      onPartitionsRevoked: (tps: TopicPartition[]) => {
        events.push(`${name} revoked ${tps.map((t) => t.partition).join(',')}`)
      },
      onPartitionsAssigned: (tps: TopicPartition[]) => {
        events.push(`${name} assigned ${tps.map((t) => t.partition).join(',')}`)
      },
    })
    const a = log.createConsumer({ groupId, clientId: 'a' })
    const b = log.createConsumer({ groupId, clientId: 'b' })
    try {
      await a.subscribe([topic], listener('a'))
      await pollUntil([a], () => a.assignment().length === 4, 20_000)
      await b.subscribe([topic], listener('b'))
      await pollUntil([a, b], () => a.assignment().length === 2 && b.assignment().length === 2, 30_000)
      const revoked = events.indexOf('a revoked 0,1,2,3')
      const bAssigned = events.findIndex((e) => e.startsWith('b assigned'))
      assert.ok(revoked >= 0 && bAssigned > revoked, `order of events: ${events.join(' | ')}`)
      // Range assignment over two members: each holds two partitions, together all four.
      const all = [...a.assignment(), ...b.assignment()].map((t) => t.partition).sort()
      assert.deepEqual(all, [0, 1, 2, 3])
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  void it('loses (not revokes) the partitions of a member removed from its group, refuses its commit, and rejoins', async () => {
    const topic = unique('fenced')
    const groupId = unique('fenced')
    await log.createTopics([{ name: topic, partitions: 2 }])
    const events: string[] = []
    const record = (what: string) => (tps: TopicPartition[]) => {
      events.push(`${what} ${tps.map((t) => t.partition).join(',')}`)
    }
    const consumer = log.createConsumer({ groupId, clientId: 'fenced' })
    const admin = new Admin({ clientId: 'fencer', bootstrapBrokers: [kafkaBootstrap()] })
    try {
      await consumer.subscribe([topic], {
        onPartitionsAssigned: record('assigned'),
        onPartitionsRevoked: record('revoked'),
        onPartitionsLost: record('lost'),
      })
      await pollUntil([consumer], () => consumer.assignment().length === 2, 20_000)
      // What an operator's kafka-consumer-groups --delete-members (or a session expiry) does.
      await admin.removeMembersFromConsumerGroup({ groupId, members: null })
      await assert.rejects(
        consumer.commit(new Map([[tpKey({ topic, partition: 0 }), 0]])),
        (error: unknown) => {
          assert.ok(error instanceof ConnectError, String(error))
          assert.equal(error.code, 'CONFLICT')
          return true
        },
      )
      await pollUntil([consumer], () => events.length >= 3, 20_000)
      assert.deepEqual(events, ['assigned 0,1', 'lost 0,1', 'assigned 0,1'])
      await consumer.commit(new Map([[tpKey({ topic, partition: 0 }), 0]]))
    } finally {
      await admin.close()
      await consumer.close()
    }
  })

  void it('returns from poll at once on wakeup while the group join is still under way', async () => {
    const topic = unique('wakeup')
    await log.createTopics([{ name: topic, partitions: 1 }])
    const consumer = log.createConsumer({ groupId: unique('g'), clientId: 'wakeup' })
    try {
      await consumer.subscribe([topic])
      const started = Date.now()
      const polled = consumer.poll(10_000)
      consumer.wakeup()
      assert.deepEqual(await polled, [])
      assert.ok(Date.now() - started < 1000, `poll took ${Date.now() - started} ms after wakeup`)
    } finally {
      await consumer.close()
    }
  })

  void it('says which servers it cannot reach and that the failure is retriable', async () => {
    const unreachable = createKafkaLog({
      bootstrapServers: ['127.0.0.1:1'],
      clientId: 'nowhere',
      retries: 0,
      connectTimeoutMs: 500,
    })
    try {
      await assert.rejects(unreachable.listTopics(), (error: unknown) => {
        assert.ok(error instanceof ConnectError)
        assert.equal(error.retriable, true)
        assert.match(
          error.message,
          /cannot reach Kafka at 127\.0\.0\.1:1 .*connection refused — check bootstrap\.servers/,
        )
        return true
      })
    } finally {
      await unreachable.close()
    }
  })

  void it('reports an unknown topic on send as a non-retriable NOT_FOUND error', async () => {
    const producer = log.createProducer({ clientId: 'missing' })
    try {
      await assert.rejects(
        producer.send([{ topic: unique('missing'), key: null, value: bytes('x') }]),
        (error: unknown) => {
          assert.ok(error instanceof ConnectError, String(error))
          assert.equal(error.code, 'NOT_FOUND')
          return true
        },
      )
    } finally {
      await producer.close()
    }
  })
})
