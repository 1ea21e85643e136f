/**
 * What the source reads from each database's catalog, the role JDBC's `DatabaseMetaData` plays for
 * Confluent's connector: the tables (`getTables`), their columns with nullability and auto-increment
 * (`getColumns`), and which columns lead an index (`getIndexInfo`, for the "is it indexed?" warning).
 */
import type { DbConnection } from '../common/connection.ts'
import type { TableId } from '../common/dialect.ts'

export interface CatalogTable extends TableId {
  /** `TABLE` or `VIEW`, as JDBC names them. */
  type: string
}

export interface ColumnInfo {
  name: string
  /** Lower-case base type: PostgreSQL `typname` (`int4`, `_text`), MySQL `DATA_TYPE`, SQLite declared type without arguments. */
  dataType: string
  nullable: boolean
  autoIncrement: boolean
  precision?: number | undefined
  scale?: number | undefined
  unsigned?: boolean | undefined
  /** The column's default expression as the database prints it, when it has one. */
  defaultExpression?: string | undefined
}

export interface ListOptions {
  catalogPattern: string | null
  schemaPattern: string | null
  tableTypes: readonly string[]
}

/** Tables visible to the connection, filtered by the patterns and types, in name order. */
export async function listTables(db: DbConnection, options: ListOptions): Promise<CatalogTable[]> {
  const wantTables = options.tableTypes.includes('TABLE')
  const wantViews = options.tableTypes.includes('VIEW')
  if (!wantTables && !wantViews) return []
  switch (db.dialect.name) {
    case 'postgresql': {
      const kinds = [...(wantTables ? ['r', 'p'] : []), ...(wantViews ? ['v', 'm'] : [])]
      const result = await db.query(
        `SELECT n.nspname, c.relname, c.relkind::text FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind::text = ANY($1::text[])
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
            AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND ($2::text IS NULL OR n.nspname LIKE $2)
          ORDER BY 1, 2`,
        [kinds, options.schemaPattern],
      )
      return result.rows.map(([schema, table, kind]) => ({
        schema: String(schema),
        table: String(table),
        type: kind === 'v' || kind === 'm' ? 'VIEW' : 'TABLE',
      }))
    }
    case 'mysql': {
      const types = [
        ...(wantTables ? ['BASE TABLE', 'SYSTEM VERSIONED'] : []),
        ...(wantViews ? ['VIEW'] : []),
      ]
      const result = await db.query(
        `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
          WHERE TABLE_TYPE IN (${types.map(() => '?').join(', ')})
            AND ${options.catalogPattern === null ? 'TABLE_SCHEMA = DATABASE()' : 'TABLE_SCHEMA LIKE ?'}
          ORDER BY 1, 2`,
        options.catalogPattern === null ? types : [...types, options.catalogPattern],
      )
      return result.rows.map(([catalog, table, type]) => ({
        catalog: String(catalog),
        table: String(table),
        type: type === 'VIEW' ? 'VIEW' : 'TABLE',
      }))
    }
    case 'sqlite': {
      const types = [...(wantTables ? ['table'] : []), ...(wantViews ? ['view'] : [])]
      const result = await db.query(
        `SELECT name, type FROM sqlite_master WHERE type IN (${types.map(() => '?').join(', ')})
            AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
        types,
      )
      return result.rows.map(([table, type]) => ({
        table: String(table),
        type: type === 'view' ? 'VIEW' : 'TABLE',
      }))
    }
  }
}

/** The table's columns in order, or undefined when there is no such table. */
export async function describeTable(db: DbConnection, table: TableId): Promise<ColumnInfo[] | undefined> {
  switch (db.dialect.name) {
    case 'postgresql': {
      const result = await db.query(
        `SELECT a.attname, t.typname, a.attnotnull, a.atttypmod, a.attidentity::text,
                pg_catalog.pg_get_expr(d.adbin, d.adrelid)
           FROM pg_catalog.pg_attribute a
           JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`,
        [postgresRegclass(table)],
      )
      if (result.rows.length === 0) return (await tableExists(db, table)) ? [] : undefined
      return result.rows.map(([name, type, notNull, typmod, identity, defaultExpression]) => {
        const mod = Number(typmod)
        const dataType = String(type)
        const column: ColumnInfo = {
          name: String(name),
          dataType,
          nullable: notNull !== true,
          autoIncrement:
            identity === 'a' || identity === 'd' || /^nextval\(/i.test(String(defaultExpression ?? '')),
          defaultExpression: defaultExpression === null ? undefined : String(defaultExpression),
        }
        if (dataType === 'numeric' && mod >= 4) {
          column.precision = ((mod - 4) >> 16) & 0xffff
          column.scale = (mod - 4) & 0xffff
        }
        return column
      })
    }
    case 'mysql': {
      const result = await db.query(
        `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION, NUMERIC_SCALE, EXTRA, COLUMN_DEFAULT
           FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
          ORDER BY ORDINAL_POSITION`,
        [table.catalog ?? null, table.table],
      )
      if (result.rows.length === 0) return undefined
      return result.rows.map(([name, dataType, columnType, nullable, precision, scale, extra, def]) => ({
        name: String(name),
        dataType: String(dataType).toLowerCase(),
        nullable: nullable === 'YES',
        autoIncrement: /auto_increment/i.test(String(extra ?? '')),
        precision:
          String(dataType).toLowerCase() === 'bit'
            ? Number(/\((\d+)\)/.exec(String(columnType))?.[1] ?? 1)
            : precision === null
              ? undefined
              : Number(precision),
        scale: scale === null ? undefined : Number(scale),
        unsigned: /unsigned/i.test(String(columnType)),
        defaultExpression: def === null ? undefined : String(def),
      }))
    }
    case 'sqlite': {
      const result = await db.query(
        'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)',
        [table.table],
      )
      if (result.rows.length === 0) return undefined
      const pkCount = result.rows.filter((r) => Number(r[4]) > 0).length
      return result.rows.map(([name, type, notNull, def, pk]) => {
        const declared = String(type ?? '').trim()
        const args = /\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(declared)
        // INTEGER PRIMARY KEY is the rowid: never NULL, assigned increasing by SQLite.
        const rowid = Number(pk) === 1 && pkCount === 1 && /^integer$/i.test(declared)
        return {
          name: String(name),
          dataType: declared.replace(/\(.*$/, '').trim().toLowerCase(),
          nullable: Number(notNull) === 0 && !rowid,
          autoIncrement: rowid,
          precision: args ? Number(args[1]) : undefined,
          scale: args?.[2] !== undefined ? Number(args[2]) : args ? 0 : undefined,
          defaultExpression: def === null ? undefined : String(def),
        }
      })
    }
  }
}

/** Names of the columns that lead at least one index (or are the SQLite rowid). */
export async function leadingIndexColumns(db: DbConnection, table: TableId): Promise<Set<string>> {
  let rows: unknown[][]
  switch (db.dialect.name) {
    case 'postgresql':
      rows = (
        await db.query(
          `SELECT a.attname FROM pg_catalog.pg_index i
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = to_regclass($1)`,
          [postgresRegclass(table)],
        )
      ).rows
      break
    case 'mysql':
      rows = (
        await db.query(
          `SELECT COLUMN_NAME FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1`,
          [table.catalog ?? null, table.table],
        )
      ).rows
      break
    case 'sqlite':
      rows = (
        await db.query(
          `SELECT ii.name FROM pragma_index_list(?) il, pragma_index_info(il.name) ii WHERE ii.seqno = 0
           UNION SELECT name FROM pragma_table_info(?) WHERE pk = 1 AND lower(type) = 'integer'`,
          [table.table, table.table],
        )
      ).rows
      break
  }
  return new Set(rows.map((r) => String(r[0])))
}

async function tableExists(db: DbConnection, table: TableId): Promise<boolean> {
  const result = await db.query('SELECT to_regclass($1) IS NOT NULL', [postgresRegclass(table)])
  return result.rows[0]?.[0] === true
}

function postgresRegclass(table: TableId): string {
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`
  return table.schema ? `${quote(table.schema)}.${quote(table.table)}` : quote(table.table)
}
