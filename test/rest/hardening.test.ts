/**
 * Hardening of the REST surface against a real standalone worker: names of any length, every
 * error in Connect's `{"error_code","message"}` shape, KIP-891 versions in status bodies, Java
 * regexes for `topics.regex`, private state files, and FileStream connectors kept out of the
 * worker's own data dir.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from './worker.ts'

type Status = {
  connector: { state: string; version?: string }
  tasks: { id: number; state: string; version?: string }[]
}

/** A raw HTTP/1.1 exchange, for methods `fetch` will not send. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text))
    let out = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      out += chunk
    })
    socket.on('end', () => resolve(out))
    socket.on('close', () => resolve(out))
    socket.on('error', (error) => (out ? resolve(out) : reject(error)))
  })
}

function parseRaw(response: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1])
  const body = response.slice(response.indexOf('\r\n\r\n') + 4)
  return { status, body: JSON.parse(body) }
}

describe('REST hardening on a standalone worker', () => {
  let w: TestWorker
  let input: string

  before(async () => {
    w = await startTestWorker()
    input = join(w.dir, 'in.txt')
    writeFileSync(input, 'one\ntwo\n')
  })
  after(() => w.close())

  const source = (topic: string) => ({ 'connector.class': 'FileStreamSource', file: input, topic })

  it('a connector named with more than 100 characters can be read, changed, paused and deleted', async () => {
    const name = `long-${'n'.repeat(200)}`
    const created = await request(w.base, 'POST', '/connectors', { name, config: source('long-t') })
    assert.equal(created.status, 201)
    assert.equal((await request(w.base, 'GET', `/connectors/${name}`)).status, 200)
    const status = await eventually(async () => {
      const s = await request<Status>(w.base, 'GET', `/connectors/${name}/status`)
      return s.status === 200 && s.body.tasks[0]?.state === 'RUNNING' ? s.body : undefined
    })
    assert.equal(status.connector.state, 'RUNNING')
    assert.equal((await request(w.base, 'PUT', `/connectors/${name}/config`, source('long-t2'))).status, 200)
    assert.equal((await request(w.base, 'PUT', `/connectors/${name}/pause`)).status, 202)
    assert.equal((await request(w.base, 'DELETE', `/connectors/${name}`)).status, 204)
    assert.equal((await request(w.base, 'GET', `/connectors/${name}`)).status, 404)
  })

  it('status bodies carry the connector and task versions (KIP-891)', async () => {
    await request(w.base, 'POST', '/connectors', { name: 'versioned', config: source('versioned-t') })
    const status = await eventually(async () => {
      const s = await request<Status>(w.base, 'GET', '/connectors/versioned/status')
      return s.status === 200 && s.body.tasks.length === 1 ? s.body : undefined
    })
    const version = (
      await request<{ class: string; version: string }[]>(w.base, 'GET', '/connector-plugins')
    ).body.find((p) => p.class.endsWith('FileStreamSourceConnector'))?.version
    assert.ok(version)
    assert.equal(status.connector.version, version)
    assert.equal(status.tasks[0].version, version)
    const task = await request<{ version?: string }>(w.base, 'GET', '/connectors/versioned/tasks/0/status')
    assert.equal(task.body.version, version)
    const expanded = await request<Record<string, { status: Status }>>(
      w.base,
      'GET',
      '/connectors?expand=status',
    )
    assert.equal(expanded.body.versioned.status.connector.version, version)
    assert.equal(expanded.body.versioned.status.tasks[0].version, version)
  })

  it('an unknown method is 405 on a known path and 404 elsewhere, in Connect’s error shape', async () => {
    const known = parseRaw(
      await rawRequest(w.worker.rest.port, 'FOO /connectors HTTP/1.1\r\nHost: x\r\n\r\n'),
    )
    assert.deepEqual(known, {
      status: 405,
      body: { error_code: 405, message: 'HTTP 405 Method Not Allowed' },
    })
    const unknown = parseRaw(await rawRequest(w.worker.rest.port, 'FOO /nowhere HTTP/1.1\r\nHost: x\r\n\r\n'))
    assert.deepEqual(unknown, { status: 404, body: { error_code: 404, message: 'HTTP 404 Not Found' } })
    const garbage = parseRaw(
      await rawRequest(w.worker.rest.port, 'GET /connectors HTTP/1.1\r\nBad Header\r\n\r\n'),
    )
    assert.deepEqual(garbage, { status: 400, body: { error_code: 400, message: 'HTTP 400 Bad Request' } })
    const badUrl = parseRaw(
      await rawRequest(w.worker.rest.port, 'GET /connectors/%zz HTTP/1.1\r\nHost: x\r\n\r\n'),
    )
    assert.equal(badUrl.status, 400)
    assert.equal((badUrl.body as { error_code: number }).error_code, 400)
    const tooLarge = await request(w.base, 'POST', '/connectors', `{"x":"${'y'.repeat(11 * 1024 * 1024)}"}`)
    assert.deepEqual(tooLarge.body, { error_code: 413, message: 'HTTP 413 Request Entity Too Large' })
  })

  it('topics.regex is a Java regex: (?i) and \\Q…\\E are accepted; what cannot be translated is a 400 naming the key', async () => {
    const validate = await request<{ configs: { value: { name: string; errors: string[] } }[] }>(
      w.base,
      'PUT',
      '/connector-plugins/FileStreamSink/config/validate',
      {
        'connector.class': 'FileStreamSink',
        name: 'v',
        'topics.regex': '(?i)orders\\Q.v1\\E.*',
        file: join(w.dir, 'o.txt'),
      },
    )
    const regex = validate.body.configs.find((c) => c.value.name === 'topics.regex')
    assert.deepEqual(regex?.value.errors, [])
    const bad = await request<{ error_code: number; message: string }>(w.base, 'POST', '/connectors', {
      name: 'possessive',
      config: {
        'connector.class': 'FileStreamSink',
        'topics.regex': 'orders.*+',
        file: join(w.dir, 'o.txt'),
      },
    })
    assert.equal(bad.status, 400)
    assert.match(bad.body.message, /topics\.regex/)
    assert.match(bad.body.message, /possessive/)
  })

  it('a FileStream connector may not use a file inside the worker’s data dir: 400 naming file', async () => {
    const dataDir = join(w.dir, 'data')
    for (const [cls, extra] of [
      ['FileStreamSink', { topics: 't' }],
      ['FileStreamSource', { topic: 't' }],
    ] as const) {
      for (const file of [
        join(dataDir, 'connectors.json'),
        join(dataDir, 'log', 'x'),
        join(dataDir, '..', 'data'),
      ]) {
        const res = await request<{ message: string }>(w.base, 'POST', '/connectors', {
          name: `into-data-${cls}`,
          config: { 'connector.class': cls, file, ...extra },
        })
        assert.equal(res.status, 400, `${cls} ${file}`)
        assert.match(res.body.message, /configuration file: .*sluice\.data\.dir/)
      }
    }
    // A sibling whose name merely starts like the data dir is fine.
    const sibling = await request(w.base, 'POST', '/connectors', {
      name: 'sibling',
      config: { 'connector.class': 'FileStreamSink', topics: 't', file: join(w.dir, 'data-out.txt') },
    })
    assert.equal(sibling.status, 201)
  })

  it('keeps connector configs and offsets readable by the owner only', async () => {
    const dataDir = join(w.dir, 'data')
    await request(w.base, 'POST', '/connectors', {
      name: 'secret',
      config: { ...source('secret-t'), 'producer.override.sasl.jaas.config': 'password="hunter2"' },
    })
    assert.equal(statSync(join(dataDir, 'connectors.json')).mode & 0o777, 0o600)
    // On the embedded log the offsets are in the log, inside the data dir only the owner may enter.
    assert.equal(statSync(dataDir).mode & 0o777, 0o700)
  })
})

describe('standalone state files written by older versions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-modes-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('a world-readable connectors.json / offsets.json is made 0600 at start; a long-named connector survives a restart', async () => {
    const dataDir = join(dir, 'data')
    mkdirSync(dataDir, { recursive: true, mode: 0o755 })
    const name = 'r'.repeat(150)
    const file = join(dir, 'in.txt')
    writeFileSync(file, 'a\n')
    writeFileSync(
      join(dataDir, 'connectors.json'),
      JSON.stringify({
        version: 1,
        connectors: {
          [name]: {
            config: { name, 'connector.class': 'FileStreamSource', file, topic: 'restart-t' },
            targetState: 'STARTED',
          },
        },
      }),
    )
    writeFileSync(join(dataDir, 'offsets.json'), JSON.stringify({ version: 1, offsets: [] }))
    chmodSync(join(dataDir, 'connectors.json'), 0o644)
    chmodSync(join(dataDir, 'offsets.json'), 0o644)
    const worker = await startStandalone(
      new WorkerConfig({ 'sluice.data.dir': dataDir, listeners: 'http://127.0.0.1:0', 'log.level': 'warn' }),
    )
    try {
      assert.equal(statSync(join(dataDir, 'connectors.json')).mode & 0o777, 0o600)
      assert.equal(statSync(join(dataDir, 'offsets.json')).mode & 0o777, 0o600)
      const base = `http://127.0.0.1:${worker.rest.port}`
      assert.equal((await request(base, 'GET', `/connectors/${name}/config`)).status, 200)
      assert.equal((await request(base, 'DELETE', `/connectors/${name}`)).status, 204)
    } finally {
      await worker.stop()
    }
  })
})
