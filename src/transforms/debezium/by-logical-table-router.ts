/**
 * Debezium's `io.debezium.transforms.ByLogicalTableRouter` (and its newer name,
 * `ToLogicalTopicRouter`): routes the change events of several physical tables (shards,
 * partitions) to one logical topic. `topic.regex` must match the whole topic; the topic becomes
 * `topic.replacement`. Key and envelope schemas are renamed after the new topic (`<topic>.Key`,
 * `<topic>.Value`, `<topic>.Envelope`), and unless `key.enforce.uniqueness=false` the key gains a
 * field (`key.field.name`) naming the physical source (the old topic, or `key.field.regex` /
 * `key.field.replacement` applied to it). Tombstones and non-envelope records only get the new
 * topic and key.
 */

import { ConfigDef, ValidString } from '../../api/config-def.ts'
import type { Props } from '../../api/connector.ts'
import type { Schema } from '../../api/data/schema.ts'
import { Schemas } from '../../api/data/schema.ts'
import { SchemaBuilder } from '../../api/data/schema-builder.ts'
import { Struct } from '../../api/data/struct.ts'
import { ConfigError } from '../../api/errors.ts'
import { compileJavaRegex, type JavaPattern, replaceIfMatches, replacementFor } from '../../api/java-regex.ts'
import type { ConnectRecord } from '../../api/records.ts'
import type { Transformation } from '../../api/transformation.ts'
import { LruCache } from '../../common/lru-cache.ts'
import { validRegex } from '../config-validators.ts'
import { guard, requireStruct } from '../transform-support.ts'
import { isEnvelope } from './extract-new-record-state.ts'

function defineConfig(keyFieldNameDefault: string, legacy: boolean): ConfigDef {
  const def = new ConfigDef()
    .define({
      name: 'topic.regex',
      type: 'STRING',
      validator: validRegex,
      importance: 'LOW',
      documentation:
        'The regex used for extracting the name of the logical destination from the original topic name.',
    })
    .define({
      name: 'topic.replacement',
      type: 'STRING',
      importance: 'LOW',
      documentation:
        'The replacement string used in conjunction with topic.regex. This will be used to create the new topic name.',
    })
    .define({
      name: 'key.enforce.uniqueness',
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'LOW',
      documentation:
        "Augment each record's key with a field denoting the source topic. This field distinguishes records coming from different physical tables which may otherwise have primary/unique key conflicts. If the source tables are guaranteed to have globally unique keys then this may be set to false to disable key rewriting.",
    })
    .define({
      name: 'key.field.regex',
      type: 'STRING',
      defaultValue: null,
      validator: {
        ensureValid: (n, v) => (v === null ? undefined : validRegex.ensureValid(n, v)),
        toString: () => 'valid regex',
      },
      importance: 'LOW',
      documentation:
        "The regex used for extracting the source identifier from the original topic name. Now that multiple physical tables can share a topic, the event's key may need to be augmented to include fields other than just those for the record's primary/unique key, since these are not guaranteed to be unique across different sources. We need some identifier added to the key that distinguishes the different physical tables.",
    })
    .define({
      name: 'key.field.name',
      type: 'STRING',
      defaultValue: keyFieldNameDefault,
      importance: 'LOW',
      documentation:
        "Each record's key schema will be augmented with this field name. The purpose of this field is to distinguish the different physical tables that can now share a single topic. Make sure not to configure a field name that is at risk of conflict with existing key schema field names.",
    })
    .define({
      name: 'key.field.replacement',
      type: 'STRING',
      defaultValue: null,
      importance: 'LOW',
      documentation:
        "The replacement string used in conjunction with key.field.regex. This will be used to create the source identifier in the record's key.",
    })
    .define({
      name: 'schema.name.adjustment.mode',
      type: 'STRING',
      defaultValue: 'none',
      validator: ValidString.inIgnoringCase('none', 'avro', 'avro_unicode'),
      importance: 'LOW',
      documentation:
        "Specify how the message key schema names derived from the resulting topic name should be adjusted for compatibility with the message converter used by the connector, including:'avro' replaces the characters that cannot be used in the Avro type name with underscore'avro_unicode' replaces them with _uxxxx'none' does not apply any adjustment (default)",
    })
    .define({
      name: 'logical.destination.cache.size',
      type: 'INT',
      defaultValue: 16,
      importance: 'LOW',
      documentation:
        'The size used for holding the max entries in LRUCache. The cache will keep the old/new schema for logical destination key and value, also cache the derived key and topic regex result for improving the source record transformation.',
    })
  if (legacy) {
    def.define({
      name: 'logical.table.cache.size',
      type: 'INT',
      defaultValue: null,
      importance: 'LOW',
      documentation: 'Deprecated name of logical.destination.cache.size, read when that is not set.',
    })
  }
  return def
}

