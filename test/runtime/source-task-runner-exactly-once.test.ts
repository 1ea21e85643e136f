/**
 * The source task runner's exactly-once path (`transactional` set, decision 0024) on a scripted
 * transactional producer whose commits are held until the test lets them go:
 * - the next poll and its conversion run while the previous transaction commits (the overlap that
 *   makes `transaction.boundary=poll` cheap), but the next transaction begins only after that commit;
 * - every transaction carries the offsets of its own records, in the same send as its last records;
 * - the task's `commit()` is called after each commit and never while `poll()` runs;
 * - a commit that fails for good fails the task, and nothing is committed after it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Props, SourceTask } from '../../src/api/connector.ts'
import { ConnectError, RetriableError } from '../../src/api/errors.ts'
import { SourceRecord } from '../../src/api/records.ts'
import { createLogger, Logger } from '../../src/common/logger.ts'
import type { StatusListener } from '../../src/common/states.ts'
import { StringConverter } from '../../src/converters/string-converter.ts'
import type { LogProducer, ProduceRecord, RecordMetadata, TransactionalProducer } from '../../src/log/log.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'
import { ErrorHandler, errorHandlerConfig } from '../../src/runtime/errors/error-handler.ts'
import type { ErrorReporter } from '../../src/runtime/errors/error-reporter.ts'
import { ConnectorOffsetReader, ConnectorOffsetWriter } from '../../src/runtime/offset-storage.ts'
import { SourceTaskRunner } from '../../src/runtime/source-task-runner.ts'
import { TopicCreator } from '../../src/runtime/topic-creator.ts'
import { TransformationChain } from '../../src/runtime/transformation-chain.ts'
import type { OffsetStore } from '../../src/storage/offset-store.ts'
import { eventually } from '../helpers/rest.ts'

const TOPIC = 'out'
const OFFSETS = 'offsets'

/** What happened, in order: the task's polls and commits, the producer's calls. */
type Event = string

class HeldCommitProducer implements TransactionalProducer {
  readonly transactionalId = 'test-connector-0'
  readonly events: Event[]
  /** The records of each committed transaction (values), offsets topic included. */
  readonly committed: string[][] = []
  readonly #held: (() => void)[] = []
  #open: string[] | null = null
  #failCommit: Error | null = null
  /** Errors the next sends throw, in order (the transaction stays open, as on a real producer). */
  readonly sendErrors: Error[] = []

  constructor(events: Event[]) {
    this.events = events
  }

  async init(): Promise<void> {}

  async begin(): Promise<void> {
    if (this.#open !== null) {
      // As both real producers refuse it.
      this.events.push('begin while open')
      throw new ConnectError('CONNECT', 'a transaction is already open')
    }
    this.events.push('begin')
    this.#open = []
  }

