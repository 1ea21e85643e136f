/**
 * The worker's schema registry, read-only (Sluice's `GET /sluice/schemas`, decision 0027): `#/schemas`
 * lists the subjects with their versions, compatibility level and mode; `#/schemas/<subject>` shows
 * each version's schema pretty-printed with its type, references and the schemas that reference it.
 * The header's link is shown only when a registry runs on the worker.
 */
import { api, type SubjectView } from './api.ts'
import { errorBlock, h, replace } from './dom.ts'

export function subjectHash(subject: string): string {
  return `#/schemas/${encodeURIComponent(subject)}`
}

/** Shows the header's Schemas link when the worker runs a registry. */
export async function showSchemasLink(): Promise<void> {
  const link = document.getElementById('nav-schemas')
  if (!link) return
  try {
    await api.schemas()
    link.hidden = false
  } catch {
    link.hidden = true
  }
}

function crumbs(...items: (Node | string)[]): HTMLElement {
  return h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, items)
}

export function renderSchemas(main: HTMLElement): () => void {
  const body = h('tbody', null, h('tr', null, h('td', { colspan: 5, class: 'muted' }, 'Loading…')))
  const summary = h('p', { class: 'muted' })
  const error = h('div', { class: 'error-slot' })
  replace(
    main,
    h('h1', null, 'Schemas'),
    summary,
    error,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'subjects' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Subject'),
            h('th', { scope: 'col' }, 'Type'),
            h('th', { scope: 'col' }, 'Versions'),
            h('th', { scope: 'col' }, 'Compatibility'),
            h('th', { scope: 'col' }, 'Mode'),
          ),
        ),
        body,
      ),
    ),
  )
  let stopped = false
  void api
    .schemas()
    .then((view) => {
      if (stopped) return
      replace(
        summary,
        `${view.subjects.length} subject(s) · global compatibility ${view.compatibility} · mode ${view.mode} · read-only`,
      )
      replace(
        body,
        view.subjects.length === 0
          ? h('tr', null, h('td', { colspan: 5, class: 'muted' }, 'No subjects registered.'))
          : view.subjects.map((s) =>
              h(
                'tr',
                { 'data-subject': s.subject },
                h('th', { scope: 'row' }, h('a', { href: subjectHash(s.subject) }, s.subject)),
                h('td', null, s.latest?.schemaType ?? '—'),
                h('td', { 'data-versions': s.versions.join(',') }, s.versions.join(', ')),
                h(
                  'td',
                  null,
                  s.compatibility,
                  s.compatibilityOverride ? h('span', { class: 'muted' }, ' (subject)') : null,
                ),
                h('td', null, s.mode),
              ),
            ),
      )
      main.dataset.loaded = 'schemas'
    })
    .catch((caught: unknown) => {
      if (!stopped) replace(error, errorBlock(caught))
    })
  return () => {
    stopped = true
  }
}

/** Avro and JSON Schema as indented JSON; Protobuf (and anything not JSON) as written. */
export function prettySchema(schema: string, type: string): string {
  if (type === 'PROTOBUF') return schema
  try {
    return JSON.stringify(JSON.parse(schema), null, 2)
  } catch {
    return schema
  }
}

function versionBlock(subject: string, v: SubjectView['versions'][number]): HTMLElement {
  return h(
    'section',
    { class: 'schema-version', 'data-version': v.version, 'aria-labelledby': `version-${v.version}` },
    h(
      'h2',
      { id: `version-${v.version}` },
      `Version ${v.version}`,
      h('span', { class: 'badge', 'data-schema-type': v.schemaType }, v.schemaType),
      h('span', { class: 'muted' }, ` id ${v.id}`),
    ),
    v.references.length > 0
      ? h(
          'p',
          { class: 'references' },
          'References: ',
          v.references.map((r, i) => [
            i > 0 ? ', ' : '',
            h('code', null, r.name),
            ' → ',
            h('a', { href: subjectHash(r.subject) }, `${r.subject} v${r.version}`),
          ]),
        )
      : null,
    v.referencedBy.length > 0
      ? h('p', { class: 'muted' }, `Referenced by schema id ${v.referencedBy.join(', ')}`)
      : null,
    h(
      'pre',
      { class: 'schema', tabindex: 0, 'aria-label': `${subject} version ${v.version}` },
      prettySchema(v.schema, v.schemaType),
    ),
  )
}

export function renderSubject(main: HTMLElement, subject: string): () => void {
  const meta = h('p', { class: 'muted' }, 'Loading…')
  const versions = h('div')
  const error = h('div', { class: 'error-slot' })
  replace(
    main,
    crumbs(h('a', { href: '#/schemas' }, 'Schemas'), ' / ', h('span', null, subject)),
    h('h1', { class: 'subject-name' }, subject),
    meta,
    error,
    versions,
  )
  let stopped = false
  void api
    .subject(subject)
    .then((view) => {
      if (stopped) return
      replace(
        meta,
        `${view.versions.length} version(s) · compatibility ${view.compatibility}${view.compatibilityOverride ? ' (set on the subject)' : ''} · mode ${view.mode}`,
      )
      // Newest first: the one a producer registers against.
      replace(
        versions,
        [...view.versions].reverse().map((v) => versionBlock(subject, v)),
      )
      main.dataset.loaded = 'subject'
    })
    .catch((caught: unknown) => {
      if (!stopped) replace(error, errorBlock(caught))
    })
  return () => {
    stopped = true
  }
}
