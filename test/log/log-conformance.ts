/**
 * The `Log` conformance suite: every backend (embedded, Kafka) runs these tests, so the runtime can
 * rely on the contract written in `src/log/log.ts` whichever log it talks to.
 *
 * The suite shares one log per run and makes every topic and group name unique, so it can run against
 * a shared Kafka broker. Waits are generous where a real broker is slow (a group join can take
 * seconds), but each wait ends in a failure that says what was expected and what happened.
 *
 * Usage, in a `*.test.ts` file:
 *
 * ```ts
 * runLogConformance('embedded', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'sluice-'))
 *   const log = await createEmbeddedLog({ dir })
 *   return { log, cleanup: async () => { await log.close(); await rm(dir, { recursive: true }) } }
 * })
 * ```
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConnectError } from '../../src/api/errors.ts'
import {
  type ConsumerOptions,
  type Log,
  type LogConsumer,
  type LogProducer,
  type LogRecord,
  type ProduceRecord,
  type RebalanceListener,
  type TopicPartition,
  tpKey,
} from '../../src/log/log.ts'
import { partitionForKey } from '../../src/log/murmur2.ts'

export interface LogUnderTest {
  log: Log
  /** Closes the log and removes whatever `makeLog` created. */
  cleanup(): Promise<void>
}

/** How long a group change (join, leave, new topic matching a pattern) may take to reach every member. */
const REBALANCE_MS = 30_000
/** Upper bound of one test, well above the waits inside it. */
const TEST_TIMEOUT_MS = 120_000
/** How long closing one consumer or producer may take before the test fails instead of hanging. */
const CLOSE_MS = 15_000

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (s: string): Uint8Array => encoder.encode(s)
const text = (b: Uint8Array | null): string | null => (b === null ? null : decoder.decode(b))

function unique(prefix: string): string {
  return `conformance-${prefix}-${randomUUID().slice(0, 8)}`
}

function tp(topic: string, partition: number): TopicPartition {
  return { topic, partition }
}

