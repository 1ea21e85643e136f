/**
 * The Kafka Connect schemas of one captured table, named as Debezium names them:
 * key `<prefix>.<schema>.<table>.Key`, row `<…>.Value`, envelope `<…>.Envelope` (version 2), and the
 * `io.debezium.connector.postgresql.Source` block every event carries.
 */
import type { Schema } from '../../api/data/schema.ts'
import { SchemaBuilder } from '../../api/data/schema-builder.ts'
import { Struct } from '../../api/data/struct.ts'
import type { CatalogTable } from './catalog.ts'
import type { CdcSettings } from './config.ts'
import { RAW_NULL, RawTuple, type Row } from './pgoutput-decoder.ts'
import { type ColumnConverter, columnConverter, type PgType } from './value-converters.ts'

export const SNAPSHOT_ENUM_VALUES =
  'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental'

export const SOURCE_SCHEMA: Schema = SchemaBuilder.struct()
  .name('io.debezium.connector.postgresql.Source')
  .version(1)
  .field('version', SchemaBuilder.string().build())
  .field('connector', SchemaBuilder.string().build())
  .field('name', SchemaBuilder.string().build())
  .field('ts_ms', SchemaBuilder.int64().build())
  .field(
    'snapshot',
    SchemaBuilder.string()
      .optional()
      .name('io.debezium.data.Enum')
      .version(1)
      .parameter('allowed', SNAPSHOT_ENUM_VALUES)
      .defaultValue('false')
      .build(),
  )
  .field('db', SchemaBuilder.string().build())
  .field('sequence', SchemaBuilder.string().optional().build())
  .field('ts_us', SchemaBuilder.int64().optional().build())
  .field('ts_ns', SchemaBuilder.int64().optional().build())
  .field('schema', SchemaBuilder.string().build())
  .field('table', SchemaBuilder.string().build())
  .field('txId', SchemaBuilder.int64().optional().build())
  .field('lsn', SchemaBuilder.int64().optional().build())
  .field('xmin', SchemaBuilder.int64().optional().build())
  .field('origin', SchemaBuilder.string().optional().build())
  .field('origin_lsn', SchemaBuilder.int64().optional().build())
  .build()

export const TRANSACTION_BLOCK_SCHEMA: Schema = SchemaBuilder.struct()
  .optional()
  .name('event.block')
  .version(1)
  .field('id', SchemaBuilder.string().build())
  .field('total_order', SchemaBuilder.int64().build())
  .field('data_collection_order', SchemaBuilder.int64().build())
  .build()

export interface CapturedColumn {
  name: string
  /** Position of the column in pgoutput tuples (and in snapshot rows). */
  position: number
  converter: ColumnConverter
}

export interface TableSchema {
  /** `schema.table`. */
  id: string
  schema: string
  table: string
  topic: string
  keySchema: Schema | null
  valueSchema: Schema
  envelopeSchema: Schema
  /** Columns in the value, in table order. */
  columns: CapturedColumn[]
  keyColumns: CapturedColumn[]
  /** Every column name of the relation, in tuple order (captured or not). */
  relationColumns: string[]
}

export interface RelationShape {
  name: string
  typeOid: number
  typmod: number
}

export interface BuildWarnings {
  warn(message: string): void
}

function columnIncluded(settings: CdcSettings, id: string, column: string): boolean {
  const name = `${id}.${column}`
  if (settings.columnInclude.length > 0) return settings.columnInclude.some((r) => r.test(name))
  return !settings.columnExclude.some((r) => r.test(name))
}

/** Positions of the envelope's fields (its schema below), for putting them without a name lookup. */
export const ENVELOPE_BEFORE = 0
export const ENVELOPE_AFTER = 1
export const ENVELOPE_SOURCE = 2
export const ENVELOPE_TRANSACTION = 3
export const ENVELOPE_OP = 4
export const ENVELOPE_TS_MS = 5
export const ENVELOPE_TS_US = 6
export const ENVELOPE_TS_NS = 7

