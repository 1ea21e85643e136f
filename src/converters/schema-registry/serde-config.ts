/**
 * The keys every schema-registry converter shares (Confluent's `AbstractKafkaSchemaSerDeConfig` and
 * `SchemaRegistryClientConfig`), as the AvroConverter and JsonSchemaConverter read them from
 * `key.converter.*` / `value.converter.*`.
 */
import {
  type ConfigDef,
  type Password,
  type Validator,
  ValidString,
  validator,
} from '../../api/config-def.ts'
import { ConfigError } from '../../api/errors.ts'
import { readKeyStore, readTrustStore } from '../../common/key-stores.ts'
import type { RegistryClientTls, SchemaRegistryClientOptions } from './schema-registry-client.ts'
import {
  DEFAULT_SUBJECT_NAME_STRATEGY,
  type SubjectNameStrategy,
  subjectNameStrategy,
} from './subject-name-strategy.ts'
import { SCHEMA_ID_HEADERS } from './wire-format.ts'

export const SCHEMA_REGISTRY_URL_CONFIG = 'schema.registry.url'
export const AUTO_REGISTER_SCHEMAS_CONFIG = 'auto.register.schemas'
export const USE_LATEST_VERSION_CONFIG = 'use.latest.version'
export const USE_SCHEMA_ID_CONFIG = 'use.schema.id'
export const NORMALIZE_SCHEMAS_CONFIG = 'normalize.schemas'
export const KEY_SUBJECT_NAME_STRATEGY_CONFIG = 'key.subject.name.strategy'
export const VALUE_SUBJECT_NAME_STRATEGY_CONFIG = 'value.subject.name.strategy'
export const BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG = 'basic.auth.credentials.source'
export const USER_INFO_CONFIG = 'basic.auth.user.info'
export const SCHEMA_REGISTRY_USER_INFO_CONFIG = 'schema.registry.basic.auth.user.info'
export const MAX_SCHEMAS_PER_SUBJECT_CONFIG = 'max.schemas.per.subject'
export const LATEST_CACHE_TTL_CONFIG = 'latest.cache.ttl.sec'
export const MAX_RETRIES_CONFIG = 'max.retries'
export const RETRIES_WAIT_MS_CONFIG = 'retries.wait.ms'
export const RETRIES_MAX_WAIT_MS_CONFIG = 'retries.max.wait.ms'
export const HTTP_READ_TIMEOUT_MS_CONFIG = 'http.read.timeout.ms'
export const KEY_SCHEMA_ID_SERIALIZER_CONFIG = 'key.schema.id.serializer'
export const VALUE_SCHEMA_ID_SERIALIZER_CONFIG = 'value.schema.id.serializer'
export const KEY_SCHEMA_ID_DESERIALIZER_CONFIG = 'key.schema.id.deserializer'
export const VALUE_SCHEMA_ID_DESERIALIZER_CONFIG = 'value.schema.id.deserializer'
/** Confluent's `SchemaRegistryClientConfig.CLIENT_NAMESPACE` before the client's `ssl.*` keys. */
export const SSL_PREFIX = 'schema.registry.'

const GROUP = 'Schema Registry'

/** Where Confluent's `SchemaIdSerializer` / `SchemaIdDeserializer` implementations live. */
const ID_PACKAGE = 'io.confluent.kafka.serializers.schema.id.'
const SERIALIZERS = ['PrefixSchemaIdSerializer', 'HeaderSchemaIdSerializer']
const DESERIALIZERS = ['DualSchemaIdDeserializer', 'PrefixSchemaIdDeserializer']

/** The simple name of one of `allowed`, given by Java class name or simple name. */
function idClassName(value: string): string {
  return value.startsWith(ID_PACKAGE) ? value.slice(ID_PACKAGE.length) : value
}

function idClass(allowed: string[]): Validator {
  return validator(allowed.join(' or '), (value) =>
    allowed.includes(idClassName(String(value)))
      ? undefined
      : `must be ${allowed.map((a) => ID_PACKAGE + a).join(' or ')}`,
  )
}

