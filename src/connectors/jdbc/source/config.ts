/**
 * The keys of Confluent's `io.confluent.connect.jdbc.JdbcSourceConnector` (kafka-connect-jdbc 10.x),
 * with its defaults and groups, so existing connector JSON works unchanged. Keys of Confluent's that
 * Sluice does not act on are not declared (unknown keys are ignored, as Kafka does).
 */
import {
  AbstractConfig,
  ConfigDef,
  Range,
  ValidString,
  validator,
  validList,
} from '../../../api/config-def.ts'
import type { Props } from '../../../api/connector.ts'
import { isKnownTimeZone } from '../../../api/time-zone.ts'

export const CONNECTION_URL = 'connection.url'
export const CONNECTION_USER = 'connection.user'
export const CONNECTION_PASSWORD = 'connection.password'
export const CONNECTION_ATTEMPTS = 'connection.attempts'
export const CONNECTION_BACKOFF_MS = 'connection.backoff.ms'
export const TABLE_WHITELIST = 'table.whitelist'
export const TABLE_BLACKLIST = 'table.blacklist'
export const TABLE_INCLUDE_LIST = 'table.include.list'
export const TABLE_EXCLUDE_LIST = 'table.exclude.list'
export const CATALOG_PATTERN = 'catalog.pattern'
export const SCHEMA_PATTERN = 'schema.pattern'
export const NUMERIC_PRECISION_MAPPING = 'numeric.precision.mapping'
export const NUMERIC_MAPPING = 'numeric.mapping'
export const DIALECT_NAME = 'dialect.name'
export const MODE = 'mode'
export const INCREMENTING_COLUMN_NAME = 'incrementing.column.name'
export const TIMESTAMP_COLUMN_NAME = 'timestamp.column.name'
export const TIMESTAMP_INITIAL = 'timestamp.initial'
export const VALIDATE_NON_NULL = 'validate.non.null'
export const QUERY = 'query'
export const QUOTE_SQL_IDENTIFIERS = 'quote.sql.identifiers'
export const QUERY_SUFFIX = 'query.suffix'
export const QUERY_RETRY_ATTEMPTS = 'query.retry.attempts'
export const TABLE_TYPES = 'table.types'
export const POLL_INTERVAL_MS = 'poll.interval.ms'
export const BATCH_MAX_ROWS = 'batch.max.rows'
export const TABLE_POLL_INTERVAL_MS = 'table.poll.interval.ms'
export const TOPIC_PREFIX = 'topic.prefix'
export const TIMESTAMP_DELAY_INTERVAL_MS = 'timestamp.delay.interval.ms'
export const DB_TIMEZONE = 'db.timezone'
export const WAIT_FOR_OPEN_TRANSACTIONS = 'wait.for.open.transactions'
/** Task-only key: the tables this task reads, a JSON array of names (set by the connector). */
export const TASK_TABLES = 'tables'

export const MODES = ['bulk', 'timestamp', 'incrementing', 'timestamp+incrementing'] as const
export type Mode = (typeof MODES)[number]
export const NUMERIC_MAPPINGS = ['none', 'precision_only', 'best_fit', 'best_fit_eager_double'] as const
export type NumericMapping = (typeof NUMERIC_MAPPINGS)[number]

const DATABASE = 'Database'
const MODE_GROUP = 'Mode'
const CONNECTOR = 'Connector'

let order = 0
const next = (): number => ++order

