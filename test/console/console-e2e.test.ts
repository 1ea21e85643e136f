/**
 * The web console end to end, in headless Chromium against a real worker: create a FileStream
 * source through the form (validation errors shown at their fields, then fixed), watch it reach
 * RUNNING, pause and resume it, stop it and reset its offsets, delete it; the same console over TLS
 * with basic auth; phone width and keyboard use. Screenshots of each page go to
 * test-artifacts/console/ (git-ignored).
 */
// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's locator.innerText(), not the DOM's
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, screenshot } from '../helpers/browser.ts'
import { dropReplicationSlot, freshPostgresDatabase, type TestDatabase } from '../helpers/databases.ts'
import { eventually } from '../helpers/rest.ts'
import { chromiumSkipReason, postgresSkipReason } from '../helpers/services.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

const SOURCE = 'org.apache.kafka.connect.file.FileStreamSourceConnector'

async function api(w: TestWorker, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${w.base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text === '' ? undefined : JSON.parse(text)
}

/**
 * Script errors and failed requests of the page, which must stay empty. (Chromium also logs each
 * failed request as a console error without its URL; those are checked through the responses.)
 */
function watchErrors(page: Page): string[] {
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      problems.push(`console error: ${message.text()}`)
  })
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname
    // A standalone worker has no cluster view, a worker without a registry no schemas: asked once.
    if (response.status() === 404 && (path === '/sluice/cluster' || path === '/sluice/schemas')) return
    if (response.status() >= 400)
      problems.push(`${response.request().method()} ${path}: ${response.status()}`)
  })
  return problems
}