/** Adds the shared keys to a converter's ConfigDef. */
export function defineSerdeConfig(def: ConfigDef): ConfigDef {
  let order = 0
  const base = { group: GROUP } as const
  return def
    .define({
      ...base,
      orderInGroup: order++,
      name: SCHEMA_REGISTRY_URL_CONFIG,
      type: 'LIST',
      importance: 'HIGH',
      documentation:
        'Comma-separated list of URLs for Schema Registry instances that can be used to register or look up schemas. A request that cannot reach one URL is sent to the next.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: AUTO_REGISTER_SCHEMAS_CONFIG,
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'MEDIUM',
      documentation: 'Specify if the Serializer should attempt to register the Schema with Schema Registry',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: USE_LATEST_VERSION_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      documentation:
        'Specify if the Serializer should use the latest subject version for serialization (with auto.register.schemas=false).',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: USE_SCHEMA_ID_CONFIG,
      type: 'INT',
      defaultValue: -1,
      importance: 'LOW',
      documentation:
        'Schema ID to use for serialization (-1: the schema of the data). Applies with auto.register.schemas=false.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: NORMALIZE_SCHEMAS_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      documentation:
        'Whether to normalize schemas, which generally ignores ordering when it is not significant',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: KEY_SUBJECT_NAME_STRATEGY_CONFIG,
      type: 'CLASS',
      defaultValue: DEFAULT_SUBJECT_NAME_STRATEGY,
      importance: 'MEDIUM',
      documentation:
        'Determines how to construct the subject name under which the key schema is registered with the schema registry. By default, <topic>-key is used as subject.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
      type: 'CLASS',
      defaultValue: DEFAULT_SUBJECT_NAME_STRATEGY,
      importance: 'MEDIUM',
      documentation:
        'Determines how to construct the subject name under which the value schema is registered with the schema registry. By default, <topic>-value is used as subject.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG,
      type: 'STRING',
      defaultValue: 'URL',
      validator: ValidString.in('URL', 'USER_INFO'),
      importance: 'MEDIUM',
      documentation:
        'Specify how to pick the credentials for Basic Auth header. The supported values are URL (the user:password@ of the URL) and USER_INFO (basic.auth.user.info).',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: USER_INFO_CONFIG,
      type: 'PASSWORD',
      defaultValue: '',
      importance: 'MEDIUM',
      documentation: 'Specify the user info for Basic Auth in the form of {username}:{password}',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: SCHEMA_REGISTRY_USER_INFO_CONFIG,
      type: 'PASSWORD',
      defaultValue: '',
      importance: 'MEDIUM',
      documentation: `Deprecated alias of ${USER_INFO_CONFIG}.`,
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: MAX_SCHEMAS_PER_SUBJECT_CONFIG,
      type: 'INT',
      defaultValue: 1000,
      importance: 'LOW',
      documentation: 'Maximum number of schemas to create or cache locally.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: LATEST_CACHE_TTL_CONFIG,
      type: 'INT',
      defaultValue: -1,
      importance: 'LOW',
      documentation: 'TTL in seconds for caching the latest schema of a subject (-1: no expiry).',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: MAX_RETRIES_CONFIG,
      type: 'INT',
      defaultValue: 3,
      importance: 'LOW',
      documentation:
        'Maximum number of retries of a request the registry did not answer (unreachable, 5xx, 429).',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: RETRIES_WAIT_MS_CONFIG,
      type: 'INT',
      defaultValue: 1000,
      importance: 'LOW',
      documentation: 'Time to wait before the first retry of a request; doubled at each retry.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: RETRIES_MAX_WAIT_MS_CONFIG,
      type: 'INT',
      defaultValue: 20000,
      importance: 'LOW',
      documentation: 'Maximum time to wait before retrying a request.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: HTTP_READ_TIMEOUT_MS_CONFIG,
      type: 'INT',
      defaultValue: 60000,
      importance: 'LOW',
      documentation: 'Time to wait for the registry to answer one request.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: `${SSL_PREFIX}ssl.truststore.location`,
      type: 'STRING',
      defaultValue: '',
      importance: 'MEDIUM',
      documentation:
        "For an https schema.registry.url: the CA certificates that verify the registry, a PKCS12 truststore or a PEM bundle (default: the system's CAs). JKS stores are refused with the keytool command that converts them.",
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: `${SSL_PREFIX}ssl.truststore.password`,
      type: 'PASSWORD',
      defaultValue: '',
      importance: 'MEDIUM',
      documentation: 'The password of the PKCS12 truststore.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: `${SSL_PREFIX}ssl.truststore.type`,
      type: 'STRING',
      defaultValue: '',
      importance: 'LOW',
      documentation: 'PKCS12, PEM or JKS; the format is read from the file itself.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: `${SSL_PREFIX}ssl.keystore.location`,
      type: 'STRING',
      defaultValue: '',
      importance: 'LOW',
      documentation:
        'For a registry that asks for client certificates: the key and certificate chain to present, a PKCS12 keystore or a PEM file.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: `${SSL_PREFIX}ssl.keystore.password`,
      type: 'PASSWORD',
      defaultValue: '',
      importance: 'LOW',
      documentation: 'The password of the PKCS12 keystore.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: `${SSL_PREFIX}ssl.key.password`,
      type: 'PASSWORD',
      defaultValue: '',
      importance: 'LOW',
      documentation: 'The password of the private key; default: the keystore password.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: `${SSL_PREFIX}ssl.keystore.type`,
      type: 'STRING',
      defaultValue: '',
      importance: 'LOW',
      documentation: 'PKCS12, PEM or JKS; the format is read from the file itself.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: `${SSL_PREFIX}ssl.endpoint.identification.algorithm`,
      type: 'STRING',
      defaultValue: 'https',
      importance: 'LOW',
      documentation:
        "https: the registry's certificate must name its host; empty: any host name is accepted (the certificate is still verified).",
    })
}

