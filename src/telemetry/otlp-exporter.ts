/**
 * OpenTelemetry for the task pipeline, exported as OTLP over HTTP with the JSON encoding
 * (opentelemetry-proto `ExportTraceServiceRequest` / `ExportMetricsServiceRequest`, OTLP
 * specification "OTLP/HTTP"): no SDK, no dependency. It subscribes to the stages the task runners
 * publish (`taskStageChannel` of runtime/task-metrics.ts), so the runners know nothing of it.
 *
 * Traces: a poll that returned records starts a trace; that batch's convert, produce (source) or
 * put (sink) are its children; each offset commit is a trace of its own. Empty polls make no span.
 * Spans are batched like the SDK's BatchSpanProcessor (`OTEL_BSP_*`): queued up to a bound (the
 * oldest dropped beyond it), sent every schedule delay or when a batch is full.
 *
 * Metrics: `sluice.task.records` (records through each stage) and `sluice.task.stage.duration`
 * (a histogram, ms), cumulative, sent every `OTEL_METRIC_EXPORT_INTERVAL`.
 *
 * The pipeline never waits for the collector: a send runs in the background with a timeout, and a
 * collector that is down or refuses costs nothing but the spans that no longer fit the queue
 * (kept for the next send until then) and one warning per outage.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from '../common/logger.ts'
import { type TaskStage, type TaskStageEvent, taskStageChannel } from '../runtime/task-metrics.ts'
import { type OtelSettings, otelSettings, type SignalSettings } from './otel-config.ts'

interface OtlpAttribute {
  key: string
  value: { stringValue: string } | { intValue: string }
}

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: OtlpAttribute[]
  status: { code: number; message?: string }
}

/** OTLP `Span.SpanKind`. */
const KIND = { INTERNAL: 1, PRODUCER: 4, CONSUMER: 5 } as const
/** OTLP `Status.StatusCode`. */
const STATUS_OK = 1
const STATUS_ERROR = 2
/** Histogram bounds of the stage durations, ms. */
const BOUNDS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000]
/** Open batches remembered for their children's parent span (per process, oldest forgotten first). */
const MAX_OPEN_BATCHES = 4096

export interface Telemetry {
  /** Sends what is queued and unsubscribes; never throws. */
  stop(): Promise<void>
}

