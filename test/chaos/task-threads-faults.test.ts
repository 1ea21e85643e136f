/**
 * Task threads (`task.threads=2`, decision 0029) on a 3-node SASL_SSL cluster (secure-pipeline.ts):
 * the file pipeline through a clean restart of a partition's leader on its kept data and every
 * connection of the worker to the brokers cut with `ss -K`; no worker kill, so the topic must hold
 * every line exactly once, in order per partition.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { note } from './pipeline.ts'
import { describeOnSecureCluster, type Fault, leadership } from './secure-pipeline.ts'
import { canCutConnections, cutConnections } from './services.ts'

describeOnSecureCluster('[integration] task threads on a 3-node SASL_SSL cluster', ({ cluster: c, run }) => {
  test('with task.threads=2 through a clean restart of a node and connections cut with ss -K', async () => {
    const cluster = c()
    const faults: Fault[] = [
      [
        'a clean restart (SIGTERM) of the leader of partition 1 on its kept data',
        async (_worker, topic) => {
          const { leader } = await leadership(cluster, topic, 1)
          const node = cluster.nodes[leader - 1]
          await node.stop('SIGTERM')
          await sleep(2000)
          await node.start()
        },
      ],
    ]
    if (canCutConnections)
      faults.push([
        'every connection of the worker to the brokers cut (ss -K)',
        async (worker) => {
          let cut = 0
          for (const node of cluster.nodes)
            cut += cutConnections(worker.child!.pid!, Number(node.secureBootstrap!.split(':')[1]))
          note(`  ${cut} connections cut`)
          assert.ok(cut > 0, 'the worker had connections to cut')
        },
      ])
    else if (process.env.CI === 'true') assert.fail('ss -K needs root: run this test as root in CI')
    else note('not root: no connection cut (ss -K needs root)')
    await run('threads', { 'task.threads': '2' }, faults, 0)
  })
})
