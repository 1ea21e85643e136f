import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { selfSignedCertificate } from '../helpers/tls.ts'
import { startTestWorker, type TestWorker } from './worker.ts'

/** GET over https trusting only the given CA. */
function httpsGet(url: string, ca: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: auth ? { authorization: auth } : {} }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A request over https trusting only the given CA. */
function httpsSend(
  method: string,
  url: string,
  ca: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method, ca, headers: { ...headers, 'content-type': 'application/json' } },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('REST listener security', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'))
  const pem = join(dir, 'server.pem') // written by selfSignedCertificate
  const credentials = join(dir, 'credentials.properties')
  let cert: string
  let w: TestWorker
  before(async () => {
    cert = selfSignedCertificate(dir).cert
    writeFileSync(credentials, '# user=password\nadmin=s3cret\nreader=other\n')
    w = await startTestWorker(
      {
        'listeners.https.ssl.keystore.type': 'PEM',
        'listeners.https.ssl.keystore.location': pem,
        'rest.basic.auth.credentials.file': credentials,
      },
      'https',
    )
  })
  after(async () => {
    await w.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

  it('serves the API over TLS with the PEM keystore, to callers with valid credentials', async () => {
    const res = await httpsGet(`${w.base}/connectors`, cert, basic('admin', 's3cret'))
    assert.deepEqual([res.status, JSON.parse(res.body)], [200, []])
  })

  it('answers 401 without credentials or with wrong ones, as BasicAuthSecurityRestExtension does', async () => {
    for (const auth of [
      undefined,
      basic('admin', 'wrong'),
      basic('nobody', 's3cret'),
      'Bearer x',
      'Basic !!!',
    ]) {
      const res = await httpsGet(`${w.base}/connectors`, cert, auth)
      assert.deepEqual([res.status, res.body], [401, 'User cannot access the resource.'], String(auth))
    }
  })

  it('lets a signed internal request through basic auth, as JaasBasicAuthFilter does, and nothing else', async () => {
    const signed = {
      'x-connect-authorization': 'c2lnbmF0dXJl',
      'x-connect-request-signature-algorithm': 'HmacSHA256',
    }
    // Past the filter: the route answers (a standalone worker takes no task configs; in a cluster
    // the herder checks the signature).
    const internal = await httpsSend('POST', `${w.base}/connectors/c/tasks?forward=true`, cert, signed, '[]')
    assert.equal(internal.status, 404, internal.body)
    assert.match(internal.body, /only accepted by workers in distributed mode/)
    for (const [method, path, headers] of [
      ['POST', '/connectors/c/tasks', {}], // unsigned
      ['POST', '/connectors', signed], // signed, but not an internal endpoint
      ['PUT', '/connectors/c/config', signed],
    ] as const) {
      const res = await httpsSend(method, `${w.base}${path}`, cert, headers, '{}')
      assert.deepEqual([res.status, res.body], [401, 'User cannot access the resource.'], `${method} ${path}`)
    }
  })

  it('refuses plain HTTP on the TLS port', async () => {
    await assert.rejects(fetch(`${w.base.replace('https:', 'http:')}/`))
  })
})

describe('REST listener with a PKCS12 keystore', () => {
  it('serves the API over TLS from a keystore keytool wrote, whatever its name says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-p12-'))
    try {
      // Named .jks and typed JKS, as many Connect configs are, but keytool writes PKCS12 (Java 9+).
      const store = join(dir, 'worker.keystore.jks')
      execFileSync(
        'keytool',
        ['-genkeypair', '-alias', 'worker', '-keyalg', 'EC', '-dname', 'CN=127.0.0.1']
          .concat(['-ext', 'SAN=ip:127.0.0.1', '-validity', '2', '-keystore', store])
          .concat(['-storepass', 'p12-secret', '-keypass', 'p12-secret']),
        { stdio: 'ignore' },
      )
      const cert = execFileSync('keytool', [
        '-exportcert',
        '-rfc',
        '-alias',
        'worker',
        '-keystore',
        store,
        '-storepass',
        'p12-secret',
      ]).toString()
      await assert.rejects(
        startTestWorker(
          { 'listeners.https.ssl.keystore.location': store, 'listeners.https.ssl.keystore.password': 'nope' },
          'https',
        ),
        /listeners\.https\.ssl\.keystore\.password/,
      )
      const w = await startTestWorker(
        {
          'listeners.https.ssl.keystore.type': 'JKS',
          'listeners.https.ssl.keystore.location': store,
          'listeners.https.ssl.keystore.password': 'p12-secret',
        },
        'https',
      )
      try {
        const res = await httpsGet(`${w.base}/connectors`, cert)
        assert.deepEqual([res.status, JSON.parse(res.body)], [200, []])
      } finally {
        await w.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
