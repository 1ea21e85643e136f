/**
 * Record counters of `GET /metrics` (Kafka Connect's source-/sink-task-metrics totals, under the
 * names the Prometheus JMX exporter gives them): a file pipeline's counts match what it carried,
 * records a transform drops are polled but not written, and a sink's counters are not reported as
 * a source's.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { waitForLines } from '../helpers/files.ts'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

function metric(text: string, name: string, connector: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{connector="${connector}",task="0"} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('record counters in GET /metrics', () => {
  let w: TestWorker
  const LINES = 500
  before(async () => {
    w = await startTestWorker()
  })
  after(async () => {
    await w?.close()
  })

  it('count what a file pipeline polled, wrote, read and put', async () => {
    const input = join(w.dir, 'in.txt')
    const output = join(w.dir, 'out.txt')
    writeFileSync(input, `${Array.from({ length: LINES }, (_, i) => `line ${i}`).join('\n')}\n`)
    const create = async (name: string, config: Record<string, string>) =>
      assert.equal((await request(w.base, 'POST', '/connectors', { name, config })).status, 201)
    await create('count-src', {
      'connector.class': 'FileStreamSource',
      file: input,
      topic: 'counted',
      'batch.size': '50',
    })
    await create('count-sink', { 'connector.class': 'FileStreamSink', file: output, topics: 'counted' })
    // A source whose transform drops every record: polled, never written.
    await create('drop-src', {
      'connector.class': 'FileStreamSource',
      file: input,
      topic: 'dropped',
      transforms: 'drop',
      'transforms.drop.type': 'org.apache.kafka.connect.transforms.Filter',
      'transforms.drop.predicate': 'all',
      predicates: 'all',
      'predicates.all.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
      'predicates.all.pattern': 'dropped',
    })
    await waitForLines(output, LINES, 30_000)
    const text = await eventually(
      async () => {
        const body = await (await fetch(`${w.base}/metrics`)).text()
        const done =
          metric(body, 'kafka_connect_sink_task_metrics_sink_record_send_total', 'count-sink') === LINES &&
          metric(body, 'kafka_connect_source_task_metrics_source_record_poll_total', 'drop-src') === LINES
        return done ? body : undefined
      },
      20_000,
      'the sink counters',
    )
    assert.equal(
      metric(text, 'kafka_connect_source_task_metrics_source_record_poll_total', 'count-src'),
      LINES,
    )
    assert.equal(
      metric(text, 'kafka_connect_source_task_metrics_source_record_write_total', 'count-src'),
      LINES,
    )
    assert.equal(metric(text, 'kafka_connect_sink_task_metrics_sink_record_read_total', 'count-sink'), LINES)
    // A sink's counters are not a source's, and the other way round.
    assert.equal(
      metric(text, 'kafka_connect_source_task_metrics_source_record_poll_total', 'count-sink'),
      undefined,
    )
    assert.equal(
      metric(text, 'kafka_connect_sink_task_metrics_sink_record_read_total', 'count-src'),
      undefined,
    )
    assert.equal(metric(text, 'kafka_connect_source_task_metrics_source_record_write_total', 'drop-src'), 0)
    assert.match(text, /^# TYPE kafka_connect_source_task_metrics_source_record_poll_total counter$/m)
  })
})