export function startTelemetry(settings: OtelSettings, logger: Logger): Telemetry | null {
  if (!settings.traces && !settings.metrics) return null
  const resource = { attributes: attributes(settings.resource) }
  const scope = { name: 'sluice', version: settings.resource['service.version'] ?? '' }
  const senders: Sender[] = []
  const handlers: ((event: TaskStageEvent) => void)[] = []

  if (settings.traces) {
    const t = settings.traces
    const queue: OtlpSpan[] = []
    const open = new Map<string, { traceId: string; spanId: string; sampled: boolean }>()
    let dropped = 0
    const sender = new Sender('traces', t, logger, () => {
      const spans = queue.splice(0, t.maxExportBatchSize)
      if (spans.length === 0) return null
      return {
        body: { resourceSpans: [{ resource, scopeSpans: [{ scope, spans }] }] },
        // Not sent: back to the front of the queue for the next send, as far as the queue has room.
        onFailure: () => {
          const room = t.maxQueueSize - queue.length
          dropped += Math.max(0, spans.length - room)
          queue.unshift(...spans.slice(spans.length - Math.max(0, room)))
        },
      }
    })
    senders.push(sender)
    const sampled = () =>
      t.sampler === 'always_on' || (t.sampler === 'traceidratio' && Math.random() < t.ratio)
    handlers.push((e) => {
      let traceId: string
      let parentSpanId: string | undefined
      let keep: boolean
      const batchKey = `${e.connector}\u0000${e.task}\u0000${e.batch}`
      const spanId = hex(8)
      if (e.stage === 'poll' || e.stage === 'commit') {
        if (e.stage === 'poll' && e.records === 0 && e.error === undefined) return
        traceId = hex(16)
        keep = sampled()
        if (e.stage === 'poll' && e.records > 0) {
          open.set(batchKey, { traceId, spanId, sampled: keep })
          if (open.size > MAX_OPEN_BATCHES) open.delete(open.keys().next().value as string)
        }
      } else {
        if (e.records === 0 && e.error === undefined) return
        const parent = open.get(batchKey)
        if (parent) {
          traceId = parent.traceId
          parentSpanId = parent.spanId
          keep = parent.sampled
        } else {
          traceId = hex(16)
          keep = sampled()
        }
      }
      if (!keep) return
      if (queue.length >= t.maxQueueSize) {
        dropped++
        return
      }
      queue.push(toSpan(e, traceId, spanId, parentSpanId))
      if (queue.length >= t.maxExportBatchSize) sender.sendSoon()
    })
    sender.schedule(t.scheduleDelayMs)
    sender.onStop = () => {
      if (dropped > 0)
        logger.warn(`OpenTelemetry: ${dropped} spans were dropped (queue full while the collector was away)`)
    }
  }

  if (settings.metrics) {
    const m = settings.metrics
    const startNano = nanos(Date.now())
    const points = new Map<
      string,
      {
        e: Pick<TaskStageEvent, 'connector' | 'task' | 'taskType' | 'stage'>
        records: number
        errors: number
        count: number
        sum: number
        min: number
        max: number
        buckets: number[]
      }
    >()
    handlers.push((e) => {
      const key = `${e.connector}\u0000${e.task}\u0000${e.stage}`
      let p = points.get(key)
      if (!p) {
        p = {
          e,
          records: 0,
          errors: 0,
          count: 0,
          sum: 0,
          min: Number.POSITIVE_INFINITY,
          max: 0,
          buckets: new Array(BOUNDS.length + 1).fill(0),
        }
        points.set(key, p)
      }
      const ms = e.endMs - e.startMs
      p.records += e.records
      if (e.error !== undefined) p.errors++
      p.count++
      p.sum += ms
      p.min = Math.min(p.min, ms)
      p.max = Math.max(p.max, ms)
      const i = BOUNDS.findIndex((b) => ms <= b)
      p.buckets[i === -1 ? BOUNDS.length : i]++
    })
    const sender = new Sender('metrics', m, logger, () => {
      if (points.size === 0) return null
      const now = nanos(Date.now())
      const list = [...points.values()]
      const attrs = (p: (typeof list)[number]) =>
        attributes({
          'sluice.connector': p.e.connector,
          'sluice.task': String(p.e.task),
          'sluice.task.type': p.e.taskType,
          'sluice.stage': p.e.stage,
        })
      const metrics = [
        {
          name: 'sluice.task.records',
          unit: '{record}',
          description: 'Records through each stage of the task pipeline.',
          sum: {
            aggregationTemporality: 2,
            isMonotonic: true,
            dataPoints: list.map((p) => ({
              attributes: attrs(p),
              startTimeUnixNano: startNano,
              timeUnixNano: now,
              asInt: String(p.records),
            })),
          },
        },
        {
          name: 'sluice.task.stage.errors',
          unit: '{error}',
          description: 'Stages that failed (a retriable failure included).',
          sum: {
            aggregationTemporality: 2,
            isMonotonic: true,
            dataPoints: list.map((p) => ({
              attributes: attrs(p),
              startTimeUnixNano: startNano,
              timeUnixNano: now,
              asInt: String(p.errors),
            })),
          },
        },
        {
          name: 'sluice.task.stage.duration',
          unit: 'ms',
          description: 'How long each stage of the task pipeline took.',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: list.map((p) => ({
              attributes: attrs(p),
              startTimeUnixNano: startNano,
              timeUnixNano: now,
              count: String(p.count),
              sum: p.sum,
              min: p.min,
              max: p.max,
              bucketCounts: p.buckets.map(String),
              explicitBounds: BOUNDS,
            })),
          },
        },
      ]
      return {
        body: { resourceMetrics: [{ resource, scopeMetrics: [{ scope, metrics }] }] },
        onFailure: () => {},
      }
    })
    senders.push(sender)
    sender.schedule(m.intervalMs)
  }

  const onStage = (message: unknown) => {
    for (const handle of handlers) handle(message as TaskStageEvent)
  }
  taskStageChannel.subscribe(onStage)
  logger.info(
    `OpenTelemetry: ${[settings.traces && `traces to ${settings.traces.url}`, settings.metrics && `metrics to ${settings.metrics.url}`].filter(Boolean).join(', ')}`,
  )
  return {
    async stop() {
      taskStageChannel.unsubscribe(onStage)
      await Promise.all(senders.map((s) => s.stop()))
    },
  }
}

