/**
 * The sink task runner on the real Kafka: a sink whose member is removed from its group in the
 * middle of a put keeps running and only the records of that put come twice; a sink whose broker
 * connections are reset for seconds (the broker away for this process only) keeps running.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { Admin } from '@platformatic/kafka'
import { SinkTask } from '../../src/api/connector.ts'
import type { SinkRecord } from '../../src/api/records.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { tpKey } from '../../src/log/log.ts'
import type { SinkTaskRunner } from '../../src/runtime/sink-task-runner.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { assertNeverFailed, startRunner, until } from '../helpers/sink-runner.ts'

const execFileAsync = promisify(execFile)

/** A sink whose first put blocks until released; counts deliveries per record. */
class BlockingSink extends SinkTask {
  readonly deliveries = new Map<string, number>()
  readonly #released = Promise.withResolvers<void>()
  firstBatch: string[] | undefined
  version(): string {
    return '1'
  }
  start(): void {}
  stop(): void {}
  release(): void {
    this.#released.resolve()
  }
  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return
    const ids = records.map((r) => `${r.kafkaPartition}-${r.kafkaOffset}`)
    if (this.firstBatch === undefined) {
      this.firstBatch = ids
      await this.#released.promise
    }
    for (const id of ids) this.deliveries.set(id, (this.deliveries.get(id) ?? 0) + 1)
  }
}

describe('sink task runner on Kafka', { skip: kafkaSkipReason() }, () => {
  it('keeps RUNNING when its member is removed from the group during a put; only that batch comes twice', async () => {
    const suffix = Math.random().toString(36).slice(2, 8)
    const topic = `fenced-sink-${suffix}`
    const groupId = `connect-fenced-${suffix}`
    const log = createKafkaLog({
      bootstrapServers: [kafkaBootstrap()],
      clientId: 'fenced-sink',
      consumer: { heartbeatIntervalMs: 200, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 10_000 },
    })
    const admin = new Admin({ clientId: 'fencer', bootstrapBrokers: [kafkaBootstrap()] })
    const producer = log.createProducer({ clientId: 'fenced-sink' })
    const send = (from: number, to: number) =>
      producer.send(
        Array.from({ length: to - from }, (_, i) =>
          [0, 1].map((partition) => ({
            topic,
            partition,
            key: null,
            value: new TextEncoder().encode(`${from + i}`),
          })),
        ).flat(),
      )
    const task = new BlockingSink()
    let runner: SinkTaskRunner | undefined
    try {
      await log.createTopics([{ name: topic, partitions: 2 }])
      await send(0, 10)
      const started = startRunner(log.createConsumer({ groupId, clientId: 'fenced-sink' }), task, {
        flushIntervalMs: 300,
        topics: [topic],
      })
      runner = started.runner
      await until(() => task.firstBatch !== undefined, 'the first put under way', 20_000)
      // What kafka-consumer-groups --delete-members does; a session expiry looks the same to the member.
      await admin.removeMembersFromConsumerGroup({ groupId, members: null })
      task.release()
      const committed = async (n: number) => {
        const offsets = await log.groupOffsets(groupId)
        return offsets.get(tpKey({ topic, partition: 0 })) === n &&
          offsets.get(tpKey({ topic, partition: 1 })) === n
          ? true
          : undefined
      }
      await eventually(() => committed(10), 30_000, 'offsets 10 committed after the member rejoined')
      assert.equal(runner.state, 'RUNNING')
      assertNeverFailed(started.states)
      for (let i = 0; i < 10; i++) {
        for (const partition of [0, 1]) {
          const id = `${partition}-${i}`
          // The batch of the put was never committed: its partitions were lost, so it comes again.
          assert.equal(task.deliveries.get(id), task.firstBatch!.includes(id) ? 2 : 1, id)
        }
      }
      // After the commit, every record comes exactly once.
      await send(10, 20)
      await eventually(() => committed(20), 30_000, 'offsets 20 committed')
      for (let i = 10; i < 20; i++) {
        for (const partition of [0, 1])
          assert.equal(task.deliveries.get(`${partition}-${i}`), 1, `${partition}-${i}`)
      }
      assert.equal(runner.state, 'RUNNING')
      assertNeverFailed(started.states)
    } finally {
      task.release()
      await runner?.stop(10_000)
      await producer.close()
      await admin.close()
      await log.close()
    }
  })
})

