/**
 * The JDBC sink's keys, declared once per flavour: Confluent's `io.confluent.connect.jdbc.JdbcSinkConnector`
 * (`JdbcSinkConfig`) and Debezium's `io.debezium.connector.jdbc.JdbcSinkConnector`, with their
 * own names and defaults. Both are read into one `SinkSettings` that the task works from, and both run
 * the same cross-key checks, so a bad combination is a 400 naming the key before anything starts.
 *
 * Over 600 lines because it is two complete key tables (one per flavour, each key with its
 * documentation) and the one reading of both; split, the keys would sit apart from the checks relating them.
 */
import {
  AbstractConfig,
  ConfigDef,
  type ConfigKeyInit,
  type ConfigValue,
  Range,
  ValidString,
  validator,
} from '../../../api/config-def.ts'
import type { Props } from '../../../api/connector.ts'
import { ConfigError } from '../../../api/errors.ts'
import { isKnownTimeZone } from '../../../api/time-zone.ts'
import { parseJdbcUrl } from '../common/url.ts'

export type InsertMode = 'insert' | 'upsert' | 'update'
export type PkMode = 'none' | 'kafka' | 'record_key' | 'record_value'
export type Flavour = 'confluent' | 'debezium'

/** Everything the task needs, whichever flavour's keys it came from. */
export interface SinkSettings {
  flavour: Flavour
  url: string
  urlKey: string
  user: string | undefined
  userKey: string
  password: string | undefined
  passwordKey: string
  connectionAttempts: number
  connectionBackoffMs: number
  insertMode: InsertMode
  batchSize: number
  deleteEnabled: boolean
  truncateEnabled: boolean
  pkMode: PkMode
  pkModeKey: string
  pkFields: string[]
  pkFieldsKey: string
  /** Non-key value fields to keep; empty = all. */
  fieldsInclude: string[]
  /** Value fields to drop (Debezium `field.exclude.list`). */
  fieldsExclude: string[]
  /** `${topic}` (and, for Debezium, `${source.db|schema|table}`) → table name. */
  tableNameFormat: string
  autoCreate: boolean
  autoEvolve: boolean
  /** `always`: every identifier quoted; `never`: plain ones left bare (odd ones are still quoted). */
  quoteIdentifiers: boolean
  timezone: string
  maxRetries: number
  retryBackoffMs: number
  /** PostgreSQL bulk path: multi-row VALUES, or COPY into a temp table + one INSERT … SELECT. */
  pgBulkMode: 'values' | 'copy'
  /** Decimal precision in DDL when the schema does not carry `connect.decimal.precision`. */
  defaultDecimalPrecision: number
}

const timezoneValidator = validator('a time zone id such as UTC or Europe/Paris', (value) =>
  isKnownTimeZone(String(value))
    ? undefined
    : `unknown time zone '${String(value)}'; use an IANA id such as UTC or Europe/Paris`,
)

/** The placeholder both flavours replace with the record's topic. */
export const TOPIC_VARIABLE = '$' + '{topic}'

const INSERT_MODES = ['insert', 'upsert', 'update']
const PK_MODES = ['none', 'kafka', 'record_key', 'record_value']

/** Sluice's own additions, the same in both flavours. */
function defineSluiceKeys(def: ConfigDef): ConfigDef {
  return def
    .define({
      name: 'sluice.postgres.bulk.mode',
      type: 'STRING',
      defaultValue: 'copy',
      importance: 'LOW',
      group: 'Writes',
      documentation:
        'How upserts and inserts of many rows reach PostgreSQL. `copy`: COPY the batch into a temporary ' +
        'table, then one INSERT … SELECT … ON CONFLICT from it (fastest for large batches). `values`: ' +
        'multi-row INSERT … VALUES … ON CONFLICT statements. Other databases always use multi-row statements.',
      validator: ValidString.inIgnoringCase('copy', 'values'),
    })
    .define({
      name: 'sluice.decimal.default.precision',
      type: 'INT',
      defaultValue: 65,
      importance: 'LOW',
      group: 'DDL',
      documentation:
        'Precision of DECIMAL columns created for Decimal fields whose schema has no ' +
        '`connect.decimal.precision` parameter (the scale always comes from the schema).',
      validator: Range.between(1, 65),
    })
}

