/**
 * The source task runner's produce pipeline and lifecycle, on a scripted in-memory log (what reaches
 * the "topic", in order; sends that fail retriably, or hang) and a scripted source task, through a
 * real `Worker` with real offset writers and a real file offset store:
 * - per-partition order holds across retries with several batches in flight (the last copy of every
 *   record comes after the last copy of every earlier one, so a replica applying the topic converges);
 * - a stop during produce retries ends promptly; a runner left behind after the graceful timeout is
 *   cancelled: its producer is closed, it never flushes offsets nor calls `commit()`;
 * - each task of a connector flushes its own offsets and gets its own `commit()`;
 * - pending offsets of a stopped task never overwrite a KIP-875 offset reset;
 * - a stop or a resume arriving while a pausing task commits its offsets is not missed;
 * - task statuses carry the worker's generation.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ConfigDef } from '../../src/api/config-def.ts'
import { type Props, SourceConnector, SourceTask } from '../../src/api/connector.ts'
import { RetriableError } from '../../src/api/errors.ts'
import { SourceRecord } from '../../src/api/records.ts'
import { createLogger } from '../../src/common/logger.ts'
import type { TaskId } from '../../src/common/states.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import type { Log, LogProducer, ProduceRecord, ProducerOptions, RecordMetadata } from '../../src/log/log.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'
import { Worker } from '../../src/runtime/worker.ts'
import { FileOffsetStore } from '../../src/storage/local/file-offset-store.ts'
import { MemoryStatusStore } from '../../src/storage/memory-status-store.ts'
import { offsetKey } from '../../src/storage/offset-store.ts'
import { eventually } from '../helpers/rest.ts'

const TOPIC = 'changes'

/** How one send attempt of a batch (named by its first record's value) ends. */
type Outcome = 'ok' | 'fail' | 'written-then-fail' | 'hang'

/**
 * A `LogProducer` whose "topic" is an array. Each send settles on a later turn of the event loop,
 * so the runner has several sends in flight; `script` decides how each attempt ends.
 */
class ScriptedProducer implements LogProducer {
  readonly arrived: string[] = []
  readonly attempts = new Map<string, number>()
  readonly hung: (() => void)[] = []
  sendsAfterClose = 0
  closed = false
  closeCalls = 0
  readonly #script: (batch: string, attempt: number) => Outcome

  constructor(script: (batch: string, attempt: number) => Outcome) {
    this.#script = script
  }

  send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]> {
    if (this.closed) this.sendsAfterClose++
    const values = records.map((r) => Buffer.from(r.value!).toString())
    const attempt = (this.attempts.get(values[0]) ?? 0) + 1
    this.attempts.set(values[0], attempt)
    const outcome = this.#script(values[0], attempt)
    const write = (): RecordMetadata[] =>
      values.map((v) => {
        this.arrived.push(v)
        return { topic: TOPIC, partition: 0, offset: this.arrived.length - 1, timestamp: 0 }
      })
    return new Promise((resolve, reject) => {
      const settle = () => {
        if (outcome === 'fail') reject(new RetriableError('broker not available'))
        else if (outcome === 'written-then-fail') {
          write()
          reject(new RetriableError('request timed out (the records were written)'))
        } else resolve(write())
      }
      if (outcome === 'hang') this.hung.push(settle)
      else setImmediate(settle)
    })
  }

  async close(): Promise<void> {
    this.closed = true
    this.closeCalls++
  }
}

interface TaskScript {
  /** Batches `poll()` returns, one per call; each record's value is its id. */
  batches: number[][]
  /** Source partition of every record of this task. */
  partition: string
  polls: number
  commits: number
  stopped: boolean
}

const scripts = new Map<string, TaskScript>()
const producers = new Map<string, ScriptedProducer>()
/** The options each producer was made with, by client id. */
const producerOptions = new Map<string, ProducerOptions>()

class ScriptedTask extends SourceTask {
  #script!: TaskScript
  #wake: (() => void) | undefined

  version(): string {
    return '1'
  }

  start(props: Props): void {
    this.#script = scripts.get(`${props.name}-${props.task}`)!
  }

  async poll(): Promise<SourceRecord[] | null> {
    const s = this.#script
    s.polls++
    const batch = s.batches.shift()
    if (batch) {
      return batch.map(
        (id) =>
          new SourceRecord({
            topic: TOPIC,
            kafkaPartition: 0,
            key: `id-${id}`,
            value: String(id),
            sourcePartition: { source: s.partition },
            sourceOffset: { position: id },
          }),
      )
    }
    // Nothing to return: wait a little, as a real source does, or until stopped.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 20)
      this.#wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    return null
  }