/** Builds the schemas of a table from its relation shape (pgoutput or catalog) plus the catalog. */
export function buildTableSchema(
  settings: CdcSettings,
  schema: string,
  table: string,
  shape: RelationShape[],
  catalog: CatalogTable | null,
  types: Map<number, PgType>,
  log: BuildWarnings,
): TableSchema {
  const id = `${schema}.${table}`
  const prefix = `${settings.topicPrefix}.${id}`
  const byName = new Map((catalog?.columns ?? []).map((c) => [c.name, c]))
  const customKey = settings.messageKeyColumns.find((k) => k.table.test(id))?.columns
  const keyNames = customKey ?? catalog?.primaryKey ?? []
  const columns: CapturedColumn[] = []
  shape.forEach((column, position) => {
    const isKey = keyNames.includes(column.name)
    if (!isKey && !columnIncluded(settings, id, column.name)) return
    const info = byName.get(column.name)
    const type = types.get(column.typeOid)
    if (!type) return
    const converter = columnConverter(
      { type, typmod: column.typmod },
      info ? info.nullable : true,
      info?.defaultExpression ?? null,
      settings,
    )
    if (!converter) {
      log.warn(`column ${id}.${column.name} has type ${type.name}, which has no mapping: left out of events`)
      return
    }
    columns.push({ name: column.name, position, converter })
  })
  const keyColumns = keyNames
    .map((name) => columns.find((c) => c.name === name))
    .filter((c): c is CapturedColumn => c !== undefined)
  const value = SchemaBuilder.struct().name(`${prefix}.Value`).optional()
  for (const c of columns) value.field(c.name, c.converter.schema)
  const valueSchema = value.build()
  let keySchema: Schema | null = null
  if (keyColumns.length > 0) {
    const key = SchemaBuilder.struct().name(`${prefix}.Key`)
    for (const c of keyColumns) key.field(c.name, c.converter.schema)
    keySchema = key.build()
  }
  const envelopeSchema = SchemaBuilder.struct()
    .name(`${prefix}.Envelope`)
    .version(2)
    .field('before', valueSchema)
    .field('after', valueSchema)
    .field('source', SOURCE_SCHEMA)
    .field('transaction', TRANSACTION_BLOCK_SCHEMA)
    .field('op', SchemaBuilder.string().build())
    .field('ts_ms', SchemaBuilder.int64().optional().build())
    .field('ts_us', SchemaBuilder.int64().optional().build())
    .field('ts_ns', SchemaBuilder.int64().optional().build())
    .build()
  return {
    id,
    schema,
    table,
    topic: topicName(prefix, log),
    keySchema,
    valueSchema,
    envelopeSchema,
    columns,
    keyColumns,
    relationColumns: shape.map((c) => c.name),
  }
}

export type RowMode = 'full' | 'old-key' | 'old-full'

/** Whether column `position` of a row has a value (true), is null (null) or an unchanged TOASTed value (undefined). */
function presence(row: Row, position: number): true | null | undefined {
  if (row instanceof RawTuple) {
    const start = row.bounds[2 * position]
    return start >= 0 ? true : start === RAW_NULL ? null : undefined
  }
  const text = row[position]
  return text === null || text === undefined ? text : true
}

/** Column `position` of a row converted: null for null, undefined for an unchanged TOASTed value. */
function valueAt(row: Row, position: number, converter: ColumnConverter): unknown {
  if (!(row instanceof RawTuple)) {
    const text = row[position]
    return text === null || text === undefined ? text : converter.convert(text)
  }
  const start = row.bounds[2 * position]
  // (Past the tuple's last column, as an array's index: undefined.)
  if (!(start >= 0)) return start === RAW_NULL ? null : undefined
  const escaped = row.escaped?.[position]
  if (escaped !== undefined) return converter.convert(escaped)
  const end = row.bounds[2 * position + 1]
  if (converter.bytes !== null) {
    const value = converter.bytes(row.buffer, start, end)
    if (value !== undefined) return value
  }
  return converter.convert(row.buffer.toString('utf8', start, end))
}

/**
 * A row value from a tuple. An unchanged TOASTed column: with the old row at hand (REPLICA IDENTITY
 * FULL) its old value is used, else the placeholder. In `old-key` mode (a delete's or key change's old
 * key tuple) non-key columns get Debezium's fallbacks: null when nullable, the type's zero (`""`, `0`,
 * `false`) when NOT NULL.
 */
export function rowStruct(ts: TableSchema, tuple: Row, mode: RowMode, old: Row | null = null): Struct {
  // The value schema has one field per captured column, in the same order; the converters made for
  // those fields give their values, so the struct takes them without a check per field.
  const columns = ts.columns
  const values: unknown[] = new Array(columns.length)
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]
    const converter = column.converter
    let row = tuple
    if (old !== null && presence(tuple, column.position) === undefined) row = old
    let value: unknown
    if (mode === 'old-key' && presence(row, column.position) === null && !ts.keyColumns.includes(column)) {
      // Debezium's value for a column the old key tuple does not carry: its default, else the type's zero.
      value = converter.schema.defaultValue ?? converter.fallback
    } else {
      value = valueAt(row, column.position, converter)
      if (value === undefined) value = converter.placeholder
    }
    values[i] = value ?? null
  }
  return Struct.trusted(ts.valueSchema, values)
}

export function keyStruct(ts: TableSchema, tuple: Row): Struct | null {
  if (!ts.keySchema) return null
  const keyColumns = ts.keyColumns
  const values: unknown[] = new Array(keyColumns.length)
  for (let i = 0; i < keyColumns.length; i++) {
    const column = keyColumns[i]
    values[i] = valueAt(tuple, column.position, column.converter) ?? null
  }
  return Struct.trusted(ts.keySchema, values)
}

/**
 * Kafka topic names hold only `[a-zA-Z0-9._-]`; table names hold anything. As Debezium's topic naming
 * strategies (AbstractTopicNamingStrategy.sanitizedTopicName), every other character becomes `_`, with
 * a warning (once per name: the warn callback is keyed by message).
 */
export function topicName(name: string, log: BuildWarnings): string {
  const sanitized = name.replace(/[^a-zA-Z0-9._-]/g, '_')
  if (sanitized !== name) {
    log.warn(`Topic '${name}' name isn't a valid topic name, replacing it with '${sanitized}'.`)
  }
  return sanitized
}
