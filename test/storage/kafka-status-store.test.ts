/**
 * The status store's writes when the broker is away: retried until they succeed (Kafka Connect's
 * KafkaStatusBackingStore retries retriable errors), unless a newer status of the same key replaces
 * them; and a cut-off worker's late write answered by the owner. On the embedded log (a real Log),
 * with its producer failing on cue.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { RetriableError } from '../../src/api/errors.ts'
import { createLogger } from '../../src/common/logger.ts'
import { createEmbeddedLog } from '../../src/log/embedded/embedded-log.ts'
import type { Log, LogProducer, ProduceRecord } from '../../src/log/log.ts'
import { KafkaStatusStore } from '../../src/storage/kafka/kafka-status-store.ts'

/** The embedded log, whose producers fail the next `failures.count` sends as a broker outage would. */
function flakyLog(log: Log, failures: { count: number; sent: string[] }): Log {
  return new Proxy(log, {
    get(target, property) {
      if (property !== 'createProducer') {
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return (options: Parameters<Log['createProducer']>[0]): LogProducer => {
        const producer = target.createProducer(options)
        return {
          send: async (records: readonly ProduceRecord[]) => {
            if (failures.count > 0) {
              failures.count--
              throw new RetriableError("cannot reach Kafka at 127.0.0.1:1 while producing to 'status'")
            }
            failures.sent.push(...records.map((r) => new TextDecoder().decode(r.value ?? new Uint8Array())))
            return producer.send(records)
          },
          close: () => producer.close(),
        }
      }
    },
  })
}

describe('status store writes while the broker is away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-status-store-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('retries a status until it is written, and skips one a newer status of the same key replaced', async () => {
    const embedded = await createEmbeddedLog({ dir: join(dir, 'log') })
    await embedded.createTopics([{ name: 'status', partitions: 1, replicationFactor: 1, configs: {} }])
    const failures = { count: 0, sent: [] as string[] }
    const store = new KafkaStatusStore(
      flakyLog(embedded, failures),
      'status',
      'test',
      createLogger({ level: 'silent' }),
      () => 1,
    )
    await store.start()
    try {
      const id = { connector: 'c', task: 0 }
      const status = (state: 'RUNNING' | 'UNASSIGNED') => ({
        state,
        trace: null,
        workerId: 'w:8083',
        generation: 1,
      })
      // More failures in a row than the store used to try (six attempts over ~6 s), then the broker is back.
      failures.count = 7
      store.onTaskStatus(id, status('RUNNING'))
      await store.flush()
      assert.deepEqual(
        failures.sent.map((v) => JSON.parse(v).state),
        ['RUNNING'],
        'the status was written once the broker answered',
      )
      // While one write retries, a newer status of the same task is queued: only the newer is written.
      failures.sent.length = 0
      failures.count = 2
      store.onTaskStatus(id, status('UNASSIGNED'))
      store.onTaskStatus(id, status('RUNNING'))
      await store.flush()
      assert.deepEqual(
        failures.sent.map((v) => JSON.parse(v).state),
        ['RUNNING'],
      )
    } finally {
      await store.stop()
      await embedded.close()
    }
  })

  it('drops a late UNASSIGNED once another worker reported the task in a newer generation', async () => {
    const embedded = await createEmbeddedLog({ dir: join(dir, 'log-2') })
    await embedded.createTopics([{ name: 'status', partitions: 1, replicationFactor: 1, configs: {} }])
    const logger = createLogger({ level: 'silent' })
    const cutOff = { count: 0, sent: [] as string[] }
    const fine = { count: 0, sent: [] as string[] }
    // Worker a lost its membership in generation 1 during a broker outage; worker b runs the task in 2.
    const a = new KafkaStatusStore(flakyLog(embedded, cutOff), 'status', 'a', logger, () => 1)
    const b = new KafkaStatusStore(flakyLog(embedded, fine), 'status', 'b', logger, () => 2)
    await a.start()
    await b.start()
    const id = { connector: 'c', task: 0 }
    try {
      cutOff.count = 3
      a.onTaskStatus(id, { state: 'UNASSIGNED', trace: null, workerId: 'a:8083', generation: 1 })
      b.onTaskStatus(id, { state: 'RUNNING', trace: null, workerId: 'b:8083', generation: 2 })
      await b.flush()
      await a.flush()
      assert.deepEqual(cutOff.sent, [], "worker a's stale UNASSIGNED was written over worker b's RUNNING")
      // A task of generation 1 that only now reports its stop, while the group is at generation 2:
      // it carries the generation it was assigned in, so worker b's RUNNING stands.
      const late = new KafkaStatusStore(flakyLog(embedded, cutOff), 'status', 'a2', logger, () => 2)
      await late.start()
      late.onTaskStatus(id, { state: 'UNASSIGNED', trace: null, workerId: 'a:8083', generation: 1 })
      await late.flush()
      await late.stop()
      assert.deepEqual(cutOff.sent, [], 'a late UNASSIGNED of generation 1 overwrote generation 2')
      const reader = new KafkaStatusStore(embedded, 'status', 'reader', logger, () => 2)
      await reader.start()
      assert.equal(reader.task(id)?.state, 'RUNNING')
      assert.equal(reader.task(id)?.workerId, 'b:8083')
      await reader.stop()
    } finally {
      await a.stop()
      await b.stop()
      await embedded.close()
    }
  })

  it("answers a cut-off worker's status that lands after the owner's with the owner's status again", async () => {
    const embedded = await createEmbeddedLog({ dir: join(dir, 'log-3') })
    await embedded.createTopics([{ name: 'status', partitions: 1, replicationFactor: 1, configs: {} }])
    const logger = createLogger({ level: 'silent' })
    const sent = { count: 0, sent: [] as string[] }
    // Worker b runs the task in generation 2. Worker a ran it in generation 1 and was cut off from
    // the broker; what it sent meanwhile arrives when the partition heals, after b's status: a
    // RUNNING with the trace of a failed write, then the UNASSIGNED of its stop (its view of the
    // topic ends with its own RUNNING, so that write looked safe).
    const a = new KafkaStatusStore(embedded, 'status', 'a', logger, () => 1)
    const b = new KafkaStatusStore(flakyLog(embedded, sent), 'status', 'b', logger, () => 2)
    await a.start()
    await b.start()
    const id = { connector: 'c', task: 0 }
    const owner = { state: 'RUNNING' as const, trace: null, workerId: 'b:8083', generation: 2 }
    try {
      b.onTaskStatus(id, owner)
      await b.flush()
      await b.readToEnd()
      a.onTaskStatus(id, {
        state: 'RUNNING',
        trace: 'Kafka error PRODUCER_FENCED',
        workerId: 'a:8083',
        generation: 1,
      })
      await a.flush()
      a.onTaskStatus(id, { state: 'UNASSIGNED', trace: null, workerId: 'a:8083', generation: 1 })
      await a.flush()
      // b reads the late statuses and writes its own again.
      await b.readToEnd()
      await b.flush()
      await b.readToEnd()
      assert.ok(sent.sent.length >= 2, `worker b wrote its status ${sent.sent.length} times`)
      const reader = new KafkaStatusStore(embedded, 'status', 'reader', logger, () => 2)
      await reader.start()
      assert.deepEqual(reader.task(id), owner)
      await reader.stop()
      assert.deepEqual(b.task(id), owner, "worker b's own view")
      // The work moves on: a status of another worker in a newer generation is not answered.
      const c = new KafkaStatusStore(embedded, 'status', 'c', logger, () => 3)
      await c.start()
      c.onTaskStatus(id, { state: 'RUNNING', trace: null, workerId: 'c:8083', generation: 3 })
      await c.flush()
      const before = sent.sent.length
      await b.readToEnd()
      await b.flush()
      assert.equal(sent.sent.length, before, 'worker b wrote nothing more')
      assert.equal(b.task(id)?.workerId, 'c:8083')
      await c.stop()
    } finally {
      await a.stop()
      await b.stop()
      await embedded.close()
    }
  })
})
