/**
 * A task's record counters, Kafka Connect's `source-task-metrics` and `sink-task-metrics` totals
 * (`source-record-poll-total`, `source-record-write-total`, `sink-record-read-total`,
 * `sink-record-send-total`), counted by the task runners and exported by `GET /metrics`; the web
 * console turns them into records per second. Kept after a task stops, until it is started again.
 */
export interface TaskThroughput {
  /** Source: records returned by `SourceTask.poll()`. */
  recordsPolled: number
  /** Source: records the log acknowledged (after transforms; dropped ones are not counted). */
  recordsWritten: number
  /** Sink: records read from the log. */
  recordsRead: number
  /** Sink: records handed to `SinkTask.put()` that it accepted (after transforms). */
  recordsPut: number
}

export function newTaskThroughput(): TaskThroughput {
  return { recordsPolled: 0, recordsWritten: 0, recordsRead: 0, recordsPut: 0 }
}
