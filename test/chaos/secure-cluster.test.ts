/**
 * Sluice's own produce and Fetch paths on a 3-node SASL_SSL cluster (secure-pipeline.ts) through a
 * kill -9 of a partition's preferred leader, its restart on its kept data (two leader changes), a
 * check that those left no duplicate and no reordering in the topic, then a kill -9 of the worker.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { note } from './pipeline.ts'
import {
  describeOnSecureCluster,
  leadership,
  ROUNDS,
  readTopic,
  topicProblems,
  until,
} from './secure-pipeline.ts'

describeOnSecureCluster(
  '[integration] a file → Kafka → file pipeline on a 3-node SASL_SSL cluster',
  ({ cluster: c, run }) => {
    test('through a kill -9 of a partition leader, its restart on kept data, and a kill -9 of the worker', async () => {
      let kills = 0
      await run(
        'kill',
        {},
        [
          [
            'a kill -9 of the preferred leader of partition 0, and its restart on its kept data (leader changes)',
            async (_worker, topic) => {
              const cluster = c()
              const { leader, preferred } = await leadership(cluster, topic, 0)
              await cluster.nodes[preferred - 1].stop('SIGKILL')
              const moved = await until(
                async () => {
                  const now = (await leadership(cluster, topic, 0)).leader
                  return now !== preferred && now >= 0 ? now : undefined
                },
                30_000,
                `partition 0 to be led by another node than ${preferred}`,
              )
              note(`  partition 0: leader ${leader} → ${moved} (node ${preferred} killed)`)
              await sleep(2000) // produce and fetch against the new leaders for a while
              await cluster.nodes[preferred - 1].start()
              // The preferred leader takes over again within leader.imbalance.check.interval.seconds (5).
              await until(
                async () => ((await leadership(cluster, topic, 0)).leader === preferred ? true : undefined),
                60_000,
                `node ${preferred} to lead partition 0 again`,
              )
              note(`  partition 0: leader ${moved} → ${preferred} (restarted)`)
            },
          ],
          [
            'no duplicate or reordering in the topic from the broker faults (only from earlier worker kills)',
            async (_worker, topic) => {
              await sleep(1000)
              const { problems, duplicates } = topicProblems(await readTopic(c(), topic), 0, kills)
              note(`  ${duplicates} duplicates after ${kills} worker kills`)
              if (problems.length) assert.fail(problems.join('\n'))
            },
          ],
          [
            'a kill -9 of the worker and a new one on the same data dir',
            async (worker) => {
              await worker.kill('SIGKILL')
              kills++
              await worker.start()
            },
          ],
        ],
        ROUNDS,
      )
    })
  },
)
