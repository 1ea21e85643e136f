/**
 * [integration] Zombie safety with real worker processes: a worker frozen (SIGSTOP) past its
 * session timeout is dropped by the coordinator and its tasks move; when it wakes up (SIGCONT) it
 * must stop the tasks it still believes it runs before rejoining, so no task keeps running twice.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { Cluster, type ClusterWorker, clusterView, restWithRetry } from './cluster.ts'

const skip = kafkaSkipReason()

describe('[integration] a worker that lost its membership', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-zombie-'))
  let cluster: Cluster
  let workers: ClusterWorker[]

  before(async () => {
    cluster = new Cluster({
      dir,
      bootstrap: kafkaBootstrap(),
      props: { 'scheduled.rebalance.max.delay.ms': '0' },
    })
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'zombie-test' })
    await log.createTopics([{ name: `${cluster.groupId}-t`, partitions: 4, replicationFactor: 1 }])
    await log.close()
    workers = await Promise.all([cluster.start(), cluster.start()])
  })

  after(async () => {
    await cluster?.stopAll()
    await cluster?.deleteTopics([`${cluster.groupId}-t`])
    rmSync(dir, { recursive: true, force: true })
  })

  it('stops its tasks when it wakes up after the others took them over', async () => {
    const created = await restWithRetry(`${workers[0].url}/connectors`, 'POST', {
      name: 'sink',
      config: {
        'connector.class': 'FileStreamSink',
        topics: `${cluster.groupId}-t`,
        file: join(dir, 'out.txt'),
        'tasks.max': '4',
      },
    })
    assert.equal(created.status, 201)
    await eventually(
      async () => {
        const views = await Promise.all(workers.map(clusterView))
        return views.every((v) => v.tasks.length === 2 && !v.rebalancing) ? true : undefined
      },
      60_000,
      '2 tasks on each worker',
    )
    const [frozen, other] = workers
    const frozenTasks = (await clusterView(frozen)).tasks
    const stopsBefore = (await clusterView(frozen)).counters.taskStops
    frozen.signal('SIGSTOP')
    try {
      // The coordinator drops the frozen member after its session timeout; the other takes all 4.
      await eventually(
        async () => ((await clusterView(other)).tasks.length === 4 ? true : undefined),
        60_000,
        'the other worker to run all 4 tasks',
      )
    } finally {
      frozen.signal('SIGCONT')
    }
    // Awake, the zombie notices it was dropped and stops what it ran before doing anything else.
    const view = await eventually(
      async () => {
        const v = await clusterView(frozen)
        return v.counters.taskStops - stopsBefore >= frozenTasks.length ? v : undefined
      },
      30_000,
      'the woken worker to stop its old tasks',
    )
    assert.ok(view.counters.taskStops - stopsBefore >= frozenTasks.length)
    assert.match(readFileSync(frozen.logFile, 'utf8'), /lost membership/)
    // It rejoins as a new member and gets a share again; no task is ever listed by both workers.
    const deadline = Date.now() + 60_000
    for (;;) {
      const [a, b] = await Promise.all(workers.map(clusterView))
      assert.deepEqual(
        a.tasks.filter((t) => b.tasks.includes(t)),
        [],
        'no task runs on both workers',
      )
      if (a.tasks.length + b.tasks.length === 4 && !a.rebalancing && !b.rebalancing && a.tasks.length > 0)
        break
      assert.ok(Date.now() < deadline, `a rebalanced cluster: ${a.tasks} / ${b.tasks}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })
})
