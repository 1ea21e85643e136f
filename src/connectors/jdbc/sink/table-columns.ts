/**
 * Reads which columns a table has (null when it does not exist), for auto-create and auto-evolve.
 * Table and schema names are bound as parameters, never spliced into the SQL.
 */

import type { DbConnection } from '../common/connection.ts'
import type { TableId } from '../common/dialect.ts'

export async function tableColumns(connection: DbConnection, table: TableId): Promise<string[] | null> {
  let sql: string
  let params: unknown[]
  switch (connection.dialect.name) {
    case 'postgresql':
      sql =
        'SELECT column_name FROM information_schema.columns WHERE table_schema = COALESCE($1, current_schema()) ' +
        'AND table_name = $2 ORDER BY ordinal_position'
      params = [table.schema ?? null, table.table]
      break
    case 'mysql':
      sql =
        'SELECT column_name FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) ' +
        'AND table_name = ? ORDER BY ordinal_position'
      params = [table.catalog ?? null, table.table]
      break
    case 'sqlite':
      sql = 'SELECT name FROM pragma_table_info(?)'
      params = [table.table]
      break
  }
  const result = await connection.query(sql, params)
  return result.rows.length === 0 ? null : result.rows.map((row) => String(row[0]))
}
