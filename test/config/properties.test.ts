import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../src/api/errors.ts'
import { parseProperties, propertiesFromEnv } from '../../src/config/properties.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'

describe('properties files', () => {
  it('reads keys, separators, comments, continuations and escapes as Java does', () => {
    const props = parseProperties(
      [
        '# comment',
        '! also a comment',
        'bootstrap.servers=localhost:9092',
        'key.converter : org.apache.kafka.connect.json.JsonConverter',
        'plugin.path /a,\\',
        '    /b',
        'tab\\tkey=line\\nbreak',
        'unicode=\\u00e9t\\u00e9',
        'empty=',
      ].join('\n'),
    )
    assert.deepEqual(props, {
      'bootstrap.servers': 'localhost:9092',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'plugin.path': '/a,/b',
      'tab\tkey': 'line\nbreak',
      unicode: 'été',
      empty: '',
    })
  })

  it('maps CONNECT_ and SLUICE_ environment variables to keys like the Confluent images', () => {
    const env = {
      CONNECT_BOOTSTRAP_SERVERS: 'k:9092',
      SLUICE_OFFSET_FLUSH_INTERVAL__MS: 'x',
      CONNECT_A___B: 'y',
      HOME: '/root',
    }
    assert.deepEqual(propertiesFromEnv(env), {
      'bootstrap.servers': 'k:9092',
      'offset.flush.interval_ms': 'x',
      'a-b': 'y',
    })
  })

  it("maps as the Confluent images' env_to_props does (its own examples), config providers included", () => {
    // confluent-docker-utils dub.py and common-docker ub.go: `__` is `_`, `___` is `-` (their docs
    // page says the reverse; the images do this).
    assert.deepEqual(
      propertiesFromEnv({
        CONNECT_WITH__UNDERSCORE: 'foo',
        CONNECT_WITH___DASH: 'bar',
        CONNECT_REST_ADVERTISED_HOST_NAME: 'worker-0',
        CONNECT_CONFIG_PROVIDERS: 'secrets',
        CONNECT_CONFIG_PROVIDERS_SECRETS_CLASS: 'io.strimzi.kafka.KubernetesSecretConfigProvider',
        CONNECT_CONFIG_PROVIDERS_SECRETS_PARAM_TTL_MS: '60000',
      }),
      {
        with_underscore: 'foo',
        'with-dash': 'bar',
        'rest.advertised.host.name': 'worker-0',
        'config.providers': 'secrets',
        'config.providers.secrets.class': 'io.strimzi.kafka.KubernetesSecretConfigProvider',
        'config.providers.secrets.param.ttl.ms': '60000',
      },
    )
  })
})

describe('worker config', () => {
  it('runs embedded when no bootstrap.servers is given', () => {
    assert.equal(new WorkerConfig({}).embedded, true)
    assert.equal(new WorkerConfig({ 'bootstrap.servers': 'localhost:9092' }).embedded, false)
  })

  it('rejects a malformed broker list with the key and the fix', () => {
    assert.throws(
      () => new WorkerConfig({ 'bootstrap.servers': 'localhost' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.key === 'bootstrap.servers' &&
        /write e.g. localhost:9092/.test(error.message),
    )
  })

  it('rejects a listener that is not protocol://host:port', () => {
    assert.throws(() => new WorkerConfig({ listeners: 'localhost8083' }).restListener, /listeners/)
    assert.deepEqual(new WorkerConfig({ listeners: 'http://127.0.0.1:0' }).restListener, {
      protocol: 'http',
      host: '127.0.0.1',
      port: 0,
    })
  })
})
