/**
 * The worker's REST API as the console uses it: Kafka Connect's paths and bodies, called relative
 * to the page (`/ui/` → `../connectors`), so a proxy's path prefix is kept. Errors become
 * `ApiError`s with a sentence a person can act on: Connect's `{"error_code", "message"}` message
 * (which says what to fix) after a plain title for the status.
 */

import type { TaskCounters } from './rates.ts'

export type State = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING' | 'DESTROYED'

export interface TaskStatus {
  id: number
  state: State
  worker_id: string
  trace?: string
  version?: string
}

export interface ConnectorStatus {
  name: string
  connector: { state: State; worker_id: string; trace?: string; version?: string }
  tasks: TaskStatus[]
  type: 'source' | 'sink' | 'unknown'
}

export interface ConnectorInfo {
  name: string
  config: Record<string, string>
  tasks: { connector: string; task: number }[]
  type: 'source' | 'sink' | 'unknown'
}

export type ExpandedConnectors = Record<string, { status?: ConnectorStatus; info?: ConnectorInfo }>

export interface Plugin {
  class: string
  type: 'source' | 'sink'
  version: string
}

export interface ConfigKeyInfo {
  name: string
  type: string
  required: boolean
  default_value: string | null
  importance: string
  documentation: string
  group: string | null
  width: string
  display_name: string
  dependents: string[]
  order: number
}

export interface ConfigValueInfo {
  name: string
  value: string | null
  recommended_values: string[]
  errors: string[]
  visible: boolean
}

export interface ConfigInfos {
  name: string
  error_count: number
  groups: string[]
  configs: { definition: ConfigKeyInfo; value: ConfigValueInfo }[]
}

export interface ConnectorOffsets {
  offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[]
}

export interface ClusterView {
  generation: number
  protocol: string | null
  leader: boolean
  leaderUrl: string | null
  rebalancing: boolean
  connectors: string[]
  tasks: string[]
}

export interface TopicSummary {
  name: string
  partitions: { partition: number; beginning: number; end: number }[]
}

export interface BytesPreview {
  encoding: 'utf8' | 'base64'
  text: string
  size: number
  truncated: boolean
}

export interface BrowsedRecord {
  partition: number
  offset: number
  timestamp: number
  key: BytesPreview | null
  value: BytesPreview | null
  headers: { key: string; value: BytesPreview | null }[]
}

export interface BrowsedRecords {
  topic: string
  records: BrowsedRecord[]
  complete: boolean
}

/** A plugin's metric group, named as its JMX MBean (Debezium's snapshot and streaming metrics). */
export interface PluginMetrics {
  domain: string
  properties: Record<string, string>
  attributes: Record<string, number | boolean | string | Record<string, number>>
}

export interface ClusterMetrics {
  tasks: TaskCounters[]
  groups: PluginMetrics[]
  unreachable: { url: string; message: string }[]
}

export interface SubjectSummary {
  subject: string
  versions: number[]
  compatibility: string
  compatibilityOverride: boolean
  mode: string
  latest: { version: number; id: number; schemaType: string } | null
}

export interface SchemaRegistryView {
  compatibility: string
  mode: string
  subjects: SubjectSummary[]
}

export interface SubjectView {
  subject: string
  compatibility: string
  compatibilityOverride: boolean
  mode: string
  versions: {
    version: number
    id: number
    schemaType: string
    schema: string
    references: { name: string; subject: string; version: number }[]
    referencedBy: number[]
  }[]
}

export interface ServerInfo {
  version: string
  commit: string
  kafka_cluster_id: string | null
}

const TITLES: Record<number, string> = {
  400: 'The worker refused the request',
  401: 'Not signed in: reload the page and enter the worker’s user and password',
  403: 'This is switched off on the worker',
  404: 'Not found',
  405: 'The worker does not allow this',
  409: 'The worker is busy (a rebalance or another change is under way); try again in a moment',
  415: 'The request was not understood',
  500: 'The worker failed to do this',
  503: 'The worker is not ready yet; try again in a moment',
}

export class ApiError extends Error {
  readonly status: number
  readonly title: string
  readonly detail: string
  constructor(status: number, detail: string) {
    const title = TITLES[status] ?? (status >= 500 ? TITLES[500]! : `The worker answered ${status}`)
    super(detail ? `${title}: ${detail}` : title)
    this.status = status
    this.title = title
    this.detail = detail
  }
}

/** The API's base URL: the directory above `/ui/`. */
const BASE = new URL('../', document.baseURI)

