/**
 * `PUT /connector-plugins/{plugin}/config/validate`, and the check before a connector is created:
 * the framework's keys and the connector's own, each with its errors, in Kafka Connect's
 * `ConfigInfos` shape.
 */
import type { ConfigDef, ConfigKey, ConfigValue } from '../api/config-def.ts'
import { Password } from '../api/config-def.ts'
import type { Connector, Props, SourceConnector } from '../api/connector.ts'
import { ConfigError, errorMessage } from '../api/errors.ts'
import { maskSecretValues } from '../common/secret-values.ts'
import { parseCompressionType, producerBufferMemory, sinkConsumerSettings } from '../log/log.ts'
import type { PluginRegistry } from '../plugins/plugin-registry.ts'
import { ConfigProviders, type Resolution } from './config-transformer.ts'
import { sinkConnectorConfigDef, sinkTopicErrors, sourceConnectorConfigDef } from './connector-config.ts'
import { TransformationChain } from './transformation-chain.ts'

export interface ConfigKeyInfo {
  name: string
  type: string
  required: boolean
  default_value: string | null
  importance: string
  documentation: string
  group: string | null
  width: string
  display_name: string
  dependents: string[]
  order: number
}

export interface ConfigValueInfo {
  name: string
  value: string | null
  recommended_values: string[]
  errors: string[]
  visible: boolean
}

export interface ConfigInfos {
  name: string
  error_count: number
  groups: string[]
  configs: { definition: ConfigKeyInfo | null; value: ConfigValueInfo }[]
}

export function configKeyInfo(key: ConfigKey): ConfigKeyInfo {
  let defaultValue: string | null = null
  if (!key.required && key.defaultValue !== null) {
    defaultValue =
      key.type === 'PASSWORD'
        ? Password.HIDDEN
        : Array.isArray(key.defaultValue)
          ? key.defaultValue.join(',')
          : String(key.defaultValue)
  }
  return {
    name: key.name,
    type: key.type,
    required: key.required,
    default_value: defaultValue,
    importance: key.importance,
    documentation: key.documentation,
    group: key.group ?? null,
    width: key.width,
    display_name: key.displayName,
    dependents: [...key.dependents],
    order: key.orderInGroup,
  }
}

/** What validation knows of the worker it runs on. */
export interface ValidationWorker {
  distributed?: boolean
  exactlyOnceSource?: boolean
  /** The worker's `bootstrap.servers` (distributed). */
  bootstrapServers?: readonly string[]
  /** Topics of the worker a connector's offsets must not go to, by the key that names them (distributed). */
  internalTopics?: Readonly<Record<string, string>>
}

/**
 * Validates a connector config. Never throws for bad values: errors are reported per key. Throws
 * a ConfigError only when there is no `connector.class` to validate against.
 *
 * `${provider:path:key}` references are resolved with the worker's `providers` first (as Kafka
 * Connect validates the transformed config); one that cannot be resolved is the error of its key.
 * The answer shows the references as written, never the values they stand for.
 */
export async function validateConnectorConfig(
  rawProps: Props,
  plugins: PluginRegistry,
  providers: ConfigProviders = ConfigProviders.none(),
  worker: ValidationWorker = {},
): Promise<ConfigInfos> {
  const exactlyOnceSource = worker.exactlyOnceSource ?? false
  const className = rawProps['connector.class']
  if (!className) {
    throw new ConfigError(
      'connector.class',
      `Connector config ${JSON.stringify(rawProps)} contains no connector type`,
    )
  }
  const resolution = await providers.resolve(rawProps)
  const props = resolution.props
  const descriptor = plugins.resolve<Connector>(className, ['source', 'sink'], 'connector.class')
  const connector = descriptor.create()
  const frameworkDef = descriptor.type === 'source' ? sourceConnectorConfigDef : sinkConnectorConfigDef
  const connectorDef = connector.config()
  const frameworkValues = frameworkDef.validate(props)
  let connectorValues: ConfigValue[]
  try {
    connectorValues = await connector.validate(props)
  } catch (error) {
    connectorValues = connectorDef.validate(props)
    connectorValues.push({
      name: 'connector.class',
      value: className,
      recommendedValues: [],
      errors: [`the connector's validation failed: ${errorMessage(error)}`],
      visible: true,
    })
  }
  const extra: Record<string, string[]> = {}
  const addError = (key: string, message: string) => {
    extra[key] = [...(extra[key] ?? []), message]
  }
  if (descriptor.type === 'sink')
    for (const [k, why] of Object.entries(sinkTopicErrors(props))) addError(k, why)
  else
    for (const [k, why] of Object.entries(
      exactlyOnceErrors(connector as SourceConnector, props, exactlyOnceSource),
    ))
      addError(k, why)
  if (worker.distributed && descriptor.type === 'source')
    for (const [k, why] of Object.entries(offsetsTopicErrors(props, worker))) addError(k, why)
  for (const role of ['key', 'value', 'header'] as const) {
    const key = `${role}.converter`
    const value = props[key]?.trim()
    if (!value) continue
    try {
      plugins.resolve(value, [role === 'header' ? 'header_converter' : 'converter'], key)
    } catch (error) {
      addError(key, errorMessage(error))
    }
  }
  for (const check of [
    () =>
      parseCompressionType(props['producer.override.compression.type'], 'producer.override.compression.type'),
    () => sinkConsumerSettings({}, props),
    () => producerBufferMemory({}, props),
  ]) {
    try {
      check()
    } catch (error) {
      addError(error instanceof ConfigError && error.key ? error.key : 'connector.class', errorMessage(error))
    }
  }
  try {
    TransformationChain.fromConfig(props, plugins).close()
  } catch (error) {
    addError(error instanceof ConfigError && error.key ? error.key : 'transforms', errorMessage(error))
  }
  const infos = assemble(
    className,
    [frameworkDef, connectorDef],
    [...frameworkValues, ...connectorValues],
    extra,
    props,
  )
  return resolution.keys.size === 0 ? infos : withReferences(infos, rawProps, resolution)
}

