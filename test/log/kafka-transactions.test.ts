/**
 * [integration] Transactions on a real broker (KIP-98, used by exactly-once sources, KIP-618): what a
 * `read_committed` consumer sees of committed and aborted transactions, and fencing — a producer whose
 * transactional id was claimed again (by a newer instance, or by `fenceProducers`) can no longer
 * commit, and its records never become visible.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { type Log, type LogRecord, tpKey } from '../../src/log/log.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

const skip = kafkaSkipReason()

async function readAll(
  log: Log,
  topic: string,
  isolationLevel: 'read_committed' | 'read_uncommitted',
  expected: number,
  waitMs = 10_000,
): Promise<string[]> {
  const consumer = log.createConsumer({
    groupId: `tx-reader-${randomUUID()}`,
    clientId: 'tx-reader',
    isolationLevel,
  })
  try {
    await consumer.assign([{ topic, partition: 0 }])
    consumer.seek({ topic, partition: 0 }, 0)
    const seen: LogRecord[] = []
    const deadline = Date.now() + waitMs
    while (Date.now() < deadline && seen.length < expected) seen.push(...(await consumer.poll(200)))
    // A little longer: anything beyond the expected records would be a failure too.
    for (let i = 0; i < 3; i++) seen.push(...(await consumer.poll(200)))
    return seen.map((r) => Buffer.from(r.value ?? []).toString())
  } finally {
    await consumer.close()
  }
}

const values = (...v: string[]) => v.map((value) => ({ key: null, value: Buffer.from(value) }))

describe('[integration] Kafka transactions', { skip, timeout: 120_000 }, () => {
  let log: Log
  const topic = `tx-${randomUUID().slice(0, 8)}`

  before(async () => {
    log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'tx-test' })
    await log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
  })

  after(async () => {
    await log.deleteTopics([topic]).catch(() => {})
    await log.close()
  })

  test('read_committed skips aborted transactions and markers; read_uncommitted sees everything', async () => {
    const producer = log.createTransactionalProducer!({
      clientId: 'tx',
      transactionalId: `tx-${randomUUID()}`,
    })
    await producer.init()
    await producer.begin()
    await producer.send(values('a1', 'a2').map((r) => ({ ...r, topic })))
    await producer.commit()
    await producer.begin()
    await producer.send(values('x1', 'x2', 'x3').map((r) => ({ ...r, topic })))
    await producer.abort()
    await producer.begin()
    await producer.send(values('b1').map((r) => ({ ...r, topic })))
    await producer.commit()
    await producer.close()
    assert.deepEqual(await readAll(log, topic, 'read_committed', 3), ['a1', 'a2', 'b1'])
    assert.deepEqual(await readAll(log, topic, 'read_uncommitted', 6), ['a1', 'a2', 'x1', 'x2', 'x3', 'b1'])
    // The end a read_committed reader waits for is the last stable offset: nothing is open here.
    const [end, stable] = await Promise.all([
      log.endOffsets([{ topic, partition: 0 }]),
      log.endOffsets([{ topic, partition: 0 }], true),
    ])
    assert.deepEqual(stable, end)
  })

  test('a newer producer with the same transactional id fences the older one, whose open transaction is aborted', async () => {
    const fencedTopic = `${topic}-fenced`
    await log.createTopics([{ name: fencedTopic, partitions: 1, replicationFactor: 1 }])
    const id = `tx-zombie-${randomUUID()}`
    const zombie = log.createTransactionalProducer!({ clientId: 'zombie', transactionalId: id })
    await zombie.init()
    await zombie.begin()
    await zombie.send(values('zombie-1').map((r) => ({ ...r, topic: fencedTopic })))
    // The last stable offset stays before the open transaction.
    assert.equal(
      (await log.endOffsets([{ topic: fencedTopic, partition: 0 }], true)).get(
        tpKey({ topic: fencedTopic, partition: 0 }),
      ),
      0,
    )

    const successor = log.createTransactionalProducer!({ clientId: 'successor', transactionalId: id })
    await successor.init()
    await assert.rejects(
      async () => {
        await zombie.send(values('zombie-2').map((r) => ({ ...r, topic: fencedTopic })))
        await zombie.commit()
      },
      (error: Error) => /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|fenced/i.test(error.message),
    )
    await successor.begin()
    await successor.send(values('successor').map((r) => ({ ...r, topic: fencedTopic })))
    await successor.commit()
    await Promise.all([zombie.close().catch(() => {}), successor.close()])
    assert.deepEqual(await readAll(log, fencedTopic, 'read_committed', 1), ['successor'])
    await log.deleteTopics([fencedTopic]).catch(() => {})
  })

  test('fenceProducers fences a producer holding the id, as Admin.fenceProducers does', async () => {
    const fencedTopic = `${topic}-admin`
    await log.createTopics([{ name: fencedTopic, partitions: 1, replicationFactor: 1 }])
    const id = `tx-admin-${randomUUID()}`
    const producer = log.createTransactionalProducer!({ clientId: 'fenced', transactionalId: id })
    await producer.init()
    await producer.begin()
    await producer.send(values('never').map((r) => ({ ...r, topic: fencedTopic })))
    await log.fenceProducers!([id])
    await assert.rejects(() => producer.commit(), /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|fenced/i)
    await producer.close().catch(() => {})
    assert.deepEqual(await readAll(log, fencedTopic, 'read_committed', 0, 2000), [])
    await log.deleteTopics([fencedTopic]).catch(() => {})
  })
})
