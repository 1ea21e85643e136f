/**
 * SQL column types → Connect schemas and values, as Confluent's `GenericDatabaseDialect.addFieldToSchema`
 * (kafka-connect-jdbc): BOOLEAN, INT8…INT64 (one size up when UNSIGNED), FLOAT32/64,
 * NUMERIC by `numeric.mapping`, DECIMAL always Decimal (with `scale` and `connect.decimal.precision`),
 * character types → STRING, binary → BYTES, DATE/TIME/TIMESTAMP → Connect's logical types. A field is
 * optional when its column is nullable. The value schema is a struct named after the table.
 *
 * Where Confluent drops a column (ARRAY, OTHER), Sluice keeps it: PostgreSQL one-dimensional arrays of
 * simple types become Connect ARRAYs, and other types the driver returns as text (enum, interval,
 * inet, …) become STRING.
 */
import { BigDecimal } from '../../../api/data/big-decimal.ts'
import { DateType, Decimal, TimestampType, TimeType } from '../../../api/data/logical-types.ts'
import type { Field, Schema } from '../../../api/data/schema.ts'
import { SchemaBuilder } from '../../../api/data/schema-builder.ts'
import { Struct } from '../../../api/data/struct.ts'
import { DataError } from '../../../api/errors.ts'
import { type Column, parsePostgresArray } from '../common/connection.ts'
import type { DialectName } from '../common/url.ts'
import type { ColumnInfo } from './catalog.ts'
import type { NumericMapping } from './config.ts'
import { epochMs, parseDate, parseTime, parseTimestamp } from './sql-time.ts'

type Kind =
  | 'boolean'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'numeric'
  | 'decimal'
  | 'string'
  | 'bytes'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'year'

interface ColumnType {
  kind: Kind
  /** For PostgreSQL arrays: the element kind. */
  arrayOf?: Kind | undefined
  precision?: number | undefined
  scale?: number | undefined
}

const SIMPLE_ARRAY_ELEMENTS = new Set<Kind>([
  'boolean',
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'numeric',
  'string',
  'date',
  'timestamp',
  'timestamptz',
])

function postgresKind(type: string): Kind {
  switch (type) {
    case 'bool':
      return 'boolean'
    case 'int2':
      return 'int16'
    case 'int4':
      return 'int32'
    case 'int8':
    case 'oid':
      return 'int64'
    case 'float4':
      return 'float32'
    case 'float8':
      return 'float64'
    case 'numeric':
      return 'numeric'
    case 'bytea':
      return 'bytes'
    case 'date':
      return 'date'
    case 'time':
    case 'timetz':
      return 'time'
    case 'timestamp':
      return 'timestamp'
    case 'timestamptz':
      return 'timestamptz'
    default:
      // text, varchar, bpchar, json(b), uuid, xml, enums, interval, inet…: the driver's text form.
      return 'string'
  }
}

function mysqlKind(type: string, unsigned: boolean, precision: number | undefined): Kind {
  switch (type) {
    case 'tinyint':
    case 'tiny':
      return unsigned ? 'int16' : 'int8'
    case 'smallint':
    case 'short':
      return unsigned ? 'int32' : 'int16'
    case 'mediumint':
    case 'int24':
    case 'int':
    case 'integer':
    case 'long':
      return unsigned ? 'int64' : 'int32'
    case 'bigint':
    case 'longlong':
      return 'int64'
    case 'float':
      return 'float32'
    case 'double':
    case 'real':
      return 'float64'
    case 'decimal':
    case 'newdecimal':
      return 'decimal'
    case 'bit':
      return precision === 1 ? 'boolean' : 'bytes'
    case 'date':
    case 'newdate':
      return 'date'
    case 'time':
      return 'time'
    case 'datetime':
    case 'timestamp':
      return 'timestamp'
    case 'year':
      return 'year'
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'mediumblob':
    case 'longblob':
    case 'geometry':
      return 'bytes'
    case 'blob':
      // information_schema says blob only for binary columns; mysql2 says blob for TEXT too (query mode).
      return 'bytes'
    default:
      return 'string'
  }
}

function sqliteKind(type: string, precision: number | undefined): Kind {
  const t = type.toLowerCase()
  if (t === 'boolean' || t === 'bool') return 'boolean'
  if (t === 'tinyint') return 'int8'
  if (t === 'smallint') return 'int16'
  if (t === 'datetime' || t === 'timestamp') return 'timestamp'
  if (t === 'date') return 'date'
  if (t === 'time') return 'time'
  if (t.includes('int')) return 'int64'
  if (t.includes('char') || t.includes('clob') || t.includes('text')) return 'string'
  if (t.includes('blob')) return 'bytes'
  if (t.includes('real') || t.includes('floa') || t.includes('doub')) return 'float64'
  if (t.includes('numeric') || t.includes('decimal')) return precision === undefined ? 'float64' : 'numeric'
  return 'string'
}

