/**
 * The MongoDB source's keys, as `com.mongodb.kafka.connect.source.MongoSourceConfig` (mongodb/mongo-kafka
 * 2.x) declares them, with their names and defaults; the 1.5-era `copy.existing*` spellings are
 * accepted beside `startup.mode=copy_existing` and its `startup.mode.copy.existing.*` keys.
 */

import { BSON } from 'mongodb'
import { AbstractConfig, ConfigDef, Range, ValidString } from '../../../api/config-def.ts'
import type { Props } from '../../../api/connector.ts'
import { ConfigError } from '../../../api/errors.ts'
import { JSON_FORMATTERS, type JsonFormat } from './json-formatter.ts'

const G_CONN = 'Connection'
const G_STREAM = 'Change stream'
const G_TOPIC = 'Topic mapping'
const G_OUT = 'Output format'
const G_START = 'Startup'
const G_MISC = 'Heartbeats and offsets'

export const DEFAULT_KEY_SCHEMA =
  '{"type": "record", "name": "keySchema", "fields" : [{"name": "_id", "type": "string"}]}'
export const DEFAULT_VALUE_SCHEMA = `{"name": "ChangeStream", "type": "record", "fields": [
  {"name": "_id", "type": "string"},
  {"name": "operationType", "type": ["string", "null"]},
  {"name": "fullDocumentBeforeChange", "type": ["string", "null"]},
  {"name": "fullDocument", "type": ["string", "null"]},
  {"name": "ns", "type": [{"name": "ns", "type": "record", "fields": [{"name": "db", "type": "string"}, {"name": "coll", "type": ["string", "null"]}]}, "null"]},
  {"name": "to", "type": [{"name": "to", "type": "record", "fields": [{"name": "db", "type": "string"}, {"name": "coll", "type": ["string", "null"]}]}, "null"]},
  {"name": "documentKey", "type": ["string", "null"]},
  {"name": "updateDescription", "type": [{"name": "updateDescription", "type": "record", "fields": [
    {"name": "updatedFields", "type": ["string", "null"]},
    {"name": "removedFields", "type": [{"type": "array", "items": "string"}, "null"]},
    {"name": "truncatedArrays", "type": [{"type": "array", "items": {"type": "record", "name": "truncatedArray", "fields": [{"name": "field", "type": "string"}, {"name": "newSize", "type": "int"}]}}, "null"]},
    {"name": "disambiguatedPaths", "type": ["string", "null"]}]}, "null"]},
  {"name": "clusterTime", "type": ["string", "null"]},
  {"name": "wallTime", "type": ["long", "null"]},
  {"name": "txnNumber", "type": ["long", "null"]},
  {"name": "lsid", "type": [{"name": "lsid", "type": "record", "fields": [{"name": "id", "type": "string"}, {"name": "uid", "type": "string"}]}, "null"]}
]}`