/** The client's TLS settings from the `schema.registry.ssl.*` keys; undefined when none is set. */
function clientTls(parsed: Readonly<Record<string, unknown>>): RegistryClientTls | undefined {
  const text = (name: string): string | undefined => {
    const value = parsed[`${SSL_PREFIX}${name}`]
    const s =
      value instanceof Object && 'value' in value ? (value as Password).value : (value as string | null)
    return s ? s : undefined
  }
  const store = (kind: 'keystore' | 'truststore') => ({
    location: text(`ssl.${kind}.location`)!,
    locationKey: `${SSL_PREFIX}ssl.${kind}.location`,
    password: text(`ssl.${kind}.password`),
    passwordKey: `${SSL_PREFIX}ssl.${kind}.password`,
    type: text(`ssl.${kind}.type`),
    typeKey: `${SSL_PREFIX}ssl.${kind}.type`,
  })
  const tls: RegistryClientTls = {}
  if (text('ssl.truststore.location')) tls.ca = readTrustStore(store('truststore'))
  if (text('ssl.keystore.location')) {
    Object.assign(
      tls,
      readKeyStore(store('keystore'), {
        key: `${SSL_PREFIX}ssl.key.password`,
        value: text('ssl.key.password'),
      }),
    )
  }
  if (!text('ssl.endpoint.identification.algorithm')) tls.verifyHostname = false
  return Object.keys(tls).length === 0 ? undefined : tls
}

/**
 * The keys that choose where the schema id travels (`SchemaIdSerializer` / `SchemaIdDeserializer`),
 * for a converter that implements both framings (the AvroConverter).
 */
export function defineSchemaIdConfig(def: ConfigDef): ConfigDef {
  return def
    .define({
      group: GROUP,
      name: KEY_SCHEMA_ID_SERIALIZER_CONFIG,
      type: 'CLASS',
      defaultValue: `${ID_PACKAGE}PrefixSchemaIdSerializer`,
      importance: 'MEDIUM',
      documentation: `Determines how to serialize the ID for the key schema: PrefixSchemaIdSerializer (magic byte 0 and the 4-byte id before the payload) or HeaderSchemaIdSerializer (the schema's GUID after magic byte 1 in the ${SCHEMA_ID_HEADERS.key} header; the payload alone). Package ${ID_PACKAGE}.`,
      validator: idClass(SERIALIZERS),
    })
    .define({
      group: GROUP,
      name: VALUE_SCHEMA_ID_SERIALIZER_CONFIG,
      type: 'CLASS',
      defaultValue: `${ID_PACKAGE}PrefixSchemaIdSerializer`,
      importance: 'MEDIUM',
      documentation: `Determines how to serialize the ID for the value schema: PrefixSchemaIdSerializer or HeaderSchemaIdSerializer (the ${SCHEMA_ID_HEADERS.value} header).`,
      validator: idClass(SERIALIZERS),
    })
    .define({
      group: GROUP,
      name: KEY_SCHEMA_ID_DESERIALIZER_CONFIG,
      type: 'CLASS',
      defaultValue: `${ID_PACKAGE}DualSchemaIdDeserializer`,
      importance: 'MEDIUM',
      documentation: `Determines how to deserialize the ID for the key schema: DualSchemaIdDeserializer (the ${SCHEMA_ID_HEADERS.key} header when the record has it, else the payload's prefix) or PrefixSchemaIdDeserializer (the prefix only).`,
      validator: idClass(DESERIALIZERS),
    })
    .define({
      group: GROUP,
      name: VALUE_SCHEMA_ID_DESERIALIZER_CONFIG,
      type: 'CLASS',
      defaultValue: `${ID_PACKAGE}DualSchemaIdDeserializer`,
      importance: 'MEDIUM',
      documentation: `Determines how to deserialize the ID for the value schema: DualSchemaIdDeserializer (the ${SCHEMA_ID_HEADERS.value} header, else the prefix) or PrefixSchemaIdDeserializer.`,
      validator: idClass(DESERIALIZERS),
    })
}

