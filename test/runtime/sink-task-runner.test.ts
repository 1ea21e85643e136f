/**
 * The sink task runner against a scripted in-memory consumer (pure logic): what the runner does when
 * the group rebalances, a member is fenced, a commit or a fetch fails, a put is retried. The same
 * situations against the real Kafka: sink-task-runner-kafka.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { SinkOffsets, SinkTopicPartition } from '../../src/api/connector.ts'
import { SinkTask } from '../../src/api/connector.ts'
import { ConnectError, RetriableError } from '../../src/api/errors.ts'
import type { SinkRecord } from '../../src/api/records.ts'
import {
  type LogConsumer,
  type LogRecord,
  type RebalanceListener,
  type TopicPartition,
  tpKey,
} from '../../src/log/log.ts'
import type { ErrorReporter, FailureContext } from '../../src/runtime/errors/error-reporter.ts'
import { assertNeverFailed, startRunner, until } from '../helpers/sink-runner.ts'

const TOPIC = 'orders'
const P0: TopicPartition = { topic: TOPIC, partition: 0 }
const P1: TopicPartition = { topic: TOPIC, partition: 1 }

/**
 * An in-memory group consumer driven by the test. Group changes (`revoke`, `fence`, `assign`) take
 * effect inside the next `poll()`, through the listener, as with the real logs. A fenced member's
 * commits fail with a CONFLICT, as Kafka's coordinator refuses them (UNKNOWN_MEMBER_ID).
 */
class ScriptedConsumer implements LogConsumer {
  readonly log = new Map<string, LogRecord[]>()
  readonly committedOffsets = new Map<string, number>()
  readonly commits: Map<string, number>[] = []
  readonly #assigned = new Map<string, TopicPartition>()
  readonly #positions = new Map<string, number>()
  readonly #paused = new Set<string>()
  readonly #events: (() => Promise<void>)[] = []
  #listener: RebalanceListener = {}
  #fenced = false
  #woken = false
  polls = 0
  /** Errors the next commits / polls throw, in order. */
  readonly commitErrors: Error[] = []
  readonly pollErrors: Error[] = []

  constructor(partitions: TopicPartition[], recordsPerPartition: number) {
    for (const tp of partitions) {
      const records: LogRecord[] = []
      for (let offset = 0; offset < recordsPerPartition; offset++) {
        records.push({
          topic: tp.topic,
          partition: tp.partition,
          offset,
          timestamp: 0,
          timestampType: 'CreateTime',
          key: null,
          value: new TextEncoder().encode(`${tp.partition}-${offset}`),
          headers: [],
        })
      }
      this.log.set(tpKey(tp), records)
    }
  }