/** The one key both flavours declare alike. */
const CONNECTION_URL: ConfigKeyInit = {
  name: 'connection.url',
  type: 'STRING',
  importance: 'HIGH',
  group: 'Connection',
  documentation:
    'JDBC connection URL: jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db, ' +
    'jdbc:mariadb://host:3306/db or jdbc:sqlite:/path/to/file.db.',
}

export const confluentSinkConfigDef: ConfigDef = defineSluiceKeys(
  new ConfigDef()
    .define(CONNECTION_URL)
    .define({
      name: 'connection.user',
      type: 'STRING',
      defaultValue: null,
      importance: 'HIGH',
      group: 'Connection',
      documentation: 'JDBC connection user.',
    })
    .define({
      name: 'connection.password',
      type: 'PASSWORD',
      defaultValue: null,
      importance: 'HIGH',
      group: 'Connection',
      documentation: 'JDBC connection password.',
    })
    .define({
      name: 'connection.attempts',
      type: 'INT',
      defaultValue: 3,
      importance: 'LOW',
      group: 'Connection',
      documentation: 'Maximum number of attempts to open a connection before the put is retried later.',
      validator: Range.atLeast(1),
    })
    .define({
      name: 'connection.backoff.ms',
      type: 'LONG',
      defaultValue: 10000,
      importance: 'LOW',
      group: 'Connection',
      documentation: 'Backoff time in milliseconds between connection attempts.',
      validator: Range.atLeast(0),
    })
    .define({
      name: 'dialect.name',
      type: 'STRING',
      defaultValue: '',
      importance: 'LOW',
      group: 'Connection',
      documentation:
        'Accepted for compatibility; the dialect always follows the URL (PostgreSqlDatabaseDialect, ' +
        'MySqlDatabaseDialect, SqliteDatabaseDialect).',
    })
    .define({
      name: 'insert.mode',
      type: 'STRING',
      defaultValue: 'insert',
      importance: 'HIGH',
      group: 'Writes',
      documentation:
        'insert: plain INSERT. upsert: INSERT … ON CONFLICT DO UPDATE (PostgreSQL, SQLite) or ON DUPLICATE ' +
        'KEY UPDATE (MySQL/MariaDB), idempotent. update: UPDATE by primary key.',
      validator: ValidString.inIgnoringCase(...INSERT_MODES),
    })
    .define({
      name: 'batch.size',
      type: 'INT',
      defaultValue: 3000,
      importance: 'MEDIUM',
      group: 'Writes',
      documentation:
        'Most rows per statement, and most rows that wait behind the write under way before put() waits ' +
        'for it. The rows of the put() calls made during a write go together in the next transaction.',
      validator: Range.atLeast(1),
    })
    .define({
      name: 'delete.enabled',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'Writes',
      documentation:
        'Whether a tombstone (null value) deletes the row with its key. Requires pk.mode=record_key. When ' +
        'false, a tombstone is an error handled per errors.tolerance (dead-letter topic with all).',
    })
    .define({
      name: 'pk.mode',
      type: 'STRING',
      defaultValue: 'none',
      importance: 'HIGH',
      group: 'Data mapping',
      documentation:
        'Where the primary key comes from. none: no key. kafka: topic, partition and offset. record_key: ' +
        "the record key's fields (or the primitive key). record_value: fields of the value.",
      validator: ValidString.inIgnoringCase(...PK_MODES),
    })
    .define({
      name: 'pk.fields',
      type: 'LIST',
      defaultValue: '',
      importance: 'MEDIUM',
      group: 'Data mapping',
      documentation:
        'Primary key column names. kafka: three names, default __connect_topic,__connect_partition,' +
        '__connect_offset. record_key: empty = every key field; exactly one name for a primitive key. ' +
        'record_value: empty = every value field.',
    })
    .define({
      name: 'fields.whitelist',
      type: 'LIST',
      defaultValue: '',
      importance: 'MEDIUM',
      group: 'Data mapping',
      documentation: 'Value fields to write as non-key columns; empty = all.',
    })
    .define({
      name: 'table.name.format',
      type: 'STRING',
      defaultValue: TOPIC_VARIABLE,
      importance: 'MEDIUM',
      group: 'Data mapping',
      documentation:
        `Destination table name; ${TOPIC_VARIABLE} is replaced by the record topic. Dots separate schema ` +
        `(or database) and table: public.${TOPIC_VARIABLE}.`,
    })
    .define({
      name: 'auto.create',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'DDL',
      documentation: 'CREATE TABLE from the record schema when the table is missing.',
    })
    .define({
      name: 'auto.evolve',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'DDL',
      documentation:
        'ALTER TABLE … ADD for fields the table lacks (optional fields or fields with a default). Never ' +
        'drops, renames or retypes a column.',
    })
    .define({
      name: 'quote.sql.identifiers',
      type: 'STRING',
      defaultValue: 'always',
      importance: 'MEDIUM',
      group: 'DDL',
      documentation:
        'always: quote every table and column name. never: leave plain names (letters, digits, _) unquoted; ' +
        'names with other characters are still quoted so they can never be read as SQL.',
      validator: ValidString.inIgnoringCase('always', 'never'),
    })
    .define({
      name: 'table.types',
      type: 'LIST',
      defaultValue: 'TABLE',
      importance: 'LOW',
      group: 'DDL',
      documentation:
        'Accepted for compatibility (TABLE, PARTITIONED_TABLE, VIEW): writes go to the named table.',
    })
    .define({
      name: 'db.timezone',
      type: 'STRING',
      defaultValue: 'UTC',
      importance: 'MEDIUM',
      group: 'Data mapping',
      documentation: 'Time zone in which Timestamp values are written to TIMESTAMP/DATETIME columns.',
      validator: timezoneValidator,
    })
    .define({
      name: 'max.retries',
      type: 'INT',
      defaultValue: 10,
      importance: 'MEDIUM',
      group: 'Retries',
      documentation: 'How many times a put that failed on the connection is retried before the task fails.',
      validator: Range.atLeast(0),
    })
    .define({
      name: 'retry.backoff.ms',
      type: 'INT',
      defaultValue: 3000,
      importance: 'MEDIUM',
      group: 'Retries',
      documentation: 'Wait before a failed put is retried.',
      validator: Range.atLeast(0),
    }),
)

