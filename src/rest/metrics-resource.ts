/**
 * `GET /metrics` in the Prometheus text format (not part of Kafka Connect's REST API, which
 * exposes JMX). Names are what the Prometheus JMX exporter rules of Strimzi and Confluent make of
 * Kafka Connect's MBeans — `kafka.connect:type=task-error-metrics,connector=c,task=0` attribute
 * `total-records-skipped` → `kafka_connect_task_error_metrics_total_records_skipped{connector="c",task="0"}`
 * — so existing dashboards and alerts keep working. Record counters follow the same rule:
 * `source-task-metrics` `source-record-poll-total` →
 * `kafka_connect_source_task_metrics_source_record_poll_total{connector,task}`, and so on.
 */
import type { FastifyInstance } from 'fastify'
import type { Herder } from '../herder/herder.ts'
import type { ErrorMetrics } from '../runtime/errors/error-handler.ts'
import type { TaskThroughput } from '../runtime/task-metrics.ts'

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

/** Record counters: [field, metric group, attribute, help, connector type]. */
const THROUGHPUT_METRICS: [keyof TaskThroughput, string, string, string, 'source' | 'sink'][] = [
  [
    'recordsPolled',
    'source_task_metrics',
    'source_record_poll_total',
    'Records polled from the source task.',
    'source',
  ],
  [
    'recordsWritten',
    'source_task_metrics',
    'source_record_write_total',
    'Records written to the log (after transforms).',
    'source',
  ],
  ['recordsRead', 'sink_task_metrics', 'sink_record_read_total', 'Records read from the log.', 'sink'],
  [
    'recordsPut',
    'sink_task_metrics',
    'sink_record_send_total',
    'Records put into the sink task (after transforms).',
    'sink',
  ],
]

export function registerMetricsRoutes(app: FastifyInstance, herder: Herder): void {
  app.get('/metrics', async (_request, reply) => {
    const tasks = herder.taskErrorMetrics()
    const lines: string[] = []
    for (const [field, suffix, help] of ERROR_METRICS) {
      const name = `kafka_connect_task_error_metrics_${suffix}`
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
      for (const { connector, task, metrics } of tasks) {
        lines.push(`${name}{connector="${escapeLabel(connector)}",task="${task}"} ${metrics[field]}`)
      }
    }
    const typeOf = new Map<string, string>()
    const connectorType = (connector: string) => {
      if (!typeOf.has(connector)) {
        let type = 'unknown'
        try {
          type = herder.connectorInfo(connector).type
        } catch {
          // deleted since: its counters are not exported
        }
        typeOf.set(connector, type)
      }
      return typeOf.get(connector)
    }
    for (const [field, group, attribute, help, type] of THROUGHPUT_METRICS) {
      const name = `kafka_connect_${group}_${attribute}`
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`)
      for (const { connector, task, throughput } of tasks) {
        if (throughput && connectorType(connector) === type)
          lines.push(`${name}{connector="${escapeLabel(connector)}",task="${task}"} ${throughput[field]}`)
      }
    }
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(`${lines.join('\n')}\n`)
  })
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}
