/**
 * CREATE TABLE and ALTER TABLE … ADD from Connect schemas (kafka-connect-jdbc's dialects), with fixes users
 * asked for (confluentinc/kafka-connect-jdbc#996): Decimal columns keep the schema's scale and its
 * `connect.decimal.precision` (or a configurable default), string and bytes key columns on
 * MySQL/MariaDB are bounded (VARCHAR(255)/VARBINARY(255)) so they can be a primary key, and bytes
 * values are LONGBLOB rather than VARBINARY(1024).
 */
import type { Schema } from '../../../api/data/schema.ts'
import { DataError } from '../../../api/errors.ts'
import type { DialectName } from '../common/url.ts'
import type { ColumnType } from './column-kind.ts'

export interface ColumnDefinition {
  name: string
  schema: Schema
  type: ColumnType
  isKey: boolean
}

/** The SQL type of a column in this dialect. */
export function sqlType(
  dialect: DialectName,
  column: { schema: Schema; type: ColumnType; isKey: boolean },
  defaultPrecision: number,
): string {
  const { schema, type, isKey } = column
  switch (type.kind) {
    case 'int8':
      return dialect === 'postgresql' ? 'SMALLINT' : dialect === 'mysql' ? 'TINYINT' : 'INTEGER'
    case 'int16':
      return dialect === 'sqlite' ? 'INTEGER' : 'SMALLINT'
    case 'int32':
      return dialect === 'sqlite' ? 'INTEGER' : 'INT'
    case 'int64':
      return dialect === 'sqlite' ? 'INTEGER' : 'BIGINT'
    case 'float32':
      return dialect === 'mysql' ? 'FLOAT' : 'REAL'
    case 'float64':
      return dialect === 'postgresql' ? 'DOUBLE PRECISION' : dialect === 'mysql' ? 'DOUBLE' : 'REAL'
    case 'boolean':
      return dialect === 'postgresql' ? 'BOOLEAN' : dialect === 'mysql' ? 'TINYINT' : 'INTEGER'
    case 'string':
      return dialect === 'mysql' ? (isKey ? 'VARCHAR(255)' : 'LONGTEXT') : 'TEXT'
    case 'bytes':
      return dialect === 'postgresql'
        ? 'BYTEA'
        : dialect === 'mysql'
          ? isKey
            ? 'VARBINARY(255)'
            : 'LONGBLOB'
          : 'BLOB'
    case 'decimal': {
      if (dialect === 'sqlite') return 'NUMERIC'
      const scale = Number(schema.parameters?.scale ?? 0)
      const declared = Number(schema.parameters?.['connect.decimal.precision'])
      const precision = Math.max(
        Number.isInteger(declared) && declared > 0 ? declared : defaultPrecision,
        scale,
        1,
      )
      if (dialect === 'mysql' && (precision > 65 || scale > 30)) {
        throw new DataError(
          `DECIMAL(${precision},${scale}) is beyond MySQL's limits (precision ≤ 65, scale ≤ 30)`,
        )
      }
      return `DECIMAL(${precision},${scale})`
    }
    case 'date':
      return dialect === 'sqlite' ? 'TEXT' : 'DATE'
    case 'time':
      return dialect === 'postgresql' ? 'TIME' : dialect === 'mysql' ? 'TIME(6)' : 'TEXT'
    case 'timestamp':
      return dialect === 'postgresql' ? 'TIMESTAMP' : dialect === 'mysql' ? 'DATETIME(6)' : 'TEXT'
    case 'zoned-timestamp':
      return dialect === 'postgresql' ? 'TIMESTAMPTZ' : dialect === 'mysql' ? 'DATETIME(6)' : 'TEXT'
    case 'json':
      return dialect === 'postgresql' ? 'JSONB' : dialect === 'mysql' ? 'JSON' : 'TEXT'
    case 'uuid':
      return dialect === 'postgresql' ? 'UUID' : dialect === 'mysql' ? 'CHAR(36)' : 'TEXT'
    case 'array':
      if (dialect !== 'postgresql') {
        throw new DataError(
          `ARRAY fields have no column type on ${dialect}; only PostgreSQL has array columns`,
        )
      }
      return `${sqlType(dialect, { schema: schema.valueSchema!, type: type.element!, isKey: false }, defaultPrecision)}[]`
  }
}

/** A literal for a schema default, or undefined when it cannot be written as one. */
function defaultLiteral(dialect: DialectName, column: ColumnDefinition): string | undefined {
  const value = column.schema.defaultValue
  if (value === undefined || value === null) return undefined
  switch (column.type.kind) {
    case 'boolean':
      return dialect === 'postgresql' ? (value ? 'TRUE' : 'FALSE') : value ? '1' : '0'
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
      return Number.isFinite(Number(value)) ? String(value) : undefined
    case 'decimal':
      return String(value)
    case 'string':
      // MySQL cannot give TEXT columns a literal default; non-key strings are LONGTEXT there.
      if (dialect === 'mysql' && !column.isKey) return undefined
      return `'${String(value).replaceAll("'", "''")}'`
    default:
      return undefined
  }
}

function columnSpec(
  dialect: DialectName,
  quote: (name: string) => string,
  column: ColumnDefinition,
  defaultPrecision: number,
): string {
  const type = sqlType(dialect, column, defaultPrecision)
  const literal = defaultLiteral(dialect, column)
  const nullability = column.isKey ? 'NOT NULL' : column.schema.optional ? 'NULL' : 'NOT NULL'
  return `${quote(column.name)} ${type}${literal !== undefined ? ` DEFAULT ${literal}` : ''} ${nullability}`
}

export function createTableSql(
  dialect: DialectName,
  table: string,
  quote: (name: string) => string,
  columns: readonly ColumnDefinition[],
  defaultPrecision: number,
): string {
  const specs = columns.map((c) => columnSpec(dialect, quote, c, defaultPrecision))
  const keys = columns.filter((c) => c.isKey)
  if (keys.length > 0) specs.push(`PRIMARY KEY(${keys.map((c) => quote(c.name)).join(',')})`)
  return `CREATE TABLE IF NOT EXISTS ${table} (\n${specs.join(',\n')})`
}

/**
 * ALTER statements adding these columns, each nullable (or with its default): SQLite takes one
 * column per statement. A required field without a default cannot be added to a table that may
 * hold rows: a DataError says so.
 */
export function addColumnsSql(
  dialect: DialectName,
  table: string,
  quote: (name: string) => string,
  columns: readonly ColumnDefinition[],
  defaultPrecision: number,
): string[] {
  const specs = columns.map((c) => {
    if (!c.schema.optional && defaultLiteral(dialect, c) === undefined) {
      throw new DataError(
        `cannot add required column '${c.name}' to ${table}: the field has no default. Make the field ` +
          'optional or give it a default, or add the column yourself',
      )
    }
    const type = sqlType(dialect, c, defaultPrecision)
    const literal = defaultLiteral(dialect, c)
    return `${quote(c.name)} ${type}${literal !== undefined ? ` DEFAULT ${literal}` : ' NULL'}`
  })
  if (dialect === 'sqlite') return specs.map((spec) => `ALTER TABLE ${table} ADD COLUMN ${spec}`)
  return [`ALTER TABLE ${table} ${specs.map((spec) => `ADD COLUMN ${spec}`).join(', ')}`]
}