type NextPayload = () => { body: unknown; onFailure: () => void } | null

/** Sends one signal's payloads in the background: one request at a time, on a timer, with a timeout. */
class Sender {
  onStop: (() => void) | undefined
  readonly #what: string
  readonly #s: SignalSettings
  readonly #logger: Logger
  readonly #next: NextPayload
  #timer: NodeJS.Timeout | undefined
  #inFlight: Promise<void> | null = null
  #failing = false

  constructor(what: string, settings: SignalSettings, logger: Logger, next: NextPayload) {
    this.#what = what
    this.#s = settings
    this.#logger = logger
    this.#next = next
  }

  schedule(intervalMs: number): void {
    this.#timer = setInterval(() => this.sendSoon(), Math.max(intervalMs, 10))
    this.#timer.unref()
  }

  /** Starts a send unless one is running (the next tick or interval picks up the rest). */
  sendSoon(): void {
    if (this.#inFlight) return
    const payload = this.#next()
    if (!payload) return
    this.#inFlight = this.#post(payload).finally(() => {
      this.#inFlight = null
    })
  }

  async #post(payload: { body: unknown; onFailure: () => void }): Promise<void> {
    try {
      const res = await fetch(this.#s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.#s.headers },
        body: JSON.stringify(payload.body),
        signal: AbortSignal.timeout(this.#s.timeoutMs),
      })
      const text = await res.text().catch(() => '')
      if (!res.ok) throw new Error(`HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`)
      if (this.#failing) {
        this.#failing = false
        this.#logger.info(`OpenTelemetry: sending ${this.#what} to ${this.#s.url} works again`)
      }
    } catch (error) {
      payload.onFailure()
      if (!this.#failing) {
        this.#failing = true
        this.#logger.warn(
          `OpenTelemetry: sending ${this.#what} to ${this.#s.url} failed (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}); the pipeline goes on, ${this.#what} are kept while the queue has room`,
        )
      }
    }
  }

  /** Sends what is left once (within the timeout), then stops. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.#inFlight
    this.sendSoon()
    await this.#inFlight
    this.onStop?.()
  }
}

function toSpan(
  e: TaskStageEvent,
  traceId: string,
  spanId: string,
  parentSpanId: string | undefined,
): OtlpSpan {
  const span: OtlpSpan = {
    traceId,
    spanId,
    name: `${e.taskType} ${e.stage}`,
    kind: kindOf(e.stage),
    startTimeUnixNano: nanos(e.startMs),
    endTimeUnixNano: nanos(e.endMs),
    attributes: attributes({
      'sluice.connector': e.connector,
      'sluice.task': String(e.task),
      'sluice.task.type': e.taskType,
      'messaging.batch.message_count': e.records,
    }),
    status: e.error === undefined ? { code: STATUS_OK } : { code: STATUS_ERROR, message: errorText(e.error) },
  }
  if (parentSpanId) span.parentSpanId = parentSpanId
  return span
}

function kindOf(stage: TaskStage): number {
  if (stage === 'produce') return KIND.PRODUCER
  if (stage === 'poll') return KIND.CONSUMER
  return KIND.INTERNAL
}

function attributes(values: Record<string, string | number>): OtlpAttribute[] {
  return Object.entries(values).map(([key, v]) => ({
    key,
    value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v },
  }))
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

function nanos(epochMs: number): string {
  return (BigInt(Math.floor(epochMs)) * 1_000_000n + BigInt(Math.round((epochMs % 1) * 1e6))).toString()
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

/**
 * Starts telemetry as the `OTEL_*` variables ask (nothing when they ask for nothing) and makes the
 * worker's `stop()` send what is queued last. A variable Sluice cannot use fails the start, naming it.
 */
export function withTelemetry<W extends { stop(): Promise<void> }>(
  env: Record<string, string | undefined>,
  logger: Logger,
  version: string,
): { telemetry: Telemetry | null; wrap(worker: W): W } {
  const telemetry = startTelemetry(
    otelSettings(env, { serviceName: 'sluice', serviceVersion: version }),
    logger,
  )
  return {
    telemetry,
    wrap(worker: W): W {
      if (!telemetry) return worker
      const stop = worker.stop.bind(worker)
      return Object.assign(worker, {
        async stop() {
          await stop()
          await telemetry.stop()
        },
      })
    },
  }
}
