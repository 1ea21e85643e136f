/**
 * The transforms and predicates Sluice ships, under the Java class names Kafka Connect configs use
 * (`transforms.x.type=org.apache.kafka.connect.transforms.InsertField$Value`) — Apache Kafka's
 * SMTs and predicates, and the Debezium SMTs paired with CDC connectors. Each answers to its simple
 * name too (`InsertField$Value`). The plugin registry consumes this list.
 */
import type { ConfigDef } from '../api/config-def.ts'
import type { PluginDescriptor } from '../api/plugin.ts'
import type { Predicate, Transformation } from '../api/transformation.ts'
import { Cast } from './cast.ts'
import { ByLogicalTableRouter } from './debezium/by-logical-table-router.ts'
import { EventRouter } from './debezium/event-router.ts'
import { ExtractNewRecordState } from './debezium/extract-new-record-state.ts'
import { DropHeaders } from './drop-headers.ts'
import { ExtractField } from './extract-field.ts'
import { Filter } from './filter.ts'
import { Flatten } from './flatten.ts'
import { HeaderFrom } from './header-from.ts'
import { HoistField } from './hoist-field.ts'
import { InsertField } from './insert-field.ts'
import { InsertHeader } from './insert-header.ts'
import { MaskField } from './mask-field.ts'
import { HasHeaderKey } from './predicates/has-header-key.ts'
import { RecordIsTombstone } from './predicates/record-is-tombstone.ts'
import { TopicNameMatches } from './predicates/topic-name-matches.ts'
import { RegexRouter } from './regex-router.ts'
import { ReplaceField } from './replace-field.ts'
import { SetSchemaMetadata } from './set-schema-metadata.ts'
import { TimestampConverter } from './timestamp-converter.ts'
import { TimestampRouter } from './timestamp-router.ts'
import { KAFKA_TRANSFORMS, type Side } from './transform-support.ts'
import { ValueToKey } from './value-to-key.ts'

export { Cast } from './cast.ts'
export { ByLogicalTableRouter } from './debezium/by-logical-table-router.ts'
export { EventRouter } from './debezium/event-router.ts'
export { ExtractNewRecordState } from './debezium/extract-new-record-state.ts'
export { DropHeaders } from './drop-headers.ts'
export { ExtractField } from './extract-field.ts'
export { Filter } from './filter.ts'
export { Flatten } from './flatten.ts'
export { HeaderFrom } from './header-from.ts'
export { HoistField } from './hoist-field.ts'
export { InsertField } from './insert-field.ts'
export { InsertHeader } from './insert-header.ts'
export { MaskField } from './mask-field.ts'
export { HasHeaderKey } from './predicates/has-header-key.ts'
export { RecordIsTombstone } from './predicates/record-is-tombstone.ts'
export { TopicNameMatches } from './predicates/topic-name-matches.ts'
export { RegexRouter } from './regex-router.ts'
export { ReplaceField } from './replace-field.ts'
export { SetSchemaMetadata } from './set-schema-metadata.ts'
export { TimestampConverter } from './timestamp-converter.ts'
export { TimestampRouter } from './timestamp-router.ts'
export { ValueToKey } from './value-to-key.ts'

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
  ...sided('Cast', 'Casts fields or the entire key or value to a specific type.', (s) => new Cast(s)),
  transform(
    `${KAFKA_TRANSFORMS}.DropHeaders`,
    'Removes one or more headers from each record.',
    () => new DropHeaders(),
  ),
  ...sided('ExtractField', 'Replaces the key or value with one of its fields.', (s) => new ExtractField(s)),
  transform(
    `${KAFKA_TRANSFORMS}.Filter`,
    'Drops all records; meant to be used with a predicate.',
    () => new Filter(),
  ),
  ...sided(
    'Flatten',
    'Flattens nested Structs or maps, joining field names with a delimiter.',
    (s) => new Flatten(s),
  ),
  ...sided(
    'HeaderFrom',
    'Moves or copies fields of the key or value into headers.',
    (s) => new HeaderFrom(s),
  ),
  ...sided(
    'HoistField',
    'Wraps the key or value in a Struct or map under one field.',
    (s) => new HoistField(s),
  ),
  ...sided(
    'InsertField',
    'Inserts fields from the record metadata (topic, partition, offset, timestamp) or a static value.',
    (s) => new InsertField(s),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.InsertHeader`,
    'Adds a header with a literal value to each record.',
    () => new InsertHeader(),
  ),
  ...sided(
    'MaskField',
    "Replaces fields with their type's null value or a replacement.",
    (s) => new MaskField(s),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.RegexRouter`,
    'Renames the topic with a regular expression and replacement.',
    () => new RegexRouter(),
  ),
  ...sided('ReplaceField', 'Includes, excludes or renames fields.', (s) => new ReplaceField(s)),
  ...sided(
    'SetSchemaMetadata',
    'Sets the name and/or version of the key or value schema.',
    (s) => new SetSchemaMetadata(s),
  ),
  ...sided(
    'TimestampConverter',
    'Converts timestamps between strings, Unix time and the Date, Time and Timestamp types.',
    (s) => new TimestampConverter(s),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.TimestampRouter`,
    'Builds the topic name from the original topic and the record timestamp.',
    () => new TimestampRouter(),
  ),
  transform(
    `${KAFKA_TRANSFORMS}.ValueToKey`,
    'Replaces the key with fields of the value.',
    () => new ValueToKey(),
  ),
  predicate(
    `${KAFKA_TRANSFORMS}.predicates.TopicNameMatches`,
    'True for records whose topic name matches a regular expression.',
    () => new TopicNameMatches(),
  ),
  predicate(
    `${KAFKA_TRANSFORMS}.predicates.HasHeaderKey`,
    'True for records with at least one header of the given name.',
    () => new HasHeaderKey(),
  ),
  predicate(
    `${KAFKA_TRANSFORMS}.predicates.RecordIsTombstone`,
    'True for records with a null value.',
    () => new RecordIsTombstone(),
  ),
  transform(
    'io.debezium.transforms.ExtractNewRecordState',
    "Replaces a Debezium change event with its row state ('after'), handling deletes and tombstones.",
    () => new ExtractNewRecordState(),
    DEBEZIUM_TRANSFORMS_VERSION,
  ),
  transform(
    'io.debezium.transforms.outbox.EventRouter',
    'Routes outbox-table inserts as events to topics named after a column (the outbox pattern).',
    () => new EventRouter(),
    DEBEZIUM_TRANSFORMS_VERSION,
  ),
  transform(
    'io.debezium.transforms.ByLogicalTableRouter',
    'Routes change events of several physical tables to one logical topic.',
    () => new ByLogicalTableRouter(true),
    DEBEZIUM_TRANSFORMS_VERSION,
  ),
  transform(
    'io.debezium.transforms.ToLogicalTopicRouter',
    'Routes change events of several physical tables to one logical topic (the newer name of ByLogicalTableRouter).',
    () => new ByLogicalTableRouter(false),
    DEBEZIUM_TRANSFORMS_VERSION,
  ),
])

/** The ConfigDef of a plugin, for docs and validation. */
export function configDefOf(plugin: TransformPlugin): ConfigDef {
  return plugin.create().config()
}
