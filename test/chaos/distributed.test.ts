/**
 * Chaos through a 2-worker distributed cluster (`sluice distributed`, spawned as in
 * test/distributed/cluster.ts): the pipeline and checks of standalone.test.ts, with kill -9 of the
 * group's leader (twice, each time replaced by a new worker) instead of the standalone worker. It
 * also fails on any FAILED state in the status topic's history: a later rebalance may start a
 * failed task again, so REST alone would not show that a fault failed it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Cluster, type ClusterWorker, clusterView, restWithRetry } from '../distributed/cluster.ts'
import { kafkaSkipReason, postgresSkipReason } from '../helpers/services.ts'
import {
  failuresInStatusTopic,
  note,
  SINK,
  SOURCE,
  sinkConfig,
  sourceConfig,
  workerProperties,
} from './pipeline.ts'
import { runScenario, type Workers } from './scenario.ts'

const START_TIMEOUT_MS = 120_000

function distributed(): Workers {
  let cluster: Cluster | undefined

  async function leader(): Promise<ClusterWorker> {
    const deadline = Date.now() + 60_000
    for (;;) {
      for (const w of cluster!.alive()) {
        try {
          if ((await clusterView(w)).leader) return w
        } catch {
          // not answering: try the next one
        }
      }
      if (Date.now() > deadline) throw new Error('no worker of the cluster says it leads within 60 s')
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  return {
    async start(s) {
      cluster = new Cluster({
        dir: s.dir,
        bootstrap: s.broker.bootstrap,
        props: { ...workerProperties(s), 'config.storage.topic': 'chaos-configs' },
      })
      // Generous: a worker's start is a few seconds, but CI machines can be slow and shared.
      await cluster.start(START_TIMEOUT_MS)
      await cluster.start(START_TIMEOUT_MS)
      const url = cluster.workers[0].url
      for (const [name, config] of [
        [SOURCE, sourceConfig(s)],
        [SINK, sinkConfig(s)],
      ] as const) {
        const res = await restWithRetry(`${url}/connectors`, 'POST', { name, config })
        if (res.status !== 201)
          throw new Error(`POST /connectors ${name}: ${res.status} ${JSON.stringify(res.body)}`)
      }
    },
    async killOne() {
      const w = await leader()
      await w.kill9()
      note(`  leader ${w.id} (worker ${w.index}) killed; starting another worker`)
      const next = await cluster!.start(START_TIMEOUT_MS)
      return `worker ${next.index} (${next.id}) joined`
    },
    pids: () => cluster!.alive().flatMap((w) => (w.child.pid ? [w.child.pid] : [])),
    url: () => cluster!.alive()[0]!.url,
    extraChecks: (s) => failuresInStatusTopic(s, `${cluster!.groupId}-status`),
    logs: () => cluster!.workers.map((w) => w.logFile),
    async stop() {
      await cluster?.stopAll()
    },
  }
}

test('[integration] chaos: CDC → Kafka → JDBC sink through a 2-worker distributed cluster', {
  skip: kafkaSkipReason() || postgresSkipReason(),
  timeout: 900_000,
}, async () => {
  const problems = await runScenario(distributed(), { kills: 2 })
  if (problems.length) assert.fail(`the pipeline diverged:\n  - ${problems.join('\n  - ')}`)
})
