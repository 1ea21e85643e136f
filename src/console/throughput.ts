/**
 * The console's one sampler of `GET /sluice/metrics` (every task of the cluster, through the
 * leader): pages call `sampleThroughput()` on each poll, and read rates from `history` per connector
 * and `taskHistory` per task (shared, so the last minutes survive moving between pages), and the
 * plugins' metric groups from `pluginGroups` (a CDC connector's snapshot progress). A worker without
 * the endpoint, or a proxy that hides it, leaves the rates empty: the pages show "—".
 */
import { api, type PluginMetrics } from './api.ts'
import { type Counters, connectorCounters, RateHistory, taskCounters } from './rates.ts'

export const history = new RateHistory()
export const taskHistory = new RateHistory()
export let pluginGroups: PluginMetrics[] = []
let unavailable = false

export async function sampleThroughput(): Promise<void> {
  if (unavailable) return
  try {
    const metrics = await api.metrics()
    const now = Date.now()
    history.add(now, connectorCounters(metrics.tasks))
    taskHistory.add(now, taskCounters(metrics.tasks))
    pluginGroups = metrics.groups
  } catch (error) {
    // 404 behind a proxy that forwards only the API: stop asking. Anything else: try again next time.
    if ((error as { status?: number }).status === 404) unavailable = true
  }
}

/** The rate a connector is shown with: records written to the log (source) or put (sink). */
export function mainRate(counters: Counters | undefined, type: string | undefined): number | undefined {
  if (!counters) return undefined
  return type === 'sink' ? counters.sinkPut : counters.sourceWritten
}

const SVG = 'http://www.w3.org/2000/svg'

/**
 * A line chart of two series over the window (records/s), fixed size so a refresh moves nothing:
 * an SVG stretched to its box, its peak in `data-peak` and its label.
 */
export function chart(
  series: { at: number; values: [number, number] }[],
  labels: [string, string],
  windowMs: number,
): SVGSVGElement {
  const width = 600
  const height = 120
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`)
  svg.setAttribute('class', 'chart')
  svg.setAttribute('role', 'img')
  // Stretched to the box; strokes keep their width (vector-effect in app.css).
  svg.setAttribute('preserveAspectRatio', 'none')
  const now = series.length > 0 ? series[series.length - 1]!.at : Date.now()
  const peak = Math.max(1, ...series.flatMap((p) => p.values))
  // The window fills as samples arrive: from 20 s up to `windowMs`.
  const span = Math.max(20_000, Math.min(windowMs, now - (series[0]?.at ?? now)))
  const x = (at: number) => width - ((now - at) / span) * width
  const y = (value: number) => height - 4 - (value / peak) * (height - 20)
  const last = series[series.length - 1]
  svg.setAttribute(
    'aria-label',
    last
      ? `${labels[0]} ${Math.round(last.values[0])}/s, ${labels[1]} ${Math.round(last.values[1])}/s; peak ${Math.round(peak)}/s`
      : 'no samples yet',
  )
  const base = document.createElementNS(SVG, 'line')
  for (const [k, v] of Object.entries({ x1: 0, x2: width, y1: height - 4, y2: height - 4, class: 'axis' }))
    base.setAttribute(k, String(v))
  svg.append(base)
  ;[0, 1].forEach((index) => {
    const line = document.createElementNS(SVG, 'polyline')
    line.setAttribute('class', `series series-${index}`)
    line.setAttribute(
      'points',
      series.map((p) => `${x(p.at).toFixed(1)},${y(p.values[index]!).toFixed(1)}`).join(' '),
    )
    svg.append(line)
  })
  svg.dataset.peak = String(Math.round(peak))
  return svg
}
