/**
 * The MongoDB sink's keys, as `com.mongodb.kafka.connect.sink.MongoSinkConfig` and
 * `MongoSinkTopicConfig` (mongodb/mongo-kafka 2.x) declare them, with their names and defaults.
 * Every per-topic key can be overridden for one topic as `topic.override.<topic>.<key>`;
 * topic-settings.ts resolves a topic's keys (overrides over the connector's) and checks them once.
 *
 * Strategy, mapper, handler and post-processor keys take the official class names; the simple
 * name (`ReplaceOneBusinessKeyStrategy`) is accepted too. An unknown name is a config error listing
 * the names this connector knows.
 */
import { ConfigDef, NonEmptyString, Range, ValidString } from '../../../api/config-def.ts'

const P = 'com.mongodb.kafka.connect.sink'
export const CLASS = {
  defaultNamespaceMapper: `${P}.namespace.mapping.DefaultNamespaceMapper`,
  fieldPathNamespaceMapper: `${P}.namespace.mapping.FieldPathNamespaceMapper`,
  documentIdAdder: `${P}.processor.DocumentIdAdder`,
  kafkaMetaAdder: `${P}.processor.KafkaMetaAdder`,
  allowListKeyProjector: `${P}.processor.AllowListKeyProjector`,
  allowListValueProjector: `${P}.processor.AllowListValueProjector`,
  blockListKeyProjector: `${P}.processor.BlockListKeyProjector`,
  blockListValueProjector: `${P}.processor.BlockListValueProjector`,
  whitelistKeyProjector: `${P}.processor.WhitelistKeyProjector`,
  whitelistValueProjector: `${P}.processor.WhitelistValueProjector`,
  blacklistKeyProjector: `${P}.processor.BlacklistKeyProjector`,
  blacklistValueProjector: `${P}.processor.BlacklistValueProjector`,
  nullFieldValueRemover: `${P}.processor.NullFieldValueRemover`,
  renameByMapping: `${P}.processor.field.renaming.RenameByMapping`,
  renameByRegExp: `${P}.processor.field.renaming.RenameByRegExp`,
} as const

export const ID_STRATEGY_PACKAGE = `${P}.processor.id.strategy`
export const ID_STRATEGIES = [
  'BsonOidStrategy',
  'UuidStrategy',
  'KafkaMetaDataStrategy',
  'FullKeyStrategy',
  'PartialKeyStrategy',
  'PartialValueStrategy',
  'ProvidedInKeyStrategy',
  'ProvidedInValueStrategy',
  'UuidProvidedInKeyStrategy',
  'UuidProvidedInValueStrategy',
] as const
export type IdStrategyName = (typeof ID_STRATEGIES)[number]

export const WRITE_MODEL_PACKAGE = `${P}.writemodel.strategy`
export const WRITE_MODEL_STRATEGIES = [
  'DefaultWriteModelStrategy',
  'ReplaceOneDefaultStrategy',
  'ReplaceOneBusinessKeyStrategy',
  'UpdateOneDefaultStrategy',
  'UpdateOneTimestampsStrategy',
  'UpdateOneBusinessKeyTimestampStrategy',
  'InsertOneDefaultStrategy',
  'DeleteOneDefaultStrategy',
  'DeleteOneBusinessKeyStrategy',
  'DeleteOneTombstoneBusinessKeyStrategy',
] as const
export type WriteModelStrategyName = (typeof WRITE_MODEL_STRATEGIES)[number]

export const CDC_HANDLERS = {
  [`${P}.cdc.debezium.rdbms.RdbmsHandler`]: 'rdbms',
  [`${P}.cdc.debezium.rdbms.postgres.PostgresHandler`]: 'rdbms',
  [`${P}.cdc.debezium.rdbms.mysql.MysqlHandler`]: 'rdbms',
  [`${P}.cdc.debezium.mongodb.MongoDbHandler`]: 'debezium-mongodb',
  [`${P}.cdc.debezium.mongodb.ChangeStreamHandler`]: 'debezium-change-stream',
  [`${P}.cdc.mongodb.ChangeStreamHandler`]: 'change-stream',
} as const
export type CdcHandlerKind = (typeof CDC_HANDLERS)[keyof typeof CDC_HANDLERS]

