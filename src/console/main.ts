/**
 * The Sluice web console (served by the worker under `/ui/`): routes on the URL fragment —
 * `#/` the overview, `#/connectors/<name>` a connector, `#/connectors/<name>/edit` and `#/new` the
 * config form. Each page renders into `<main>` and returns a function that stops its polling.
 */
import { api } from './api.ts'
import { renderConnector } from './connector.ts'
import { setText } from './dom.ts'
import { renderForm } from './form.ts'
import { renderOverview } from './overview.ts'

type Cleanup = () => void
let cleanup: Cleanup | undefined

function route(): void {
  cleanup?.()
  cleanup = undefined
  const main = document.getElementById('main')!
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
  } else if (parts[0] === 'new') {
    cleanup = renderForm(main, {})
  } else {
    cleanup = renderOverview(main)
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>('header nav a')) {
    const current =
      link.getAttribute('href') === `#/${parts[0] === 'new' ? 'new' : ''}` && parts[0] !== 'connectors'
    if (current) link.setAttribute('aria-current', 'page')
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
    const cluster = await api.cluster().catch(() => null)
    const mode = cluster ? `distributed, generation ${cluster.generation}` : 'standalone'
    setText(document.getElementById('worker-info')!, `Sluice ${info.version} · ${mode}`)
  })
  .catch(() => {
    // the page shows the API error itself
  })