export const mongoSourceConfigDef = new ConfigDef()
  .define({
    name: 'connection.uri',
    type: 'PASSWORD',
    defaultValue: 'mongodb://localhost:27017,localhost:27018,localhost:27019',
    importance: 'HIGH',
    documentation:
      'The connection URI as supported by the official drivers. Change streams need a replica set or a sharded cluster. Default `mongodb://localhost:27017,localhost:27018,localhost:27019`; shown as `[hidden]`, since it may hold credentials.',
    group: G_CONN,
    orderInGroup: 1,
  })
  .define({
    name: 'database',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'The database to watch. Empty: every database of the deployment.',
    group: G_STREAM,
    orderInGroup: 1,
  })
  .define({
    name: 'collection',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'The collection in the database to watch. Empty: every collection of the database. Needs `database`.',
    group: G_STREAM,
    orderInGroup: 2,
  })
  .define({
    name: 'pipeline',
    type: 'STRING',
    defaultValue: '[]',
    importance: 'MEDIUM',
    documentation:
      'An inline JSON array of aggregation stages run on the change stream, e.g. `[{"$match": {"operationType": "insert"}}]`.',
    group: G_STREAM,
    orderInGroup: 3,
  })
  .define({
    name: 'collation',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation: 'The JSON collation of the change stream, e.g. `{"locale": "en"}`.',
    group: G_STREAM,
    orderInGroup: 4,
  })
  .define({
    name: 'batch.size',
    type: 'INT',
    defaultValue: 0,
    importance: 'LOW',
    documentation: 'The cursor batch size (0: the server default).',
    validator: Range.atLeast(0),
    group: G_STREAM,
    orderInGroup: 5,
  })
  .define({
    name: 'change.stream.full.document',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'What update events carry in `fullDocument`: `default` (nothing), `updateLookup` (the current document), `whenAvailable` or `required` (post-images). Empty: the server default.',
    validator: ValidString.in('', 'default', 'updateLookup', 'whenAvailable', 'required'),
    group: G_STREAM,
    orderInGroup: 6,
  })
  .define({
    name: 'change.stream.full.document.before.change',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'Pre-images in `fullDocumentBeforeChange`: `off`, `whenAvailable` or `required`. Empty: the server default.',
    validator: ValidString.in('', 'off', 'whenAvailable', 'required'),
    group: G_STREAM,
    orderInGroup: 7,
  })
  .define({
    name: 'publish.full.document.only',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'HIGH',
    documentation:
      'Only publish the changed document instead of the full change stream document. Sets `change.stream.full.document=updateLookup` unless set. Events without a `fullDocument` (deletes) produce no record.',
    group: G_STREAM,
    orderInGroup: 8,
  })
  .define({
    name: 'publish.full.document.only.tombstone.on.delete',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    documentation:
      'With `publish.full.document.only`, a delete produces a tombstone (null value) keyed like the other records.',
    group: G_STREAM,
    orderInGroup: 9,
  })
  .define({
    name: 'change.stream.document.key.as.key',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation:
      'Use the event\'s `documentKey` as the record key. False: the key is `{"_id": <resume token>}` (the 1.x behaviour before 1.11).',
    group: G_STREAM,
    orderInGroup: 10,
  })
  .define({
    name: 'poll.max.batch.size',
    type: 'INT',
    defaultValue: 1000,
    importance: 'LOW',
    documentation:
      'Maximum number of change stream documents to include in a single batch when polling for new data.',
    validator: Range.atLeast(1),
    group: G_STREAM,
    orderInGroup: 11,
  })
  .define({
    name: 'poll.await.time.ms',
    type: 'LONG',
    defaultValue: 5000,
    importance: 'LOW',
    documentation:
      'The maximum amount of time in milliseconds the server waits for new data changes to report to the change stream cursor before returning an empty batch.',
    validator: Range.atLeast(1),
    group: G_STREAM,
    orderInGroup: 12,
  })
  .define({
    name: 'topic.prefix',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'Prefix to prepend to database & collection names to generate the name of the Kafka topic to publish data to.',
    group: G_TOPIC,
    orderInGroup: 1,
  })
  .define({
    name: 'topic.suffix',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'Suffix to append to database & collection names to generate the name of the Kafka topic to publish data to.',
    group: G_TOPIC,
    orderInGroup: 2,
  })
  .define({
    name: 'topic.separator',
    type: 'STRING',
    defaultValue: '.',
    importance: 'LOW',
    documentation: 'Separator between the prefix, database, collection and suffix in topic names.',
    group: G_TOPIC,
    orderInGroup: 3,
  })
  .define({
    name: 'topic.namespace.map',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'A JSON object from namespaces to topic names: an exact `db.coll` names the whole topic; a `db` names the part before `.<coll>`; `*` catches every other namespace. Prefix and suffix still apply.',
    group: G_TOPIC,
    orderInGroup: 4,
  })
  .define({
    name: 'topic.mapper',
    type: 'STRING',
    defaultValue: 'com.mongodb.kafka.connect.source.topic.mapping.DefaultTopicMapper',
    importance: 'LOW',
    documentation: 'The class that maps events to topics. Only `DefaultTopicMapper` is available.',
    validator: ValidString.in(
      'com.mongodb.kafka.connect.source.topic.mapping.DefaultTopicMapper',
      'DefaultTopicMapper',
    ),
    group: G_TOPIC,
    orderInGroup: 5,
  })
  .define({
    name: 'output.format.key',
    type: 'STRING',
    defaultValue: 'json',
    importance: 'HIGH',
    documentation:
      'The output format of the key: `json` (a STRING of JSON per `output.json.formatter`), `bson` (BYTES of raw BSON) or `schema` (a Struct per `output.schema.key`).',
    validator: ValidString.inIgnoringCase('json', 'bson', 'schema'),
    group: G_OUT,
    orderInGroup: 1,
  })
  .define({
    name: 'output.format.value',
    type: 'STRING',
    defaultValue: 'json',
    importance: 'HIGH',
    documentation:
      'The output format of the value: `json`, `bson` or `schema` (a Struct per `output.schema.value`, or inferred with `output.schema.infer.value`).',
    validator: ValidString.inIgnoringCase('json', 'bson', 'schema'),
    group: G_OUT,
    orderInGroup: 2,
  })
  .define({
    name: 'output.json.formatter',
    type: 'STRING',
    defaultValue: 'com.mongodb.kafka.connect.source.json.formatter.DefaultJson',
    importance: 'MEDIUM',
    documentation:
      'The JSON formatter: `DefaultJson` (strict), `ExtendedJson` (canonical) or `SimplifiedJson` (relaxed, ObjectIds, dates, decimals and binary as strings), package `com.mongodb.kafka.connect.source.json.formatter`.',
    group: G_OUT,
    orderInGroup: 3,
  })
  .define({
    name: 'output.schema.key',
    type: 'STRING',
    defaultValue: DEFAULT_KEY_SCHEMA,
    importance: 'MEDIUM',
    documentation: 'The Avro schema (JSON) of the key for `output.format.key=schema`.',
    group: G_OUT,
    orderInGroup: 4,
  })
  .define({
    name: 'output.schema.value',
    type: 'STRING',
    defaultValue: DEFAULT_VALUE_SCHEMA,
    importance: 'MEDIUM',
    documentation:
      'The Avro schema (JSON) of the value for `output.format.value=schema`; the default describes a change stream event.',
    group: G_OUT,
    orderInGroup: 5,
  })
  .define({
    name: 'output.schema.infer.value',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    documentation:
      'With `output.format.value=schema`, infer the value schema from each document instead of using `output.schema.value`.',
    group: G_OUT,
    orderInGroup: 6,
  })
  .define({
    name: 'startup.mode',
    type: 'STRING',
    defaultValue: 'DEFAULT_INTERNAL',
    importance: 'MEDIUM',
    documentation:
      'Where a connector without offsets starts: `latest` (events from now on), `timestamp` (from `startup.mode.timestamp.start.at.operation.time`) or `copy_existing` (copy the existing documents, then stream the changes made since the copy began). The default is `copy_existing` when the legacy `copy.existing=true`, else `latest`.',
    validator: ValidString.in('DEFAULT_INTERNAL', 'latest', 'timestamp', 'copy_existing'),
    group: G_START,
    orderInGroup: 1,
  })
  .define({
    name: 'startup.mode.timestamp.start.at.operation.time',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'For `startup.mode=timestamp`: seconds since the epoch, an ISO-8601 instant, or Extended JSON `{"$timestamp": {"t": ..., "i": ...}}`.',
    group: G_START,
    orderInGroup: 2,
  })
  .define({
    name: 'startup.mode.copy.existing.namespace.regex',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'For `copy_existing`: a regular expression the `db.coll` namespaces to copy must match. Empty: all watched namespaces.',
    group: G_START,
    orderInGroup: 3,
  })
  .define({
    name: 'startup.mode.copy.existing.pipeline',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'For `copy_existing`: a JSON array of stages run on the collection before the copy turns documents into insert events (so indexes can be used), e.g. `[{"$match": {"closed": false}}]`.',
    group: G_START,
    orderInGroup: 4,
  })
  .define({
    name: 'copy.existing',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation: 'Deprecated: `startup.mode=copy_existing`.',
    group: G_START,
    orderInGroup: 5,
  })
  .define({
    name: 'copy.existing.namespace.regex',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation: 'Deprecated: `startup.mode.copy.existing.namespace.regex`.',
    group: G_START,
    orderInGroup: 6,
  })
  .define({
    name: 'copy.existing.pipeline',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation: 'Deprecated: `startup.mode.copy.existing.pipeline`.',
    group: G_START,
    orderInGroup: 7,
  })
  .define({
    name: 'heartbeat.interval.ms',
    type: 'LONG',
    defaultValue: 0,
    importance: 'MEDIUM',
    documentation:
      'How often, when no events arrive, a heartbeat record carrying the latest resume token is sent to `heartbeat.topic.name`, so the stored offset keeps moving on a quiet collection (0: off).',
    validator: Range.atLeast(0),
    group: G_MISC,
    orderInGroup: 1,
  })
  .define({
    name: 'heartbeat.topic.name',
    type: 'STRING',
    defaultValue: '__mongodb_heartbeats',
    importance: 'LOW',
    documentation: 'The topic heartbeats go to.',
    group: G_MISC,
    orderInGroup: 2,
  })
  .define({
    name: 'offset.partition.name',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'The name of the source partition offsets are stored under. Empty: `mongodb://<hosts>/<database>[.<collection>]`. Set a new name to start over without deleting the old offsets.',
    group: G_MISC,
    orderInGroup: 3,
  })

