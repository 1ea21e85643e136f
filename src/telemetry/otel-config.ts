/**
 * OpenTelemetry settings from the standard environment variables (the OpenTelemetry
 * specification's "Environment Variable Specification" and the OTLP exporter's): what an
 * OpenTelemetry agent or operator already sets for a pod. Off by default: traces are exported when
 * `OTEL_TRACES_EXPORTER=otlp`, or when it is unset and an OTLP endpoint is set; metrics likewise
 * with `OTEL_METRICS_EXPORTER`. `OTEL_SDK_DISABLED=true` turns everything off.
 *
 * Sluice speaks OTLP over HTTP with the JSON encoding (`http/json`); a collector's OTLP/HTTP
 * receiver takes it on the same paths as protobuf. `grpc` is refused with an error naming the
 * variable.
 */
import { ConfigError } from '../api/errors.ts'

export type Sampler = 'always_on' | 'always_off' | 'traceidratio'

export interface SignalSettings {
  /** The full URL spans or metrics are POSTed to. */
  url: string
  headers: Record<string, string>
  timeoutMs: number
}

export interface OtelSettings {
  resource: Record<string, string>
  traces:
    | (SignalSettings & {
        sampler: Sampler
        ratio: number
        scheduleDelayMs: number
        maxQueueSize: number
        maxExportBatchSize: number
      })
    | null
  metrics: (SignalSettings & { intervalMs: number }) | null
}

type Env = Record<string, string | undefined>

const DEFAULT_ENDPOINT = 'http://localhost:4318'

/** Reads the settings; throws a ConfigError naming the variable for a value it cannot use. */
export function otelSettings(
  env: Env,
  defaults: { serviceName: string; serviceVersion: string },
): OtelSettings {
  const off = { resource: {}, traces: null, metrics: null }
  if (flag(env, 'OTEL_SDK_DISABLED')) return off
  const resource: Record<string, string> = {
    'service.name': defaults.serviceName,
    'service.version': defaults.serviceVersion,
    'telemetry.sdk.name': 'sluice',
    'telemetry.sdk.language': 'nodejs',
    ...keyValues(env, 'OTEL_RESOURCE_ATTRIBUTES'),
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim()
  if (serviceName) resource['service.name'] = serviceName
  const traces = enabled(env, 'TRACES')
    ? {
        ...signal(env, 'TRACES', 'v1/traces'),
        ...sampler(env),
        scheduleDelayMs: int(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
        maxQueueSize: int(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048),
        maxExportBatchSize: int(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512),
      }
    : null
  const metrics = enabled(env, 'METRICS')
    ? { ...signal(env, 'METRICS', 'v1/metrics'), intervalMs: int(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000) }
    : null
  return { resource, traces, metrics }
}

function enabled(env: Env, kind: 'TRACES' | 'METRICS'): boolean {
  const key = `OTEL_${kind}_EXPORTER`
  const exporters = (env[key] ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean)
  if (exporters.length === 0)
    return Boolean(
      env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env[`OTEL_EXPORTER_OTLP_${kind}_ENDPOINT`]?.trim(),
    )
  for (const e of exporters) {
    if (e !== 'otlp' && e !== 'none' && e !== 'console')
      throw new ConfigError(key, `${key}=${e} is not supported: use otlp or none`)
  }
  return exporters.includes('otlp')
}

function signal(env: Env, kind: 'TRACES' | 'METRICS', path: string): SignalSettings {
  const protocolKey = env[`OTEL_EXPORTER_OTLP_${kind}_PROTOCOL`]
    ? `OTEL_EXPORTER_OTLP_${kind}_PROTOCOL`
    : 'OTEL_EXPORTER_OTLP_PROTOCOL'
  const protocol = env[protocolKey]?.trim()
  if (protocol === 'grpc')
    throw new ConfigError(
      protocolKey,
      `${protocolKey}=grpc is not supported: Sluice exports OTLP over HTTP; set http/json (or http/protobuf, sent as JSON) and the collector's HTTP port (4318)`,
    )
  const specific = env[`OTEL_EXPORTER_OTLP_${kind}_ENDPOINT`]?.trim()
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || DEFAULT_ENDPOINT
  const url = specific || `${base.replace(/\/+$/, '')}/${path}`
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    const key = specific ? `OTEL_EXPORTER_OTLP_${kind}_ENDPOINT` : 'OTEL_EXPORTER_OTLP_ENDPOINT'
    throw new ConfigError(key, `${key}: '${url}' is not a URL; write e.g. http://otel-collector:4318`)
  }
  return {
    url,
    headers: {
      ...keyValues(env, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...keyValues(env, `OTEL_EXPORTER_OTLP_${kind}_HEADERS`),
    },
    timeoutMs: int(env, `OTEL_EXPORTER_OTLP_${kind}_TIMEOUT`, int(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000)),
  }
}

function sampler(env: Env): { sampler: Sampler; ratio: number } {
  const name = (env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on').toLowerCase()
  // Sluice's spans are roots (a batch starts a trace), so parent-based samplers act as their root sampler.
  const root = name.replace(/^parentbased_/, '')
  if (root !== 'always_on' && root !== 'always_off' && root !== 'traceidratio')
    throw new ConfigError(
      'OTEL_TRACES_SAMPLER',
      `OTEL_TRACES_SAMPLER=${name} is not supported: use always_on, always_off, traceidratio or their parentbased_ forms`,
    )
  let ratio = 1
  if (root === 'traceidratio') {
    const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim()
    ratio = arg ? Number(arg) : 1
    if (!(ratio >= 0 && ratio <= 1))
      throw new ConfigError(
        'OTEL_TRACES_SAMPLER_ARG',
        `OTEL_TRACES_SAMPLER_ARG=${arg} must be a number from 0 to 1`,
      )
  }
  return { sampler: root, ratio }
}

function int(env: Env, key: string, fallback: number): number {
  const raw = env[key]?.trim()
  if (!raw) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0)
    throw new ConfigError(key, `${key}=${raw} must be a whole number of at least 0`)
  return value
}

function flag(env: Env, key: string): boolean {
  return env[key]?.trim().toLowerCase() === 'true'
}

/** `k1=v1,k2=v2` with percent-encoded values (W3C Baggage form), as OTEL_RESOURCE_ATTRIBUTES and *_HEADERS. */
function keyValues(env: Env, key: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of (env[key] ?? '').split(',')) {
    if (!item.trim()) continue
    const eq = item.indexOf('=')
    if (eq <= 0) throw new ConfigError(key, `${key}: '${item.trim()}' is not key=value`)
    try {
      out[item.slice(0, eq).trim()] = decodeURIComponent(item.slice(eq + 1).trim())
    } catch {
      throw new ConfigError(
        key,
        `${key}: the value of '${item.slice(0, eq).trim()}' is not percent-encoded correctly`,
      )
    }
  }
  return out
}
