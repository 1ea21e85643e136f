/**
 * Turns a sink record into what to do with one row: which table, which columns (key columns first),
 * which values — Confluent's `FieldsMetadata` rules for `pk.mode`/`pk.fields`/`fields.whitelist`
 * (kafka-connect-jdbc), and for the Debezium flavour its change-event envelope (op c/r/u → write
 * `after`, d → delete by key, t → truncate; a tombstone deletes by key too, when deletes are on).
 *
 * Column plans are cached per topic and schema objects (converters reuse schema instances), so the
 * per-record work is reading values.
 */
import type { Field, Schema } from '../../../api/data/schema.ts'
import { Schemas } from '../../../api/data/schema.ts'
import { Struct } from '../../../api/data/struct.ts'
import { DataError } from '../../../api/errors.ts'
import { connectLogger } from '../../../api/log.ts'
import type { SinkRecord } from '../../../api/records.ts'
import type { TableId } from '../common/dialect.ts'
import type { DialectName } from '../common/url.ts'
import { columnTypeOf } from './column-kind.ts'
import { type SinkSettings, TOPIC_VARIABLE } from './config.ts'
import type { ColumnDefinition } from './ddl.ts'

export interface TablePlan {
  /** Key columns first, then the others. */
  columns: ColumnDefinition[]
  keyCount: number
  /** Identifies the column list (names and types) for grouping rows into one statement. */
  signature: string
  /** Where each column's value comes from. */
  sources: ValueSource[]
}

/**
 * Where a column's value comes from. A field source carries the schema's `Field` (the plan is cached
 * per schema object), so a record's value is read by position, not looked up by name.
 */
type ValueSource =
  | { from: 'topic' }
  | { from: 'partition' }
  | { from: 'offset' }
  | { from: 'key' }
  | { from: 'key-field'; field: Field }
  | { from: 'value-field'; field: Field }

export type RowOp =
  | { kind: 'write'; table: TableId; plan: TablePlan; values: unknown[]; record: SinkRecord }
  | { kind: 'delete'; table: TableId; plan: TablePlan; values: unknown[]; record: SinkRecord }
  | { kind: 'truncate'; table: TableId; record: SinkRecord }
  | { kind: 'skip'; record: SinkRecord }
  | { kind: 'fail'; record: SinkRecord; error: Error }

const KAFKA_PK_DEFAULTS = ['__connect_topic', '__connect_partition', '__connect_offset']
const KEYLESS: Schema = Schemas.OPTIONAL_STRING
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/
const PG_MAX_IDENTIFIER_BYTES = 63

export class RecordMapper {
  readonly #s: SinkSettings
  readonly #dialect: DialectName
  readonly #plans = new Map<string, WeakMap<Schema, Map<Schema, TablePlan>>>()
  readonly #deletePlans = new WeakMap<Schema, TablePlan>()
  readonly #tables = new Map<string, TableId>()
  readonly #warned = new Set<string>()
  /** The plan found last, with what it was found for: consecutive records usually share it. */
  #lastPlan: { topic: string; valueSchema: Schema; keySchema: Schema; plan: TablePlan } | undefined
  /** The table name format reads the Debezium event's source block (`${source.…}`). */
  readonly #usesSource: boolean

  constructor(settings: SinkSettings, dialect: DialectName) {
    this.#s = settings
    this.#dialect = dialect
    this.#usesSource = settings.flavour === 'debezium' && settings.tableNameFormat.includes(`\${source.`)
  }

  /**
   * The identifier as the table will hold it: with quoting off, PostgreSQL folds plain names to lower
   * case, so the sink does the same and still quotes (one code path, never unquoted SQL).
   */
  identifier(name: string, what = 'name'): string {
    if (this.#dialect === 'postgresql' && Buffer.byteLength(name) > PG_MAX_IDENTIFIER_BYTES) {
      // PostgreSQL cuts longer names to 63 bytes (NAMEDATALEN - 1) without an error, so two long names
      // become one column ("already exists") and a long name never matches the column it created.
      throw new DataError(
        `${what} '${name}' is ${Buffer.byteLength(name)} bytes long; PostgreSQL identifiers hold at most ` +
          `${PG_MAX_IDENTIFIER_BYTES} bytes and longer ones are silently truncated: shorten it (e.g. with the ` +
          "ReplaceField transform's renames, or collection.name.format / table.name.format for a table)",
      )
    }
    return !this.#s.quoteIdentifiers && this.#dialect === 'postgresql' && PLAIN_IDENTIFIER.test(name)
      ? name.toLowerCase()
      : name
  }

