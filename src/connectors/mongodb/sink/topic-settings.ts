/**
 * One topic's settings of the MongoDB sink: its `topic.override.<topic>.*` keys over the connector's,
 * parsed with the ConfigDef of config.ts and checked across keys (`MongoSinkTopicConfig`'s checks),
 * each error naming the key as the user wrote it.
 */
import { AbstractConfig } from '../../../api/config-def.ts'
import type { Props } from '../../../api/connector.ts'
import { ConfigError } from '../../../api/errors.ts'
import {
  CDC_HANDLERS,
  type CdcHandlerKind,
  CHANGE_DATA_CAPTURE_HANDLER,
  CLASS,
  COLLECTION,
  CONNECTION_URI,
  DATABASE,
  DELETE_ON_NULL_VALUES,
  DELETE_WRITEMODEL_STRATEGY,
  DOCUMENT_ID_STRATEGY,
  ID_STRATEGIES,
  ID_STRATEGY_PACKAGE,
  type IdStrategyName,
  mongoSinkConfigDef,
  NAMESPACE_MAPPER,
  POST_PROCESSOR_CHAIN,
  TOPIC_OVERRIDE_PREFIX,
  WRITE_MODEL_PACKAGE,
  WRITE_MODEL_STRATEGIES,
  WRITEMODEL_STRATEGY,
  type WriteModelStrategyName,
} from './config.ts'

/** The keys of one topic after overrides, parsed and checked. */
export interface TopicSettings {
  topic: string
  database: string
  collection: string
  namespaceMapper: 'default' | 'field'
  mapperFields: { keyDatabase: string; keyCollection: string; valueDatabase: string; valueCollection: string }
  mapperErrorIfInvalid: boolean
  idStrategy: IdStrategyName
  overwriteExistingId: boolean
  uuidBinary: boolean
  partialKeyProjection: Projection
  partialValueProjection: Projection
  postProcessors: string[]
  keyProjection: Projection
  valueProjection: Projection
  renameMapping: { oldName: string; newName: string }[]
  renameRegexp: { regexp: RegExp; pattern: RegExp; replace: string }[]
  writeModel: WriteModelStrategyName
  deleteWriteModel: WriteModelStrategyName
  deleteOnNullValues: boolean
  maxBatchSize: number
  ordered: boolean
  rateLimitTimeoutMs: number
  rateLimitEveryN: number
  cdcHandler: CdcHandlerKind | undefined
  cdcRemoveNullValues: boolean
}

export interface Projection {
  type: 'none' | 'allow' | 'block'
  fields: string[]
}

/** The connector-wide connection string. */
export function readConnectionUri(props: Props): string {
  const parsed = mongoSinkConfigDef.parse(props)
  const uri = parsed[CONNECTION_URI] as { value: string }
  return uri.value
}

/** `topic.override.<topic>.<key>` values of one topic, without the prefix. */
function overridesOf(props: Props, topic: string): Record<string, string> {
  const prefix = `${TOPIC_OVERRIDE_PREFIX}${topic}.`
  const result: Record<string, string> = {}
  for (const [k, v] of Object.entries(props)) if (k.startsWith(prefix)) result[k.slice(prefix.length)] = v
  return result
}

function simpleName(key: string, value: string, pkg: string, known: readonly string[]): string {
  const simple = value.startsWith(`${pkg}.`) ? value.slice(pkg.length + 1) : value
  if (!known.includes(simple)) {
    throw new ConfigError(
      key,
      `Invalid value ${value} for configuration ${key}: unknown class; use one of ${known.map((k) => `${pkg}.${k}`).join(', ')}`,
    )
  }
  return simple
}

function projectionType(key: string, raw: string): Projection['type'] {
  switch (raw.toLowerCase()) {
    case '':
    case 'none':
      return 'none'
    case 'allowlist':
    case 'whitelist':
      return 'allow'
    case 'blocklist':
    case 'blacklist':
      return 'block'
    default:
      throw new ConfigError(key, `Invalid value ${raw} for configuration ${key}: use AllowList or BlockList`)
  }
}

function fieldList(raw: string): string[] {
  return raw
    .trim()
    .split(/\s*,\s*/)
    .filter((s) => s !== '')
}

function jsonArray(key: string, raw: string): Record<string, unknown>[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (error) {
    throw new ConfigError(
      key,
      `Invalid value for configuration ${key}: not JSON (${(error as Error).message})`,
    )
  }
  if (!Array.isArray(parsed) || parsed.some((e) => e === null || typeof e !== 'object')) {
    throw new ConfigError(key, `Invalid value for configuration ${key}: expected a JSON array of objects`)
  }
  return parsed as Record<string, unknown>[]
}

const POST_PROCESSOR_NAMES: readonly string[] = Object.values(CLASS).filter(
  (c) => c !== CLASS.defaultNamespaceMapper && c !== CLASS.fieldPathNamespaceMapper,
)

