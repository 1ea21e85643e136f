/**
 * `GET /metrics` in the Prometheus text format (not part of Kafka Connect's REST API, which
 * exposes JMX). Names are what Strimzi's JMX-exporter rules (`kafka-connect-metrics.yaml`,
 * lowercased, `-` → `_`) make of Kafka Connect's MBeans, so Strimzi's Grafana dashboards and alerts
 * work unchanged:
 *
 * - `kafka.connect:type=connect-worker-metrics` `connector-count` → `kafka_connect_worker_connector_count`
 *   (`…-total` attributes are counters); per connector, `connector=c` `connector-running-task-count`
 *   → `kafka_connect_worker_connector_running_task_count{connector="c"}`. The aggregate group is also
 *   printed as `kafka_connect_connect_worker_metrics_*`, the name the JMX exporter's widespread
 *   `kafka.connect<type=connect-worker-metrics>([^:]+):` rule gives it.
 * - `type=connector-metrics,connector=c` string attributes become info gauges:
 *   `kafka_connect_connector_status{connector="c",status="running"} 1`, `…_connector_class`,
 *   `…_connector_type`, `…_connector_version`.
 * - `type=connector-task-metrics` `status` → `kafka_connect_connector_task_status{connector,task,status} 1`;
 *   the numeric attributes of `connector-task-metrics`, `source-task-metrics`, `sink-task-metrics`
 *   and `task-error-metrics` → `kafka_connect_<type without -metrics>_<attribute>{connector,task}`,
 *   e.g. `kafka_connect_source_task_source_record_poll_total`, `kafka_connect_task_error_total_record_errors`.
 *   The error counters keep their older `kafka_connect_task_error_metrics_*` names too.
 * - distributed: `type=connect-worker-rebalance-metrics` → `kafka_connect_worker_rebalance_*`
 *   (`leader_name` and `connect_protocol` as info gauges), `type=connect-coordinator-metrics`
 *   → `kafka_connect_coordinator_assigned_{connectors,tasks}`.
 *
 * - plugins' metric groups (`api/plugin-metrics.ts`, what a plugin registers as an MBean), under
 *   the JMX exporter's default names: `<domain>_<type>_<Attribute>{<other key properties>}`, e.g.
 *   Debezium's `debezium_postgres_connector_metrics_TotalTableCount{context="snapshot",server="x"}`.
 *
 * Only attributes Strimzi's rules export are printed (its rules skip e.g. `*-percentage` of tasks).
 * Values Kafka reports as NaN with nothing in the window (averages, maxima) are printed as NaN.
 */

import {
  type PluginMetricsGroup,
  type PluginMetricValue,
  pluginMetricsGroups,
} from '../api/plugin-metrics.ts'
import type { State } from '../common/states.ts'
import type { Herder, HerderMetrics } from '../herder/herder.ts'
import type { ErrorMetrics } from '../runtime/errors/error-handler.ts'
import type { TaskMetrics } from '../runtime/task-metrics.ts'
import type { HttpApp } from './http-router.ts'

const ERROR_METRICS: [keyof ErrorMetrics, string, string][] = [
  ['totalRecordFailures', 'total_record_failures', 'Record processing failures, retries included.'],
  ['totalRecordErrors', 'total_record_errors', 'Records that failed after retries.'],
  ['totalRecordsSkipped', 'total_records_skipped', 'Records skipped because errors.tolerance=all.'],
  ['totalRetries', 'total_retries', 'Retries of failed operations.'],
  ['totalErrorsLogged', 'total_errors_logged', 'Errors written to the log (errors.log.enable).'],
  ['deadletterqueueProduceRequests', 'deadletterqueue_produce_requests', 'Writes to the dead-letter topic.'],
  [
    'deadletterqueueProduceFailures',
    'deadletterqueue_produce_failures',
    'Failed writes to the dead-letter topic.',
  ],
  ['lastErrorTimestamp', 'last_error_timestamp', 'When the last error happened (ms since the epoch).'],
]

type Labels = Record<string, string | number>
type TaskMetric = [string, 'gauge' | 'counter', string, (m: TaskMetrics) => number]

