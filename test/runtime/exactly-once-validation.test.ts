/**
 * KIP-618's preflight checks at validation (Kafka Connect's `validateSourceConnectorConfig`): the
 * exactly-once keys are declared in Connect's groups, `exactly.once.support=required` needs a worker
 * with exactly-once enabled and a connector that declares support, and `transaction.boundary=connector`
 * needs a connector that defines its own transactions. Each error names its key.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { sinkConsumerSettings } from '../../src/log/log.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'
import { ConfigProviders } from '../../src/runtime/config-transformer.ts'
import { type ConfigInfos, validateConnectorConfig } from '../../src/runtime/config-validation.ts'

const plugins = builtInPlugins()

function errorsOf(infos: ConfigInfos): Record<string, string[]> {
  return Object.fromEntries(
    infos.configs.filter((c) => c.value.errors.length > 0).map((c) => [c.value.name, c.value.errors]),
  )
}

const fileSource = { name: 'f', 'connector.class': 'FileStreamSource', file: '/tmp/in.txt', topic: 't' }

/** What a distributed worker with exactly.once.source.support=enabled passes. */
const EOS_WORKER = { distributed: true, exactlyOnceSource: true }

describe('exactly-once source validation', () => {
  test('the keys are in the groups Kafka Connect shows, with its defaults', async () => {
    const infos = await validateConnectorConfig(fileSource, plugins)
    assert.deepEqual(infos.groups.slice(-2), ['Exactly Once Support', 'offsets.topic'])
    const byName = new Map(infos.configs.map((c) => [c.definition?.name, c.definition]))
    assert.equal(byName.get('exactly.once.support')?.default_value, 'requested')
    assert.equal(byName.get('transaction.boundary')?.default_value, 'poll')
    assert.equal(byName.get('transaction.boundary.interval.ms')?.default_value, null)
    assert.equal(byName.get('offsets.storage.topic')?.group, 'offsets.topic')
    assert.equal(infos.error_count, 0)
  })

  test('required on a worker without exactly-once support names the key and the worker setting', async () => {
    const infos = await validateConnectorConfig(
      { ...fileSource, 'exactly.once.support': 'required' },
      plugins,
    )
    assert.match(errorsOf(infos)['exactly.once.support']?.[0] ?? '', /exactly.once.source.support=enabled/)
  })

  test('required on a connector that cannot (a file source on stdin) is refused; one that can passes', async () => {
    const stdin = {
      name: 's',
      'connector.class': 'FileStreamSource',
      topic: 't',
      'exactly.once.support': 'required',
    }
    const refused = await validateConnectorConfig(stdin, plugins, ConfigProviders.none(), EOS_WORKER)
    assert.equal(refused.error_count, 1)
    assert.match(errorsOf(refused)['exactly.once.support']?.[0] ?? '', /does not support exactly-once/)
    const accepted = await validateConnectorConfig(
      { ...fileSource, 'exactly.once.support': 'required' },
      plugins,
      ConfigProviders.none(),
      EOS_WORKER,
    )
    assert.equal(accepted.error_count, 0)
  })

  test('transaction.boundary=connector on a connector that cannot define transactions names the key', async () => {
    const infos = await validateConnectorConfig(
      { ...fileSource, 'transaction.boundary': 'connector' },
      plugins,
      ConfigProviders.none(),
      EOS_WORKER,
    )
    assert.deepEqual(Object.keys(errorsOf(infos)), ['transaction.boundary'])
  })

  test('bad values of the keys are refused by their validators', async () => {
    const infos = await validateConnectorConfig(
      { ...fileSource, 'exactly.once.support': 'always', 'transaction.boundary': 'commit' },
      plugins,
    )
    assert.deepEqual(Object.keys(errorsOf(infos)).sort(), ['exactly.once.support', 'transaction.boundary'])
  })

  test('standalone on Kafka refuses exactly.once.source.support=enabled at startup, naming the key', () => {
    assert.throws(
      () =>
        new WorkerConfig({
          'bootstrap.servers': '127.0.0.1:9092',
          'exactly.once.source.support': 'enabled',
        }),
      (error: Error & { key?: string }) =>
        error.key === 'exactly.once.source.support' && /distributed/.test(error.message),
    )
    const kafka = new WorkerConfig({
      'bootstrap.servers': '127.0.0.1:9092',
      'exactly.once.source.support': 'disabled',
    })
    assert.equal(kafka.exactlyOnceSource, 'disabled')
  })

  test('on the embedded log exactly-once is the default; disabled turns it off; preparing is refused naming the key', () => {
    assert.equal(new WorkerConfig({}).exactlyOnceSource, 'enabled')
    assert.equal(new WorkerConfig({ 'exactly.once.source.support': 'enabled' }).exactlyOnceSource, 'enabled')
    assert.equal(
      new WorkerConfig({ 'exactly.once.source.support': 'disabled' }).exactlyOnceSource,
      'disabled',
    )
    assert.throws(
      () => new WorkerConfig({ 'exactly.once.source.support': 'preparing' }),
      (error: Error & { key?: string }) =>
        error.key === 'exactly.once.source.support' && /embedded log/.test(error.message),
    )
  })

  test('a sink consumer takes isolation.level from consumer.override.*, and refuses other values naming the key', () => {
    assert.equal(
      sinkConsumerSettings({}, { 'consumer.override.isolation.level': 'read_committed' }).isolationLevel,
      'read_committed',
    )
    assert.equal(
      sinkConsumerSettings({ 'consumer.isolation.level': 'read_committed' }, {}).isolationLevel,
      'read_committed',
    )
    assert.throws(
      () => sinkConsumerSettings({}, { 'consumer.override.isolation.level': 'committed' }),
      (error: Error & { key?: string }) => error.key === 'consumer.override.isolation.level',
    )
  })

  test("a connector's own offsets.storage.topic is accepted; bad names, the worker's topics and another cluster are refused", async () => {
    const worker = {
      distributed: true,
      bootstrapServers: ['k1:9092', 'k2:9092'],
      internalTopics: { 'config.storage.topic': 'connect-configs', 'status.storage.topic': 'connect-status' },
    }
    const validate = (extra: Record<string, string>, w: typeof worker | undefined = worker) =>
      validateConnectorConfig({ ...fileSource, ...extra }, plugins, ConfigProviders.none(), w).then(errorsOf)
    assert.deepEqual(await validate({ 'offsets.storage.topic': 'my-connector-offsets' }), {})
    // The same brokers in another order and spacing are the worker's cluster.
    assert.deepEqual(
      await validate({
        'offsets.storage.topic': 'my-connector-offsets',
        'producer.override.bootstrap.servers': 'k2:9092, k1:9092',
      }),
      {},
    )
    assert.match(
      (await validate({ 'offsets.storage.topic': 'my offsets!' }))['offsets.storage.topic']?.[0] ?? '',
      /not a legal Kafka topic name/,
    )
    assert.match(
      (await validate({ 'offsets.storage.topic': 'connect-status' }))['offsets.storage.topic']?.[0] ?? '',
      /worker's status\.storage\.topic/,
    )
    const otherCluster = await validate({
      'offsets.storage.topic': 'my-connector-offsets',
      'producer.override.bootstrap.servers': 'elsewhere:9092',
    })
    assert.deepEqual(Object.keys(otherCluster), ['producer.override.bootstrap.servers'])
    assert.match(
      otherCluster['producer.override.bootstrap.servers'][0],
      /remove producer\.override\.bootstrap\.servers/,
    )
    // Standalone, as in Connect, the key has no effect: nothing to refuse.
    const standalone = await validateConnectorConfig(
      { ...fileSource, 'offsets.storage.topic': 'my offsets!' },
      plugins,
    )
    assert.equal(standalone.error_count, 0)
  })
})
