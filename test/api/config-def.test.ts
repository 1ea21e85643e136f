import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AbstractConfig, ConfigDef, Password, Range, ValidString } from '../../src/api/config-def.ts'
import { ConfigError } from '../../src/api/errors.ts'

const def = new ConfigDef()
  .define({
    name: 'tasks.max',
    type: 'INT',
    defaultValue: 1,
    importance: 'HIGH',
    documentation: 'd',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'mode',
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'd',
    validator: ValidString.in('bulk', 'incrementing'),
  })
  .define({ name: 'password', type: 'PASSWORD', defaultValue: null, importance: 'HIGH', documentation: 'd' })
  .define({ name: 'tables', type: 'LIST', defaultValue: '', importance: 'LOW', documentation: 'd' })
  .define({ name: 'enabled', type: 'BOOLEAN', defaultValue: false, importance: 'LOW', documentation: 'd' })

describe('ConfigDef', () => {
  it('parses typed values from strings and applies defaults', () => {
    const parsed = def.parse({ mode: 'bulk', tables: 'a, b ,c', enabled: 'TRUE' })
    assert.equal(parsed['tasks.max'], 1)
    assert.deepEqual(parsed.tables, ['a', 'b', 'c'])
    assert.equal(parsed.enabled, true)
    assert.ok(Object.isFrozen(parsed))
  })

  it('fails on the first bad key with Kafka wording and the key attached', () => {
    assert.throws(
      () => def.parse({ mode: 'bulk', 'tasks.max': '0' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.key === 'tasks.max' &&
        error.message === 'Invalid value 0 for configuration tasks.max: Value must be at least 1',
    )
    assert.throws(
      () => def.parse({}),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === 'Missing required configuration "mode" which has no default value.',
    )
  })

  it('validate reports every key at once without throwing', () => {
    const values = def.validate({ 'tasks.max': 'x', mode: 'nope' })
    const errors = Object.fromEntries(values.map((v) => [v.name, v.errors]))
    assert.match(errors['tasks.max'][0], /Not a number of type INT/)
    assert.match(errors.mode[0], /String must be one of: bulk, incrementing/)
    assert.deepEqual(errors.password, [])
  })

  it('never shows a password: validate, JSON and string forms are hidden', () => {
    const values = def.validate({ mode: 'bulk', password: 's3cret' })
    assert.equal(values.find((v) => v.name === 'password')!.value, '[hidden]')
    const config = new AbstractConfig(def, { mode: 'bulk', password: 's3cret' })
    const password = config.getPassword('password')!
    assert.equal(password.value, 's3cret')
    assert.equal(JSON.stringify({ password }), '{"password":"[hidden]"}')
    assert.equal(`${password}`, '[hidden]')
    assert.ok(password instanceof Password)
  })

  it('keeps originals and gives prefixed sub-configs', () => {
    const config = new AbstractConfig(def, { mode: 'bulk', 'value.converter.schemas.enable': 'false' })
    assert.deepEqual(config.originalsWithPrefix('value.converter.'), { 'schemas.enable': 'false' })
  })
})
