/**
 * `GET /metrics` in the Prometheus text format (not part of Kafka Connect's REST API, which
 * exposes JMX). Names are what the Prometheus JMX exporter rules of Strimzi and Confluent make of
 * Kafka Connect's MBeans — `kafka.connect:type=task-error-metrics,connector=c,task=0` attribute
 * `total-records-skipped` → `kafka_connect_task_error_metrics_total_records_skipped{connector="c",task="0"}`
 * — so existing dashboards and alerts keep working.
 */
import type { FastifyInstance } from 'fastify'
import type { Herder } from '../herder/herder.ts'
import type { ErrorMetrics } from '../runtime/errors/error-handler.ts'

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
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(`${lines.join('\n')}\n`)
  })
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}
