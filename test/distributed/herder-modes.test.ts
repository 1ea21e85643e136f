/**
 * [integration] What both herders answer alike, standalone (embedded log) and distributed (Kafka):
 * KIP-875's offsets (`GET/PATCH/DELETE /connectors/{c}/offsets`, one module behind both) and task
 * configs naming their task class as Kafka Connect does (`task.class`).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { startDistributed } from '../../src/cli/distributed.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { distributedTestConfig } from '../helpers/worker.ts'
import { startTestWorker } from '../rest/worker.ts'

const FIXTURES = resolve(import.meta.dirname, 'fixtures')
const skipDistributed = kafkaSkipReason()

interface Mode {
  name: string
  skip: string | false
  /** Starts a worker; resolves with its base URL and the topic its source may write to. */
  start(): Promise<{ base: string; topic: string; stop(): Promise<void> }>
}

const modes: Mode[] = [
  {
    name: 'standalone',
    skip: false,
    async start() {
      const w = await startTestWorker({ 'plugin.path': FIXTURES })
      return { base: w.base, topic: 'modes-t', stop: () => w.close() }
    },
  },
  {
    name: 'distributed',
    skip: skipDistributed,
    async start() {
      const group = `sluice-modes-${randomUUID().slice(0, 8)}`
      const topics = ['configs', 'offsets', 'status', 't'].map((t) => `${group}-${t}`)
      const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'modes-test' })
      await log.createTopics([{ name: `${group}-t`, partitions: 1, replicationFactor: 1 }])
      await log.close()
      const worker = await startDistributed(
        distributedTestConfig(group, {
          'offset.storage.partitions': '2',
          'status.storage.partitions': '2',
          'offset.flush.interval.ms': '200',
          'plugin.path': FIXTURES,
        }),
      )
      return {
        base: `http://127.0.0.1:${worker.rest.port}`,
        topic: `${group}-t`,
        async stop() {
          await worker.stop()
          const cleanup = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'modes-cleanup' })
          await cleanup.deleteTopics(topics).catch(() => {})
          await cleanup.close()
        },
      }
    },
  },
]

const STOPPED_FIRST =
  "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint"

for (const mode of modes) {
  describe(`[integration] ${mode.name} herder: offsets and task configs`, {
    skip: mode.skip,
    timeout: 120_000,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), `sluice-modes-${mode.name}-`))
    let worker: Awaited<ReturnType<Mode['start']>> | undefined
    after(async () => {
      await worker?.stop()
      rmSync(dir, { recursive: true, force: true })
    })

    /** Retries 409s: a distributed worker answers them while it rebalances after a change. */
    const call = <T>(method: string, path: string, body?: unknown) =>
      eventually(async () => {
        const res = await request<T>(worker!.base, method, path, body)
        return res.status === 409 ? undefined : res
      })

    it('names the task class as Kafka Connect does in GET /connectors/{c}/tasks', async () => {
      worker = await mode.start()
      const input = join(dir, 'in.txt')
      writeFileSync(input, '')
      const created = await call('POST', '/connectors', {
        name: 'src',
        config: { 'connector.class': 'FileStreamSource', file: input, topic: worker.topic },
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const tasks = await eventually(async () => {
        const res = await request<{ config: Record<string, string> }[]>(
          worker!.base,
          'GET',
          '/connectors/src/tasks',
        )
        return res.status === 200 && res.body.length === 1 ? res.body : undefined
      })
      assert.equal(tasks[0].config['task.class'], 'org.apache.kafka.connect.file.FileStreamSourceTask')
    })

    it('refuses offset changes while running, then alters and resets them once STOPPED', async () => {
      const base = worker!.base
      const input = join(dir, 'in.txt')
      appendFileSync(input, 'one\ntwo\n')
      const partition = { filename: input }
      await eventually(async () => {
        const res = await request<{ offsets: { offset: { position: number } }[] }>(
          base,
          'GET',
          '/connectors/src/offsets',
        )
        return res.body.offsets[0]?.offset.position === 8 ? true : undefined
      })
      const running = await call('DELETE', '/connectors/src/offsets')
      assert.deepEqual([running.status, running.body], [400, { error_code: 400, message: STOPPED_FIRST }])
      assert.equal((await call('PUT', '/connectors/src/stop')).status, 204)
      await eventually(async () => {
        const res = await request<unknown[]>(base, 'GET', '/connectors/src/tasks')
        return res.body.length === 0 ? true : undefined
      })
      const altered = await call<{ message: string }>('PATCH', '/connectors/src/offsets', {
        offsets: [{ partition, offset: { position: 4 } }],
      })
      assert.equal(altered.status, 200, JSON.stringify(altered.body))
      assert.match(altered.body.message, /have been altered successfully/)
      await eventually(async () => {
        const res = await request<{ offsets: unknown[] }>(base, 'GET', '/connectors/src/offsets')
        return JSON.stringify(res.body.offsets) === JSON.stringify([{ partition, offset: { position: 4 } }])
          ? true
          : undefined
      })
      const reset = await call<{ message: string }>('DELETE', '/connectors/src/offsets')
      assert.equal(reset.status, 200, JSON.stringify(reset.body))
      assert.match(reset.body.message, /have been reset successfully/)
      await eventually(async () => {
        const res = await request<{ offsets: unknown[] }>(base, 'GET', '/connectors/src/offsets')
        return res.body.offsets.length === 0 ? true : undefined
      })
    })

    it("answers 500 naming the connector when the connector's alterOffsets refuses", async () => {
      const created = await call('POST', '/connectors', {
        name: 'refuse',
        config: { 'connector.class': 'test.RefusingSource' },
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      assert.equal((await call('PUT', '/connectors/refuse/stop')).status, 204)
      const refused = await eventually(async () => {
        const res = await call('PATCH', '/connectors/refuse/offsets', {
          offsets: [{ partition: { p: 1 }, offset: { o: 1 } }],
        })
        // 400 while the stop is still being applied (tasks not yet removed).
        return res.status === 400 ? undefined : res
      })
      assert.deepEqual(
        [refused.status, refused.body],
        [
          500,
          {
            error_code: 500,
            message: 'Failed to modify offsets for connector refuse: offsets are kept in the source system',
          },
        ],
      )
    })
  })
}
