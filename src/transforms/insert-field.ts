/**
 * Kafka's `InsertField`: adds fields from the record's metadata (topic, partition, offset — sink
 * records only — and timestamp) or a static string to the key or value. A `!` suffix on a field
 * name makes the inserted field required in the schema, `?` (the default) optional. Null keys and
 * values (tombstones) pass through unchanged.
 */

import { ConfigDef } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { TimestampType } from '../api/data/logical-types.ts'
import { type Schema, Schemas } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { ConfigError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import {
  copyMap,
  copySchemaBasics,
  fieldValue,
  guard,
  mapSet,
  operatingSchema,
  operatingValue,
  REPLACE_NULL_WITH_DEFAULT_DOC,
  requireMap,
  requireSinkRecord,
  requireStruct,
  SchemaCache,
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

const PURPOSE = 'field insertion'
const OPTIONALITY_DOC =
  'Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).'
const OPTIONAL_TIMESTAMP = TimestampType.builder().optional().build()

export const INSERT_FIELD_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'topic.field',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: `Field name for Kafka topic. ${OPTIONALITY_DOC}`,
  })
  .define({
    name: 'partition.field',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: `Field name for Kafka partition. ${OPTIONALITY_DOC}`,
  })
  .define({
    name: 'offset.field',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: `Field name for Kafka offset - only applicable to sink connectors.<br/>${OPTIONALITY_DOC}`,
  })
  .define({
    name: 'timestamp.field',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: `Field name for record timestamp. ${OPTIONALITY_DOC}`,
  })
  .define({
    name: 'static.field',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: `Field name for static data field. ${OPTIONALITY_DOC}`,
  })
  .define({
    name: 'static.value',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'Static field value, if field name configured.',
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })

interface InsertionSpec {
  name: string
  optional: boolean
}

function parseSpec(spec: unknown): InsertionSpec | null {
  if (typeof spec !== 'string') return null
  if (spec.endsWith('?')) return { name: spec.slice(0, -1), optional: true }
  if (spec.endsWith('!')) return { name: spec.slice(0, -1), optional: false }
  return { name: spec, optional: true }
}

export class InsertField extends SidedTransformation implements Transformation {
  #topic: InsertionSpec | null = null
  #partition: InsertionSpec | null = null
  #offset: InsertionSpec | null = null
  #timestamp: InsertionSpec | null = null
  #static: InsertionSpec | null = null
  #staticValue: string | null = null
  #replaceNullWithDefault = true
  readonly #cache = new SchemaCache()

  constructor(side: Side) {
    super('InsertField', side)
  }

  configure(props: Props): void {
    const config = INSERT_FIELD_CONFIG_DEF.parse(props)
    this.#topic = parseSpec(config['topic.field'])
    this.#partition = parseSpec(config['partition.field'])
    this.#offset = parseSpec(config['offset.field'])
    this.#timestamp = parseSpec(config['timestamp.field'])
    this.#static = parseSpec(config['static.field'])
    this.#staticValue = config['static.value'] as string | null
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
    if (!this.#topic && !this.#partition && !this.#offset && !this.#timestamp && !this.#static) {
      throw new ConfigError(
        'topic.field',
        'No field insertion configured: set at least one of topic.field, partition.field, offset.field, timestamp.field or static.field',
      )
    }
    if (this.#static && this.#staticValue === null) {
      throw new ConfigError(
        'static.value',
        `Invalid value null for configuration static.value: No value specified for static field: ${this.#static.name}`,
      )
    }
  }

  config(): ConfigDef {
    return INSERT_FIELD_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = operatingValue(record, this.side)
    if (value === null || value === undefined) return record
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      return schema === null ? this.#applySchemaless(record, value) : this.#applyWithSchema(record, value)
    })
  }

  #applySchemaless<R extends ConnectRecord>(record: R, value: unknown): R {
    const updated = copyMap(requireMap(value, PURPOSE))
    if (this.#topic) mapSet(updated, this.#topic.name, record.topic)
    if (this.#partition && record.kafkaPartition !== null)
      mapSet(updated, this.#partition.name, record.kafkaPartition)
    if (this.#offset) mapSet(updated, this.#offset.name, requireSinkRecord(record, PURPOSE).kafkaOffset)
    if (this.#timestamp && record.timestamp !== null) mapSet(updated, this.#timestamp.name, record.timestamp)
    if (this.#static && this.#staticValue !== null) mapSet(updated, this.#static.name, this.#staticValue)
    return withOperating(record, this.side, null, updated)
  }

  #applyWithSchema<R extends ConnectRecord>(record: R, value: unknown): R {
    const struct = requireStruct(value, PURPOSE)
    const updatedSchema = this.#cache.get(struct.schema, (s) => this.#buildSchema(s))
    const updated = new Struct(updatedSchema)
    for (const field of struct.schema.fields) {
      updated.put(field.name, fieldValue(struct, field.name, this.#replaceNullWithDefault))
    }
    if (this.#topic) updated.put(this.#topic.name, record.topic)
    if (this.#partition && record.kafkaPartition !== null)
      updated.put(this.#partition.name, record.kafkaPartition)
    if (this.#offset) updated.put(this.#offset.name, requireSinkRecord(record, PURPOSE).kafkaOffset)
    if (this.#timestamp && record.timestamp !== null)
      updated.put(this.#timestamp.name, new Date(record.timestamp))
    if (this.#static && this.#staticValue !== null) updated.put(this.#static.name, this.#staticValue)
    return withOperating(record, this.side, updatedSchema, updated)
  }

  #buildSchema(schema: Schema): Schema {
    const builder = copySchemaBasics(schema, SchemaBuilder.struct())
    for (const field of schema.fields) builder.field(field.name, field.schema)
    const add = (spec: InsertionSpec | null, optional: Schema, required: Schema) => {
      if (spec) builder.field(spec.name, spec.optional ? optional : required)
    }
    add(this.#topic, Schemas.OPTIONAL_STRING, Schemas.STRING)
    add(this.#partition, Schemas.OPTIONAL_INT32, Schemas.INT32)
    add(this.#offset, Schemas.OPTIONAL_INT64, Schemas.INT64)
    add(this.#timestamp, OPTIONAL_TIMESTAMP, TimestampType.schema())
    add(this.#static, Schemas.OPTIONAL_STRING, Schemas.STRING)
    return builder.build()
  }

  close(): void {
    this.#cache.clear()
  }
}
