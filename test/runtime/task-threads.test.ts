/**
 * Tasks in worker threads (`task.threads`, decision 0029) through a real worker on both backends:
 * a file pipeline created over REST runs, pauses and resumes, shows its metrics and goes away when
 * deleted; a TypeScript plugin from plugin.path runs in a thread, and its failure is the task's
 * FAILED status with the trace.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { ThreadedTask } from '../../src/runtime/task-threads.ts'
import { assertAtLeastOnceInOrder, readLines, waitForLines, writeNumberedLines } from '../helpers/files.ts'
import { eventually, request, type StatusBody, waitRunning } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

const pluginPath = [
  join(import.meta.dirname, 'threads-plugin'),
  join(import.meta.dirname, '..', 'cli', 'stuck-plugin'),
].join(',')

const backends = [
  // Exactly-once source tasks stay on the main thread; the embedded log's default is exactly-once
  // (decision 0032), so it is turned off here for the source tasks to run in threads too.
  {
    name: 'embedded log',
    skip: false as string | false,
    props: (): Record<string, string> => ({ 'exactly.once.source.support': 'disabled' }),
  },
  {
    name: 'Kafka',
    skip: kafkaSkipReason(),
    props: (): Record<string, string> => ({ 'bootstrap.servers': kafkaBootstrap() }),
  },
]

async function taskStates(base: string, name: string): Promise<string[]> {
  const res = await request<StatusBody>(base, 'GET', `/connectors/${name}/status`)
  return res.status === 200 ? res.body.tasks.map((t) => t.state) : []
}

for (const backend of backends) {
  describe(`task threads on the ${backend.name}`, { skip: backend.skip }, () => {
    let w: TestWorker
    before(async () => {
      w = await startTestWorker({
        ...backend.props(),
        'task.threads': '2',
        'plugin.path': pluginPath,
        'task.shutdown.graceful.timeout.ms': '1000',
        'value.converter.schemas.enable': 'false',
      })
    })
    after(() => w.close())

    it('runs a file pipeline in threads: RUNNING, data at the destination, pause and resume, metrics, delete', async () => {
      const id = Math.random().toString(36).slice(2, 8)
      const topic = `threads-${id}`
      const input = join(w.dir, `in-${id}.txt`)
      const output = join(w.dir, `out-${id}.txt`)
      writeNumberedLines(input, 1, 10_000)
      const created = await Promise.all([
        request(w.base, 'POST', '/connectors', {
          name: `threads-src-${id}`,
          config: {
            'connector.class': 'FileStreamSource',
            file: input,
            topic,
            'topic.creation.default.partitions': '1',
            'topic.creation.default.replication.factor': '1',
          },
        }),
        request(w.base, 'POST', '/connectors', {
          name: `threads-sink-${id}`,
          config: { 'connector.class': 'FileStreamSink', file: output, topics: topic },
        }),
      ])
      assert.deepEqual(
        created.map((r) => r.status),
        [201, 201],
      )
      await waitRunning(w.base, `threads-src-${id}`)
      await waitRunning(w.base, `threads-sink-${id}`)
      await waitForLines(output, 10_000, 60_000)

      // Paused: the sink task reports PAUSED and writes nothing more until resumed.
      assert.equal((await request(w.base, 'PUT', `/connectors/threads-sink-${id}/pause`)).status, 202)
      await eventually(
        async () => ((await taskStates(w.base, `threads-sink-${id}`))[0] === 'PAUSED' ? true : undefined),
        20_000,
        'the sink task PAUSED',
      )
      writeNumberedLines(input, 10_001, 5_000)
      await sleep(1500)
      assert.equal(readLines(output).length, 10_000, 'a paused sink task writes nothing')
      assert.equal((await request(w.base, 'PUT', `/connectors/threads-sink-${id}/resume`)).status, 202)
      const lines = await waitForLines(output, 15_000, 60_000)
      assert.equal(assertAtLeastOnceInOrder(lines, 15_000).duplicates, 0)
      assert.deepEqual(await taskStates(w.base, `threads-sink-${id}`), ['RUNNING'])

      // The threads' counters reach /metrics on the main thread.
      const metrics = await eventually(
        async () => {
          const text = await (await fetch(`${w.base}/metrics`)).text()
          const read = text.match(
            new RegExp(`sink_record_read_total\\{connector="threads-sink-${id}",task="0"\\} (\\d+)`),
          )
          return read && Number(read[1]) >= 15_000 ? text : undefined
        },
        20_000,
        'sink-record-read-total of 15000 in /metrics',
      )
      assert.match(
        metrics,
        new RegExp(`source_record_write_total\\{connector="threads-src-${id}",task="0"\\} 15000`),
      )

      for (const name of [`threads-src-${id}`, `threads-sink-${id}`]) {
        assert.equal((await request(w.base, 'DELETE', `/connectors/${name}`)).status, 204)
      }
      await eventually(
        async () =>
          ((await request(w.base, 'GET', '/connectors')).body as string[]).length === 0 || undefined,
        20_000,
        'the connectors gone',
      )
      const after = await (await fetch(`${w.base}/metrics`)).text()
      assert.doesNotMatch(after, new RegExp(`connector="threads-sink-${id}"`))
    })

    it('a TypeScript plugin from plugin.path runs in a thread; its failure is FAILED with the trace', async () => {
      const name = `threads-boom-${Math.random().toString(36).slice(2, 8)}`
      const created = await request(w.base, 'POST', '/connectors', {
        name,
        config: { 'connector.class': 'test.ThreadBoomSource', topic: 'unused' },
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const failed = await eventually(
        async () => {
          const res = await request<StatusBody>(w.base, 'GET', `/connectors/${name}/status`)
          return res.body.tasks[0]?.state === 'FAILED' ? res.body.tasks[0] : undefined
        },
        30_000,
        'the task FAILED',
      )
      assert.match(failed.trace ?? '', /ThreadBoom in thread [1-9]\d*/)
      assert.match(failed.trace ?? '', /failing-source\.ts/)
      assert.equal((await request(w.base, 'DELETE', `/connectors/${name}`)).status, 204)
    })

    it('a task stuck in poll() is cancelled after the graceful timeout; the worker goes on', async () => {
      const name = `threads-stuck-${Math.random().toString(36).slice(2, 8)}`
      const created = await request(w.base, 'POST', '/connectors', {
        name,
        config: { 'connector.class': 'test.StuckSource' },
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      await waitRunning(w.base, name)
      const start = Date.now()
      assert.equal((await request(w.base, 'DELETE', `/connectors/${name}`)).status, 204)
      assert.ok(Date.now() - start < 10_000, `DELETE took ${Date.now() - start} ms`)
      assert.equal((await request(w.base, 'GET', `/connectors/${name}/status`)).status, 404)
      assert.equal((await request(w.base, 'GET', '/connectors')).status, 200)
    })
  })
}

