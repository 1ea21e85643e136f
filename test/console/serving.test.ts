/**
 * The web console's files as the worker serves them under /ui/: the redirect, content types, the
 * Content-Security-Policy, gzip and ETags, the same TLS and basic auth as the API, and the bundle's
 * budget (≤ 200 KB gzipped, nothing loaded from elsewhere).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gunzipSync, gzipSync } from 'node:zlib'
import { bundleConsole } from '../../src/rest/console-assets.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

function get(url: string, ca: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the web console under /ui/', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-console-'))
  let cert: string
  let w: TestWorker
  const auth = { authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` }

  before(async () => {
    cert = selfSignedCertificate(dir).cert
    writeFileSync(join(dir, 'credentials.properties'), 'admin=s3cret\n')
    w = await startTestWorker(
      {
        'listeners.https.ssl.keystore.location': join(dir, 'server.pem'),
        'rest.basic.auth.credentials.file': join(dir, 'credentials.properties'),
      },
      'https',
    )
  })
  after(async () => {
    await w?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('asks for the same credentials as the API', async () => {
    for (const path of ['/ui', '/ui/', '/ui/app.js']) {
      const res = await get(`${w.base}${path}`, cert)
      assert.equal(res.status, 401, path)
      assert.equal(res.headers['www-authenticate'], 'Basic realm="sluice"')
    }
    const wrong = await get(`${w.base}/ui/`, cert, {
      authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}`,
    })
    assert.equal(wrong.status, 401)
  })

  it('redirects /ui to /ui/ relatively, so a proxy prefix is kept', async () => {
    const res = await get(`${w.base}/ui`, cert, auth)
    assert.equal(res.status, 301)
    assert.equal(res.headers.location, 'ui/')
  })

  it('serves the page with a strict Content-Security-Policy and only local files', async () => {
    const res = await get(`${w.base}/ui/`, cert, auth)
    assert.equal(res.status, 200)
    assert.match(String(res.headers['content-type']), /^text\/html/)
    const csp = String(res.headers['content-security-policy'])
    assert.match(csp, /default-src 'none'/)
    assert.match(csp, /script-src 'self'/)
    assert.match(csp, /connect-src 'self'/)
    assert.equal(res.headers['x-content-type-options'], 'nosniff')
    const html = res.body.toString('utf8')
    // Everything the page loads is its own (in-page links are fragments).
    const referenced = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!)
    assert.deepEqual(referenced.sort(), ['app.css', 'app.js', 'data:,'])
    for (const file of ['app.js', 'app.css']) {
      const asset = await get(`${w.base}/ui/${file}`, cert, auth)
      assert.equal(asset.status, 200, file)
      assert.match(
        String(asset.headers['content-type']),
        file.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      )
    }
  })

  it('answers gzip when asked, and 304 for an unchanged file', async () => {
    const plain = await get(`${w.base}/ui/app.js`, cert, auth)
    const zipped = await get(`${w.base}/ui/app.js`, cert, { ...auth, 'accept-encoding': 'gzip, br' })
    assert.equal(zipped.headers['content-encoding'], 'gzip')
    assert.deepEqual(gunzipSync(zipped.body), plain.body)
    const etag = String(plain.headers.etag)
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/)
    const again = await get(`${w.base}/ui/app.js`, cert, { ...auth, 'if-none-match': etag })
    assert.equal(again.status, 304)
    assert.equal(again.body.length, 0)
  })

  it('answers 404 in Connect’s error shape for a file the console does not have', async () => {
    for (const path of ['/ui/nope.js', '/ui/..%2Fpackage.json', '/ui/index.html']) {
      const res = await get(`${w.base}${path}`, cert, auth)
      assert.equal(res.status, 404, path)
      assert.equal(JSON.parse(res.body.toString()).error_code, 404)
    }
  })
})

describe('the console bundle', () => {
  it('stays within 200 KB gzipped and loads nothing from another origin', async () => {
    const files = await bundleConsole()
    assert.deepEqual([...files.keys()].sort(), ['app.css', 'app.js', 'index.html'])
    let gzipped = 0
    for (const [name, body] of files) {
      gzipped += gzipSync(body, { level: 9 }).length
      const text = body.toString('utf8')
      // (The SVG namespace is a name, not a location: nothing is fetched from it.)
      assert.doesNotMatch(
        text,
        /https?:\/\/(?!www\.w3\.org\/2000\/svg\b)/,
        `${name} refers to another origin`,
      )
      assert.doesNotMatch(text, /@import|url\((?!data:)/, `${name} loads a stylesheet or font`)
    }
    assert.ok(gzipped <= 200 * 1024, `the console is ${gzipped} bytes gzipped, over the 200 KB budget`)
    assert.ok(gzipped > 2 * 1024, `only ${gzipped} bytes: is the bundle empty?`)
  })
})