export const debeziumSinkConfigDef: ConfigDef = defineSluiceKeys(
  new ConfigDef()
    .define(CONNECTION_URL)
    .define({
      name: 'connection.username',
      type: 'STRING',
      defaultValue: null,
      importance: 'HIGH',
      group: 'Connection',
      documentation: 'Database user.',
    })
    .define({
      name: 'connection.password',
      type: 'PASSWORD',
      defaultValue: null,
      importance: 'HIGH',
      group: 'Connection',
      documentation: 'Database password.',
    })
    .define({
      name: 'insert.mode',
      type: 'STRING',
      defaultValue: 'insert',
      importance: 'HIGH',
      group: 'Writes',
      documentation: 'insert, upsert (idempotent, needs a primary key) or update.',
      validator: ValidString.inIgnoringCase(...INSERT_MODES),
    })
    .define({
      name: 'primary.key.mode',
      type: 'STRING',
      defaultValue: 'none',
      importance: 'HIGH',
      group: 'Data mapping',
      documentation:
        'none, kafka (__connect_topic, __connect_partition, __connect_offset), record_key or record_value.',
      validator: ValidString.inIgnoringCase(...PK_MODES),
    })
    .define({
      name: 'primary.key.fields',
      type: 'LIST',
      defaultValue: '',
      importance: 'MEDIUM',
      group: 'Data mapping',
      documentation:
        'Primary key columns; required for a primitive key, otherwise a subset of the key or value fields.',
    })
    .define({
      name: 'delete.enabled',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'Writes',
      documentation:
        'Delete the row on a Debezium delete event (op d) or a tombstone of an unwrapped stream. Requires ' +
        'primary.key.mode=record_key. When false, delete events and tombstones are skipped.',
    })
    .define({
      name: 'truncate.enabled',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      group: 'Writes',
      documentation: 'Truncate the table on a Debezium truncate event (op t); skipped when false.',
    })
    .define({
      name: 'schema.evolution',
      type: 'STRING',
      defaultValue: 'none',
      importance: 'MEDIUM',
      group: 'DDL',
      documentation:
        'none: tables must exist with every column. basic: CREATE TABLE when missing and ALTER TABLE ADD ' +
        'for new fields (never drops or retypes).',
      validator: ValidString.inIgnoringCase('none', 'basic'),
    })
    .define({
      name: 'collection.name.format',
      type: 'STRING',
      defaultValue: TOPIC_VARIABLE,
      importance: 'MEDIUM',
      group: 'Data mapping',
      documentation:
        `Destination table: \${topic}, \${source.db}, \${source.schema} and \${source.table} are replaced; dots ` +
        "in the topic become underscores (Debezium's default naming strategy).",
    })
    .define({
      name: 'table.name.format',
      type: 'STRING',
      defaultValue: null,
      importance: 'LOW',
      group: 'Data mapping',
      documentation: 'Deprecated name of collection.name.format (used when that is not set).',
    })
    .define({
      name: 'quote.identifiers',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      group: 'DDL',
      documentation:
        'true: quote every name. false: plain names stay unquoted (odd ones are still quoted so they can ' +
        'never be read as SQL).',
    })
    .define({
      name: 'batch.size',
      type: 'INT',
      defaultValue: 500,
      importance: 'MEDIUM',
      group: 'Writes',
      documentation:
        'Most rows per statement, and most rows that wait behind the write under way before put() waits ' +
        'for it. The rows of the put() calls made during a write go together in the next transaction.',
      validator: Range.atLeast(1),
    })
    .define({
      name: 'field.include.list',
      type: 'LIST',
      defaultValue: '',
      importance: 'LOW',
      group: 'Data mapping',
      documentation: 'Fields to write (`topic:field` or `field`); empty = all.',
    })
    .define({
      name: 'field.exclude.list',
      type: 'LIST',
      defaultValue: '',
      importance: 'LOW',
      group: 'Data mapping',
      documentation: 'Fields not to write (`topic:field` or `field`).',
    })
    .define({
      name: 'use.time.zone',
      type: 'STRING',
      defaultValue: 'UTC',
      importance: 'LOW',
      group: 'Data mapping',
      documentation: 'Time zone for temporal values written to columns without a time zone.',
      validator: timezoneValidator,
    })
    .define({
      name: 'flush.max.retries',
      type: 'INT',
      defaultValue: 5,
      importance: 'LOW',
      group: 'Retries',
      documentation: 'Retries of a flush that failed on the connection before the task fails.',
      validator: Range.atLeast(0),
    })
    .define({
      name: 'flush.retry.delay.ms',
      type: 'LONG',
      defaultValue: 1000,
      importance: 'LOW',
      group: 'Retries',
      documentation: 'Wait between flush retries.',
      validator: Range.atLeast(0),
    }),
)

