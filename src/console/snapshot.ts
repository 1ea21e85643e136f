/**
 * A PostgreSQL CDC connector's snapshot progress and streaming lag on its page, from the Debezium
 * metric groups `GET /sluice/metrics` carries (`debezium.postgres`, `type=connector-metrics`,
 * `context=snapshot|streaming`, `server=<topic.prefix>`): the snapshot's kind and state, tables
 * done of the total, rows scanned per table against the planner's estimate, and how far streaming
 * is behind the source. The section stays hidden for a connector with no such group.
 */
import type { PluginMetrics } from './api.ts'
import { h, replace } from './dom.ts'

type Attributes = PluginMetrics['attributes']

function group(groups: readonly PluginMetrics[], server: string, context: string): Attributes | undefined {
  return groups.find(
    (g) =>
      g.domain === 'debezium.postgres' &&
      g.properties.type === 'connector-metrics' &&
      g.properties.context === context &&
      g.properties.server === server,
  )?.attributes
}

const num = (a: Attributes, key: string): number => (typeof a[key] === 'number' ? (a[key] as number) : 0)
const map = (a: Attributes, key: string): Record<string, number> =>
  typeof a[key] === 'object' ? (a[key] as Record<string, number>) : {}

function duration(ms: number): string {
  if (ms < 0) return '—'
  if (ms === 0) return 'under 1 s'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const seconds = ms / 1000
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`
  return `${Math.round(seconds / 60)} min`
}

function snapshotState(a: Attributes): 'running' | 'paused' | 'completed' | 'aborted' | 'none' {
  if (a.SnapshotRunning === true) return a.SnapshotPaused === true ? 'paused' : 'running'
  if (a.SnapshotAborted === true) return 'aborted'
  if (a.SnapshotCompleted === true) return 'completed'
  return 'none'
}

const KINDS: Record<string, string> = {
  INITIAL: 'Initial snapshot',
  BLOCKING: 'Blocking snapshot (signalled)',
  INCREMENTAL: 'Incremental snapshot (signalled)',
}

export function renderSnapshot(
  section: HTMLElement,
  groups: readonly PluginMetrics[],
  config: Record<string, string> | undefined,
): void {
  const server = config?.['topic.prefix'] ?? config?.['database.server.name']
  const snapshot = server === undefined ? undefined : group(groups, server, 'snapshot')
  const streaming = server === undefined ? undefined : group(groups, server, 'streaming')
  if (!snapshot && !streaming) {
    section.hidden = true
    return
  }
  section.hidden = false
  const parts: Node[] = [h('h2', { id: 'snapshot-title' }, 'Snapshot and streaming')]
  if (snapshot) {
    const state = snapshotState(snapshot)
    const total = num(snapshot, 'TotalTableCount')
    const done = total - num(snapshot, 'RemainingTableCount')
    const kind = KINDS[String(snapshot.SnapshotType)] ?? 'Snapshot'
    section.dataset.snapshotState = state
    section.dataset.tablesDone = String(done)
    section.dataset.tablesTotal = String(total)
    parts.push(
      h(
        'p',
        { class: 'snapshot-summary' },
        state === 'none'
          ? 'No snapshot has run since the task started.'
          : `${kind} ${state} · ${done} of ${total} tables done · ${duration(num(snapshot, 'SnapshotDurationInSeconds') * 1000)}`,
      ),
    )
    const scanned = map(snapshot, 'RowsScanned')
    const estimated = map(snapshot, 'RowsEstimated')
    const tables = Object.keys(scanned).sort()
    if (tables.length > 0) {
      parts.push(
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'snapshot-tables' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                h('th', { scope: 'col' }, 'Table'),
                h('th', { scope: 'col', class: 'num' }, 'Rows scanned'),
                h(
                  'th',
                  { scope: 'col', class: 'num' },
                  h('abbr', { title: 'the planner’s estimate when the snapshot started' }, 'Estimated'),
                ),
                h('th', { scope: 'col' }, 'Progress'),
              ),
            ),
            h(
              'tbody',
              null,
              tables.map((table) => {
                const rows = scanned[table] ?? 0
                const estimate = estimated[table] ?? -1
                // An estimate is only an estimate: the bar never shows more than full.
                const max = Math.max(estimate, rows, 1)
                return h(
                  'tr',
                  { 'data-table': table },
                  h('th', { scope: 'row' }, h('code', null, table)),
                  h('td', { class: 'num', 'data-rows': rows }, String(rows)),
                  h('td', { class: 'num' }, estimate < 0 ? '—' : `~${estimate}`),
                  h(
                    'td',
                    null,
                    h('progress', {
                      max,
                      // Indeterminate while running with no estimate; full once the snapshot completed.
                      value: state === 'completed' ? max : estimate < 0 && state === 'running' ? null : rows,
                      'aria-label': `${table}: ${rows} rows scanned`,
                    }),
                  ),
                )
              }),
            ),
          ),
        ),
      )
    }
  }
  if (streaming) {
    const behind = num(streaming, 'MilliSecondsBehindSource')
    section.dataset.streamingLag = String(behind)
    parts.push(
      h(
        'p',
        { class: 'streaming-summary' },
        streaming.Connected === true ? 'Streaming: connected' : 'Streaming: not connected',
        ` · ${behind < 0 ? 'no change streamed yet' : `${duration(behind)} behind the source at the last change`}`,
        ` · last event ${duration(num(streaming, 'MilliSecondsSinceLastEvent'))} ago`,
      ),
    )
  }
  replace(section, parts)
}