export const jdbcSourceConfigDef: ConfigDef = new ConfigDef()
  // ------------------------------------------------------------------ Database
  .define({
    name: CONNECTION_URL,
    type: 'STRING',
    defaultValue: '',
    importance: 'HIGH',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'JDBC URL',
    documentation:
      'JDBC connection URL, e.g. `jdbc:postgresql://host:5432/db`, `jdbc:mysql://host:3306/db`, ' +
      '`jdbc:mariadb://host:3306/db` or `jdbc:sqlite:/path/to/file.db`. The dialect follows the URL.',
  })
  .define({
    name: CONNECTION_USER,
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'JDBC User',
    documentation: 'JDBC connection user.',
  })
  .define({
    name: CONNECTION_PASSWORD,
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'HIGH',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'JDBC Password',
    documentation: 'JDBC connection password.',
  })
  .define({
    name: CONNECTION_ATTEMPTS,
    type: 'INT',
    defaultValue: 3,
    validator: Range.atLeast(1),
    importance: 'LOW',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'JDBC connection attempts',
    documentation:
      'Maximum number of attempts to open a connection when the connector or a task starts. A running ' +
      'task that lost its connection keeps reconnecting every `connection.backoff.ms` instead.',
  })
  .define({
    name: CONNECTION_BACKOFF_MS,
    type: 'LONG',
    defaultValue: 10_000,
    validator: Range.atLeast(0),
    importance: 'LOW',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'JDBC connection backoff in milliseconds',
    documentation: 'Backoff time in milliseconds between connection attempts.',
  })
  .define({
    name: TABLE_WHITELIST,
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Table Whitelist',
    documentation:
      'Tables to copy (exact names: `orders`, `public.orders` or `shop.orders`). If set, ' +
      '`table.blacklist` may not be. Validation fails when a listed table does not exist.',
  })
  .define({
    name: TABLE_BLACKLIST,
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Table Blacklist',
    documentation:
      'Tables not to copy (same matching as the whitelist). If set, `table.whitelist` may not be.',
  })
  .define({
    name: TABLE_INCLUDE_LIST,
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Tables Included (Regex)',
    documentation:
      'Regular expressions matched against the whole fully-qualified name of a table (`public.orders`, ' +
      '`shop.orders`, `orders` on SQLite), case-sensitive. Cannot be combined with the white/blacklist.',
  })
  .define({
    name: TABLE_EXCLUDE_LIST,
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Tables Excluded (Regex)',
    documentation:
      'Regular expressions of tables not to copy among those `table.include.list` matches; needs it.',
  })
  .define({
    name: CATALOG_PATTERN,
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Catalog pattern',
    documentation:
      'SQL LIKE pattern of the catalogs (MySQL/MariaDB databases) to list tables from. null lists the ' +
      "connection's own database; PostgreSQL and SQLite have no catalogs.",
  })
  .define({
    name: SCHEMA_PATTERN,
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Schema pattern',
    documentation:
      'SQL LIKE pattern of the PostgreSQL schemas to list tables from. null means every schema except ' +
      'the system ones (`pg_catalog`, `information_schema`).',
  })
  .define({
    name: NUMERIC_PRECISION_MAPPING,
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Map Numeric Values By Precision (deprecated)',
    documentation:
      'Deprecated: `true` means `numeric.mapping=precision_only` when `numeric.mapping` is unset.',
  })
  .define({
    name: NUMERIC_MAPPING,
    type: 'STRING',
    defaultValue: null,
    validator: validator(`[${NUMERIC_MAPPINGS.join(', ')}]`, (value) =>
      value === null || NUMERIC_MAPPINGS.includes(String(value).toLowerCase() as NumericMapping)
        ? undefined
        : `String must be one of: ${NUMERIC_MAPPINGS.join(', ')}`,
    ),
    importance: 'LOW',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Map Numeric Values, Integral or Decimal, By Precision and Scale',
    documentation:
      'How NUMERIC(p,s) columns map: `none` (Connect Decimal), `precision_only` (s = 0 and p ≤ 18 → ' +
      'INT8/16/32/64), `best_fit` (p ≤ 18: s ≤ 0 → integer, s > 0 → FLOAT64), `best_fit_eager_double` ' +
      '(as best_fit, and any s > 0 → FLOAT64). DECIMAL columns stay Decimal, as in Confluent.',
  })
  .define({
    name: DIALECT_NAME,
    type: 'STRING',
    defaultValue: '',
    validator: ValidString.in(
      '',
      'PostgreSqlDatabaseDialect',
      'MySqlDatabaseDialect',
      'SqliteDatabaseDialect',
    ),
    importance: 'LOW',
    group: DATABASE,
    orderInGroup: next(),
    displayName: 'Database Dialect',
    documentation: 'Empty: the dialect follows `connection.url`. Otherwise it must agree with the URL.',
  })
  // ------------------------------------------------------------------ Mode
  .define({
    name: MODE,
    type: 'STRING',
    defaultValue: '',
    validator: ValidString.in('', ...MODES),
    importance: 'HIGH',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Table Loading Mode',
    dependents: [INCREMENTING_COLUMN_NAME, TIMESTAMP_COLUMN_NAME, VALIDATE_NON_NULL],
    documentation:
      'How each poll selects rows: `bulk` (the whole table every time), `incrementing` (rows whose ' +
      'strictly incrementing column is above the last seen value: new rows), `timestamp` (rows whose ' +
      'timestamp column is newer: new and updated rows), `timestamp+incrementing` (both: new and ' +
      'updated rows, each with a unique offset). Must be set.',
  })
  .define({
    name: INCREMENTING_COLUMN_NAME,
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Incrementing Column Name',
    documentation:
      'The strictly incrementing integer column. Empty: the auto-increment column (serial/identity, ' +
      'AUTO_INCREMENT, INTEGER PRIMARY KEY) of each table. Must be NOT NULL.',
  })
  .define({
    name: TIMESTAMP_COLUMN_NAME,
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Timestamp Column Name',
    documentation:
      'One or more timestamp columns; with several, a row’s timestamp is `COALESCE(c1, c2, …)`. ' +
      'At least one must be NOT NULL.',
  })
  .define({
    name: TIMESTAMP_INITIAL,
    type: 'LONG',
    defaultValue: null,
    importance: 'LOW',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Unix time value of initial timestamp',
    documentation:
      'Epoch milliseconds to start from when there is no stored offset; -1 means the current database ' +
      'time. null: from the beginning.',
  })
  .define({
    name: VALIDATE_NON_NULL,
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Validate Non Null',
    documentation:
      'Check at validation and start that the incrementing and timestamp columns are NOT NULL (table ' +
      'mode only).',
  })
  .define({
    name: WAIT_FOR_OPEN_TRANSACTIONS,
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Wait for open transactions (Sluice, PostgreSQL)',
    documentation:
      'Sluice only, PostgreSQL: before reading, wait until every other transaction of the database that ' +
      'started before the read began has ended, so rows that commit late are read instead of skipped. ' +
      'Timestamp modes: the window ends at the database clock (minus the delay) taken before the wait, so ' +
      "rows stamped with `now()` (their transaction's start) by a long transaction are read once it commits. " +
      'Incrementing mode (serial/identity column): ids up to the sequence value taken before the wait are ' +
      'read, so an id handed out before a later committed one is not skipped. A transaction left open ' +
      'delays the table (a warning names it every 30 s). Sluice’s own connections are not waited for.',
  })
  .define({
    name: QUERY,
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Query',
    documentation:
      'A custom SELECT instead of whole tables: one task, topic = `topic.prefix`. In incrementing and ' +
      'timestamp modes a WHERE clause is appended, so the query must not have its own (wrap it in a ' +
      'subquery).',
  })
  .define({
    name: QUOTE_SQL_IDENTIFIERS,
    type: 'STRING',
    defaultValue: 'always',
    validator: ValidString.inIgnoringCase('always', 'never'),
    importance: 'MEDIUM',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Quote Identifiers',
    documentation: 'Whether table and column names are quoted in the generated SQL.',
  })
  .define({
    name: QUERY_SUFFIX,
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Query suffix',
    documentation: 'Appended (after a space) at the very end of the generated query.',
  })
  .define({
    name: QUERY_RETRY_ATTEMPTS,
    type: 'INT',
    defaultValue: -1,
    importance: 'LOW',
    group: MODE_GROUP,
    orderInGroup: next(),
    displayName: 'Query Retry Attempts',
    documentation:
      'How many times a query that failed because the connection was lost is retried (after ' +
      'reconnecting) before the task fails; -1 retries forever.',
  })
  // ------------------------------------------------------------------ Connector
  .define({
    name: TABLE_TYPES,
    type: 'LIST',
    defaultValue: 'TABLE',
    validator: validList(
      'TABLE',
      'VIEW',
      'SYSTEM TABLE',
      'GLOBAL TEMPORARY',
      'LOCAL TEMPORARY',
      'ALIAS',
      'SYNONYM',
    ),
    importance: 'LOW',
    group: CONNECTOR,
    orderInGroup: next(),
    displayName: 'Table Types',
    documentation: 'Kinds of relations to copy: TABLE and/or VIEW (others match nothing on these databases).',
  })
  .define({
    name: POLL_INTERVAL_MS,
    type: 'INT',
    defaultValue: 5000,
    validator: Range.atLeast(0),
    importance: 'HIGH',
    group: CONNECTOR,
    orderInGroup: next(),
    displayName: 'Poll Interval (ms)',
    documentation: 'Minimum time between two queries of the same table.',
  })
  .define({
    name: BATCH_MAX_ROWS,
    type: 'INT',
    defaultValue: 1000,
    validator: Range.atLeast(1),
    importance: 'LOW',
    group: CONNECTOR,
    orderInGroup: next(),
    displayName: 'Max Rows Per Batch',
    documentation:
      'Rows per batch handed to the runtime, and rows fetched per round trip from the cursor; the ' +
      'memory a task needs is bounded by it, whatever the table size.',
  })
  .define({
    name: TABLE_POLL_INTERVAL_MS,
    type: 'LONG',
    defaultValue: 60_000,
    validator: Range.atLeast(0),
    importance: 'LOW',
    group: CONNECTOR,
    orderInGroup: next(),
    displayName: 'Metadata Change Monitoring Interval (ms)',
    documentation:
      'How often the table list is read again; added or removed tables reconfigure the tasks. 0 disables it.',
  })
  .define({
    name: TOPIC_PREFIX,
    type: 'STRING',
    defaultValue: '',
    validator: validator('[A-Za-z0-9._-]{0,249}', (value) => {
      if (value === null) return 'Topic prefix must not be null.'
      const trimmed = String(value).trim()
      if (trimmed.length > 249) return 'Topic prefix length must not exceed max topic name length, 249 chars'
      if (/[^a-zA-Z0-9._-]/.test(trimmed))
        return "Topic prefix must not contain any character other than ASCII alphanumerics, '.', '_' and '-'."
      return undefined
    }),
    importance: 'HIGH',
    group: CONNECTOR,
    orderInGroup: next(),
    displayName: 'Topic Prefix',
    documentation:
      'Prepended to the (unqualified) table name to make the topic name; in query mode, the whole topic name.',
  })
  .define({
    name: TIMESTAMP_DELAY_INTERVAL_MS,
    type: 'LONG',
    defaultValue: 0,
    validator: Range.atLeast(0),
    importance: 'HIGH',
    group: CONNECTOR,
    orderInGroup: next(),
    displayName: 'Delay Interval (ms)',
    documentation:
      'Rows are read only once their timestamp is older than the database clock minus this delay, so ' +
      'transactions that started earlier have time to commit. Set it above your longest write transaction.',
  })
  .define({
    name: DB_TIMEZONE,
    type: 'STRING',
    defaultValue: 'UTC',
    validator: validator('any IANA time zone id', (value) =>
      typeof value === 'string' && isKnownTimeZone(value)
        ? undefined
        : 'Invalid time zone identifier; use an IANA id such as UTC or Europe/Paris',
    ),
    importance: 'MEDIUM',
    group: CONNECTOR,
    orderInGroup: next(),
    displayName: 'DB time zone',
    documentation:
      'Time zone of timestamp values without a zone (PostgreSQL `timestamp`, MySQL `DATETIME`, SQLite text): ' +
      'used to read them and to bind the query bounds.',
  })

