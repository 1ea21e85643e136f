/**
 * The sink's statements per dialect (as kafka-connect-jdbc has them), multi-row: one statement carries many
 * rows, bound as parameters. Column order: key columns first. Every identifier is quoted by the
 * caller's `quote` (escaping the quote character), never pasted raw.
 *
 * | mode | PostgreSQL | MySQL/MariaDB | SQLite |
 * |---|---|---|---|
 * | upsert | `INSERT … VALUES (…),(…) ON CONFLICT (k) DO UPDATE SET a=EXCLUDED.a` | `… ON DUPLICATE KEY UPDATE a=VALUES(a)` | `… ON CONFLICT (k) DO UPDATE SET a=excluded.a` |
 * | delete | `DELETE FROM t WHERE (k1,k2) IN ((…),(…))` | same | same |
 */
import type { Dialect } from '../common/dialect.ts'

export type Quote = (name: string) => string

function placeholders(dialect: Dialect, rows: number, columns: number, start = 1): string {
  const tuples: string[] = []
  let n = start
  for (let r = 0; r < rows; r++) {
    const items: string[] = []
    for (let c = 0; c < columns; c++) items.push(dialect.placeholder(n++))
    tuples.push(`(${items.join(',')})`)
  }
  return tuples.join(',')
}

/** What follows the VALUES/SELECT of an upsert: the conflict clause for the dialect. */
export function upsertTail(
  dialect: Dialect,
  quote: Quote,
  columns: readonly string[],
  keyCount: number,
): string {
  const keys = columns.slice(0, keyCount).map(quote)
  const others = columns.slice(keyCount).map(quote)
  if (dialect.name === 'mysql') {
    const set = (others.length > 0 ? others : keys).map((c) => `${c}=VALUES(${c})`)
    return ` ON DUPLICATE KEY UPDATE ${set.join(',')}`
  }
  const excluded = dialect.name === 'postgresql' ? 'EXCLUDED' : 'excluded'
  if (others.length === 0) return ` ON CONFLICT (${keys.join(',')}) DO NOTHING`
  return ` ON CONFLICT (${keys.join(',')}) DO UPDATE SET ${others.map((c) => `${c}=${excluded}.${c}`).join(',')}`
}

export function insertSql(
  dialect: Dialect,
  table: string,
  quote: Quote,
  columns: readonly string[],
  keyCount: number,
  rows: number,
  upsert: boolean,
): string {
  const head = `INSERT INTO ${table} (${columns.map(quote).join(',')}) VALUES ${placeholders(dialect, rows, columns.length)}`
  return upsert ? head + upsertTail(dialect, quote, columns, keyCount) : head
}

/** UPDATE of one row: binds the non-key values first, then the key values. */
export function updateSql(
  dialect: Dialect,
  table: string,
  quote: Quote,
  columns: readonly string[],
  keyCount: number,
): string {
  const others = columns.slice(keyCount)
  const keys = columns.slice(0, keyCount)
  let n = 1
  const set = others.map((c) => `${quote(c)}=${dialect.placeholder(n++)}`).join(',')
  const where = keys.map((c) => `${quote(c)}=${dialect.placeholder(n++)}`).join(' AND ')
  return `UPDATE ${table} SET ${set} WHERE ${where}`
}

export function deleteSql(
  dialect: Dialect,
  table: string,
  quote: Quote,
  keys: readonly string[],
  rows: number,
): string {
  if (keys.length === 1) {
    const list: string[] = []
    for (let i = 1; i <= rows; i++) list.push(dialect.placeholder(i))
    return `DELETE FROM ${table} WHERE ${quote(keys[0]!)} IN (${list.join(',')})`
  }
  return `DELETE FROM ${table} WHERE (${keys.map(quote).join(',')}) IN (${placeholders(dialect, rows, keys.length)})`
}

export function truncateSql(dialect: Dialect, table: string): string {
  return dialect.name === 'sqlite' ? `DELETE FROM ${table}` : `TRUNCATE TABLE ${table}`
}
