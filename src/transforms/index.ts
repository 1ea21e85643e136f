/**
 * The transforms and predicates Sluice ships, under the Java class names Kafka Connect configs use
 * (`transforms.x.type=org.apache.kafka.connect.transforms.InsertField$Value`) — Apache Kafka's
 * SMTs and predicates, and the Debezium SMTs paired with CDC connectors. Each answers to its simple
 * name too (`InsertField$Value`). The plugin registry consumes this list.
 */
import type { ConfigDef } from '../api/config-def.ts'
import { lazyModule, type PluginDescriptor } from '../api/plugin.ts'
import type { Predicate, Transformation } from '../api/transformation.ts'
import { KAFKA_TRANSFORMS, type Side } from './transform-support.ts'

// Each transform's module loads when it is first used (an idle worker holds none).
const lazy = <T>(path: string) => lazyModule<T>(import.meta.url, path)
const cast = lazy<typeof import('./cast.ts')>('./cast.ts')
const byLogicalTableRouter = lazy<typeof import('./debezium/by-logical-table-router.ts')>(
  './debezium/by-logical-table-router.ts',
)
const eventRouter = lazy<typeof import('./debezium/event-router.ts')>('./debezium/event-router.ts')
const extractNewRecordState = lazy<typeof import('./debezium/extract-new-record-state.ts')>(
  './debezium/extract-new-record-state.ts',
)
const dropHeaders = lazy<typeof import('./drop-headers.ts')>('./drop-headers.ts')
const extractField = lazy<typeof import('./extract-field.ts')>('./extract-field.ts')
const filter = lazy<typeof import('./filter.ts')>('./filter.ts')
const flatten = lazy<typeof import('./flatten.ts')>('./flatten.ts')
const headerFrom = lazy<typeof import('./header-from.ts')>('./header-from.ts')
const hoistField = lazy<typeof import('./hoist-field.ts')>('./hoist-field.ts')
const insertField = lazy<typeof import('./insert-field.ts')>('./insert-field.ts')
const insertHeader = lazy<typeof import('./insert-header.ts')>('./insert-header.ts')
const maskField = lazy<typeof import('./mask-field.ts')>('./mask-field.ts')
const hasHeaderKey = lazy<typeof import('./predicates/has-header-key.ts')>('./predicates/has-header-key.ts')
const recordIsTombstone = lazy<typeof import('./predicates/record-is-tombstone.ts')>(
  './predicates/record-is-tombstone.ts',
)
const topicNameMatches = lazy<typeof import('./predicates/topic-name-matches.ts')>(
  './predicates/topic-name-matches.ts',
)
const regexRouter = lazy<typeof import('./regex-router.ts')>('./regex-router.ts')
const replaceField = lazy<typeof import('./replace-field.ts')>('./replace-field.ts')
const setSchemaMetadata = lazy<typeof import('./set-schema-metadata.ts')>('./set-schema-metadata.ts')
const timestampConverter = lazy<typeof import('./timestamp-converter.ts')>('./timestamp-converter.ts')
const timestampRouter = lazy<typeof import('./timestamp-router.ts')>('./timestamp-router.ts')
const valueToKey = lazy<typeof import('./value-to-key.ts')>('./value-to-key.ts')

/** Kafka's transforms report the Kafka version they ship with; ours report the one they follow. */
export const TRANSFORMS_VERSION = '4.0.0'
export const DEBEZIUM_TRANSFORMS_VERSION = '3.2.0'

export interface TransformPlugin extends PluginDescriptor<Transformation | Predicate> {
  /** One-line description, for the generated reference page. */
  readonly doc: string
}

function transform(
  className: string,
  doc: string,
  create: () => Transformation,
  version = TRANSFORMS_VERSION,
): TransformPlugin {
  return Object.freeze({ className, type: 'transformation', version, doc, create })
}

function predicate(className: string, doc: string, create: () => Predicate): TransformPlugin {
  return Object.freeze({ className, type: 'predicate', version: TRANSFORMS_VERSION, doc, create })
}

/** `$Key` and `$Value` variants of one Kafka SMT. */
function sided(base: string, doc: string, create: (side: Side) => Transformation): TransformPlugin[] {
  return [
    transform(`${KAFKA_TRANSFORMS}.${base}$Key`, doc, () => create('key')),
    transform(`${KAFKA_TRANSFORMS}.${base}$Value`, doc, () => create('value')),
  ]
}

