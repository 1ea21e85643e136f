/**
 * Debezium's `io.debezium.transforms.ExtractNewRecordState` ("unwrap"): a change event envelope
 * (value schema named `….Envelope`) becomes its `after` state; deletes, tombstones and truncates are
 * handled by `delete.tombstone.handling.mode`; `add.fields`/`add.headers` copy envelope and source
 * fields (`op`, `source.ts_ms`, `table`…) into the value or headers; `route.by.field` renames the
 * topic after a field of the row; `drop.fields.header.name` drops the fields a header lists.
 * Records that are not envelopes (heartbeats, schema changes) pass through.
 *
 * `drop.tombstones` and `delete.handling.mode` (removed in Debezium 3.2) still apply when
 * `delete.tombstone.handling.mode` is not set and either of them is: tombstones are dropped unless
 * `drop.tombstones=false`; deletes are dropped (`drop`, the default), kept as a null value (`none`)
 * or rewritten with `__deleted` (`rewrite`).
 */

import { ConfigDef, ValidString } from '../../api/config-def.ts'
import type { Props } from '../../api/connector.ts'
import { type Schema, Schemas } from '../../api/data/schema.ts'
import { SchemaBuilder } from '../../api/data/schema-builder.ts'
import { Struct } from '../../api/data/struct.ts'
import { ConfigError, DataError } from '../../api/errors.ts'
import type { ConnectRecord } from '../../api/records.ts'
import type { Transformation } from '../../api/transformation.ts'
import { ExtractField } from '../extract-field.ts'
import { InsertField } from '../insert-field.ts'
import { ReplaceField } from '../replace-field.ts'
import { copySchemaBasics, guard, requireStruct } from '../transform-support.ts'

export const DELETED_FIELD = '__deleted'
const TOMBSTONE_MODES = [
  'drop',
  'tombstone',
  'rewrite',
  'rewrite-with-tombstone',
  'delete-to-tombstone',
] as const
type Mode = (typeof TOMBSTONE_MODES)[number]

export const EXTRACT_NEW_RECORD_STATE_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'delete.tombstone.handling.mode',
    type: 'STRING',
    defaultValue: 'tombstone',
    validator: ValidString.inIgnoringCase(...TOMBSTONE_MODES),
    importance: 'MEDIUM',
    width: 'MEDIUM',
    displayName: 'Handle delete and tombstone records',
    documentation:
      'How to handle delete records. Options are: drop - Remove the delete event and tombstone from the stream. tombstone (default) - For each delete event, leave only a tombstone in the stream. rewrite - Remove tombstone from the record, and add a `__deleted` field with the value `true`. rewrite-with-tombstone - Retain tombstone in record and add a `__deleted` field with the value `true`. delete-to-tombstone - Convert delete events to tombstone events and drop tombstone events.',
  })
  .define({
    name: 'route.by.field',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'The column which determines how the events will be routed, the value will replace the topic name.',
  })
  .define({
    name: 'add.fields.prefix',
    type: 'STRING',
    defaultValue: '__',
    importance: 'LOW',
    documentation: 'Adds this prefix to each field listed.',
  })
  .define({
    name: 'add.fields',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      "Adds each field listed, prefixed with __ (or __<struct>_ if the struct is specified). Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP.Please note that the new field name is case-sensitive.",
  })
  .define({
    name: 'add.headers.prefix',
    type: 'STRING',
    defaultValue: '__',
    importance: 'LOW',
    documentation: 'Adds this prefix listed to each header.',
  })
  .define({
    name: 'add.headers',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      "Adds each field listed to the header,  __ (or __<struct>_ if the struct is specified). Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP.Please note that the new field name is case-sensitive.",
  })
  .define({
    name: 'drop.fields.header.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation:
      'Specifies the name of a header that contains a list of fields to be removed from the event value.',
  })
  .define({
    name: 'drop.fields.from.key',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation:
      'Specifies whether to apply the drop fields behavior to the event key as well as the value. Default behavior is to only remove fields from the event value, not the key.',
  })
  .define({
    name: 'drop.fields.keep.schema.compatible',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      "Controls the output event's schema compatibility when using the drop fields feature. `true`: dropped fields are removed if the schema indicates its optional leaving the schemas unchanged, `false`: dropped fields are removed from the key/value schemas, regardless of optionality.",
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      'When this option is enabled, null field values are replaced by source-defined defaults when rewriting the record.',
  })
  .define({
    name: 'drop.tombstones',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      'Deprecated (removed in Debezium 3.2), use delete.tombstone.handling.mode. Read only when delete.tombstone.handling.mode is not set: whether tombstones are dropped.',
  })
  .define({
    name: 'delete.handling.mode',
    type: 'STRING',
    defaultValue: 'drop',
    validator: ValidString.inIgnoringCase('drop', 'rewrite', 'none'),
    importance: 'MEDIUM',
    documentation:
      'Deprecated (removed in Debezium 3.2), use delete.tombstone.handling.mode. Read only when delete.tombstone.handling.mode is not set: none - records are passed, drop - records are removed (the default), rewrite - __deleted field is added to records.',
  })

