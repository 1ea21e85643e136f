import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type StandaloneWorker, startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { assertAtLeastOnceInOrder, waitForLines, writeNumberedLines } from '../helpers/files.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

const backends = [
  { name: 'embedded log', skip: false as string | false, props: (): Record<string, string> => ({}) },
  {
    name: 'Kafka',
    skip: kafkaSkipReason(),
    props: (): Record<string, string> => ({ 'bootstrap.servers': kafkaBootstrap() }),
  },
]

for (const backend of backends) {
  describe(`standalone worker on the ${backend.name}`, { skip: backend.skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-pipeline-'))
    const workers: StandaloneWorker[] = []
    after(async () => {
      for (const w of workers) await w.stop()
      rmSync(dir, { recursive: true, force: true })
    })

    async function start(name: string): Promise<{ worker: StandaloneWorker; base: string }> {
      const config = new WorkerConfig({
        ...backend.props(),
        'sluice.data.dir': join(dir, name),
        listeners: 'http://127.0.0.1:0',
        'value.converter.schemas.enable': 'false',
        'offset.flush.interval.ms': '200',
        'log.level': 'warn',
      })
      const worker = await startStandalone(config)
      workers.push(worker)
      return { worker, base: `http://127.0.0.1:${worker.rest.port}` }
    }

    it('moves every line of a file through a topic into another file, in order', async () => {
      const { base } = await start('basic')
      const topic = `lines-${Math.random().toString(36).slice(2, 8)}`
      const input = join(dir, 'basic-in.txt')
      const output = join(dir, 'basic-out.txt')
      writeNumberedLines(input, 1, 20_000)
      const source = await request(base, 'POST', '/connectors', {
        name: 'src',
        config: {
          'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
          file: input,
          topic,
          'topic.creation.default.partitions': '1',
          'topic.creation.default.replication.factor': '1',
        },
      })
      assert.equal(source.status, 201, JSON.stringify(source.body))
      const sink = await request(base, 'POST', '/connectors', {
        name: 'sink',
        config: { 'connector.class': 'FileStreamSink', file: output, topics: topic },
      })
      assert.equal(sink.status, 201, JSON.stringify(sink.body))
      writeNumberedLines(input, 20_001, 5_000)
      const lines = await waitForLines(output, 25_000, 60_000)
      const { duplicates } = assertAtLeastOnceInOrder(lines, 25_000)
      assert.equal(duplicates, 0)
      const status = await request<{ connector: { state: string }; tasks: { state: string }[] }>(
        base,
        'GET',
        '/connectors/src/status',
      )
      assert.equal(status.body.connector.state, 'RUNNING')
      assert.deepEqual(
        status.body.tasks.map((t) => t.state),
        ['RUNNING'],
      )
    })

    it('reports a failing task as FAILED with its trace while the worker keeps serving', async () => {
      const { base } = await start('failing')
      const created = await request(base, 'POST', '/connectors', {
        name: 'bad-sink',
        config: {
          'connector.class': 'FileStreamSink',
          file: join(dir, 'no-such-dir', 'out.txt'),
          topics: 'x',
        },
      })
      assert.equal(created.status, 201)
      const task = await eventually(
        async () => {
          const res = await request<{ tasks: { state: string; trace?: string }[] }>(
            base,
            'GET',
            '/connectors/bad-sink/status',
          )
          return res.body.tasks[0]?.state === 'FAILED' ? res.body.tasks[0] : undefined
        },
        20_000,
        'the task to fail',
      )
      assert.match(task.trace ?? '', /no-such-dir/)
      const root = await request<{ version: string }>(base, 'GET', '/')
      assert.equal(root.status, 200)
    })

    it('refuses an unknown connector class with a 400 that lists the installed ones', async () => {
      const { base } = await start('unknown')
      const res = await request<{ error_code: number; message: string }>(base, 'POST', '/connectors', {
        name: 'x',
        config: { 'connector.class': 'com.example.NoSuchConnector' },
      })
      assert.equal(res.status, 400)
      assert.equal(res.body.error_code, 400)
      assert.match(res.body.message, /NoSuchConnector/)
      assert.match(res.body.message, /org\.apache\.kafka\.connect\.file\.FileStreamSinkConnector/)
    })

    it('resumes stored connectors and offsets after a restart without re-reading the file', async () => {
      const input = join(dir, 'resume-in.txt')
      const output = join(dir, 'resume-out.txt')
      const topic = `resume-${Math.random().toString(36).slice(2, 8)}`
      writeNumberedLines(input, 1, 1000)
      const first = await start('resume')
      for (const [name, config] of [
        [
          'r-src',
          {
            'connector.class': 'FileStreamSource',
            file: input,
            topic,
            'topic.creation.default.partitions': '1',
            'topic.creation.default.replication.factor': '1',
          },
        ],
        ['r-sink', { 'connector.class': 'FileStreamSink', file: output, topics: topic }],
      ] as const) {
        assert.equal((await request(first.base, 'POST', '/connectors', { name, config })).status, 201)
      }
      await waitForLines(output, 1000)
      await first.worker.stop()
      workers.splice(workers.indexOf(first.worker), 1)
      writeNumberedLines(input, 1001, 500)
      const second = await start('resume')
      assert.deepEqual((await request(second.base, 'GET', '/connectors')).body, ['r-sink', 'r-src'])
      const lines = await waitForLines(output, 1500)
      const { duplicates } = assertAtLeastOnceInOrder(lines, 1500)
      assert.equal(duplicates, 0, 'a graceful stop commits offsets, so nothing is replayed')
    })
  })
}
