/**
 * Worker keys of the services a worker can serve besides Kafka Connect's REST API: a
 * Confluent-compatible schema registry (`schema.registry.*`) and a Confluent REST Proxy produce API
 * (`rest.proxy.*`). Both are off unless their listeners are set. Part of every worker config
 * (worker-config.ts defines them all).
 */
import { ConfigDef, Range, validator } from '../api/config-def.ts'

const LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
]

const httpListeners = validator('http://host:port list', (value) => {
  for (const listener of value as string[]) {
    if (!/^http:\/\/(\[[^\]]*\]|[^:/]*)?:\d{1,5}\/?$/.test(listener)) {
      return `'${listener}' is not http://host:port — write e.g. http://0.0.0.0:8081 (https is not served yet)`
    }
  }
  return (value as string[]).length > 1 ? 'only one listener is served; give one http://host:port' : undefined
})

export const servicesConfigDef = new ConfigDef()
  .define({
    name: 'schema.registry.listeners',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: 'Schema registry',
    documentation:
      'Serve a Confluent-compatible schema registry on this listener (http://host:port, e.g. http://0.0.0.0:8081; port 0 picks a free one). Off when empty. Clients and converters use it as their schema.registry.url.',
    validator: httpListeners,
  })
  .define({
    name: 'schema.registry.advertised.url',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: 'Schema registry',
    documentation:
      "The URL other workers forward registry writes to when this worker is the registry's leader. Default: http://<rest.advertised.host.name, else the listener's host, else (a wildcard listener) the machine's host name>:<the listener's port>.",
  })
  .define({
    name: 'schema.registry.topic',
    type: 'STRING',
    defaultValue: '_schemas',
    importance: 'MEDIUM',
    group: 'Schema registry',
    documentation:
      "The compacted, single-partition topic that holds the registry (Confluent's kafkastore.topic, same record format). Created when missing.",
  })
  .define({
    name: 'schema.registry.topic.replication.factor',
    type: 'SHORT',
    defaultValue: -1,
    importance: 'LOW',
    group: 'Schema registry',
    documentation: "Replication factor of the registry topic when it is created; -1 is the broker's default.",
    validator: validator('-1 or at least 1', (value) =>
      (value as number) === -1 || (value as number) >= 1 ? undefined : 'must be -1 or at least 1',
    ),
  })
  .define({
    name: 'schema.registry.compatibility.level',
    type: 'STRING',
    defaultValue: 'BACKWARD',
    importance: 'MEDIUM',
    group: 'Schema registry',
    documentation:
      "The global compatibility level until one is set with PUT /config (Confluent's schema.compatibility.level): NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE.",
    validator: validator(LEVELS.join(', '), (value) =>
      LEVELS.includes(String(value).toUpperCase()) ? undefined : `must be one of ${LEVELS.join(', ')}`,
    ),
  })
  .define({
    name: 'schema.registry.group.id',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    group: 'Schema registry',
    documentation:
      'On Kafka: the Kafka group in which the workers serving the registry elect the one that writes its topic (the others forward writes to it). Default: schema-registry for the topic _schemas, schema-registry-<topic> for another topic, so registries on different topics never share a writer.',
  })
  .define({
    name: 'schema.registry.leader.eligibility',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    group: 'Schema registry',
    documentation: 'On Kafka: whether this worker may be elected to write the registry topic.',
  })
  .define({
    name: 'rest.proxy.listeners',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: 'REST proxy',
    documentation:
      "Serve Confluent REST Proxy's produce API (v2 POST /topics/{topic}, v3 records) on this listener (http://host:port, e.g. http://0.0.0.0:8082). Off when empty. Records go to the worker's log; Avro and JSON Schema formats use the worker's schema registry, which runs in the worker (without a listener of its own unless schema.registry.listeners is set).",
    validator: httpListeners,
  })
  .define({
    name: 'rest.proxy.auto.create.topics',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    group: 'REST proxy',
    documentation:
      "Whether producing to a topic that does not exist creates it with the log's defaults (as a broker's auto.create.topics.enable=true does for Confluent's proxy); when false such a request is answered 404 with error code 40401.",
  })
  .define({
    name: 'rest.proxy.batch.maximum.entries',
    type: 'INT',
    defaultValue: 10,
    importance: 'LOW',
    group: 'REST proxy',
    documentation:
      "The most entries one v3 records:batch request may carry (Confluent's api.v3.produce.batch.maximum.entries).",
    validator: Range.atLeast(1),
  })
