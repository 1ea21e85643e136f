import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { ConnectError } from '../../src/api/errors.ts'
import { createEmbeddedLog } from '../../src/log/embedded/embedded-log.ts'
import { type Log, type LogRecord, tpKey } from '../../src/log/log.ts'
import { runLogConformance } from './log-conformance.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const EMBEDDED_LOG_MODULE = new URL('../../src/log/embedded/embedded-log.ts', import.meta.url).href

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-embedded-log-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Runs `body` (an ES module body with `log` open on `dir`) in a separate Node process. */
function child(dir: string, body: string): ChildProcess {
  const source = `
    const { createEmbeddedLog } = await import(${JSON.stringify(EMBEDDED_LOG_MODULE)})
    const log = await createEmbeddedLog({ dir: ${JSON.stringify(dir)} })
    ${body}`
  return spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
}

/** Collects a child's stdout lines; resolves `waitFor` once a line satisfies the predicate. */
function lines(proc: ChildProcess) {
  const complete: string[] = []
  let partial = ''
  const waiters: { until: () => boolean; resolve: () => void }[] = []
  proc.stdout!.setEncoding('utf8')
  proc.stdout!.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    complete.push(...parts)
    for (const w of waiters.filter((w) => w.until())) w.resolve()
  })
  return {
    complete,
    waitFor(until: () => boolean, ms: number, what: string): Promise<void> {
      if (until()) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child: timed out waiting for ${what}`)), ms)
        proc.once('exit', (code) => reject(new Error(`child exited (${code}) before ${what}`)))
        waiters.push({
          until,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
  }
}

async function readAll(log: Log, topic: string, partitions: number): Promise<LogRecord[]> {
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
  const ends = await log.endOffsets(tps)
  const total = [...ends.values()].reduce((a, b) => a + b, 0)
  const consumer = log.createConsumer({ groupId: 'reader', clientId: 'reader', maxPollRecords: 10_000 })
  await consumer.assign(tps)
  const records: LogRecord[] = []
  while (records.length < total) {
    const batch = await consumer.poll(1000)
    assert.ok(batch.length > 0, `read ${records.length} of ${total} records`)
    records.push(...batch)
  }
  await consumer.close()
  return records
}

runLogConformance('embedded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-embedded-log-'))
  const log = await createEmbeddedLog({ dir })
  return {
    log,
    cleanup: async () => {
      await log.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})

void describe('embedded log', () => {
  void it('keeps every acknowledged record, with dense offsets, when its process is killed with SIGKILL', async (t) => {
    const dir = await tempDir(t)
    const proc = child(
      dir,
      `
      await log.createTopics([{ name: 'durable', partitions: 3 }])
      const producer = log.createProducer({ clientId: 'child' })
      const encoder = new TextEncoder()
      let n = 0
      // Four concurrent senders of batches of 1..40 records: group commit and in-flight sends at once.
      const sender = async (w) => {
        for (;;) {
          const id = n++
          const batch = Array.from({ length: 1 + (id % 40) }, (_, i) => ({
            topic: 'durable', partition: (id + i) % 3, key: null, value: encoder.encode(id + '-' + i),
          }))
          const metadata = await producer.send(batch)
          process.stdout.write(metadata.map((m, i) => m.partition + ' ' + m.offset + ' ' + id + '-' + i).join('\\n') + '\\n')
        }
      }
      await Promise.all([0, 1, 2, 3].map(sender))`,
    )
    const out = lines(proc)
    await out.waitFor(() => out.complete.length >= 20_000, 60_000, '20000 acknowledged records')
    proc.kill('SIGKILL')
    await once(proc, 'exit')

    const acked = out.complete.map((line) => {
      const [partition, offset, value] = line.split(' ')
      return { partition: Number(partition), offset: Number(offset), value }
    })
    const log = await createEmbeddedLog({ dir })
    t.after(() => log.close())
    const records = await readAll(log, 'durable', 3)
    const stored = new Map(records.map((r) => [`${r.partition}@${r.offset}`, decoder.decode(r.value!)]))
    for (const a of acked) {
      assert.equal(
        stored.get(`${a.partition}@${a.offset}`),
        a.value,
        `acknowledged record ${a.partition}@${a.offset}`,
      )
    }
    for (let p = 0; p < 3; p++) {
      const offsets = records.filter((r) => r.partition === p).map((r) => r.offset)
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => i),
        `offsets of partition ${p} are not dense`,
      )
    }
    const [sent] = await log
      .createProducer({ clientId: 'after' })
      .send([{ topic: 'durable', partition: 0, key: null, value: null }])
    assert.equal(sent.offset, records.filter((r) => r.partition === 0).length)
  })

  void it('refuses a data directory another process has open, naming the directory and that process', async (t) => {
    const dir = await tempDir(t)
    const proc = child(dir, `process.stdout.write('open\\n'); setInterval(() => {}, 1000)`)
    t.after(() => proc.kill('SIGKILL'))
    const out = lines(proc)
    await out.waitFor(() => out.complete.includes('open'), 30_000, 'the child to open the log')
    await assert.rejects(createEmbeddedLog({ dir }), (error: unknown) => {
      assert.ok(error instanceof ConnectError)
      assert.match(
        error.message,
        new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*process ${proc.pid}`),
      )
      return true
    })
    proc.kill('SIGKILL')
    await once(proc, 'exit')
    // The dead owner's lock went with its process (its owner.pid file is left behind and ignored).
    const log = await createEmbeddedLog({ dir })
    await log.close()
  })

  void it('refuses a second open of the same directory within one process', async (t) => {
    const dir = await tempDir(t)
    const log = await createEmbeddedLog({ dir })
    t.after(() => log.close())
    await assert.rejects(createEmbeddedLog({ dir }), (error: unknown) => {
      assert.ok(error instanceof ConnectError)
      assert.ok(
        error.message.includes(dir) && error.message.includes(`process ${process.pid}`),
        error.message,
      )
      return true
    })
  })

  void it('keeps topics, records, offsets, committed offsets and its cluster id across a reopen', async (t) => {
    const dir = await tempDir(t)
    let log = await createEmbeddedLog({ dir })
    const clusterId = await log.clusterId()
    await log.createTopics([{ name: 'kept', partitions: 2, configs: { 'cleanup.policy': 'compact' } }])
    const producer = log.createProducer({ clientId: 'p' })
    await producer.send(
      [0, 1, 2, 3, 4].map((i) => ({
        topic: 'kept',
        partition: i % 2,
        key: encoder.encode(`k${i}`),
        value: encoder.encode(`v${i}`),
      })),
    )
    const consumer = log.createConsumer({ groupId: 'g', clientId: 'c' })
    await consumer.assign([{ topic: 'kept', partition: 0 }])
    await consumer.commit(new Map([[tpKey({ topic: 'kept', partition: 0 }), 2]]))
    await log.close()

    log = await createEmbeddedLog({ dir })
    t.after(() => log.close())
    assert.equal(await log.clusterId(), clusterId)
    assert.deepEqual(
      await log.describeTopics(['kept']),
      new Map([['kept', { name: 'kept', partitions: 2, configs: { 'cleanup.policy': 'compact' } }]]),
    )
    const tps = [0, 1].map((partition) => ({ topic: 'kept', partition }))
    assert.deepEqual(
      await log.endOffsets(tps),
      new Map([
        [tpKey(tps[0]), 3],
        [tpKey(tps[1]), 2],
      ]),
    )
    assert.deepEqual(await log.groupOffsets('g'), new Map([[tpKey(tps[0]), 2]]))
    const [next] = await log
      .createProducer({ clientId: 'p2' })
      .send([{ topic: 'kept', partition: 1, key: encoder.encode('k5'), value: encoder.encode('v5') }])
    assert.equal(next.offset, 2)
    const resumed = log.createConsumer({ groupId: 'g', clientId: 'c2' })
    await resumed.assign([tps[0]])
    const records = await resumed.poll(1000)
    assert.deepEqual(
      records.map((r) => [r.offset, decoder.decode(r.value!)]),
      [[2, 'v4']],
    )
  })

  void it('rejects only the bad send of a group commit; the sends committed with it succeed', async (t) => {
    const dir = await tempDir(t)
    const log = await createEmbeddedLog({ dir, autoCreateTopics: false })
    t.after(() => log.close())
    await log.createTopics([{ name: 'good', partitions: 1 }])
    const producer = log.createProducer({ clientId: 'p' })
    const value = encoder.encode('x')
    const [a, bad, missing, b] = await Promise.allSettled([
      producer.send([{ topic: 'good', key: null, value }]),
      producer.send([{ topic: 'good', partition: 3, key: null, value }]),
      producer.send([{ topic: 'absent', key: null, value }]),
      producer.send([{ topic: 'good', key: null, value }]),
    ])
    assert.equal(a.status === 'fulfilled' && a.value[0].offset, 0)
    assert.equal(b.status === 'fulfilled' && b.value[0].offset, 1)
    assert.ok(bad.status === 'rejected' && bad.reason instanceof ConnectError)
    assert.ok(missing.status === 'rejected' && missing.reason instanceof ConnectError)
    assert.deepEqual(await log.listTopics(), ['good'])
  })

  void it('auto-creates a topic on first produce with the default partition count', async (t) => {
    const dir = await tempDir(t)
    const log = await createEmbeddedLog({ dir, defaultPartitions: 3 })
    t.after(() => log.close())
    await log.createProducer({ clientId: 'p' }).send([{ topic: 'fresh', key: null, value: null }])
    assert.equal((await log.describeTopics(['fresh'])).get('fresh')?.partitions, 3)
  })

  void it('starts a topic deleted and created again empty, at offset 0, without old committed offsets', async (t) => {
    const dir = await tempDir(t)
    const log = await createEmbeddedLog({ dir })
    t.after(() => log.close())
    const producer = log.createProducer({ clientId: 'p' })
    await log.createTopics([{ name: 'again', partitions: 1 }])
    await producer.send([{ topic: 'again', partition: 0, key: null, value: encoder.encode('old') }])
    await log.alterGroupOffsets('g', new Map([[tpKey({ topic: 'again', partition: 0 }), 1]]))
    await log.deleteTopics(['again'])
    await log.createTopics([{ name: 'again', partitions: 1 }])
    assert.deepEqual(await log.groupOffsets('g'), new Map())
    const [m] = await producer.send([
      { topic: 'again', partition: 0, key: null, value: encoder.encode('new') },
    ])
    assert.equal(m.offset, 0)
    assert.deepEqual(
      (await readAll(log, 'again', 1)).map((r) => decoder.decode(r.value!)),
      ['new'],
    )
  })

  void it('refuses to alter the offsets of a group with active members', async (t) => {
    const dir = await tempDir(t)
    const log = await createEmbeddedLog({ dir })
    t.after(() => log.close())
    await log.createTopics([{ name: 't', partitions: 1 }])
    const consumer = log.createConsumer({ groupId: 'busy', clientId: 'c' })
    await consumer.subscribe(['t'])
    await assert.rejects(
      log.alterGroupOffsets('busy', new Map([[tpKey({ topic: 't', partition: 0 }), 0]])),
      ConnectError,
    )
    await consumer.close()
    await log.alterGroupOffsets('busy', new Map([[tpKey({ topic: 't', partition: 0 }), 0]]))
  })

  void it('shows a transaction to consumers all at once at its commit, nothing of an aborted one, and fences an earlier holder of its id', async (t) => {
    const dir = await tempDir(t)
    const log = await createEmbeddedLog({ dir })
    t.after(() => log.close())
    await log.createTopics([{ name: 'tx', partitions: 2 }])
    const tps = [0, 1].map((partition) => ({ topic: 'tx', partition }))
    const consumer = log.createConsumer({ groupId: 'tx-reader', clientId: 'c' })
    t.after(() => consumer.close())
    await consumer.assign(tps)
    const value = (s: string) => ({ topic: 'tx', key: null, value: encoder.encode(s) })

    const producer = log.createTransactionalProducer({ clientId: 'p', transactionalId: 'tx-0' })
    await producer.init()
    await producer.begin()
    const first = await producer.send([
      { ...value('a'), partition: 0 },
      { ...value('b'), partition: 1 },
    ])
    await producer.send([{ ...value('c'), partition: 0 }])
    // Sent, not committed: no reader sees any of it, at either isolation level.
    assert.deepEqual(await consumer.poll(50), [])
    for (const committed of [false, true])
      assert.deepEqual([...(await log.endOffsets(tps, committed)).values()], [0, 0])
    await producer.commit()
    assert.deepEqual(
      first.map((m) => [m.partition, m.offset]),
      [
        [0, 0],
        [1, 0],
      ],
    )
    const seen = await consumer.poll(1000)
    assert.deepEqual(seen.map((r) => decoder.decode(r.value!)).sort(), ['a', 'b', 'c'])

    await producer.begin()
    await producer.send([{ ...value('aborted'), partition: 0 }])
    await producer.abort()
    assert.deepEqual([...(await log.endOffsets(tps)).values()], [2, 1])

    // A send to a partition that does not exist is refused at the send, not at the commit.
    await producer.begin()
    await assert.rejects(producer.send([{ ...value('x'), partition: 5 }]), /Partition 5/)
    await producer.abort()

    // A second holder of the id fences the first: its open transaction can no longer commit.
    await producer.begin()
    await producer.send([{ ...value('zombie'), partition: 0 }])
    const successor = log.createTransactionalProducer({ clientId: 'p2', transactionalId: 'tx-0' })
    await successor.init()
    await assert.rejects(producer.commit(), /PRODUCER_FENCED/)
    await successor.begin()
    await successor.send([{ ...value('d'), partition: 0 }])
    await successor.commit()
    assert.deepEqual((await readAll(log, 'tx', 2)).map((r) => decoder.decode(r.value!)).sort(), [
      'a',
      'b',
      'c',
      'd',
    ])
  })
})
