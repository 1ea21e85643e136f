/**
 * Poison records with `errors.tolerance=all` and a dead-letter topic: every good record reaches
 * the sink, every poison record is in the dead-letter topic with its context headers, none lost.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type StandaloneWorker, startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import type { LogRecord } from '../../src/log/log.ts'
import { readLines, waitForLines } from '../helpers/files.ts'
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

const TOTAL = 10_000
const isPoison = (n: number) => n % 100 === 37

for (const backend of backends) {
  describe(`error tolerance on the ${backend.name}`, { skip: backend.skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-errors-'))
    let worker: StandaloneWorker | undefined
    after(async () => {
      await worker?.stop()
      rmSync(dir, { recursive: true, force: true })
    })

    it('delivers every good record and puts every poison record in the dead-letter topic with context headers', async () => {
      worker = await startStandalone(
        new WorkerConfig({
          ...backend.props(),
          'sluice.data.dir': join(dir, 'data'),
          listeners: 'http://127.0.0.1:0',
          'offset.flush.interval.ms': '200',
          'log.level': 'error',
        }),
      )
      const base = `http://127.0.0.1:${worker.rest.port}`
      const suffix = Math.random().toString(36).slice(2, 8)
      const topic = `mixed-${suffix}`
      const dlq = `dlq-${suffix}`
      const input = join(dir, 'in.txt')
      const output = join(dir, 'out.txt')
      const lines: string[] = []
      for (let n = 1; n <= TOTAL; n++) lines.push(isPoison(n) ? `poison ${n} {` : JSON.stringify({ n }))
      writeFileSync(input, `${lines.join('\n')}\n`)
      const create = async (name: string, config: Record<string, string>) => {
        const res = await request(base, 'POST', '/connectors', { name, config })
        assert.equal(res.status, 201, JSON.stringify(res.body))
      }
      await create('mixed-src', {
        'connector.class': 'FileStreamSource',
        file: input,
        topic,
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'topic.creation.default.partitions': '1',
        'topic.creation.default.replication.factor': '1',
      })
      await create('json-sink', {
        'connector.class': 'FileStreamSink',
        file: output,
        topics: topic,
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
        'errors.deadletterqueue.topic.replication.factor': '1',
        'errors.deadletterqueue.context.headers.enable': 'true',
      })
      const poisonCount = lines.filter((_, i) => isPoison(i + 1)).length
      const good = await waitForLines(output, TOTAL - poisonCount, 60_000)
      assert.deepEqual(
        good.map((l) => (JSON.parse(l) as { n: number }).n),
        Array.from({ length: TOTAL }, (_, i) => i + 1).filter((n) => !isPoison(n)),
      )

      const dead = await readTopic(worker, dlq, poisonCount)
      assert.equal(dead.length, poisonCount)
      const header = (r: LogRecord, key: string) =>
        Buffer.from(r.headers.find((h) => h.key === key)?.value ?? new Uint8Array()).toString()
      for (const record of dead) {
        const value = Buffer.from(record.value!).toString()
        assert.match(value, /^poison \d+ \{$/, 'the original bytes')
        assert.equal(header(record, '__connect.errors.topic'), topic)
        assert.equal(header(record, '__connect.errors.stage'), 'VALUE_CONVERTER')
        assert.equal(header(record, '__connect.errors.connector.name'), 'json-sink')
        assert.equal(header(record, '__connect.errors.task.id'), '0')
        assert.match(header(record, '__connect.errors.offset'), /^\d+$/)
        assert.notEqual(header(record, '__connect.errors.exception.message'), '')
      }
      const status = await request<{ tasks: { state: string }[] }>(
        base,
        'GET',
        '/connectors/json-sink/status',
      )
      assert.equal(status.body.tasks[0].state, 'RUNNING')
      assert.equal(readLines(output).length, TOTAL - poisonCount, 'no poison line reached the sink')
      const metrics = await fetch(`${base}/metrics`).then((r) => r.text())
      assert.match(
        metrics,
        new RegExp(
          `^kafka_connect_task_error_metrics_total_records_skipped\\{connector="json-sink",task="0"\\} ${poisonCount}$`,
          'm',
        ),
        'the tolerated errors are counted per task',
      )
      assert.match(
        metrics,
        new RegExp(
          `deadletterqueue_produce_requests\\{connector="json-sink",task="0"\\} ${poisonCount}$`,
          'm',
        ),
      )
    })

    it('fails the task at the first poison record under errors.tolerance=none', async () => {
      const base = `http://127.0.0.1:${worker!.rest.port}`
      const topic = `strict-${Math.random().toString(36).slice(2, 8)}`
      const input = join(dir, 'strict-in.txt')
      writeFileSync(input, '{"n":1}\nnot json\n{"n":3}\n')
      for (const [name, config] of [
        [
          'strict-src',
          {
            'connector.class': 'FileStreamSource',
            file: input,
            topic,
            'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
            'topic.creation.default.partitions': '1',
            'topic.creation.default.replication.factor': '1',
          },
        ],
        [
          'strict-sink',
          {
            'connector.class': 'FileStreamSink',
            file: join(dir, 'strict-out.txt'),
            topics: topic,
            'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
            'value.converter.schemas.enable': 'false',
          },
        ],
      ] as const) {
        assert.equal((await request(base, 'POST', '/connectors', { name, config })).status, 201)
      }
      const task = await eventually(
        async () => {
          const res = await request<{ tasks: { state: string; trace?: string }[] }>(
            base,
            'GET',
            '/connectors/strict-sink/status',
          )
          return res.body.tasks[0]?.state === 'FAILED' ? res.body.tasks[0] : undefined
        },
        30_000,
        'the sink task to fail',
      )
      assert.match(task.trace ?? '', /Tolerance exceeded in error handler/)
    })
  })
}

async function readTopic(worker: StandaloneWorker, topic: string, count: number): Promise<LogRecord[]> {
  const consumer = worker.log.createConsumer({ groupId: `reader-${Math.random()}`, clientId: 'test-reader' })
  try {
    await eventually(
      async () => ((await worker.log.describeTopics([topic])).has(topic) ? true : undefined),
      30_000,
      `topic ${topic}`,
    )
    await consumer.assign([{ topic, partition: 0 }])
    const out: LogRecord[] = []
    const deadline = Date.now() + 30_000
    while (out.length < count && Date.now() < deadline) out.push(...(await consumer.poll(500)))
    return out
  } finally {
    await consumer.close()
  }
}