function sortedTps(tps: readonly TopicPartition[]): string[] {
  return tps.map((x) => `${x.topic}/${x.partition}`).sort()
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls until `done(all records so far)` holds; fails with what was received when time runs out. */
async function pollUntil(
  consumer: LogConsumer,
  done: (records: LogRecord[]) => boolean,
  timeoutMs: number,
  what: string,
): Promise<LogRecord[]> {
  const records: LogRecord[] = []
  const deadline = Date.now() + timeoutMs
  while (!done(records)) {
    if (Date.now() >= deadline) {
      const got = records.map((r) => `${r.topic}/${r.partition}@${r.offset}`).join(', ')
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; received [${got}]`)
    }
    records.push(...(await consumer.poll(200)))
  }
  return records
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() >= deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

function valuesOf(records: readonly LogRecord[]): (string | null)[] {
  return records.map((r) => text(r.value))
}

function recordsTo(topic: string, partition: number, values: readonly string[]): ProduceRecord[] {
  return values.map((v) => ({ topic, partition, key: null, value: bytes(v) }))
}

function range(n: number, prefix = 'v'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
}

/**
 * One group member of one topic, watching the contract from outside: it tracks the partitions the
 * listener says it holds, and records any record of a partition it does not hold and any callback
 * run outside `poll()`. Its revoke callback commits the positions of the revoked partitions (as a sink
 * task does) and then takes `revokeDelayMs`, so a log that hands partitions over before the callback
 * finished is caught.
 */
class Member {
  readonly name: string
  readonly topic: string
  readonly consumer: LogConsumer
  readonly timeline: string[]
  readonly owned = new Set<number>()
  readonly records: LogRecord[] = []
  readonly violations: string[] = []
  /** The offset this member committed for a partition when it gave the partition up. */
  readonly committedOnRevoke = new Map<number, number>()
  /** The first offset this member received for a partition after (re)gaining it. */
  readonly firstOffsetAfterAssign = new Map<number, number>()
  readonly revokeDelayMs: number
  inPoll = false
  closing = false

  constructor(name: string, topic: string, consumer: LogConsumer, timeline: string[], revokeDelayMs = 300) {
    this.name = name
    this.topic = topic
    this.consumer = consumer
    this.timeline = timeline
    this.revokeDelayMs = revokeDelayMs
  }

  readonly listener: RebalanceListener = {
    onPartitionsAssigned: (partitions) => {
      if (!this.inPoll) this.violations.push(`${this.name}: onPartitionsAssigned ran outside poll()`)
      for (const p of partitions) {
        this.owned.add(p.partition)
        this.firstOffsetAfterAssign.delete(p.partition)
        this.timeline.push(`${this.name} assigned ${p.partition}`)
      }
    },
    onPartitionsRevoked: async (partitions) => {
      if (!this.inPoll && !this.closing) {
        this.violations.push(`${this.name}: onPartitionsRevoked ran outside poll() and close()`)
      }
      const offsets = new Map<string, number>()
      for (const p of partitions) offsets.set(tpKey(p), this.consumer.position(p))
      await this.consumer.commit(offsets)
      await sleep(this.revokeDelayMs)
      for (const p of partitions) {
        this.committedOnRevoke.set(p.partition, offsets.get(tpKey(p))!)
        this.owned.delete(p.partition)
        this.timeline.push(`${this.name} revoked ${p.partition}`)
      }
    },
  }

  async subscribe(): Promise<void> {
    await this.consumer.subscribe([this.topic], this.listener)
  }

  async pollOnce(maxWaitMs: number): Promise<void> {
    this.inPoll = true
    let records: LogRecord[]
    try {
      records = await this.consumer.poll(maxWaitMs)
    } finally {
      this.inPoll = false
    }
    for (const r of records) {
      if (!this.owned.has(r.partition)) {
        this.violations.push(`${this.name} received ${r.topic}/${r.partition}@${r.offset} without holding it`)
      }
      if (!this.firstOffsetAfterAssign.has(r.partition)) {
        this.firstOffsetAfterAssign.set(r.partition, r.offset)
        this.timeline.push(`${this.name} record ${r.partition}`)
      }
      this.records.push(r)
    }
  }

  async close(): Promise<void> {
    this.closing = true
    await withTimeout(this.consumer.close(), CLOSE_MS, `closing ${this.name}`)
  }
}

/** Polls all members concurrently (as separate tasks would) until `done()` holds. */
async function pollTogether(members: Member[], done: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  let finished = done()
  await Promise.all(
    members.map(async (m) => {
      while (!finished && Date.now() < deadline) {
        await m.pollOnce(100)
        if (done()) finished = true
      }
    }),
  )
  if (!done()) {
    const state = members.map((m) => `${m.name} holds [${[...m.owned].sort()}]`).join('; ')
    assert.fail(
      `timed out after ${timeoutMs} ms waiting for ${what}; ${state}; timeline: ${members[0].timeline}`,
    )
  }
}

/** A test with the suite's time limit. */
function test(name: string, fn: (t: TestContext) => Promise<void>): void {
  void it(name, { timeout: TEST_TIMEOUT_MS }, fn)
}

export function runLogConformance(name: string, makeLog: () => Promise<LogUnderTest>): void {
  void describe(`Log conformance: ${name}`, () => {
    let underTest: LogUnderTest
    let log: Log

    before(async () => {
      underTest = await makeLog()
      log = underTest.log
    })
    after(async () => {
      await underTest?.cleanup()
    })

    function producer(t: TestContext): LogProducer {
      const p = log.createProducer({ clientId: unique('producer') })
      t.after(() => withTimeout(p.close(), CLOSE_MS, 'closing a producer'))
      return p
    }

    function consumer(t: TestContext, options: Partial<ConsumerOptions> & { groupId: string }): LogConsumer {
      const c = log.createConsumer({ clientId: unique('consumer'), ...options })
      // Tests may close a consumer themselves; the contract does not promise close() is idempotent.
      let closed = false
      const close = c.close.bind(c)
      c.close = () => {
        if (closed) return Promise.resolve()
        closed = true
        return close()
      }
      t.after(() => withTimeout(c.close(), CLOSE_MS, 'closing a consumer'))
      return c
    }

    async function topic(
      prefix: string,
      partitions: number,
      configs?: Record<string, string>,
    ): Promise<string> {
      const name = unique(prefix)
      await log.createTopics([{ name, partitions, configs }])
      return name
    }

    void describe('topics', () => {
      test('has a stable, non-empty cluster id', async () => {
        const id = await log.clusterId()
        assert.equal(typeof id, 'string')
        assert.ok(id.length > 0)
        assert.equal(await log.clusterId(), id)
      })

      test('creates topics with their partitions and configs, and describes only topics that exist', async () => {
        const a = unique('describe-a')
        const b = unique('describe-b')
        const missing = unique('describe-missing')
        await log.createTopics([
          { name: a, partitions: 3, configs: { 'cleanup.policy': 'compact' } },
          { name: b, partitions: 1, configs: { 'retention.ms': '3600000' } },
        ])
        const described = await log.describeTopics([a, b, missing])
        assert.deepEqual([...described.keys()].sort(), [a, b].sort())
        assert.equal(described.get(a)!.name, a)
        assert.equal(described.get(a)!.partitions, 3)
        assert.equal(described.get(a)!.configs['cleanup.policy'], 'compact')
        assert.equal(described.get(b)!.partitions, 1)
        assert.equal(described.get(b)!.configs['retention.ms'], '3600000')
      })

      test('leaves an existing topic untouched when it is created again', async () => {
        const name = await topic('idempotent', 2, { 'cleanup.policy': 'compact' })
        const other = unique('idempotent-other')
        await log.createTopics([
          { name, partitions: 5, configs: { 'cleanup.policy': 'delete' } },
          { name: other, partitions: 1 },
        ])
        const described = await log.describeTopics([name, other])
        assert.equal(described.get(name)!.partitions, 2)
        assert.equal(described.get(name)!.configs['cleanup.policy'], 'compact')
        assert.equal(described.get(other)!.partitions, 1)
      })

      test("gives a topic created with partitions -1 the backend's default count", async () => {
        const name = unique('default-partitions')
        await log.createTopics([{ name, partitions: -1, replicationFactor: -1 }])
        const partitions = (await log.describeTopics([name])).get(name)?.partitions
        assert.ok(partitions !== undefined && partitions >= 1, `partitions: ${partitions}`)
      })

      test('lists created topics and forgets deleted ones', async () => {
        const kept = await topic('list-kept', 1)
        const deleted = await topic('list-deleted', 2)
        const listed = await log.listTopics()
        assert.ok(listed.includes(kept) && listed.includes(deleted), `listTopics() = ${listed}`)
        await log.deleteTopics([deleted])
        await eventually(
          async () => {
            const now = await log.listTopics()
            return now.includes(kept) && !now.includes(deleted)
          },
          15_000,
          `${deleted} to disappear from listTopics()`,
        )
        await eventually(
          async () => !(await log.describeTopics([deleted])).has(deleted),
          15_000,
          `${deleted} to disappear from describeTopics()`,
        )
      })
    })

    void describe('produce', () => {
      test('assigns dense, increasing offsets per partition within and across sends', async (t) => {
        const name = await topic('offsets', 2)
        const p = producer(t)
        const first = await p.send([
          ...recordsTo(name, 0, ['a0', 'a1', 'a2']),
          ...recordsTo(name, 1, ['b0']),
          ...recordsTo(name, 0, ['a3', 'a4']),
        ])
        assert.deepEqual(
          first.map((m) => [m.topic, m.partition, m.offset]),
          [
            [name, 0, 0],
            [name, 0, 1],
            [name, 0, 2],
            [name, 1, 0],
            [name, 0, 3],
            [name, 0, 4],
          ],
        )
        const second = await p.send([...recordsTo(name, 1, ['b1', 'b2']), ...recordsTo(name, 0, ['a5'])])
        assert.deepEqual(
          second.map((m) => [m.partition, m.offset]),
          [
            [1, 1],
            [1, 2],
            [0, 5],
          ],
        )
        for (const m of [...first, ...second]) assert.ok(Number.isFinite(m.timestamp) && m.timestamp > 0)
      })

      test("puts keyed records in the partition Kafka's default partitioner (murmur2) chooses", async (t) => {
        const partitions = 6
        const name = await topic('keyed', partitions)
        const p = producer(t)
        const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`)
        const sent = await p.send(keys.map((k) => ({ topic: name, key: bytes(k), value: bytes(k) })))
        const again = await p.send(keys.map((k) => ({ topic: name, key: bytes(k), value: null })))
        keys.forEach((k, i) => {
          assert.equal(sent[i].partition, partitionForKey(bytes(k), partitions), `key ${k}`)
          assert.equal(again[i].partition, sent[i].partition, `key ${k} moved`)
        })
        assert.ok(new Set(sent.map((m) => m.partition)).size > 1, 'all 60 keys in one partition')
      })

      test('spreads records without a key over the partitions', async (t) => {
        const name = await topic('spread', 4)
        const p = producer(t)
        const value = new Uint8Array(2048).fill(120)
        const used = new Set<number>()
        for (let i = 0; i < 40; i++) {
          const [m] = await p.send([{ topic: name, key: null, value }])
          used.add(m.partition)
        }
        assert.ok(used.size >= 2, `40 sends of unkeyed records all went to partition ${[...used]}`)
      })

      test('round-trips keys, values, headers and timestamps, keeping null apart from empty', async (t) => {
        const name = await topic('roundtrip', 1)
        const p = producer(t)
        const before = Date.now()
        const sent = await p.send([
          {
            topic: name,
            partition: 0,
            key: bytes('k'),
            value: bytes('v'),
            timestamp: 1_600_000_000_123,
            headers: [
              { key: 'h', value: bytes('1') },
              { key: 'h', value: bytes('2') },
              { key: 'nil', value: null },
              { key: 'empty', value: new Uint8Array(0) },
            ],
          },
          { topic: name, partition: 0, key: null, value: null },
          { topic: name, partition: 0, key: new Uint8Array(0), value: new Uint8Array(0), headers: [] },
          { topic: name, partition: 0, key: new Uint8Array([0, 255, 1]), value: bytes('é✓') },
        ])
        const afterSend = Date.now()
        assert.equal(sent[0].timestamp, 1_600_000_000_123)
        const c = consumer(t, { groupId: unique('roundtrip') })
        await c.assign([tp(name, 0)])
        const records = await pollUntil(c, (rs) => rs.length >= 4, 20_000, '4 records')
        assert.equal(records.length, 4)
        const [r0, r1, r2, r3] = records
        assert.deepEqual(
          records.map((r) => [r.topic, r.partition, r.offset]),
          [0, 1, 2, 3].map((o) => [name, 0, o]),
        )
        assert.equal(text(r0.key), 'k')
        assert.equal(text(r0.value), 'v')
        assert.equal(r0.timestamp, 1_600_000_000_123)
        assert.equal(r0.timestampType, 'CreateTime')
        assert.deepEqual(
          r0.headers.map((h) => [h.key, h.value === null ? null : [...h.value]]),
          [
            ['h', [...bytes('1')]],
            ['h', [...bytes('2')]],
            ['nil', null],
            ['empty', []],
          ],
        )
        assert.equal(r1.key, null)
        assert.equal(r1.value, null)
        assert.deepEqual(r1.headers, [])
        assert.ok(
          r1.timestamp >= before - 1000 && r1.timestamp <= afterSend + 1000,
          `default timestamp ${r1.timestamp}`,
        )
        assert.equal(sent[1].timestamp, r1.timestamp)
        assert.ok(r2.key !== null && r2.key.length === 0, 'empty key came back null')
        assert.ok(r2.value !== null && r2.value.length === 0, 'empty value came back null')
        assert.deepEqual([...r3.key!], [0, 255, 1])
        assert.equal(text(r3.value), 'é✓')
      })

      test('keeps the order of concurrent sends within a partition', async (t) => {
        const name = await topic('concurrent', 2)
        const p = producer(t)
        const sends = Array.from({ length: 20 }, (_, i) =>
          p.send([...recordsTo(name, 0, range(10, `s${i}`)), ...recordsTo(name, 1, [`s${i}`])]),
        )
        const results = await Promise.all(sends)
        const p0 = results.flatMap((ms) => ms.filter((m) => m.partition === 0).map((m) => m.offset))
        const p1 = results.flatMap((ms) => ms.filter((m) => m.partition === 1).map((m) => m.offset))
        assert.deepEqual(
          p0,
          range(200).map((_, i) => i),
        )
        assert.deepEqual(
          p1,
          range(20).map((_, i) => i),
        )
        const c = consumer(t, { groupId: unique('concurrent') })
        await c.assign([tp(name, 0), tp(name, 1)])
        const records = await pollUntil(c, (rs) => rs.length >= 220, 20_000, '220 records')
        const expected = Array.from({ length: 20 }, (_, i) => range(10, `s${i}`)).flat()
        assert.deepEqual(valuesOf(records.filter((r) => r.partition === 0)), expected)
        assert.deepEqual(
          valuesOf(records.filter((r) => r.partition === 1)),
          range(20).map((_, i) => `s${i}`),
        )
      })

      test('rejects a send to a partition that does not exist with a ConnectError', async (t) => {
        const name = await topic('bad-partition', 2)
        const p = producer(t)
        await assert.rejects(p.send(recordsTo(name, 7, ['x'])), ConnectError)
      })
    })

    void describe('assigned consumers', () => {
      test('reads from the earliest offset when the group has no commit', async (t) => {
        const name = await topic('earliest', 1)
        await producer(t).send(recordsTo(name, 0, range(5)))
        const c = consumer(t, { groupId: unique('earliest'), autoOffsetReset: 'earliest' })
        await c.assign([tp(name, 0)])
        assert.deepEqual(sortedTps(c.assignment()), [`${name}/0`])
        const records = await pollUntil(c, (rs) => rs.length >= 5, 20_000, '5 records')
        assert.deepEqual(valuesOf(records), range(5))
        assert.deepEqual(
          records.map((r) => r.offset),
          [0, 1, 2, 3, 4],
        )
        assert.equal(c.position(tp(name, 0)), 5)
      })

      test('starts at the end with autoOffsetReset latest', async (t) => {
        const name = await topic('latest', 1)
        const p = producer(t)
        await p.send(recordsTo(name, 0, range(3, 'old')))
        const c = consumer(t, { groupId: unique('latest'), autoOffsetReset: 'latest' })
        await c.assign([tp(name, 0)])
        assert.deepEqual(await c.poll(500), [])
        await p.send(recordsTo(name, 0, range(2, 'new')))
        const records = await pollUntil(c, (rs) => rs.length >= 2, 20_000, '2 new records')
        assert.deepEqual(valuesOf(records), range(2, 'new'))
        assert.equal(records[0].offset, 3)
        assert.equal(c.position(tp(name, 0)), 5)
      })

      test("starts from the group's committed offset", async (t) => {
        const name = await topic('from-committed', 1)
        await producer(t).send(recordsTo(name, 0, range(6)))
        const group = unique('from-committed')
        await log.alterGroupOffsets(group, new Map([[tpKey(tp(name, 0)), 4]]))
        const c = consumer(t, { groupId: group, autoOffsetReset: 'latest' })
        await c.assign([tp(name, 0)])
        const records = await pollUntil(c, (rs) => rs.length >= 2, 20_000, '2 records')
        assert.deepEqual(valuesOf(records), ['v-4', 'v-5'])
      })

      test('seeks, and reports the position of the next record', async (t) => {
        const name = await topic('seek', 1)
        await producer(t).send(recordsTo(name, 0, range(10)))
        const c = consumer(t, { groupId: unique('seek') })
        await c.assign([tp(name, 0)])
        await pollUntil(c, (rs) => rs.length >= 10, 20_000, '10 records')
        assert.equal(c.position(tp(name, 0)), 10)
        c.seek(tp(name, 0), 3)
        assert.equal(c.position(tp(name, 0)), 3)
        const again = await pollUntil(c, (rs) => rs.length >= 7, 20_000, '7 records after seek')
        assert.deepEqual(valuesOf(again), range(10).slice(3))
        assert.equal(c.position(tp(name, 0)), 10)
      })

      test('returns at most maxPollRecords per poll', async (t) => {
        const name = await topic('max-poll', 1)
        await producer(t).send(recordsTo(name, 0, range(23)))
        const c = consumer(t, { groupId: unique('max-poll'), maxPollRecords: 5 })
        await c.assign([tp(name, 0)])
        const deadline = Date.now() + 20_000
        const all: LogRecord[] = []
        while (all.length < 23 && Date.now() < deadline) {
          const batch = await c.poll(200)
          assert.ok(batch.length <= 5, `poll returned ${batch.length} records`)
          all.push(...batch)
        }
        assert.deepEqual(valuesOf(all), range(23))
      })

      test('returns nothing of paused partitions while the others continue, and resumes where it left off', async (t) => {
        const name = await topic('pause', 2)
        const p = producer(t)
        await p.send([...recordsTo(name, 0, range(3, 'p0')), ...recordsTo(name, 1, range(3, 'p1'))])
        const c = consumer(t, { groupId: unique('pause') })
        await c.assign([tp(name, 0), tp(name, 1)])
        c.pause([tp(name, 0)])
        assert.deepEqual(sortedTps(c.paused()), [`${name}/0`])
        const first = await pollUntil(c, (rs) => rs.length >= 3, 20_000, 'the records of partition 1')
        await p.send([...recordsTo(name, 0, ['p0-late']), ...recordsTo(name, 1, ['p1-late'])])
        first.push(...(await pollUntil(c, (rs) => rs.length >= 1, 20_000, 'the late record of partition 1')))
        first.push(...(await c.poll(300)))
        assert.deepEqual(valuesOf(first), [...range(3, 'p1'), 'p1-late'])
        c.resume([tp(name, 0)])
        assert.deepEqual(c.paused(), [])
        const resumed = await pollUntil(c, (rs) => rs.length >= 4, 20_000, 'the records of partition 0')
        assert.deepEqual(valuesOf(resumed), [...range(3, 'p0'), 'p0-late'])
      })

      test('commits the offset of the next record, and a new consumer of the group resumes there', async (t) => {
        const name = await topic('commit', 2)
        await producer(t).send([...recordsTo(name, 0, range(10)), ...recordsTo(name, 1, range(4, 'b'))])
        const group = unique('commit')
        const c1 = consumer(t, { groupId: group })
        await c1.assign([tp(name, 0), tp(name, 1)])
        await pollUntil(c1, (rs) => rs.length >= 14, 20_000, '14 records')
        assert.deepEqual(await c1.committed([tp(name, 0), tp(name, 1)]), new Map())
        await c1.commit(new Map([[tpKey(tp(name, 0)), 6]]))
        assert.deepEqual(await c1.committed([tp(name, 0), tp(name, 1)]), new Map([[tpKey(tp(name, 0)), 6]]))
        await c1.commit(new Map([[tpKey(tp(name, 1)), 4]]))
        assert.deepEqual(
          await log.groupOffsets(group),
          new Map([
            [tpKey(tp(name, 0)), 6],
            [tpKey(tp(name, 1)), 4],
          ]),
        )
        await c1.close()
        const c2 = consumer(t, { groupId: group })
        await c2.assign([tp(name, 0), tp(name, 1)])
        const records = await pollUntil(c2, (rs) => rs.length >= 4, 20_000, 'the 4 uncommitted records')
        assert.deepEqual(
          records.map((r) => [r.partition, r.offset]),
          [
            [0, 6],
            [0, 7],
            [0, 8],
            [0, 9],
          ],
        )
        assert.deepEqual(await c2.poll(300), [])
      })

      test('waits up to maxWaitMs when nothing arrives', async (t) => {
        const name = await topic('wait', 1)
        const c = consumer(t, { groupId: unique('wait') })
        await c.assign([tp(name, 0)])
        const started = Date.now()
        assert.deepEqual(await c.poll(800), [])
        const waited = Date.now() - started
        assert.ok(waited >= 700, `poll(800) returned empty after ${waited} ms`)
      })

      test('returns from a waiting poll as soon as records arrive', async (t) => {
        const name = await topic('arrive', 1)
        const p = producer(t)
        const c = consumer(t, { groupId: unique('arrive') })
        await c.assign([tp(name, 0)])
        assert.deepEqual(await c.poll(300), [])
        const started = Date.now()
        const polled = c.poll(30_000)
        await sleep(300)
        await p.send(recordsTo(name, 0, ['hello']))
        const records = await polled
        const waited = Date.now() - started
        assert.deepEqual(valuesOf(records), ['hello'])
        assert.ok(waited < 10_000, `poll(30000) took ${waited} ms to return a record sent after 300 ms`)
      })

      test('wakeup() makes a waiting poll, or the next one, return at once', async (t) => {
        const name = await topic('wakeup', 1)
        const c = consumer(t, { groupId: unique('wakeup') })
        await c.assign([tp(name, 0)])
        assert.deepEqual(await c.poll(200), [])
        let started = Date.now()
        const polled = c.poll(30_000)
        await sleep(200)
        c.wakeup()
        assert.deepEqual(await polled, [])
        assert.ok(Date.now() - started < 5_000, `woken poll took ${Date.now() - started} ms`)
        c.wakeup()
        started = Date.now()
        assert.deepEqual(await c.poll(30_000), [])
        assert.ok(Date.now() - started < 5_000, `poll after wakeup() took ${Date.now() - started} ms`)
        started = Date.now()
        await c.poll(500)
        assert.ok(Date.now() - started >= 400, 'one wakeup() woke more than one poll')
      })
    })

    void describe('consumer groups', () => {
      test("calls onPartitionsAssigned inside poll before that partition's records, from the committed offset", async (t) => {
        const name = await topic('assigned-first', 2)
        await producer(t).send([...recordsTo(name, 0, range(4, 'a')), ...recordsTo(name, 1, range(4, 'b'))])
        const group = unique('assigned-first')
        await log.alterGroupOffsets(group, new Map([[tpKey(tp(name, 0)), 2]]))
        const timeline: string[] = []
        const m = new Member('m', name, consumer(t, { groupId: group }), timeline)
        await m.subscribe()
        await pollTogether([m], () => m.records.length >= 6, REBALANCE_MS, 'the 6 uncommitted records')
        assert.deepEqual(m.violations, [])
        assert.deepEqual([...m.owned].sort(), [0, 1])
        assert.deepEqual(sortedTps(m.consumer.assignment()), [`${name}/0`, `${name}/1`])
        assert.equal(timeline.indexOf('m assigned 0') < timeline.indexOf('m record 0'), true, `${timeline}`)
        assert.equal(timeline.indexOf('m assigned 1') < timeline.indexOf('m record 1'), true, `${timeline}`)
        assert.deepEqual(
          m.records
            .filter((r) => r.partition === 0)
            .map((r) => r.offset)
            .sort(),
          [2, 3],
        )
        assert.deepEqual(m.firstOffsetAfterAssign.get(1), 0)
      })

      /**
       * Brings two members of one group on a 4-partition topic (with a producer writing to every
       * partition in the background) to a settled split, checking the handover on the way.
       */
      async function twoMembers(t: TestContext, prefix: string) {
        const name = await topic(prefix, 4)
        const p = producer(t)
        await p.send([0, 1, 2, 3].flatMap((i) => recordsTo(name, i, range(3, `p${i}`))))
        let producing = true
        const background = (async () => {
          for (let n = 0; producing; n++) {
            await p.send([0, 1, 2, 3].flatMap((i) => recordsTo(name, i, [`p${i}-bg${n}`])))
            await sleep(50)
          }
        })()
        t.after(async () => {
          producing = false
          await background
        })
        const group = unique(prefix)
        const timeline: string[] = []
        const m1 = new Member('m1', name, consumer(t, { groupId: group, clientId: 'm1' }), timeline)
        await m1.subscribe()
        await pollTogether([m1], () => m1.owned.size === 4, REBALANCE_MS, 'm1 to hold all 4 partitions')

        const m2 = new Member('m2', name, consumer(t, { groupId: group, clientId: 'm2' }), timeline)
        await m2.subscribe()
        const split = () =>
          m1.owned.size > 0 &&
          m2.owned.size > 0 &&
          m1.owned.size + m2.owned.size === 4 &&
          [...m2.owned].every((i) => !m1.owned.has(i) && m2.firstOffsetAfterAssign.has(i))
        await pollTogether([m1, m2], split, REBALANCE_MS, 'm1 and m2 to split the partitions')
        assert.deepEqual([...m1.violations, ...m2.violations], [])
        return { timeline, m1, m2 }
      }

      test('splits the partitions between two members, revoking from the first before the second reads them', async (t) => {
        const { timeline, m1, m2 } = await twoMembers(t, 'split')
        assert.ok(
          timeline.some((e) => e.startsWith('m1 revoked')),
          `m1 never revoked: ${timeline}`,
        )
        for (const p of m2.owned) {
          const revoked = timeline.indexOf(`m1 revoked ${p}`)
          const read = timeline.indexOf(`m2 record ${p}`)
          assert.ok(
            revoked >= 0 && revoked < read,
            `m2 read partition ${p} before m1 revoked it: ${timeline}`,
          )
          assert.equal(
            m2.firstOffsetAfterAssign.get(p),
            m1.committedOnRevoke.get(p),
            `m2 did not start partition ${p} at the offset m1 committed while revoking it`,
          )
        }
        assert.deepEqual(
          sortedTps([...m1.consumer.assignment(), ...m2.consumer.assignment()]),
          sortedTps([...m1.owned, ...m2.owned].map((i) => tp(m1.topic, i))),
        )
      })

      test('moves the partitions of a closed member to the remaining one', async (t) => {
        const { timeline, m1, m2 } = await twoMembers(t, 'leave')
        const moved = [...m2.owned]
        await m2.close()
        assert.ok(
          moved.every((p) => timeline.includes(`m2 revoked ${p}`)),
          `close() did not revoke ${moved} through the listener: ${timeline}`,
        )
        const takenOver = () => m1.owned.size === 4 && moved.every((p) => m1.firstOffsetAfterAssign.has(p))
        await pollTogether([m1], takenOver, REBALANCE_MS, "m1 to take over and read m2's partitions")
        assert.deepEqual(m1.violations, [])
        for (const p of moved) {
          assert.equal(
            m1.firstOffsetAfterAssign.get(p),
            m2.committedOnRevoke.get(p),
            `m1 did not resume partition ${p} at the offset m2 committed when it closed`,
          )
        }
      })

      test('a RegExp subscription picks up a matching topic created later', async (t) => {
        const prefix = unique('regex')
        const first = `${prefix}-first`
        const later = `${prefix}-later`
        await log.createTopics([{ name: first, partitions: 1 }])
        const p = producer(t)
        await p.send(recordsTo(first, 0, ['one']))
        const c = consumer(t, { groupId: unique('regex') })
        const assigned: string[] = []
        await c.subscribe(new RegExp(`^${prefix}-`), {
          onPartitionsAssigned: (ps) => void assigned.push(...sortedTps(ps)),
        })
        const seen = await pollUntil(c, (rs) => rs.length >= 1, REBALANCE_MS, `the record of ${first}`)
        assert.deepEqual(valuesOf(seen), ['one'])
        // A rebalance restarts partitions at their committed offsets (Kafka's eager protocol revokes
        // every partition), so commit what was read, as the runtime does when partitions are revoked.
        await c.commit(new Map([[tpKey(tp(first, 0)), seen[0].offset + 1]]))
        await log.createTopics([{ name: later, partitions: 1 }])
        await p.send(recordsTo(later, 0, ['two']))
        const more = await pollUntil(c, (rs) => rs.length >= 1, 2 * REBALANCE_MS, `the record of ${later}`)
        assert.deepEqual(
          more.map((r) => [r.topic, text(r.value)]),
          [[later, 'two']],
        )
        assert.ok(assigned.includes(`${later}/0`), `assigned: ${assigned}`)
      })
    })

    void describe('offsets', () => {
      test('reports beginning and end offsets per partition', async (t) => {
        const name = await topic('ends', 2)
        const tps = [tp(name, 0), tp(name, 1)]
        assert.deepEqual(
          await log.endOffsets(tps),
          new Map([
            [tpKey(tps[0]), 0],
            [tpKey(tps[1]), 0],
          ]),
        )
        await producer(t).send(recordsTo(name, 0, range(5)))
        assert.deepEqual(
          await log.endOffsets(tps),
          new Map([
            [tpKey(tps[0]), 5],
            [tpKey(tps[1]), 0],
          ]),
        )
        assert.deepEqual(
          await log.beginningOffsets(tps),
          new Map([
            [tpKey(tps[0]), 0],
            [tpKey(tps[1]), 0],
          ]),
        )
      })

      test("sets and deletes a group's offsets with alterGroupOffsets", async (t) => {
        const name = await topic('alter', 3)
        await producer(t).send([0, 1, 2].flatMap((i) => recordsTo(name, i, range(5, `p${i}`))))
        const group = unique('alter')
        assert.deepEqual(await log.groupOffsets(group), new Map())
        await log.alterGroupOffsets(
          group,
          new Map([
            [tpKey(tp(name, 0)), 3],
            [tpKey(tp(name, 1)), 1],
          ]),
        )
        assert.deepEqual(
          await log.groupOffsets(group),
          new Map([
            [tpKey(tp(name, 0)), 3],
            [tpKey(tp(name, 1)), 1],
          ]),
        )
        const c = consumer(t, { groupId: group })
        assert.deepEqual(await c.committed([tp(name, 0), tp(name, 2)]), new Map([[tpKey(tp(name, 0)), 3]]))
        await c.assign([tp(name, 0), tp(name, 1)])
        const records = await pollUntil(c, (rs) => rs.length >= 6, 20_000, '6 records after the set offsets')
        assert.deepEqual(valuesOf(records).sort(), ['p0-3', 'p0-4', 'p1-1', 'p1-2', 'p1-3', 'p1-4'])
        await c.close()
        await log.alterGroupOffsets(
          group,
          new Map<string, number | null>([
            [tpKey(tp(name, 0)), null],
            [tpKey(tp(name, 2)), 2],
          ]),
        )
        assert.deepEqual(
          await log.groupOffsets(group),
          new Map([
            [tpKey(tp(name, 1)), 1],
            [tpKey(tp(name, 2)), 2],
          ]),
        )
      })
    })
  })
}