function password(config: AbstractConfig, key: string): string | undefined {
  return config.getPassword(key)?.value || undefined
}

/** Reads a flavour's keys into settings. Throws a ConfigError naming the key on a bad combination. */
export function readSettings(flavour: Flavour, props: Props): SinkSettings {
  const settings = flavour === 'confluent' ? readConfluent(props) : readDebezium(props)
  checkSettings(settings)
  return settings
}

function readConfluent(props: Props): SinkSettings {
  const c = new AbstractConfig(confluentSinkConfigDef, props)
  return {
    flavour: 'confluent',
    url: c.getString('connection.url'),
    urlKey: 'connection.url',
    user: c.getOptionalString('connection.user') || undefined,
    userKey: 'connection.user',
    password: password(c, 'connection.password'),
    passwordKey: 'connection.password',
    connectionAttempts: c.getInt('connection.attempts'),
    connectionBackoffMs: c.getLong('connection.backoff.ms'),
    insertMode: c.getString('insert.mode').toLowerCase() as InsertMode,
    batchSize: c.getInt('batch.size'),
    deleteEnabled: c.getBoolean('delete.enabled'),
    truncateEnabled: false,
    pkMode: c.getString('pk.mode').toLowerCase() as PkMode,
    pkModeKey: 'pk.mode',
    pkFields: c.getList('pk.fields'),
    pkFieldsKey: 'pk.fields',
    fieldsInclude: c.getList('fields.whitelist'),
    fieldsExclude: [],
    tableNameFormat: c.getString('table.name.format'),
    autoCreate: c.getBoolean('auto.create'),
    autoEvolve: c.getBoolean('auto.evolve'),
    quoteIdentifiers: c.getString('quote.sql.identifiers').toLowerCase() === 'always',
    timezone: c.getString('db.timezone'),
    maxRetries: c.getInt('max.retries'),
    retryBackoffMs: c.getInt('retry.backoff.ms'),
    pgBulkMode: c.getString('sluice.postgres.bulk.mode').toLowerCase() as 'values' | 'copy',
    defaultDecimalPrecision: c.getInt('sluice.decimal.default.precision'),
  }
}