export type OutputFormat = 'json' | 'bson' | 'schema'
export type StartupMode = 'latest' | 'timestamp' | 'copy_existing'

export interface SourceSettings {
  uri: string
  database: string
  collection: string
  pipeline: BSON.Document[]
  collation: BSON.Document | undefined
  batchSize: number
  fullDocument: string
  fullDocumentBeforeChange: string
  publishFullDocumentOnly: boolean
  tombstoneOnDelete: boolean
  documentKeyAsKey: boolean
  pollMaxBatchSize: number
  pollAwaitTimeMs: number
  topicPrefix: string
  topicSuffix: string
  topicSeparator: string
  namespaceMap: Record<string, string>
  keyFormat: OutputFormat
  valueFormat: OutputFormat
  jsonFormat: JsonFormat
  keySchema: string
  valueSchema: string
  inferValueSchema: boolean
  startupMode: StartupMode
  startAtOperationTime: BSON.Timestamp | undefined
  copyNamespaceRegex: RegExp | undefined
  copyPipeline: BSON.Document[]
  heartbeatIntervalMs: number
  heartbeatTopic: string
  offsetPartitionName: string
}

function jsonArray(key: string, raw: string): BSON.Document[] {
  if (raw.trim() === '') return []
  let parsed: unknown
  try {
    parsed = BSON.EJSON.parse(raw, { relaxed: true })
  } catch (error) {
    throw new ConfigError(
      key,
      `Invalid value for configuration ${key}: not JSON (${(error as Error).message})`,
    )
  }
  if (!Array.isArray(parsed) || parsed.some((s) => s === null || typeof s !== 'object' || Array.isArray(s)))
    throw new ConfigError(
      key,
      `Invalid value for configuration ${key}: expected a JSON array of stage documents like [{"$match": {...}}]`,
    )
  return parsed as BSON.Document[]
}

