/**
 * A small Kubernetes API server for config-provider tests: HTTPS with a private CA made by openssl,
 * `GET /api/v1/namespaces/{ns}/secrets/{name}` and `/configmaps/{name}` from what the test puts,
 * answering 401 without the expected bearer token and 403 for resources the "service account" may
 * not read, as the real API server does. `serviceAccountDir` holds `token`, `ca.crt` and
 * `namespace` as a pod's service account mount does.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface FakeKubernetes {
  /** `https://127.0.0.1:<port>` */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly serviceAccountDir: string
  readonly token: string
  /** Request paths served so far. */
  readonly requests: string[]
  putSecret(namespace: string, name: string, data: Record<string, string>): void
  putConfigMap(namespace: string, name: string, data: Record<string, string>): void
  /** Makes the API answer 403 for this resource (no RBAC `get`). */
  forbid(namespace: string, kind: 'secrets' | 'configmaps', name: string): void
  close(): Promise<void>
}

export async function startFakeKubernetes(namespace = 'sluice'): Promise<FakeKubernetes> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fake-k8s-'))
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=fake cluster CA'],
    ...['-keyout', 'ca.key', '-out', 'ca.crt'],
  )
  openssl(
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kubernetes'],
    ...['-keyout', 'api.key', '-out', 'api.csr'],
  )
  writeFileSync(join(dir, 'api.ext'), 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\n')
  openssl(
    ...['x509', '-req', '-in', 'api.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-days', '1', '-extfile', 'api.ext', '-out', 'api.crt'],
  )
  const token = `token-${process.pid}-${Date.now()}`
  writeFileSync(join(dir, 'token'), `${token}\n`)
  writeFileSync(join(dir, 'namespace'), namespace)

  const resources = new Map<string, unknown>()
  const forbidden = new Set<string>()
  const requests: string[] = []
  const server: Server = createServer(
    { key: readFileSync(join(dir, 'api.key')), cert: readFileSync(join(dir, 'api.crt')) },
    (req, res) => {
      const path = req.url ?? ''
      requests.push(path)
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { kind: 'Status', code: 401 })
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/(secrets|configmaps)\/([^/?]+)$/.exec(path)
      if (!m || req.method !== 'GET') return reply(404, { kind: 'Status', code: 404 })
      const key = `${m[1]}/${m[2]}/${m[3]}`
      if (forbidden.has(key)) return reply(403, { kind: 'Status', code: 403, reason: 'Forbidden' })
      const resource = resources.get(key)
      if (resource === undefined) return reply(404, { kind: 'Status', code: 404, reason: 'NotFound' })
      return reply(200, resource)
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    serviceAccountDir: dir,
    token,
    requests,
    putSecret(ns, name, data) {
      const encoded = Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      )
      resources.set(`${ns}/secrets/${name}`, {
        kind: 'Secret',
        apiVersion: 'v1',
        metadata: { name, namespace: ns },
        type: 'Opaque',
        data: encoded,
      })
    },
    putConfigMap(ns, name, data) {
      resources.set(`${ns}/configmaps/${name}`, {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name, namespace: ns },
        data,
      })
    },
    forbid(ns, kind, name) {
      forbidden.add(`${ns}/${kind}/${name}`)
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
