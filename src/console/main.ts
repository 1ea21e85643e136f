/**
 * The Sluice web console (served by the worker under `/ui/`): routes on the URL fragment —
 * `#/` the overview, `#/connectors/<name>` a connector, `#/connectors/<name>/edit` and `#/new` the
 * config form, `#/topics` and `#/topics/<name>` the log's topics and their latest records, `#/schemas` and `#/schemas/<subject>` the worker's
 * schema registry (read-only). Each page renders into `<main>` and returns a function that stops its polling.
 */
import { api } from './api.ts'
import { renderConnector } from './connector.ts'
import { setText, showMode } from './dom.ts'
import { renderForm } from './form.ts'
import { renderOverview } from './overview.ts'
import { renderSchemas, renderSubject, showSchemasLink } from './schemas.ts'
import { renderTopic, renderTopics } from './topics.ts'

type Cleanup = () => void
let cleanup: Cleanup | undefined

function route(): void {
  cleanup?.()
  cleanup = undefined
  const main = document.getElementById('main')!
  for (const key of Object.keys(main.dataset)) delete main.dataset[key]
  const hash = location.hash.replace(/^#\/?/, '')
  const parts = hash.split('/').map((part) => {
    try {
      return decodeURIComponent(part)
    } catch {
      return part
    }
  })
  if (parts[0] === 'connectors' && parts[1]) {
    cleanup = parts[2] === 'edit' ? renderForm(main, { edit: parts[1] }) : renderConnector(main, parts[1])
  } else if (parts[0] === 'topics') {
    cleanup = parts[1] ? renderTopic(main, parts[1]) : renderTopics(main)
  } else if (parts[0] === 'schemas') {
    cleanup = parts[1] ? renderSubject(main, parts[1]) : renderSchemas(main)
  } else if (parts[0] === 'new') {
    cleanup = renderForm(main, {})
  } else {
    cleanup = renderOverview(main)
  }
  const section = parts[0] === 'new' || parts[0] === 'topics' || parts[0] === 'schemas' ? parts[0] : ''
  for (const link of document.querySelectorAll<HTMLAnchorElement>('header nav a')) {
    if (link.getAttribute('href') === `#/${section}`) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
}

window.addEventListener('hashchange', () => {
  route()
  document.getElementById('main')?.focus({ preventScroll: true })
})
route()

api
  .server()
  .then(async (info) => {
    setText(document.getElementById('worker-version')!, `Sluice ${info.version}`)
    showMode(await api.cluster().catch(() => null))
    await showSchemasLink()
  })
  .catch(() => {
    // the page shows the API error itself
  })
