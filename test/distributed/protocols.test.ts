/**
 * [integration] `connect.protocol`: workers agree on the sub-protocol they all offer (one eager
 * worker downgrades the group to `default`, where every rebalance stops everything), and work runs
 * under each of them.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type DistributedWorker, startDistributed } from '../../src/cli/distributed.ts'
import type { DistributedConfig } from '../../src/config/distributed-config.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { distributedTestConfig } from '../helpers/worker.ts'

const skip = kafkaSkipReason()

function config(group: string, protocol: string): DistributedConfig {
  return distributedTestConfig(group, {
    'offset.storage.partitions': '2',
    'status.storage.partitions': '2',
    'session.timeout.ms': '6000',
    'heartbeat.interval.ms': '1000',
    'connect.protocol': protocol,
  })
}

describe('[integration] connect.protocol negotiation', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-protocols-'))
  const workers: DistributedWorker[] = []
  const groups: string[] = []
  after(async () => {
    for (const w of workers) await w.stop()
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'protocols-cleanup' })
    await log
      .deleteTopics(groups.flatMap((g) => ['configs', 'offsets', 'status', 't'].map((t) => `${g}-${t}`)))
      .catch(() => {})
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const [a, b, expected] of [
    ['sessioned', 'compatible', 'compatible'],
    ['sessioned', 'eager', 'default'],
  ] as const) {
    it(`a ${a} and a ${b} worker agree on '${expected}' and run a sink's tasks`, async () => {
      const group = `sluice-proto-${randomUUID().slice(0, 8)}`
      groups.push(group)
      const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'protocols-test' })
      await log.createTopics([{ name: `${group}-t`, partitions: 2, replicationFactor: 1 }])
      await log.close()
      const first = await startDistributed(config(group, a))
      workers.push(first)
      const second = await startDistributed(config(group, b))
      workers.push(second)
      const url = `http://127.0.0.1:${second.rest.port}`
      const created = await eventually(async () => {
        const res = await request(url, 'POST', '/connectors', {
          name: 'sink',
          config: {
            'connector.class': 'FileStreamSink',
            topics: `${group}-t`,
            file: join(dir, `${group}.txt`),
            'tasks.max': '2',
          },
        })
        return res.status === 409 ? undefined : res
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      await eventually(
        async () => {
          const res = await request<{ tasks: { state: string }[] }>(url, 'GET', '/connectors/sink/status')
          return res.status === 200 &&
            res.body.tasks.length === 2 &&
            res.body.tasks.every((t) => t.state === 'RUNNING')
            ? true
            : undefined
        },
        60_000,
        'both tasks RUNNING',
      )
      const views = [first.herder.clusterView(), second.herder.clusterView()]
      for (const v of views) assert.equal(v.protocol, expected)
      assert.equal(views[0].tasks.length + views[1].tasks.length, 2)
    })
  }
})
