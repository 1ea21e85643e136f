/**
 * Kill -9 in the middle of a file → log → file pipeline, then restart: every line arrives at least
 * once, in order. Runs the real `sluice standalone` command as a child process on both backends.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { assertAtLeastOnceInOrder, readLines, waitForLines, writeNumberedLines } from '../helpers/files.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')
const TOTAL = 200_000

const backends = [
  { name: 'embedded log', skip: false as string | false, worker: (): string => '' },
  { name: 'Kafka', skip: kafkaSkipReason(), worker: (): string => `bootstrap.servers=${kafkaBootstrap()}\n` },
]

for (const backend of backends) {
  describe(`a worker killed with SIGKILL on the ${backend.name}`, { skip: backend.skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-kill-'))
    const children: ChildProcess[] = []
    after(() => {
      for (const child of children) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    })

    function launch(): ChildProcess {
      const child = spawn(
        process.execPath,
        [
          MAIN,
          'standalone',
          join(dir, 'worker.properties'),
          join(dir, 'source.properties'),
          join(dir, 'sink.json'),
        ],
        {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      )
      let stderr = ''
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000)
      })
      child.on('exit', (code, signal) => {
        if (code !== null && code !== 0) process.stderr.write(`worker exited with ${code}: ${stderr}\n`)
        void signal
      })
      children.push(child)
      return child
    }

    it('delivers every line at least once and in order after a restart', async () => {
      const topic = `kill-${Math.random().toString(36).slice(2, 8)}`
      const input = join(dir, 'in.txt')
      const output = join(dir, 'out.txt')
      writeFileSync(
        join(dir, 'worker.properties'),
        `${backend.worker()}sluice.data.dir=${join(dir, 'data')}\nlisteners=http://127.0.0.1:0\n` +
          'value.converter.schemas.enable=false\noffset.flush.interval.ms=100\nlog.level=warn\n',
      )
      writeFileSync(
        join(dir, 'source.properties'),
        `name=kill-src\nconnector.class=FileStreamSource\nfile=${input}\ntopic=${topic}\n` +
          'topic.creation.default.partitions=1\ntopic.creation.default.replication.factor=1\n',
      )
      writeFileSync(
        join(dir, 'sink.json'),
        JSON.stringify({
          name: 'kill-sink',
          config: { 'connector.class': 'FileStreamSink', file: output, topics: topic },
        }),
      )
      writeNumberedLines(input, 1, TOTAL)

      const first = launch()
      // Kill it while data is flowing: some lines out, not all.
      await eventually(
        () => (readLines(output).length > 20_000 ? true : undefined),
        60_000,
        'lines to start arriving',
      )
      first.kill('SIGKILL')
      await new Promise((r) => first.once('exit', r))
      const before = readLines(output).length
      assert.ok(before < TOTAL, `the kill should land mid-pipeline (had ${before} of ${TOTAL})`)

      launch()
      const lines = await waitForLines(output, TOTAL, 120_000)
      // Let replays settle, then check the whole output.
      await new Promise((r) => setTimeout(r, 1000))
      const { duplicates } = assertAtLeastOnceInOrder(readLines(output), TOTAL)
      assert.ok(lines.length >= TOTAL)
      process.stderr.write(
        `[${backend.name}] killed at ${before} lines; ${duplicates} replayed after restart\n`,
      )
    })
  })
}