const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

/**
 * A distributed source connector's own `offsets.storage.topic` (KIP-618): a legal topic name, not
 * one of the worker's config or status topics, and on the worker's Kafka cluster. Kafka Connect
 * keeps that topic on the cluster the connector's producer writes to, which
 * `producer.override.bootstrap.servers` may change; Sluice's producers write to the worker's cluster
 * only, so such a connector is refused rather than having its offsets kept elsewhere than Connect
 * would keep them.
 */
function offsetsTopicErrors(props: Props, worker: ValidationWorker): Record<string, string> {
  const topic = (props['offsets.storage.topic'] ?? '').trim()
  if (topic === '') return {}
  const errors: Record<string, string> = {}
  if (!LEGAL_TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    errors['offsets.storage.topic'] =
      `'${topic}' is not a legal Kafka topic name: use letters, digits, '.', '_' and '-' (at most 249 characters)`
  }
  for (const [key, internal] of Object.entries(worker.internalTopics ?? {})) {
    if (topic === internal) {
      errors['offsets.storage.topic'] =
        `'${topic}' is the worker's ${key}: a connector's offsets need a topic of their own (or the worker's offset.storage.topic); choose another name`
    }
  }
  const override = props['producer.override.bootstrap.servers']
  if (override !== undefined && worker.bootstrapServers && !sameServers(override, worker.bootstrapServers)) {
    errors['producer.override.bootstrap.servers'] =
      "Kafka Connect keeps a connector's offsets.storage.topic on the cluster its producer writes to; " +
      "Sluice's source tasks write to the worker's Kafka cluster (bootstrap.servers) only: remove " +
      'producer.override.bootstrap.servers, or run the connector on workers of that cluster'
  }
  return errors
}

/** The same set of host:port entries, as Connect compares `bootstrap.servers` (order and spaces aside). */
export function sameServers(a: string | readonly string[], b: string | readonly string[]): boolean {
  const servers = (value: string | readonly string[]) =>
    [
      ...new Set(
        String(value)
          .split(',')
          .map((s) => s.trim()),
      ),
    ]
      .filter(Boolean)
      .sort()
      .join(',')
  return servers(a) === servers(b)
}

/**
 * KIP-618's preflight checks of a source connector (Java's `DistributedHerder
 * .validateSourceConnectorConfig`): `exactly.once.support=required` needs a worker with exactly-once
 * source support and a connector that declares it; `transaction.boundary=connector` needs a
 * connector that can define its transactions.
 */