  stop(): void {
    this.#script.stopped = true
    this.#wake?.()
  }

  override commit(): void {
    this.#script.commits++
  }
}

class ScriptedConnector extends SourceConnector {
  #props: Props = {}
  version(): string {
    return '1'
  }
  config(): ConfigDef {
    return new ConfigDef()
  }
  start(props: Props): void {
    this.#props = props
  }
  taskClass() {
    return ScriptedTask
  }
  taskConfigs(max: number): Props[] {
    return Array.from({ length: max }, (_, task) => ({ name: this.#props.name, task: String(task) }))
  }
  stop(): void {}
}

/** What `commitRecord` got, per task: the record's value and the offset it was written at. */
const committedRecords = new Map<string, [unknown, number][]>()

class CommitRecordTask extends ScriptedTask {
  #name = ''
  override start(props: Props): void {
    super.start(props)
    this.#name = `${props.name}-${props.task}`
  }
  override commitRecord(record: SourceRecord, metadata: { offset: number } | null): void {
    const list = committedRecords.get(this.#name) ?? []
    committedRecords.set(this.#name, list)
    list.push([record.value, metadata?.offset ?? -1])
  }
}

class CommitRecordConnector extends ScriptedConnector {
  override taskClass() {
    return CommitRecordTask
  }
}

/** A log that only makes producers: one scripted producer per task, by client id. */
function scriptedLog(script: (batch: string, attempt: number) => Outcome): Log {
  return {
    createProducer(options: ProducerOptions): LogProducer {
      const { clientId } = options
      producerOptions.set(clientId, options)
      const producer = new ScriptedProducer(script)
      producers.set(clientId, producer)
      return producer
    },
  } as unknown as Log
}

const CONNECTOR_PROPS = {
  'connector.class': 'test.ScriptedSource',
  'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
  'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
}

describe('source task runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-source-runner-'))
  const workers: Worker[] = []
  after(async () => {
    for (const producer of producers.values()) for (const settle of producer.hung.splice(0)) settle()
    await Promise.all(workers.map((w) => w.stop()))
    rmSync(dir, { recursive: true, force: true })
  })
  let seq = 0

  async function setUp(options: {
    script: (batch: string, attempt: number) => Outcome
    tasks: { batches: number[][]; partition: string }[]
    worker?: Record<string, string>
    connector?: Record<string, string>
    store?: FileOffsetStore
  }) {
    const name = `conn-${++seq}`
    const store = options.store ?? (await FileOffsetStore.open(join(dir, `${name}.offsets.json`)))
    const plugins = builtInPlugins()
      .register({
        className: 'test.ScriptedSource',
        type: 'source',
        version: '1',
        create: () => new ScriptedConnector(),
      })
      .register({
        className: 'test.CommitRecordSource',
        type: 'source',
        version: '1',
        create: () => new CommitRecordConnector(),
      })
    const statuses = new MemoryStatusStore()
    const worker = new Worker({
      config: new WorkerConfig({
        'sluice.data.dir': join(dir, 'data'),
        'offset.flush.interval.ms': '600000',
        'topic.creation.enable': 'false',
        ...options.worker,
      }),
      log: scriptedLog(options.script),
      plugins,
      offsetStore: store,
      statusListener: statuses,
      logger: createLogger({ level: 'silent' }),
      workerId: 'test:8083',
    })
    workers.push(worker)
    const ids: TaskId[] = options.tasks.map((_, task) => ({ connector: name, task }))
    const startTask = (id: TaskId) => {
      worker.startTask(
        id,
        { ...CONNECTOR_PROPS, ...options.connector, name },
        { name, task: String(id.task) },
        'STARTED',
      )
    }
    options.tasks.forEach((t, task) => {
      scripts.set(`${name}-${task}`, { ...t, batches: [...t.batches], polls: 0, commits: 0, stopped: false })
      startTask(ids[task])
    })
    return {
      name,
      worker,
      store,
      statuses,
      ids,
      startTask,
      script: (task: number) => scripts.get(`${name}-${task}`)!,
      producer: (task: number) => producers.get(`connector-producer-${name}-${task}`)!,
      storedOffset: async (partition: string) =>
        (await store.get([offsetKey(name, { source: partition })])).get(
          offsetKey(name, { source: partition }),
        ),
    }
  }

  /** True when, for every i < j in `expected`, the last copy of i arrived before the last copy of j. */
  function lastCopiesInOrder(arrived: string[], expected: number[]): boolean {
    const last = new Map<string, number>()
    arrived.forEach((v, i) => {
      last.set(v, i)
    })
    return expected.every((id, i) => i === 0 || last.get(String(id))! > last.get(String(expected[i - 1]))!)
  }

  it('keeps per-partition order across retries with several batches in flight', async () => {
    const batches = Array.from({ length: 12 }, (_, b) => Array.from({ length: 5 }, (_, r) => b * 5 + r))
    const t = await setUp({
      // Batch 5-9 fails once before it is written; batch 25-29 is written but its ack is lost, twice.
      script: (batch, attempt) =>
        batch === '5' && attempt === 1 ? 'fail' : batch === '25' && attempt <= 2 ? 'written-then-fail' : 'ok',
      tasks: [{ batches, partition: 'db' }],
    })
    const producer = t.producer(0)
    const all = batches.flat()
    await eventually(
      () => (all.every((id) => producer.arrived.includes(String(id))) ? true : undefined),
      10_000,
      'every record in the topic',
    )
    await t.worker.stopTasks(t.ids)
    assert.ok(
      lastCopiesInOrder(producer.arrived, all),
      `the last copy of each record must follow the last copy of every earlier one: ${producer.arrived.join(',')}`,
    )
    assert.equal(await t.storedOffset('db'), JSON.stringify({ position: 59 }))
    assert.equal(t.script(0).commits, 1)
    assert.equal(t.statuses.task(t.ids[0])?.state, 'UNASSIGNED')
    // The client's own retries could reorder requests in flight: a source producer has one at a time.
    const made = [...producerOptions.values()].filter((o) => o.clientId.startsWith('connector-producer-'))
    assert.ok(made.length > 0 && made.every((o) => o.maxInFlight === 1), JSON.stringify(made))
  })

  it('blocks the task at producer.buffer.memory until sends are acknowledged, losing and reordering nothing', async () => {
    // 12 polls of 5 records; each record holds its key ("id-N") and value ("N") plus 24 B of framing:
    // ~145 B per poll, so 400 B leave room for two polls in flight, not three.
    const batches = Array.from({ length: 12 }, (_, b) => Array.from({ length: 5 }, (_, r) => b * 5 + r))
    let acknowledge = false
    const t = await setUp({
      script: () => (acknowledge ? 'ok' : 'hang'),
      tasks: [{ batches, partition: 'db' }],
      connector: { 'producer.override.buffer.memory': '400' },
    })
    const producer = t.producer(0)
    await eventually(() => (producer.hung.length >= 2 ? true : undefined), 5000, 'two sends in flight')
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(producer.hung.length, 2, 'a third poll’s records would exceed buffer.memory')
    assert.equal(t.script(0).polls, 3, 'the task is not polled again while its last poll waits for room')
    acknowledge = true
    for (const settle of producer.hung.splice(0)) settle()
    const all = batches.flat()
    await eventually(
      () => (producer.arrived.length >= all.length ? true : undefined),
      10_000,
      'every record in the topic',
    )
    await t.worker.stopTasks(t.ids)
    assert.deepEqual(producer.arrived, all.map(String), 'each record once, in order')
    assert.equal(await t.storedOffset('db'), JSON.stringify({ position: 59 }))
  })

  it('calls an overriding commitRecord with each of the task’s own records once written, in order', async () => {
    const batches = Array.from({ length: 10 }, (_, b) => Array.from({ length: 3 }, (_, r) => b * 3 + r))
    const t = await setUp({
      script: (batch, attempt) => (batch === '6' && attempt === 1 ? 'fail' : 'ok'),
      tasks: [{ batches, partition: 'db' }],
      connector: { 'connector.class': 'test.CommitRecordSource', 'producer.override.buffer.memory': '200' },
    })
    const all = batches.flat()
    await eventually(
      () => ((committedRecords.get(`${t.name}-0`)?.length ?? 0) >= all.length ? true : undefined),
      10_000,
      'commitRecord for every record',
    )
    await t.worker.stopTasks(t.ids)
    const committed = committedRecords.get(`${t.name}-0`)!
    assert.deepEqual(
      committed.map(([value]) => value),
      all.map(String),
    )
    const arrived = t.producer(0).arrived
    for (const [value, offset] of committed)
      assert.equal(arrived[offset], value, 'the offset it was written at')
  })

  it('ends promptly when stopped during produce retries, commits only what was acknowledged', async () => {
    const t = await setUp({
      // The first batch goes through; then the broker is away for good.
      script: (batch) => (batch === '0' ? 'ok' : 'fail'),
      tasks: [{ batches: Array.from({ length: 8 }, (_, b) => [b * 2, b * 2 + 1]), partition: 'db' }],
      worker: { 'task.shutdown.graceful.timeout.ms': '500' },
    })
    const producer = t.producer(0)
    // Retries back off 100, 200, 400, 800 ms…: after five attempts of a batch the runner sleeps longer
    // than the graceful timeout, so it ends in time only if the stop wakes every sleeper.
    await eventually(
      () => ([...producer.attempts.values()].some((n) => n >= 5) ? true : undefined),
      10_000,
      'five attempts of a batch',
    )
    await t.worker.stopTasks(t.ids)
    // The runner ended within the graceful timeout (every sleeper woke), and not as a failure.
    assert.equal(t.statuses.task(t.ids[0])?.state, 'UNASSIGNED')
    assert.equal(producer.closed, true)
    assert.equal(producer.sendsAfterClose, 0)
    assert.equal(await t.storedOffset('db'), JSON.stringify({ position: 1 }))
  })

  it('cancels a runner left behind after the graceful timeout: producer closed, no offsets, no commit()', async () => {
    const t = await setUp({
      // The second batch's send never answers (a broker that accepts connections but never replies).
      script: (batch) => (batch === '0' ? 'ok' : 'hang'),
      tasks: [
        {
          batches: [
            [0, 1],
            [2, 3],
          ],
          partition: 'db',
        },
      ],
      worker: { 'task.shutdown.graceful.timeout.ms': '300' },
    })
    const producer = t.producer(0)
    await eventually(() => (producer.hung.length > 0 ? true : undefined), 10_000, 'the hung send')
    await t.worker.stopTasks(t.ids)
    assert.equal(producer.closed, true, 'a cancelled runner closes its producer')
    const status = t.statuses.task(t.ids[0])
    // The send now completes: the abandoned runner must not flush these offsets nor call commit().
    const closesBefore = producer.closeCalls
    for (const settle of producer.hung) settle()
    // The runner's own cleanup ends by closing the producer (again, when cancellation closed it first).
    await eventually(
      () => (producer.closeCalls > closesBefore || producer.closeCalls >= 2 ? true : undefined),
      5_000,
      'the abandoned runner ended',
    )
    assert.equal(await t.storedOffset('db'), undefined)
    assert.equal(t.script(0).commits, 0)
    assert.equal(producer.sendsAfterClose, 0)
    // A cancelled task reports nothing more: another worker may own it by now.
    assert.deepEqual(t.statuses.task(t.ids[0]), status)
  })

  it('gives each task of a connector its own offset writer and its own commit()', async () => {
    const t = await setUp({
      script: () => 'ok',
      tasks: [
        { batches: [[1, 2]], partition: 'a' },
        { batches: [[3, 4]], partition: 'b' },
      ],
    })
    // Task 1's records are acknowledged and it has polled twice since: its offset is pending.
    await eventually(() => (t.producer(1).arrived.length === 2 ? true : undefined), 10_000, 'task 1 acked')
    const polls = t.script(1).polls
    await eventually(() => (t.script(1).polls >= polls + 2 ? true : undefined), 10_000, 'task 1 polled')
    await eventually(() => (t.producer(0).arrived.length === 2 ? true : undefined), 10_000, 'task 0 acked')
    await t.worker.stopTasks([t.ids[0]])
    assert.equal(await t.storedOffset('a'), JSON.stringify({ position: 2 }))
    assert.equal(await t.storedOffset('b'), undefined, "task 0's flush must not write task 1's offsets")
    assert.equal(t.script(0).commits, 1)
    await t.worker.stopTasks([t.ids[1]])
    assert.equal(await t.storedOffset('b'), JSON.stringify({ position: 4 }))
    assert.equal(t.script(1).commits, 1, 'task 1 commits its own offsets')
  })

  it('never writes a stopped task’s pending offsets over a KIP-875 offset reset', async () => {
    // The offset store refuses writes while `refuse` is set (a final flush that fails at stop).
    const store = await FileOffsetStore.open(join(dir, 'reset.offsets.json'))
    let refuse = false
    const set = store.set.bind(store)
    store.set = (entries) => (refuse ? Promise.reject(new Error('offsets topic unavailable')) : set(entries))
    const t = await setUp({
      script: () => 'ok',
      tasks: [{ batches: [[7, 8]], partition: 'db' }],
      worker: { 'offset.flush.timeout.ms': '1000' },
      store,
    })
    await eventually(() => (t.producer(0).arrived.length === 2 ? true : undefined), 10_000, 'records acked')
    refuse = true
    await t.worker.stopTasks(t.ids)
    assert.equal(await t.storedOffset('db'), undefined)
    refuse = false
    // The connector is stopped; its offsets are reset (KIP-875), then it is resumed.
    const key = offsetKey(t.name, { source: 'db' })
    await store.set(new Map([[key, JSON.stringify({ position: 0 })]]))
    t.startTask(t.ids[0])
    await eventually(() => (t.script(0).polls >= 3 ? true : undefined), 10_000, 'the resumed task polled')
    await t.worker.stopTasks(t.ids)
    assert.equal(await t.storedOffset('db'), JSON.stringify({ position: 0 }))
  })

  /** A file offset store whose writes wait while `hold` is set; `writes` counts the writes begun. */
  async function gatedStore(file: string) {
    const store = await FileOffsetStore.open(join(dir, file))
    const gate = { hold: false, writes: 0, release: () => {} }
    const set = store.set.bind(store)
    store.set = async (entries) => {
      gate.writes++
      if (gate.hold) await new Promise<void>((resolve) => (gate.release = resolve))
      return set(entries)
    }
    return { store, gate }
  }

  it('stops a task stopped while pausing (during its offset commit) within the graceful timeout', async () => {
    const { store, gate } = await gatedStore('pause-stop.offsets.json')
    const t = await setUp({
      script: () => 'ok',
      tasks: [{ batches: [[1, 2]], partition: 'db' }],
      worker: { 'task.shutdown.graceful.timeout.ms': '2000' },
      store,
    })
    await eventually(() => (t.producer(0).arrived.length === 2 ? true : undefined), 10_000, 'records acked')
    gate.hold = true
    const writes = gate.writes
    t.worker.setConnectorTargetState(t.name, 'PAUSED')
    // The pausing runner commits its offsets first; the stop arrives while that write is under way.
    await eventually(() => (gate.writes > writes ? true : undefined), 10_000, 'the commit on pause')
    const stopped = t.worker.stopTasks(t.ids)
    await eventually(() => (t.script(0).stopped ? true : undefined), 10_000, 'stop requested')
    gate.hold = false
    gate.release()
    await stopped
    assert.equal(t.statuses.task(t.ids[0])?.state, 'UNASSIGNED')
    assert.equal(await t.storedOffset('db'), JSON.stringify({ position: 2 }))
  })

  it('resumes a task resumed while pausing (during its offset commit)', async () => {
    const { store, gate } = await gatedStore('pause-resume.offsets.json')
    const t = await setUp({
      script: () => 'ok',
      tasks: [{ batches: [[1, 2]], partition: 'db' }],
      store,
    })
    await eventually(() => (t.producer(0).arrived.length === 2 ? true : undefined), 10_000, 'records acked')
    gate.hold = true
    const writes = gate.writes
    t.worker.setConnectorTargetState(t.name, 'PAUSED')
    await eventually(() => (gate.writes > writes ? true : undefined), 10_000, 'the commit on pause')
    t.worker.setConnectorTargetState(t.name, 'STARTED')
    gate.hold = false
    gate.release()
    const polls = t.script(0).polls
    await eventually(() => (t.script(0).polls > polls + 1 ? true : undefined), 10_000, 'polling again')
    assert.equal(t.statuses.task(t.ids[0])?.state, 'RUNNING')
  })

  it('reports task status with the worker’s generation', async () => {
    const t = await setUp({ script: () => 'ok', tasks: [] })
    t.worker.generation = 7
    scripts.set(`${t.name}-0`, { batches: [], partition: 'db', polls: 0, commits: 0, stopped: false })
    t.startTask({ connector: t.name, task: 0 })
    await eventually(
      () => (t.statuses.task({ connector: t.name, task: 0 })?.state === 'RUNNING' ? true : undefined),
      10_000,
      'RUNNING',
    )
    assert.equal(t.statuses.task({ connector: t.name, task: 0 })?.generation, 7)
    t.worker.generation = 8
    await t.worker.stopTasks([{ connector: t.name, task: 0 }])
    assert.equal(t.statuses.task({ connector: t.name, task: 0 })?.generation, 8)
  })
})