export const plugins: readonly TransformPlugin[] = Object.freeze([
  ...sided(
    'Cast',
    'Casts fields or the entire key or value to a specific type.',
    (s) => new (cast().Cast)(s),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.DropHeaders`,
    'Removes one or more headers from each record.',
    () => new (dropHeaders().DropHeaders)(),
  ),
  ...sided(
    'ExtractField',
    'Replaces the key or value with one of its fields.',
    (s) => new (extractField().ExtractField)(s),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.Filter`,
    'Drops all records; meant to be used with a predicate.',
    () => new (filter().Filter)(),
  ),
  ...sided(
    'Flatten',
    'Flattens nested Structs or maps, joining field names with a delimiter.',
    (s) => new (flatten().Flatten)(s),
  ),
  ...sided(
    'HeaderFrom',
    'Moves or copies fields of the key or value into headers.',
    (s) => new (headerFrom().HeaderFrom)(s),
  ),
  ...sided(
    'HoistField',
    'Wraps the key or value in a Struct or map under one field.',
    (s) => new (hoistField().HoistField)(s),
  ),
  ...sided(
    'InsertField',
    'Inserts fields from the record metadata (topic, partition, offset, timestamp) or a static value.',
    (s) => new (insertField().InsertField)(s),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.InsertHeader`,
    'Adds a header with a literal value to each record.',
    () => new (insertHeader().InsertHeader)(),
  ),
  ...sided(
    'MaskField',
    "Replaces fields with their type's null value or a replacement.",
    (s) => new (maskField().MaskField)(s),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.RegexRouter`,
    'Renames the topic with a regular expression and replacement.',
    () => new (regexRouter().RegexRouter)(),
  ),
  ...sided(
    'ReplaceField',
    'Includes, excludes or renames fields.',
    (s) => new (replaceField().ReplaceField)(s),
  ),
  ...sided(
    'SetSchemaMetadata',
    'Sets the name and/or version of the key or value schema.',
    (s) => new (setSchemaMetadata().SetSchemaMetadata)(s),
  ),
  ...sided(
    'TimestampConverter',
    'Converts timestamps between strings, Unix time and the Date, Time and Timestamp types.',
    (s) => new (timestampConverter().TimestampConverter)(s),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.TimestampRouter`,
    'Builds the topic name from the original topic and the record timestamp.',
    () => new (timestampRouter().TimestampRouter)(),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.ValueToKey`,
    'Replaces the key with fields of the value.',
    () => new (valueToKey().ValueToKey)(),
  ),
  predicate(
    `${KAFKA_TRANSFORMS}.predicates.TopicNameMatches`,
    'True for records whose topic name matches a regular expression.',
    () => new (topicNameMatches().TopicNameMatches)(),
  ),
  predicate(
    `${KAFKA_TRANSFORMS}.predicates.HasHeaderKey`,
    'True for records with at least one header of the given name.',
    () => new (hasHeaderKey().HasHeaderKey)(),
  ),
  predicate(
    `${KAFKA_TRANSFORMS}.predicates.RecordIsTombstone`,
    'True for records with a null value.',
    () => new (recordIsTombstone().RecordIsTombstone)(),
  ),
  transform(
    'io.debezium.transforms.ExtractNewRecordState',
    "Replaces a Debezium change event with its row state ('after'), handling deletes and tombstones.",
    () => new (extractNewRecordState().ExtractNewRecordState)(),
    DEBEZIUM_TRANSFORMS_VERSION,
  ),
  transform(
    'io.debezium.transforms.outbox.EventRouter',
    'Routes outbox-table inserts as events to topics named after a column (the outbox pattern).',
    () => new (eventRouter().EventRouter)(),
    DEBEZIUM_TRANSFORMS_VERSION,
  ),
  transform(
    'io.debezium.transforms.ByLogicalTableRouter',
    'Routes change events of several physical tables to one logical topic.',
    () => new (byLogicalTableRouter().ByLogicalTableRouter)(true),
    DEBEZIUM_TRANSFORMS_VERSION,
  ),
  transform(
    'io.debezium.transforms.ToLogicalTopicRouter',
    'Routes change events of several physical tables to one logical topic (the newer name of ByLogicalTableRouter).',
    () => new (byLogicalTableRouter().ByLogicalTableRouter)(false),
    DEBEZIUM_TRANSFORMS_VERSION,
  ),
])

/** The ConfigDef of a plugin, for docs and validation. */
export function configDefOf(plugin: TransformPlugin): ConfigDef {
  return plugin.create().config()
}