export const BY_LOGICAL_TABLE_ROUTER_CONFIG_DEF = defineConfig('__dbz__physicalTableIdentifier', true)
export const TO_LOGICAL_TOPIC_ROUTER_CONFIG_DEF = defineConfig('__dbz__sourceIdentifier', false)

/** Debezium's `SchemaNameAdjuster`: Avro full names allow `[A-Za-z_][A-Za-z0-9_]*` segments joined by dots. */
export function adjustSchemaName(name: string, mode: string): string {
  if (mode === 'none') return name
  let out = ''
  for (let i = 0; i < name.length; i++) {
    const c = name[i]
    const valid = c === '.' || c === '_' || /[A-Za-z]/.test(c) || (i > 0 && /[0-9]/.test(c))
    if (valid) out += c
    else out += mode === 'avro' ? '_' : `_u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  }
  return out
}

export class ByLogicalTableRouter implements Transformation {
  readonly #legacy: boolean
  readonly #name: string
  #topicRegex: JavaPattern = compileJavaRegex('')
  #topicReplacement = ''
  #keyRegex: JavaPattern | null = null
  #keyReplacement = ''
  #keyFieldName = ''
  #enforceUniqueness = true
  #adjustment = 'none'
  #keySchemas = new LruCache<Schema, Schema>(16)
  #envelopeSchemas = new LruCache<Schema, Schema>(16)
  #topics = new LruCache<string, string | null>(16)

  /** `legacy`: the ByLogicalTableRouter class name with its older defaults. */
  constructor(legacy = true) {
    this.#legacy = legacy
    this.#name = legacy ? 'ByLogicalTableRouter' : 'ToLogicalTopicRouter'
  }

  configure(props: Props): void {
    const def = this.config()
    const c = def.parse(props)
    this.#topicRegex = compileJavaRegex(c['topic.regex'] as string)
    this.#topicReplacement = replacementFor('topic.replacement', c['topic.replacement'] as string)
    const keyRegex = (c['key.field.regex'] as string | null)?.trim() ?? ''
    const keyReplacement = (c['key.field.replacement'] as string | null)?.trim() ?? ''
    if (keyRegex !== '' && keyReplacement === '') {
      throw new ConfigError(
        'key.field.replacement',
        'key.field.replacement must be non-empty if key.field.regex is set.',
      )
    }
    this.#keyRegex = keyRegex === '' ? null : compileJavaRegex(keyRegex)
    this.#keyReplacement =
      keyRegex === '' ? '' : replacementFor('key.field.replacement', c['key.field.replacement'] as string)
    this.#keyFieldName = c['key.field.name'] as string
    this.#enforceUniqueness = c['key.enforce.uniqueness'] as boolean
    this.#adjustment = (c['schema.name.adjustment.mode'] as string).toLowerCase()
    let size = c['logical.destination.cache.size'] as number
    if (
      this.#legacy &&
      props['logical.destination.cache.size'] === undefined &&
      c['logical.table.cache.size'] !== null
    ) {
      size = c['logical.table.cache.size'] as number
    }
    this.#keySchemas = new LruCache(size)
    this.#envelopeSchemas = new LruCache(size)
    this.#topics = new LruCache(size)
  }

  config(): ConfigDef {
    return this.#legacy ? BY_LOGICAL_TABLE_ROUTER_CONFIG_DEF : TO_LOGICAL_TOPIC_ROUTER_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    const oldTopic = record.topic
    let newTopic = this.#topics.get(oldTopic)
    if (newTopic === undefined) {
      newTopic = replaceIfMatches(this.#topicRegex, this.#topicReplacement, oldTopic)
      if (newTopic !== null) this.#topics.set(oldTopic, newTopic)
    }
    if (newTopic === null || newTopic === '') return record
    const topic = newTopic
    return guard(this.#name, record, () => {
      let keySchema: Schema | null = null
      let key: Struct | null = null
      if (record.key !== null && record.key !== undefined) {
        const oldKey = requireStruct(record.key, 'Updating schema')
        keySchema = this.#keySchema(oldKey.schema, topic)
        key = new Struct(keySchema)
        for (const f of oldKey.schema.fields) key.put(f.name, oldKey.getWithoutDefault(f.name))
        if (this.#enforceUniqueness) key.put(this.#keyFieldName, this.#sourceIdentifier(oldTopic))
      }
      if (record.value === null || record.value === undefined || !isEnvelope(record)) {
        return record.newRecord({ topic, keySchema, key })
      }
      const oldEnvelope = requireStruct(record.value, 'Updating schema')
      const envelopeSchema = this.#envelopeSchema(oldEnvelope.schema, topic)
      const rowSchema = (envelopeSchema.field('before') ?? envelopeSchema.field('after'))?.schema
      const envelope = new Struct(envelopeSchema)
      for (const f of oldEnvelope.schema.fields) {
        let v = oldEnvelope.get(f)
        if (rowSchema && (f.name === 'before' || f.name === 'after') && v !== null) {
          const oldRow = requireStruct(v, 'Updating schema')
          const row = new Struct(rowSchema)
          for (const rf of oldRow.schema.fields) row.put(rf.name, oldRow.getWithoutDefault(rf.name))
          v = row
        }
        envelope.put(f.name, v)
      }
      return record.newRecord({ topic, keySchema, key, valueSchema: envelopeSchema, value: envelope })
    })
  }

  #sourceIdentifier(oldTopic: string): string {
    if (!this.#keyRegex) return oldTopic
    return replaceIfMatches(this.#keyRegex, this.#keyReplacement, oldTopic) ?? oldTopic
  }

  #keySchema(old: Schema, topic: string): Schema {
    let schema = this.#keySchemas.get(old)
    if (!schema) {
      const builder = copyExcludingName(old, true).name(adjustSchemaName(`${topic}.Key`, this.#adjustment))
      if (this.#enforceUniqueness) builder.field(this.#keyFieldName, Schemas.STRING)
      schema = builder.build()
      this.#keySchemas.set(old, schema)
    }
    return schema
  }

  #envelopeSchema(old: Schema, topic: string): Schema {
    let schema = this.#envelopeSchemas.get(old)
    if (!schema) {
      const rowField = old.field('before') ?? old.field('after')
      const rowSchema = rowField
        ? copyExcludingName(rowField.schema, true)
            .name(adjustSchemaName(`${topic}.Value`, this.#adjustment))
            .build()
        : null
      const builder = copyExcludingName(old, false)
      for (const f of old.fields) {
        builder.field(f.name, rowSchema && (f.name === 'before' || f.name === 'after') ? rowSchema : f.schema)
      }
      schema = builder.name(adjustSchemaName(`${topic}.Envelope`, this.#adjustment)).build()
      this.#envelopeSchemas.set(old, schema)
    }
    return schema
  }
}

function copyExcludingName(source: Schema, copyFields: boolean): SchemaBuilder {
  const builder = SchemaBuilder.struct()
  if (source.version !== undefined) builder.version(source.version)
  if (source.doc !== undefined) builder.doc(source.doc)
  if (source.parameters) builder.parameters({ ...source.parameters })
  if (source.optional) builder.optional()
  if (copyFields) for (const f of source.fields) builder.field(f.name, f.schema)
  return builder
}
