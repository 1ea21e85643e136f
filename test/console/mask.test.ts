/** The console's pure rules: which config values are masked or shown as references, and pasted configs. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parsePastedConfig, references, shownValue } from '../../src/console/mask.ts'

describe('config values as the console shows them', () => {
  const passwords = new Set(['connection.password'])

  it('masks keys the ConfigDef declares PASSWORD and keys named like secrets', () => {
    assert.deepEqual(shownValue('connection.password', 'pw', passwords), { kind: 'masked', length: 2 })
    for (const key of [
      'db.secret',
      'aws.secret.access.key',
      'api.key',
      'sasl.jaas.config',
      'auth.token',
      'x.credentials',
    ])
      assert.equal(shownValue(key, 'v', new Set()).kind, 'masked', key)
    assert.deepEqual(shownValue('topic', 'orders', passwords), { kind: 'plain', text: 'orders' })
    // An empty password is nothing to hide.
    assert.deepEqual(shownValue('connection.password', '', passwords), { kind: 'plain', text: '' })
  })

  it('shows config provider references as written, even in secret keys', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: config provider references
    const value = 'jdbc:postgresql://${file:/etc/db.properties:host}/${env:DB}'
    assert.deepEqual(shownValue('connection.url', value, passwords), {
      kind: 'reference',
      text: value,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: config provider references
      references: ['${file:/etc/db.properties:host}', '${env:DB}'],
    })
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a config provider reference
    assert.equal(shownValue('connection.password', '${vault:secret/db:pw}', passwords).kind, 'reference')
    assert.deepEqual(references('no refs, $ {x} or {y}'), [])
  })
})

describe('a pasted connector config', () => {
  it('reads Connect’s create body, a flat JSON object and .properties lines', () => {
    assert.deepEqual(
      parsePastedConfig('{"name": "a", "config": {"topic": "t", "tasks.max": 2, "x": null}}'),
      {
        name: 'a',
        config: { topic: 't', 'tasks.max': '2' },
      },
    )
    assert.deepEqual(parsePastedConfig('{"name": "b", "topic": "t", "flag": true}'), {
      name: 'b',
      config: { name: 'b', topic: 't', flag: 'true' },
    })
    const properties = [
      '# a comment',
      '! another',
      'name=c',
      'topic : orders',
      'file /tmp/in.txt',
      'transforms=a,\\',
      '  b',
      'escaped\\=key=\\u0041\\tz',
      'empty',
    ].join('\n')
    assert.deepEqual(parsePastedConfig(properties), {
      name: 'c',
      config: {
        name: 'c',
        topic: 'orders',
        file: '/tmp/in.txt',
        transforms: 'a,b',
        'escaped=key': 'A\tz',
        empty: '',
      },
    })
  })

  it('says what is wrong with what it cannot read', () => {
    assert.throws(() => parsePastedConfig('  '), /Nothing to read/)
    assert.throws(() => parsePastedConfig('{"name": '), /not valid JSON/)
    assert.throws(() => parsePastedConfig('[{"name": "a"}]'), /not a list/)
    assert.throws(
      () => parsePastedConfig('{"config": {"topics": ["a", "b"]}}'),
      /"topics" is a list: .*comma-separated/,
    )
    assert.throws(() => parsePastedConfig('{"config": {"x": {"y": 1}}}'), /"x" is an object/)
  })
})
