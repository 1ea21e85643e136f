/**
 * The embedded log's compacted topics and its own `connect-offsets` topic: a compacted partition
 * keeps the latest record of each key (so the standalone worker's offsets topic stays bounded
 * however many commits it takes), and nothing but the worker's offset store may write that topic
 * or delete it. SLUICE_COMPACTION_COMMITS raises the number of offset commits (default 3,000).
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { ConnectError } from '../../src/api/errors.ts'
import { startStandalone } from '../../src/cli/standalone.ts'
import { createLogger } from '../../src/common/logger.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { createEmbeddedLog, type EmbeddedLog } from '../../src/log/embedded/embedded-log.ts'
import { HEAD } from '../../src/log/embedded/topic-state.ts'
import { type LogRecord, tpKey } from '../../src/log/log.ts'
import { LOG_OFFSETS_TOPIC, openLogOffsetStore } from '../../src/storage/local/log-offset-store.ts'
import { waitForLines } from '../helpers/files.ts'
import { eventually, request } from '../helpers/rest.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const COMMITS = Number(process.env.SLUICE_COMPACTION_COMMITS ?? 3000)

async function open(t: TestContext, dir?: string): Promise<{ log: EmbeddedLog; dir: string }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'sluice-compaction-')))
  if (!dir) t.after(() => rm(d, { recursive: true, force: true }))
  const log = await createEmbeddedLog({ dir: d })
  return { log, dir: d }
}

/** Every record of partition 0 from offset 0, and the partition's end offset. */
async function readPartition(
  log: EmbeddedLog,
  topic: string,
): Promise<{ records: LogRecord[]; end: number }> {
  const tp = { topic, partition: 0 }
  const end = (await log.endOffsets([tp])).get(tpKey(tp))!
  const consumer = log.createConsumer({
    groupId: `read-${Math.random()}`,
    clientId: 'r',
    maxPollRecords: 10_000,
  })
  try {
    await consumer.assign([tp])
    consumer.seek(tp, 0)
    const records: LogRecord[] = []
    while (consumer.position(tp) < end) records.push(...(await consumer.poll(1000)))
    return { records, end }
  } finally {
    await consumer.close()
  }
}

/** The latest value of each key, as a reader of the whole partition sees it. */
function latest(records: readonly LogRecord[]): Map<string, string | null> {
  const out = new Map<string, string | null>()
  for (const r of records) out.set(decoder.decode(r.key!), r.value === null ? null : decoder.decode(r.value))
  return out
}

const forbidden = (pattern: RegExp) => (e: unknown) =>
  e instanceof ConnectError && e.code === 'FORBIDDEN' && pattern.test(e.message)

void describe('embedded log compaction', () => {
  void it('keeps a compacted partition bounded: the latest record of each key, tombstones, its end offset', async (t) => {
    const { log, dir } = await open(t)
    await log.createTopics([{ name: 'c', partitions: 1, configs: { 'cleanup.policy': 'compact' } }])
    const producer = log.createProducer({ clientId: 'p' })
    const keys = 5
    const total = 6000
    const expected = new Map<string, string | null>()
    for (let i = 0; i < total; i += 20) {
      const records = Array.from({ length: 20 }, (_, j) => {
        const key = `k${(i + j) % keys}`
        // k0 ends deleted: its last record is a tombstone.
        const value = key === 'k0' && i + j >= total - keys ? null : `v${i + j}`
        expected.set(key, value)
        return { topic: 'c', key: encoder.encode(key), value: value === null ? null : encoder.encode(value) }
      })
      await producer.send(records)
    }
    let { records, end } = await readPartition(log, 'c')
    assert.equal(end, total, 'the end offset does not move')
    assert.ok(
      records.length <= 2 * keys + 2 * HEAD + 2,
      `${records.length} records kept of ${total} appended`,
    )
    assert.equal(records[0].offset, 0, 'the log start offset does not move')
    assert.deepEqual(latest(records), expected)
    assert.ok(records.every((r, i) => i === 0 || r.offset > records[i - 1].offset))
    assert.equal(records.at(-1)!.offset, total - 1, 'the last record is kept')

    await assert.rejects(
      producer.send([{ topic: 'c', key: null, value: encoder.encode('no key') }]),
      (e: unknown) =>
        e instanceof ConnectError &&
        /compacted \(cleanup\.policy=compact\): every record needs a key/.test(e.message),
    )

    // A reopen compacts what was appended since: the first record, the latest of each key before the
    // head, and the head's records.
    await log.close()
    const reopened = (await open(t, dir)).log
    t.after(() => reopened.close())
    ;({ records, end } = await readPartition(reopened, 'c'))
    assert.equal(end, total)
    assert.deepEqual(
      records.map((r) => r.offset),
      [0, ...Array.from({ length: keys + HEAD }, (_, i) => total - HEAD - keys + i)],
    )
    assert.deepEqual(latest(records), expected)
    const [next] = await reopened
      .createProducer({ clientId: 'p2' })
      .send([{ topic: 'c', key: encoder.encode('k1'), value: encoder.encode('after') }])
    assert.equal(next.offset, total)
  })
})