function postProcessorClass(name: string): string {
  if (POST_PROCESSOR_NAMES.includes(name)) return name
  const bySimple = POST_PROCESSOR_NAMES.find((c) => c.endsWith(`.${name}`))
  if (bySimple) return bySimple
  throw new ConfigError(
    POST_PROCESSOR_CHAIN,
    `Invalid value ${name} for configuration ${POST_PROCESSOR_CHAIN}: unknown post processor; use one of ${POST_PROCESSOR_NAMES.join(', ')}`,
  )
}

/** The settings of `topic`: its `topic.override.<topic>.*` keys over the connector's, checked. */
export function readTopicSettings(props: Props, topic: string): TopicSettings {
  const merged = { ...props, ...overridesOf(props, topic) }
  const c = new AbstractConfig(mongoSinkConfigDef, merged)
  const key = (name: string) =>
    name in overridesOf(props, topic) ? `${TOPIC_OVERRIDE_PREFIX}${topic}.${name}` : name

  const mapperRaw = c.getString(NAMESPACE_MAPPER)
  const mapperSimple = mapperRaw.split('.').pop()
  const namespaceMapper =
    mapperSimple === 'DefaultNamespaceMapper'
      ? 'default'
      : mapperSimple === 'FieldPathNamespaceMapper'
        ? 'field'
        : undefined
  if (namespaceMapper === undefined) {
    throw new ConfigError(
      key(NAMESPACE_MAPPER),
      `Invalid value ${mapperRaw} for configuration ${NAMESPACE_MAPPER}: use ${CLASS.defaultNamespaceMapper} or ${CLASS.fieldPathNamespaceMapper}`,
    )
  }
  const mapperFields = {
    keyDatabase: c.getString('namespace.mapper.key.database.field'),
    keyCollection: c.getString('namespace.mapper.key.collection.field'),
    valueDatabase: c.getString('namespace.mapper.value.database.field'),
    valueCollection: c.getString('namespace.mapper.value.collection.field'),
  }
  if (namespaceMapper === 'field') {
    if (mapperFields.keyDatabase && mapperFields.valueDatabase)
      throw new ConfigError(
        key('namespace.mapper.key.database.field'),
        'Only one of namespace.mapper.key.database.field and namespace.mapper.value.database.field can be set',
      )
    if (mapperFields.keyCollection && mapperFields.valueCollection)
      throw new ConfigError(
        key('namespace.mapper.key.collection.field'),
        'Only one of namespace.mapper.key.collection.field and namespace.mapper.value.collection.field can be set',
      )
    if (
      !mapperFields.keyDatabase &&
      !mapperFields.valueDatabase &&
      !mapperFields.keyCollection &&
      !mapperFields.valueCollection
    )
      throw new ConfigError(
        key(NAMESPACE_MAPPER),
        'FieldPathNamespaceMapper needs at least one of namespace.mapper.{key,value}.{database,collection}.field',
      )
  }

  const idStrategy = simpleName(
    key(DOCUMENT_ID_STRATEGY),
    c.getString(DOCUMENT_ID_STRATEGY),
    ID_STRATEGY_PACKAGE,
    ID_STRATEGIES,
  ) as IdStrategyName
  const partial = (side: 'key' | 'value'): Projection => {
    const typeKey = `document.id.strategy.partial.${side}.projection.type`
    const listKey = `document.id.strategy.partial.${side}.projection.list`
    const type = c.getString(typeKey) || c.getString(`${side}.projection.type`)
    const list = c.getString(listKey) || c.getString(`${side}.projection.list`)
    return { type: projectionType(key(typeKey), type), fields: fieldList(list) }
  }
  const partialKeyProjection = partial('key')
  const partialValueProjection = partial('value')
  if (idStrategy === 'PartialKeyStrategy' && partialKeyProjection.type === 'none')
    throw new ConfigError(
      key('document.id.strategy.partial.key.projection.type'),
      'PartialKeyStrategy needs document.id.strategy.partial.key.projection.type (or key.projection.type) set to AllowList or BlockList',
    )
  if (idStrategy === 'PartialValueStrategy' && partialValueProjection.type === 'none')
    throw new ConfigError(
      key('document.id.strategy.partial.value.projection.type'),
      'PartialValueStrategy needs document.id.strategy.partial.value.projection.type (or value.projection.type) set to AllowList or BlockList',
    )

  const postProcessors = c.getList(POST_PROCESSOR_CHAIN).map(postProcessorClass)
  if (!postProcessors.includes(CLASS.documentIdAdder)) postProcessors.unshift(CLASS.documentIdAdder)

  const renameMapping = jsonArray(key('field.renamer.mapping'), c.getString('field.renamer.mapping')).map(
    (e) => {
      if (typeof e.oldName !== 'string' || typeof e.newName !== 'string')
        throw new ConfigError(
          key('field.renamer.mapping'),
          'each field.renamer.mapping entry needs string "oldName" and "newName"',
        )
      return { oldName: e.oldName, newName: e.newName }
    },
  )
  const renameRegexp = jsonArray(key('field.renamer.regexp'), c.getString('field.renamer.regexp')).map(
    (e) => {
      if (typeof e.regexp !== 'string' || typeof e.pattern !== 'string' || typeof e.replace !== 'string')
        throw new ConfigError(
          key('field.renamer.regexp'),
          'each field.renamer.regexp entry needs string "regexp", "pattern" and "replace"',
        )
      try {
        return { regexp: new RegExp(e.regexp), pattern: new RegExp(e.pattern, 'g'), replace: e.replace }
      } catch (error) {
        throw new ConfigError(
          key('field.renamer.regexp'),
          `field.renamer.regexp: ${(error as Error).message}`,
        )
      }
    },
  )

  const writeModel = simpleName(
    key(WRITEMODEL_STRATEGY),
    c.getString(WRITEMODEL_STRATEGY),
    WRITE_MODEL_PACKAGE,
    WRITE_MODEL_STRATEGIES,
  ) as WriteModelStrategyName
  const deleteWriteModel = simpleName(
    key(DELETE_WRITEMODEL_STRATEGY),
    c.getString(DELETE_WRITEMODEL_STRATEGY),
    WRITE_MODEL_PACKAGE,
    WRITE_MODEL_STRATEGIES,
  ) as WriteModelStrategyName
  if (
    deleteWriteModel !== 'DeleteOneDefaultStrategy' &&
    deleteWriteModel !== 'DeleteOneTombstoneBusinessKeyStrategy'
  )
    throw new ConfigError(
      key(DELETE_WRITEMODEL_STRATEGY),
      `${DELETE_WRITEMODEL_STRATEGY} must be DeleteOneDefaultStrategy or DeleteOneTombstoneBusinessKeyStrategy, got ${deleteWriteModel}`,
    )
  const deleteOnNullValues = c.getBoolean(DELETE_ON_NULL_VALUES)
  if (
    deleteOnNullValues &&
    deleteWriteModel === 'DeleteOneDefaultStrategy' &&
    !['FullKeyStrategy', 'PartialKeyStrategy', 'ProvidedInKeyStrategy'].includes(idStrategy)
  ) {
    throw new ConfigError(
      key(DELETE_ON_NULL_VALUES),
      `${DELETE_ON_NULL_VALUES} can only be applied when the configured IdStrategy is an instance of: FullKeyStrategy or PartialKeyStrategy or ProvidedInKeyStrategy (${DOCUMENT_ID_STRATEGY} is ${idStrategy})`,
    )
  }

  const cdcRaw = c.getString(CHANGE_DATA_CAPTURE_HANDLER)
  let cdcHandler: CdcHandlerKind | undefined
  if (cdcRaw !== '') {
    cdcHandler = (CDC_HANDLERS as Record<string, CdcHandlerKind>)[cdcRaw]
    if (cdcHandler === undefined) {
      const bySimple = Object.entries(CDC_HANDLERS).filter(([c]) => c.endsWith(`.${cdcRaw}`))
      if (bySimple.length === 1) cdcHandler = bySimple[0]![1]
      else
        throw new ConfigError(
          key(CHANGE_DATA_CAPTURE_HANDLER),
          `Invalid value ${cdcRaw} for configuration ${CHANGE_DATA_CAPTURE_HANDLER}: use one of ${Object.keys(CDC_HANDLERS).join(', ')}`,
        )
    }
  }

  return {
    topic,
    database: c.getString(DATABASE),
    collection: c.getString(COLLECTION) || topic,
    namespaceMapper,
    mapperFields,
    mapperErrorIfInvalid: c.getBoolean('namespace.mapper.error.if.invalid'),
    idStrategy,
    overwriteExistingId: c.getBoolean('document.id.strategy.overwrite.existing'),
    uuidBinary: c.getString('document.id.strategy.uuid.format').toLowerCase() === 'binary',
    partialKeyProjection,
    partialValueProjection,
    postProcessors,
    keyProjection: {
      type: projectionType(key('key.projection.type'), c.getString('key.projection.type')),
      fields: fieldList(c.getString('key.projection.list')),
    },
    valueProjection: {
      type: projectionType(key('value.projection.type'), c.getString('value.projection.type')),
      fields: fieldList(c.getString('value.projection.list')),
    },
    renameMapping,
    renameRegexp,
    writeModel,
    deleteWriteModel,
    deleteOnNullValues,
    maxBatchSize: c.getInt('max.batch.size'),
    ordered: c.getBoolean('bulk.write.ordered'),
    rateLimitTimeoutMs: c.getInt('rate.limiting.timeout'),
    rateLimitEveryN: c.getInt('rate.limiting.every.n'),
    cdcHandler,
    cdcRemoveNullValues: c.getBoolean('change.data.capture.handler.remove.null.values'),
  }
}