  map(record: SinkRecord): RowOp {
    try {
      return this.#map(record)
    } catch (error) {
      return { kind: 'fail', record, error: error instanceof Error ? error : new Error(String(error)) }
    }
  }

  #map(record: SinkRecord): RowOp {
    let value = record.value
    let valueSchema = record.valueSchema
    let source: Struct | undefined
    if (this.#s.flavour === 'debezium') {
      // As Debezium's JdbcChangeEventSink: a tombstone is a delete (the only form a delete takes after
      // ExtractNewRecordState); both are skipped when deletes are off.
      if (value === null) {
        if (!this.#s.deleteEnabled) return { kind: 'skip', record }
        // A tombstone has no source block, so a `${source.*}` table name cannot be resolved: Debezium's
        // DefaultCollectionNamingStrategy returns no name and JdbcChangeEventSink skips the record with a
        // warning (the delete event before it already deleted the row).
        if (this.#usesSource) {
          this.#warnOnce(
            `tombstone:${record.topic}`,
            `JDBC sink skips tombstones on topic '${record.topic}' (first at ${where(record)}): collection.name.format ` +
              `'${this.#s.tableNameFormat}' needs the event's source block, which a tombstone does not have; the delete ` +
              'event before it deletes the row',
          )
          return { kind: 'skip', record }
        }
        return this.#delete(record, undefined)
      }
      if (valueSchema && isEnvelope(valueSchema) && value instanceof Struct) {
        const op = value.get('op')
        source = value.schema.field('source')
          ? ((value.get('source') as Struct | null) ?? undefined)
          : undefined
        if (op === 'd') {
          return this.#s.deleteEnabled ? this.#delete(record, source) : { kind: 'skip', record }
        }
        if (op === 't') {
          return this.#s.truncateEnabled
            ? { kind: 'truncate', table: this.#table(record.topic, source), record }
            : { kind: 'skip', record }
        }
        if (op !== 'c' && op !== 'u' && op !== 'r') return { kind: 'skip', record }
        valueSchema = valueSchema.field('after')!.schema
        value = value.get('after')
        if (value === null) throw new DataError(`a Debezium '${String(op)}' event has no 'after' row`)
      }
    } else if (value === null) {
      if (this.#s.deleteEnabled) return this.#delete(record, undefined)
      throw new DataError(
        `record at ${where(record)} is a tombstone (null value) and delete.enabled=false: set ` +
          'delete.enabled=true (with pk.mode=record_key) to delete rows, or drop tombstones with the ' +
          'Filter transform and the RecordIsTombstone predicate',
      )
    }
    if (valueSchema?.type !== 'STRUCT' || !(value instanceof Struct)) {
      throw new DataError(
        `record at ${where(record)} has no Struct value with a schema (value schema: ${valueSchema?.type ?? 'none'}): ` +
          'the JDBC sink needs schemas, e.g. JsonConverter with value.converter.schemas.enable=true, Avro or ' +
          'JSON Schema',
      )
    }
    const plan = this.#plan(record, valueSchema)
    const key = record.key
    const { sources } = plan
    const values: unknown[] = new Array(sources.length)
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i]!
      switch (s.from) {
        case 'value-field':
          values[i] = fieldValue(value, valueSchema, s.field)
          break
        case 'key-field':
          values[i] = fieldValue(key as Struct, record.keySchema, s.field)
          break
        case 'key':
          values[i] = key
          break
        case 'topic':
          values[i] = record.topic
          break
        case 'partition':
          values[i] = record.kafkaPartition
          break
        case 'offset':
          values[i] = record.kafkaOffset
          break
      }
    }
    for (let i = 0; i < plan.keyCount; i++) {
      if (values[i] === null || values[i] === undefined) {
        throw new DataError(
          `record at ${where(record)} has a null value for key column '${plan.columns[i]!.name}'`,
        )
      }
    }
    return { kind: 'write', table: this.#table(record.topic, source), plan, values, record }
  }

