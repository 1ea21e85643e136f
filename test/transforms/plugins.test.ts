import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SinkRecord } from '../../src/api/records.ts'
import type { Predicate, Transformation } from '../../src/api/transformation.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'
import { TransformationChain } from '../../src/runtime/transformation-chain.ts'
import { plugins } from '../../src/transforms/index.ts'

describe('built-in transform plugins', () => {
  test("list every Kafka SMT with its $Key/$Value variants, the predicates and Debezium's SMTs", () => {
    const names = plugins.map((p) => p.className)
    for (const base of [
      'Cast',
      'ExtractField',
      'Flatten',
      'HeaderFrom',
      'HoistField',
      'InsertField',
      'MaskField',
      'ReplaceField',
      'SetSchemaMetadata',
      'TimestampConverter',
    ]) {
      assert.ok(names.includes(`org.apache.kafka.connect.transforms.${base}$Key`), base)
      assert.ok(names.includes(`org.apache.kafka.connect.transforms.${base}$Value`), base)
    }
    for (const single of [
      'DropHeaders',
      'Filter',
      'InsertHeader',
      'RegexRouter',
      'TimestampRouter',
      'ValueToKey',
    ]) {
      assert.ok(names.includes(`org.apache.kafka.connect.transforms.${single}`), single)
    }
    for (const p of ['TopicNameMatches', 'HasHeaderKey', 'RecordIsTombstone']) {
      assert.equal(
        plugins.find((d) => d.className === `org.apache.kafka.connect.transforms.predicates.${p}`)?.type,
        'predicate',
      )
    }
    for (const d of [
      'io.debezium.transforms.ExtractNewRecordState',
      'io.debezium.transforms.outbox.EventRouter',
      'io.debezium.transforms.ByLogicalTableRouter',
    ]) {
      assert.ok(names.includes(d), d)
    }
  })

  test('each plugin creates a fresh instance with a ConfigDef', () => {
    for (const p of plugins) {
      const a = p.create() as Transformation | Predicate
      assert.notEqual(a, p.create())
      assert.ok(a.config().configKeys)
    }
  })

  test('are registered with the worker and run in a chain under a predicate, by full and simple names', () => {
    const chain = TransformationChain.fromConfig<SinkRecord>(
      {
        transforms: 'route,drop',
        'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
        'transforms.route.regex': '(.*)',
        'transforms.route.replacement': 'x-$1',
        'transforms.drop.type': 'Filter',
        'transforms.drop.predicate': 'isTombstone',
        predicates: 'isTombstone',
        'predicates.isTombstone.type': 'RecordIsTombstone',
      },
      builtInPlugins(),
    )
    const kept = chain.apply(new SinkRecord({ topic: 't', value: 1, kafkaOffset: 0 }))
    assert.equal(kept?.topic, 'x-t')
    assert.equal(chain.apply(new SinkRecord({ topic: 't', value: null, kafkaOffset: 0 })), null)
  })

  test('a bad transform config fails with a ConfigError naming the key', () => {
    assert.throws(
      () =>
        TransformationChain.fromConfig(
          { transforms: 'c', 'transforms.c.type': 'org.apache.kafka.connect.transforms.Cast$Value' },
          builtInPlugins(),
        ),
      { name: 'ConfigError', key: 'transforms.c.spec' },
    )
  })
})

describe('docs/reference/transforms.md', () => {
  test('is what scripts/gen-transform-docs.ts generates from the ConfigDefs', async () => {
    const { readFileSync } = await import('node:fs')
    const { transformDocs } = await import('../../scripts/gen-transform-docs.ts')
    assert.equal(
      readFileSync(new URL('../../docs/reference/transforms.md', import.meta.url), 'utf8'),
      transformDocs(),
    )
  })
})
