/**
 * `GET /metrics` scraped from a running worker with a file → topic → file pipeline: the names and
 * labels are those Strimzi's JMX-exporter rules give Kafka Connect's MBeans (so its dashboards work
 * unchanged), and the values follow the pipeline. `/ready` says when to send traffic.
 */
import assert from 'node:assert/strict'
import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { registerPluginMetrics } from '../../src/api/plugin-metrics.ts'
import { waitForLines } from '../helpers/files.ts'
import { parseExposition, type Sample } from '../helpers/prometheus.ts'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

describe('GET /metrics with Strimzi names', () => {
  let w: TestWorker
  let input: string
  let output: string
  const scrape = async () => parseExposition(await (await fetch(`${w.base}/metrics`)).text())

  before(async () => {
    w = await startTestWorker()
    input = join(w.dir, 'in.txt')
    output = join(w.dir, 'out.txt')
    writeFileSync(input, '')
    const topic = 'metrics-lines'
    for (const [name, config] of [
      ['lines-in', { 'connector.class': 'FileStreamSource', file: input, topic, 'tasks.max': '1' }],
      ['lines-out', { 'connector.class': 'FileStreamSink', file: output, topics: topic, 'tasks.max': '1' }],
    ] as const) {
      const res = await request(w.base, 'PUT', `/connectors/${name}/config`, config)
      assert.equal(res.status, 201, JSON.stringify(res.body))
    }
  })
  after(() => w?.close())

  it('shows worker, connector and task metrics under the names and labels dashboards query', async () => {
    await eventually(async () => {
      const { samples } = await scrape()
      return find(samples, 'kafka_connect_connector_task_status', {
        connector: 'lines-out',
        status: 'running',
      })
    })
    const { samples, types } = await scrape()
    assert.equal(find(samples, 'kafka_connect_worker_connector_count')?.value, 2)
    assert.equal(find(samples, 'kafka_connect_worker_task_count')?.value, 2)
    assert.equal(find(samples, 'kafka_connect_connect_worker_metrics_task_count')?.value, 2)
    assert.equal(types.get('kafka_connect_worker_connector_startup_attempts_total'), 'counter')
    assert.ok(find(samples, 'kafka_connect_worker_task_startup_success_total')!.value >= 2)
    assert.equal(
      find(samples, 'kafka_connect_worker_connector_running_task_count', { connector: 'lines-in' })?.value,
      1,
    )
    assert.equal(
      find(samples, 'kafka_connect_worker_connector_total_task_count', { connector: 'lines-out' })?.value,
      1,
    )
    assert.equal(
      find(samples, 'kafka_connect_worker_connector_destroyed_task_count', { connector: 'lines-out' })?.value,
      0,
    )
    assert.equal(
      find(samples, 'kafka_connect_connector_status', { connector: 'lines-in' })?.labels.status,
      'running',
    )
    assert.equal(
      find(samples, 'kafka_connect_connector_connector_class', { connector: 'lines-in' })?.labels
        .connector_class,
      'org.apache.kafka.connect.file.FileStreamSourceConnector',
    )
    assert.equal(
      find(samples, 'kafka_connect_connector_connector_type', { connector: 'lines-out' })?.labels
        .connector_type,
      'sink',
    )
    assert.ok(
      find(samples, 'kafka_connect_connector_connector_version', { connector: 'lines-out' })?.labels
        .connector_version,
    )
    assert.deepEqual(
      find(samples, 'kafka_connect_connector_task_status', { connector: 'lines-in' })?.labels,
      {
        connector: 'lines-in',
        task: '0',
        status: 'running',
      },
    )
    for (const name of [
      'kafka_connect_connector_task_running_ratio',
      'kafka_connect_connector_task_batch_size_avg',
      'kafka_connect_connector_task_offset_commit_avg_time_ms',
      'kafka_connect_task_error_total_record_errors',
      'kafka_connect_task_error_deadletterqueue_produce_requests',
      'kafka_connect_task_error_last_error_timestamp',
    ]) {
      assert.ok(find(samples, name, { connector: 'lines-in', task: '0' }), `${name} for lines-in`)
      assert.ok(find(samples, name, { connector: 'lines-out', task: '0' }), `${name} for lines-out`)
    }
    // Source metrics only for the source task, sink metrics only for the sink task.
    assert.ok(find(samples, 'kafka_connect_source_task_source_record_poll_total', { connector: 'lines-in' }))
    assert.equal(
      find(samples, 'kafka_connect_source_task_source_record_poll_total', { connector: 'lines-out' }),
      undefined,
    )
    assert.ok(find(samples, 'kafka_connect_sink_task_partition_count', { connector: 'lines-out', task: '0' }))
    assert.equal(
      find(samples, 'kafka_connect_sink_task_sink_record_read_total', { connector: 'lines-in' }),
      undefined,
    )
    assert.equal(types.get('kafka_connect_sink_task_sink_record_read_total'), 'counter')
    // Standalone: no rebalance metrics.
    assert.equal(find(samples, 'kafka_connect_worker_rebalance_epoch'), undefined)
  })

  it('moves the values as records flow', async () => {
    const before = (await scrape()).samples
    const polledBefore = find(before, 'kafka_connect_source_task_source_record_poll_total', {
      connector: 'lines-in',
    })!.value
    const readBefore = find(before, 'kafka_connect_sink_task_sink_record_read_total', {
      connector: 'lines-out',
    })!.value
    const lines = Array.from({ length: 250 }, (_, i) => `line ${i}`)
    appendFileSync(input, `${lines.join('\n')}\n`)
    await waitForLines(output, 250)
    const { samples } = await eventually(async () => {
      const s = await scrape()
      const committed = find(s.samples, 'kafka_connect_sink_task_offset_commit_completion_total', {
        connector: 'lines-out',
      })
      const sourceCommit = find(s.samples, 'kafka_connect_connector_task_offset_commit_max_time_ms', {
        connector: 'lines-in',
      })
      return committed && committed.value > 0 && !Number.isNaN(sourceCommit?.value) ? s : undefined
    })
    const q = (name: string, connector: string) => find(samples, name, { connector, task: '0' })!.value
    assert.equal(q('kafka_connect_source_task_source_record_poll_total', 'lines-in') - polledBefore, 250)
    assert.equal(q('kafka_connect_source_task_source_record_write_total', 'lines-in'), 250)
    assert.equal(q('kafka_connect_sink_task_sink_record_read_total', 'lines-out') - readBefore, 250)
    assert.equal(q('kafka_connect_sink_task_sink_record_send_total', 'lines-out'), 250)
    assert.ok(q('kafka_connect_source_task_source_record_poll_rate', 'lines-in') > 0)
    assert.ok(q('kafka_connect_sink_task_put_batch_max_time_ms', 'lines-out') >= 0)
    assert.ok(q('kafka_connect_connector_task_batch_size_max', 'lines-out') >= 1)
    assert.equal(q('kafka_connect_sink_task_partition_count', 'lines-out'), 1)
    assert.ok(q('kafka_connect_connector_task_running_ratio', 'lines-in') > 0.5)
    assert.ok(q('kafka_connect_connector_task_offset_commit_max_time_ms', 'lines-in') >= 0)
    // The tasks' clients, as Strimzi's dashboard reads them: what the source wrote, the sink read.
    const clientValue = (name: string, clientId: string) => find(samples, name, { clientId })?.value
    assert.equal(clientValue('kafka_producer_record_send_total', 'connector-producer-lines-in-0'), 250)
    assert.equal(
      clientValue('kafka_consumer_fetch_manager_records_consumed_total', 'connector-consumer-lines-out-0'),
      250,
    )
    const sent = clientValue('kafka_producer_outgoing_byte_total', 'connector-producer-lines-in-0')!
    assert.ok(sent >= 250 * 'line 0'.length, `${sent} bytes sent`)
    assert.equal(clientValue('kafka_consumer_incoming_byte_total', 'connector-consumer-lines-out-0'), sent)
  })

  it('shows a paused task as paused, and drops the metrics of a deleted connector', async () => {
    assert.equal((await request(w.base, 'PUT', '/connectors/lines-in/pause')).status, 202)
    await eventually(async () =>
      find((await scrape()).samples, 'kafka_connect_connector_task_status', {
        connector: 'lines-in',
        status: 'paused',
      }),
    )
    const { samples } = await scrape()
    assert.equal(
      find(samples, 'kafka_connect_connector_status', { connector: 'lines-in' })?.labels.status,
      'paused',
    )
    assert.equal(
      find(samples, 'kafka_connect_worker_connector_paused_task_count', { connector: 'lines-in' })?.value,
      1,
    )
    assert.equal((await request(w.base, 'DELETE', '/connectors/lines-in')).status, 204)
    const after = (await scrape()).samples
    assert.equal(find(after, 'kafka_connect_connector_status', { connector: 'lines-in' }), undefined)
    assert.equal(find(after, 'kafka_connect_worker_connector_count')?.value, 1)
  })

  it('counts a task that cannot be created as a failed startup', async () => {
    const res = await request(w.base, 'PUT', '/connectors/bad-converter/config', {
      'connector.class': 'FileStreamSource',
      file: input,
      topic: 'x',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'maybe',
    })
    // Validation does not check converter keys; building the task does, and fails.
    assert.equal(res.status, 201, JSON.stringify(res.body))
    await eventually(async () => {
      const f = find((await scrape()).samples, 'kafka_connect_worker_task_startup_failure_total')
      return f && f.value >= 1 ? f : undefined
    })
  })

  it('answers /ready once started, as /health does', async () => {
    const ready = await request<{ status: string }>(w.base, 'GET', '/ready')
    assert.equal(ready.status, 200)
    assert.equal(ready.body.status, 'ready')
  })

  it('prints plugins’ metric groups as the JMX exporter names MBean attributes, and skips a group that fails', async () => {
    let rows = 7
    const closers = [
      registerPluginMetrics({
        domain: 'debezium.postgres',
        properties: { type: 'connector-metrics', context: 'snapshot', server: 'unit' },
        read: () => ({
          SnapshotRunning: true,
          TotalTableCount: 2,
          RowsScanned: new Map([['public.a', rows]]),
          SnapshotType: 'INITIAL',
        }),
      }),
      registerPluginMetrics({
        domain: 'broken',
        properties: { type: 'x' },
        read: () => {
          throw new Error('no figures')
        },
      }),
    ]
    try {
      const { samples } = await scrape()
      const labels = { context: 'snapshot', server: 'unit' }
      assert.equal(find(samples, 'debezium_postgres_connector_metrics_SnapshotRunning', labels)?.value, 1)
      assert.equal(find(samples, 'debezium_postgres_connector_metrics_TotalTableCount', labels)?.value, 2)
      assert.equal(
        find(samples, 'debezium_postgres_connector_metrics_RowsScanned', { ...labels, key: 'public.a' })
          ?.value,
        7,
      )
      assert.equal(
        find(samples, 'debezium_postgres_connector_metrics_SnapshotType'),
        undefined,
        'text is skipped',
      )
      assert.equal(samples.filter((s) => s.name.startsWith('broken_')).length, 0)
      // The console's JSON view has the same group, read now (maps as objects, text kept).
      rows = 9
      const view = await request<{
        groups: { properties: Record<string, string>; attributes: Record<string, unknown> }[]
      }>(w.base, 'GET', '/sluice/metrics')
      const group = view.body.groups.find((g) => g.properties.server === 'unit')!
      assert.deepEqual(group.attributes.RowsScanned, { 'public.a': 9 })
      assert.equal(group.attributes.SnapshotType, 'INITIAL')
    } finally {
      for (const close of closers) close()
    }
    const { samples } = await scrape()
    assert.equal(
      find(samples, 'debezium_postgres_connector_metrics_TotalTableCount', { server: 'unit' }),
      undefined,
    )
  })
})