function operationTime(raw: string): BSON.Timestamp {
  const key = 'startup.mode.timestamp.start.at.operation.time'
  const text = raw.trim()
  if (text === '') throw new ConfigError(key, `${key} is required with startup.mode=timestamp`)
  if (/^\d+$/.test(text)) return new BSON.Timestamp({ t: Number(text), i: 0 })
  if (text.startsWith('{')) {
    try {
      const parsed = BSON.EJSON.parse(text, { relaxed: false })
      if (parsed instanceof BSON.Timestamp) return parsed
    } catch {
      // reported below
    }
  } else {
    const ms = Date.parse(text)
    if (!Number.isNaN(ms)) return new BSON.Timestamp({ t: Math.floor(ms / 1000), i: 0 })
  }
  throw new ConfigError(
    key,
    `Invalid value ${raw} for configuration ${key}: use seconds since the epoch, an ISO-8601 instant or {"$timestamp": {"t": <s>, "i": <n>}}`,
  )
}

export function readSourceSettings(props: Props): SourceSettings {
  const c = new AbstractConfig(mongoSourceConfigDef, props)
  const database = c.getString('database')
  const collection = c.getString('collection')
  if (collection !== '' && database === '')
    throw new ConfigError('collection', 'collection is set but database is empty: set database too')
  let namespaceMap: Record<string, string> = {}
  const mapRaw = c.getString('topic.namespace.map')
  if (mapRaw.trim() !== '') {
    try {
      const parsed = JSON.parse(mapRaw)
      if (
        parsed === null ||
        typeof parsed !== 'object' ||
        Array.isArray(parsed) ||
        Object.values(parsed).some((v) => typeof v !== 'string')
      )
        throw new Error('expected an object of strings')
      namespaceMap = parsed
    } catch (error) {
      throw new ConfigError(
        'topic.namespace.map',
        `Invalid value for configuration topic.namespace.map: ${(error as Error).message}`,
      )
    }
  }
  const formatter = c.getString('output.json.formatter')
  const jsonFormat =
    JSON_FORMATTERS[formatter] ??
    Object.entries(JSON_FORMATTERS).find(([k]) => k.endsWith(`.${formatter}`))?.[1]
  if (jsonFormat === undefined)
    throw new ConfigError(
      'output.json.formatter',
      `Invalid value ${formatter} for configuration output.json.formatter: use one of ${Object.keys(JSON_FORMATTERS).join(', ')}`,
    )
  const modeRaw = c.getString('startup.mode')
  const startupMode: StartupMode =
    modeRaw === 'DEFAULT_INTERNAL'
      ? c.getBoolean('copy.existing')
        ? 'copy_existing'
        : 'latest'
      : (modeRaw as StartupMode)
  const regexRaw =
    c.getString('startup.mode.copy.existing.namespace.regex') || c.getString('copy.existing.namespace.regex')
  let copyNamespaceRegex: RegExp | undefined
  if (regexRaw !== '') {
    try {
      copyNamespaceRegex = new RegExp(`^(?:${regexRaw})$`)
    } catch (error) {
      throw new ConfigError(
        'startup.mode.copy.existing.namespace.regex',
        `not a regular expression: ${(error as Error).message}`,
      )
    }
  }
  const collationRaw = c.getString('collation')
  let collation: BSON.Document | undefined
  if (collationRaw.trim() !== '') {
    try {
      collation = JSON.parse(collationRaw)
    } catch (error) {
      throw new ConfigError(
        'collation',
        `Invalid value for configuration collation: not JSON (${(error as Error).message})`,
      )
    }
  }
  const publishFullDocumentOnly = c.getBoolean('publish.full.document.only')
  const fullDocument =
    c.getString('change.stream.full.document') || (publishFullDocumentOnly ? 'updateLookup' : '')
  return {
    uri: (c.get('connection.uri') as { value: string }).value,
    database,
    collection,
    pipeline: jsonArray('pipeline', c.getString('pipeline')),
    collation,
    batchSize: c.getInt('batch.size'),
    fullDocument,
    fullDocumentBeforeChange: c.getString('change.stream.full.document.before.change'),
    publishFullDocumentOnly,
    tombstoneOnDelete:
      publishFullDocumentOnly && c.getBoolean('publish.full.document.only.tombstone.on.delete'),
    documentKeyAsKey: c.getBoolean('change.stream.document.key.as.key'),
    pollMaxBatchSize: c.getInt('poll.max.batch.size'),
    pollAwaitTimeMs: c.getLong('poll.await.time.ms'),
    topicPrefix: c.getString('topic.prefix'),
    topicSuffix: c.getString('topic.suffix'),
    topicSeparator: c.getString('topic.separator'),
    namespaceMap,
    keyFormat: c.getString('output.format.key').toLowerCase() as OutputFormat,
    valueFormat: c.getString('output.format.value').toLowerCase() as OutputFormat,
    jsonFormat,
    keySchema: c.getString('output.schema.key'),
    valueSchema: c.getString('output.schema.value'),
    inferValueSchema: c.getBoolean('output.schema.infer.value'),
    startupMode,
    startAtOperationTime:
      startupMode === 'timestamp'
        ? operationTime(c.getString('startup.mode.timestamp.start.at.operation.time'))
        : undefined,
    copyNamespaceRegex,
    copyPipeline: jsonArray(
      'startup.mode.copy.existing.pipeline',
      c.getString('startup.mode.copy.existing.pipeline') || c.getString('copy.existing.pipeline'),
    ),
    heartbeatIntervalMs: c.getLong('heartbeat.interval.ms'),
    heartbeatTopic: c.getString('heartbeat.topic.name'),
    offsetPartitionName: c.getString('offset.partition.name'),
  }
}