const TRANSACTION_FIELDS = new Set(['id', 'total_order', 'data_collection_order'])
const ENVELOPE_LEVEL = new Set(['op', 'ts_ms', 'ts_us', 'ts_ns'])

/** One `add.fields`/`add.headers` entry: `field`, `struct.field`, with an optional `:newName`. */
class FieldReference {
  readonly struct: string | null
  readonly field: string
  readonly newField: string

  constructor(prefix: string, spec: string, key: string) {
    const parts = spec.split(':')
    if (parts.length > 2) throw new ConfigError(key, `Unexpected field name: ${spec}`)
    const splits = parts[0].split('.')
    this.field = splits.length === 1 ? splits[0] : splits[1]
    this.struct = splits.length === 1 ? structOf(this.field) : splits[0]
    this.newField =
      prefix +
      (parts.length === 2 ? parts[1] : splits.length === 1 ? this.field : `${this.struct}_${this.field}`)
  }

  /** The field's schema in the envelope (optional), or undefined when the envelope has no such field. */
  schemaIn(envelope: Schema): Schema | undefined {
    const parent = this.struct === null ? envelope : envelope.field(this.struct)?.schema
    let field = parent?.type === 'STRUCT' ? parent.field(this.field) : undefined
    if (!field) field = envelope.field(this.field)
    return field ? copySchemaBasics(field.schema).optional().build() : undefined
  }

  valueIn(envelope: Struct): unknown {
    const parent =
      this.struct === null
        ? envelope
        : envelope.schema.field(this.struct)
          ? envelope.getWithoutDefault(this.struct)
          : null
    if (!(parent instanceof Struct)) return null
    if (parent.schema.field(this.field)) return parent.getWithoutDefault(this.field)
    return envelope.schema.field(this.field) ? envelope.getWithoutDefault(this.field) : null
  }
}

function structOf(field: string): string | null {
  if (TRANSACTION_FIELDS.has(field)) return 'transaction'
  if (ENVELOPE_LEVEL.has(field)) return null
  if (field === 'updateDescription') return 'updateDescription'
  return 'source'
}

function references(prefix: string, list: readonly string[], key: string): FieldReference[] {
  return list
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => new FieldReference(prefix, s, key))
}

export function isEnvelope(record: ConnectRecord): boolean {
  return record.valueSchema?.name?.endsWith('.Envelope') === true
}

export class ExtractNewRecordState implements Transformation {
  #mode: Mode | 'legacy' = 'tombstone'
  #legacyDropTombstones = true
  #legacyDeletes: 'drop' | 'rewrite' | 'none' = 'drop'
  #fields: FieldReference[] = []
  #headers: FieldReference[] = []
  #routeByField: string | null = null
  #dropFieldsHeader: string | null = null
  #dropFieldsFromKey = false
  #dropFieldsKeepSchemaCompatible = true
  readonly #after = new ExtractField('value')
  readonly #before = new ExtractField('value')
  readonly #deleted = new InsertField('value')
  readonly #notDeleted = new InsertField('value')
  readonly #schemaCache = new Map<Schema, Map<string, Schema>>()