const TASK_METRICS: TaskMetric[] = [
  [
    'connector_task_running_ratio',
    'gauge',
    'Share of the time the task was running.',
    (m) => m.ratio('RUNNING'),
  ],
  ['connector_task_pause_ratio', 'gauge', 'Share of the time the task was paused.', (m) => m.ratio('PAUSED')],
  ['connector_task_batch_size_avg', 'gauge', 'Average records per batch.', (m) => m.batchSize.avg()],
  ['connector_task_batch_size_max', 'gauge', 'Most records in a batch.', (m) => m.batchSize.max()],
  [
    'connector_task_offset_commit_avg_time_ms',
    'gauge',
    'Average time to commit offsets.',
    (m) => m.offsetCommitTime.avg(),
  ],
  [
    'connector_task_offset_commit_max_time_ms',
    'gauge',
    'Longest offset commit.',
    (m) => m.offsetCommitTime.max(),
  ],
]

const SOURCE_METRICS: TaskMetric[] = [
  [
    'source_task_source_record_poll_total',
    'counter',
    'Records polled from the source.',
    (m) => m.sourceRecordPollTotal,
  ],
  [
    'source_task_source_record_poll_rate',
    'gauge',
    'Records polled per second.',
    (m) => m.sourceRecordPoll.rate(),
  ],
  [
    'source_task_source_record_write_total',
    'counter',
    'Records written to the log after transforms.',
    (m) => m.sourceRecordWriteTotal,
  ],
  [
    'source_task_source_record_write_rate',
    'gauge',
    'Records written per second.',
    (m) => m.sourceRecordWrite.rate(),
  ],
  ['source_task_poll_batch_avg_time_ms', 'gauge', 'Average time of a poll.', (m) => m.pollBatchTime.avg()],
  ['source_task_poll_batch_max_time_ms', 'gauge', 'Longest poll.', (m) => m.pollBatchTime.max()],
  [
    'source_task_source_record_active_count',
    'gauge',
    'Records polled and not yet written.',
    (m) => m.activeCount,
  ],
  [
    'source_task_source_record_active_count_avg',
    'gauge',
    'Average records polled and not yet written.',
    (m) => m.activeCountStat.avg(),
  ],
  [
    'source_task_source_record_active_count_max',
    'gauge',
    'Most records polled and not yet written.',
    (m) => m.activeCountStat.max(),
  ],
]

const SINK_METRICS: TaskMetric[] = [
  ['sink_task_sink_record_read_total', 'counter', 'Records read from the log.', (m) => m.sinkRecordReadTotal],
  ['sink_task_sink_record_read_rate', 'gauge', 'Records read per second.', (m) => m.sinkRecordRead.rate()],
  [
    'sink_task_sink_record_send_total',
    'counter',
    'Records out of the transforms, handed to the task.',
    (m) => m.sinkRecordSendTotal,
  ],
  [
    'sink_task_sink_record_send_rate',
    'gauge',
    'Records handed to the task per second.',
    (m) => m.sinkRecordSend.rate(),
  ],
  ['sink_task_put_batch_avg_time_ms', 'gauge', 'Average time of a put.', (m) => m.putBatchTime.avg()],
  ['sink_task_put_batch_max_time_ms', 'gauge', 'Longest put.', (m) => m.putBatchTime.max()],
  ['sink_task_sink_record_active_count', 'gauge', 'Records put and not yet committed.', (m) => m.activeCount],
  [
    'sink_task_sink_record_active_count_avg',
    'gauge',
    'Average records put and not yet committed.',
    (m) => m.activeCountStat.avg(),
  ],
  [
    'sink_task_sink_record_active_count_max',
    'gauge',
    'Most records put and not yet committed.',
    (m) => m.activeCountStat.max(),
  ],
  ['sink_task_partition_count', 'gauge', 'Partitions assigned to the task.', (m) => m.partitionCount],
  ['sink_task_offset_commit_seq_no', 'gauge', 'Offset commits attempted.', (m) => m.offsetCommitSeqNo],
  [
    'sink_task_offset_commit_completion_total',
    'counter',
    'Offset commits that completed.',
    (m) => m.offsetCommitCompletionTotal,
  ],
  [
    'sink_task_offset_commit_completion_rate',
    'gauge',
    'Offset commits completed per second.',
    (m) => m.offsetCommitCompletion.rate(),
  ],
  [
    'sink_task_offset_commit_skip_total',
    'counter',
    'Offset commits that failed and are left to the next one.',
    (m) => m.offsetCommitSkipTotal,
  ],
  [
    'sink_task_offset_commit_skip_rate',
    'gauge',
    'Offset commits skipped per second.',
    (m) => m.offsetCommitSkip.rate(),
  ],
]

