/**
 * [integration] The config store reads config topics as Kafka Connect writes them (records
 * produced here byte for byte in its format): task configs apply only at their commit, a commit
 * whose task records were compacted away marks the connector inconsistent (no tasks), older
 * target-state records without `state.v2` are understood, deletes are tombstones, and the config
 * offset is the offset after the last record.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createLogger } from '../../src/common/logger.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import type { Log } from '../../src/log/log.ts'
import { KafkaConfigStore } from '../../src/storage/kafka/kafka-config-store.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

const skip = kafkaSkipReason()

describe('[integration] KafkaConfigStore on records Kafka Connect wrote', { skip, timeout: 60_000 }, () => {
  const topic = `sluice-config-store-${randomUUID().slice(0, 8)}`
  let log: Log
  let store: KafkaConfigStore | undefined

  before(async () => {
    log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'config-store-test' })
    await log.createTopics([
      { name: topic, partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
    ])
    const producer = log.createProducer({ clientId: 'config-store-test' })
    const record = (key: string, value: unknown) => ({
      topic,
      partition: 0,
      key: Buffer.from(key),
      value: value === null ? null : Buffer.from(JSON.stringify(value)),
    })
    await producer.send([
      record('connector-a', { properties: { 'connector.class': 'FileStreamSource', name: 'a' } }),
      record('task-a-0', {
        properties: { file: 'x', 'task.class': 'org.apache.kafka.connect.file.FileStreamSourceTask' },
      }),
      record('task-a-1', { properties: { file: 'y' } }),
      record('commit-a', { tasks: 2 }),
      // A later generation of task configs not committed yet: must not be visible.
      record('task-a-0', { properties: { file: 'z' } }),
      // b: a commit of 2 tasks whose task records were compacted away.
      record('connector-b', { properties: { 'connector.class': 'FileStreamSink', name: 'b' } }),
      record('commit-b', { tasks: 2 }),
      // c: target state as a pre-KIP-875 worker writes it, then deleted.
      record('connector-c', { properties: { 'connector.class': 'FileStreamSink', name: 'c' } }),
      record('target-state-c', { state: 'PAUSED' }),
      record('connector-d', { properties: { 'connector.class': 'FileStreamSink', name: 'd' } }),
      record('target-state-d', { state: 'PAUSED', 'state.v2': 'STOPPED' }),
      record('connector-c', null),
      record('target-state-c', null),
      record('session-key', {
        key: Buffer.alloc(32, 1).toString('base64'),
        algorithm: 'HmacSHA256',
        'creation-timestamp': 1700000000000,
      }),
      record('logger-cluster-org.foo', { level: 'DEBUG' }),
    ])
    await producer.close()
  })

  after(async () => {
    await store?.stop()
    await log?.deleteTopics([topic]).catch(() => {})
    await log?.close()
  })

  it('builds the snapshot Kafka Connect would', async () => {
    store = new KafkaConfigStore(log, topic, 'config-store-test', createLogger({ level: 'error' }))
    await store.start()
    assert.equal(store.offset, 15, 'the offset after the last record')
    assert.deepEqual(store.connectors(), ['a', 'b', 'd'])
    assert.deepEqual(
      store.taskConfigs('a').map((c) => c.file),
      ['x', 'y'],
      'task configs apply at their commit only',
    )
    assert.equal(store.inconsistent('b'), true)
    assert.deepEqual(store.taskConfigs('b'), [])
    assert.equal(store.targetState('a'), 'STARTED', 'no record means STARTED')
    assert.equal(store.targetState('d'), 'STOPPED', 'state.v2 wins over the legacy state')
    assert.equal(store.connectorConfig('c'), undefined)
    assert.equal(store.sessionKey?.algorithm, 'HmacSHA256')
    assert.equal(store.sessionKey?.creationTimestamp, 1700000000000)
  })

  it('writes task configs, then reads them back applied at the commit', async () => {
    assert.ok(store)
    await store.putTaskConfigs('b', [{ file: 'p' }, { file: 'q' }, { file: 'r' }])
    assert.equal(store.inconsistent('b'), false)
    assert.deepEqual(
      store.taskConfigs('b').map((c) => c.file),
      ['p', 'q', 'r'],
    )
    await store.putTargetState('a', 'STOPPED')
    await store.readToEnd()
    assert.equal(store.targetState('a'), 'STOPPED')
  })

  it("tracks Kafka Connect's pending fencing: task configs committed after the last task-count record", async () => {
    assert.ok(store)
    assert.equal(store.pendingFencing('a'), true, 'a commit and no task-count record')
    await store.putTaskCountRecord('a', 2)
    await store.readToEnd()
    assert.equal(store.pendingFencing('a'), false)
    assert.equal(store.taskCountRecord('a'), 2)
    await store.putTaskConfigs('a', [{ file: 'n' }])
    assert.equal(store.pendingFencing('a'), true, 'new task configs after the record')
    await store.putTaskCountRecord('a', 1)
    await store.readToEnd()
    assert.equal(store.pendingFencing('a'), false)
  })
})