  configure(props: Props): void {
    const config = EXTRACT_NEW_RECORD_STATE_CONFIG_DEF.parse(props)
    const modeGiven = props['delete.tombstone.handling.mode'] !== undefined
    const legacyGiven = props['drop.tombstones'] !== undefined || props['delete.handling.mode'] !== undefined
    if (!modeGiven && legacyGiven) {
      this.#mode = 'legacy'
      this.#legacyDropTombstones = config['drop.tombstones'] as boolean
      this.#legacyDeletes = (config['delete.handling.mode'] as string).toLowerCase() as
        | 'drop'
        | 'rewrite'
        | 'none'
    } else {
      this.#mode = (config['delete.tombstone.handling.mode'] as string).trim().toLowerCase() as Mode
    }
    this.#fields = references(
      config['add.fields.prefix'] as string,
      config['add.fields'] as string[],
      'add.fields',
    )
    this.#headers = references(
      config['add.headers.prefix'] as string,
      config['add.headers'] as string[],
      'add.headers',
    )
    const route = config['route.by.field'] as string
    this.#routeByField = route === '' ? null : route
    this.#dropFieldsHeader = config['drop.fields.header.name'] as string | null
    this.#dropFieldsFromKey = config['drop.fields.from.key'] as boolean
    this.#dropFieldsKeepSchemaCompatible = config['drop.fields.keep.schema.compatible'] as boolean
    const replaceNull = String(config['replace.null.with.default'])
    this.#after.configure({ field: 'after', 'replace.null.with.default': replaceNull })
    this.#before.configure({ field: 'before', 'replace.null.with.default': replaceNull })
    this.#deleted.configure({
      'static.field': DELETED_FIELD,
      'static.value': 'true',
      'replace.null.with.default': replaceNull,
    })
    this.#notDeleted.configure({
      'static.field': DELETED_FIELD,
      'static.value': 'false',
      'replace.null.with.default': replaceNull,
    })
    this.#schemaCache.clear()
  }

  config(): ConfigDef {
    return EXTRACT_NEW_RECORD_STATE_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(input: R): R | null {
    return guard('ExtractNewRecordState', input, () => this.#apply(input))
  }

  #apply<R extends ConnectRecord>(input: R): R | null {
    let record = input
    const tombstone = record.value === null || record.value === undefined
    const envelope = isEnvelope(record)
    if ((envelope || tombstone) && this.#headers.length > 0) {
      const headers = record.headers.duplicate()
      for (const ref of this.#headers) {
        if (tombstone) {
          if (ref.field === 'op') headers.add(ref.newField, 'd', Schemas.STRING)
          continue
        }
        const value = record.value as Struct
        const schema = ref.schemaIn(value.schema)
        if (schema) headers.add(ref.newField, ref.valueIn(value), schema)
      }
      record = record.newRecord({ headers })
    }
    if (tombstone) return this.#keepTombstone() ? record : null
    if (!envelope) return record

    const after = this.#after.apply(record)
    if (after.value === null && this.#before.apply(record).value === null) return null // truncate

    let result: R | null
    if (after.value === null) {
      result = this.#handleDelete(record)
      if (result === null) return null
      if (this.#routeByField !== null) {
        const before = requireStruct(record.value, 'Read record to set topic routing for DELETE').get(
          'before',
        )
        result = this.#route(requireStruct(before, 'Read record to set topic routing for DELETE'), result)
      }
      if (this.#dropFieldsHeader) result = this.#dropFields(result)
      if (result.value !== null) result = this.#addFields(record, result)
    } else {
      result = this.#rewriteMode() && after.value instanceof Struct ? this.#notDeleted.apply(after) : after
      if (this.#routeByField !== null) {
        result = this.#route(
          requireStruct(result.value, 'Read record to set topic routing for CREATE / UPDATE'),
          result,
        )
      }
      result = this.#addFields(record, result)
      if (this.#dropFieldsHeader) result = this.#dropFields(result)
    }
    return result
  }

  #keepTombstone(): boolean {
    if (this.#mode === 'legacy') return !this.#legacyDropTombstones
    return this.#mode === 'rewrite-with-tombstone'
  }

  #rewriteMode(): boolean {
    if (this.#mode === 'legacy') return this.#legacyDeletes === 'rewrite'
    return this.#mode === 'rewrite' || this.#mode === 'rewrite-with-tombstone'
  }

  #handleDelete<R extends ConnectRecord>(record: R): R | null {
    const mode =
      this.#mode === 'legacy'
        ? { drop: 'drop', none: 'tombstone', rewrite: 'rewrite' }[this.#legacyDeletes]
        : this.#mode
    switch (mode) {
      case 'drop':
        return null
      case 'tombstone':
        // A null value with the `after` schema: the JDBC sink reads it as a flattened delete.
        return this.#after.apply(record)
      case 'delete-to-tombstone':
        return record.newRecord({ valueSchema: null, value: null })
      default: {
        const old = this.#before.apply(record)
        return old.value instanceof Struct ? this.#deleted.apply(old) : old
      }
    }
  }

  #route<R extends ConnectRecord>(row: Struct, record: R): R {
    const field = this.#routeByField!
    if (!row.schema.field(field)) throw new DataError(`route.by.field '${field}' is not a field of the row`)
    const topic = row.get(field)
    if (topic !== null && typeof topic !== 'string') {
      throw new DataError(`route.by.field '${field}' is not a string field`)
    }
    return topic === null || topic.trim() === '' ? record : record.newRecord({ topic })
  }

  #addFields<R extends ConnectRecord>(original: R, unwrapped: R): R {
    if (this.#fields.length === 0) return unwrapped
    const value = requireStruct(unwrapped.value, 'source field insertion')
    const envelope = original.value as Struct
    const op = envelope.schema.field('op') ? String(envelope.getWithoutDefault('op')) : ''
    let byOp = this.#schemaCache.get(value.schema)
    if (!byOp) {
      byOp = new Map()
      this.#schemaCache.set(value.schema, byOp)
      if (this.#schemaCache.size > 64)
        this.#schemaCache.delete(this.#schemaCache.keys().next().value as Schema)
    }
    let schema = byOp.get(op)
    if (!schema) {
      const builder = copySchemaBasics(value.schema, SchemaBuilder.struct())
      for (const f of value.schema.fields) builder.field(f.name, f.schema)
      for (const ref of this.#fields) {
        const s = ref.schemaIn(envelope.schema)
        if (s) builder.field(ref.newField, s)
      }
      schema = builder.build()
      byOp.set(op, schema)
    }
    const updated = new Struct(schema)
    for (const f of value.schema.fields) updated.put(f.name, value.getWithoutDefault(f.name))
    for (const ref of this.#fields)
      if (schema.field(ref.newField)) updated.put(ref.newField, ref.valueIn(envelope))
    return unwrapped.newRecord({ valueSchema: schema, value: updated })
  }

  #dropFields<R extends ConnectRecord>(record: R): R {
    const header = record.headers.allWithName(this.#dropFieldsHeader!)[0]
    if (!header || header.value === null || header.value === undefined) return record
    if (!Array.isArray(header.value)) {
      throw new DataError(`header '${this.#dropFieldsHeader}' must hold a list of field names`)
    }
    const names = header.value.map(String)
    if (names.length === 0) return record
    let result = record
    if (this.#dropFieldsFromKey && result.key !== null && result.keySchema) {
      const drop = this.#fieldsToDrop(result.keySchema, names)
      if (drop.length > 0) {
        const replace = new ReplaceField('key')
        replace.configure({ exclude: drop.join(',') })
        result = replace.apply(result)
      }
    }
    if (result.valueSchema) {
      const drop = this.#fieldsToDrop(result.valueSchema, names)
      if (drop.length > 0) {
        const replace = new ReplaceField('value')
        replace.configure({ exclude: drop.join(',') })
        result = replace.apply(result)
      }
    }
    return result
  }

  #fieldsToDrop(schema: Schema, names: string[]): string[] {
    if (!this.#dropFieldsKeepSchemaCompatible) return names
    return schema.fields.filter((f) => f.schema.optional && names.includes(f.name)).map((f) => f.name)
  }

  close(): void {
    this.#schemaCache.clear()
  }
}
