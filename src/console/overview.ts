/**
 * The overview: every connector with its type, state and tasks running/failed, and the workers
 * they run on (the leader marked in distributed mode), refreshed every 2 s by polling
 * `GET /connectors?expand=status&expand=info`. Rows are updated in place, keyed by connector name,
 * so a refresh moves nothing on screen.
 */
import { api, type ClusterView, type ExpandedConnectors } from './api.ts'
import { connectorHash, errorBlock, h, poll, replace, setText, showMode, stateBadge } from './dom.ts'
import { formatRate } from './rates.ts'
import { history, mainRate, sampleThroughput } from './throughput.ts'

const REFRESH_MS = 2000
const STATES = ['RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'UNASSIGNED', 'RESTARTING'] as const

interface Row {
  element: HTMLTableRowElement
  type: HTMLTableCellElement
  state: HTMLTableCellElement
  tasks: HTMLTableCellElement
  rate: HTMLTableCellElement
  worker: HTMLTableCellElement
  className: HTMLTableCellElement
  lastState: string
}

function simpleClass(name: string | undefined): string {
  return name ? name.slice(name.lastIndexOf('.') + 1) : ''
}

/** `host:port` of a URL, as worker ids are written. */
function hostPort(url: string | null): string | null {
  if (!url) return null
  try {
    return new URL(url).host
  } catch {
    return null
  }
}

export function renderOverview(main: HTMLElement): () => void {
  const filter = h('input', {
    type: 'search',
    id: 'filter',
    placeholder: 'Filter by name',
    'aria-label': 'Filter connectors by name',
    autocomplete: 'off',
  })
  const counts = h('p', { class: 'counts', 'aria-live': 'off' })
  const countCells = new Map<string, HTMLElement>()
  for (const state of [...STATES, 'TASKS FAILED']) {
    const value = h('span', { class: 'count-value' }, '0')
    countCells.set(state, value)
    counts.append(
      h(
        'span',
        { class: `count count-${state.toLowerCase().replace(' ', '-')}` },
        value,
        ` ${state.toLowerCase()}`,
      ),
    )
  }
  const tbody = h('tbody')
  const empty = h(
    'p',
    { class: 'empty', hidden: true },
    'No connectors yet. ',
    h('a', { href: '#/new' }, 'Create one'),
    '.',
  )
  const workersBody = h('tbody')
  const error = h('div', { class: 'error-slot' })
  const updated = h('span', { class: 'updated muted' }, '')
  const table = h(
    'table',
    { class: 'connectors' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col', class: 'col-type' }, 'Type'),
        h('th', { scope: 'col', class: 'col-state' }, 'State'),
        h(
          'th',
          { scope: 'col', class: 'col-tasks num' },
          h('abbr', { title: 'running / failed / total' }, 'Tasks'),
        ),
        h(
          'th',
          { scope: 'col', class: 'col-rate num' },
          h(
            'abbr',
            {
              title: 'records per second written to the log (source) or put into the sink, by all its tasks',
            },
            'Records/s',
          ),
        ),
        h('th', { scope: 'col', class: 'col-worker' }, 'Worker'),
        h('th', { scope: 'col', class: 'col-class' }, 'Class'),
      ),
    ),
    tbody,
  )
  replace(
    main,
    h(
      'section',
      { 'aria-labelledby': 'connectors-title' },
      h(
        'div',
        { class: 'title-row' },
        h('h1', { id: 'connectors-title' }, 'Connectors'),
        h('a', { class: 'button primary', href: '#/new', id: 'new-connector' }, 'New connector'),
      ),
      counts,
      h('div', { class: 'toolbar' }, filter, updated),
      error,
      h('div', { class: 'table-wrap' }, table),
      empty,
    ),
    h(
      'section',
      { 'aria-labelledby': 'workers-title' },
      h('h2', { id: 'workers-title' }, 'Workers'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'workers' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Worker'),
              h('th', { scope: 'col' }, 'Role'),
              h('th', { scope: 'col', class: 'num' }, 'Connectors'),
              h('th', { scope: 'col', class: 'num' }, 'Tasks'),
            ),
          ),
          workersBody,
        ),
      ),
    ),
  )

  const rows = new Map<string, Row>()
  let latest: ExpandedConnectors = {}
  let painted = false

  const applyFilter = () => {
    const text = filter.value.trim().toLowerCase()
    for (const [name, row] of rows) row.element.hidden = text !== '' && !name.toLowerCase().includes(text)
  }
  filter.addEventListener('input', applyFilter)

  const render = (connectors: ExpandedConnectors, cluster: ClusterView | null) => {
    latest = connectors
    const names = Object.keys(connectors).sort()
    const tally = new Map<string, number>([...countCells.keys()].map((k) => [k, 0]))
    const workers = new Map<string, { connectors: number; tasks: number }>()
    const worker = (id: string) => {
      let entry = workers.get(id)
      if (!entry) {
        entry = { connectors: 0, tasks: 0 }
        workers.set(id, entry)
      }
      return entry
    }
    for (const name of [...rows.keys()]) {
      if (!(name in connectors)) {
        rows.get(name)!.element.remove()
        rows.delete(name)
      }
    }
    let previous: HTMLTableRowElement | null = null
    for (const name of names) {
      const { status, info } = connectors[name]!
      let row = rows.get(name)
      if (!row) {
        const link = h('a', { href: connectorHash(name) }, name)
        const element = h('tr', { 'data-connector': name }, h('th', { scope: 'row' }, link))
        row = {
          element,
          type: h('td', { class: 'col-type' }),
          state: h('td', { class: 'col-state' }),
          tasks: h('td', { class: 'col-tasks num' }),
          rate: h('td', { class: 'col-rate num' }),
          worker: h('td', { class: 'col-worker' }),
          className: h('td', { class: 'col-class' }),
          lastState: '',
        }
        element.append(row.type, row.state, row.tasks, row.rate, row.worker, row.className)
        rows.set(name, row)
      }
      const expected: ChildNode | null = previous ? previous.nextSibling : tbody.firstChild
      if (expected !== row.element) tbody.insertBefore(row.element, expected)
      previous = row.element
      const state = status?.connector.state ?? 'UNASSIGNED'
      tally.set(state, (tally.get(state) ?? 0) + 1)
      if (row.lastState !== state) {
        replace(row.state, stateBadge(state))
        row.lastState = state
      }
      const tasks = status?.tasks ?? []
      const running = tasks.filter((t) => t.state === 'RUNNING').length
      const failed = tasks.filter((t) => t.state === 'FAILED').length
      if (failed > 0) tally.set('TASKS FAILED', (tally.get('TASKS FAILED') ?? 0) + failed)
      setText(row.type, status?.type ?? info?.type ?? '')
      setText(row.tasks, `${running} / ${failed} / ${tasks.length}`)
      row.tasks.classList.toggle('has-failed', failed > 0)
      const rate = mainRate(history.latest(name), status?.type ?? info?.type)
      setText(row.rate, rate === undefined ? '—' : formatRate(rate))
      setText(row.worker, status?.connector.worker_id ?? '')
      setText(row.className, simpleClass(info?.config['connector.class']))
      if (status) {
        worker(status.connector.worker_id).connectors++
        for (const task of tasks) worker(task.worker_id).tasks++
      }
    }
    for (const [state, value] of tally) setText(countCells.get(state)!, String(value))
    empty.hidden = names.length > 0
    applyFilter()

    const leader = hostPort(cluster?.leaderUrl ?? null)
    // The leader is listed even when it runs nothing; a standalone worker even with no connectors.
    if (leader) worker(leader)
    const workerIds = [...workers.keys()].sort()
    if (workerIds.length === 0) workerIds.push(location.host)
    replace(
      workersBody,
      workerIds.map((id) => {
        const entry = workers.get(id) ?? { connectors: 0, tasks: 0 }
        const role = cluster ? (id === leader ? 'leader' : 'member') : 'standalone'
        return h(
          'tr',
          null,
          h(
            'th',
            { scope: 'row' },
            id,
            id === location.host ? h('span', { class: 'muted' }, ' (this page)') : null,
          ),
          h('td', null, role === 'leader' ? h('span', { class: 'badge leader' }, 'leader') : role),
          h('td', { class: 'num' }, String(entry.connectors)),
          h('td', { class: 'num' }, String(entry.tasks)),
        )
      }),
    )
    setText(updated, `Updated ${new Date().toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`)
    if (!painted) {
      painted = true
      main.dataset.ready = 'overview'
      requestAnimationFrame(() => {
        window.setTimeout(() => performance.mark('sluice:overview-painted'), 0)
      })
    }
  }

  const stop = poll(REFRESH_MS, async () => {
    try {
      // The rates shown are from the samples so far: the first paint does not wait for /metrics.
      void sampleThroughput()
      const [connectors, cluster] = await Promise.all([api.connectors(), api.cluster()])
      replace(error)
      render(connectors, cluster)
      showMode(cluster)
    } catch (caught) {
      replace(error, errorBlock(caught))
      if (!painted) render(latest, null)
      empty.hidden = true // "no connectors" is not known while the API fails
    }
  })
  return () => void stop()
}