export interface SerdeSettings {
  client: SchemaRegistryClientOptions
  autoRegister: boolean
  useLatestVersion: boolean
  useSchemaId: number
  normalize: boolean
  keySubject: SubjectNameStrategy
  valueSubject: SubjectNameStrategy
  /** Where the writer puts the schema id: before the payload, or in the record header. */
  keyIdIn: 'prefix' | 'header'
  valueIdIn: 'prefix' | 'header'
  /** Whether the reader looks at the record header first (Dual) or at the prefix only. */
  keyIdFromHeader: boolean
  valueIdFromHeader: boolean
}

/** The shared settings from parsed keys; a ConfigError naming the key when they do not fit together. */
export function serdeSettings(parsed: Readonly<Record<string, unknown>>): SerdeSettings {
  const urls = (parsed[SCHEMA_REGISTRY_URL_CONFIG] as string[] | null) ?? []
  if (urls.length === 0) {
    throw new ConfigError(
      SCHEMA_REGISTRY_URL_CONFIG,
      `Missing required configuration "${SCHEMA_REGISTRY_URL_CONFIG}" which has no default value: set it to the registry URL(s), e.g. http://localhost:8081`,
    )
  }
  const source = parsed[BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG] as string
  const userInfo =
    (parsed[USER_INFO_CONFIG] as Password).value ||
    (parsed[SCHEMA_REGISTRY_USER_INFO_CONFIG] as Password).value
  if (source === 'USER_INFO' && userInfo === '') {
    throw new ConfigError(
      USER_INFO_CONFIG,
      `${BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG}=USER_INFO needs ${USER_INFO_CONFIG} in the form {username}:{password}`,
    )
  }
  if (source === 'USER_INFO' && !userInfo.includes(':')) {
    throw new ConfigError(USER_INFO_CONFIG, `${USER_INFO_CONFIG} must be in the form {username}:{password}`)
  }
  const ttl = parsed[LATEST_CACHE_TTL_CONFIG] as number
  return {
    client: {
      urls,
      userInfo: source === 'USER_INFO' ? userInfo : undefined,
      credentialsFromUrl: source === 'URL',
      maxRetries: Math.max(0, parsed[MAX_RETRIES_CONFIG] as number),
      retryWaitMs: Math.max(0, parsed[RETRIES_WAIT_MS_CONFIG] as number),
      retryMaxWaitMs: Math.max(0, parsed[RETRIES_MAX_WAIT_MS_CONFIG] as number),
      requestTimeoutMs: Math.max(1, parsed[HTTP_READ_TIMEOUT_MS_CONFIG] as number),
      cacheCapacity: Math.max(1, parsed[MAX_SCHEMAS_PER_SUBJECT_CONFIG] as number),
      latestCacheTtlMs: ttl < 0 ? -1 : ttl * 1000,
      tls: clientTls(parsed),
    },
    autoRegister: parsed[AUTO_REGISTER_SCHEMAS_CONFIG] as boolean,
    useLatestVersion: parsed[USE_LATEST_VERSION_CONFIG] as boolean,
    useSchemaId: parsed[USE_SCHEMA_ID_CONFIG] as number,
    normalize: parsed[NORMALIZE_SCHEMAS_CONFIG] as boolean,
    keySubject: subjectNameStrategy(
      parsed[KEY_SUBJECT_NAME_STRATEGY_CONFIG] as string,
      KEY_SUBJECT_NAME_STRATEGY_CONFIG,
    ),
    valueSubject: subjectNameStrategy(
      parsed[VALUE_SUBJECT_NAME_STRATEGY_CONFIG] as string,
      VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
    ),
    keyIdIn: idClassName(String(parsed[KEY_SCHEMA_ID_SERIALIZER_CONFIG] ?? '')).startsWith('Header')
      ? 'header'
      : 'prefix',
    valueIdIn: idClassName(String(parsed[VALUE_SCHEMA_ID_SERIALIZER_CONFIG] ?? '')).startsWith('Header')
      ? 'header'
      : 'prefix',
    keyIdFromHeader: idClassName(String(parsed[KEY_SCHEMA_ID_DESERIALIZER_CONFIG] ?? '')).startsWith('Dual'),
    valueIdFromHeader: idClassName(String(parsed[VALUE_SCHEMA_ID_DESERIALIZER_CONFIG] ?? '')).startsWith(
      'Dual',
    ),
  }
}
