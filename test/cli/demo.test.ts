import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { eventually, request } from '../helpers/rest.ts'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')

describe('npm start (sluice demo)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('runs a pipeline on the embedded log that visibly moves data, serves REST and stops cleanly', async () => {
    const child = spawn(
      process.execPath,
      [MAIN, 'demo', '--data-dir', dir, '--port', '0', '--interval', '100'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    try {
      const base = await eventually(
        () => /REST API: (http:\/\/[^\s]+)/.exec(stdout)?.[1],
        15_000,
        'the REST banner',
      )
      await eventually(
        () => ((stdout.match(/^delivered: /gm)?.length ?? 0) >= 3 ? true : undefined),
        20_000,
        'delivered lines',
      )
      const connectors = await request<string[]>(base, 'GET', '/connectors')
      assert.deepEqual(connectors.body, ['demo-sink', 'demo-source'])
      const status = await request<{ connector: { state: string } }>(
        base,
        'GET',
        '/connectors/demo-sink/status',
      )
      assert.equal(status.body.connector.state, 'RUNNING')
      assert.match(stdout, /delivered: \{"n":1,/)
      // The web console, from a fresh checkout with no build step.
      const consoleUrl = /Web console: (http:\/\/\S+)/.exec(stdout)?.[1]
      assert.equal(consoleUrl, `${base}/ui/`)
      const page = await fetch(consoleUrl)
      assert.equal(page.status, 200)
      assert.match(await page.text(), /<script type="module" src="app\.js">/)
    } finally {
      child.kill('SIGTERM')
    }
    const code = await new Promise((r) => child.once('exit', r))
    assert.equal(code, 0)
  })
})
