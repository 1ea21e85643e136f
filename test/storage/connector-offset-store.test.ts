/**
 * A source connector's own offsets topic with the worker's as fallback (Kafka Connect's
 * `ConnectorOffsetBackingStore`): reads prefer the connector's topic, writes go there and are copied
 * to the worker's topic, deletions reach the worker's topic first, a failed copy is only logged, a
 * failed deletion there fails the write. Two real offsets topics on the embedded log; the worker's
 * store fails on cue through a proxy.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createLogger } from '../../src/common/logger.ts'
import { createEmbeddedLog } from '../../src/log/embedded/embedded-log.ts'
import type { Log } from '../../src/log/log.ts'
import { ConnectorOffsetStore } from '../../src/storage/connector-offset-store.ts'
import { ensureOffsetsTopic } from '../../src/storage/kafka/internal-topics.ts'
import { KafkaOffsetStore } from '../../src/storage/kafka/kafka-offset-store.ts'
import { type OffsetStore, offsetKey } from '../../src/storage/offset-store.ts'

const logger = createLogger({ level: 'silent' })
const key = (file: string) => offsetKey('c', { file })

describe('a connector offsets topic with the worker topic as fallback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-connector-offsets-'))
  let log: Log
  let global: KafkaOffsetStore
  /** What the worker's store is asked to write, in order; `fail` makes its next write fail. */
  const globalWrites: [string, string | null][][] = []
  const globalFault = { fail: false, slowOffsetsMs: 0 }
  let flakyGlobal: OffsetStore
  let topics = 0

  before(async () => {
    log = await createEmbeddedLog({ dir: join(dir, 'log') })
    await log.createTopics([
      { name: 'worker-offsets', partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    ])
    global = new KafkaOffsetStore(log, 'worker-offsets', 'worker', logger)
    await global.start()
    flakyGlobal = new Proxy(global, {
      get(target, property) {
        if (property === 'set') {
          return async (entries: ReadonlyMap<string, string | null>) => {
            globalWrites.push([...entries])
            if (globalFault.fail) {
              globalFault.fail = false
              throw new Error('the worker offsets topic is away')
            }
            // A slow copy of offsets (deletions go through at once).
            if (globalFault.slowOffsetsMs > 0 && [...entries.values()].some((v) => v !== null))
              await new Promise((resolve) => setTimeout(resolve, globalFault.slowOffsetsMs))
            return target.set(entries)
          }
        }
        const value = Reflect.get(target, property) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
  })

  after(async () => {
    await global?.close()
    await log?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function open(topic = `own-${++topics}`): {
    store: ConnectorOffsetStore
    own: KafkaOffsetStore
    topic: string
  } {
    const own = new KafkaOffsetStore(log, topic, `own-${topic}`, logger)
    const store = new ConnectorOffsetStore({
      own,
      prepare: () =>
        ensureOffsetsTopic(log, topic, { partitions: 1, replicationFactor: 1 }, 'offsets.storage.topic'),
      global: flakyGlobal,
      logger,
    })
    return { store, own, topic }
  }

  it('reads the connector topic first and the worker topic for partitions it does not hold', async () => {
    await global.set(
      new Map([
        [key('a'), '{"pos":10}'],
        [key('b'), '{"pos":20}'],
      ]),
    )
    const { store } = open()
    await store.start()
    assert.equal((await log.describeTopics(['own-1'])).get('own-1')?.configs['cleanup.policy'], 'compact')
    assert.deepEqual(
      await store.get([key('a'), key('b'), key('z')]),
      new Map([
        [key('a'), '{"pos":10}'],
        [key('b'), '{"pos":20}'],
      ]),
    )
    await store.set(new Map([[key('a'), '{"pos":11}']]))
    assert.deepEqual(
      await store.get([key('a'), key('b')]),
      new Map([
        [key('a'), '{"pos":11}'],
        [key('b'), '{"pos":20}'],
      ]),
    )
    // The endpoint's view: both topics' partitions, the connector topic's offset where both have one.
    await store.close()
    assert.deepEqual(
      await global.get([key('a')]),
      new Map([[key('a'), '{"pos":11}']]),
      'the offset was copied to the worker topic',
    )
    const again = open('own-1').store
    assert.deepEqual([...(await again.connectorEntries('c'))].sort(), [
      [key('a'), '{"pos":11}'],
      [key('b'), '{"pos":20}'],
    ])
    await again.close()
  })

  it('writes deletions to the worker topic first, then everything to the connector topic, then the offsets', async () => {
    const { store, topic } = open()
    globalWrites.length = 0
    await store.set(
      new Map([
        [key('b'), null],
        [key('c'), '{"pos":3}'],
      ]),
    )
    await store.close()
    assert.deepEqual(globalWrites, [[[key('b'), null]], [[key('c'), '{"pos":3}']]])
    const reread = open(topic).store
    // Deleted in both: the fallback does not bring the worker topic's older offset back.
    assert.deepEqual(await reread.get([key('b'), key('c')]), new Map([[key('c'), '{"pos":3}']]))
    await reread.close()
  })

  it('writes a deletion to the worker topic after the copy of an earlier offset still under way', async () => {
    const { store, topic } = open()
    globalWrites.length = 0
    globalFault.slowOffsetsMs = 200
    try {
      await store.set(new Map([[key('s'), '{"pos":1}']]))
      // The copy of pos 1 is still on its way to the worker topic when the task deletes the partition.
      await store.set(new Map([[key('s'), null]]))
      await store.close()
    } finally {
      globalFault.slowOffsetsMs = 0
    }
    assert.deepEqual(globalWrites, [[[key('s'), '{"pos":1}']], [[key('s'), null]]])
    assert.deepEqual(await global.get([key('s')]), new Map(), 'the worker topic ends deleted')
    const reread = open(topic).store
    assert.deepEqual(await reread.get([key('s')]), new Map(), 'the fallback does not bring pos 1 back')
    await reread.close()
  })

  it('fails a write whose deletion the worker topic refused, and writes nothing to the connector topic', async () => {
    const { store, own } = open()
    globalFault.fail = true
    await assert.rejects(
      store.set(
        new Map([
          [key('d'), null],
          [key('e'), '{"pos":5}'],
        ]),
      ),
      /worker offsets topic is away/,
    )
    assert.deepEqual(await own.get([key('e')]), new Map())
    await store.close()
  })

  it('only logs a failed copy of offsets to the worker topic: the write succeeded', async () => {
    const { store, own } = open()
    globalFault.fail = true
    await store.set(new Map([[key('f'), '{"pos":6}']]))
    assert.deepEqual(await own.get([key('f')]), new Map([[key('f'), '{"pos":6}']]))
    await store.close()
    assert.equal(globalFault.fail, false, 'the copy was attempted')
    assert.deepEqual(await global.get([key('f')]), new Map())
  })

  it('exactly-once: offset records go to the connector topic; deletions reach the worker topic before the commit', async () => {
    const { store } = open('own-eos')
    await store.start()
    const entries = new Map<string, string | null>([
      [key('a'), null],
      [key('g'), '{"pos":7}'],
    ])
    assert.deepEqual(
      store.transactionRecords(entries).map((r) => r.topic),
      ['own-eos', 'own-eos'],
    )
    globalWrites.length = 0
    await store.beforeCommit(entries)
    assert.deepEqual(globalWrites, [[[key('a'), null]]])
    store.applyCommitted(entries)
    assert.deepEqual(await store.get([key('g')]), new Map([[key('g'), '{"pos":7}']]))
    await store.close()
    assert.deepEqual(
      globalWrites,
      [[[key('a'), null]], [[key('g'), '{"pos":7}']]],
      'offsets copied after the commit',
    )
  })

  it('copies nothing to the worker topic once closed (a cancelled task whose transaction committed late)', async () => {
    const { store } = open('own-late')
    await store.start()
    await store.close()
    globalWrites.length = 0
    store.applyCommitted(new Map([[key('late'), '{"pos":9}']]))
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(globalWrites, [])
    assert.deepEqual(await global.get([key('late')]), new Map())
  })

  it('opens nothing once closed: a read after the close fails instead of starting a reader nobody closes', async () => {
    const { store } = open('own-never')
    await store.close()
    await assert.rejects(store.get([key('a')]), /offsets topic reader is closed/)
    assert.equal((await log.describeTopics(['own-never'])).get('own-never'), undefined, 'nothing was created')
  })

  it('refuses an existing connector topic that is not compacted, naming the key', async () => {
    await log.createTopics([{ name: 'own-deleting', partitions: 1, configs: { 'cleanup.policy': 'delete' } }])
    const { store } = open('own-deleting')
    await assert.rejects(store.get([key('a')]), (error: Error & { key?: string }) => {
      assert.equal(error.key, 'offsets.storage.topic')
      assert.match(error.message, /cleanup\.policy=compact/)
      return true
    })
    await store.close()
  })
  it('lists every stored key of the connector in both topics, each spelling, for an offsets reset', async () => {
    // One partition, its fields in another order in the worker topic (written by a Java worker).
    const javaSpelling = JSON.stringify(['c', { shard: 1, file: 'k' }])
    const ownSpelling = JSON.stringify(['c', { file: 'k', shard: 1 }])
    await global.set(new Map([[javaSpelling, '{"pos":1}']]))
    const { store, own } = open('own-spellings')
    await store.start()
    await own.set(
      new Map([
        [ownSpelling, '{"pos":2}'],
        [offsetKey('other', { file: 'k' }), '{"pos":3}'],
      ]),
    )
    const keys = await store.connectorKeys('c')
    assert.ok(keys.includes(javaSpelling), 'the worker topic spelling')
    assert.ok(keys.includes(ownSpelling), 'the connector topic spelling')
    assert.ok(!keys.includes(offsetKey('other', { file: 'k' })), 'another connector')
    assert.equal(new Set(keys).size, keys.length, 'no key twice')
    // The endpoint's view still has the partition once.
    const entries = await store.connectorEntries('c')
    assert.equal([...entries.keys()].filter((k) => k === javaSpelling || k === ownSpelling).length, 1)
    await store.close()
  })
})