/**
 * Resets (ss -K) this process's established TCP connections to the broker's port: to this process the
 * broker is away until it reconnects, while everyone else keeps it. (A TCP proxy cannot stand in
 * between: the broker advertises its own address, which the client uses after bootstrap.)
 */
async function resetOwnConnections(port: number): Promise<number> {
  const { stdout } = await execFileAsync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
  })
  const localPorts = stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${process.pid},`))
    .map((line) => line.trim().split(/\s+/)[2]?.split(':').pop())
    .filter((p): p is string => p !== undefined && p !== '')
  await Promise.all(
    localPorts.map((local) =>
      execFileAsync('ss', [
        '-K',
        '-tn',
        'state',
        'established',
        `( sport = :${local} and dport = :${port} )`,
      ]),
    ),
  )
  return localPorts.length
}

/** A sink that takes its time per put, so commits and fetches go on all through a blip. */
class SlowSink extends SinkTask {
  readonly deliveries = new Map<string, number>()
  version(): string {
    return '1'
  }
  start(): void {}
  stop(): void {}
  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const r of records) {
      const id = `${r.kafkaPartition}-${r.kafkaOffset}`
      this.deliveries.set(id, (this.deliveries.get(id) ?? 0) + 1)
    }
  }
}

describe('sink task runner on Kafka, broker connections reset', { skip: kafkaSkipReason() }, () => {
  it('keeps RUNNING through 4 s of reset connections (failed commits and fetches retried) and delivers everything', async () => {
    const suffix = Math.random().toString(36).slice(2, 8)
    const topic = `blip-sink-${suffix}`
    const groupId = `connect-blip-${suffix}`
    const port = Number(kafkaBootstrap().split(':').pop())
    // Two records a put, 50 ms a put: deliveries, and commits every 20 ms, go on all through the blip.
    const RECORDS = 80
    const log = createKafkaLog({
      bootstrapServers: [kafkaBootstrap()],
      clientId: 'blip-sink',
      consumer: { heartbeatIntervalMs: 500, sessionTimeoutMs: 20_000, rebalanceTimeoutMs: 20_000 },
    })
    const task = new SlowSink()
    let runner: SinkTaskRunner | undefined
    try {
      await log.createTopics([{ name: topic, partitions: 2 }])
      const producer = log.createProducer({ clientId: 'blip-sink' })
      await producer.send(
        Array.from({ length: RECORDS }, (_, i) =>
          [0, 1].map((partition) => ({
            topic,
            partition,
            key: null,
            value: new TextEncoder().encode(`${i}`),
          })),
        ).flat(),
      )
      await producer.close()
      const started = startRunner(
        log.createConsumer({ groupId, clientId: 'blip-sink', maxPollRecords: 2 }),
        task,
        { flushIntervalMs: 20, topics: [topic] },
      )
      runner = started.runner
      await until(() => task.deliveries.size > 0, 'the first records delivered', 20_000)
      const deadline = Date.now() + 4000
      let resets = 0
      while (Date.now() < deadline) {
        resets += await resetOwnConnections(port)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      assert.ok(resets > 0, 'the consumer had broker connections to reset')
      await eventually(
        async () => {
          if (started.states.includes('FAILED')) return false
          const offsets = await log.groupOffsets(groupId)
          return offsets.get(tpKey({ topic, partition: 0 })) === RECORDS &&
            offsets.get(tpKey({ topic, partition: 1 })) === RECORDS
            ? true
            : undefined
        },
        60_000,
        `offsets ${RECORDS} committed`,
      )
      assert.equal(runner.state, 'RUNNING')
      assertNeverFailed(started.states)
      for (let i = 0; i < RECORDS; i++) {
        for (const partition of [0, 1]) assert.ok((task.deliveries.get(`${partition}-${i}`) ?? 0) >= 1)
      }
    } finally {
      await runner?.stop(10_000)
      await log.close()
    }
  })
})
