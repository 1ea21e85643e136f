/**
 * OpenTelemetry from a running worker to a small OTLP/HTTP receiver: spans of poll, convert,
 * produce, put and commit with a batch's stages in one trace, metrics of records and durations,
 * configured only by `OTEL_*` variables, off without them, and a collector that is down or
 * refusing never holds the pipeline back.
 */
import assert from 'node:assert/strict'
import { appendFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, afterEach, describe, it } from 'node:test'
import { ConfigError } from '../../src/api/errors.ts'
import { taskStageChannel } from '../../src/runtime/task-metrics.ts'
import { otelSettings } from '../../src/telemetry/otel-config.ts'
import { waitForLines } from '../helpers/files.ts'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

interface Span {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[]
  status: { code: number; message?: string }
}

/** An OTLP/HTTP receiver: keeps what it is sent, or answers `failWith` while that is set. */
class Receiver {
  readonly traces: { resource: Record<string, string>; spans: Span[] }[] = []
  readonly metrics: unknown[] = []
  readonly headers: Record<string, string | string[] | undefined>[] = []
  failWith: number | null = null
  #server: Server | null = null

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => {
        body += chunk
      })
      req.on('end', () => {
        if (this.failWith !== null) {
          res.writeHead(this.failWith).end('collector unavailable')
          return
        }
        assert.equal(req.headers['content-type'], 'application/json')
        this.headers.push(req.headers)
        const json = JSON.parse(body)
        if (req.url === '/v1/traces') {
          for (const rs of json.resourceSpans) {
            const resource = Object.fromEntries(
              rs.resource.attributes.map((a: Span['attributes'][number]) => [a.key, a.value.stringValue]),
            )
            for (const ss of rs.scopeSpans) this.traces.push({ resource, spans: ss.spans })
          }
        } else if (req.url === '/v1/metrics') {
          this.metrics.push(json)
        } else {
          res.writeHead(404).end()
          return
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`
  }

  spans(): Span[] {
    return this.traces.flatMap((t) => t.spans)
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()))
  }
}

const attr = (s: Span, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value
  return v?.stringValue ?? v?.intValue
}

const OTEL_KEYS = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_TRACES_SAMPLER',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
]

async function pipeline(w: TestWorker, lines: number): Promise<void> {
  const input = join(w.dir, 'in.txt')
  const output = join(w.dir, 'out.txt')
  writeFileSync(input, '')
  for (const [name, config] of [
    ['src', { 'connector.class': 'FileStreamSource', file: input, topic: 'otel' }],
    ['dst', { 'connector.class': 'FileStreamSink', file: output, topics: 'otel' }],
  ] as const) {
    const res = await request(w.base, 'PUT', `/connectors/${name}/config`, config)
    assert.equal(res.status, 201, JSON.stringify(res.body))
  }
  appendFileSync(input, `${Array.from({ length: lines }, (_, i) => `l${i}`).join('\n')}\n`)
  await waitForLines(output, lines, 15_000)
}

describe('OpenTelemetry export', () => {
  const receiver = new Receiver()
  let worker: TestWorker | undefined
  afterEach(async () => {
    await worker?.close()
    worker = undefined
    for (const key of OTEL_KEYS) delete process.env[key]
  })
  after(() => receiver.stop())

  it('sends spans of every stage, a batch in one trace, and stage metrics', async () => {
    const url = await receiver.start()
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_SERVICE_NAME: 'sluice-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=team%20a',
    })
    worker = await startTestWorker()
    await pipeline(worker, 120)
    const spans = await eventually(() => {
      const s = receiver.spans()
      const names = new Set(s.map((x) => x.name))
      const all = [
        'source poll',
        'source convert',
        'source produce',
        'source commit',
        'sink poll',
        'sink convert',
        'sink put',
        'sink commit',
      ]
      return all.every((n) => names.has(n)) ? s : undefined
    })
    assert.equal(receiver.traces[0].resource['service.name'], 'sluice-under-test')
    assert.equal(receiver.headers[0]['x-tenant'], 'team a')
    const sum = (name: string) =>
      spans
        .filter((s) => s.name === name)
        .reduce((n, s) => n + Number(attr(s, 'messaging.batch.message_count')), 0)
    assert.equal(sum('source poll'), 120)
    assert.equal(sum('source produce'), 120)
    assert.equal(sum('sink put'), 120)
    // Empty polls (the sink polls every second) make no span.
    assert.ok(
      spans
        .filter((s) => s.name.endsWith(' poll'))
        .every((s) => Number(attr(s, 'messaging.batch.message_count')) > 0),
    )
    const produce = spans.find((s) => s.name === 'source produce')!
    const poll = spans.find((s) => s.spanId === produce.parentSpanId)
    assert.ok(poll, 'a produce span is a child of its poll span')
    assert.equal(poll.name, 'source poll')
    assert.equal(poll.traceId, produce.traceId)
    assert.equal(produce.kind, 4)
    assert.equal(attr(produce, 'sluice.connector'), 'src')
    assert.equal(attr(produce, 'sluice.task'), '0')
    const put = spans.find((s) => s.name === 'sink put')!
    assert.equal(spans.find((s) => s.spanId === put.parentSpanId)?.name, 'sink poll')
    assert.match(put.traceId, /^[0-9a-f]{32}$/)
    assert.match(put.spanId, /^[0-9a-f]{16}$/)
    assert.ok(BigInt(put.endTimeUnixNano) >= BigInt(put.startTimeUnixNano))
    assert.ok(BigInt(put.startTimeUnixNano) > BigInt(Date.now() - 60_000) * 1_000_000n)

    const records = await eventually(() => {
      const last = receiver.metrics.at(-1) as
        | {
            resourceMetrics: {
              scopeMetrics: {
                metrics: {
                  name: string
                  sum?: { dataPoints: { attributes: Span['attributes']; asInt: string }[] }
                }[]
              }[]
            }[]
          }
        | undefined
      const metric = last?.resourceMetrics[0].scopeMetrics[0].metrics.find(
        (m) => m.name === 'sluice.task.records',
      )
      const putPoint = metric?.sum?.dataPoints.find((p) =>
        p.attributes.some((a) => a.key === 'sluice.stage' && a.value.stringValue === 'put'),
      )
      return putPoint && putPoint.asInt === '120' ? last : undefined
    })
    const names = records.resourceMetrics[0].scopeMetrics[0].metrics.map((m) => m.name)
    assert.deepEqual(names, ['sluice.task.records', 'sluice.task.stage.errors', 'sluice.task.stage.duration'])
  })

  it('keeps the pipeline flowing while the collector refuses, and sends the kept spans when it is back', async () => {
    receiver.traces.length = 0
    receiver.failWith = 503
    const url = await (async () => {
      await receiver.stop()
      return receiver.start()
    })()
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_BSP_SCHEDULE_DELAY: '50' })
    worker = await startTestWorker()
    const started = Date.now()
    await pipeline(worker, 300)
    assert.ok(Date.now() - started < 15_000)
    assert.equal(receiver.spans().length, 0)
    receiver.failWith = null
    await eventually(() => {
      const puts = receiver.spans().filter((s) => s.name === 'sink put')
      const n = puts.reduce((sum, s) => sum + Number(attr(s, 'messaging.batch.message_count')), 0)
      return n === 300 ? true : undefined
    })
  })

  it('does not wait for a collector nobody listens for, and stops promptly', async () => {
    // A port that was just free: connections are refused.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    })
    worker = await startTestWorker()
    await pipeline(worker, 200)
    const stopping = Date.now()
    await worker.close()
    worker = undefined
    assert.ok(Date.now() - stopping < 10_000)
  })

  it('is off without OTEL_* variables: nothing subscribes to the task stages', async () => {
    worker = await startTestWorker()
    assert.equal(taskStageChannel.hasSubscribers, false)
  })

  it('sends no spans with OTEL_TRACES_SAMPLER=always_off', async () => {
    receiver.traces.length = 0
    await receiver.stop()
    const url = await receiver.start()
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_TRACES_SAMPLER: 'always_off',
    })
    worker = await startTestWorker()
    await pipeline(worker, 50)
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(receiver.spans().length, 0)
  })
})

describe('OTEL_* settings', () => {
  const defaults = { serviceName: 'sluice', serviceVersion: '1' }
  it('are off by default and with OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true', () => {
    assert.equal(otelSettings({}, defaults).traces, null)
    assert.equal(
      otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }, defaults)
        .traces,
      null,
    )
    assert.equal(
      otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, defaults)
        .metrics,
      null,
    )
  })

  it('take the signal endpoint as is and append /v1/<signal> to the base endpoint', () => {
    const s = otelSettings(
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:9/x',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,k8s.pod.name=p%2D1',
      },
      defaults,
    )
    assert.equal(s.traces?.url, 'http://c:4318/v1/traces')
    assert.equal(s.metrics?.url, 'http://m:9/x')
    assert.equal(s.resource['k8s.pod.name'], 'p-1')
    assert.equal(s.resource['service.name'], 'sluice')
    assert.equal(
      otelSettings({ OTEL_TRACES_EXPORTER: 'otlp' }, defaults).traces?.url,
      'http://localhost:4318/v1/traces',
    )
    const ratio = otelSettings(
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      },
      defaults,
    )
    assert.equal(ratio.traces?.sampler, 'traceidratio')
    assert.equal(ratio.traces?.ratio, 0.25)
  })

  it('refuse what Sluice cannot do, naming the variable', () => {
    const refused = (env: Record<string, string>, key: string) =>
      assert.throws(
        () => otelSettings(env, defaults),
        (e: unknown) => e instanceof ConfigError && e.key === key,
      )
    refused(
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    )
    refused({ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER')
    refused({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'jaeger_remote' }, 'OTEL_TRACES_SAMPLER')
    refused(
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' },
      'OTEL_TRACES_SAMPLER_ARG',
    )
    refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT')
    refused({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_SCHEDULE_DELAY: 'soon' }, 'OTEL_BSP_SCHEDULE_DELAY')
  })
})