function exactlyOnceErrors(
  connector: SourceConnector,
  props: Props,
  workerSupportsIt: boolean,
): Record<string, string> {
  const errors: Record<string, string> = {}
  const required = (props['exactly.once.support'] ?? '').trim().toLowerCase() === 'required'
  if (required && !workerSupportsIt) {
    errors['exactly.once.support'] =
      'This worker does not have exactly-once source support enabled: set exactly.once.source.support=enabled ' +
      'on the distributed workers (or run on the embedded log, where it is the default), or set ' +
      'exactly.once.support=requested'
  } else if (required) {
    let support: string | null
    try {
      support = connector.exactlyOnceSupport(props)
    } catch (error) {
      support = null
      errors['exactly.once.support'] =
        `The connector could not tell whether it supports exactly-once: ${errorMessage(error)}`
    }
    if (support === null && errors['exactly.once.support'] === undefined) {
      errors['exactly.once.support'] =
        'The connector does not implement the API required for preflight validation of exactly-once source ' +
        'support. Please consult the documentation for the connector to determine whether it supports exactly-once ' +
        'guarantees, and then consider reconfiguring the connector to use the value "requested" for this property ' +
        '(which will disable this preflight check and allow the connector to be created).'
    } else if (support === 'UNSUPPORTED') {
      errors['exactly.once.support'] =
        'The connector does not support exactly-once semantics with the provided configuration: set ' +
        'exactly.once.support=requested, or change the configuration'
    }
  }
  if (workerSupportsIt && (props['transaction.boundary'] ?? '').trim().toLowerCase() === 'connector') {
    let boundaries: string
    try {
      boundaries = connector.canDefineTransactionBoundaries(props)
    } catch (error) {
      boundaries = `UNSUPPORTED (${errorMessage(error)})`
    }
    if (boundaries !== 'SUPPORTED') {
      errors['transaction.boundary'] =
        'The connector does not support connector-defined transaction boundaries with the given configuration. ' +
        'Please reconfigure it to use a different transaction boundary definition: transaction.boundary=poll or interval.'
    }
  }
  return errors
}

/**
 * The validation answer as the user wrote the config: each key holding references shows them, a
 * key whose reference failed has that error alone (not the type errors of the unresolved text),
 * and no message quotes a resolved value (a value appears as its reference, or masked).
 */
function withReferences(infos: ConfigInfos, rawProps: Props, resolution: Resolution): ConfigInfos {
  const back = [...resolution.values]
    .filter(([, value]) => value.length > 0)
    .sort((a, b) => b[1].length - a[1].length)
  const unresolve = (text: string): string => {
    let out = text
    for (const [reference, value] of back) if (out.includes(value)) out = out.split(value).join(reference)
    return maskSecretValues(out)
  }
  const configs = infos.configs.map(({ definition, value }) => {
    const failed = resolution.errors[value.name]
    return {
      definition,
      value: {
        ...value,
        value: resolution.keys.has(value.name) ? (rawProps[value.name] ?? null) : value.value,
        errors: failed ? [...failed] : value.errors.map(unresolve),
      },
    }
  })
  for (const [key, errors] of Object.entries(resolution.errors)) {
    if (configs.some((c) => c.value.name === key)) continue
    configs.push({
      definition: null,
      value: {
        name: key,
        value: rawProps[key] ?? null,
        recommended_values: [],
        errors: [...errors],
        visible: true,
      },
    })
  }
  return {
    ...infos,
    error_count: configs.reduce((n, c) => n + c.value.errors.length, 0),
    configs,
  }
}

function assemble(
  name: string,
  defs: ConfigDef[],
  values: ConfigValue[],
  extra: Record<string, string[]>,
  props: Props,
): ConfigInfos {
  const seen = new Map<string, { definition: ConfigKeyInfo | null; value: ConfigValueInfo }>()
  const groups: string[] = []
  for (const def of defs) for (const g of def.groups()) if (!groups.includes(g)) groups.push(g)
  for (const value of values) {
    if (seen.has(value.name)) {
      seen
        .get(value.name)!
        .value.errors.push(...value.errors.filter((e) => !seen.get(value.name)!.value.errors.includes(e)))
      continue
    }
    const key = defs.map((d) => d.key(value.name)).find(Boolean)
    seen.set(value.name, {
      definition: key ? configKeyInfo(key) : null,
      value: {
        name: value.name,
        value: value.value,
        recommended_values: value.recommendedValues.map(String),
        errors: [...value.errors],
        visible: value.visible,
      },
    })
  }
  for (const [key, errors] of Object.entries(extra)) {
    const entry = seen.get(key)
    if (entry) entry.value.errors.push(...errors)
    else {
      seen.set(key, {
        definition: null,
        value: { name: key, value: props[key] ?? null, recommended_values: [], errors, visible: true },
      })
    }
  }
  const configs = [...seen.values()]
  return {
    name,
    error_count: configs.reduce((n, c) => n + c.value.errors.length, 0),
    groups,
    configs,
  }
}

/** Kafka Connect's 400 message for a create/update with invalid config. */
export function invalidConfigMessage(infos: ConfigInfos): string {
  const messages = infos.configs.flatMap((c) => c.value.errors.map((e) => e))
  return [
    `Connector configuration is invalid and contains the following ${messages.length} error(s):`,
    ...messages,
    'You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`',
  ].join('\n')
}
