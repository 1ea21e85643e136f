/**
 * Sink consumers honour `consumer.auto.offset.reset` / `consumer.max.poll.records` (worker) and
 * `consumer.override.*` (connector, which wins): a sink created with `latest` sees only records written
 * after it joined. Values Sluice cannot honour are refused naming the key.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { type StandaloneWorker, startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { producerBufferMemory, sinkConsumerSettings } from '../../src/log/log.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

describe('sink consumer settings', () => {
  it('reads the worker keys, lets the connector override them, and names the key of a bad value', () => {
    assert.deepEqual(sinkConsumerSettings({}, {}), {})
    assert.deepEqual(
      sinkConsumerSettings(
        { 'consumer.auto.offset.reset': 'latest', 'consumer.max.poll.records': '2000' },
        { 'consumer.override.auto.offset.reset': 'EARLIEST' },
      ),
      { autoOffsetReset: 'earliest', maxPollRecords: 2000 },
    )
    assert.throws(
      () => sinkConsumerSettings({}, { 'consumer.override.auto.offset.reset': 'none' }),
      (e: Error & { key?: string }) =>
        e.key === 'consumer.override.auto.offset.reset' && /not supported/.test(e.message),
    )
    assert.throws(
      () => sinkConsumerSettings({ 'consumer.max.poll.records': '0' }, {}),
      (e: Error & { key?: string }) => e.key === 'consumer.max.poll.records',
    )
  })

  it('reads the group timings, the connector overriding the worker, and refuses a heartbeat not below the session', () => {
    assert.deepEqual(
      sinkConsumerSettings(
        { 'consumer.session.timeout.ms': '10000', 'consumer.heartbeat.interval.ms': '3000' },
        { 'consumer.override.session.timeout.ms': '6000', 'consumer.override.heartbeat.interval.ms': '1000' },
      ),
      { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 },
    )
    assert.throws(
      () => sinkConsumerSettings({ 'consumer.session.timeout.ms': 'soon' }, {}),
      (e: Error & { key?: string }) => e.key === 'consumer.session.timeout.ms',
    )
    assert.throws(
      () =>
        sinkConsumerSettings(
          { 'consumer.heartbeat.interval.ms': '3000' },
          { 'consumer.override.session.timeout.ms': '2000' },
        ),
      (e: Error & { key?: string }) =>
        e.key === 'consumer.heartbeat.interval.ms' &&
        /consumer\.override\.session\.timeout\.ms/.test(e.message),
    )
  })

  it('reads the fetch byte limits and the producer buffer.memory, the connector overriding the worker', () => {
    assert.deepEqual(
      sinkConsumerSettings(
        { 'consumer.fetch.max.bytes': '8388608', 'consumer.max.partition.fetch.bytes': '524288' },
        { 'consumer.override.max.partition.fetch.bytes': '65536' },
      ),
      { fetchMaxBytes: 8_388_608, maxPartitionFetchBytes: 65_536 },
    )
    assert.throws(
      () => sinkConsumerSettings({}, { 'consumer.override.fetch.max.bytes': '-1' }),
      (e: Error & { key?: string }) => e.key === 'consumer.override.fetch.max.bytes',
    )
    assert.equal(producerBufferMemory({}, {}), undefined)
    assert.equal(
      producerBufferMemory(
        { 'producer.buffer.memory': '16777216' },
        { 'producer.override.buffer.memory': '1048576' },
      ),
      1_048_576,
    )
    assert.equal(producerBufferMemory({ 'producer.buffer.memory': '16777216' }, {}), 16_777_216)
    assert.throws(
      () => producerBufferMemory({ 'producer.buffer.memory': '32MB' }, {}),
      (e: Error & { key?: string }) => e.key === 'producer.buffer.memory' && /at least 1/.test(e.message),
    )
  })

  it('refuses a worker whose consumer.auto.offset.reset cannot be honoured, at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-consumer-settings-'))
    try {
      await assert.rejects(
        startStandalone(
          new WorkerConfig({
            'sluice.data.dir': dir,
            listeners: 'http://127.0.0.1:0',
            'consumer.auto.offset.reset': 'none',
            'log.level': 'error',
          }),
        ),
        (e: Error & { key?: string }) => e.key === 'consumer.auto.offset.reset',
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('a sink with consumer.override.auto.offset.reset=latest on the embedded log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-latest-'))
  let worker: StandaloneWorker
  after(async () => {
    await worker?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('reads only what is written after it joined; a bad override is a 400 naming the key', async () => {
    worker = await startStandalone(
      new WorkerConfig({
        'sluice.data.dir': join(dir, 'data'),
        listeners: 'http://127.0.0.1:0',
        'offset.flush.interval.ms': '200',
        'log.level': 'error',
      }),
    )
    const base = `http://127.0.0.1:${worker.rest.port}`
    const producer = worker.log.createProducer({ clientId: 'latest-test' })
    const send = (values: string[]) =>
      producer.send(values.map((v) => ({ topic: 'words', key: null, value: Buffer.from(v) })))
    await send(['old-1', 'old-2', 'old-3'])
    const output = join(dir, 'out.txt')
    const sink = (name: string, extra: Record<string, string>) =>
      request(base, 'POST', '/connectors', {
        name,
        config: {
          'connector.class': 'FileStreamSink',
          file: output,
          topics: 'words',
          'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
          ...extra,
        },
      })
    const bad = await sink('bad', { 'consumer.override.max.poll.records': '-1' })
    assert.equal(bad.status, 400)
    assert.match(JSON.stringify(bad.body), /consumer\.override\.max\.poll\.records/)
    assert.equal((await sink('latest', { 'consumer.override.auto.offset.reset': 'latest' })).status, 201)
    await eventually(
      async () => {
        const status = await request<{ tasks: { state: string }[] }>(base, 'GET', '/connectors/latest/status')
        return status.body?.tasks?.[0]?.state === 'RUNNING' ? true : undefined
      },
      20_000,
      'the sink task running',
    )
    // The consumer has found its (latest) position once it polled; give it that moment.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    await send(['new-1', 'new-2'])
    const lines = await eventually(
      async () => {
        if (!existsSync(output)) return undefined
        const text = readFileSync(output, 'utf8').trim().split('\n')
        return text.length >= 2 ? text : undefined
      },
      20_000,
      'the new lines',
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.deepEqual(readFileSync(output, 'utf8').trim().split('\n'), ['new-1', 'new-2'])
    assert.deepEqual(lines, ['new-1', 'new-2'])
    await producer.close()
  })
})

describe('a standalone worker on Kafka with consumer.session.timeout.ms', { skip: kafkaSkipReason() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-session-'))
  let child: ChildProcess | undefined
  after(() => {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it("lets the group give a killed worker's partitions to another member within seconds, not 45", async () => {
    const suffix = Math.random().toString(36).slice(2, 8)
    const topic = `session-${suffix}`
    const name = `session-sink-${suffix}`
    const groupId = `connect-${name}`
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'session-test' })
    const admin = new Admin({ clientId: 'session-test', bootstrapBrokers: [kafkaBootstrap()] })
    const consumer = log.createConsumer({ groupId, clientId: 'session-test' })
    try {
      await log.createTopics([{ name: topic, partitions: 2 }])
      writeFileSync(
        join(dir, 'worker.properties'),
        `bootstrap.servers=${kafkaBootstrap()}\nsluice.data.dir=${join(dir, 'data')}\nlisteners=http://127.0.0.1:0\n` +
          'consumer.session.timeout.ms=3000\nconsumer.heartbeat.interval.ms=500\nlog.level=warn\n',
      )
      writeFileSync(
        join(dir, 'sink.json'),
        JSON.stringify({
          name,
          config: { 'connector.class': 'FileStreamSink', file: join(dir, 'out.txt'), topics: topic },
        }),
      )
      const main = resolve(import.meta.dirname, '../../src/cli/main.ts')
      child = spawn(
        process.execPath,
        [main, 'standalone', join(dir, 'worker.properties'), join(dir, 'sink.json')],
        {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      )
      await eventually(
        async () => {
          const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId)
          return /^stable$/i.test(String(group?.state)) && group?.members.size === 1 ? true : undefined
        },
        60_000,
        "the worker's sink consumer in the group",
      )
      child.kill('SIGKILL')
      await new Promise((resolve) => child!.once('exit', resolve))
      const killed = Date.now()
      // A new member's join completes once the coordinator expired the dead one's session.
      await consumer.subscribe([topic])
      await eventually(
        async () => {
          await consumer.poll(200)
          return consumer.assignment().length === 2 ? true : undefined
        },
        60_000,
        'both partitions with the new member',
      )
      const elapsed = Date.now() - killed
      process.stderr.write(`partitions reassigned ${elapsed} ms after the kill (session 3000 ms)\n`)
      assert.ok(elapsed < 15_000, `took ${elapsed} ms; the default session (45 s) was used`)
    } finally {
      await consumer.close()
      await admin.close()
      await log.close()
    }
  })
})
