/**
 * The console's whole "framework": `h()` builds elements (text is always set as text, never parsed
 * as HTML, so values from the API cannot inject markup), `replace()` swaps a container's children,
 * and a few helpers for live regions and dialogs.
 */

type Child = Node | string | number | null | undefined | false | Child[]
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue
      if (typeof value === 'function') element.addEventListener(key.slice(2).toLowerCase(), value)
      else if (key === 'value' && 'value' in element) (element as HTMLInputElement).value = String(value)
      else element.setAttribute(key, value === true ? '' : String(value))
    }
  }
  append(element, children)
  return element
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(parent, child)
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

export function replace(container: Element, ...children: Child[]): void {
  const fragment = document.createDocumentFragment()
  append(fragment, children)
  container.replaceChildren(fragment)
}

/** Sets text only when it changed (no needless reflow on every poll). */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text
}

/** A polite announcement for screen readers and a visible notice. */
export function notify(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const region = document.getElementById('notice')
  if (!region) return
  region.className = `notice ${kind}`
  region.textContent = message
  region.hidden = false
  const shown = message
  window.setTimeout(
    () => {
      if (region.textContent === shown) region.hidden = true
    },
    kind === 'error' ? 15_000 : 4_000,
  )
}

/**
 * A modal confirmation (`<dialog>`): resolves true when the named action is confirmed. The confirm
 * button is not focused first, so Enter alone does not destroy anything; Escape cancels.
 */
export function confirmAction(title: string, body: Child, action: string, danger = true): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' })
    const done = (answer: boolean) => {
      dialog.close()
      dialog.remove()
      resolve(answer)
    }
    const cancel = h('button', { type: 'button', onclick: () => done(false) }, 'Cancel')
    dialog.append(
      h('h2', { id: 'confirm-title' }, title),
      h('div', { class: 'confirm-body' }, body),
      h(
        'div',
        { class: 'actions' },
        cancel,
        h(
          'button',
          { type: 'button', class: danger ? 'danger' : 'primary', onclick: () => done(true) },
          action,
        ),
      ),
    )
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault()
      done(false)
    })
    document.body.append(dialog)
    dialog.showModal()
    cancel.focus()
  })
}

export function stateBadge(state: string): HTMLElement {
  return h('span', { class: `badge state-${state.toLowerCase()}`, 'data-state': state }, state)
}

/** Goes to a page of the console (a `#/…` fragment); re-renders when it is the current one. */
export function navigate(hash: string): void {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'))
  else location.hash = hash
}

export function connectorHash(name: string): string {
  return `#/connectors/${encodeURIComponent(name)}`
}

/**
 * Calls `tick` now and then every `ms` after each run ends, skipping while the tab is hidden. The
 * returned function stops it; its promise settles once a tick under way has ended, so a caller about
 * to delete what the ticks read can wait for the last one (no request of the page lands after it).
 */
export function poll(ms: number, tick: () => Promise<void>): () => Promise<void> {
  let stopped = false
  let timer: number | undefined
  let running: Promise<void> = Promise.resolve()
  const run = async () => {
    timer = undefined
    if (stopped) return
    if (!document.hidden) {
      running = tick().catch(() => undefined)
      await running
    }
    if (!stopped) timer = window.setTimeout(run, ms)
  }
  const visible = () => {
    if (!document.hidden && timer !== undefined) {
      window.clearTimeout(timer)
      void run()
    }
  }
  document.addEventListener('visibilitychange', visible)
  void run()
  return () => {
    stopped = true
    if (timer !== undefined) window.clearTimeout(timer)
    document.removeEventListener('visibilitychange', visible)
    return running
  }
}

/** An API error (or any error) as a visible alert block. */
export function errorBlock(error: unknown): HTMLElement {
  const title = (error as { title?: string }).title
  const detail = (error as { detail?: string }).detail
  if (title !== undefined) {
    return h(
      'div',
      { class: 'alert', role: 'alert' },
      h('strong', null, title),
      detail ? h('p', { class: 'detail' }, detail) : null,
    )
  }
  return h(
    'div',
    { class: 'alert', role: 'alert' },
    h('strong', null, error instanceof Error ? error.message : String(error)),
  )
}

/** The header's mode: standalone, or distributed with the group's generation (updated by the overview). */
export function showMode(cluster: { generation: number; leader: boolean } | null): void {
  const slot = document.getElementById('worker-mode')
  if (slot) setText(slot, cluster ? ` · distributed, generation ${cluster.generation}` : ' · standalone')
}
