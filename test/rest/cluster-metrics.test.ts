/**
 * `GET /sluice/metrics` as the leader answers it: its own figures plus each other member's
 * `GET /sluice/internal/metrics`, asked with the caller's credentials, which the member checks; a
 * member that refuses or cannot be reached is named under `unreachable` and the rest still answers.
 * The members are real workers (one with basic auth); the leader's herder is reduced to the two
 * methods the route uses.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Herder } from '../../src/herder/herder.ts'
import {
  type ClusterMetricsView,
  registerClusterMetricsRoutes,
} from '../../src/rest/cluster-metrics-resource.ts'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

describe('GET /sluice/metrics on the leader', () => {
  let open: TestWorker
  let guarded: TestWorker
  let leader: FastifyInstance
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
    } as unknown as Herder
    leader = Fastify()
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
      // Both members' tasks have started (or the guarded one refused).
      return body.tasks.some((t) => t.connector === 'on-open') &&
        (body.tasks.some((t) => t.connector === 'on-guarded') || !authorization)
        ? body
        : undefined
    })

  it('gathers every member’s tasks with the caller’s credentials, and names those it could not read', async () => {
    const view = await ask(basic)
    assert.deepEqual(view.tasks.map((t) => `${t.connector}-${t.task}`).sort(), ['on-guarded-0', 'on-open-0'])
    const task = view.tasks.find((t) => t.connector === 'on-open')!
    assert.equal(task.type, 'source')
    assert.equal(typeof task.sourceRecordWriteTotal, 'number')
    assert.deepEqual(
      view.unreachable.map((u) => u.url),
      ['http://127.0.0.1:1'],
    )
  })

  it('leaves out a member that refuses the caller', async () => {
    const view = await ask()
    assert.deepEqual(
      view.tasks.map((t) => t.connector),
      ['on-open'],
    )
    const refused = view.unreachable.find((u) => u.url === guarded.base)
    assert.match(refused?.message ?? '', /401/)
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
