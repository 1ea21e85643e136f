import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { HasHeaderKey } from '../../src/transforms/predicates/has-header-key.ts'
import { RecordIsTombstone } from '../../src/transforms/predicates/record-is-tombstone.ts'
import { TopicNameMatches } from '../../src/transforms/predicates/topic-name-matches.ts'
import { sink } from './records.ts'

describe('TopicNameMatches', () => {
  test('is true only when the whole topic name matches', () => {
    const p = new TopicNameMatches()
    p.configure({ pattern: 'my-prefix-.*' })
    assert.equal(p.test(sink({ topic: 'my-prefix-orders' })), true)
    assert.equal(p.test(sink({ topic: 'x-my-prefix-orders' })), false)
    assert.equal(String(p), 'TopicNameMatches{pattern=my-prefix-.*}')
  })

  test('accepts Java inline flags', () => {
    const p = new TopicNameMatches()
    p.configure({ pattern: '(?i)ORDERS' })
    assert.equal(p.test(sink({ topic: 'orders' })), true)
  })

  test('rejects an empty or invalid pattern', () => {
    assert.throws(() => new TopicNameMatches().configure({ pattern: '' }), {
      key: 'pattern',
      message: 'Invalid value  for configuration pattern: String must be non-empty',
    })
    assert.throws(() => new TopicNameMatches().configure({ pattern: '[' }), /Invalid regex/)
    assert.throws(() => new TopicNameMatches().configure({}), { key: 'pattern' })
  })
})

describe('HasHeaderKey', () => {
  test('is true when at least one header has the name', () => {
    const p = new HasHeaderKey()
    p.configure({ name: 'h' })
    const r = sink({})
    assert.equal(p.test(r), false)
    r.headers.add('h', null)
    assert.equal(p.test(r), true)
  })

  test('requires a non-empty name', () => {
    assert.throws(() => new HasHeaderKey().configure({ name: '' }), { key: 'name' })
  })
})

describe('RecordIsTombstone', () => {
  test('is true for a null value only', () => {
    const p = new RecordIsTombstone()
    p.configure()
    assert.equal(p.test(sink({ value: null })), true)
    assert.equal(p.test(sink({ value: 'x' })), false)
  })
})