function readDebezium(props: Props): SinkSettings {
  const c = new AbstractConfig(debeziumSinkConfigDef, props)
  const evolve = c.getString('schema.evolution').toLowerCase() === 'basic'
  const format =
    props['collection.name.format'] === undefined && props['table.name.format']
      ? props['table.name.format']
      : c.getString('collection.name.format')
  return {
    flavour: 'debezium',
    url: c.getString('connection.url'),
    urlKey: 'connection.url',
    user: c.getOptionalString('connection.username') || undefined,
    userKey: 'connection.username',
    password: password(c, 'connection.password'),
    passwordKey: 'connection.password',
    connectionAttempts: 3,
    connectionBackoffMs: 1000,
    insertMode: c.getString('insert.mode').toLowerCase() as InsertMode,
    batchSize: c.getInt('batch.size'),
    deleteEnabled: c.getBoolean('delete.enabled'),
    truncateEnabled: c.getBoolean('truncate.enabled'),
    pkMode: c.getString('primary.key.mode').toLowerCase() as PkMode,
    pkModeKey: 'primary.key.mode',
    pkFields: c.getList('primary.key.fields'),
    pkFieldsKey: 'primary.key.fields',
    fieldsInclude: c.getList('field.include.list'),
    fieldsExclude: c.getList('field.exclude.list'),
    tableNameFormat: format,
    autoCreate: evolve,
    autoEvolve: evolve,
    quoteIdentifiers: c.getBoolean('quote.identifiers'),
    timezone: c.getString('use.time.zone'),
    maxRetries: c.getInt('flush.max.retries'),
    retryBackoffMs: c.getLong('flush.retry.delay.ms'),
    pgBulkMode: c.getString('sluice.postgres.bulk.mode').toLowerCase() as 'values' | 'copy',
    defaultDecimalPrecision: c.getInt('sluice.decimal.default.precision'),
  }
}

/** Checks across keys (each failure names the key to change and how). */
export function checkSettings(s: SinkSettings): void {
  parseJdbcUrl(s.url, { key: s.urlKey, user: s.user, password: s.password })
  if (s.deleteEnabled && s.pkMode !== 'record_key') {
    throw new ConfigError(
      'delete.enabled',
      `delete.enabled=true needs ${s.pkModeKey}=record_key (it is ${s.pkMode}): a delete finds its row by ` +
        `the record key. Set ${s.pkModeKey}=record_key or delete.enabled=false`,
    )
  }
  if (s.insertMode !== 'insert' && s.pkMode === 'none') {
    throw new ConfigError(
      'insert.mode',
      `insert.mode=${s.insertMode} needs a primary key, but ${s.pkModeKey}=none. Set ${s.pkModeKey} to ` +
        'record_key, record_value or kafka, or use insert.mode=insert',
    )
  }
  if (s.pkMode === 'kafka' && s.pkFields.length !== 0 && s.pkFields.length !== 3) {
    throw new ConfigError(
      s.pkFieldsKey,
      `${s.pkModeKey}=kafka takes exactly three ${s.pkFieldsKey} (topic, partition and offset columns) or ` +
        `none for the defaults __connect_topic,__connect_partition,__connect_offset; got ${s.pkFields.length}`,
    )
  }
  if (s.pkMode === 'none' && s.pkFields.length > 0) {
    throw new ConfigError(
      s.pkFieldsKey,
      `${s.pkFieldsKey} is set but ${s.pkModeKey}=none ignores it; set ${s.pkModeKey} (record_key, ` +
        `record_value or kafka) or clear ${s.pkFieldsKey}`,
    )
  }
  if (!s.tableNameFormat.trim()) {
    throw new ConfigError(
      s.flavour === 'confluent' ? 'table.name.format' : 'collection.name.format',
      `the table name format is empty; use \${topic} or a fixed table name`,
    )
  }
}

/**
 * The flavour's ConfigDef validation, plus the cross-key checks attached to the key they name, so
 * `config/validate` and `POST /connectors` answer 400 with the key.
 */
export function validateSettings(flavour: Flavour, props: Props): ConfigValue[] {
  const def = flavour === 'confluent' ? confluentSinkConfigDef : debeziumSinkConfigDef
  const values = def.validate(props)
  if (values.some((v) => v.errors.length > 0)) return values
  try {
    readSettings(flavour, props)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const target = values.find((v) => v.name === error.key) ?? values[0]
    target?.errors.push(error.message)
  }
  return values
}
