/**
 * Checks a JDBC source config against itself and against the database, for
 * `PUT /connector-plugins/JdbcSourceConnector/config/validate`, `POST /connectors` and the start of
 * the connector and its tasks. Every problem names the key to fix and how; problems that are only
 * risky (no index on the column, rows committed out of order) are warnings.
 */
import { ConfigError, RetriableError } from '../../../api/errors.ts'
import { compileJavaRegex } from '../../../api/java-regex.ts'
import type { DbConnection } from '../common/connection.ts'
import type { TableId } from '../common/dialect.ts'
import {
  type CatalogTable,
  type ColumnInfo,
  describeTable,
  leadingIndexColumns,
  listTables,
} from './catalog.ts'
import {
  CATALOG_PATTERN,
  CONNECTION_URL,
  INCREMENTING_COLUMN_NAME,
  type JdbcSourceConfig,
  MODE,
  MODES,
  QUERY,
  SCHEMA_PATTERN,
  TABLE_BLACKLIST,
  TABLE_EXCLUDE_LIST,
  TABLE_INCLUDE_LIST,
  TABLE_TYPES,
  TABLE_WHITELIST,
  TIMESTAMP_COLUMN_NAME,
  TIMESTAMP_DELAY_INTERVAL_MS,
  VALIDATE_NON_NULL,
  WAIT_FOR_OPEN_TRANSACTIONS,
} from './config.ts'
import { locationOf } from './database.ts'
import { checkTopicNames, checkUniqueTopics, filterTables, missingWhitelisted } from './table-filter.ts'

export type Problem = [key: string, message: string]

/** Problems visible without a database: missing mode, exclusive keys, missing columns for the mode. */
export function configProblems(config: JdbcSourceConfig): Problem[] {
  const problems: Problem[] = []
  const mode = config.mode
  if (mode === '') {
    problems.push([MODE, `${MODE} must be set to one of: ${MODES.join(', ')}`])
  }
  const whitelist = config.getList(TABLE_WHITELIST)
  const blacklist = config.getList(TABLE_BLACKLIST)
  const include = config.getList(TABLE_INCLUDE_LIST)
  const exclude = config.getList(TABLE_EXCLUDE_LIST)
  if (whitelist.length > 0 && blacklist.length > 0) {
    const why = `${TABLE_WHITELIST} and ${TABLE_BLACKLIST} cannot both be set: keep one of them`
    problems.push([TABLE_WHITELIST, why], [TABLE_BLACKLIST, why])
  }
  if (include.length > 0 && (whitelist.length > 0 || blacklist.length > 0)) {
    problems.push([
      TABLE_INCLUDE_LIST,
      `${TABLE_INCLUDE_LIST} cannot be combined with ${TABLE_WHITELIST}/${TABLE_BLACKLIST}: use one way of choosing tables`,
    ])
  }
  if (exclude.length > 0 && include.length === 0) {
    problems.push([
      TABLE_EXCLUDE_LIST,
      `${TABLE_EXCLUDE_LIST} only applies together with ${TABLE_INCLUDE_LIST}: set ${TABLE_INCLUDE_LIST} too, or use ${TABLE_BLACKLIST}`,
    ])
  }
  for (const [key, list] of [
    [TABLE_INCLUDE_LIST, include],
    [TABLE_EXCLUDE_LIST, exclude],
  ] as const) {
    for (const pattern of list) {
      try {
        compileJavaRegex(pattern)
      } catch (error) {
        problems.push([
          key,
          `${key} entry '${pattern}' is not a valid regular expression: ${(error as Error).message}`,
        ])
      }
    }
  }
  if (config.query !== '') {
    for (const key of [TABLE_WHITELIST, TABLE_BLACKLIST, TABLE_INCLUDE_LIST]) {
      if (config.getList(key).length > 0) {
        problems.push([
          QUERY,
          `${QUERY} reads one custom query, so ${key} cannot be set with it: remove one of them`,
        ])
      }
    }
  }
  if (config.usesTimestamp && config.timestampColumns.length === 0) {
    problems.push([
      TIMESTAMP_COLUMN_NAME,
      `${MODE}=${mode} needs ${TIMESTAMP_COLUMN_NAME}: set it to the column(s) updated on every write (e.g. modified)`,
    ])
  }
  if (config.usesIncrementing && config.incrementingColumn === '' && config.query !== '') {
    problems.push([
      INCREMENTING_COLUMN_NAME,
      `${MODE}=${mode} with a ${QUERY} needs ${INCREMENTING_COLUMN_NAME} (it cannot be detected from a query): set it to the strictly increasing column (e.g. id)`,
    ])
  }
  try {
    locationOf(config)
  } catch (error) {
    if (error instanceof ConfigError) problems.push([error.key ?? CONNECTION_URL, error.message])
    else throw error
  }
  return problems
}

