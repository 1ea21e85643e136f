/**
 * Exactly-once source on the embedded log (decision 0032): a file source's records and their source
 * offsets commit in one SQLite transaction, so a worker killed with SIGKILL at any point and started
 * again on the same data dir leaves every line in the topic exactly once. Real `sluice standalone`
 * processes; the topic itself is read at the end (a sink could hide duplicates).
 *
 * Runs: SLUICE_EOS_KILL_RUNS (default 3; the report's figures come from 20). Each run kills the
 * worker three times at random points, alternating `transaction.boundary` poll and interval.
 * SLUICE_EOS_KILL_SUPPORT=disabled runs the same test on the at-least-once path (records, then their
 * offsets in a separate write, as before decision 0032), which fails with duplicates.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createEmbeddedLog } from '../../src/log/embedded/embedded-log.ts'
import { tpKey } from '../../src/log/log.ts'
import { lineNumber, readLines, writeNumberedLines } from '../helpers/files.ts'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker } from '../helpers/worker.ts'
import { workerProcess } from '../helpers/worker-process.ts'

const TOTAL = 100_000
const RUNS = Number(process.env.SLUICE_EOS_KILL_RUNS ?? 3)
const KILLS_PER_RUN = 3
const SUPPORT = process.env.SLUICE_EOS_KILL_SUPPORT ?? 'enabled'

function uniqueLines(file: string): number {
  return new Set(readLines(file).map(lineNumber)).size
}

describe('exactly-once source on the embedded log, with the worker killed by SIGKILL', () => {
  for (let run = 1; run <= RUNS; run++) {
    const boundary = run % 2 === 1 ? 'poll' : 'interval'
    it(`run ${run}: every line is in the topic exactly once (transaction.boundary=${boundary})`, async () => {
      const worker = workerProcess(['source.properties', 'sink.properties'])
      after(() => worker.close())
      const { dir } = worker
      const input = join(dir, 'in.txt')
      const output = join(dir, 'out.txt')
      const topic = `eos-embedded-${run}`
      worker.writeProperties({
        'value.converter.schemas.enable': 'false',
        'offset.flush.interval.ms': '500',
        'exactly.once.source.support': SUPPORT,
      })
      writeFileSync(
        join(dir, 'source.properties'),
        `name=eos-src\nconnector.class=FileStreamSource\nfile=${input}\ntopic=${topic}\nbatch.size=500\n` +
          `transaction.boundary=${boundary}\ntransaction.boundary.interval.ms=200\n` +
          `exactly.once.support=${SUPPORT === 'enabled' ? 'required' : 'requested'}\n`,
      )
      // The sink only tells when the load is under way and when it is done; the topic is checked.
      writeFileSync(
        join(dir, 'sink.properties'),
        `name=eos-sink\nconnector.class=FileStreamSink\nfile=${output}\ntopics=${topic}\n`,
      )
      writeNumberedLines(input, 1, TOTAL)

      const killedAt: number[] = []
      for (let kill = 0; kill < KILLS_PER_RUN; kill++) {
        // At random points: some right at start-up, most while records flow.
        const threshold = Math.floor(Math.random() * ((TOTAL * (kill + 1)) / (KILLS_PER_RUN + 1)))
        await worker.killMidway(() => uniqueLines(output) >= threshold, 60_000, `${threshold} lines`, 400)
        killedAt.push(uniqueLines(output))
      }
      const last = worker.start()
      await eventually(() => (uniqueLines(output) >= TOTAL ? true : undefined), 120_000, 'every line')
      await worker.kill(last)

      const log = await createEmbeddedLog({ dir: join(dir, 'data', 'log') })
      try {
        const tp = { topic, partition: 0 }
        const end = (await log.endOffsets([tp])).get(tpKey(tp)) ?? 0
        const consumer = log.createConsumer({ groupId: 'check', clientId: 'check', maxPollRecords: 10_000 })
        await consumer.assign([tp])
        const counts = new Map<number, number>()
        for (let read = 0; read < end; ) {
          const records = await consumer.poll(1000)
          assert.ok(records.length > 0, `read ${read} of ${end} records`)
          for (const r of records) {
            const n = lineNumber(JSON.parse(Buffer.from(r.value!).toString('utf8')) as string)
            counts.set(n, (counts.get(n) ?? 0) + 1)
          }
          read += records.length
        }
        await consumer.close()
        const duplicated = [...counts].filter(([, c]) => c > 1)
        const missing = TOTAL - counts.size
        process.stderr.write(
          `[eos embedded run ${run}, ${boundary}, support=${SUPPORT}] killed at ${killedAt.join(', ')} lines; ` +
            `${end} records in the topic, ${duplicated.length} lines duplicated, ${missing} missing\n`,
        )
        assert.equal(missing, 0, 'every line is in the topic')
        assert.equal(end, TOTAL, `the topic holds ${end - TOTAL} records too many`)
        assert.deepEqual(duplicated.slice(0, 5), [], 'no line twice')
      } finally {
        await log.close()
      }
    })
  }
})

describe('exactly-once keys on an embedded worker', () => {
  it('refuses exactly.once.support=required and transaction.boundary=connector where the connector cannot, naming the key', async () => {
    const w = await startTestWorker()
    after(() => w.close())
    const create = (config: Record<string, string>) =>
      request<{ message: string }>(w.base, 'POST', '/connectors', {
        name: `eos-${Math.random().toString(36).slice(2, 8)}`,
        config: { 'connector.class': 'FileStreamSource', topic: 'eos-keys', ...config },
      })
    // A file source on stdin keeps no offsets: it cannot be exactly-once.
    const stdin = await create({ 'exactly.once.support': 'required' })
    assert.equal(stdin.status, 400)
    assert.match(stdin.body.message, /exactly\.once\.support/)
    const boundary = await create({ file: join(w.dir, 'in.txt'), 'transaction.boundary': 'connector' })
    assert.equal(boundary.status, 400)
    assert.match(boundary.body.message, /transaction\.boundary/)
    const file = await create({ file: join(w.dir, 'in.txt'), 'exactly.once.support': 'required' })
    assert.equal(file.status, 201)
  })
})