  #delete(record: SinkRecord, source: Struct | undefined): RowOp {
    const keySchema = record.keySchema
    if (record.key === null || !keySchema) {
      throw new DataError(
        `cannot delete for record at ${where(record)}: it has no key (with a schema) to find the row by`,
      )
    }
    let plan = this.#deletePlans.get(keySchema)
    if (!plan) {
      const { columns, sources } = this.#keyColumns(record, keySchema, undefined)
      plan = makePlan(columns, columns.length, sources)
      this.#deletePlans.set(keySchema, plan)
    }
    const key = record.key
    const values = plan.sources.map((s) =>
      s.from === 'key-field' ? fieldValue(key as Struct, keySchema, s.field) : key,
    )
    return { kind: 'delete', table: this.#table(record.topic, source), plan, values, record }
  }

  #plan(record: SinkRecord, valueSchema: Schema): TablePlan {
    const keySchema = record.keySchema ?? KEYLESS
    const last = this.#lastPlan
    if (
      last &&
      last.topic === record.topic &&
      last.valueSchema === valueSchema &&
      last.keySchema === keySchema
    )
      return last.plan
    let byValue = this.#plans.get(record.topic)
    if (!byValue) {
      byValue = new WeakMap()
      this.#plans.set(record.topic, byValue)
    }
    let byKey = byValue.get(valueSchema)
    if (!byKey) {
      byKey = new Map()
      byValue.set(valueSchema, byKey)
    }
    let plan = byKey.get(keySchema)
    if (!plan) {
      plan = this.#buildPlan(record, valueSchema)
      byKey.set(keySchema, plan)
    }
    this.#lastPlan = { topic: record.topic, valueSchema, keySchema, plan }
    return plan
  }

  #buildPlan(record: SinkRecord, valueSchema: Schema): TablePlan {
    const { columns, sources } = this.#keyColumns(record, record.keySchema, valueSchema)
    const keyNames = new Set(columns.map((c) => c.name))
    const keyFieldNames = new Set(sources.flatMap((s) => (s.from === 'value-field' ? [s.field.name] : [])))
    const include = this.#fieldFilter(this.#s.fieldsInclude, record.topic)
    const exclude = this.#fieldFilter(this.#s.fieldsExclude, record.topic)
    for (const field of valueSchema.fields) {
      if (keyFieldNames.has(field.name)) continue
      if (include.size > 0 && !include.has(field.name)) continue
      if (exclude.has(field.name)) continue
      const name = this.identifier(field.name, `record ${where(record)}: field`)
      if (keyNames.has(name)) continue
      columns.push({ name, schema: field.schema, type: columnTypeOf(field.schema, field.name), isKey: false })
      sources.push({ from: 'value-field', field })
    }
    if (columns.length === 0) {
      throw new DataError(
        `record at ${where(record)} gives no columns to write (check the field include/exclude lists)`,
      )
    }
    return makePlan(columns, keyNames.size, sources)
  }

  #fieldFilter(list: string[], topic: string): Set<string> {
    const names = new Set<string>()
    for (const entry of list) {
      const colon = entry.indexOf(':')
      if (colon < 0) names.add(entry)
      else if (entry.slice(0, colon) === topic) names.add(entry.slice(colon + 1))
    }
    return names
  }

  /** Key columns by pk.mode (Confluent's FieldsMetadata rules). */
  #keyColumns(
    record: SinkRecord,
    keySchema: Schema | null,
    valueSchema: Schema | undefined,
  ): { columns: ColumnDefinition[]; sources: ValueSource[] } {
    const s = this.#s
    const columns: ColumnDefinition[] = []
    const sources: ValueSource[] = []
    const add = (name: string, schema: Schema, source: ValueSource) => {
      columns.push({
        name: this.identifier(name, `record ${where(record)}: key field`),
        schema,
        type: columnTypeOf(schema, name),
        isKey: true,
      })
      sources.push(source)
    }
    switch (s.pkMode) {
      case 'none':
        break
      case 'kafka': {
        const [topic, partition, offset] = s.pkFields.length === 3 ? s.pkFields : KAFKA_PK_DEFAULTS
        add(topic!, Schemas.STRING, { from: 'topic' })
        add(partition!, Schemas.INT32, { from: 'partition' })
        add(offset!, Schemas.INT64, { from: 'offset' })
        break
      }
      case 'record_key': {
        if (!keySchema) {
          throw new DataError(
            `record at ${where(record)} has no key schema, but ${s.pkModeKey}=record_key: use a key converter ` +
              'with schemas (e.g. JsonConverter with key.converter.schemas.enable=true)',
          )
        }
        if (keySchema.type === 'STRUCT') {
          const names = s.pkFields.length > 0 ? s.pkFields : keySchema.fields.map((f) => f.name)
          for (const name of names) {
            const field = keySchema.field(name)
            if (!field) {
              throw new DataError(
                `${s.pkFieldsKey} names '${name}', which the key of ${where(record)} does not have`,
              )
            }
            add(name, field.schema, { from: 'key-field', field })
          }
        } else {
          if (s.pkFields.length !== 1) {
            throw new DataError(
              `the key of ${where(record)} is a primitive ${keySchema.type}: set exactly one column name in ` +
                `${s.pkFieldsKey} for it (now: ${s.pkFields.length})`,
            )
          }
          add(s.pkFields[0]!, keySchema, { from: 'key' })
        }
        break
      }
      case 'record_value': {
        if (!valueSchema) break
        const names = s.pkFields.length > 0 ? s.pkFields : valueSchema.fields.map((f) => f.name)
        for (const name of names) {
          const field = valueSchema.field(name)
          if (!field) {
            throw new DataError(
              `${s.pkFieldsKey} names '${name}', which the value of ${where(record)} does not have`,
            )
          }
          add(name, field.schema, { from: 'value-field', field })
        }
        break
      }
    }
    return { columns, sources }
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    connectLogger().warn(message)
  }

  /** The destination table for a topic (and Debezium source block). */
  #table(topic: string, source: Struct | undefined): TableId {
    const s = this.#s
    const format = s.tableNameFormat
    const usesSource = this.#usesSource
    const cacheKey = usesSource ? `${topic}\u0000${sourceKey(source)}` : topic
    const cached = this.#tables.get(cacheKey)
    if (cached) return cached
    const topicName = s.flavour === 'debezium' ? topic.replaceAll('.', '_') : topic
    let name = format.replaceAll(TOPIC_VARIABLE, topicName)
    if (usesSource) {
      name = name.replace(/\$\{source\.(\w+)\}/g, (_m, field: string) => {
        const value = source?.schema.field(field) ? source.get(field) : undefined
        if (value === undefined || value === null) {
          throw new DataError(
            `collection.name.format uses \${source.${field}}, but the event has no source.${field}`,
          )
        }
        return String(value)
      })
    }
    const table = this.#tableId(name)
    this.#tables.set(cacheKey, table)
    return table
  }

  /** `[schema.]table` (PostgreSQL), `[database.]table` (MySQL); SQLite takes the whole name. */
  #tableId(name: string): TableId {
    if (this.#dialect === 'sqlite' || !name.includes('.'))
      return { table: this.identifier(name, 'table name') }
    const parts = name.split('.')
    const table = this.identifier(parts[parts.length - 1]!, 'table name')
    const parent = this.identifier(parts[parts.length - 2]!, 'schema name')
    return this.#dialect === 'postgresql' ? { schema: parent, table } : { catalog: parent, table }
  }
}