describe('task thread logs', () => {
  it("a task's last lines before its stop() returns are printed by the worker's logger (pretty here), none lost as the thread ends", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-worker-'))
    const worker = await startStandalone(
      new WorkerConfig({
        'sluice.data.dir': join(dir, 'data'),
        listeners: 'http://127.0.0.1:0',
        'log.level': 'warn',
        'exactly.once.source.support': 'disabled',
        'task.threads': '1',
        'plugin.path': pluginPath,
      }),
      [],
      { prettyLogs: true },
    )
    const base = `http://127.0.0.1:${worker.rest.port}`
    const marker = `last-words-${Math.random().toString(36).slice(2, 8)}`
    const printed: string[] = []
    const write = process.stderr.write
    const stop = ThreadedTask.prototype.stop
    let stopped = false
    try {
      const created = await request(base, 'POST', '/connectors', {
        name: marker,
        config: { 'connector.class': 'test.LastWordsSource', marker },
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      await waitRunning(base, marker)
      // Everything the process prints from here: the main thread's lines and a thread's piped stderr.
      process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
        return (write as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest)
      }) as typeof process.stderr.write
      // What was printed when the main thread's stand-in for the task returned from stop().
      let atStop: string | undefined
      ThreadedTask.prototype.stop = async function (this: ThreadedTask, timeoutMs: number) {
        const ended = await stop.call(this, timeoutMs)
        if (this.id.connector === marker) atStop ??= printed.join('')
        return ended
      }
      // The worker stops the task (its runner ends in the thread after its stop() logged), then ends
      // the thread.
      await worker.stop()
      stopped = true
      const linesOf = (text: string) => text.split('\n').filter((l) => l.includes(marker))
      const lastWords = new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN .*${marker} last words$`)
      assert.ok(
        linesOf(atStop ?? '').some((l) => lastWords.test(l)),
        `the last words printed, pretty, by the time stop() returned: ${linesOf(atStop ?? '').at(-1)}`,
      )
      const lines = linesOf(printed.join(''))
      assert.equal(lines.filter((l) => / line \d+ /.test(l)).length, 200, 'every line printed once')
      assert.match(lines.at(-1) ?? '', lastWords)
    } finally {
      process.stderr.write = write
      ThreadedTask.prototype.stop = stop
      if (!stopped) await worker.stop().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('task.threads', () => {
  it('a value that is not 0, a count or auto fails the worker start, naming the key', async () => {
    await assert.rejects(
      startTestWorker({ 'task.threads': 'many' }),
      /task\.threads.*0 \(tasks on the main thread\)/,
    )
  })
})