const TASK_STATES: State[] = ['RUNNING', 'PAUSED', 'FAILED', 'UNASSIGNED', 'RESTARTING']
/** Connect also counts destroyed tasks; a Sluice worker forgets a task once it is gone, so always 0. */
const ALWAYS_ZERO_STATES = ['destroyed']

/** Writes metric families: one `# HELP`/`# TYPE` header per name, then its samples. */
class Exposition {
  readonly #lines: string[] = []

  family(
    name: string,
    type: 'gauge' | 'counter' | 'untyped',
    help: string,
    samples: [Labels, number][],
  ): void {
    this.named(`kafka_${name}`, type, help, samples)
  }

  /** A family under its full name (plugins' metrics, which are not Kafka's). */
  named(
    full: string,
    type: 'gauge' | 'counter' | 'untyped',
    help: string,
    samples: [Labels, number][],
  ): void {
    this.#lines.push(`# HELP ${full} ${help}`, `# TYPE ${full} ${type}`)
    for (const [labels, value] of samples)
      this.#lines.push(`${full}${labelText(labels)} ${formatValue(value)}`)
  }

  text(): string {
    return `${this.#lines.join('\n')}\n`
  }
}

export function registerMetricsRoutes(app: HttpApp, herder: Herder): void {
  app.get('/metrics', async (_request, reply) => {
    const out = new Exposition()
    writeWorkerMetrics(out, herder.workerMetrics())
    const tasks = herder.taskErrorMetrics()
    for (const [field, suffix, help] of ERROR_METRICS) {
      const samples = tasks.map(({ connector, task, metrics }): [Labels, number] => [
        { connector, task },
        metrics[field],
      ])
      out.family(`connect_task_error_${suffix}`, 'gauge', help, samples)
      out.family(`connect_task_error_metrics_${suffix}`, 'gauge', help, samples)
    }
    writePluginMetrics(out, pluginMetricsGroups())
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(out.text())
  })
}

