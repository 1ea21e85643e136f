/**
 * A broker of the test's own restarted on its kept data (scripts/kafka.ts `KafkaBroker`): a record
 * produced before the restart is read after it, whether the broker stopped cleanly (SIGTERM) or
 * crashed (SIGKILL), and the cluster id stays the same.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { createLog } from '../../src/log/create-log.ts'
import type { Log } from '../../src/log/log.ts'
import { kafkaSkipReason } from '../helpers/services.ts'
import { ownBroker } from './services.ts'

async function readAll(log: Log, topic: string, expected: number): Promise<string[]> {
  const consumer = log.createConsumer({ groupId: `read-${Date.now()}`, clientId: 'restart-reader' })
  try {
    await consumer.assign([{ topic, partition: 0 }])
    consumer.seek({ topic, partition: 0 }, 0)
    const values: string[] = []
    const deadline = Date.now() + 30_000
    while (values.length < expected) {
      if (Date.now() > deadline)
        throw new Error(`read ${values.length} of ${expected} records of ${topic} in 30 s: ${values}`)
      for (const r of await consumer.poll(500)) values.push(Buffer.from(r.value!).toString())
    }
    return values
  } finally {
    await consumer.close()
  }
}

describe('[integration] a broker restarted on its kept data', { skip: kafkaSkipReason() }, () => {
  let broker: Awaited<ReturnType<typeof ownBroker>> | undefined
  after(async () => {
    await broker?.destroy()
  })

  test('keeps its cluster id and the records produced before SIGTERM and before SIGKILL', async () => {
    broker = await ownBroker()
    await broker.start()
    const clusterId = broker.clusterId
    assert.ok(clusterId, 'the first start formatted the data dir')
    const topic = 'kept'
    const produce = async (value: string) => {
      const log = await createLog(new WorkerConfig({ 'bootstrap.servers': broker!.bootstrap }), 'restart')
      try {
        if (!(await log.listTopics()).includes(topic))
          await log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
        await log
          .createProducer({ clientId: 'restart' })
          .send([{ topic, key: null, value: Buffer.from(value) }])
      } finally {
        await log.close()
      }
    }
    const read = async (expected: number) => {
      const log = await createLog(new WorkerConfig({ 'bootstrap.servers': broker!.bootstrap }), 'restart')
      try {
        return await readAll(log, topic, expected)
      } finally {
        await log.close()
      }
    }

    await produce('before-sigterm')
    assert.equal(await broker.stop('SIGTERM'), true)
    await broker.start()
    assert.equal(broker.clusterId, clusterId, 'the restart kept the cluster id')
    assert.deepEqual(await read(1), ['before-sigterm'])

    await produce('before-sigkill')
    assert.equal(await broker.stop('SIGKILL'), true)
    await broker.start()
    assert.equal(broker.clusterId, clusterId)
    assert.deepEqual(await read(2), ['before-sigterm', 'before-sigkill'])
  })
})
