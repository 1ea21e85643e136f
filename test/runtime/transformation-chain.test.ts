import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Schemas } from '../../src/api/data/schema.ts'
import { SourceRecord } from '../../src/api/records.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'
import { validateConnectorConfig } from '../../src/runtime/config-validation.ts'
import { TransformationChain } from '../../src/runtime/transformation-chain.ts'

const plugins = builtInPlugins()
const base = { 'connector.class': 'FileStreamSource', name: 'c', topic: 't' }

describe('the transformation chain', () => {
  it('reports a transform config error under the connector key transforms.<alias>.<key>', async () => {
    const infos = await validateConnectorConfig(
      {
        ...base,
        transforms: 'route',
        'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
      },
      plugins,
    )
    const bad = infos.configs.find((c) => c.value.errors.length > 0)
    assert.ok(bad, 'an error is reported')
    assert.match(bad.value.name, /^transforms\.route\.(regex|replacement)$/)
  })

  it('applies transforms in order, guarded by a predicate whose negate is case-insensitive', () => {
    const chain = TransformationChain.fromConfig<SourceRecord>(
      {
        ...base,
        transforms: 'route',
        'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
        'transforms.route.regex': '(.*)',
        'transforms.route.replacement': 'routed-$1',
        'transforms.route.predicate': 'isOrders',
        'transforms.route.negate': 'TRUE',
        predicates: 'isOrders',
        'predicates.isOrders.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
        'predicates.isOrders.pattern': 'orders',
      },
      plugins,
    )
    const record = (topic: string) => new SourceRecord({ topic, valueSchema: Schemas.STRING, value: 'v' })
    assert.equal(chain.apply(record('orders'))!.topic, 'orders', 'negated: matching topics are left alone')
    assert.equal(chain.apply(record('users'))!.topic, 'routed-users')
  })
})
