/**
 * What differs between the SQL dialects for every JDBC connector: identifier quoting, bind
 * placeholders and how a table is named. Connector-specific SQL (a source's incremental queries, a
 * sink's upserts and DDL) builds on this in the connector's own module.
 *
 * Identifiers are always escaped, never trusted: a topic named `x"; DROP TABLE y; --` is one odd
 * identifier, not SQL.
 */
import type { DialectName } from './url.ts'

/** A table's full name; parts a dialect has no use for are undefined. */
export interface TableId {
  /** MySQL's database; unused by PostgreSQL (one database per connection) and SQLite. */
  catalog?: string | undefined
  /** PostgreSQL's schema (e.g. `public`). */
  schema?: string | undefined
  table: string
}

export interface Dialect {
  readonly name: DialectName
  /** Quotes and escapes one identifier. */
  quoteIdentifier(identifier: string): string
  /** The table's qualified, quoted name. */
  quoteTable(table: TableId): string
  /** The bind placeholder for the `index`-th parameter (1-based). */
  placeholder(index: number): string
  /** Splits a dotted, possibly quoted name (`public.orders`, `"my.schema"."t"`) into a TableId. */
  parseTableId(name: string): TableId
  /** The table's display name, as used in offsets and topic names (`schema.table` / `db.table` / `table`). */
  tableName(table: TableId): string
}

function quoteWith(quote: string): (identifier: string) => string {
  return (identifier) => `${quote}${identifier.replaceAll(quote, quote + quote)}${quote}`
}

/** Splits on dots outside quotes; strips and unescapes the quotes. */
export function splitQualifiedName(name: string, quote: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < name.length; i++) {
    const c = name.charAt(i)
    if (quoted) {
      if (c === quote && name.charAt(i + 1) === quote) {
        current += quote
        i++
      } else if (c === quote) quoted = false
      else current += c
    } else if (c === quote) quoted = true
    else if (c === '.') {
      parts.push(current)
      current = ''
    } else current += c
  }
  parts.push(current)
  return parts
}

function makeDialect(
  name: DialectName,
  quote: string,
  placeholder: (index: number) => string,
  fromParts: (parts: string[]) => TableId,
): Dialect {
  const quoteIdentifier = quoteWith(quote)
  const partsOf = (table: TableId): string[] =>
    [table.catalog, table.schema, table.table].filter((p): p is string => p !== undefined && p !== '')
  return {
    name,
    quoteIdentifier,
    quoteTable: (table) => partsOf(table).map(quoteIdentifier).join('.'),
    placeholder,
    parseTableId: (text) => fromParts(splitQualifiedName(text, quote)),
    tableName: (table) => partsOf(table).join('.'),
  }
}

const last = (parts: string[]): string => parts[parts.length - 1] ?? ''

export const postgresDialect: Dialect = makeDialect(
  'postgresql',
  '"',
  (i) => `$${i}`,
  (parts) =>
    parts.length >= 2 ? { schema: parts[parts.length - 2], table: last(parts) } : { table: last(parts) },
)

export const mysqlDialect: Dialect = makeDialect(
  'mysql',
  '`',
  () => '?',
  (parts) =>
    parts.length >= 2 ? { catalog: parts[parts.length - 2], table: last(parts) } : { table: last(parts) },
)

export const sqliteDialect: Dialect = makeDialect(
  'sqlite',
  '"',
  () => '?',
  (parts) => ({ table: last(parts) }),
)

export function dialectFor(name: DialectName): Dialect {
  return name === 'postgresql' ? postgresDialect : name === 'mysql' ? mysqlDialect : sqliteDialect
}
