/**
 * `GET /sluice/metrics` as the leader answers it: its own figures plus each other member's
 * `GET /sluice/internal/metrics`, asked with a session-key signature and never with the caller's
 * credentials (a member URL is only what a group member advertised); a member that refuses or
 * cannot be reached is named under `unreachable` and the rest still answers. The members are real
 * standalone workers (one with basic auth); the leader's herder is reduced to the methods the route
 * uses, with no session key. Signed calls between real distributed workers are in
 * test/console/console-distributed.test.ts.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Herder } from '../../src/herder/herder.ts'
import {
  type ClusterMetricsView,
  registerClusterMetricsRoutes,
} from '../../src/rest/cluster-metrics-resource.ts'
import { HttpApp } from '../../src/rest/http-router.ts'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

describe('GET /sluice/metrics on the leader', () => {
  let open: TestWorker
  let guarded: TestWorker
  let leader: HttpApp
  let leaderUrl: string
  const basic = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`

  before(async () => {
    open = await startTestWorker()
    const credentials = join(open.dir, 'credentials.properties')
    writeFileSync(credentials, 'admin=s3cret\n')
    guarded = await startTestWorker({ 'rest.basic.auth.credentials.file': credentials })
    for (const [w, name, auth] of [
      [open, 'on-open', undefined],
      [guarded, 'on-guarded', basic],
    ] as const) {
      const res = await fetch(`${w.base}/connectors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify({
          name,
          config: {
            'connector.class': 'FileStreamSource',
            file: join(w.dir, 'none.txt'),
            topic: name,
          },
        }),
      })
      assert.equal(res.status, 201, await res.text())
    }
    const herder = {
      workerMetrics: () => ({ startup: {}, connectors: [], tasks: [] }),
      otherMemberUrls: () => [open.base, guarded.base, 'http://127.0.0.1:1'],
      signMemberRequest: () => ({}),
    } as unknown as Herder
    leader = new HttpApp({ bodyLimit: 1 << 20 })
    registerClusterMetricsRoutes(leader, herder, undefined)
    leaderUrl = await leader.listen({ host: '127.0.0.1', port: 0 })
  })
  after(async () => {
    await leader?.close()
    await guarded?.close()
    await open?.close()
  })

  const ask = (authorization?: string) =>
    eventually(async () => {
      const res = await fetch(`${leaderUrl}/sluice/metrics`, {
        headers: authorization ? { authorization } : {},
      })
      const body = (await res.json()) as ClusterMetricsView
      // The open member's task has started.
      return body.tasks.some((t) => t.connector === 'on-open') ? body : undefined
    })

  it('gathers every member’s tasks and names those it could not read', async () => {
    const view = await ask()
    assert.deepEqual(
      view.tasks.map((t) => `${t.connector}-${t.task}`),
      ['on-open-0'],
    )
    const task = view.tasks.find((t) => t.connector === 'on-open')!
    assert.equal(task.type, 'source')
    assert.equal(typeof task.sourceRecordWriteTotal, 'number')
    assert.deepEqual(view.unreachable.map((u) => u.url).sort(), [guarded.base, 'http://127.0.0.1:1'].sort())
  })

  it('never hands the caller’s credentials on to a member', async () => {
    // The caller may read the guarded worker, but the leader does not pass that on: refused there.
    const view = await ask(basic)
    assert.ok(!view.tasks.some((t) => t.connector === 'on-guarded'), JSON.stringify(view.tasks))
    const refused = view.unreachable.find((u) => u.url === guarded.base)
    assert.match(refused?.message ?? '', /401/)
  })

  it('a signature header does not stand in for credentials where it cannot be checked', async () => {
    const res = await fetch(`${guarded.base}/sluice/internal/metrics`, {
      headers: {
        'x-connect-authorization': 'Zm9yZ2Vk',
        'x-connect-request-signature-algorithm': 'HmacSHA256',
      },
    })
    assert.equal(res.status, 403, await res.text())
  })

  it('answers on a worker with its own figures only at the internal path', async () => {
    const res = await request<ClusterMetricsView>(open.base, 'GET', '/sluice/internal/metrics')
    assert.equal(res.status, 200)
    assert.deepEqual(
      res.body.tasks.map((t) => t.connector),
      ['on-open'],
    )
  })
})

describe('GET /sluice/metrics with a member that answers too slowly', () => {
  it('lists a member still trickling its answer after 5 s as unreachable instead of waiting for it', async () => {
    // A member that sends its headers, then a byte a second, never ending: each byte resets a
    // socket-idle timeout, so only a deadline on the whole request ends the wait.
    const timers = new Set<NodeJS.Timeout>()
    const member = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const timer = setInterval(() => res.write(' '), 1_000)
      timers.add(timer)
      res.on('close', () => clearInterval(timer))
    })
    await new Promise<void>((resolve) => member.listen(0, '127.0.0.1', resolve))
    const memberUrl = `http://127.0.0.1:${(member.address() as AddressInfo).port}`
    const herder = {
      workerMetrics: () => ({ startup: {}, connectors: [], tasks: [] }),
      otherMemberUrls: () => [memberUrl],
    } as unknown as Herder
    const leader = new HttpApp({ bodyLimit: 1 << 20 })
    registerClusterMetricsRoutes(leader, herder, undefined)
    const leaderUrl = await leader.listen({ host: '127.0.0.1', port: 0 })
    try {
      const started = Date.now()
      const res = await fetch(`${leaderUrl}/sluice/metrics`, { signal: AbortSignal.timeout(12_000) })
      const view = (await res.json()) as ClusterMetricsView
      assert.deepEqual(
        view.unreachable.map((u) => u.url),
        [memberUrl],
      )
      assert.ok(Date.now() - started < 8_000, `answered after ${Date.now() - started} ms`)
    } finally {
      for (const timer of timers) clearInterval(timer)
      member.closeAllConnections()
      await new Promise((resolve) => member.close(resolve))
      await leader.close()
    }
  })
})

describe('GET /sluice/metrics with a member that answers nonsense', () => {
  it('lists the member as unreachable and still answers with the others', async () => {
    const member = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"tasks":{"not":"a list"}}')
    })
    await new Promise<void>((resolve) => member.listen(0, '127.0.0.1', resolve))
    const memberUrl = `http://127.0.0.1:${(member.address() as AddressInfo).port}`
    const herder = {
      workerMetrics: () => ({ startup: {}, connectors: [], tasks: [] }),
      otherMemberUrls: () => [memberUrl],
    } as unknown as Herder
    const leader = new HttpApp({ bodyLimit: 1 << 20 })
    registerClusterMetricsRoutes(leader, herder, undefined)
    const leaderUrl = await leader.listen({ host: '127.0.0.1', port: 0 })
    try {
      const res = await fetch(`${leaderUrl}/sluice/metrics`)
      assert.equal(res.status, 200)
      const view = (await res.json()) as ClusterMetricsView
      assert.deepEqual(view.tasks, [])
      assert.deepEqual(
        view.unreachable.map((u) => u.url),
        [memberUrl],
      )
    } finally {
      await new Promise((resolve) => member.close(resolve))
      await leader.close()
    }
  })
})
