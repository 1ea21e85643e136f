/**
 * Kill -9 in the middle of a file → log → file pipeline, then restart: every line arrives at least
 * once, in order. Runs the real `sluice standalone` command as a child process on both backends,
 * with tasks on the main thread and in task threads (`task.threads`, decision 0029).
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { assertAtLeastOnceInOrder, readLines, waitForLines, writeNumberedLines } from '../helpers/files.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { workerProcess } from '../helpers/worker-process.ts'

const TOTAL = 200_000

const backends = [
  { name: 'embedded log', skip: false as string | false, worker: (): Record<string, string> => ({}) },
  {
    name: 'Kafka',
    skip: kafkaSkipReason(),
    worker: (): Record<string, string> => ({ 'bootstrap.servers': kafkaBootstrap() }),
  },
].flatMap((b) => [
  b,
  { ...b, name: `${b.name}, tasks in threads`, worker: () => ({ ...b.worker(), 'task.threads': '2' }) },
])

for (const backend of backends) {
  describe(`a worker killed with SIGKILL on the ${backend.name}`, { skip: backend.skip }, () => {
    const worker = workerProcess(['source.properties', 'sink.json'])
    const dir = worker.dir
    after(() => worker.close())

    it('delivers every line at least once and in order after a restart', async () => {
      const topic = `kill-${Math.random().toString(36).slice(2, 8)}`
      const input = join(dir, 'in.txt')
      const output = join(dir, 'out.txt')
      worker.writeProperties({
        ...backend.worker(),
        'value.converter.schemas.enable': 'false',
        'offset.flush.interval.ms': '100',
      })
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

      // Kill it while data is flowing: some lines out, not all.
      await worker.killMidway(() => readLines(output).length > 20_000, 60_000, 'lines to start arriving')
      const before = readLines(output).length
      assert.ok(before < TOTAL, `the kill should land mid-pipeline (had ${before} of ${TOTAL})`)

      worker.start()
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