/** The columns a table is read by, resolved against the catalog. */
export interface TablePlan {
  table: TableId
  incrementingColumn?: string | undefined
  timestampColumns: string[]
  columns: Map<string, ColumnInfo>
}

export interface Inspection {
  problems: Problem[]
  warnings: string[]
  /** The selected tables (table mode). */
  tables: CatalogTable[]
  plans: TablePlan[]
}

/** The tables the config selects, in catalog order. */
export async function selectTables(db: DbConnection, config: JdbcSourceConfig): Promise<CatalogTable[]> {
  const all = await listTables(db, {
    catalogPattern: config.getOptionalString(CATALOG_PATTERN),
    schemaPattern: config.getOptionalString(SCHEMA_PATTERN),
    tableTypes: config.getList(TABLE_TYPES),
  })
  return filterTables(db.dialect, all, {
    whitelist: config.getList(TABLE_WHITELIST),
    blacklist: config.getList(TABLE_BLACKLIST),
    include: config.getList(TABLE_INCLUDE_LIST),
    exclude: config.getList(TABLE_EXCLUDE_LIST),
  })
}

const TEMPORAL = /^(timestamp|timestamptz|date|datetime)$/
const INTEGRAL = /^(int2|int4|int8|smallint|tinyint|mediumint|int|integer|bigint|numeric|decimal)$/

/** Resolves and checks the columns one table is read by. */
export async function planTable(
  db: DbConnection,
  config: JdbcSourceConfig,
  table: TableId,
  problems: Problem[],
  warnings: string[],
): Promise<TablePlan | undefined> {
  const name = db.dialect.tableName(table)
  const described = await describeTable(db, table)
  if (described === undefined) {
    problems.push([TABLE_WHITELIST, `table ${name} does not exist`])
    return undefined
  }
  const columns = new Map(described.map((c) => [c.name, c]))
  const find = (column: string): ColumnInfo | undefined =>
    columns.get(column) ?? described.find((c) => c.name.toLowerCase() === column.toLowerCase())
  const listing = described.map((c) => c.name).join(', ')
  const nonNull = config.getBoolean(VALIDATE_NON_NULL)
  const waitsForTransactions = config.getBoolean(WAIT_FOR_OPEN_TRANSACTIONS)
  const plan: TablePlan = { table, timestampColumns: [], columns }
  let indexed: Set<string> | undefined
  const checkIndexed = async (column: string, key: string) => {
    indexed ??= await leadingIndexColumns(db, table)
    if (!indexed.has(column)) {
      warnings.push(
        `${key} column '${column}' of ${name} leads no index: every poll scans the whole table; ` +
          `create an index on ${name}(${column})`,
      )
    }
  }
  if (config.usesIncrementing) {
    const wanted = config.incrementingColumn
    const column = wanted ? find(wanted) : described.find((c) => c.autoIncrement)
    if (!column) {
      problems.push([
        INCREMENTING_COLUMN_NAME,
        wanted
          ? `table ${name} has no column '${wanted}' (it has: ${listing}); fix ${INCREMENTING_COLUMN_NAME}`
          : `table ${name} has no auto-increment column to detect; set ${INCREMENTING_COLUMN_NAME} to its strictly increasing column (it has: ${listing})`,
      ])
    } else {
      plan.incrementingColumn = column.name
      if (!INTEGRAL.test(column.dataType) || (column.scale !== undefined && column.scale > 0)) {
        problems.push([
          INCREMENTING_COLUMN_NAME,
          `column '${column.name}' of ${name} is ${column.dataType}, but an incrementing column must hold integers; choose an integer column`,
        ])
      } else if (column.nullable && nonNull) {
        problems.push([
          INCREMENTING_COLUMN_NAME,
          `column '${column.name}' of ${name} is nullable; make it NOT NULL, or set ${VALIDATE_NON_NULL}=false`,
        ])
      } else await checkIndexed(column.name, INCREMENTING_COLUMN_NAME)
    }
  }
  if (
    config.mode === 'incrementing' &&
    plan.incrementingColumn &&
    !(waitsForTransactions && db.dialect.name === 'postgresql')
  ) {
    warnings.push(
      `incrementing mode on ${name}: ids are handed out before commit, so rows of a transaction that commits ` +
        `after a higher id was read are skipped` +
        (db.dialect.name === 'postgresql'
          ? `; set ${WAIT_FOR_OPEN_TRANSACTIONS}=true to wait such transactions out`
          : ''),
    )
  }
  if (config.usesTimestamp) {
    const found: ColumnInfo[] = []
    for (const wanted of config.timestampColumns) {
      const column = find(wanted)
      if (!column) {
        problems.push([
          TIMESTAMP_COLUMN_NAME,
          `table ${name} has no column '${wanted}' (it has: ${listing}); fix ${TIMESTAMP_COLUMN_NAME}`,
        ])
        continue
      }
      if (db.dialect.name !== 'sqlite' && !TEMPORAL.test(column.dataType)) {
        problems.push([
          TIMESTAMP_COLUMN_NAME,
          `column '${column.name}' of ${name} is ${column.dataType}, not a timestamp; choose a timestamp column`,
        ])
        continue
      }
      found.push(column)
    }
    plan.timestampColumns = found.map((c) => c.name)
    if (found.length === config.timestampColumns.length && found.length > 0) {
      if (nonNull && found.every((c) => c.nullable)) {
        problems.push([
          TIMESTAMP_COLUMN_NAME,
          `${found.length > 1 ? 'every timestamp column' : `column '${found[0].name}'`} of ${name} is nullable; ` +
            `make ${found.length > 1 ? 'one of them' : 'it'} NOT NULL, or set ${VALIDATE_NON_NULL}=false`,
        ])
      }
      await checkIndexed(found[0].name, TIMESTAMP_COLUMN_NAME)
      if (
        config.getLong(TIMESTAMP_DELAY_INTERVAL_MS) === 0 &&
        !(waitsForTransactions && db.dialect.name === 'postgresql')
      ) {
        const txTime = found.find((c) =>
          /^(now\(\)|CURRENT_TIMESTAMP|transaction_timestamp\(\))/i.test(c.defaultExpression ?? ''),
        )
        warnings.push(
          txTime && db.dialect.name === 'postgresql'
            ? `timestamp column '${txTime.name}' of ${name} defaults to ${txTime.defaultExpression}, the start time of its ` +
                'transaction: a long transaction commits rows older than ones already read, and they are skipped. ' +
                `Set ${TIMESTAMP_DELAY_INTERVAL_MS} above your longest write transaction, or ${WAIT_FOR_OPEN_TRANSACTIONS}=true`
            : `${TIMESTAMP_DELAY_INTERVAL_MS}=0 on ${name}: a row whose transaction commits after a later row was read ` +
                `is skipped (timestamps are not commit order). Set ${TIMESTAMP_DELAY_INTERVAL_MS} above your longest write transaction`,
        )
      }
    }
  }
  return plan
}