  async send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]> {
    assert.notEqual(this.#open, null, 'send() outside a transaction')
    const failure = this.sendErrors.shift()
    if (failure) {
      this.events.push('send failed')
      throw failure
    }
    this.events.push(`send ${records.map((r) => `${r.topic}:${Buffer.from(r.value!).toString()}`).join(',')}`)
    this.#open!.push(...records.map((r) => `${r.topic}:${Buffer.from(r.value!).toString()}`))
    return records.map((r, offset) => ({ topic: r.topic, partition: 0, offset, timestamp: 0 }))
  }

  commit(): Promise<void> {
    this.events.push('commit requested')
    return new Promise((resolve, reject) => {
      this.#held.push(() => {
        if (this.#failCommit) {
          reject(this.#failCommit)
          return
        }
        this.committed.push(this.#open!)
        this.#open = null
        this.events.push('committed')
        resolve()
      })
    })
  }

  async abort(): Promise<void> {
    this.#open = null
  }

  async close(): Promise<void> {}

  /**
   * Lets the oldest held commit finish, or fail for good: by default with an error that is fatal and
   * not a fencing (a fenced task first waits for its worker to stop it).
   */
  release(fail: boolean | Error = false): boolean {
    const next = this.#held.shift()
    if (!next) return false
    this.#failCommit =
      fail === true
        ? new ConnectError('CONNECT', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED: not authorized')
        : fail || null
    next()
    return true
  }

  get held(): number {
    return this.#held.length
  }
}

/** A task emitting `batches` polls of two records each, then nothing; notes its polls and commits. */
function scriptedTask(events: Event[], batches: number) {
  let next = 0
  let polling = false
  return class extends SourceTask {
    version(): string {
      return '1'
    }
    start(_props: Props): void {}
    async poll(): Promise<SourceRecord[] | null> {
      polling = true
      try {
        await new Promise((resolve) => setImmediate(resolve))
        if (next >= batches) {
          await new Promise((resolve) => setTimeout(resolve, 5))
          return null
        }
        const n = ++next
        events.push(`poll ${n}`)
        return [1, 2].map(
          (i) =>
            new SourceRecord({
              sourcePartition: { file: 'f' },
              sourceOffset: { position: n * 10 + i },
              topic: TOPIC,
              value: `${n}.${i}`,
            }),
        )
      } finally {
        polling = false
      }
    }
    override commit(): void {
      assert.equal(polling, false, 'commit() was called while poll() ran')
      events.push('task commit')
    }
    stop(): void {}
  }
}

function runner(
  events: Event[],
  producer: HeldCommitProducer,
  batches: number,
  extra: {
    Task?: new () => SourceTask
    ownOffsetStore?: { start(): Promise<void>; close(): Promise<void> }
    beforeCommit?: (entries: ReadonlyMap<string, string | null>) => Promise<void>
    /** Counts the closes of the producers and of the error handler's reporter. */
    closes?: string[]
    /** The traces of the task's status updates. */
    traces?: string[]
    /** The runner's log lines (info and above). */
    logs?: string[]
    /** Whether the log's transactions are a broker's (Kafka) rather than local (embedded). */
    brokerTransactions?: boolean
    /** The value converter (a StringConverter by default). */
    valueConverter?: StringConverter
  } = {},
): SourceTaskRunner {
  const logs = extra.logs
  const logger = logs ? new Logger((line) => void logs.push(line), 'info') : createLogger({ level: 'error' })
  const noStatus: StatusListener = {
    onConnectorStatus() {},
    onTaskStatus(_id, status) {
      if (status.trace) extra.traces?.push(status.trace)
    },
    onConnectorDestroyed() {},
    onTaskDestroyed() {},
    onTopicActive() {},
  }
  const store: OffsetStore = {
    get: async () => new Map(),
    set: async () => {},
    connectorEntries: async () => new Map(),
    close: async () => {},
  }
  const unused: LogProducer = {
    send: () => Promise.reject(new Error('the non-transactional producer was used')),
    close: async () => {
      extra.closes?.push('producer')
    },
  }
  const closeTransactional = producer.close.bind(producer)
  producer.close = async () => {
    extra.closes?.push('transactional producer')
    await closeTransactional()
  }
  const reporter: ErrorReporter = {
    report: async () => {},
    close: async () => {
      extra.closes?.push('error reporter')
    },
  }
  const converter = new StringConverter()
  converter.configure({}, false)
  const Task = extra.Task ?? scriptedTask(events, batches)
  return new SourceTaskRunner(
    { id: { connector: 'c', task: 0 }, workerId: 'w', statusListener: noStatus, logger },
    'STARTED',
    {
      task: new Task(),
      taskConfig: {},
      converters: { key: converter, value: extra.valueConverter ?? converter, header: converter },
      transforms: TransformationChain.fromConfig<SourceRecord>({}, builtInPlugins()),
      producer: unused,
      offsetReader: new ConnectorOffsetReader('c', store),
      offsetWriter: new ConnectorOffsetWriter('c', store),
      topicCreator: new TopicCreator({ kind: 'kafka' } as never, {}, false, logger),
      offsetFlushIntervalMs: 60_000,
      offsetFlushTimeoutMs: 5_000,
      errorHandler: new ErrorHandler(errorHandlerConfig({}), [reporter], logger),
      transactional: {
        producer,
        boundary: 'poll',
        brokerTransactions: extra.brokerTransactions ?? true,
        intervalMs: 60_000,
        offsetRecords: (entries) =>
          [...entries].map(([, value]) => ({ topic: OFFSETS, key: null, value: Buffer.from(value ?? '') })),
        committed: () => {},
        ...(extra.beforeCommit ? { beforeCommit: extra.beforeCommit } : {}),
      },
      ...(extra.ownOffsetStore ? { ownOffsetStore: extra.ownOffsetStore } : {}),
    },
  )
}

describe('source task runner, exactly-once (transaction.boundary=poll)', () => {
  it('polls and converts the next batch while the previous transaction commits; begins the next transaction only after it', async () => {
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    const r = runner(events, producer, 3)
    r.start()
    for (let n = 1; n <= 3; n++) {
      await eventually(async () => (producer.held === 1 ? true : undefined), 5_000, `commit ${n} held`)
      if (n < 3) {
        // The next poll happened while this commit was held, and no transaction began meanwhile.
        await eventually(
          async () => (events.includes(`poll ${n + 1}`) ? true : undefined),
          5_000,
          `poll ${n + 1}`,
        )
        assert.equal(events.filter((e) => e === 'begin').length, n)
      }
      assert.ok(producer.release())
    }
    await eventually(async () => (events.filter((e) => e === 'task commit').length === 3 ? true : undefined))
    assert.equal(await r.stop(5_000), true)
    assert.equal(r.state, 'UNASSIGNED')
    assert.deepEqual(producer.committed, [
      [`${TOPIC}:1.1`, `${TOPIC}:1.2`, `${OFFSETS}:{"position":12}`],
      [`${TOPIC}:2.1`, `${TOPIC}:2.2`, `${OFFSETS}:{"position":22}`],
      [`${TOPIC}:3.1`, `${TOPIC}:3.2`, `${OFFSETS}:{"position":32}`],
    ])
    // Records and their offsets go out in one send per transaction.
    assert.equal(events.filter((e) => e.startsWith('send')).length, 3)
    // Each commit() of the task follows its transaction's commit.
    const order = events.filter((e) => e === 'committed' || e === 'task commit')
    assert.deepEqual(order, [
      'committed',
      'task commit',
      'committed',
      'task commit',
      'committed',
      'task commit',
    ])
  })

  it('fails the task when a commit fails for good, and commits nothing after it', async () => {
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    const r = runner(events, producer, 5)
    r.start()
    await eventually(async () => (producer.held === 1 ? true : undefined))
    assert.ok(producer.release(true))
    await eventually(async () => (r.state === 'FAILED' ? true : undefined), 5_000, 'the task FAILED')
    assert.deepEqual(producer.committed, [])
    assert.equal(events.filter((e) => e === 'begin').length, 1)
    assert.ok(!events.includes('task commit'))
    await r.stop(5_000)
  })

  it('a commit refused with INVALID_TXN_STATE (a fenced instance under transactions v2) waits for its worker to stop it, not FAILED', async () => {
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    const traces: string[] = []
    const r = runner(events, producer, 5, { traces })
    r.start()
    await eventually(async () => (producer.held === 1 ? true : undefined))
    const refused = new ConnectError(
      'CONNECT',
      'Kafka error INVALID_TXN_STATE while committing a transaction: The producer attempted a transactional operation in an invalid state.',
      { retriable: false },
    )
    assert.ok(producer.release(refused))
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.notEqual(r.state, 'FAILED')
    await r.stop(5_000)
    assert.notEqual(r.state, 'FAILED')
    assert.deepEqual(traces, [])
    assert.deepEqual(producer.committed, [])
  })

  it('begins no transaction once it is stopping: records polled after the stop are not sent, and no "already open" noise', async () => {
    // A zombie or reassigned task: its send failed retriably and waits to be replayed when its worker
    // stops it, while its task's last poll() (woken by stop()) still returns records.
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    producer.sendErrors.push(new RetriableError('NOT_LEADER_OR_FOLLOWER: the partition moved'))
    const logs: string[] = []
    const traces: string[] = []
    let polls = 0
    let wake: (() => void) | undefined
    class LastPollTask extends SourceTask {
      version(): string {
        return '1'
      }
      start(_props: Props): void {}
      async poll(): Promise<SourceRecord[] | null> {
        const n = ++polls
        events.push(`poll ${n}`)
        // The second poll returns only once the task is stopped, with records.
        if (n === 2) await new Promise<void>((resolve) => (wake = resolve))
        else if (n > 2) return null
        return [
          new SourceRecord({
            sourcePartition: { file: 'f' },
            sourceOffset: { position: n },
            topic: TOPIC,
            value: `${n}`,
          }),
        ]
      }
      stop(): void {
        events.push('task stop')
        wake?.()
      }
    }
    const r = runner(events, producer, 0, { Task: LastPollTask, logs, traces })
    r.start()
    await eventually(
      async () => (events.includes('send failed') && wake ? true : undefined),
      5_000,
      'poll 2 waits',
    )
    assert.equal(await r.stop(5_000), true)
    assert.notEqual(r.state, 'FAILED')
    const afterStop = events.slice(events.indexOf('task stop'))
    assert.ok(!afterStop.includes('begin'), `a transaction began after the stop: ${afterStop.join(' → ')}`)
    assert.ok(!events.includes('begin while open'), `begin() with a transaction open: ${events.join(' → ')}`)
    assert.equal(events.filter((e) => e === 'begin').length, 1)
    assert.deepEqual(producer.committed, [], 'nothing committed: the failed transaction was never resent')
    assert.deepEqual(
      logs.filter((l) => /already open|stopped while its transaction failed/.test(l)),
      [],
    )
    assert.ok(!traces.some((t) => /already open/.test(t)))
  })

  it('tells its task when each poll is a broker transaction, so a task sizing polls for memory keeps them large', async () => {
    const seen: (boolean | undefined)[] = []
    for (const brokerTransactions of [true, false]) {
      const events: Event[] = []
      const Task = class extends scriptedTask(events, 0) {
        override start(_props: Props): void {
          seen.push(this.context.pollIsTransaction?.())
        }
      }
      const r = runner(events, new HeldCommitProducer(events), 0, { Task, brokerTransactions })
      r.start()
      await eventually(async () => (seen.length === (brokerTransactions ? 1 : 2) ? true : undefined))
      await r.stop(5_000)
    }
    assert.deepEqual(seen, [true, false])
  })

  it('closes its own offsets topic when it is cancelled while its task never returns from poll()', async () => {
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    let polling = false
    class HungTask extends SourceTask {
      version(): string {
        return '1'
      }
      start(_props: Props): void {}
      poll(): Promise<SourceRecord[] | null> {
        polling = true
        return new Promise(() => {})
      }
      stop(): void {}
    }
    const own = { started: 0, closed: 0 }
    const r = runner(events, producer, 0, {
      Task: HungTask,
      ownOffsetStore: {
        start: async () => {
          own.started++
        },
        close: async () => {
          own.closed++
        },
      },
    })
    r.start()
    await eventually(async () => (polling ? true : undefined), 5_000, 'the task polls')
    assert.equal(own.started, 1)
    assert.equal(await r.stop(50), false, 'the hung task did not stop in time')
    await eventually(async () => (own.closed > 0 ? true : undefined), 5_000, 'its offsets topic closed')
  })
  it('closes its producers and error reporter when its start fails (its offsets topic refused), once', async () => {
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    const closes: string[] = []
    let ownClosed = 0
    const r = runner(events, producer, 1, {
      closes,
      ownOffsetStore: {
        start: () =>
          Promise.reject(
            new ConnectError(
              'CONFIG',
              "Topic 'own' supplied via the 'offsets.storage.topic' property is required to have 'cleanup.policy=compact'",
            ),
          ),
        close: async () => {
          ownClosed++
        },
      },
    })
    r.start()
    await eventually(async () => (r.state === 'FAILED' ? true : undefined), 5_000, 'the task FAILED')
    await eventually(async () => (ownClosed > 0 ? true : undefined), 5_000, 'its offsets topic closed')
    assert.deepEqual(closes.sort(), ['error reporter', 'producer', 'transactional producer'])
    await r.stop(5_000)
    assert.equal(ownClosed, 1)
    assert.equal(closes.length, 3, 'each client closed once')
  })

  it("names the worker's offsets topic when the deletions written there before a commit fail for good", async () => {
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    const traces: string[] = []
    const r = runner(events, producer, 1, {
      traces,
      beforeCommit: () =>
        Promise.reject(new ConnectError('CONNECT', 'TOPIC_AUTHORIZATION_FAILED: not authorized')),
    })
    r.start()
    await eventually(async () => (r.state === 'FAILED' ? true : undefined), 5_000, 'the task FAILED')
    const trace = traces.at(-1) ?? ''
    assert.match(trace, /offset\.storage\.topic/)
    assert.match(trace, /TOPIC_AUTHORIZATION_FAILED/)
    assert.doesNotMatch(trace.split('\n')[0] ?? '', /transactional\.id/)
    assert.equal(producer.held, 0, 'no commit was requested')
    await r.stop(5_000)
  })

  it("retries the deletions written to the worker's offsets topic when they fail retriably, then commits", async () => {
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    let attempts = 0
    const r = runner(events, producer, 1, {
      beforeCommit: async () => {
        if (++attempts === 1)
          throw new RetriableError('NOT_ENOUGH_REPLICAS: the worker offsets topic is away')
      },
    })
    r.start()
    await eventually(async () => (producer.held === 1 ? true : undefined), 5_000, 'the commit requested')
    assert.equal(attempts, 2)
    assert.ok(producer.release())
    await eventually(async () => (producer.committed.length === 1 ? true : undefined), 5_000, 'committed')
    assert.notEqual(r.state, 'FAILED')
    await r.stop(5_000)
  })
  it("lets a transaction's answers through while it converts a long poll, not only after it", async () => {
    // The commit of the first transaction is answered while the second poll (1,000 records) is being
    // converted: the conversion yields every few records, so the answer is handled (and the next
    // transaction can go) before the whole poll is converted.
    const events: Event[] = []
    const producer = new HeldCommitProducer(events)
    class AnsweringConverter extends StringConverter {
      override fromConnectData(
        topic: string,
        schema: Parameters<StringConverter['fromConnectData']>[1],
        value: unknown,
      ) {
        if (value === '2.10') setImmediate(() => producer.release())
        if (value === '2.1000') events.push('converted 2.1000')
        return super.fromConnectData(topic, schema, value)
      }
    }
    const valueConverter = new AnsweringConverter()
    valueConverter.configure({}, false)
    let polls = 0
    class LongPollTask extends SourceTask {
      version(): string {
        return '1'
      }
      start(_props: Props): void {}
      async poll(): Promise<SourceRecord[] | null> {
        await new Promise((resolve) => setImmediate(resolve))
        const n = ++polls
        if (n > 2) {
          await new Promise((resolve) => setTimeout(resolve, 5))
          return null
        }
        return Array.from(
          { length: n === 1 ? 1 : 1000 },
          (_, i) =>
            new SourceRecord({
              sourcePartition: { file: 'f' },
              sourceOffset: { position: n * 10_000 + i },
              topic: TOPIC,
              value: `${n}.${i + 1}`,
            }),
        )
      }
      stop(): void {}
    }
    const r = runner(events, producer, 0, { Task: LongPollTask, valueConverter })
    r.start()
    try {
      await eventually(
        async () => (events.includes('converted 2.1000') ? true : undefined),
        5_000,
        'poll 2 converted',
      )
      const committed = events.indexOf('committed')
      assert.ok(
        committed !== -1 && committed < events.indexOf('converted 2.1000'),
        `the first commit's answer was handled during the conversion: ${events.join(', ')}`,
      )
      await eventually(async () => (producer.held === 1 ? true : undefined), 5_000, 'commit 2 held')
      assert.ok(producer.release())
      await eventually(
        async () => (producer.committed.length === 2 ? true : undefined),
        5_000,
        'both committed',
      )
      assert.equal(producer.committed[1]!.length, 1001)
    } finally {
      while (producer.release()) {}
      await r.stop(5_000)
    }
  })
})