export function apiUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), BASE).toString()
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const text = await send(method, path, body)
  if (text === '') return undefined as T
  return JSON.parse(text) as T
}

/** The response body as text; an `ApiError` for a refusal or an unreachable worker. */
async function send(method: string, path: string, body?: unknown): Promise<string> {
  let response: Response
  try {
    response = await fetch(apiUrl(path), {
      method,
      headers:
        body === undefined
          ? { Accept: 'application/json' }
          : { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    })
  } catch {
    throw new ApiError(0, `Cannot reach the worker at ${BASE.origin}: is it running and is the network up?`)
  }
  const text = await response.text()
  if (!response.ok) {
    let detail = text.trim()
    try {
      const parsed = JSON.parse(text) as { message?: unknown }
      if (typeof parsed.message === 'string') detail = parsed.message
    } catch {
      // not JSON: keep the text (a proxy's page, the basic-auth refusal)
    }
    throw new ApiError(response.status, detail)
  }
  return text
}

export const enc = encodeURIComponent
let standalone = false

export const api = {
  server: () => call<ServerInfo>('GET', '/'),
  /** The worker's distributed-mode view; null for a standalone worker (asked once per page load). */
  cluster: async (): Promise<ClusterView | null> => {
    if (standalone) return null
    try {
      return await call<ClusterView>('GET', '/sluice/cluster')
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        standalone = true
        return null
      }
      throw error
    }
  },
  connectors: () => call<ExpandedConnectors>('GET', '/connectors?expand=status&expand=info'),
  status: (name: string) => call<ConnectorStatus>('GET', `/connectors/${enc(name)}/status`),
  info: (name: string) => call<ConnectorInfo>('GET', `/connectors/${enc(name)}`),
  topics: (name: string) =>
    call<Record<string, { topics: string[] }>>('GET', `/connectors/${enc(name)}/topics`),
  offsets: (name: string) => call<ConnectorOffsets>('GET', `/connectors/${enc(name)}/offsets`),
  alterOffsets: (name: string, offsets: ConnectorOffsets) =>
    call<{ message: string }>('PATCH', `/connectors/${enc(name)}/offsets`, offsets),
  resetOffsets: (name: string) => call<{ message: string }>('DELETE', `/connectors/${enc(name)}/offsets`),
  pause: (name: string) => call<void>('PUT', `/connectors/${enc(name)}/pause`),
  resume: (name: string) => call<void>('PUT', `/connectors/${enc(name)}/resume`),
  stop: (name: string) => call<void>('PUT', `/connectors/${enc(name)}/stop`),
  restart: (name: string, includeTasks: boolean, onlyFailed: boolean) =>
    call<unknown>(
      'POST',
      `/connectors/${enc(name)}/restart?includeTasks=${includeTasks}&onlyFailed=${onlyFailed}`,
    ),
  restartTask: (name: string, task: number) =>
    call<void>('POST', `/connectors/${enc(name)}/tasks/${task}/restart`),
  remove: (name: string) => call<void>('DELETE', `/connectors/${enc(name)}`),
  create: (name: string, config: Record<string, string>) =>
    call<ConnectorInfo>('POST', '/connectors', { name, config }),
  update: (name: string, config: Record<string, string>) =>
    call<ConnectorInfo>('PUT', `/connectors/${enc(name)}/config`, config),
  /** Every task's counters and plugin metrics of the cluster (Sluice's own `GET /sluice/metrics`). */
  metrics: () => call<ClusterMetrics>('GET', '/sluice/metrics'),
  /** The worker's schema registry, read-only; 404 when none runs. */
  schemas: () => call<SchemaRegistryView>('GET', '/sluice/schemas'),
  subject: (subject: string) => call<SubjectView>('GET', `/sluice/schemas/subjects/${enc(subject)}`),
  topicList: () => call<TopicSummary[]>('GET', '/sluice/topics'),
  topicRecords: (topic: string, limit: number, partition?: number) =>
    call<BrowsedRecords>(
      'GET',
      `/sluice/topics/${enc(topic)}/records?limit=${limit}${partition === undefined ? '' : `&partition=${partition}`}`,
    ),
  plugins: () => call<Plugin[]>('GET', '/connector-plugins'),
  pluginConfig: (plugin: string) => call<ConfigKeyInfo[]>('GET', `/connector-plugins/${enc(plugin)}/config`),
  validate: (plugin: string, config: Record<string, string>) =>
    call<ConfigInfos>('PUT', `/connector-plugins/${enc(plugin)}/config/validate`, config),
}
