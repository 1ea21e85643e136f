/**
 * [integration] Zombie fencing does not wait for the herder's queue. A worker whose queue is held
 * by a connector's start that never returns (a database that does not answer) cannot rejoin when
 * the group rebalances; the coordinator drops it after the rebalance timeout and gives its tasks to
 * the other worker. The dropped worker must stop those tasks anyway, without waiting for the
 * operation ahead of it in the queue, so no task runs on both workers.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { Cluster, clusterView, restWithRetry } from './cluster.ts'

const skip = kafkaSkipReason()

describe('[integration] fencing while the herder queue is held', { skip, timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fencing-'))
  const cluster = new Cluster({
    dir,
    bootstrap: kafkaBootstrap(),
    props: {
      'plugin.path': resolve(import.meta.dirname, 'fixtures'),
      'scheduled.rebalance.max.delay.ms': '0',
      'rebalance.timeout.ms': '8000',
    },
  })
  after(async () => {
    await cluster.stopAll()
    await cluster.deleteTopics([`${cluster.groupId}-t`])
    rmSync(dir, { recursive: true, force: true })
  })

  it("stops a dropped worker's tasks though an operation hangs ahead of it", async () => {
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'fencing-test' })
    await log.createTopics([{ name: `${cluster.groupId}-t`, partitions: 4, replicationFactor: 1 }])
    await log.close()
    const workers = [await cluster.start(), await cluster.start()]
    const sink = (name: string, tasks: number) => ({
      name,
      config: {
        'connector.class': 'FileStreamSink',
        topics: `${cluster.groupId}-t`,
        file: join(dir, `${name}.txt`),
        'tasks.max': String(tasks),
      },
    })
    assert.equal((await restWithRetry(`${workers[0].url}/connectors`, 'POST', sink('sink', 4))).status, 201)
    await eventually(
      async () => {
        const views = await Promise.all(workers.map(clusterView))
        return views.every((v) => v.tasks.length === 2 && !v.rebalancing) ? true : undefined
      },
      60_000,
      '2 tasks on each worker',
    )
    // The connector that hangs goes to the worker without a connector (spread by count).
    const created = await restWithRetry(`${workers[0].url}/connectors`, 'POST', {
      name: 'hang',
      config: { 'connector.class': 'test.HangingSource' },
    })
    assert.equal(created.status, 201)
    const stuck = await eventually(
      async () => {
        const views = await Promise.all(workers.map(clusterView))
        const i = views.findIndex((v) => v.connectors.includes('hang'))
        return i >= 0 ? { worker: workers[i], other: workers[1 - i], view: views[i] } : undefined
      },
      60_000,
      'the hanging connector assigned',
    )
    assert.equal(stuck.view.tasks.length, 2)
    // A new connector makes the group rebalance; the stuck worker cannot rejoin and is dropped.
    const created2 = await restWithRetry(`${stuck.other.url}/connectors`, 'POST', sink('sink2', 1), 90_000)
    assert.equal(created2.status, 201)
    await eventually(
      async () => {
        const v = await clusterView(stuck.worker)
        return v.tasks.length === 0 && v.counters.taskStops >= stuck.view.counters.taskStops + 2
          ? true
          : undefined
      },
      60_000,
      'the dropped worker to stop its tasks',
    )
    assert.match(readFileSync(stuck.worker.logFile, 'utf8'), /lost membership/)
    // The other worker takes the sink's tasks; none is ever listed by both.
    await eventually(
      async () => {
        const [a, b] = await Promise.all([clusterView(stuck.worker), clusterView(stuck.other)])
        assert.deepEqual(
          a.tasks.filter((t) => b.tasks.includes(t)),
          [],
          'no task runs on both workers',
        )
        return b.tasks.filter((t) => t.startsWith('sink-')).length === 4 ? true : undefined
      },
      60_000,
      'the other worker running the 4 tasks of the sink',
    )
  })
})