void describe('the uncleaned head of a compacted partition', () => {
  void it('lets a consumer less than the head behind read every record, and compacts what is far behind', async (t) => {
    const { log } = await open(t)
    t.after(() => log.close())
    await log.createTopics([{ name: 'cdc', partitions: 1, configs: { 'cleanup.policy': 'compact' } }])
    const producer = log.createProducer({ clientId: 'p' })
    const tp = { topic: 'cdc', partition: 0 }
    // A sink that stays `behind` records behind the end: it sees every change of every key.
    const sink = log.createConsumer({ groupId: 'compact-head-sink', clientId: 's', maxPollRecords: 100 })
    t.after(() => sink.close())
    await sink.assign([tp])
    sink.seek(tp, 0)
    const seen: string[] = []
    const readUpTo = async (offset: number) => {
      while (sink.position(tp) < offset)
        for (const r of await sink.poll(1000)) seen.push(decoder.decode(r.value!))
    }
    const keys = 3
    const total = 6000
    const behind = HEAD - 100
    for (let i = 0; i < total; i += 100) {
      await producer.send(
        Array.from({ length: 100 }, (_, j) => ({
          topic: 'cdc',
          key: encoder.encode(`k${(i + j) % keys}`),
          value: encoder.encode(`v${i + j}`),
        })),
      )
      await readUpTo(i + 100 - behind)
    }
    await readUpTo(total)
    assert.equal(seen.length, total, 'the sink behind by less than the head missed records')
    assert.deepEqual(
      seen,
      Array.from({ length: total }, (_, i) => `v${i}`),
    )

    // A reader from the start finds what is far behind compacted, and the head whole.
    const { records, end } = await readPartition(log, 'cdc')
    assert.equal(end, total)
    assert.ok(records.length <= 2 * keys + 2 * HEAD + 2, `${records.length} records kept of ${total}`)
    const offsets = new Set(records.map((r) => r.offset))
    for (let o = total - HEAD; o < total; o++) assert.ok(offsets.has(o), `offset ${o} of the head is kept`)
    assert.ok(
      records.filter((r) => r.offset < total - 2 * HEAD - keys).length <= keys + 1,
      'records far behind are compacted to the latest of each key',
    )
  })

  void it('does not compact records younger than min.compaction.lag.ms, and refuses a bad value', async (t) => {
    const { log } = await open(t)
    t.after(() => log.close())
    const configs = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '3600000' }
    await log.createTopics([{ name: 'lagged', partitions: 1, configs }])
    const producer = log.createProducer({ clientId: 'p' })
    const keys = 3
    const old = Date.now() - 2 * 3_600_000
    // 3,000 records from two hours ago, then 3,000 from now.
    for (let i = 0; i < 6000; i += 100) {
      await producer.send(
        Array.from({ length: 100 }, (_, j) => ({
          topic: 'lagged',
          key: encoder.encode(`k${(i + j) % keys}`),
          value: encoder.encode(`v${i + j}`),
          ...(i < 3000 ? { timestamp: old } : {}),
        })),
      )
    }
    const { records } = await readPartition(log, 'lagged')
    const young = records.filter((r) => r.offset >= 3000)
    assert.deepEqual(
      young.map((r) => r.offset),
      Array.from({ length: 3000 }, (_, i) => 3000 + i),
      'every record younger than the lag is kept',
    )
    assert.ok(records.length - young.length <= keys + 1, `${records.length - young.length} old records kept`)

    await assert.rejects(
      log.createTopics([
        {
          name: 'bad-lag',
          partitions: 1,
          configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': 'soon' },
        },
      ]),
      (e: unknown) =>
        e instanceof ConnectError &&
        /min\.compaction\.lag\.ms=soon: set it to a number of milliseconds/.test(e.message),
    )
    assert.deepEqual(await log.describeTopics(['bad-lag']), new Map())
  })
})