function columnType(dialect: DialectName, column: Column, info: ColumnInfo | undefined): ColumnType {
  const type = info?.dataType ?? column.type
  const precision = info?.precision ?? column.precision
  const scale = info?.scale ?? column.scale
  if (dialect === 'postgresql') {
    if (type.startsWith('_')) {
      const element = postgresKind(type.slice(1))
      if (SIMPLE_ARRAY_ELEMENTS.has(element)) return { kind: 'string', arrayOf: element }
      return { kind: 'string' }
    }
    return { kind: postgresKind(type), precision, scale }
  }
  if (dialect === 'mysql') {
    let kind = mysqlKind(type, info?.unsigned ?? column.unsigned ?? false, precision)
    // Query mode: mysql2 names TEXT and BLOB alike; text is the common case.
    if (info === undefined && type === 'blob') kind = 'string'
    return { kind, precision, scale }
  }
  return { kind: sqliteKind(type, precision), precision, scale }
}

const DECIMAL_PRECISION = 'connect.decimal.precision'

function decimalSchema(precision: number | undefined, scale: number): SchemaBuilder {
  const builder = Decimal.builder(scale)
  if (precision !== undefined && precision > 0) builder.parameter(DECIMAL_PRECISION, String(precision))
  return builder
}

function integerKindForPrecision(precision: number): Kind {
  return precision > 9 ? 'int64' : precision > 4 ? 'int32' : precision > 2 ? 'int16' : 'int8'
}

/** NUMERIC(p,s) under `numeric.mapping`; unconstrained NUMERIC has no precision. */
function numericKind(mapping: NumericMapping, precision: number | undefined, scale: number): Kind {
  if (precision === undefined || precision === 0) {
    return mapping === 'best_fit' || mapping === 'best_fit_eager_double' ? 'float64' : 'decimal'
  }
  switch (mapping) {
    case 'none':
      return 'decimal'
    case 'precision_only':
      return scale === 0 && precision <= 18 ? integerKindForPrecision(precision) : 'decimal'
    case 'best_fit':
      if (precision <= 18 && scale <= 0 && scale >= -84) return integerKindForPrecision(precision)
      if (precision <= 18 && scale > 0) return 'float64'
      return 'decimal'
    case 'best_fit_eager_double':
      if (precision <= 18 && scale <= 0 && scale >= -84) return integerKindForPrecision(precision)
      if (scale > 0) return 'float64'
      return 'decimal'
  }
}

function schemaFor(kind: Kind, type: ColumnType): SchemaBuilder {
  switch (kind) {
    case 'boolean':
      return SchemaBuilder.bool()
    case 'int8':
      return SchemaBuilder.int8()
    case 'int16':
      return SchemaBuilder.int16()
    case 'int32':
      return SchemaBuilder.int32()
    case 'int64':
      return SchemaBuilder.int64()
    case 'float32':
      return SchemaBuilder.float32()
    case 'float64':
      return SchemaBuilder.float64()
    case 'numeric':
    case 'decimal':
      return decimalSchema(type.precision, type.scale ?? 0)
    case 'string':
      return SchemaBuilder.string()
    case 'bytes':
      return SchemaBuilder.bytes()
    case 'date':
    case 'year':
      return DateType.builder()
    case 'time':
      return TimeType.builder()
    case 'timestamp':
    case 'timestamptz':
      return TimestampType.builder()
  }
}

type Convert = (raw: unknown) => unknown

function toInteger(raw: unknown): number | bigint {
  if (typeof raw === 'number' || typeof raw === 'bigint') return raw
  if (typeof raw === 'boolean') return raw ? 1 : 0
  const text = String(raw)
  const n = Number(text)
  if (Number.isSafeInteger(n)) return n
  if (/^[+-]?\d+$/.test(text)) return BigInt(text)
  throw new DataError(`'${text}' is not an integer`)
}

function toSmallInteger(raw: unknown): number {
  if (typeof raw === 'number') return raw
  if (typeof raw === 'boolean') return raw ? 1 : 0
  if (raw instanceof Uint8Array) return raw.length === 0 ? 0 : raw[raw.length - 1]
  return Number(raw)
}

