/**
 * Topic browsing: the worker log's topics with their partitions and record counts, and a topic's
 * latest records (keys, values and headers previewed). A dead letter — a record with Kafka
 * Connect's `__connect.errors.*` headers — shows where and why it failed: stage, connector and
 * task, original topic/partition/offset, exception class and message, with the stack trace folded.
 * Reads `GET /sluice/topics` and `GET /sluice/topics/{t}/records` (read-only, bounded).
 */
import { api, type BrowsedRecord, type BytesPreview } from './api.ts'
import { errorBlock, h, replace, setText } from './dom.ts'

const ERROR_PREFIX = '__connect.errors.'

export function topicHash(name: string): string {
  return `#/topics/${encodeURIComponent(name)}`
}

export function renderTopics(main: HTMLElement): () => void {
  let closed = false
  const body = h('tbody', null, h('tr', null, h('td', { colspan: 3, class: 'muted' }, 'Loading…')))
  const error = h('div', { class: 'error-slot' })
  replace(
    main,
    h('div', { class: 'title-row' }, h('h1', null, 'Topics')),
    h(
      'p',
      { class: 'muted' },
      'The worker log’s topics. Open one to read its latest records; a dead-letter topic shows why each record failed.',
    ),
    error,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'topics-table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Topic'),
            h('th', { scope: 'col', class: 'num' }, 'Partitions'),
            h('th', { scope: 'col', class: 'num' }, 'Records'),
          ),
        ),
        body,
      ),
    ),
  )
  api
    .topicList()
    .then((topics) => {
      if (closed) return
      replace(
        body,
        topics.length === 0
          ? h('tr', null, h('td', { colspan: 3, class: 'muted' }, 'No topics yet.'))
          : topics.map((t) =>
              h(
                'tr',
                { 'data-topic': t.name },
                h('th', { scope: 'row' }, h('a', { href: topicHash(t.name) }, t.name)),
                h('td', { class: 'num' }, String(t.partitions.length)),
                h('td', { class: 'num' }, String(t.partitions.reduce((n, p) => n + p.end - p.beginning, 0))),
              ),
            ),
      )
      main.dataset.ready = 'topics'
    })
    .catch((caught: unknown) => replace(error, errorBlock(caught)))
  return () => {
    closed = true
  }
}

function bytes(preview: BytesPreview | null): HTMLElement {
  if (preview === null) return h('span', { class: 'muted' }, 'null')
  const note =
    preview.encoding === 'base64' || preview.truncated
      ? h(
          'span',
          { class: 'muted bytes-note' },
          ` (${preview.encoding === 'base64' ? 'binary, base64' : 'text'}${preview.truncated ? `, first 4 KiB of ${preview.size} bytes` : ''})`,
        )
      : null
  return h('span', null, h('code', { class: 'payload' }, preview.text), note)
}

function headerText(record: BrowsedRecord, key: string): string | undefined {
  const value = record.headers.find((header) => header.key === `${ERROR_PREFIX}${key}`)?.value
  return value?.encoding === 'utf8' ? value.text : undefined
}

function deadLetter(record: BrowsedRecord): HTMLElement | null {
  if (!record.headers.some((header) => header.key.startsWith(ERROR_PREFIX))) return null
  const field = (label: string, value: string | undefined) =>
    value === undefined ? null : [h('dt', null, label), h('dd', null, h('code', null, value))]
  const origin = [headerText(record, 'topic'), headerText(record, 'partition'), headerText(record, 'offset')]
  const stack = headerText(record, 'exception.stacktrace')
  return h(
    'div',
    { class: 'dead-letter' },
    h(
      'strong',
      { class: 'dead-letter-title' },
      'Dead letter: ',
      headerText(record, 'exception.message') ?? 'no message',
    ),
    h(
      'dl',
      null,
      field('Stage', headerText(record, 'stage')),
      field('Connector', headerText(record, 'connector.name')),
      field('Task', headerText(record, 'task.id')),
      field(
        'From',
        origin[0] === undefined
          ? undefined
          : `${origin[0]} partition ${origin[1] ?? '?'} offset ${origin[2] ?? '?'}`,
      ),
      field('Class', headerText(record, 'class.name')),
      field('Exception', headerText(record, 'exception.class.name')),
    ),
    stack
      ? h('details', { class: 'trace' }, h('summary', null, 'Stack trace'), h('pre', { tabindex: 0 }, stack))
      : null,
  )
}

export function renderTopic(main: HTMLElement, name: string): () => void {
  let closed = false
  const error = h('div', { class: 'error-slot' })
  const list = h('div', { class: 'records' })
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' }, ' ')
  const limit = h(
    'select',
    { id: 'records-limit', 'aria-label': 'Records to show' },
    [10, 20, 50, 100].map((n) => h('option', { value: String(n) }, `latest ${n}`)),
  )
  limit.value = '20'
  const reload = h('button', { type: 'button', id: 'records-reload' }, 'Reload')
  const load = async () => {
    reload.disabled = true
    replace(error)
    try {
      const result = await api.topicRecords(name, Number(limit.value))
      if (closed) return
      setText(
        summary,
        `${result.records.length} record${result.records.length === 1 ? '' : 's'}, oldest first${result.complete ? '' : ' (the read timed out: more may exist)'}.`,
      )
      replace(
        list,
        result.records.length === 0
          ? h('p', { class: 'muted' }, 'No records.')
          : result.records.map((record) =>
              h(
                'article',
                { class: 'record', 'data-offset': `${record.partition}:${record.offset}` },
                h(
                  'p',
                  { class: 'record-meta muted' },
                  `partition ${record.partition} · offset ${record.offset} · ${new Date(record.timestamp).toISOString()}`,
                ),
                deadLetter(record),
                h(
                  'dl',
                  { class: 'record-body' },
                  h('dt', null, 'Key'),
                  h('dd', null, bytes(record.key)),
                  h('dt', null, 'Value'),
                  h('dd', null, bytes(record.value)),
                  record.headers.length > 0
                    ? [
                        h('dt', null, 'Headers'),
                        h(
                          'dd',
                          null,
                          h(
                            'details',
                            null,
                            h(
                              'summary',
                              null,
                              `${record.headers.length} header${record.headers.length === 1 ? '' : 's'}`,
                            ),
                            h(
                              'ul',
                              { class: 'headers' },
                              record.headers.map((header) =>
                                h('li', null, h('code', null, header.key), ': ', bytes(header.value)),
                              ),
                            ),
                          ),
                        ),
                      ]
                    : null,
                ),
              ),
            ),
      )
      main.dataset.ready = 'topic'
    } catch (caught) {
      replace(error, errorBlock(caught))
    } finally {
      reload.disabled = false
    }
  }
  reload.addEventListener('click', () => void load())
  limit.addEventListener('change', () => void load())
  replace(
    main,
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/topics' }, 'Topics'),
      ' / ',
      h('span', null, name),
    ),
    h('h1', null, name),
    h('div', { class: 'toolbar' }, limit, reload),
    summary,
    error,
    list,
  )
  void load()
  return () => {
    closed = true
  }
}