void describe("the embedded log's own connect-offsets topic", () => {
  void it(`stays bounded over ${COMMITS} offset commits and keeps the latest offsets across a reopen`, async (t) => {
    const { log, dir } = await open(t)
    const logger = createLogger({ level: 'silent' })
    let store = await openLogOffsetStore(log, join(dir, 'none.json'), logger)
    const key = (n: number) => JSON.stringify([`src-${n}`, { file: 'in.txt' }])
    for (let i = 1; i <= COMMITS; i++)
      await store.set(new Map([[key(i % 2), JSON.stringify({ position: i })]]))
    const { records, end } = await readPartition(log, LOG_OFFSETS_TOPIC)
    assert.equal(end, COMMITS)
    assert.ok(records.length <= 2 * 2 + 2 * HEAD + 2, `${records.length} records kept of ${COMMITS} commits`)
    await store.close()
    await log.close()

    const reopened = (await open(t, dir)).log
    t.after(() => reopened.close())
    assert.equal(
      (await readPartition(reopened, LOG_OFFSETS_TOPIC)).records.length,
      Math.min(COMMITS, HEAD + 3),
      'the first record, one per key before the head, and the head',
    )
    store = await openLogOffsetStore(reopened, join(dir, 'none.json'), logger)
    t.after(() => store.close())
    assert.deepEqual(
      await store.get([key(0), key(1)]),
      new Map([
        [key(0), JSON.stringify({ position: COMMITS - (COMMITS % 2 === 0 ? 0 : 1) })],
        [key(1), JSON.stringify({ position: COMMITS - (COMMITS % 2 === 0 ? 1 : 0) })],
      ]),
    )
  })

  void it('refuses records, a deletion and another shape from anything but the offset store; reading it is harmless', async (t) => {
    const { log, dir } = await open(t)
    t.after(() => log.close())
    await assert.rejects(
      log.createTopics([{ name: LOG_OFFSETS_TOPIC, partitions: 3 }]),
      forbidden(/'connect-offsets' is the embedded log's own/),
    )
    const store = await openLogOffsetStore(log, join(dir, 'none.json'), createLogger({ level: 'silent' }))
    t.after(() => store.close())
    const offset = JSON.stringify(['src', { file: 'in.txt' }])
    await store.set(new Map([[offset, JSON.stringify({ position: 10 })]]))

    // A connector (or a dead letter queue, or the REST proxy) sending there: a stray offset record.
    const stray = {
      topic: LOG_OFFSETS_TOPIC,
      key: encoder.encode(offset),
      value: encoder.encode('{"position":0}'),
    }
    await assert.rejects(
      log.createProducer({ clientId: 'connector' }).send([stray]),
      forbidden(/holds the worker's source offsets.*Send the records to another topic/),
    )
    const transactional = log.createTransactionalProducer({ clientId: 'eos', transactionalId: 'eos' })
    await transactional.init()
    await transactional.begin()
    await assert.rejects(transactional.send([stray]), forbidden(/embedded log's own/))
    await transactional.abort()
    await assert.rejects(log.deleteTopics([LOG_OFFSETS_TOPIC]), forbidden(/cannot be deleted/))
    // Creating it again with its own shape is the usual no-op.
    await log.createTopics([
      { name: LOG_OFFSETS_TOPIC, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    ])

    // A sink reading it (topics.regex=.*) sees the offset records and changes nothing.
    const { records } = await readPartition(log, LOG_OFFSETS_TOPIC)
    assert.deepEqual(
      records.map((r) => decoder.decode(r.value!)),
      [JSON.stringify({ position: 10 })],
    )
    assert.deepEqual(await store.get([offset]), new Map([[offset, JSON.stringify({ position: 10 })]]))
  })
})

void describe('a standalone worker on the embedded log with a connector on connect-offsets', () => {
  void it("fails a source task that writes there, leaves the other connector's offsets alone, and lets a sink read it", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-own-topic-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const worker = await startStandalone(
      new WorkerConfig({
        'sluice.data.dir': join(dir, 'data'),
        listeners: 'http://127.0.0.1:0',
        'offset.flush.interval.ms': '100',
        'log.level': 'warn',
      }),
    )
    t.after(() => worker.stop())
    const base = `http://127.0.0.1:${worker.rest.port}`
    const create = async (name: string, config: Record<string, string>) => {
      const res = await request(base, 'POST', '/connectors', { name, config })
      assert.equal(res.status, 201, JSON.stringify(res.body))
    }
    type Offsets = { offsets: { offset: { position: number } }[] }
    const offsets = async (name: string) =>
      (await request<Offsets>(base, 'GET', `/connectors/${name}/offsets`)).body.offsets.map(
        (o) => o.offset.position,
      )
    const input = join(dir, 'in.txt')
    writeFileSync(input, 'a\nb\nc\n')
    await create('good', { 'connector.class': 'FileStreamSource', file: input, topic: 'good' })
    const good = await eventually(
      async () => ((await offsets('good'))[0] === 6 ? [6] : undefined),
      20_000,
      'good offsets',
    )

    // A source (or a transform routing there) on connect-offsets: the task fails, saying why.
    await create('stray', { 'connector.class': 'FileStreamSource', file: input, topic: LOG_OFFSETS_TOPIC })
    const task = await eventually(
      async () => {
        const res = await request<{ tasks: { state: string; trace?: string }[] }>(
          base,
          'GET',
          '/connectors/stray/status',
        )
        return res.body.tasks[0]?.state === 'FAILED' ? res.body.tasks[0] : undefined
      },
      20_000,
      'the stray task to fail',
    )
    assert.match(task.trace ?? '', /'connect-offsets' is the embedded log's own/)
    // A sink on it reads the offset records and writes nothing back.
    const output = join(dir, 'out.txt')
    const string = 'org.apache.kafka.connect.storage.StringConverter'
    await create('reader', {
      'connector.class': 'FileStreamSink',
      file: output,
      topics: LOG_OFFSETS_TOPIC,
      'key.converter': string,
      'value.converter': string,
    })
    await eventually(
      async () => {
        const res = await request<{ tasks: { state: string }[] }>(base, 'GET', '/connectors/reader/status')
        return res.body.tasks[0]?.state === 'RUNNING' ? true : undefined
      },
      20_000,
      'the reader to run',
    )
    const lines = await waitForLines(output, 1, 20_000)
    assert.equal(lines[0], JSON.stringify({ position: 6 }))
    assert.deepEqual(await offsets('good'), good)
    assert.deepEqual(await offsets('stray'), [], 'the failed task committed no offset')
  })
})