function writeWorkerMetrics(out: Exposition, m: HerderMetrics): void {
  const running = m.tasks
  const worker: [string, 'gauge' | 'counter', string, number][] = [
    ['connector_count', 'gauge', 'Connectors run by this worker.', m.connectors.length],
    ['task_count', 'gauge', 'Tasks run by this worker.', running.length],
    [
      'connector_startup_attempts_total',
      'counter',
      'Connector starts attempted.',
      m.startup.connectorStartupAttempts,
    ],
    [
      'connector_startup_success_total',
      'counter',
      'Connector starts that succeeded.',
      m.startup.connectorStartupSuccesses,
    ],
    [
      'connector_startup_failure_total',
      'counter',
      'Connector starts that failed.',
      m.startup.connectorStartupFailures,
    ],
    [
      'connector_startup_success_percentage',
      'gauge',
      'Share of connector starts that succeeded.',
      ratio(m.startup.connectorStartupSuccesses, m.startup.connectorStartupAttempts),
    ],
    [
      'connector_startup_failure_percentage',
      'gauge',
      'Share of connector starts that failed.',
      ratio(m.startup.connectorStartupFailures, m.startup.connectorStartupAttempts),
    ],
    ['task_startup_attempts_total', 'counter', 'Task starts attempted.', m.startup.taskStartupAttempts],
    ['task_startup_success_total', 'counter', 'Task starts that succeeded.', m.startup.taskStartupSuccesses],
    ['task_startup_failure_total', 'counter', 'Task starts that failed.', m.startup.taskStartupFailures],
    [
      'task_startup_success_percentage',
      'gauge',
      'Share of task starts that succeeded.',
      ratio(m.startup.taskStartupSuccesses, m.startup.taskStartupAttempts),
    ],
    [
      'task_startup_failure_percentage',
      'gauge',
      'Share of task starts that failed.',
      ratio(m.startup.taskStartupFailures, m.startup.taskStartupAttempts),
    ],
  ]
  for (const [name, type, help, value] of worker) {
    out.family(`connect_worker_${name}`, type, help, [[{}, value]])
    out.family(`connect_connect_worker_metrics_${name}`, type, help, [[{}, value]])
  }

  // connect-worker-metrics,connector=c: this worker's tasks of each connector, by state.
  const byConnector = new Map<string, Map<State, number>>()
  for (const c of m.connectors) byConnector.set(c.name, new Map())
  for (const t of running) {
    const counts = byConnector.get(t.id.connector) ?? new Map<State, number>()
    counts.set(t.state, (counts.get(t.state) ?? 0) + 1)
    byConnector.set(t.id.connector, counts)
  }
  const perConnector = [...byConnector]
  out.family(
    'connect_worker_connector_total_task_count',
    'gauge',
    "The connector's tasks on this worker.",
    perConnector.map(([connector, counts]) => [
      { connector },
      [...counts.values()].reduce((a, b) => a + b, 0),
    ]),
  )
  for (const state of TASK_STATES) {
    out.family(
      `connect_worker_connector_${state.toLowerCase()}_task_count`,
      'gauge',
      `The connector's ${state.toLowerCase()} tasks on this worker.`,
      perConnector.map(([connector, counts]) => [{ connector }, counts.get(state) ?? 0]),
    )
  }

  for (const state of ALWAYS_ZERO_STATES) {
    out.family(
      `connect_worker_connector_${state}_task_count`,
      'gauge',
      `The connector's ${state} tasks on this worker.`,
      perConnector.map(([connector]) => [{ connector }, 0]),
    )
  }

  // connector-metrics: string attributes as info gauges.
  out.family(
    'connect_connector_status',
    'gauge',
    'The connector status on this worker (value 1).',
    m.connectors.map((c) => [{ connector: c.name, status: c.state.toLowerCase() }, 1]),
  )
  out.family(
    'connect_connector_connector_class',
    'gauge',
    'The connector class (value 1).',
    m.connectors.map((c) => [{ connector: c.name, connector_class: c.className }, 1]),
  )
  out.family(
    'connect_connector_connector_type',
    'gauge',
    'The connector type (value 1).',
    m.connectors.map((c) => [{ connector: c.name, connector_type: c.type }, 1]),
  )
  out.family(
    'connect_connector_connector_version',
    'gauge',
    'The connector version (value 1).',
    m.connectors.map((c) => [{ connector: c.name, connector_version: c.version }, 1]),
  )

  out.family(
    'connect_connector_task_status',
    'gauge',
    'The task status (value 1).',
    running.map((t) => [{ connector: t.id.connector, task: t.id.task, status: t.state.toLowerCase() }, 1]),
  )
  const taskFamilies = (defs: TaskMetric[], type?: 'source' | 'sink') => {
    const tasks = type ? running.filter((t) => t.metrics.type === type) : running
    for (const [name, kind, help, read] of defs) {
      out.family(
        `connect_${name}`,
        kind,
        help,
        tasks.map((t) => [{ connector: t.id.connector, task: t.id.task }, read(t.metrics)]),
      )
    }
  }
  taskFamilies(TASK_METRICS)
  taskFamilies(SOURCE_METRICS, 'source')
  taskFamilies(SINK_METRICS, 'sink')

  // The tasks' Kafka clients, named as Connect names them (producer-metrics, consumer-fetch-manager-metrics).
  const producers = running.filter((t) => t.metrics.type === 'source')
  const consumers = running.filter((t) => t.metrics.type === 'sink')
  const client = (kind: string, t: (typeof running)[number]) => ({
    clientId: `connector-${kind}-${t.id.connector}-${t.id.task}`,
  })
  out.family(
    'producer_record_send_total',
    'counter',
    "Records the task's producer sent.",
    producers.map((t) => [client('producer', t), t.metrics.producerRecordSendTotal]),
  )
  out.family(
    'producer_outgoing_byte_total',
    'counter',
    "Key and value bytes the task's producer sent.",
    producers.map((t) => [client('producer', t), t.metrics.producerOutgoingByteTotal]),
  )
  out.family(
    'consumer_fetch_manager_records_consumed_total',
    'counter',
    "Records the task's consumer fetched.",
    consumers.map((t) => [client('consumer', t), t.metrics.consumerRecordsConsumedTotal]),
  )
  out.family(
    'consumer_incoming_byte_total',
    'counter',
    "Key and value bytes the task's consumer fetched.",
    consumers.map((t) => [client('consumer', t), t.metrics.consumerIncomingByteTotal]),
  )

  const r = m.rebalance
  if (r) {
    const rebalance: [string, 'gauge' | 'counter', string, number][] = [
      ['completed_rebalances_total', 'counter', 'Rebalances this worker completed.', r.completedRebalances],
      ['epoch', 'gauge', 'The group generation of this worker.', r.epoch],
      ['rebalancing', 'gauge', '1 while a rebalance is pending or running.', r.rebalancing ? 1 : 0],
      [
        'time_since_last_rebalance_ms',
        'gauge',
        'Time since this worker last received an assignment.',
        r.timeSinceLastRebalanceMs,
      ],
    ]
    for (const [name, type, help, value] of rebalance) {
      out.family(`connect_worker_rebalance_${name}`, type, help, [[{}, value]])
    }
    out.family('connect_worker_rebalance_leader_name', 'untyped', 'The group leader (value 1).', [
      [{ leader_name: r.leaderName }, 1],
    ])
    out.family(
      'connect_worker_rebalance_connect_protocol',
      'untyped',
      'The Connect protocol in use (value 1).',
      [[{ connect_protocol: r.protocol }, 1]],
    )
    out.family('connect_coordinator_assigned_connectors', 'gauge', 'Connectors assigned to this worker.', [
      [{}, r.assignedConnectors],
    ])
    out.family('connect_coordinator_assigned_tasks', 'gauge', 'Tasks assigned to this worker.', [
      [{}, r.assignedTasks],
    ])
  }
}

