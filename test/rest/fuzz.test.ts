/**
 * Hostile requests: malformed JSON, wrong types, huge bodies, unknown fields, path traversal and
 * unicode in names. The worker must never crash, never answer 5xx where Kafka Connect answers 4xx
 * (Kafka Connect answers body-deserialization failures with 500, so those may be 500), and never
 * change a stored config through a rejected call.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('REST fuzzing', () => {
  let w: TestWorker
  let base: string
  let file: string
  let snapshot: string
  before(async () => {
    w = await startTestWorker()
    base = w.base
    file = join(w.dir, 'in.txt')
    writeFileSync(file, 'x\n')
    const created = await request(base, 'POST', '/connectors', {
      name: 'keep',
      config: { 'connector.class': 'FileStreamSource', file, topic: 'fuzz-t' },
    })
    assert.equal(created.status, 201)
    snapshot = JSON.stringify((await request(base, 'GET', '/connectors/keep/config')).body)
  })
  after(() => w.close())

  async function send(method: string, path: string, body?: string, contentType = 'application/json') {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': contentType },
      body,
    })
    const text = await res.text()
    return { status: res.status, text }
  }

  /** Error answers are Kafka Connect's JSON error body. */
  function assertErrorBody(status: number, text: string, what: string): void {
    if (status < 400 || status === 401) return
    const body = JSON.parse(text) as { error_code: number; message: string }
    assert.equal(body.error_code, status, what)
    assert.equal(typeof body.message, 'string', what)
  }

  const malformed = [
    '{',
    '{"name":',
    '[1,2',
    'nul',
    '{"a":1}}',
    '\u0000',
    '{"name":"x","config":{"a":"b"}',
    '"\\u12"',
    '{,}',
  ]
  const shapes: unknown[] = [
    null,
    [],
    [{ name: 'keep' }],
    42,
    'keep',
    true,
    { name: 'keep', config: [] },
    { name: 'keep', config: 'x' },
    { name: { a: 1 }, config: {} },
    { name: 'keep', config: { 'connector.class': { nested: true } } },
    { name: 'keep', config: { 'connector.class': 'FileStreamSource', file: [1] } },
    { name: 'keep', config: { 'connector.class': 'FileStreamSource' }, extra: 1 },
    { name: 'keep', config: { 'connector.class': 'FileStreamSource', topic: null } },
    { name: 'keep', config: { 'connector.class': 'FileStreamSource', __proto__: { polluted: 1 } } },
  ]

  it('rejects malformed JSON and wrong shapes on every body-taking endpoint without touching state', async () => {
    const targets: [string, string][] = [
      ['POST', '/connectors'],
      ['PUT', '/connectors/keep/config'],
      ['PATCH', '/connectors/keep/config'],
      ['PATCH', '/connectors/keep/offsets'],
      ['PUT', '/connector-plugins/FileStreamSource/config/validate'],
      ['PUT', '/admin/loggers/root'],
    ]
    for (const [method, path] of targets) {
      for (const body of [...malformed, ...shapes.map((s) => JSON.stringify(s))]) {
        const res = await send(method, path, body)
        const what = `${method} ${path} ${body.slice(0, 80)} -> ${res.status} ${res.text.slice(0, 200)}`
        assert.ok(res.status !== 502 && res.status !== 503, what)
        assertErrorBody(res.status, res.text, what)
        if (method === 'PATCH' && path === '/connectors/keep/config' && res.status === 200) continue
        if (path === '/connector-plugins/FileStreamSource/config/validate' && res.status === 200) continue
        if (path === '/admin/loggers/root' && res.status === 200) continue
        assert.ok(res.status >= 400, what)
      }
    }
    // PATCH with a valid flat map may legitimately change the config: put it back and compare.
    await request(base, 'PUT', '/connectors/keep/config', JSON.parse(snapshot))
    assert.equal(JSON.stringify((await request(base, 'GET', '/connectors/keep/config')).body), snapshot)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })

  it('answers 4xx, never 5xx, to random byte strings sent as JSON', async () => {
    const next = random(20261121)
    const alphabet = '{}[]":,\\ntrufalse0123456789.-eE \u00e9\u0000\ud83d\ude00'
    for (let i = 0; i < 200; i++) {
      const length = Math.floor(next() * 60)
      let body = ''
      for (let j = 0; j < length; j++) body += alphabet[Math.floor(next() * alphabet.length)]
      const res = await send('PUT', '/connectors/keep/config', body)
      const what = `body ${JSON.stringify(body)} -> ${res.status} ${res.text.slice(0, 200)}`
      // Kafka Connect: unparseable JSON or a non-object is 500 (Jackson), an object is validated (400).
      assert.ok(res.status === 400 || res.status === 500 || res.status === 200, what)
      assertErrorBody(res.status, res.text, what)
    }
    await request(base, 'PUT', '/connectors/keep/config', JSON.parse(snapshot))
    assert.equal(JSON.stringify((await request(base, 'GET', '/connectors/keep/config')).body), snapshot)
  })

  it('refuses a huge body with 413 and keeps serving', async () => {
    const huge = JSON.stringify({
      name: 'huge',
      config: { 'connector.class': 'FileStreamSource', blob: 'x'.repeat(11 * 1024 * 1024) },
    })
    const res = await send('POST', '/connectors', huge)
    assert.equal(res.status, 413)
    assertErrorBody(res.status, res.text, 'huge')
    assert.equal((await request(base, 'GET', '/connectors/huge')).status, 404)
    assert.equal((await request(base, 'GET', '/')).status, 200)
  })

  it('path traversal and unicode in names stay names: 404 for unknown ones, never a file', async () => {
    for (const path of [
      '/connectors/..%2F..%2Fetc%2Fpasswd',
      '/connectors/%2e%2e/config',
      '/connectors/../../etc/passwd',
      '/connectors/keep/../../admin/loggers',
      '/connectors/%00/status',
      '/connectors/%E2%80%AE/status',
      '/connectors/%ZZ',
    ]) {
      const res = await send('GET', path)
      assert.ok(res.status >= 400 && res.status < 500 ? true : res.status === 200, `${path} -> ${res.status}`)
      assert.ok(!res.text.includes('root:'), path)
    }
    const unicode = 'conn-é-ü-日本-🚀'
    const created = await request(base, 'POST', '/connectors', {
      name: unicode,
      config: { 'connector.class': 'FileStreamSource', file, topic: 'fuzz-u' },
    })
    assert.equal(created.status, 201)
    assert.equal(created.headers.get('location'), `${base}/connectors/${encodeURIComponent(unicode)}`)
    const status = await request<{ name: string }>(
      base,
      'GET',
      `/connectors/${encodeURIComponent(unicode)}/status`,
    )
    assert.equal(status.body.name, unicode)
    assert.equal((await request(base, 'DELETE', `/connectors/${encodeURIComponent(unicode)}`)).status, 204)
    const control = await request(base, 'POST', '/connectors', {
      name: 'bad\u0007name',
      config: { 'connector.class': 'FileStreamSource', file, topic: 'fuzz-u' },
    })
    assert.equal(control.status, 400)
  })

  it('is still alive and unchanged after all of it', async () => {
    assert.equal(JSON.stringify((await request(base, 'GET', '/connectors/keep/config')).body), snapshot)
    assert.deepEqual((await request(base, 'GET', '/connectors')).body, ['keep'])
  })
})
