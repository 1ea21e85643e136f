/**
 * Worker keys of the services a worker can serve besides Kafka Connect's REST API: a
 * Confluent-compatible schema registry (`schema.registry.*`) and a Confluent REST Proxy produce API
 * (`rest.proxy.*`). Both are off unless their listeners are set. Part of every worker config
 * (worker-config.ts defines them all).
 */
import { ConfigDef, Range, ValidString, validator } from '../api/config-def.ts'

const LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
]

const httpListeners = validator('http(s)://host:port list', (value) => {
  for (const listener of value as string[]) {
    if (!/^https?:\/\/(\[[^\]]*\]|[^:/]*)?:\d{1,5}\/?$/.test(listener)) {
      return `'${listener}' is not http://host:port or https://host:port — write e.g. http://0.0.0.0:8081`
    }
  }
  return (value as string[]).length > 1
    ? 'only one listener is served; give one http://host:port or https://host:port'
    : undefined
})

/**
 * TLS and HTTP basic authentication of a service's listener: Confluent's rest-utils keys
 * (`RestConfig`: `ssl.*`, `authentication.*`) under the service's prefix, plus
 * `authentication.credentials.file`, the file Confluent names in its JAAS login module.
 */
function defineListenerSecurity(def: ConfigDef, prefix: string, group: string, service: string): ConfigDef {
  const key = (name: string) => `${prefix}${name}`
  return def
    .define({
      name: key('ssl.keystore.location'),
      type: 'STRING',
      defaultValue: '',
      importance: 'HIGH',
      group,
      documentation: `For an https ${key('listeners')}: the keystore with the ${service}'s private key and certificate chain, a PKCS12 store (keytool's default; a .jks file keytool wrote as PKCS12 reads too) or a PEM file (key and chain). JKS stores are refused with the keytool command that converts them.`,
    })
    .define({
      name: key('ssl.keystore.password'),
      type: 'PASSWORD',
      defaultValue: '',
      importance: 'HIGH',
      group,
      documentation: `The password of the PKCS12 keystore at ${key('ssl.keystore.location')}.`,
    })
    .define({
      name: key('ssl.key.password'),
      type: 'PASSWORD',
      defaultValue: '',
      importance: 'HIGH',
      group,
      documentation: `The password of the private key (an encrypted PEM key, or a PKCS12 key protected apart from the store); default: ${key('ssl.keystore.password')}.`,
    })
    .define({
      name: key('ssl.keystore.type'),
      type: 'STRING',
      defaultValue: '',
      importance: 'LOW',
      group,
      documentation:
        "PKCS12, PEM or JKS (Confluent's default name); Sluice reads the format from the file itself, so a JKS-named PKCS12 store works.",
      validator: validator('empty, PKCS12, PEM or JKS', (value) =>
        ['', 'PKCS12', 'PEM', 'JKS'].includes(String(value).toUpperCase()) ? undefined : 'use PKCS12 or PEM',
      ),
    })
    .define({
      name: key('ssl.truststore.location'),
      type: 'STRING',
      defaultValue: '',
      importance: 'MEDIUM',
      group,
      documentation: `The CA certificates that verify client certificates (with ${key('ssl.client.authentication')} REQUESTED or REQUIRED): a PKCS12 truststore or a PEM bundle.`,
    })
    .define({
      name: key('ssl.truststore.password'),
      type: 'PASSWORD',
      defaultValue: '',
      importance: 'MEDIUM',
      group,
      documentation: `The password of the PKCS12 truststore at ${key('ssl.truststore.location')}.`,
    })
    .define({
      name: key('ssl.truststore.type'),
      type: 'STRING',
      defaultValue: '',
      importance: 'LOW',
      group,
      documentation: 'PKCS12, PEM or JKS; the format is read from the file itself.',
      validator: validator('empty, PKCS12, PEM or JKS', (value) =>
        ['', 'PKCS12', 'PEM', 'JKS'].includes(String(value).toUpperCase()) ? undefined : 'use PKCS12 or PEM',
      ),
    })
    .define({
      name: key('ssl.client.authentication'),
      type: 'STRING',
      defaultValue: 'NONE',
      importance: 'MEDIUM',
      group,
      documentation:
        'TLS client authentication: NONE, REQUESTED (a client certificate is asked for and, when given, verified) or REQUIRED (a connection without a valid client certificate is refused).',
      validator: ValidString.inIgnoringCase('NONE', 'REQUESTED', 'REQUIRED'),
    })
    .define({
      name: key('ssl.client.auth'),
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      group,
      documentation: `Deprecated (as in Confluent's rest-utils): true means ${key('ssl.client.authentication')}=REQUIRED.`,
    })
    .define({
      name: key('authentication.method'),
      type: 'STRING',
      defaultValue: 'NONE',
      importance: 'MEDIUM',
      group,
      documentation: `NONE, or BASIC: every request needs HTTP basic auth with a user of ${key('authentication.credentials.file')} (refused: 401 with error code 401). BEARER is not served.`,
      validator: ValidString.inIgnoringCase('NONE', 'BASIC', 'BEARER'),
    })
    .define({
      name: key('authentication.realm'),
      type: 'STRING',
      defaultValue: '',
      importance: 'LOW',
      group,
      documentation:
        'The realm named in the WWW-Authenticate challenge (in Confluent, also the JAAS section of the login module).',
    })
    .define({
      name: key('authentication.roles'),
      type: 'LIST',
      defaultValue: '*',
      importance: 'LOW',
      group,
      documentation:
        'The roles allowed in: * (or **) lets every authenticated user in; otherwise a user needs one of the listed roles (else 403); an empty list lets nobody in.',
    })
    .define({
      name: key('authentication.skip.paths'),
      type: 'LIST',
      defaultValue: '',
      importance: 'LOW',
      group,
      documentation:
        'Paths served without authentication (e.g. /); a path ending in /* covers everything below it.',
    })
    .define({
      name: key('authentication.credentials.file'),
      type: 'STRING',
      defaultValue: '',
      importance: 'MEDIUM',
      group,
      documentation:
        "With authentication.method=BASIC: the users, in the format of Jetty's PropertyFileLoginModule file that Confluent's JAAS config points to (one `user: password[,role ...]` line per user; a password may be MD5:<hex digest>).",
    })
}

const base = new ConfigDef()
  .define({
    name: 'schema.registry.listeners',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: 'Schema registry',
    documentation:
      'Serve a Confluent-compatible schema registry on this listener (http://host:port or https://host:port, e.g. http://0.0.0.0:8081; port 0 picks a free one). Off when empty. Clients and converters use it as their schema.registry.url. https takes the schema.registry.ssl.* keys.',
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
      "Serve Confluent REST Proxy's produce API (v2 POST /topics/{topic}, v3 records) on this listener (http://host:port or https://host:port, e.g. http://0.0.0.0:8082; https takes the rest.proxy.ssl.* keys). Off when empty. Records go to the worker's log; Avro and JSON Schema formats use the worker's schema registry, which runs in the worker (without a listener of its own unless schema.registry.listeners is set).",
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

export const servicesConfigDef = defineListenerSecurity(
  defineListenerSecurity(base, 'schema.registry.', 'Schema registry', 'schema registry'),
  'rest.proxy.',
  'REST proxy',
  'REST proxy',
)