function toText(raw: unknown): string {
  if (typeof raw === 'string') return raw
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
  if (raw instanceof Date) return raw.toISOString()
  return String(raw)
}

function converterFor(kind: Kind, type: ColumnType, zone: string, columnName: string): Convert {
  switch (kind) {
    case 'boolean':
      return (raw) =>
        typeof raw === 'boolean'
          ? raw
          : raw instanceof Uint8Array
            ? raw.some((b) => b !== 0)
            : typeof raw === 'string'
              ? raw === 't' || raw === 'true' || raw === '1'
              : Number(raw) !== 0
    case 'int8':
    case 'int16':
    case 'int32':
      return toSmallInteger
    case 'int64':
      return toInteger
    case 'float32':
    case 'float64':
      return (raw) => (typeof raw === 'number' ? raw : Number(raw))
    case 'numeric':
    case 'decimal': {
      const scale = type.scale ?? 0
      return (raw) => {
        const text = typeof raw === 'number' ? String(raw) : toText(raw)
        if (text === 'NaN')
          throw new DataError(`column '${columnName}' holds NaN, which a Connect Decimal cannot carry`)
        const value = BigDecimal.parse(text)
        try {
          return value.setScale(scale)
        } catch {
          throw new DataError(
            `column '${columnName}' value ${text} has more digits after the point than its Decimal schema ` +
              `(scale ${scale}); declare the column NUMERIC(p,s) or set numeric.mapping=best_fit`,
          )
        }
      }
    }
    case 'string':
      return toText
    case 'bytes':
      return (raw) => (raw instanceof Uint8Array ? raw : Buffer.from(toText(raw), 'utf8'))
    case 'date':
      return (raw) => (raw instanceof Date ? raw : parseDate(toText(raw)))
    case 'year':
      return (raw) => new Date(Date.UTC(Number(raw), 0, 1))
    case 'time':
      return (raw) => (raw instanceof Date ? raw : parseTime(toText(raw)))
    case 'timestamp':
    case 'timestamptz':
      return (raw) => {
        if (raw instanceof Date) return raw
        if (typeof raw === 'number') return new Date(raw)
        return new Date(epochMs(parseTimestamp(toText(raw), zone)))
      }
  }
}

export interface RowMapping {
  readonly schema: Schema
  /** Index of each result column that became a field (dropped columns are absent). */
  toStruct(row: readonly unknown[]): Struct
}

export interface RowMappingOptions {
  dialect: DialectName
  columns: readonly Column[]
  /** The table's catalog description (table mode): nullability and exact types. */
  tableColumns?: ReadonlyMap<string, ColumnInfo> | undefined
  /** The struct's name: the unqualified table name (table mode), none in query mode. */
  schemaName?: string | undefined
  numericMapping: NumericMapping
  zone: string
}

/** Builds the value schema and the row → Struct conversion for one result shape. */
export function buildRowMapping(options: RowMappingOptions): RowMapping {
  const builder = SchemaBuilder.struct()
  if (options.schemaName) builder.name(options.schemaName)
  const converters: { index: number; convert: Convert; optional: boolean }[] = []
  options.columns.forEach((column, index) => {
    const info = options.tableColumns?.get(column.name)
    const type = columnType(options.dialect, column, info)
    const optional = info ? info.nullable : (column.nullable ?? true)
    let field: SchemaBuilder
    let convert: Convert
    if (type.arrayOf) {
      const element = schemaFor(type.arrayOf, type).optional().build()
      const convertElement = converterFor(type.arrayOf, type, options.zone, column.name)
      field = SchemaBuilder.array(element)
      convert = (raw) =>
        (Array.isArray(raw) ? raw : parsePostgresArray(toText(raw))).map((item) =>
          item === null ? null : Array.isArray(item) ? null : convertElement(item),
        )
    } else {
      const kind =
        type.kind === 'numeric'
          ? numericKind(options.numericMapping, type.precision, type.scale ?? 0)
          : type.kind
      field = schemaFor(kind, type)
      convert = converterFor(kind, type, options.zone, column.name)
    }
    if (optional) field.optional()
    builder.field(column.name, field)
    converters.push({ index, convert, optional })
  })
  const schema = builder.build()
  const fields: readonly Field[] = schema.fields
  return {
    schema,
    toStruct(row) {
      const struct = new Struct(schema)
      for (let i = 0; i < converters.length; i++) {
        const { index, convert } = converters[i]
        const raw = row[index]
        struct.put(fields[i], raw === null || raw === undefined ? null : convert(raw))
      }
      return struct
    },
  }
}