/**
 * Plugins' metric groups as the JMX exporter's default rule names an MBean's attribute:
 * `<domain>_<type>_<attribute>` (non-alphanumerics as `_`, the attribute's case kept), the other key
 * properties as labels, e.g. `debezium_postgres_connector_metrics_TotalTableCount{context="snapshot",server="inventory"}`.
 * Flags print as 1/0, a map of numbers as one sample per entry labelled `key` (an MXBean map is
 * tabular data indexed by `key`); text attributes are skipped, as the exporter skips them.
 */
function writePluginMetrics(out: Exposition, groups: readonly PluginMetricsGroup[]): void {
  const families = new Map<string, [Labels, number][]>()
  for (const group of groups) {
    const { type = '', ...rest } = group.properties
    const prefix = `${promName(group.domain)}_${promName(type)}`
    let attributes: Readonly<Record<string, PluginMetricValue>>
    try {
      attributes = group.read()
    } catch {
      continue
    }
    for (const [attribute, value] of Object.entries(attributes)) {
      const name = `${prefix}_${promName(attribute)}`
      const samples = families.get(name) ?? []
      if (typeof value === 'number') samples.push([rest, value])
      else if (typeof value === 'boolean') samples.push([rest, value ? 1 : 0])
      else if (value instanceof Map) for (const [key, n] of value) samples.push([{ ...rest, key }, n])
      else continue
      families.set(name, samples)
    }
  }
  for (const [name, samples] of families) out.named(name, 'untyped', `A plugin's metric (${name}).`, samples)
}

function promName(text: string): string {
  return text.replace(/[^a-zA-Z0-9_]/g, '_')
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels)
  if (entries.length === 0) return ''
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',')}}`
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}
