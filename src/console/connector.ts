/**
 * A connector's page: state and actions (pause, resume, stop, restart with tasks or only the failed
 * ones, delete), its tasks with their traces, its config (secrets masked, `${…}` references shown
 * as such), active topics and KIP-875 offsets — read always, reset or edited only while the
 * connector is STOPPED, after a confirmation. Status refreshes every 2 s.
 */
import { ApiError, api, type ConnectorInfo, type ConnectorOffsets, type ConnectorStatus } from './api.ts'
import {
  confirmAction,
  connectorHash,
  errorBlock,
  h,
  navigate,
  notify,
  poll,
  replace,
  setText,
  stateBadge,
} from './dom.ts'
import { shownValue } from './mask.ts'
import { formatRate, taskKey } from './rates.ts'
import { renderSnapshot } from './snapshot.ts'
import { chart, history, pluginGroups, sampleThroughput, taskHistory } from './throughput.ts'
import { topicHash } from './topics.ts'

const REFRESH_MS = 2000

/** A confirmation answered "Cancel": nothing to report. */
class Cancelled extends Error {
  constructor() {
    super('cancelled')
  }
}
const passwordKeysByClass = new Map<string, Promise<Set<string>>>()

function passwordKeys(className: string): Promise<Set<string>> {
  let keys = passwordKeysByClass.get(className)
  if (!keys) {
    keys = api
      .pluginConfig(className)
      .then((defs) => new Set(defs.filter((d) => d.type === 'PASSWORD').map((d) => d.name)))
      .catch(() => new Set<string>())
    passwordKeysByClass.set(className, keys)
  }
  return keys
}

function trace(text: string | undefined, label: string): HTMLElement | null {
  if (!text) return null
  const firstLine = text.split('\n', 1)[0]!
  return h(
    'details',
    { class: 'trace' },
    h('summary', null, h('span', { class: 'trace-label' }, label), ' ', h('code', null, firstLine)),
    h('pre', { tabindex: 0 }, text),
  )
}

