/**
 * Sluice's own `GET /sluice/metrics`: every task's record counters and every plugin metric group
 * (a CDC connector's snapshot progress) of the whole cluster, as JSON, for the web console. Kafka
 * Connect has no such endpoint: each worker exports only what it runs (`GET /metrics`, JMX), and a
 * worker does not know the others' URLs — only the leader does, from the members' join metadata.
 * So, as Connect forwards writes to the leader, a worker forwards this request to the leader
 * (`RequestTargetError`, rest/forwarding.ts), which answers with its own figures and those of each
 * other member, read from their `GET /sluice/internal/metrics` (this worker's figures only).
 *
 * `GET /sluice/metrics` sits behind the same basic auth as the rest of the API (it shows what
 * `GET /metrics` shows). The leader calls the members signed with the session key (KIP-507's, over
 * the path and the time), never with the caller's credentials: a member URL comes from the group's
 * join metadata, which is no proof of being a worker of this cluster. Members check the signature;
 * an unsigned call to the internal path needs basic auth like any other. Over https the leader is a
 * TLS client with the listener's settings. A member that does not answer within 5 s
 * is listed under `unreachable` and its tasks are missing: the console shows "—" for them.
 */

import { ConnectError, errorMessage } from '../api/errors.ts'
import { type PluginMetricValue, pluginMetricsGroups } from '../api/plugin-metrics.ts'
import { type InterWorkerTls, interWorkerRequest } from '../herder/distributed/inter-worker-client.ts'
import { SIGNATURE_HEADER } from '../herder/distributed/session-key.ts'
import type { Herder } from '../herder/herder.ts'
import type { HttpApp, HttpRequest } from './http-router.ts'

/** One task's record counters (Kafka Connect's `source-task-metrics` / `sink-task-metrics` totals). */
export interface TaskCounters {
  connector: string
  task: number
  type: 'source' | 'sink'
  sourceRecordPollTotal: number
  sourceRecordWriteTotal: number
  sinkRecordReadTotal: number
  sinkRecordSendTotal: number
}

/** A plugin's metric group with its attributes now (maps as objects). */
export interface PluginMetricsView {
  domain: string
  properties: Record<string, string>
  attributes: Record<string, number | boolean | string | Record<string, number>>
}

export interface WorkerMetricsView {
  tasks: TaskCounters[]
  groups: PluginMetricsView[]
}

export interface ClusterMetricsView extends WorkerMetricsView {
  /** Members that did not answer: their tasks are missing from `tasks`. */
  unreachable: { url: string; message: string }[]
}

const MEMBER_TIMEOUT_MS = 5_000

function workerMetrics(herder: Herder): WorkerMetricsView {
  const tasks = herder.workerMetrics().tasks.map(
    ({ id, metrics }): TaskCounters => ({
      connector: id.connector,
      task: id.task,
      type: metrics.type,
      sourceRecordPollTotal: metrics.sourceRecordPollTotal,
      sourceRecordWriteTotal: metrics.sourceRecordWriteTotal,
      sinkRecordReadTotal: metrics.sinkRecordReadTotal,
      sinkRecordSendTotal: metrics.sinkRecordSendTotal,
    }),
  )
  const groups: PluginMetricsView[] = []
  for (const group of pluginMetricsGroups()) {
    let attributes: Readonly<Record<string, PluginMetricValue>>
    try {
      attributes = group.read()
    } catch {
      continue
    }
    groups.push({
      domain: group.domain,
      properties: { ...group.properties },
      attributes: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [k, v instanceof Map ? Object.fromEntries(v) : v]),
      ) as PluginMetricsView['attributes'],
    })
  }
  return { tasks, groups }
}

const INTERNAL_PATH = '/sluice/internal/metrics'

async function memberMetrics(
  url: string,
  herder: Herder,
  tls: InterWorkerTls | undefined,
): Promise<WorkerMetricsView> {
  const response = await interWorkerRequest(`${url.replace(/\/$/, '')}${INTERNAL_PATH}`, {
    method: 'GET',
    headers: { accept: 'application/json', ...herder.signMemberRequest?.(INTERNAL_PATH) },
    timeoutMs: MEMBER_TIMEOUT_MS,
    tls,
  })
  if (response.status !== 200)
    throw new Error(`it answered ${response.status}: ${response.body.slice(0, 200)}`)
  // A member's answer is another process's word: one that is not the expected shape is that
  // member's failure, not the whole request's (a spread of a non-array would throw here).
  let view: Partial<WorkerMetricsView> | null
  try {
    view = JSON.parse(response.body) as Partial<WorkerMetricsView> | null
  } catch {
    view = null
  }
  if (!Array.isArray(view?.tasks) || !Array.isArray(view.groups))
    throw new Error(`it answered something other than its metrics: ${response.body.slice(0, 200)}`)
  return { tasks: view.tasks, groups: view.groups }
}

export function registerClusterMetricsRoutes(
  app: HttpApp,
  herder: Herder,
  tls: InterWorkerTls | undefined,
): void {
  app.get(INTERNAL_PATH, async (request: HttpRequest) => {
    // A signed call skipped basic auth (rest-security.ts): its signature must hold.
    if (request.headers[SIGNATURE_HEADER] !== undefined) {
      if (!herder.verifyMemberRequest)
        throw new ConnectError('FORBIDDEN', 'This worker does not take signed internal requests.')
      herder.verifyMemberRequest(INTERNAL_PATH, request.headers)
    }
    return workerMetrics(herder)
  })

  app.get('/sluice/metrics', async (): Promise<ClusterMetricsView> => {
    // On a member that is not the leader this throws, and the request is forwarded to the leader.
    const others = herder.otherMemberUrls?.() ?? []
    const own = workerMetrics(herder)
    const out: ClusterMetricsView = { ...own, unreachable: [] }
    const answers = await Promise.allSettled(others.map((url) => memberMetrics(url, herder, tls)))
    answers.forEach((answer, i) => {
      if (answer.status === 'fulfilled') {
        out.tasks.push(...answer.value.tasks)
        out.groups.push(...answer.value.groups)
      } else {
        out.unreachable.push({ url: others[i]!, message: errorMessage(answer.reason) })
      }
    })
    return out
  })
}
