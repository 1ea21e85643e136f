/**
 * The SQL each mode runs, as Confluent's `TimestampIncrementingCriteria` / `BulkTableQuerier`
 * (kafka-connect-jdbc). Both timestamp bounds are exclusive; `ts` is `COALESCE(c1, c2, …)`
 * when several timestamp columns are configured:
 *
 *   bulk                    SELECT * FROM t
 *   incrementing            … WHERE inc > ? ORDER BY inc ASC
 *   timestamp               … WHERE ts > ? AND ts < ? ORDER BY ts ASC
 *   timestamp+incrementing  … WHERE ts < ? AND ((ts = ? AND inc > ?) OR ts > ?) ORDER BY ts,inc ASC
 *
 * then ` <query.suffix>`. On SQLite, whose timestamps are text in several spellings, `ts` is
 * normalised with `strftime('%Y-%m-%d %H:%M:%f', …)` so equal instants compare equal.
 */
import type { Dialect, TableId } from '../common/dialect.ts'
import type { Mode } from './config.ts'

export interface QueryShape {
  mode: Mode
  dialect: Dialect
  quote: boolean
  /** Table mode: the table; query mode: undefined. */
  table?: TableId | undefined
  query?: string | undefined
  incrementingColumn?: string | undefined
  timestampColumns: readonly string[]
  suffix: string
  /** Incrementing mode with `wait.for.open.transactions`: also bound the ids from above (inclusive). */
  incrementingUpperBound?: boolean | undefined
}

/** Which parameters the statement takes, in order. */
export type Param = 'begin' | 'end' | 'incrementing' | 'incrementingUpper'

export interface BuiltQuery {
  sql: string
  params: Param[]
}

export function identifier(dialect: Dialect, quote: boolean, name: string): string {
  return quote ? dialect.quoteIdentifier(name) : name
}

export function tableReference(dialect: Dialect, quote: boolean, table: TableId): string {
  if (quote) return dialect.quoteTable(table)
  return dialect.tableName(table)
}

export function timestampExpression(
  shape: Pick<QueryShape, 'dialect' | 'quote' | 'timestampColumns'>,
): string {
  const columns = shape.timestampColumns.map((c) => identifier(shape.dialect, shape.quote, c))
  const expression = columns.length === 1 ? columns[0] : `COALESCE(${columns.join(', ')})`
  return shape.dialect.name === 'sqlite' ? `strftime('%Y-%m-%d %H:%M:%f', ${expression})` : expression
}

export function buildQuery(shape: QueryShape): BuiltQuery {
  const { dialect } = shape
  const base = shape.table
    ? `SELECT * FROM ${tableReference(dialect, shape.quote, shape.table)}`
    : (shape.query ?? '')
  let n = 0
  const p = (): string => dialect.placeholder(++n)
  let criteria = ''
  const params: Param[] = []
  const inc = shape.incrementingColumn ? identifier(dialect, shape.quote, shape.incrementingColumn) : ''
  switch (shape.mode) {
    case 'bulk':
      break
    case 'incrementing':
      if (shape.incrementingUpperBound) {
        criteria = ` WHERE ${inc} > ${p()} AND ${inc} <= ${p()} ORDER BY ${inc} ASC`
        params.push('incrementing', 'incrementingUpper')
      } else {
        criteria = ` WHERE ${inc} > ${p()} ORDER BY ${inc} ASC`
        params.push('incrementing')
      }
      break
    case 'timestamp': {
      const ts = timestampExpression(shape)
      criteria = ` WHERE ${ts} > ${p()} AND ${ts} < ${p()} ORDER BY ${ts} ASC`
      params.push('begin', 'end')
      break
    }
    case 'timestamp+incrementing': {
      const ts = timestampExpression(shape)
      criteria = ` WHERE ${ts} < ${p()} AND ((${ts} = ${p()} AND ${inc} > ${p()}) OR ${ts} > ${p()}) ORDER BY ${ts},${inc} ASC`
      params.push('end', 'begin', 'incrementing', 'begin')
      break
    }
  }
  const suffix = shape.suffix.trim() === '' ? '' : ` ${shape.suffix.trim()}`
  return { sql: `${base}${criteria}${suffix}`, params }
}