/** Everything `validate` and start check against the database (table mode). */
export async function inspectDatabase(db: DbConnection, config: JdbcSourceConfig): Promise<Inspection> {
  const problems: Problem[] = []
  const warnings: string[] = []
  if (config.query !== '') {
    try {
      const probe = await db.query(`SELECT * FROM (${config.query}) sluice_probe WHERE 1 = 0`)
      const names = probe.columns.map((c) => c.name)
      const has = (n: string) => names.some((m) => m === n || m.toLowerCase() === n.toLowerCase())
      const needed: [string, string][] = [
        ...(config.usesIncrementing
          ? [[INCREMENTING_COLUMN_NAME, config.incrementingColumn] as [string, string]]
          : []),
        ...(config.usesTimestamp
          ? config.timestampColumns.map((c) => [TIMESTAMP_COLUMN_NAME, c] as [string, string])
          : []),
      ]
      for (const [key, column] of needed) {
        if (column && !has(column)) {
          problems.push([
            key,
            `the query returns no column '${column}' (it returns: ${names.join(', ')}); fix ${key} or the query`,
          ])
        }
      }
    } catch (error) {
      if (error instanceof RetriableError) throw error
      problems.push([QUERY, `the query fails on the database: ${(error as Error).message}`])
    }
    return { problems, warnings, tables: [], plans: [] }
  }
  const tables = await selectTables(db, config)
  const whitelist = config.getList(TABLE_WHITELIST)
  if (whitelist.length > 0) {
    const all = await listTables(db, {
      catalogPattern: config.getOptionalString(CATALOG_PATTERN),
      schemaPattern: config.getOptionalString(SCHEMA_PATTERN),
      tableTypes: config.getList(TABLE_TYPES),
    })
    const missing = missingWhitelisted(db.dialect, all, whitelist)
    if (missing.length > 0) {
      problems.push([
        TABLE_WHITELIST,
        `no such table: ${missing.join(', ')} (tables of type ${config.getList(TABLE_TYPES).join('/')} ` +
          `visible to the connection: ${all.map((t) => db.dialect.tableName(t)).join(', ') || 'none'}); fix ${TABLE_WHITELIST}`,
      ])
    }
  }
  try {
    checkUniqueTopics(db.dialect, tables)
    checkTopicNames(db.dialect, config.topicPrefix, tables, whitelist.length > 0)
  } catch (error) {
    if (error instanceof ConfigError) problems.push([error.key ?? TABLE_WHITELIST, error.message])
  }
  const plans: TablePlan[] = []
  if (config.mode !== '') {
    for (const table of tables) {
      const plan = await planTable(db, config, table, problems, warnings)
      if (plan) plans.push(plan)
    }
  }
  return { problems, warnings, tables, plans }
}