/**
 * A field's value as `Struct.get` gives it (the default for a null), by the field's position when the
 * struct is of the schema the plan was made for, by name otherwise.
 */
function fieldValue(struct: Struct, schema: Schema | null, field: Field): unknown {
  return struct.schema === schema ? struct.get(field) : struct.get(field.name)
}

function makePlan(columns: ColumnDefinition[], keyCount: number, sources: ValueSource[]): TablePlan {
  const signature = columns.map((c) => `${c.name}\u0001${c.type.kind}${c.isKey ? '*' : ''}`).join('\u0000')
  return { columns, keyCount, signature, sources }
}

function isEnvelope(schema: Schema): boolean {
  if (schema.type !== 'STRUCT') return false
  const op = schema.field('op')
  const after = schema.field('after')
  return (
    op?.schema.type === 'STRING' && after?.schema.type === 'STRUCT' && schema.field('before') !== undefined
  )
}

function sourceKey(source: Struct | undefined): string {
  if (!source) return ''
  return ['db', 'schema', 'table']
    .map((f) => (source.schema.field(f) ? String(source.get(f)) : ''))
    .join('\u0000')
}

export function where(record: SinkRecord): string {
  return `${record.topic}-${record.kafkaPartition ?? 0}@${record.kafkaOffset}`
}