export function renderConnector(main: HTMLElement, name: string): () => void {
  const title = h('h1', { class: 'connector-name' }, name)
  const badge = h('span', { class: 'state-slot' })
  const meta = h('p', { class: 'meta muted' })
  const error = h('div', { class: 'error-slot' })
  const connectorTrace = h('div')
  const tasksBody = h('tbody')
  const configBody = h('tbody')
  const topicsList = h('p', { class: 'topics' }, '…')
  const offsetsBody = h('tbody')
  const offsetsNote = h('p', { class: 'muted offsets-note' })
  const offsetsError = h('div', { class: 'error-slot' })
  const offsetsTable = h(
    'table',
    { class: 'offsets no-lag' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'Partition'),
        h('th', { scope: 'col' }, 'Offset'),
        h(
          'th',
          { scope: 'col', class: 'col-lag num' },
          h('abbr', { title: 'records in the partition after the committed offset' }, 'Lag'),
        ),
      ),
    ),
    offsetsBody,
  )
  const snapshotSection = h('section', { 'aria-labelledby': 'snapshot-title', id: 'snapshot', hidden: true })
  const chartSlot = h('div', { class: 'chart-slot' })
  const legend = h('dl', { class: 'legend' })

  const busy = (button: HTMLButtonElement, run: () => Promise<unknown>, done: string) => async () => {
    button.disabled = true
    replace(error)
    try {
      await run()
      notify(done)
      await refresh()
    } catch (caught) {
      if (caught instanceof Cancelled) return
      replace(error, errorBlock(caught))
      notify(caught instanceof Error ? caught.message : String(caught), 'error')
    } finally {
      button.disabled = false
      updateButtons()
    }
  }

  const pause = h('button', { type: 'button', id: 'action-pause' }, 'Pause')
  const resume = h('button', { type: 'button', id: 'action-resume' }, 'Resume')
  const stop = h('button', { type: 'button', id: 'action-stop' }, 'Stop')
  const restart = h('button', { type: 'button', id: 'action-restart' }, 'Restart')
  const restartAll = h('button', { type: 'button', id: 'action-restart-all' }, 'Restart with tasks')
  const restartFailed = h('button', { type: 'button', id: 'action-restart-failed' }, 'Restart failed tasks')
  const edit = h(
    'a',
    { class: 'button', href: `${connectorHash(name)}/edit`, id: 'action-edit' },
    'Edit config',
  )
  const remove = h('button', { type: 'button', class: 'danger', id: 'action-delete' }, 'Delete')
  pause.addEventListener(
    'click',
    busy(pause, () => api.pause(name), `${name}: pause requested`),
  )
  resume.addEventListener(
    'click',
    busy(resume, () => api.resume(name), `${name}: resume requested`),
  )
  stop.addEventListener(
    'click',
    busy(
      stop,
      async () => {
        const ok = await confirmAction(
          `Stop ${name}?`,
          h(
            'p',
            null,
            'Its tasks are shut down and their configs removed until it is resumed. Offsets can be changed only while it is stopped.',
          ),
          'Stop connector',
          false,
        )
        if (ok) await api.stop(name)
        else throw new Cancelled()
      },
      `${name}: stop requested`,
    ),
  )
  restart.addEventListener(
    'click',
    busy(restart, () => api.restart(name, false, false), `${name}: connector restarted`),
  )
  restartAll.addEventListener(
    'click',
    busy(restartAll, () => api.restart(name, true, false), `${name}: connector and tasks restarting`),
  )
  restartFailed.addEventListener(
    'click',
    busy(restartFailed, () => api.restart(name, true, true), `${name}: failed tasks restarting`),
  )
  remove.addEventListener('click', async () => {
    const ok = await confirmAction(
      `Delete ${name}?`,
      h(
        'p',
        null,
        'The connector and its tasks stop and its config is removed. Its committed offsets stay in the offsets store; a connector created again with the same name resumes from them.',
      ),
      'Delete connector',
    )
    if (!ok) return
    remove.disabled = true
    // The page stops asking first, and waits for a status request under way: one answered after
    // the delete would show "not found" (and log a 404) for a connector the user just removed.
    await stopPolling()
    try {
      await api.remove(name)
      notify(`${name} deleted`)
      navigate('#/')
    } catch (caught) {
      replace(error, errorBlock(caught))
      remove.disabled = false
      startPolling()
    }
  })

  const resetOffsets = h('button', { type: 'button', class: 'danger', id: 'offsets-reset' }, 'Reset offsets')
  const editOffsets = h('button', { type: 'button', id: 'offsets-edit' }, 'Edit offsets')
  const refreshOffsets = h('button', { type: 'button', id: 'offsets-refresh' }, 'Refresh')
  const offsetsEditor = h('div', { class: 'offsets-editor', hidden: true })

  let status: ConnectorStatus | undefined
  let info: ConnectorInfo | undefined
  let offsets: ConnectorOffsets | undefined

  const updateButtons = () => {
    const state = status?.connector.state
    const stopped = state === 'STOPPED'
    pause.hidden = state === 'PAUSED' || stopped
    resume.hidden = !(state === 'PAUSED' || stopped)
    stop.hidden = stopped
    const failedTasks = status?.tasks.some((t) => t.state === 'FAILED') ?? false
    restartFailed.disabled = !failedTasks
    resetOffsets.disabled = !stopped
    editOffsets.disabled = !stopped
    setText(
      offsetsNote,
      stopped
        ? 'The connector is stopped: its offsets can be reset or edited.'
        : 'Stop the connector to reset or edit its offsets (KIP-875).',
    )
  }

  /** A sink's consumer lag per partition: the topic's end offset less the committed one. */
  const sinkLag = async (list: ConnectorOffsets['offsets']): Promise<Map<string, number>> => {
    const lag = new Map<string, number>()
    if (status?.type !== 'sink' || list.length === 0) return lag
    const topics = await api.topicList().catch(() => [])
    for (const o of list) {
      const topic = topics.find((t) => t.name === o.partition.kafka_topic)
      const end = topic?.partitions.find((p) => p.partition === o.partition.kafka_partition)?.end
      const committed = o.offset?.kafka_offset
      if (end !== undefined && typeof committed === 'number')
        lag.set(JSON.stringify(o.partition), Math.max(0, end - committed))
    }
    return lag
  }

  const loadOffsets = async () => {
    replace(offsetsError)
    try {
      offsets = await api.offsets(name)
      const lag = await sinkLag(offsets.offsets)
      offsetsTable.classList.toggle('no-lag', status?.type !== 'sink')
      replace(
        offsetsBody,
        offsets.offsets.length === 0
          ? h('tr', null, h('td', { colspan: 3, class: 'muted' }, 'No committed offsets.'))
          : offsets.offsets.map((o) =>
              h(
                'tr',
                null,
                h('td', null, h('code', null, JSON.stringify(o.partition))),
                h('td', null, h('code', null, JSON.stringify(o.offset))),
                h(
                  'td',
                  { class: 'col-lag num', 'data-lag': lag.get(JSON.stringify(o.partition)) ?? '' },
                  String(lag.get(JSON.stringify(o.partition)) ?? '—'),
                ),
              ),
            ),
      )
      main.dataset.offsets = String(offsets.offsets.length)
    } catch (caught) {
      replace(offsetsError, errorBlock(caught))
    }
  }
  refreshOffsets.addEventListener('click', () => void loadOffsets())
  resetOffsets.addEventListener('click', async () => {
    const ok = await confirmAction(
      `Reset the offsets of ${name}?`,
      h(
        'p',
        null,
        'Every committed offset of this connector is deleted. When it is resumed it starts over: a source re-reads from the beginning, a sink from its consumer’s auto.offset.reset.',
      ),
      'Reset offsets',
    )
    if (!ok) return
    resetOffsets.disabled = true
    try {
      const answer = await api.resetOffsets(name)
      notify(answer?.message ?? 'Offsets reset')
      await loadOffsets()
    } catch (caught) {
      replace(offsetsError, errorBlock(caught))
    } finally {
      updateButtons()
    }
  })
  editOffsets.addEventListener('click', () => {
    const area = h('textarea', {
      id: 'offsets-json',
      rows: 8,
      spellcheck: 'false',
      'aria-label': 'Offsets as JSON',
    })
    area.value = JSON.stringify(offsets ?? { offsets: [] }, null, 2)
    const save = h('button', { type: 'button', class: 'primary', id: 'offsets-save' }, 'Save offsets')
    const cancel = h('button', { type: 'button' }, 'Cancel')
    const problem = h('div', { class: 'error-slot' })
    cancel.addEventListener('click', () => {
      offsetsEditor.hidden = true
      replace(offsetsEditor)
    })
    save.addEventListener('click', async () => {
      let body: ConnectorOffsets
      try {
        body = JSON.parse(area.value) as ConnectorOffsets
        if (!body || !Array.isArray(body.offsets))
          throw new Error('write {"offsets": [{"partition": {…}, "offset": {…}}]}')
      } catch (caught) {
        replace(problem, errorBlock(new Error(`The offsets are not valid: ${(caught as Error).message}`)))
        return
      }
      const ok = await confirmAction(
        `Change the offsets of ${name}?`,
        h(
          'p',
          null,
          `${body.offsets.length} partition offset(s) are written; an offset of null removes that partition’s offset.`,
        ),
        'Write offsets',
      )
      if (!ok) return
      try {
        const answer = await api.alterOffsets(name, body)
        notify(answer?.message ?? 'Offsets changed')
        offsetsEditor.hidden = true
        replace(offsetsEditor)
        await loadOffsets()
      } catch (caught) {
        replace(problem, errorBlock(caught))
      }
    })
    replace(
      offsetsEditor,
      h('label', { for: 'offsets-json' }, 'Offsets (the body of PATCH /connectors/…/offsets)'),
      area,
      problem,
      h('div', { class: 'actions' }, cancel, save),
    )
    offsetsEditor.hidden = false
    area.focus()
  })

  replace(
    main,
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/' }, 'Connectors'),
      ' / ',
      h('span', null, name),
    ),
    h('div', { class: 'title-row' }, title, badge),
    meta,
    h(
      'div',
      { class: 'toolbar actions', role: 'toolbar', 'aria-label': 'Connector actions' },
      pause,
      resume,
      stop,
      restart,
      restartAll,
      restartFailed,
      edit,
      remove,
    ),
    error,
    connectorTrace,
    h(
      'section',
      { 'aria-labelledby': 'throughput-title' },
      h('h2', { id: 'throughput-title' }, 'Throughput, last 5 minutes'),
      h('div', { class: 'throughput' }, chartSlot, legend),
    ),
    snapshotSection,
    h(
      'section',
      { 'aria-labelledby': 'tasks-title' },
      h('h2', { id: 'tasks-title' }, 'Tasks'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'tasks' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Task'),
              h('th', { scope: 'col' }, 'State'),
              h('th', { scope: 'col' }, 'Worker'),
              h('th', { scope: 'col', class: 'num' }, 'Records/s'),
              h('th', { scope: 'col' }, 'Trace'),
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
            ),
          ),
          tasksBody,
        ),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'offsets-title' },
      h('h2', { id: 'offsets-title' }, 'Offsets'),
      offsetsNote,
      h('div', { class: 'toolbar' }, refreshOffsets, editOffsets, resetOffsets),
      offsetsError,
      offsetsEditor,
      h('div', { class: 'table-wrap' }, offsetsTable),
    ),
    h(
      'section',
      { 'aria-labelledby': 'topics-title' },
      h('h2', { id: 'topics-title' }, 'Active topics'),
      topicsList,
    ),
    h(
      'section',
      { 'aria-labelledby': 'config-title' },
      h('h2', { id: 'config-title' }, 'Config'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'config' }, h('tbody', null), configBody)),
    ),
  )

  let lastShown = ''
  const renderStatus = () => {
    if (!status) return
    const state = status.connector.state
    if (badge.dataset.state !== state) {
      replace(badge, stateBadge(state))
      badge.dataset.state = state
      main.dataset.state = state
      if (state === 'STOPPED') void loadOffsets()
    }
    setText(
      meta,
      `${status.type} connector · ${info?.config['connector.class'] ?? ''} · on ${status.connector.worker_id}`,
    )
    // Rebuilt only when something changed, so an open trace stays open across refreshes.
    const shown = JSON.stringify([status.connector.trace, status.tasks])
    if (shown === lastShown) {
      updateButtons()
      return
    }
    lastShown = shown
    replace(connectorTrace, trace(status.connector.trace, 'Connector failure:'))
    replace(
      tasksBody,
      status.tasks.length === 0
        ? h(
            'tr',
            null,
            h(
              'td',
              { colspan: 6, class: 'muted' },
              state === 'STOPPED' ? 'No tasks while stopped.' : 'No tasks.',
            ),
          )
        : status.tasks.map((task) => {
            const restartTask = h(
              'button',
              { type: 'button', class: 'small', 'aria-label': `Restart task ${task.id}` },
              'Restart',
            )
            restartTask.addEventListener(
              'click',
              busy(restartTask, () => api.restartTask(name, task.id), `${name}: task ${task.id} restarted`),
            )
            return h(
              'tr',
              { 'data-task': task.id },
              h('th', { scope: 'row' }, String(task.id)),
              h('td', null, stateBadge(task.state)),
              h('td', null, task.worker_id),
              h('td', { class: 'num', 'data-task-rate': task.id }, '—'),
              h(
                'td',
                { class: 'trace-cell' },
                trace(task.trace, 'Trace:') ?? h('span', { class: 'muted' }, '—'),
              ),
              h('td', null, restartTask),
            )
          }),
    )
    updateButtons()
  }

  const renderConfig = async () => {
    if (!info) return
    const secrets = await passwordKeys(info.config['connector.class'] ?? '')
    replace(
      configBody,
      Object.keys(info.config)
        .sort()
        .map((key) => {
          const shown = shownValue(key, info!.config[key]!, secrets)
          const value =
            shown.kind === 'masked'
              ? h('span', { class: 'masked', title: 'hidden: a password or secret' }, '••••••••')
              : shown.kind === 'reference'
                ? h(
                    'span',
                    { class: 'reference', title: 'resolved by the worker’s config provider' },
                    h('code', null, shown.text),
                    h('span', { class: 'badge ref' }, 'reference'),
                  )
                : h('code', null, shown.text)
          return h('tr', null, h('th', { scope: 'row' }, h('code', null, key)), h('td', null, value))
        }),
    )
  }

  const renderThroughput = () => {
    const sink = status?.type === 'sink'
    const labels: [string, string] = sink ? ['read', 'put'] : ['polled', 'written']
    const series = history.series(name).map((point) => ({
      at: point.at,
      values: (sink
        ? [point.rates.sinkRead, point.rates.sinkPut]
        : [point.rates.sourcePolled, point.rates.sourceWritten]) as [number, number],
    }))
    replace(chartSlot, chart(series, labels, 5 * 60_000))
    const latest = series[series.length - 1]?.values
    replace(
      legend,
      labels.map((label, index) => [
        h('dt', { class: `series-${index}` }, `${label} /s`),
        h('dd', { 'data-rate': label }, latest ? formatRate(latest[index]!) : '—'),
      ]),
      h(
        'dd',
        { class: 'muted small-note' },
        latest
          ? `Peak ${formatRate(Math.max(...series.flatMap((p) => p.values)))}/s, all tasks.`
          : 'No samples yet.',
      ),
    )
    // Each task's rate, on whichever worker it runs (cells updated in place: open traces stay open).
    for (const cell of tasksBody.querySelectorAll<HTMLElement>('td[data-task-rate]')) {
      const rates = taskHistory.latest(taskKey(name, Number(cell.dataset.taskRate)))
      setText(cell, rates ? formatRate(sink ? rates.sinkPut : rates.sourceWritten) : '—')
    }
    renderSnapshot(snapshotSection, pluginGroups, info?.config)
  }

  const refresh = async () => {
    try {
      const first = status === undefined
      ;[status] = await Promise.all([api.status(name), sampleThroughput()])
      // A sink's lag needs its type: offsets are read again once it is known.
      if (first && status.type === 'sink') void loadOffsets()
      replace(error)
      renderStatus()
      renderThroughput()
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 404) {
        // Deleted, or (in a cluster, just after it was created) not known to this worker yet: the
        // page keeps asking, and shows the connector once its status appears.
        replace(error, errorBlock(caught), h('p', null, h('a', { href: '#/' }, 'Back to the overview')))
      } else {
        replace(error, errorBlock(caught))
      }
    }
  }

  const loadTopics = async () => {
    if (!info) return
    const topics = await api.topics(name).catch(() => null)
    const list = topics?.[name]?.topics ?? []
    const deadLetters = info.config['errors.deadletterqueue.topic.name']
    replace(
      topicsList,
      list.length === 0
        ? h('span', { class: 'muted' }, 'None recorded yet.')
        : list.map((t) => h('a', { class: 'topic', href: topicHash(t) }, t)),
      deadLetters
        ? h(
            'span',
            { class: 'dead-letter-link' },
            ' Dead letters: ',
            h('a', { class: 'topic', href: topicHash(deadLetters), id: 'dead-letters' }, deadLetters),
          )
        : null,
    )
  }

  const loadInfo = async () => {
    try {
      info = await api.info(name)
      await renderConfig()
      await loadTopics()
    } catch (caught) {
      if (!(caught instanceof ApiError && caught.status === 404)) replace(error, errorBlock(caught))
    }
  }
  void loadInfo()
  void loadOffsets()
  // Offsets and active topics change slowly: refreshed every fifth status poll (10 s).
  let polls = 0
  let stops: (() => Promise<void>)[] = []
  const startPolling = () => {
    stops = [
      poll(REFRESH_MS, async () => {
        // Config not read yet (a connector this worker did not know when the page opened): retried.
        if (!info && status) await loadInfo()
        if (++polls % 5 !== 0) return
        await Promise.all([offsetsEditor.hidden ? loadOffsets() : undefined, loadTopics()])
      }),
      poll(REFRESH_MS, refresh),
    ]
  }
  const stopPolling = async () => {
    await Promise.all(stops.map((stop) => stop()))
    stops = []
  }
  startPolling()
  return () => void stopPolling()
}