export const CONNECTION_URI = 'connection.uri'
export const DATABASE = 'database'
export const COLLECTION = 'collection'
export const NAMESPACE_MAPPER = 'namespace.mapper'
export const DOCUMENT_ID_STRATEGY = 'document.id.strategy'
export const WRITEMODEL_STRATEGY = 'writemodel.strategy'
export const DELETE_WRITEMODEL_STRATEGY = 'delete.writemodel.strategy'
export const DELETE_ON_NULL_VALUES = 'delete.on.null.values'
export const POST_PROCESSOR_CHAIN = 'post.processor.chain'
export const CHANGE_DATA_CAPTURE_HANDLER = 'change.data.capture.handler'
export const TOPIC_OVERRIDE_PREFIX = 'topic.override.'

const PROJECTION_TYPES = ['none', 'AllowList', 'BlockList', 'whitelist', 'blacklist']

const G_CONN = 'Connection'
const G_NS = 'Namespace'
const G_WRITES = 'Writes'
const G_ID = 'Document id'
const G_PROC = 'Post processing'
const G_CDC = 'Change data capture'

/** Keys of `MongoSinkConfig` + `MongoSinkTopicConfig`. The framework's keys (`topics`, `errors.*`…) are the runtime's. */
export const mongoSinkConfigDef = new ConfigDef()
  .define({
    name: CONNECTION_URI,
    type: 'PASSWORD',
    defaultValue: 'mongodb://localhost:27017',
    importance: 'HIGH',
    documentation:
      'The connection URI as supported by the official drivers, e.g. `mongodb://user:pass@host1:27017,host2/?replicaSet=rs0`. Default `mongodb://localhost:27017`; shown as `[hidden]`, since it may hold credentials.',
    group: G_CONN,
    orderInGroup: 1,
    displayName: 'MongoDB Connection URI',
  })
  .define({
    name: DATABASE,
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'The database for the sink to write.',
    validator: NonEmptyString,
    group: G_NS,
    orderInGroup: 1,
    displayName: 'The MongoDB database name.',
  })
  .define({
    name: COLLECTION,
    type: 'STRING',
    defaultValue: '',
    importance: 'HIGH',
    documentation:
      'Optional, single sink collection name to write to. If following multiple topics then this will be the default collection they are mapped to. Empty: the collection is named after the topic.',
    group: G_NS,
    orderInGroup: 2,
    displayName: 'The default MongoDB collection name',
  })
  .define({
    name: NAMESPACE_MAPPER,
    type: 'STRING',
    defaultValue: CLASS.defaultNamespaceMapper,
    importance: 'MEDIUM',
    documentation:
      'The class that determines the namespace to write the sink data to. `DefaultNamespaceMapper` uses `database` and `collection` (or the topic); `FieldPathNamespaceMapper` reads them from the fields named by the `namespace.mapper.*.field` keys.',
    group: G_NS,
    orderInGroup: 3,
  })
  .define({
    name: 'namespace.mapper.key.database.field',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'The key field to use as the destination database name (FieldPathNamespaceMapper).',
    group: G_NS,
    orderInGroup: 4,
  })
  .define({
    name: 'namespace.mapper.key.collection.field',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'The key field to use as the destination collection name (FieldPathNamespaceMapper).',
    group: G_NS,
    orderInGroup: 5,
  })
  .define({
    name: 'namespace.mapper.value.database.field',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'The value field to use as the destination database name (FieldPathNamespaceMapper).',
    group: G_NS,
    orderInGroup: 6,
  })
  .define({
    name: 'namespace.mapper.value.collection.field',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'The value field to use as the destination collection name (FieldPathNamespaceMapper).',
    group: G_NS,
    orderInGroup: 7,
  })
  .define({
    name: 'namespace.mapper.error.if.invalid',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    documentation:
      'Throw an error if the mapped field is missing or invalid. Defaults to false: the configured `database`/`collection` are used instead.',
    group: G_NS,
    orderInGroup: 8,
  })
  .define({
    name: DOCUMENT_ID_STRATEGY,
    type: 'STRING',
    defaultValue: `${ID_STRATEGY_PACKAGE}.BsonOidStrategy`,
    importance: 'HIGH',
    documentation: `The IdStrategy class name to use for generating a unique document id (_id): one of ${ID_STRATEGIES.map((s) => `\`${s}\``).join(', ')} (package \`${ID_STRATEGY_PACKAGE}\`).`,
    group: G_ID,
    orderInGroup: 1,
  })
  .define({
    name: 'document.id.strategy.overwrite.existing',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation: 'Allows the document id strategy to overwrite existing `_id` values.',
    group: G_ID,
    orderInGroup: 2,
  })
  .define({
    name: 'document.id.strategy.uuid.format',
    type: 'STRING',
    defaultValue: 'string',
    importance: 'LOW',
    documentation: 'The bson output format when using the `UuidStrategy`. Either `String` or `Binary`.',
    validator: ValidString.inIgnoringCase('string', 'binary'),
    group: G_ID,
    orderInGroup: 3,
  })
  .define({
    name: 'document.id.strategy.partial.key.projection.type',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'For use with the `PartialKeyStrategy`: `AllowList` or `BlockList` of key fields projected into the id. Empty: `key.projection.type`.',
    group: G_ID,
    orderInGroup: 4,
  })
  .define({
    name: 'document.id.strategy.partial.key.projection.list',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'For use with the `PartialKeyStrategy`: comma separated key fields (dotted paths, `*` wildcards). Empty: `key.projection.list`.',
    group: G_ID,
    orderInGroup: 5,
  })
  .define({
    name: 'document.id.strategy.partial.value.projection.type',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'For use with the `PartialValueStrategy`: `AllowList` or `BlockList` of value fields projected into the id. Empty: `value.projection.type`.',
    group: G_ID,
    orderInGroup: 6,
  })
  .define({
    name: 'document.id.strategy.partial.value.projection.list',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'For use with the `PartialValueStrategy`: comma separated value fields. Empty: `value.projection.list`.',
    group: G_ID,
    orderInGroup: 7,
  })
  .define({
    name: POST_PROCESSOR_CHAIN,
    type: 'LIST',
    defaultValue: CLASS.documentIdAdder,
    importance: 'LOW',
    documentation:
      'A comma separated list of post processor classes to process the data before saving it to MongoDB. `DocumentIdAdder` is prepended when missing. Known: `DocumentIdAdder`, `KafkaMetaAdder`, `AllowListKeyProjector`, `AllowListValueProjector`, `BlockListKeyProjector`, `BlockListValueProjector` (and the old `Whitelist*`/`Blacklist*` names), `NullFieldValueRemover`, `field.renaming.RenameByMapping`, `field.renaming.RenameByRegExp`.',
    group: G_PROC,
    orderInGroup: 1,
  })
  .define({
    name: 'key.projection.type',
    type: 'STRING',
    defaultValue: 'none',
    importance: 'LOW',
    documentation: 'The type of key projection to use: either `AllowList` or `BlockList`.',
    validator: ValidString.inIgnoringCase(...PROJECTION_TYPES),
    group: G_PROC,
    orderInGroup: 2,
  })
  .define({
    name: 'key.projection.list',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation: 'A comma separated list of field names for key projection.',
    group: G_PROC,
    orderInGroup: 3,
  })
  .define({
    name: 'value.projection.type',
    type: 'STRING',
    defaultValue: 'none',
    importance: 'LOW',
    documentation: 'The type of value projection to use: either `AllowList` or `BlockList`.',
    validator: ValidString.inIgnoringCase(...PROJECTION_TYPES),
    group: G_PROC,
    orderInGroup: 4,
  })
  .define({
    name: 'value.projection.list',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation: 'A comma separated list of field names for value projection.',
    group: G_PROC,
    orderInGroup: 5,
  })
  .define({
    name: 'field.renamer.mapping',
    type: 'STRING',
    defaultValue: '[]',
    importance: 'LOW',
    documentation:
      'An inline JSON array with objects describing field name mappings, e.g. `[{"oldName":"key.fieldA","newName":"field1"},{"oldName":"value.xyz","newName":"abc"}]`.',
    group: G_PROC,
    orderInGroup: 6,
  })
  .define({
    name: 'field.renamer.regexp',
    type: 'STRING',
    defaultValue: '[]',
    importance: 'LOW',
    documentation:
      'An inline JSON array with objects describing regexp settings, e.g. `[{"regexp":"^key\\\\..*my.*$","pattern":"my","replace":""}]`.',
    group: G_PROC,
    orderInGroup: 7,
  })
  .define({
    name: WRITEMODEL_STRATEGY,
    type: 'STRING',
    defaultValue: `${WRITE_MODEL_PACKAGE}.DefaultWriteModelStrategy`,
    importance: 'LOW',
    documentation: `The class that builds the write model for each record with a value: one of ${WRITE_MODEL_STRATEGIES.map((s) => `\`${s}\``).join(', ')} (package \`${WRITE_MODEL_PACKAGE}\`). \`DefaultWriteModelStrategy\` is \`ReplaceOneDefaultStrategy\`.`,
    group: G_WRITES,
    orderInGroup: 1,
  })
  .define({
    name: DELETE_WRITEMODEL_STRATEGY,
    type: 'STRING',
    defaultValue: `${WRITE_MODEL_PACKAGE}.DeleteOneDefaultStrategy`,
    importance: 'LOW',
    documentation:
      'The class that builds the delete write model for tombstones when `delete.on.null.values=true`: `DeleteOneDefaultStrategy` (filter from the key through the id strategy) or `DeleteOneTombstoneBusinessKeyStrategy` (the key document is the filter).',
    group: G_WRITES,
    orderInGroup: 2,
  })
  .define({
    name: DELETE_ON_NULL_VALUES,
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    documentation:
      'Whether or not the connector tries to delete documents based on key when value is null. Needs an id strategy built from the key: `FullKeyStrategy`, `PartialKeyStrategy` or `ProvidedInKeyStrategy`.',
    group: G_WRITES,
    orderInGroup: 3,
  })
  .define({
    name: 'max.batch.size',
    type: 'INT',
    defaultValue: 0,
    importance: 'MEDIUM',
    documentation:
      'The maximum number of sink records to possibly batch together for processing (0: no limit). Batches are also split where the namespace changes.',
    validator: Range.atLeast(0),
    group: G_WRITES,
    orderInGroup: 4,
  })
  .define({
    name: 'bulk.write.ordered',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation:
      'Whether the batches controlled by `max.batch.size` must be written via ordered bulk writes. Ordered: the write stops at the first failed document and the rest of the batch is retried by the next put. Unordered: every document is attempted; failures go to the errant record reporter.',
    group: G_WRITES,
    orderInGroup: 5,
  })
  .define({
    name: 'rate.limiting.timeout',
    type: 'INT',
    defaultValue: 0,
    importance: 'LOW',
    documentation: 'How long in ms processing should wait before continuing processing.',
    validator: Range.atLeast(0),
    group: G_WRITES,
    orderInGroup: 6,
  })
  .define({
    name: 'rate.limiting.every.n',
    type: 'INT',
    defaultValue: 0,
    importance: 'LOW',
    documentation: 'After how many processed batches the rate limit should trigger (0: never).',
    validator: Range.atLeast(0),
    group: G_WRITES,
    orderInGroup: 7,
  })
  .define({
    name: CHANGE_DATA_CAPTURE_HANDLER,
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation: `The class name of the CDC handler to use for processing change events instead of the post processors and write model strategy: ${Object.keys(
      CDC_HANDLERS,
    )
      .map((c) => `\`${c}\``)
      .join(', ')}.`,
    group: G_CDC,
    orderInGroup: 1,
  })
  .define({
    name: 'change.data.capture.handler.remove.null.values',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation:
      'When true and a CDC handler is configured, fields with null values are removed from the written documents.',
    group: G_CDC,
    orderInGroup: 2,
  })