describe('web console in Chromium', { skip: chromiumSkipReason() }, () => {
  let w: TestWorker
  let browser: Browser
  let input: string

  before(async () => {
    w = await startTestWorker({
      'config.providers': 'file',
      'config.providers.file.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
    })
    input = join(w.dir, 'input.txt')
    writeFileSync(join(w.dir, 'secrets.properties'), 'pw=resolved-secret\n')
    writeFileSync(input, Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\n')
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await w?.close()
  })

  it('creates a FileStream source through the form, then pauses, resumes, stops, resets offsets and deletes it', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const problems = watchErrors(page)
    await page.goto(`${w.base}/ui`)
    assert.equal(new URL(page.url()).pathname, '/ui/')
    await page.locator('main[data-ready="overview"]').waitFor()
    assert.equal(await page.locator('.empty').isVisible(), true)
    await screenshot(page, '01-overview-empty')

    // The form: the plugin's fields, grouped, with their documentation and defaults.
    await page.click('#new-connector')
    await page.selectOption('#plugin', SOURCE)
    await page.locator('#field-topic').waitFor()
    const batch = page.locator('[data-key="batch.size"]')
    assert.match(await batch.locator('.doc').innerText(), /maximum number of records.*Default: 2000/s)
    assert.equal(
      (await page.locator('#field-batch\\.size').count()) + (await page.locator('#field-batch_size').count()),
      1,
    )
    assert.ok(
      await page.locator('details.group[data-group="Common"]').count(),
      'the framework keys are offered',
    )
    await page.fill('#connector-name', 'e2e-file')
    await page.fill('#field-file', input)

    // Live validation: a bad value shows its error at its field before any submit.
    await page.fill('#field-batch_size', '0')
    const batchError = batch.locator('.field-errors li')
    await batchError.waitFor()
    assert.match(await batchError.innerText(), /batch\.size/)
    assert.equal(await page.getAttribute('#field-batch_size', 'aria-invalid'), 'true')
    // Submitting with a required key missing shows that error at the field and creates nothing.
    await page.click('#submit')
    const topicError = page.locator('[data-key="topic"] .field-errors li')
    await topicError.waitFor()
    assert.match(await topicError.innerText(), /topic/)
    assert.match(await page.locator('#validation-summary').innerText(), /2 problems/)
    await screenshot(page, '02-form-errors')
    assert.deepEqual(await api(w, 'GET', '/connectors'), [])

    // Fixed: the errors go away and the connector is created.
    await page.fill('#field-batch_size', '10')
    await page.fill('#field-topic', 'e2e-lines')
    await page.locator('#validation-summary', { hasText: 'No problems found.' }).waitFor()
    assert.equal(await batchError.count(), 0)
    await page.click('#submit')

    // Its page: RUNNING, with its task and config.
    await page.waitForURL(/#\/connectors\/e2e-file$/)
    await page.locator('main[data-state="RUNNING"]').waitFor({ timeout: 20_000 })
    await page.locator('tr[data-task="0"] [data-state="RUNNING"]').waitFor({ timeout: 20_000 })
    assert.match(await page.locator('table.config').innerText(), /batch\.size\s+10/)

    // Records/s move while lines keep arriving (the task counters of GET /sluice/metrics, sampled per poll).
    let next = 50
    const feeder = setInterval(() => {
      appendFileSync(input, Array.from({ length: 40 }, () => `line ${next++}`).join('\n') + '\n')
    }, 200)
    try {
      const written = page.locator('[data-rate="written"]')
      const line = page.locator('svg.chart polyline.series-1')
      const drawn = async () => ((await line.getAttribute('points')) ?? '').split(' ').filter(Boolean).length
      for (let i = 0; i < 60; i++) {
        const shown = (await written.textContent()) ?? ''
        if (shown !== '—' && Number.parseFloat(shown) > 0 && (await drawn()) >= 2) break
        await page.waitForTimeout(250)
      }
      assert.ok(Number.parseFloat((await written.textContent()) ?? '') > 0, 'a positive written rate')
      assert.ok((await drawn()) >= 2, 'a line of at least two points')
    } finally {
      clearInterval(feeder)
    }
    // Caught up with the file before going on (the offsets checked below are its length).
    await eventually(
      async () => {
        const { offsets } = (await api(w, 'GET', '/connectors/e2e-file/offsets')) as {
          offsets: { offset: { position: number } }[]
        }
        return offsets[0]?.offset.position === readFileSync(input).length ? true : undefined
      },
      30_000,
      'the source to read the whole file',
    )
    await screenshot(page, '03-connector-running')

    // Pause and resume.
    await page.click('#action-pause')
    await page.locator('main[data-state="PAUSED"]').waitFor({ timeout: 20_000 })
    assert.equal(await page.locator('#action-resume').isVisible(), true)
    assert.equal(await page.locator('#action-pause').isVisible(), false)
    await page.click('#action-resume')
    await page.locator('main[data-state="RUNNING"]').waitFor({ timeout: 20_000 })

    // Offsets can be changed only while stopped.
    assert.equal(await page.isDisabled('#offsets-reset'), true)
    await page.click('#action-stop')
    await page.locator('dialog.confirm').waitFor()
    await page.click('dialog.confirm button.primary')
    await page.locator('main[data-state="STOPPED"]').waitFor({ timeout: 20_000 })
    // The source read the whole file: its offset is the file's length.
    const expected = readFileSync(input).length
    await page.locator('table.offsets', { hasText: `"position":${expected}` }).waitFor({ timeout: 20_000 })
    assert.match(await page.locator('table.offsets').innerText(), /"filename"/)
    await screenshot(page, '04-connector-stopped-offsets')
    assert.equal(await page.isDisabled('#offsets-reset'), false)

    // Cancel first: nothing changes.
    await page.click('#offsets-reset')
    await page.click('dialog.confirm button:not(.danger)')
    const kept = (await api(w, 'GET', '/connectors/e2e-file/offsets')) as { offsets: unknown[] }
    assert.equal(kept.offsets.length, 1)
    await page.click('#offsets-reset')
    await page.click('dialog.confirm button.danger')
    await page.locator('main[data-offsets="0"]').waitFor({ timeout: 20_000 })
    assert.deepEqual(await api(w, 'GET', '/connectors/e2e-file/offsets'), { offsets: [] })

    // Delete, confirmed: back to the overview, gone. A status request is held in the browser while
    // the delete is confirmed: answered after the delete it would be a 404 (the page waits for it).
    await page.route('**/connectors/e2e-file/status', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      await route.continue()
    })
    await page.click('#action-delete')
    await page.waitForRequest((request) => new URL(request.url()).pathname === '/connectors/e2e-file/status')
    const held = page.waitForResponse(
      (response) => new URL(response.url()).pathname === '/connectors/e2e-file/status',
    )
    await page.click('dialog.confirm button.danger')
    await page.waitForURL(/#\/$/)
    await page.locator('.empty:not([hidden])').waitFor()
    await held
    assert.deepEqual(await api(w, 'GET', '/connectors'), [])
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('shows the API’s error in plain words when an action is refused', async () => {
    await api(w, 'POST', '/connectors', {
      name: 'refused',
      config: {
        'connector.class': SOURCE,
        file: input,
        topic: 'refused',
        'db.password': 'hunter2',
        'x.ref': `\${file:${join(w.dir, 'secrets.properties')}:pw}`,
      },
    })
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${w.base}/ui/#/connectors/refused`)
    await page.locator('main[data-state="RUNNING"]').waitFor({ timeout: 20_000 })
    // Secrets are masked, references shown as written.
    const config = await page.locator('table.config').innerText()
    assert.doesNotMatch(config, /hunter2/)
    assert.match(config, /db\.password\s+•+/)
    assert.match(config, /\$\{file:\/\S+\/secrets\.properties:pw\}\s*reference/)
    assert.doesNotMatch(
      await page.content(),
      /resolved-secret/,
      'the worker resolves references; the page never sees the value',
    )
    // Offsets of a running connector cannot be reset: the button is off, and the API's refusal is shown.
    assert.equal(await page.isDisabled('#offsets-reset'), true)
    // (Page code is passed as text: the tests are compiled without the DOM's types.)
    await page.evaluate(`{
      const button = document.querySelector('#offsets-reset')
      button.disabled = false
      button.click()
    }`)
    await page.click('dialog.confirm button.danger')
    const alert = page.locator('.alert', { hasText: 'stopped' })
    await alert.waitFor()
    assert.match(await alert.innerText(), /refused the request|busy/)
    await screenshot(page, '05-api-error')
    await page.close()
    await api(w, 'DELETE', '/connectors/refused')
  })

  it('shows a failed task’s trace, and fixes the connector by editing its config in the form', async () => {
    // A sink whose file is a directory: its task fails at start.
    await api(w, 'POST', '/connectors', {
      name: 'broken-sink',
      config: { 'connector.class': 'FileStreamSink', file: w.dir, topics: 'e2e-lines' },
    })
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const problems = watchErrors(page)
    await page.goto(`${w.base}/ui/#/connectors/broken-sink`)
    const task = page.locator('tr[data-task="0"]')
    await task.locator('[data-state="FAILED"]').waitFor({ timeout: 20_000 })
    const trace = task.locator('details.trace')
    await trace.locator('summary').click()
    assert.match(await trace.locator('pre').innerText(), /EISDIR|directory/i)
    // An open trace stays open across refreshes (every 2 s).
    await page.waitForTimeout(2500)
    assert.equal(await trace.getAttribute('open'), '')
    assert.equal(await page.isDisabled('#action-restart-failed'), false)
    await screenshot(page, '07-failed-task-trace')

    // Edit: the form holds the current config; the name cannot change.
    await page.click('#action-edit')
    await page.waitForURL(/#\/connectors\/broken-sink\/edit$/)
    await page.locator('#field-file').waitFor()
    assert.equal(await page.inputValue('#field-file'), w.dir)
    assert.equal(await page.getAttribute('#connector-name', 'readonly'), '')
    const output = join(w.dir, 'output.txt')
    await page.fill('#field-file', output)
    await page.locator('#validation-summary', { hasText: 'No problems found.' }).waitFor()
    await screenshot(page, '08-edit-form')
    await page.click('#submit')
    await page.waitForURL(/#\/connectors\/broken-sink$/)
    await page.locator('tr[data-task="0"] [data-state="RUNNING"]').waitFor({ timeout: 20_000 })
    const saved = (await api(w, 'GET', '/connectors/broken-sink/config')) as Record<string, string>
    assert.equal(saved.file, output)
    assert.equal(saved.topics, 'e2e-lines')
    assert.deepEqual(problems, [])
    await page.close()
    await api(w, 'DELETE', '/connectors/broken-sink')
  })

  it('creates a connector from pasted .properties, and shows the API’s refusal of a duplicate name', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${w.base}/ui/#/new`)
    await page.selectOption('#plugin', SOURCE)
    await page.locator('#field-topic').waitFor()
    await page.click('#paste summary')
    await page.fill(
      '#paste-config',
      [
        '# pasted',
        'name=pasted-source',
        `connector.class=${SOURCE}`,
        `file=${input}`,
        'topic=pasted',
        'tasks.max=1',
      ].join('\n'),
    )
    await page.click('#paste-apply')
    assert.equal(await page.inputValue('#connector-name'), 'pasted-source')
    assert.equal(await page.inputValue('#field-topic'), 'pasted')
    assert.equal(await page.inputValue('#field-tasks_max'), '1')
    // A framework key that was set opens its folded group.
    assert.equal(await page.locator('details.group[data-group="Common"]').getAttribute('open'), '')
    await page.locator('#validation-summary', { hasText: 'No problems found.' }).waitFor()
    await page.click('#submit')
    await page.locator('main[data-state="RUNNING"]').waitFor({ timeout: 20_000 })

    // The same name again: validation passes, the create is refused with Connect's 409 message.
    await page.goto(`${w.base}/ui/#/new`)
    await page.selectOption('#plugin', SOURCE)
    await page.locator('#field-topic').waitFor()
    await page.fill('#connector-name', 'pasted-source')
    await page.fill('#field-topic', 'again')
    await page.click('#submit')
    const alert = page.locator('.alert[role="alert"]')
    await alert.waitFor()
    assert.match(await alert.innerText(), /already exists/)
    await screenshot(page, '09-create-refused')
    await page.close()
    await api(w, 'DELETE', '/connectors/pasted-source')
  })

  it('opens a dead letter from the connector page, with why it failed', async () => {
    const lines = join(w.dir, 'mixed.txt')
    writeFileSync(lines, '{"n":1}\npoison 2 {\n{"n":3}\n')
    await api(w, 'POST', '/connectors', {
      name: 'mixed-source',
      config: {
        'connector.class': SOURCE,
        file: lines,
        topic: 'mixed',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
    })
    await api(w, 'POST', '/connectors', {
      name: 'json-sink',
      config: {
        'connector.class': 'FileStreamSink',
        file: join(w.dir, 'json-out.txt'),
        topics: 'mixed',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': 'mixed-dlq',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    })
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const problems = watchErrors(page)
    await page.goto(`${w.base}/ui/#/connectors/json-sink`)
    // A sink's offsets show its consumer lag per partition: none once it has read everything.
    await page.locator('table.offsets td.col-lag[data-lag="0"]').waitFor({ timeout: 30_000 })
    assert.match(
      (await page.locator('table.offsets tbody tr').first().textContent()) ?? '',
      /"kafka_topic":"mixed"/,
    )
    await page.click('#dead-letters')
    await page.waitForURL(/#\/topics\/mixed-dlq$/)
    const letter = page.locator('article.record .dead-letter')
    for (let i = 0; i < 40 && (await letter.count()) === 0; i++) {
      await page.waitForTimeout(250)
      await page.click('#records-reload')
      await page.locator('main[data-ready="topic"]').waitFor()
    }
    const text = await letter.first().innerText()
    assert.match(text, /Dead letter: /)
    assert.match(text, /Stage\s+VALUE_CONVERTER/)
    assert.match(text, /Connector\s+json-sink/)
    assert.match(text, /From\s+mixed partition 0 offset 1/)
    assert.match(await page.locator('article.record .payload').first().innerText(), /poison 2 \{/)
    await screenshot(page, '10-dead-letter')
    // The topic list shows both topics with their record counts.
    await page.click('header nav a[href="#/topics"]')
    await page.locator('main[data-ready="topics"]').waitFor()
    assert.match(await page.locator('tr[data-topic="mixed"]').innerText(), /mixed\s+1\s+3/)
    assert.match(await page.locator('tr[data-topic="mixed-dlq"]').innerText(), /mixed-dlq\s+1\s+1/)
    assert.deepEqual(problems, [])
    await page.close()
    await api(w, 'DELETE', '/connectors/json-sink')
    await api(w, 'DELETE', '/connectors/mixed-source')
  })

  it('is usable from the keyboard and at phone width', async () => {
    await api(w, 'POST', '/connectors', {
      name: 'a-connector-with-a-rather-long-name-to-wrap',
      config: { 'connector.class': SOURCE, file: input, topic: 'narrow' },
    })
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true })
    await page.goto(`${w.base}/ui/`)
    const row = page.locator('tr[data-connector="a-connector-with-a-rather-long-name-to-wrap"]')
    await row.locator('[data-state="RUNNING"]').waitFor({ timeout: 20_000 })
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
    assert.ok(overflow <= 0, `the overview is ${overflow}px wider than a phone`)
    await screenshot(page, '06-overview-phone')
    // Rows keep their place and size across refreshes (no layout shift).
    const box = await row.boundingBox()
    await page.waitForTimeout(2500)
    assert.deepEqual(await row.boundingBox(), box)

    // Keyboard: Tab reaches "New connector", Enter opens the form with the plugin list focused.
    const desk = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await desk.goto(`${w.base}/ui/`)
    await desk.locator('main[data-ready="overview"]').waitFor()
    let focused = ''
    for (let i = 0; i < 12 && focused !== 'new-connector'; i++) {
      await desk.keyboard.press('Tab')
      focused = await desk.evaluate<string>("document.activeElement?.id ?? ''")
    }
    assert.equal(focused, 'new-connector')
    await desk.keyboard.press('Enter')
    await desk.waitForURL(/#\/new$/)
    await desk.locator('#plugin:focus').waitFor()
    await desk.close()
    await page.close()
    await api(w, 'DELETE', '/connectors/a-connector-with-a-rather-long-name-to-wrap')
  })
})

describe('web console when the worker goes away', { skip: chromiumSkipReason() }, () => {
  it('says it cannot reach the worker instead of showing an empty cluster', async () => {
    const browser = await launchBrowser()
    const w = await startTestWorker()
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
      await page.goto(`${w.base}/ui/`)
      await page.locator('main[data-ready="overview"]').waitFor()
      await w.close()
      const alert = page.locator('.alert[role="alert"]', { hasText: 'Cannot reach the worker' })
      await alert.waitFor({ timeout: 10_000 })
      assert.match((await alert.textContent()) ?? '', /is it running and is the network up\?/)
      assert.equal(
        await page.locator('.empty').isVisible(),
        false,
        'no "no connectors" claim while the API is away',
      )
      await screenshot(page, '12-worker-away')
    } finally {
      await browser.close()
    }
  })
})

describe('web console over TLS with basic auth', { skip: chromiumSkipReason() }, () => {
  it('lists connectors with the credentials the browser was given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-console-tls-'))
    selfSignedCertificate(dir)
    writeFileSync(join(dir, 'credentials.properties'), 'admin=s3cret\n')
    const w = await startTestWorker(
      {
        'listeners.https.ssl.keystore.location': join(dir, 'server.pem'),
        'rest.basic.auth.credentials.file': join(dir, 'credentials.properties'),
      },
      'https',
    )
    const browser = await launchBrowser().catch(async (caught: unknown) => {
      await w.close()
      throw caught
    })
    try {
      // Wrong credentials: the worker answers 401 and the page is not served.
      const wrong = await browser.newContext({
        ignoreHTTPSErrors: true,
        httpCredentials: { username: 'admin', password: 'nope' },
      })
      const refused = await (await wrong.newPage()).goto(`${w.base}/ui/`)
      assert.equal(refused?.status(), 401)
      // Sluice's own endpoints the console reads are behind the same basic auth.
      for (const path of ['/sluice/metrics', '/sluice/internal/metrics', '/sluice/schemas']) {
        assert.equal((await wrong.request.get(`${w.base}${path}`)).status(), 401, path)
      }
      await wrong.close()
      const context = await browser.newContext({
        ignoreHTTPSErrors: true,
        httpCredentials: { username: 'admin', password: 's3cret' },
      })
      const created = await context.request.post(`${w.base}/connectors`, {
        data: {
          name: 'over-tls',
          config: { 'connector.class': SOURCE, file: join(dir, 'none.txt'), topic: 't' },
        },
      })
      assert.equal(created.status(), 201)
      const page = await context.newPage()
      await page.goto(`${w.base}/ui/`)
      await page.locator('main[data-ready="overview"]').waitFor()
      await page.locator('tr[data-connector="over-tls"]').waitFor()
      assert.equal(await page.locator('.alert').count(), 0)
      assert.match(await page.locator('#worker-info').innerText(), /standalone/)
    } finally {
      await browser.close()
      await w.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('web console with the worker’s schema registry', { skip: chromiumSkipReason() }, () => {
  let w: TestWorker
  let browser: Browser
  let registry: string

  const register = async (subject: string, body: Record<string, unknown>) => {
    const res = await fetch(`${registry}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify(body),
    })
    const answer = (await res.json()) as { id: number }
    assert.equal(res.status, 200, JSON.stringify(answer))
    return answer.id
  }

  before(async () => {
    w = await startTestWorker({ 'schema.registry.listeners': 'http://127.0.0.1:0' })
    registry = `http://127.0.0.1:${w.worker.services.registryServer!.port}`
    const runner = { type: 'record', name: 'Runner', namespace: 'tote', fields: [{ name: 'n', type: 'int' }] }
    await register('runner', { schema: JSON.stringify(runner) })
    await register('runner', {
      schema: JSON.stringify({
        ...runner,
        fields: [...runner.fields, { name: 'nick', type: 'string', default: '' }],
      }),
    })
    await register('race', {
      schema: JSON.stringify({
        type: 'record',
        name: 'Race',
        namespace: 'tote',
        fields: [{ name: 'winner', type: 'tote.Runner' }],
      }),
      references: [{ name: 'tote.Runner', subject: 'runner', version: 1 }],
    })
    await register('orders-value', {
      schemaType: 'JSON',
      schema: JSON.stringify({ type: 'object', properties: { id: { type: 'integer' } } }),
    })
    const res = await fetch(`${registry}/config/race`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'FULL' }),
    })
    assert.equal(res.status, 200)
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await w?.close()
  })

  it('lists subjects with versions, compatibility and mode, and shows each version’s schema and references', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const problems = watchErrors(page)
    await page.goto(`${w.base}/ui/`)
    await page.locator('#nav-schemas:not([hidden])').waitFor()
    await page.click('#nav-schemas')
    await page.locator('main[data-loaded="schemas"]').waitFor()
    const row = (subject: string) => page.locator(`tr[data-subject="${subject}"]`)
    assert.equal(await page.locator('table.subjects tbody tr').count(), 3)
    assert.equal(await row('runner').locator('[data-versions]').getAttribute('data-versions'), '1,2')
    assert.match(await row('race').innerText(), /AVRO\s+1\s+FULL \(subject\)\s+READWRITE/)
    assert.match(await row('orders-value').innerText(), /JSON\s+1\s+BACKWARD\s+READWRITE/)
    await screenshot(page, '21-schemas')

    // A subject: its schema pretty-printed, its reference a link to the referenced subject.
    await row('race').locator('a').click()
    await page.waitForURL(/#\/schemas\/race$/)
    await page.locator('main[data-loaded="subject"]').waitFor()
    const schema = await page.locator('section[data-version="1"] pre.schema').innerText()
    assert.match(schema, /\n {2}"name": "Race",\n/)
    assert.equal(await page.locator('[data-schema-type]').innerText(), 'AVRO')
    await screenshot(page, '22-schema-subject')
    await page.locator('.references a', { hasText: 'runner v1' }).click()
    await page.waitForURL(/#\/schemas\/runner$/)
    await page.locator('main[data-loaded="subject"]').waitFor()
    // Newest version first; version 1 is referenced by race's schema.
    assert.deepEqual(
      await page
        .locator('section[data-version]')
        .evaluateAll((e) => e.map((x) => x.getAttribute('data-version'))),
      ['2', '1'],
    )
    assert.match(await page.locator('section[data-version="1"]').innerText(), /Referenced by schema id \d+/)
    assert.deepEqual(problems, [])

    // Read-only: the worker's endpoints take no writes.
    const write = await fetch(`${w.base}/sluice/schemas/subjects/race`, { method: 'DELETE' })
    assert.equal(write.status, 405)
    await page.close()
  })

  it('hides the Schemas link on a worker that runs no registry', async () => {
    const plain = await startTestWorker()
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/sluice/schemas')
      await page.goto(`${plain.base}/ui/`)
      assert.equal((await answered).status(), 404)
      await page.locator('main[data-ready="overview"]').waitFor()
      assert.equal(await page.locator('#nav-schemas').isHidden(), true)
      await page.close()
    } finally {
      await plain.close()
    }
  })
})

describe('web console with a PostgreSQL CDC connector', {
  skip: chromiumSkipReason() || postgresSkipReason(),
}, () => {
  let w: TestWorker
  let browser: Browser
  let db: TestDatabase
  const suffix = Math.random().toString(36).slice(2, 8)
  const slot = `console_${suffix}`
  const server = `console-${suffix}`

  before(async () => {
    db = await freshPostgresDatabase('console_cdc')
    await db.sql(
      'CREATE TABLE t (id int PRIMARY KEY, v text)',
      `INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g`,
      'CREATE TABLE u (id int PRIMARY KEY)',
      'INSERT INTO u SELECT g FROM generate_series(1, 30) g',
      'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)',
      'ANALYZE t',
      'ANALYZE u',
    )
    w = await startTestWorker()
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await w?.close()
    if (db) {
      await dropReplicationSlot(db.url, slot)
      await db.drop()
    }
  })

  it('shows the initial snapshot’s tables and rows against the estimate, streaming lag, then signalled incremental and blocking snapshots', async () => {
    const url = new URL(db.url)
    await api(w, 'POST', '/connectors', {
      name: 'cdc',
      config: {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        'database.hostname': url.hostname,
        'database.port': url.port,
        'database.user': 'postgres',
        'database.dbname': db.name,
        'topic.prefix': server,
        'plugin.name': 'pgoutput',
        'slot.name': slot,
        'publication.name': `pub_${suffix}`,
        'snapshot.mode': 'initial',
        'table.include.list': 'public.t,public.u,public.debezium_signal',
        'signal.data.collection': 'public.debezium_signal',
        'snapshot.fetch.size': '100',
      },
    })
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const problems = watchErrors(page)
    await page.goto(`${w.base}/ui/#/connectors/cdc`)
    const section = page.locator('#snapshot')
    await page.locator('#snapshot[data-snapshot-state="completed"]').waitFor({ timeout: 30_000 })
    assert.equal(await section.getAttribute('data-tables-done'), '3')
    assert.equal(await section.getAttribute('data-tables-total'), '3')
    assert.match(
      await section.locator('.snapshot-summary').innerText(),
      /^Initial snapshot completed · 3 of 3 tables done/,
    )
    const t = section.locator('tr[data-table="public.t"]')
    assert.equal(await t.locator('[data-rows]').getAttribute('data-rows'), '500')
    assert.match(await t.innerText(), /500\s+~500/)
    assert.equal(
      await section.locator('tr[data-table="public.u"] [data-rows]').getAttribute('data-rows'),
      '30',
    )

    // Streaming: a change is seen, with how far behind the source it was.
    await db.sql("INSERT INTO t VALUES (501, 'streamed')")
    await page
      .locator('#snapshot[data-streaming-lag]:not([data-streaming-lag="-1"])')
      .waitFor({ timeout: 30_000 })
    assert.match(
      await section.locator('.streaming-summary').innerText(),
      /Streaming: connected · .* behind the source/,
    )
    await screenshot(page, '31-cdc-snapshot')

    // The same figures on GET /metrics, named as the JMX exporter names Debezium's MBeans.
    const metrics = await (await fetch(`${w.base}/metrics`)).text()
    assert.match(
      metrics,
      new RegExp(
        `^debezium_postgres_connector_metrics_TotalTableCount\\{context="snapshot",server="${server}"\\} 3$`,
        'm',
      ),
    )
    assert.match(
      metrics,
      new RegExp(
        `^debezium_postgres_connector_metrics_RowsScanned\\{context="snapshot",server="${server}",key="public.t"\\} 500$`,
        'm',
      ),
    )
    assert.match(
      metrics,
      /^debezium_postgres_connector_metrics_Connected\{context="streaming",server="[^"]+"\} 1$/m,
    )

    // An incremental snapshot of t, signalled through the signal table.
    await db.sql(
      `INSERT INTO debezium_signal VALUES ('i1', 'execute-snapshot', '{"type": "incremental", "data-collections": ["public.t"]}')`,
    )
    await section
      .locator('.snapshot-summary', {
        hasText: /^Incremental snapshot \(signalled\) completed · 1 of 1 tables done/,
      })
      .waitFor({ timeout: 60_000 })
    assert.equal(await t.locator('[data-rows]').getAttribute('data-rows'), '501')
    await screenshot(page, '32-cdc-incremental')

    // A blocking snapshot of u: streaming pauses while it reads, and its figures replace the last ones.
    await db.sql(
      `INSERT INTO debezium_signal VALUES ('b1', 'execute-snapshot', '{"type": "blocking", "data-collections": ["public.u"]}')`,
    )
    await section
      .locator('.snapshot-summary', {
        hasText: /^Blocking snapshot \(signalled\) completed · 1 of 1 tables done/,
      })
      .waitFor({ timeout: 60_000 })
    assert.equal(
      await section.locator('tr[data-table="public.u"] [data-rows]').getAttribute('data-rows'),
      '30',
    )
    assert.equal(await t.count(), 0, 'only the blocking snapshot’s table is listed')
    assert.deepEqual(problems, [])
    await page.close()
    await api(w, 'DELETE', '/connectors/cdc')
  })
})
