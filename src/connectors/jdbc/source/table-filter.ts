/**
 * Which of the listed tables the connector copies (Confluent's `TableMonitorThread` filters):
 * `table.whitelist`/`table.blacklist` match a table by its unqualified name, its dotted full name
 * (`public.orders`, `shop.orders`) or its quoted full name; `table.include.list`/`table.exclude.list`
 * are regexes matched against the whole dotted full name.
 */
import { ConfigError } from '../../../api/errors.ts'
import { compileJavaRegex } from '../../../api/java-regex.ts'
import type { Dialect, TableId } from '../common/dialect.ts'
import type { CatalogTable } from './catalog.ts'
import { TABLE_BLACKLIST, TABLE_WHITELIST } from './config.ts'

export interface TableFilterSettings {
  whitelist: readonly string[]
  blacklist: readonly string[]
  include: readonly string[]
  exclude: readonly string[]
}

/** The names a whitelist entry may use for this table. */
export function namesOf(dialect: Dialect, table: TableId): string[] {
  return [table.table, dialect.tableName(table), dialect.quoteTable(table)]
}

function compile(patterns: readonly string[], key: string): RegExp[] {
  return patterns.map((p) => {
    try {
      return compileJavaRegex(p).whole
    } catch (error) {
      throw new ConfigError(
        key,
        `${key} entry '${p}' is not a valid regular expression: ${(error as Error).message}`,
      )
    }
  })
}

export function filterTables(
  dialect: Dialect,
  tables: readonly CatalogTable[],
  settings: TableFilterSettings,
): CatalogTable[] {
  const include = compile(settings.include, 'table.include.list')
  const exclude = compile(settings.exclude, 'table.exclude.list')
  return tables.filter((t) => {
    const names = namesOf(dialect, t)
    if (settings.whitelist.length > 0) return settings.whitelist.some((w) => names.includes(w))
    if (settings.blacklist.length > 0) return !settings.blacklist.some((b) => names.includes(b))
    if (include.length > 0) {
      const fqn = dialect.tableName(t)
      return include.some((r) => r.test(fqn)) && !exclude.some((r) => r.test(fqn))
    }
    return true
  })
}

/** Whitelist entries that name no listed table. */
export function missingWhitelisted(
  dialect: Dialect,
  tables: readonly CatalogTable[],
  whitelist: readonly string[],
): string[] {
  const known = new Set(tables.flatMap((t) => namesOf(dialect, t)))
  return whitelist.filter((w) => !known.has(w))
}

/** Two selected tables with one unqualified name would write to one topic: Confluent refuses, so do we. */
export function checkUniqueTopics(dialect: Dialect, tables: readonly TableId[]): void {
  const seen = new Map<string, TableId>()
  for (const t of tables) {
    const other = seen.get(t.table)
    if (other) {
      throw new ConfigError(
        TABLE_WHITELIST,
        `tables ${dialect.tableName(other)} and ${dialect.tableName(t)} would both write to the topic of '${t.table}'; ` +
          'list the exact tables in table.whitelist (or narrow schema.pattern / catalog.pattern)',
      )
    }
    seen.set(t.table, t)
  }
}

/**
 * Confluent's source names the topic `topic.prefix` + table name, unchanged, and the producer then fails
 * the task on a name Kafka refuses (legal: `[a-zA-Z0-9._-]`, at most 249 characters). Found here, at
 * validation and task start, the message names the table and the way out.
 */
export function checkTopicNames(
  dialect: Dialect,
  prefix: string,
  tables: readonly TableId[],
  whitelisted: boolean,
): void {
  for (const t of tables) {
    const topic = prefix + t.table
    const bad = [...new Set(topic.replace(/[a-zA-Z0-9._-]/g, ''))]
    if (bad.length === 0 && topic.length <= 249) continue
    const why =
      bad.length > 0
        ? `holds ${bad.map((c) => `'${c}'`).join(', ')}, which Kafka topic names cannot (only letters, digits, '.', '_' and '-')`
        : `is ${topic.length} characters long, over Kafka's limit of 249`
    throw new ConfigError(
      whitelisted ? TABLE_WHITELIST : TABLE_BLACKLIST,
      `the topic of table ${dialect.tableName(t)}, '${topic}', ${why}: ` +
        (whitelisted ? `leave the table out of ${TABLE_WHITELIST}` : `add it to ${TABLE_BLACKLIST}`) +
        ', or copy it in query mode (query=SELECT … FROM it, topic.prefix=a legal topic name)',
    )
  }
}
