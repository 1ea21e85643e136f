/**
 * [integration] What must not wait in the distributed herder's queue: a connector's validation
 * (a JDBC connection to a database that does not answer takes its 10 s timeout) runs outside it,
 * so other connectors are created and answered meanwhile; and stopping the worker neither waits
 * for a queued operation that hangs nor lets anything start afterwards.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { type DistributedWorker, startDistributed } from '../../src/cli/distributed.ts'
import type { DistributedConfig } from '../../src/config/distributed-config.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { distributedTestConfig } from '../helpers/worker.ts'

const skip = kafkaSkipReason()
const FIXTURES = resolve(import.meta.dirname, 'fixtures')

function config(group: string, extra: Record<string, string> = {}): DistributedConfig {
  return distributedTestConfig(group, {
    'offset.storage.partitions': '2',
    'status.storage.partitions': '2',
    'session.timeout.ms': '6000',
    'heartbeat.interval.ms': '1000',
    ...extra,
  })
}

/** A "database" that accepts connections and never answers (connections are counted). */
async function silentServer(): Promise<{ server: Server; port: number; connected: Promise<void> }> {
  const sockets = new Set<Socket>()
  let onConnect = (): void => {}
  const connected = new Promise<void>((done) => {
    onConnect = done
  })
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    onConnect()
  })
  server.on('close', () => {
    for (const s of sockets) s.destroy()
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { server, port: (server.address() as { port: number }).port, connected }
}

describe('[integration] the distributed herder queue', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-herder-queue-'))
  const groups: string[] = []
  const workers: DistributedWorker[] = []
  after(async () => {
    for (const w of workers) await w.stop()
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'herder-queue-cleanup' })
    await log
      .deleteTopics(groups.flatMap((g) => ['configs', 'offsets', 'status'].map((t) => `${g}-${t}`)))
      .catch(() => {})
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("validating a connector whose database does not answer delays no other connector's create or status", async () => {
    const group = `sluice-queue-${randomUUID().slice(0, 8)}`
    groups.push(group)
    const worker = await startDistributed(config(group))
    workers.push(worker)
    const base = `http://127.0.0.1:${worker.rest.port}`
    const db = await silentServer()
    try {
      let jdbcDone = false
      const jdbc = request(base, 'PUT', '/connectors/jdbc/config', {
        'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
        'connection.url': `jdbc:postgresql://127.0.0.1:${db.port}/nowhere`,
        mode: 'bulk',
        'topic.prefix': 'q-',
        'table.whitelist': 't',
      }).finally(() => {
        jdbcDone = true
      })
      await db.connected // the validation is now waiting on the database
      const created = await request(base, 'POST', '/connectors', {
        name: 'file',
        config: { 'connector.class': 'FileStreamSource', file: join(dir, 'in.txt'), topic: `${group}-t` },
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      assert.equal(jdbcDone, false, 'the create waited for the other connector’s validation')
      const status = await eventually(async () => {
        const res = await request<{ connector: { state: string } }>(base, 'GET', '/connectors/file/status')
        return res.status === 200 ? res.body : undefined
      })
      assert.ok(['UNASSIGNED', 'RUNNING'].includes(status.connector.state))
      assert.equal(jdbcDone, false, 'the status waited for the other connector’s validation')
      const refused = await jdbc
      assert.equal(refused.status, 400, JSON.stringify(refused.body))
    } finally {
      db.server.close()
    }
  })

  it('stops promptly while a queued operation hangs, and nothing starts afterwards', async () => {
    const group = `sluice-queue-${randomUUID().slice(0, 8)}`
    groups.push(group)
    const worker = await startDistributed(config(group, { 'plugin.path': FIXTURES }))
    const base = `http://127.0.0.1:${worker.rest.port}`
    const hang = (globalThis as { sluiceTestHang?: { started: Promise<void>; release(): void } })
      .sluiceTestHang!
    const created = await request(base, 'POST', '/connectors', {
      name: 'hang',
      config: { 'connector.class': 'test.HangingSource' },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await hang.started // the connector's start now holds the herder's queue
    const startsBefore = worker.herder.counters.taskStarts
    let timer: NodeJS.Timeout | undefined
    const stopped = await Promise.race([
      worker.stop().then(() => true),
      new Promise<false>((done) => {
        timer = setTimeout(() => done(false), 10_000)
      }),
    ])
    clearTimeout(timer)
    hang.release()
    if (!stopped) workers.push(worker) // stopped again (and awaited) by after()
    assert.equal(stopped, true, 'the worker did not stop within 10 s while an operation hung in its queue')
    // The connector's start returns now; its tasks must not start on a stopped worker.
    await new Promise((done) => setImmediate(done))
    const view = worker.herder.clusterView()
    assert.deepEqual([view.connectors, view.tasks], [[], []])
    assert.equal(worker.herder.counters.taskStarts, startsBefore)
  })
})
