/**
 * A distributed worker's readiness and group metrics: `/ready` answers 200 only while the worker is
 * a member of its group (a worker that lost its membership is alive — `/health` 200 — but not ready),
 * and `/metrics` shows Strimzi's rebalance and coordinator names.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseExposition } from '../helpers/prometheus.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { Cluster, type ClusterWorker, restWithRetry } from './cluster.ts'

describe('distributed readiness and metrics', { skip: kafkaSkipReason() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ready-'))
  let cluster: Cluster
  let worker: ClusterWorker
  before(async () => {
    cluster = new Cluster({ dir, bootstrap: kafkaBootstrap() })
    worker = await cluster.start()
  })
  after(async () => {
    await cluster?.stopAll()
    await cluster?.deleteTopics()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is ready once it joined, and shows rebalance and coordinator metrics', async () => {
    const ready = await fetch(`${worker.url}/ready`)
    assert.equal(ready.status, 200)
    assert.match(((await ready.json()) as { message: string }).message, new RegExp(cluster.groupId))
    const create = await restWithRetry(`${worker.url}/connectors/idle/config`, 'PUT', {
      'connector.class': 'FileStreamSource',
      file: join(dir, 'nothing.txt'),
      topic: `${cluster.groupId}-idle`,
    })
    assert.equal(create.status, 201, JSON.stringify(create.body))
    const { samples, types } = await eventually(async () => {
      const scraped = parseExposition(await (await fetch(`${worker.url}/metrics`)).text())
      const tasks = scraped.samples.find((s) => s.name === 'kafka_connect_coordinator_assigned_tasks')
      return tasks?.value === 1 ? scraped : undefined
    })
    const one = (name: string) => samples.find((s) => s.name === name)
    assert.equal(one('kafka_connect_coordinator_assigned_connectors')?.value, 1)
    assert.ok(one('kafka_connect_worker_rebalance_completed_rebalances_total')!.value >= 1)
    assert.equal(types.get('kafka_connect_worker_rebalance_completed_rebalances_total'), 'counter')
    assert.ok(one('kafka_connect_worker_rebalance_epoch')!.value >= 1)
    // The only member leads: the leader name is its advertised URL.
    assert.match(
      one('kafka_connect_worker_rebalance_leader_name')?.labels.leader_name ?? '',
      new RegExp(`:${new URL(worker.url).port}`),
    )
    assert.equal(one('kafka_connect_worker_rebalance_connect_protocol')?.labels.connect_protocol, 'sessioned')
    assert.ok(one('kafka_connect_worker_rebalance_time_since_last_rebalance_ms')!.value >= 0)
    assert.ok(
      samples.some((s) => s.name === 'kafka_connect_connector_task_status' && s.labels.connector === 'idle'),
    )
  })

  it('is alive but not ready after losing its membership, and ready again once it rejoined', async () => {
    // Frozen past its session timeout (6 s), the worker finds on waking that the group dropped it.
    worker.signal('SIGSTOP')
    await sleep(8_000)
    worker.signal('SIGCONT')
    let sawNotReady = false
    await eventually(
      async () => {
        const [ready, health] = await Promise.all([
          fetch(`${worker.url}/ready`),
          fetch(`${worker.url}/health`),
        ])
        await Promise.all([ready.text(), health.text()])
        if (ready.status === 503) {
          sawNotReady = true
          assert.equal(health.status, 200, 'liveness holds while the worker rejoins')
        }
        return sawNotReady && ready.status === 200 ? true : undefined
      },
      30_000,
      'not ready, then ready again',
    )
  })
})