  /** The group gives these partitions to this member (positions from the committed offsets). */
  assignLater(tps: TopicPartition[]): void {
    this.#events.push(async () => {
      for (const tp of tps) {
        this.#assigned.set(tpKey(tp), tp)
        this.#positions.set(tpKey(tp), this.committedOffsets.get(tpKey(tp)) ?? 0)
      }
      await this.#listener.onPartitionsAssigned?.(tps)
    })
  }

  /** A rebalance takes these partitions (by default all, as the eager protocol does) away. */
  revokeLater(only?: TopicPartition[]): void {
    this.#events.push(async () => {
      const tps = only ?? [...this.#assigned.values()]
      await this.#listener.onPartitionsRevoked?.(tps)
      this.#drop(tps)
    })
  }

  /** The coordinator drops this member (session expired, removed): commits fail from now on, the next poll loses everything. */
  fence(): void {
    this.#fenced = true
    this.#events.push(async () => {
      const tps = [...this.#assigned.values()]
      if (this.#listener.onPartitionsLost) await this.#listener.onPartitionsLost(tps)
      else await this.#listener.onPartitionsRevoked?.(tps)
      this.#drop(tps)
      this.#fenced = false // rejoined as a new member
    })
  }

  #drop(tps: TopicPartition[]): void {
    for (const tp of tps) {
      this.#assigned.delete(tpKey(tp))
      this.#positions.delete(tpKey(tp))
      this.#paused.delete(tpKey(tp))
    }
  }

  async subscribe(_topics: readonly string[] | RegExp, listener: RebalanceListener = {}): Promise<void> {
    this.#listener = listener
  }

  async assign(): Promise<void> {
    throw new Error('not scripted')
  }

  async poll(maxWaitMs: number): Promise<LogRecord[]> {
    this.polls++
    const error = this.pollErrors.shift()
    if (error) throw error
    while (this.#events.length > 0) await this.#events.shift()!()
    if (this.#woken) {
      this.#woken = false
      return []
    }
    const out: LogRecord[] = []
    for (const [key, tp] of this.#assigned) {
      if (this.#paused.has(key)) continue
      const position = this.#positions.get(key)!
      const records = this.log.get(key)!.slice(position, position + 3)
      if (records.length === 0) continue
      out.push(...records)
      this.#positions.set(key, position + records.length)
      void tp
    }
    if (out.length === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(maxWaitMs, 5)))
    return out
  }

  wakeup(): void {
    this.#woken = true
  }

  assignment(): TopicPartition[] {
    return [...this.#assigned.values()]
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.add(this.#require(tp))
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(this.#require(tp))
  }

  paused(): TopicPartition[] {
    return [...this.#paused].map((key) => this.#assigned.get(key)!)
  }

  seek(partition: TopicPartition, offset: number): void {
    this.#positions.set(this.#require(partition), offset)
  }

  position(partition: TopicPartition): number {
    return this.#positions.get(this.#require(partition))!
  }

  async commit(offsets: ReadonlyMap<string, number>): Promise<void> {
    const error = this.commitErrors.shift()
    if (error) throw error
    if (this.#fenced) {
      throw new ConnectError('CONFLICT', 'cannot commit: the member was fenced', { retriable: true })
    }
    for (const key of offsets.keys()) if (!this.#assigned.has(key)) throw new Error(`${key} is not assigned`)
    this.commits.push(new Map(offsets))
    for (const [key, offset] of offsets) this.committedOffsets.set(key, offset)
  }

  async committed(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    for (const tp of partitions) {
      const offset = this.committedOffsets.get(tpKey(tp))
      if (offset !== undefined) out.set(tpKey(tp), offset)
    }
    return out
  }

  async close(): Promise<void> {
    const tps = [...this.#assigned.values()]
    if (tps.length > 0) await this.#listener.onPartitionsRevoked?.(tps)
    this.#drop(tps)
  }

  #require(tp: TopicPartition): string {
    const key = tpKey(tp)
    if (!this.#assigned.has(key)) throw new Error(`${key} is not assigned`)
    return key
  }
}

/** A sink that records what it was given; `failPuts` makes the next puts throw a RetriableError. */
class RecordingSink extends SinkTask {
  readonly delivered: string[] = []
  readonly opened: string[][] = []
  readonly closed: string[][] = []
  readonly putAttempts: string[][] = []
  failPuts = 0
  version(): string {
    return '1'
  }
  start(): void {
    this.context.timeout(20)
  }
  stop(): void {}
  async put(records: SinkRecord[]): Promise<void> {
    this.putAttempts.push(records.map((r) => String(r.value)))
    if (this.failPuts > 0 && records.length > 0) {
      this.failPuts--
      this.context.timeout(20)
      throw new RetriableError('the destination is busy')
    }
    for (const r of records) this.delivered.push(String(r.value))
  }
  override open(tps: SinkTopicPartition[]): void {
    this.opened.push(tps.map(tpKey))
  }
  override close(tps: SinkTopicPartition[]): void {
    this.closed.push(tps.map(tpKey))
  }
  override async preCommit(offsets: SinkOffsets): Promise<SinkOffsets> {
    return offsets
  }
}

/**
 * A sink that reports every record whose value ends in `-1` as errant, during its put or after it
 * (as the JDBC sink does for the rows of a put queued behind a write that fails).
 */
class ReportingSink extends RecordingSink {
  readonly late: SinkRecord[] = []
  override async put(records: SinkRecord[]): Promise<void> {
    await super.put(records)
    const reporter = this.context.errantRecordReporter()!
    for (const r of records) {
      if (String(r.value).endsWith('-1')) await reporter.report(r, new Error('bad row'))
      if (String(r.value) === '0-0') this.late.push(r)
    }
  }
  reportLate(record = this.late[0]!): Promise<void> {
    return this.context.errantRecordReporter()!.report(record, new Error('late'))
  }
}

describe('sink task runner (scripted consumer)', () => {
  it('reports the consumed record itself for an errant record, in its put or after its batch; a copy made later is re-serialized', async () => {
    const consumer = new ScriptedConsumer([P0, P1], 6)
    consumer.assignLater([P0, P1])
    const reports: FailureContext[] = []
    const reporter: ErrorReporter = { report: async (c) => void reports.push(c), close: async () => {} }
    const task = new ReportingSink()
    const { runner, states } = startRunner(consumer, task, { reporters: [reporter] })
    try {
      await until(() => task.delivered.length === 12, 'all 12 records delivered')
      assert.deepEqual(
        reports.map((r) => [r.consumed?.partition, r.consumed?.offset, r.stage]),
        [
          [0, 1, 'TASK_PUT'],
          [1, 1, 'TASK_PUT'],
        ],
      )
      // The very objects the consumer returned: found in the batch, not serialized again.
      assert.equal(reports[0].consumed, consumer.log.get(tpKey(P0))![1])
      assert.equal(reports[1].consumed, consumer.log.get(tpKey(P1))![1])
      // A record handed to an earlier put, reported once later batches came: still the consumed record,
      // with the bytes as consumed (not converted back, which may differ from them).
      await task.reportLate()
      assert.equal(reports.length, 3)
      assert.equal(reports[2].consumed, consumer.log.get(tpKey(P0))![0])
      // A copy the task made of it is not known: it is serialized again from the SinkRecord.
      await task.reportLate(task.late[0]!.newRecord({}))
      assert.equal(reports.length, 4)
      assert.notEqual(reports[3].consumed, consumer.log.get(tpKey(P0))![0])
      assert.deepEqual(
        [
          reports[3].consumed?.partition,
          reports[3].consumed?.offset,
          Buffer.from(reports[3].consumed!.value!).toString(),
        ],
        [0, 0, '0-0'],
      )
      assertNeverFailed(states)
    } finally {
      await runner.stop(5000)
    }
  })

  it('closes lost partitions without committing, stays RUNNING and gets them back from the last commit', async () => {
    const consumer = new ScriptedConsumer([P0, P1], 6)
    consumer.committedOffsets.set(tpKey(P0), 0)
    consumer.assignLater([P0, P1])
    const task = new RecordingSink()
    const { runner, states } = startRunner(consumer, task)
    try {
      await until(() => task.delivered.length === 12, 'all 12 records delivered')
      const commitsBefore = consumer.commits.length
      consumer.fence()
      consumer.assignLater([P0, P1])
      await until(() => task.opened.length === 2, 'the partitions assigned again')
      assert.deepEqual(task.closed, [[tpKey(P0), tpKey(P1)]], 'task.close was called for the lost partitions')
      assert.equal(consumer.commits.length, commitsBefore, 'nothing was committed for lost partitions')
      // Nothing was committed: every record is delivered again, from the last committed offset.
      await until(() => task.delivered.length === 24, 'the records since the last commit delivered again')
      assert.equal(runner.state, 'RUNNING')
      assertNeverFailed(states)
    } finally {
      await runner.stop(5000)
    }
  })

  it('survives a commit refused with CONFLICT (the group rebalanced) and commits at the next one', async () => {
    const consumer = new ScriptedConsumer([P0], 3)
    consumer.assignLater([P0])
    consumer.commitErrors.push(
      new ConnectError(
        'CONFLICT',
        "cannot commit offsets of group 'connect-scripted': the group rebalanced",
        {
          retriable: true,
        },
      ),
    )
    const task = new RecordingSink()
    const { runner, states } = startRunner(consumer, task, { flushIntervalMs: 20 })
    try {
      await until(() => consumer.committedOffsets.get(tpKey(P0)) === 3, 'offset 3 committed')
      assert.equal(consumer.commitErrors.length, 0, 'the refused commit was attempted')
      assert.equal(runner.state, 'RUNNING')
      assertNeverFailed(states)
    } finally {
      await runner.stop(5000)
    }
  })

  it('logs a commit that fails because the broker is away and commits at the next one', async () => {
    const consumer = new ScriptedConsumer([P0], 3)
    consumer.assignLater([P0])
    for (let i = 0; i < 3; i++) {
      consumer.commitErrors.push(
        new ConnectError(
          'RETRIABLE',
          "cannot reach Kafka at 127.0.0.1:1 while committing offsets of group 'connect-scripted': connection refused",
          { retriable: true },
        ),
      )
    }
    const task = new RecordingSink()
    const { runner, states } = startRunner(consumer, task, { flushIntervalMs: 20 })
    try {
      await until(() => consumer.committedOffsets.get(tpKey(P0)) === 3, 'offset 3 committed')
      assert.equal(runner.state, 'RUNNING')
      assertNeverFailed(states)
    } finally {
      await runner.stop(5000)
    }
  })

  it('commits nothing once cancelled, even when its stuck put returns later', async () => {
    const consumer = new ScriptedConsumer([P0], 3)
    consumer.assignLater([P0])
    const release = Promise.withResolvers<void>()
    class StuckSink extends RecordingSink {
      override async put(records: SinkRecord[]): Promise<void> {
        await super.put(records)
        if (records.length > 0) await release.promise
      }
    }
    const task = new StuckSink()
    const { runner } = startRunner(consumer, task, { flushIntervalMs: 20 })
    await until(() => task.delivered.length === 3, 'the batch in put')
    assert.equal(await runner.stop(100), false, 'the stuck task did not stop in time')
    release.resolve()
    // The abandoned loop ends now: its revoke and final commit must not write offsets (the partitions
    // may belong to another worker's task by now).
    await until(() => task.closed.length === 1, 'the abandoned loop closed its partitions')
    assert.deepEqual(consumer.commits, [], 'a cancelled sink committed offsets')
  })

  it('fails on a commit error that retrying cannot fix', async () => {
    const consumer = new ScriptedConsumer([P0], 3)
    consumer.assignLater([P0])
    consumer.commitErrors.push(new ConnectError('CONNECT', 'Kafka error GROUP_AUTHORIZATION_FAILED'))
    const task = new RecordingSink()
    const { runner, states } = startRunner(consumer, task, { flushIntervalMs: 20 })
    try {
      await until(() => states.includes('FAILED'), 'the task failed')
    } finally {
      await runner.stop(5000)
    }
  })

  it('keeps polling while a put is retried, and gives up its partitions in a rebalance', async () => {
    const consumer = new ScriptedConsumer([P0, P1], 3)
    consumer.assignLater([P0, P1])
    const task = new RecordingSink()
    task.failPuts = Number.POSITIVE_INFINITY
    const { runner, states } = startRunner(consumer, task)
    try {
      await until(() => task.putAttempts.filter((a) => a.length > 0).length >= 2, 'the put retried')
      const polls = consumer.polls
      await until(() => consumer.polls >= polls + 3, 'the consumer polled during the redelivery')
      assert.deepEqual(consumer.paused().map(tpKey).sort(), [tpKey(P0), tpKey(P1)], 'everything paused')
      consumer.revokeLater()
      await until(() => task.closed.length === 1, 'the partitions revoked')
      const attempts = task.putAttempts.length
      task.failPuts = 0
      // The batch of the revoked partitions is not redelivered: nobody owns them here any more.
      await until(() => consumer.polls >= polls + 10, 'more polls')
      assert.equal(
        task.putAttempts.slice(attempts).filter((a) => a.length > 0).length,
        0,
        'no put of records of revoked partitions',
      )
      assert.equal(consumer.commits.length, 0, 'nothing delivered, nothing committed')
      // Given back, they are read again from the committed offsets, unpaused.
      consumer.assignLater([P0, P1])
      await until(() => task.delivered.length === 6, 'all records delivered after the rebalance')
      assert.deepEqual(consumer.paused(), [])
      assertNeverFailed(states)
    } finally {
      await runner.stop(5000)
    }
  })

  it('redelivers only the records of the partitions it still owns after a revoke', async () => {
    const consumer = new ScriptedConsumer([P0, P1], 2)
    consumer.assignLater([P0, P1])
    const task = new RecordingSink()
    task.failPuts = Number.POSITIVE_INFINITY
    const { runner, states } = startRunner(consumer, task)
    try {
      await until(() => task.putAttempts.filter((a) => a.length > 0).length >= 1, 'a put failed')
      assert.deepEqual(task.putAttempts[task.putAttempts.length - 1].sort(), ['0-0', '0-1', '1-0', '1-1'])
      consumer.revokeLater([P0])
      await until(() => task.closed.length === 1, 'P0 revoked')
      task.failPuts = 0
      await until(() => task.delivered.length === 2, 'the records of P1 delivered')
      assert.deepEqual(task.delivered.sort(), ['1-0', '1-1'])
      assert.deepEqual(consumer.paused(), [], 'P1 resumed once its batch went through')
      assertNeverFailed(states)
    } finally {
      await runner.stop(5000)
    }
  })

  it('polls again after a retriable fetch error', async () => {
    const consumer = new ScriptedConsumer([P0], 3)
    consumer.assignLater([P0])
    consumer.pollErrors.push(
      new ConnectError(
        'RETRIABLE',
        'cannot reach Kafka at 127.0.0.1:1 while fetching records: connection refused',
        { retriable: true },
      ),
      new ConnectError(
        'RETRIABLE',
        'cannot reach Kafka at 127.0.0.1:1 while fetching records: connection refused',
        { retriable: true },
      ),
    )
    const task = new RecordingSink()
    const { runner, states } = startRunner(consumer, task)
    try {
      await until(() => task.delivered.length === 3, 'the records delivered after the fetch errors')
      assert.equal(runner.state, 'RUNNING')
      assertNeverFailed(states)
    } finally {
      await runner.stop(5000)
    }
  })

  it('fails when the task cannot close its partitions as it stops', async () => {
    const consumer = new ScriptedConsumer([P0], 3)
    consumer.assignLater([P0])
    const task = new RecordingSink()
    task.close = () => {
      throw new Error('cannot close the writer')
    }
    const { runner, states } = startRunner(consumer, task)
    await until(() => task.delivered.length === 3, 'records delivered')
    await runner.stop(5000)
    assert.equal(states[states.length - 1], 'FAILED', states.join(' → '))
  })

  it('fails when the task cannot close its partitions in a rebalance', async () => {
    const consumer = new ScriptedConsumer([P0], 3)
    consumer.assignLater([P0])
    const task = new RecordingSink()
    task.close = () => {
      throw new Error('cannot close the writer')
    }
    const { runner, states } = startRunner(consumer, task)
    try {
      await until(() => task.delivered.length === 3, 'records delivered')
      consumer.revokeLater()
      await until(() => states.includes('FAILED'), 'the task failed')
    } finally {
      await runner.stop(5000)
    }
  })
})
