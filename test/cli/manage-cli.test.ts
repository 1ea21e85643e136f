import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../helpers/rest.ts'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  await new Promise((done) => server.close(done))
  return port
}

describe('sluice connectors/plugins/status against a running worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-manage-'))
  let worker: ChildProcess
  let url: string

  before(async () => {
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    writeFileSync(
      join(dir, 'worker.properties'),
      `sluice.data.dir=${join(dir, 'data')}\nlisteners=${url}\nlog.level=warn\n`,
    )
    worker = spawn(process.execPath, [MAIN, 'standalone', join(dir, 'worker.properties')], {
      stdio: 'ignore',
    })
    await eventually(async () => ((await fetch(`${url}/health`)).ok ? true : undefined), 20_000, 'worker up')
    writeFileSync(join(dir, 'in.txt'), 'a\nb\n')
  })
  after(async () => {
    worker.kill('SIGTERM')
    await new Promise((done) => worker.once('exit', done))
    rmSync(dir, { recursive: true, force: true })
  })

  function sluice(args: string[], input?: string) {
    return spawnSync(process.execPath, [MAIN, ...args, '--url', url], {
      cwd: dir,
      encoding: 'utf8',
      input,
      timeout: 30_000,
    })
  }

  it('lists plugins as a table and as JSON', () => {
    const table = sluice(['plugins', 'list'])
    assert.equal(table.status, 0, table.stderr)
    assert.match(table.stdout, /^CLASS\s+TYPE\s+VERSION\n/)
    assert.match(table.stdout, /FileStreamSourceConnector\s+source/)
    const json = sluice(['plugins', 'list', '--json'])
    assert.ok((JSON.parse(json.stdout) as { class: string }[]).length >= 2)
  })

  it('creates from a JSON file and waits until RUNNING, then lists, gets and shows status', () => {
    writeFileSync(
      join(dir, 'src.json'),
      JSON.stringify({
        name: 'file-src',
        config: { 'connector.class': 'FileStreamSource', file: join(dir, 'in.txt'), topic: 'cli-t' },
      }),
    )
    const created = sluice(['connectors', 'create', join(dir, 'src.json'), '--wait'])
    assert.equal(created.status, 0, created.stderr)
    assert.match(created.stdout, /created file-src \(RUNNING\)/)
    assert.match(created.stderr, /file-src: connector RUNNING, tasks 0=RUNNING/)
    const list = sluice(['connectors', 'list'])
    assert.match(list.stdout, /file-src\s+source\s+RUNNING\s+1\/1/)
    const get = JSON.parse(sluice(['connectors', 'get', 'file-src', '--json']).stdout) as {
      config: Record<string, string>
    }
    assert.equal(get.config.topic, 'cli-t')
    const status = sluice(['status'])
    assert.match(status.stdout, /file-src\s+task 0\s+RUNNING/)
  })

  it('creates from a .properties file; a duplicate is exit 2', () => {
    writeFileSync(
      join(dir, 'p.properties'),
      `name=props-src\nconnector.class=FileStreamSource\nfile=${join(dir, 'in.txt')}\ntopic=cli-p\n`,
    )
    assert.equal(sluice(['connectors', 'create', join(dir, 'p.properties')]).status, 0)
    const dup = sluice(['connectors', 'create', join(dir, 'p.properties')])
    assert.equal(dup.status, 2)
    assert.match(dup.stderr, /Connector props-src already exists/)
  })

  it('refuses an invalid config before submitting it, naming the field (exit 2)', () => {
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ name: 'bad', config: { 'connector.class': 'FileStreamSource', 'tasks.max': '0' } }),
    )
    const bad = sluice(['connectors', 'create', join(dir, 'bad.json')])
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /✗ topic: /)
    assert.match(bad.stderr, /✗ tasks\.max: /)
    assert.equal(sluice(['connectors', 'get', 'bad']).status, 3)
  })

  it('pauses, resumes, restarts, stops, shows and resets offsets, deletes', () => {
    assert.equal(sluice(['connectors', 'pause', 'props-src']).status, 0)
    assert.equal(sluice(['connectors', 'resume', 'props-src']).status, 0)
    assert.equal(sluice(['connectors', 'restart', 'props-src', '--include-tasks']).status, 0)
    const running = sluice(['connectors', 'offsets', 'props-src', '--reset'])
    assert.equal(running.status, 2)
    assert.match(running.stderr, /must be in the STOPPED state/)
    assert.equal(sluice(['connectors', 'stop', 'props-src']).status, 0)
    const offsets = sluice(['connectors', 'offsets', 'props-src', '--json'])
    assert.equal(offsets.status, 0, offsets.stderr)
    assert.ok('offsets' in (JSON.parse(offsets.stdout) as object))
    const reset = sluice(['connectors', 'offsets', 'props-src', '--reset'])
    assert.equal(reset.status, 0, reset.stderr)
    assert.match(reset.stdout, /reset successfully/)
    assert.equal(sluice(['connectors', 'delete', 'props-src']).status, 0)
    assert.equal(sluice(['connectors', 'status', 'props-src']).status, 3)
  })

  it('runs the wizard from piped stdin: asks required keys, re-asks an invalid one inline', () => {
    // name, class by name (numbers shift as connectors are added), topic left empty (required: re-asked
    // after validation), extra key, done, then the topic.
    const input = [
      'wiz',
      'org.apache.kafka.connect.file.FileStreamSourceConnector',
      '',
      `file=${join(dir, 'in.txt')}`,
      '',
      'wiz-t',
      '',
    ].join('\n')
    const result = sluice(['connectors', 'create', '--wait'], input)
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stderr, /topic \(STRING, required\): The topic to publish data to\./)
    assert.match(result.stderr, /✗ /)
    const config = JSON.parse(sluice(['connectors', 'get', 'wiz', '--json']).stdout) as {
      config: Record<string, string>
    }
    assert.equal(config.config.topic, 'wiz-t')
    assert.equal(config.config['connector.class'], 'org.apache.kafka.connect.file.FileStreamSourceConnector')
  })

  it('exits 1 when the worker cannot be reached', () => {
    const result = spawnSync(process.execPath, [MAIN, 'connectors', 'list', '--url', 'http://127.0.0.1:1'], {
      encoding: 'utf8',
    })
    assert.equal(result.status, 1)
    assert.match(result.stderr, /cannot reach/)
  })
})