/** The validated settings of a JDBC source connector or task. */
export class JdbcSourceConfig extends AbstractConfig {
  constructor(props: Props) {
    super(jdbcSourceConfigDef, props)
  }

  get mode(): Mode | '' {
    return this.getString(MODE) as Mode | ''
  }
  get query(): string {
    return this.getString(QUERY).trim()
  }
  get numericMapping(): NumericMapping {
    const value = this.getOptionalString(NUMERIC_MAPPING)
    if (value) return value.toLowerCase() as NumericMapping
    return this.getBoolean(NUMERIC_PRECISION_MAPPING) ? 'precision_only' : 'none'
  }
  get quoteIdentifiers(): boolean {
    return this.getString(QUOTE_SQL_IDENTIFIERS).toLowerCase() !== 'never'
  }
  get timestampColumns(): string[] {
    return this.getList(TIMESTAMP_COLUMN_NAME).filter((c) => c !== '')
  }
  get incrementingColumn(): string {
    return this.getString(INCREMENTING_COLUMN_NAME).trim()
  }
  get topicPrefix(): string {
    return this.getString(TOPIC_PREFIX).trim()
  }
  get password(): string | undefined {
    return this.getPassword(CONNECTION_PASSWORD)?.value ?? undefined
  }
  get usesTimestamp(): boolean {
    return this.mode === 'timestamp' || this.mode === 'timestamp+incrementing'
  }
  get usesIncrementing(): boolean {
    return this.mode === 'incrementing' || this.mode === 'timestamp+incrementing'
  }
}
