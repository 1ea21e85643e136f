/**
 * Keys of Debezium's PostgreSQL connector (`PostgresConnectorConfig` and the common connector
 * config), with Debezium's defaults. Keys Debezium has and we do not implement are not declared, so
 * they show up nowhere as if they worked; the reference page lists them.
 *
 * Over 600 lines because Debezium's key table is long (each key with its documentation, default and
 * validator, for the generated reference page); the parsing into settings stays beside it.
 */
import {
  AbstractConfig,
  ConfigDef,
  NonEmptyString,
  Range,
  type Validator,
  ValidString,
} from '../../api/config-def.ts'
import { ConfigError } from '../../api/errors.ts'
import { compileJavaRegex, javaRegexFor } from '../../api/java-regex.ts'
import { checkTopicReaderProperties } from '../../api/topic-reader.ts'

/** Debezium's channels: `source` (the signal table) and `kafka` are implemented; `file`, `jmx` and `in-process` are not. */
export const SIGNAL_CHANNELS = ['source', 'kafka']

const signalChannels: Validator = {
  ensureValid(name, value) {
    for (const item of (value as string[] | null) ?? []) {
      if (!SIGNAL_CHANNELS.includes(item)) {
        const hint = ['file', 'jmx', 'in-process'].includes(item)
          ? ` (the ${item} channel is not implemented)`
          : ''
        throw new ConfigError(
          name,
          `Invalid value ${item} for configuration ${name}: supported channels are ${SIGNAL_CHANNELS.join(', ')}${hint}`,
        )
      }
    }
  },
  toString: () => `[${SIGNAL_CHANNELS.join(', ')}]`,
}

const SNAPSHOT_MODES = ['initial', 'always', 'initial_only', 'no_data', 'never', 'when_needed', 'exported']
const AUTOCREATE_MODES = ['all_tables', 'filtered', 'disabled', 'no_tables']

const slotName: Validator = {
  ensureValid(name, value) {
    if (typeof value !== 'string' || !/^[a-z0-9_]{1,63}$/.test(value)) {
      throw new ConfigError(
        name,
        `Invalid value ${String(value)} for configuration ${name}: a replication slot name must be 1 to 63 ` +
          'lower-case letters, digits or underscores (PostgreSQL rejects anything else)',
      )
    }
  },
  toString: () => '[a-z0-9_]{1,63}',
}

const regexList: Validator = {
  ensureValid(name, value) {
    for (const item of (value as string[] | null) ?? []) {
      try {
        compileJavaRegex(item)
      } catch (error) {
        throw new ConfigError(
          name,
          `Invalid value ${item} for configuration ${name}: not a valid regular expression (${(error as Error).message})`,
        )
      }
    }
  },
  toString: () => 'comma-separated regular expressions',
}

const skippedOperations: Validator = {
  ensureValid(name, value) {
    for (const item of (value as string[] | null) ?? []) {
      if (!['c', 'u', 'd', 't', 'none'].includes(item)) {
        throw new ConfigError(
          name,
          `Invalid value ${item} for configuration ${name}: operations are c (create), u (update), d (delete), t (truncate) or none`,
        )
      }
    }
  },
  toString: () => '[c, u, d, t, none]',
}

const G_CONN = 'Connection'
const G_REPL = 'Replication'
const G_FILTER = 'Filters'
const G_EVENTS = 'Events'
const G_SNAP = 'Snapshot'
const G_SIGNAL = 'Signals and incremental snapshots'
const G_PIPE = 'Pipeline'

export const postgresCdcConfigDef = new ConfigDef()
  .define({
    name: 'database.hostname',
    type: 'STRING',
    importance: 'HIGH',
    group: G_CONN,
    documentation: 'Resolvable hostname or IP address of the PostgreSQL server.',
    validator: NonEmptyString,
  })
  .define({
    name: 'database.port',
    type: 'INT',
    defaultValue: 5432,
    importance: 'HIGH',
    group: G_CONN,
    documentation: 'Port of the PostgreSQL server.',
    validator: Range.between(1, 65535),
  })
  .define({
    name: 'database.user',
    type: 'STRING',
    importance: 'HIGH',
    group: G_CONN,
    documentation:
      'Name of the database user; it needs the REPLICATION attribute (or superuser) and SELECT on the captured tables.',
    validator: NonEmptyString,
  })
  .define({
    name: 'database.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'HIGH',
    group: G_CONN,
    documentation: 'Password of the database user.',
  })
  .define({
    name: 'database.dbname',
    type: 'STRING',
    importance: 'HIGH',
    group: G_CONN,
    documentation: 'The database to capture changes from (one database per connector).',
    validator: NonEmptyString,
  })
  .define({
    name: 'database.sslmode',
    type: 'STRING',
    defaultValue: 'prefer',
    importance: 'MEDIUM',
    group: G_CONN,
    documentation:
      '`disable` for a plain connection; `require` (and `verify-ca`, `verify-full`, which are treated as `require`: ' +
      'the certificate is not verified) for TLS. `prefer` and `allow` connect without TLS.',
    validator: ValidString.in('disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'),
  })
  .define({
    name: 'topic.prefix',
    type: 'STRING',
    importance: 'HIGH',
    group: G_CONN,
    documentation:
      'Logical name of the server: prefix of every topic (`<prefix>.<schema>.<table>`) and of the schema names, and the ' +
      'offset partition `{"server": <prefix>}`. Never change it on a running connector.',
    validator: {
      ensureValid(name, value) {
        if (typeof value !== 'string' || !/^[a-zA-Z0-9._-]+$/.test(value)) {
          throw new ConfigError(
            name,
            `Invalid value ${String(value)} for configuration ${name}: use only letters, digits, '.', '_' and '-' (it names Kafka topics)`,
          )
        }
      },
      toString: () => '[a-zA-Z0-9._-]+',
    },
  })
  .define({
    name: 'plugin.name',
    type: 'STRING',
    defaultValue: 'decoderbufs',
    importance: 'MEDIUM',
    group: G_REPL,
    documentation:
      "Logical decoding plugin. Only `pgoutput` is implemented; `decoderbufs` (Debezium's default) is read as " +
      '`pgoutput` with a warning, since the events are the same. An existing slot made for decoderbufs is refused.',
    validator: ValidString.in('decoderbufs', 'pgoutput'),
  })
  .define({
    name: 'slot.name',
    type: 'STRING',
    defaultValue: 'debezium',
    importance: 'MEDIUM',
    group: G_REPL,
    documentation: 'Name of the logical replication slot, created when missing.',
    validator: slotName,
  })
  .define({
    name: 'slot.drop.on.stop',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    group: G_REPL,
    documentation:
      'Drop the slot when the task stops in an orderly way (for tests; changes made while stopped are lost).',
  })
  .define({
    name: 'slot.max.retries',
    type: 'INT',
    defaultValue: 6,
    importance: 'LOW',
    group: G_REPL,
    documentation:
      'How many times to retry at start while the slot is active for another process (e.g. the walsender of a worker ' +
      'that was just killed and has not been noticed gone yet).',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'slot.retry.delay.ms',
    type: 'LONG',
    defaultValue: 10000,
    importance: 'LOW',
    group: G_REPL,
    documentation: 'Wait between those retries.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'status.update.interval.ms',
    type: 'INT',
    defaultValue: 10000,
    importance: 'LOW',
    group: G_REPL,
    documentation:
      'How often a standby status update (the flushed LSN) is sent on the replication connection.',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'publication.name',
    type: 'STRING',
    defaultValue: 'dbz_publication',
    importance: 'MEDIUM',
    group: G_REPL,
    documentation: 'Name of the publication pgoutput streams.',
    validator: NonEmptyString,
  })
  .define({
    name: 'publication.autocreate.mode',
    type: 'STRING',
    defaultValue: 'all_tables',
    importance: 'MEDIUM',
    group: G_REPL,
    documentation:
      '`all_tables`: create the publication `FOR ALL TABLES` if missing; `filtered`: create it (or `ALTER ... SET TABLE`) ' +
      'for the captured tables (plus the signal table); `disabled`: it must exist; `no_tables`: create it empty.',
    validator: ValidString.in(...AUTOCREATE_MODES),
  })
  .define({
    name: 'schema.include.list',
    type: 'LIST',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_FILTER,
    documentation:
      'Regular expressions (full match, ignoring case) of schemas to capture; excludes every other schema.',
    validator: regexList,
  })
  .define({
    name: 'schema.exclude.list',
    type: 'LIST',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_FILTER,
    documentation:
      'Regular expressions (full match, ignoring case) of schemas not to capture. Not with `schema.include.list`.',
    validator: regexList,
  })
  .define({
    name: 'table.include.list',
    type: 'LIST',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_FILTER,
    documentation: 'Regular expressions (full match, ignoring case) of `schema.table` names to capture.',
    validator: regexList,
  })
  .define({
    name: 'table.exclude.list',
    type: 'LIST',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_FILTER,
    documentation:
      'Regular expressions of `schema.table` names not to capture. Not with `table.include.list`.',
    validator: regexList,
  })
  .define({
    name: 'column.include.list',
    type: 'LIST',
    defaultValue: null,
    importance: 'LOW',
    group: G_FILTER,
    documentation:
      'Regular expressions of `schema.table.column` names to include in events; key columns are always kept.',
    validator: regexList,
  })
  .define({
    name: 'column.exclude.list',
    type: 'LIST',
    defaultValue: null,
    importance: 'LOW',
    group: G_FILTER,
    documentation: 'Regular expressions of `schema.table.column` names to leave out of events.',
    validator: regexList,
  })
  .define({
    name: 'message.key.columns',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      'Custom message keys: `<schema.table regex>:<column>,<column>;<regex>:<column>`. Also gives keys to tables without a primary key.',
  })
  .define({
    name: 'skipped.operations',
    type: 'LIST',
    defaultValue: 't',
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      'Operations not to emit: `c`, `u`, `d`, `t` (truncate), or `none`. Truncates are skipped by default.',
    validator: skippedOperations,
  })
  .define({
    name: 'tombstones.on.delete',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    group: G_EVENTS,
    documentation: 'Emit a tombstone (same key, null value) after each delete event, for log compaction.',
  })
  .define({
    name: 'extended.headers.enabled',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      'Add the `__debezium.context.connectorLogicalName` (`topic.prefix`), `__debezium.context.taskId` (`0`), ' +
      '`__debezium.context.connectorName` (`postgresql`) and `__debezium.context.runId` (a UUID new at each task ' +
      'start) headers to every change event and tombstone, after any key-change headers, as Debezium 3.3+ does.',
  })
  .define({
    name: 'decimal.handling.mode',
    type: 'STRING',
    defaultValue: 'precise',
    importance: 'MEDIUM',
    group: G_EVENTS,
    documentation:
      '`precise`: `org.apache.kafka.connect.data.Decimal` (`io.debezium.data.VariableScaleDecimal` for NUMERIC without scale); ' +
      '`double`: FLOAT64; `string`: the text form.',
    validator: ValidString.in('precise', 'double', 'string'),
  })
  .define({
    name: 'time.precision.mode',
    type: 'STRING',
    defaultValue: 'adaptive',
    importance: 'MEDIUM',
    group: G_EVENTS,
    documentation:
      "`adaptive`: `io.debezium.time.*` types by the column's precision; `adaptive_time_microseconds`: TIME always " +
      "MicroTime; `connect`: Kafka Connect's Date/Time/Timestamp (milliseconds); `isostring`: ISO-8601 strings " +
      '(`io.debezium.time.IsoDate`/`IsoTime`/`IsoTimestamp`, UTC); `microseconds`: MicroTime/MicroTimestamp at every ' +
      'precision; `nanoseconds`: `NanoTime`/`NanoTimestamp` (timestamps outside 1677–2262 fail the task). ' +
      'TIMESTAMPTZ and TIMETZ are ZonedTimestamp/ZonedTime in every mode.',
    validator: ValidString.in(
      'adaptive',
      'adaptive_time_microseconds',
      'connect',
      'isostring',
      'microseconds',
      'nanoseconds',
    ),
  })
  .define({
    name: 'interval.handling.mode',
    type: 'STRING',
    defaultValue: 'numeric',
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      '`numeric`: `io.debezium.time.MicroDuration` (µs); `string`: ISO-8601 `io.debezium.time.Interval`.',
    validator: ValidString.in('numeric', 'string'),
  })
  .define({
    name: 'binary.handling.mode',
    type: 'STRING',
    defaultValue: 'bytes',
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      'BYTEA (and, with `include.unknown.datatypes`, the text of unknown types) as `bytes`, or as a `base64`, ' +
      '`base64-url-safe` or `hex` string.',
    validator: ValidString.in('bytes', 'base64', 'base64-url-safe', 'hex'),
  })
  .define({
    name: 'hstore.handling.mode',
    type: 'STRING',
    defaultValue: 'json',
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      'HSTORE as `json` (a JSON object string, `io.debezium.data.Json`) or `map` (`MAP<STRING, optional STRING>`).',
    validator: ValidString.in('json', 'map'),
  })
  .define({
    name: 'money.fraction.digits',
    type: 'INT',
    defaultValue: 2,
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      'Scale of MONEY values as `Decimal` (`decimal.handling.mode=precise`); values are rounded half up to it.',
    validator: Range.between(0, 1000),
  })
  .define({
    name: 'unavailable.value.placeholder',
    type: 'STRING',
    defaultValue: '__debezium_unavailable_value',
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      'Value of unchanged TOASTed columns pgoutput does not send (REPLICA IDENTITY other than FULL).',
  })
  .define({
    name: 'include.unknown.datatypes',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      'Include columns of types without a mapping (geometric types, composite types, other extensions) as the ' +
      'bytes of their text form, or that text per `binary.handling.mode`; otherwise they are left out ' +
      '(with a warning). Arrays of `money`, `name`, `interval`, `varbit`, `xml` and `point` are left out ' +
      'either way, as by Debezium 3.6.',
  })
  .define({
    name: 'provide.transaction.metadata',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    group: G_EVENTS,
    documentation:
      "Emit BEGIN/END records to `<prefix>.<topic.transaction>` and fill each event's `transaction` block.",
  })
  .define({
    name: 'topic.transaction',
    type: 'STRING',
    defaultValue: 'transaction',
    importance: 'LOW',
    group: G_EVENTS,
    documentation: 'Suffix of the transaction metadata topic.',
  })
  .define({
    name: 'snapshot.mode',
    type: 'STRING',
    defaultValue: 'initial',
    importance: 'MEDIUM',
    group: G_SNAP,
    documentation:
      '`initial`: snapshot when there is no complete snapshot in the offsets, then stream; `always`: snapshot at every ' +
      'start; `initial_only`: snapshot, then stop; `no_data` (legacy `never`): only stream; `when_needed`: snapshot ' +
      'when there is no offset or the slot no longer has its WAL position. `exported` is read as `initial`.',
    validator: {
      ensureValid(name, value) {
        if (typeof value !== 'string' || !SNAPSHOT_MODES.includes(value)) {
          const hint =
            value === 'configuration_based' || value === 'custom'
              ? ' (configuration_based and custom snapshotters are not implemented)'
              : ''
          throw new ConfigError(
            name,
            `Invalid value ${String(value)} for configuration ${name}: String must be one of: ${SNAPSHOT_MODES.join(', ')}${hint}`,
          )
        }
      },
      toString: () => `[${SNAPSHOT_MODES.join(', ')}]`,
    },
  })
  .define({
    name: 'snapshot.fetch.size',
    type: 'INT',
    defaultValue: 10240,
    importance: 'MEDIUM',
    group: G_SNAP,
    documentation:
      'Rows the snapshot reads ahead of the records handed out (its COPY of a table pauses there).',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'snapshot.include.collection.list',
    type: 'LIST',
    defaultValue: null,
    importance: 'LOW',
    group: G_SNAP,
    documentation: 'Regular expressions of `schema.table` names to snapshot; default all captured tables.',
    validator: regexList,
  })
  .define({
    name: 'signal.data.collection',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_SIGNAL,
    documentation:
      '`schema.table` of the signal table (`id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048)`). ' +
      'It must be in the publication; rows inserted into it are read from the WAL.',
  })
  .define({
    name: 'signal.enabled.channels',
    type: 'LIST',
    defaultValue: 'source',
    importance: 'LOW',
    group: G_SIGNAL,
    documentation:
      'Signal channels: `source` (rows inserted into `signal.data.collection`, read from the WAL) and `kafka` ' +
      "(records on `signal.kafka.topic`). Debezium's `file`, `jmx` and `in-process` channels are not implemented.",
    validator: signalChannels,
  })
  .define({
    name: 'signal.kafka.topic',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_SIGNAL,
    documentation:
      'Topic of the Kafka signal channel (default `<topic.prefix>-signal`; created with one partition when missing). ' +
      'Only partition 0 is read; a record counts when its key equals `topic.prefix`, and its value is JSON ' +
      '`{"id": …, "type": …, "data": {…}}`.',
  })
  .define({
    name: 'signal.kafka.bootstrap.servers',
    type: 'LIST',
    defaultValue: null,
    importance: 'LOW',
    group: G_SIGNAL,
    documentation:
      'Brokers (`host:port`, comma-separated) of the cluster holding the signal topic; required when `kafka` is in ' +
      '`signal.enabled.channels`. While they cannot be reached the task stays RUNNING with the error in its status ' +
      'trace, streaming waits, and the connection is retried with backoff.',
  })
  .define({
    name: 'signal.kafka.groupId',
    type: 'STRING',
    defaultValue: 'kafka-signal',
    importance: 'LOW',
    group: G_SIGNAL,
    documentation:
      "Consumer group of the signal reader. The position is kept in the connector's offsets " +
      '(`kafka_signal_offset`, written with the records a signal causes); the group offset is committed after them, ' +
      'and read at the first start (e.g. when taking over from Debezium).',
  })
  .define({
    name: 'signal.kafka.poll.timeout.ms',
    type: 'INT',
    defaultValue: 100,
    importance: 'LOW',
    group: G_SIGNAL,
    documentation: 'Longest one fetch of the signal topic waits for records.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'incremental.snapshot.chunk.size',
    type: 'INT',
    defaultValue: 1024,
    importance: 'MEDIUM',
    group: G_SIGNAL,
    documentation: 'Rows read per incremental snapshot chunk.',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'heartbeat.interval.ms',
    type: 'INT',
    defaultValue: 0,
    importance: 'MEDIUM',
    group: G_PIPE,
    documentation:
      'Emit a heartbeat to `<topic.heartbeat.prefix>.<topic.prefix>` this often (0 = never). Heartbeats carry the ' +
      'current position, so the slot advances while captured tables are idle.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'heartbeat.action.query',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_PIPE,
    documentation:
      'SQL run at each heartbeat (e.g. an UPDATE of a heartbeat table), to create traffic in an idle database.',
  })
  .define({
    name: 'topic.heartbeat.prefix',
    type: 'STRING',
    defaultValue: '__debezium-heartbeat',
    importance: 'LOW',
    group: G_PIPE,
    documentation: 'Prefix of the heartbeat topic.',
  })
  .define({
    name: 'max.batch.size',
    type: 'INT',
    defaultValue: 2048,
    importance: 'MEDIUM',
    group: G_PIPE,
    documentation: 'Most records returned by one poll.',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'max.queue.size',
    type: 'INT',
    defaultValue: 8192,
    importance: 'MEDIUM',
    group: G_PIPE,
    documentation:
      'Most replication messages buffered between the socket and poll; reading pauses when full. Must exceed max.batch.size.',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'poll.interval.ms',
    type: 'INT',
    defaultValue: 500,
    importance: 'LOW',
    group: G_PIPE,
    documentation: 'Longest a poll waits for changes when there are none.',
    validator: Range.atLeast(1),
  })
  // Sluice only: streaming of large in-progress transactions (pgoutput version 2), decision 0012.
  .define({
    name: 'pgoutput.streaming',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    group: G_PIPE,
    documentation:
      'Sluice only. On PostgreSQL 14 and later, ask pgoutput for protocol version 2 with streaming on: a ' +
      'transaction larger than the server’s logical_decoding_work_mem is sent while it runs, buffered by the ' +
      'task and emitted at its commit with the same events, order and offsets as version 1. false keeps ' +
      'version 1: the server decodes such a transaction on its own disk and sends it only after it commits.',
  })
  .define({
    name: 'pgoutput.streaming.buffer.bytes',
    type: 'LONG',
    defaultValue: 32 * 1024 * 1024,
    importance: 'LOW',
    group: G_PIPE,
    documentation:
      'Sluice only. Bytes of streamed, not yet committed transactions the task keeps in memory; beyond it the ' +
      'largest goes to a temporary file in the OS temp directory (TMPDIR), removed when the transaction was ' +
      'emitted or aborted, or the task stops.',
    validator: Range.atLeast(0),
  })

export type SnapshotMode = 'initial' | 'always' | 'initial_only' | 'no_data' | 'when_needed'

/** The parsed, frozen settings a task works with. */
export interface CdcSettings {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string | undefined
  readonly database: string
  readonly ssl: boolean
  readonly topicPrefix: string
  readonly pluginName: string
  readonly slotName: string
  readonly slotDropOnStop: boolean
  readonly slotMaxRetries: number
  readonly slotRetryDelayMs: number
  readonly statusIntervalMs: number
  readonly publicationName: string
  readonly publicationAutocreate: string
  readonly schemaInclude: RegExp[]
  readonly schemaExclude: RegExp[]
  readonly tableInclude: RegExp[]
  readonly tableExclude: RegExp[]
  readonly columnInclude: RegExp[]
  readonly columnExclude: RegExp[]
  readonly messageKeyColumns: { table: RegExp; columns: string[] }[]
  readonly skipped: ReadonlySet<string>
  readonly tombstonesOnDelete: boolean
  readonly extendedHeaders: boolean
  readonly decimalMode: 'precise' | 'double' | 'string'
  readonly timePrecisionMode:
    | 'adaptive'
    | 'adaptive_time_microseconds'
    | 'connect'
    | 'isostring'
    | 'microseconds'
    | 'nanoseconds'
  readonly intervalMode: 'numeric' | 'string'
  readonly binaryMode: 'bytes' | 'base64' | 'base64-url-safe' | 'hex'
  readonly hstoreMode: 'json' | 'map'
  readonly moneyFractionDigits: number
  readonly unavailablePlaceholder: string
  readonly includeUnknownTypes: boolean
  readonly provideTransactionMetadata: boolean
  readonly transactionTopic: string
  readonly snapshotMode: SnapshotMode
  readonly snapshotFetchSize: number
  readonly snapshotInclude: RegExp[]
  readonly signalTable: string | null
  readonly signalChannels: ReadonlySet<string>
  /** The Kafka signal channel, when enabled. */
  readonly kafkaSignal: {
    topic: string
    bootstrapServers: string[]
    groupId: string
    pollTimeoutMs: number
    /** `signal.consumer.*` with the prefix stripped. */
    consumer: Record<string, string>
  } | null
  readonly chunkSize: number
  readonly heartbeatIntervalMs: number
  readonly heartbeatActionQuery: string | null
  readonly heartbeatTopic: string
  readonly maxBatchSize: number
  readonly maxQueueSize: number
  readonly pollIntervalMs: number
  // Sluice only (decision 0012)
  readonly pgoutputStreaming: boolean
  readonly streamingBufferBytes: number
}

/**
 * Debezium's include/exclude lists match whole names, ignoring case (`Predicates.includes` compiles
 * each pattern with `Pattern.CASE_INSENSITIVE`).
 */
const full = (patterns: string[]): RegExp[] => patterns.map((p) => compileJavaRegex(`(?i)${p}`).whole)

/** Parses and checks keys across each other; throws a ConfigError naming the key. */
export function parseSettings(props: Readonly<Record<string, string>>): CdcSettings {
  const c = new AbstractConfig(postgresCdcConfigDef, props)
  const exclusive = (a: string, b: string): void => {
    if (c.getList(a).length > 0 && c.getList(b).length > 0) {
      throw new ConfigError(b, `${a} and ${b} cannot both be set: use one of them`)
    }
  }
  exclusive('schema.include.list', 'schema.exclude.list')
  exclusive('table.include.list', 'table.exclude.list')
  exclusive('column.include.list', 'column.exclude.list')
  if (c.getInt('max.queue.size') <= c.getInt('max.batch.size')) {
    throw new ConfigError(
      'max.queue.size',
      `max.queue.size (${c.getInt('max.queue.size')}) must be larger than max.batch.size (${c.getInt('max.batch.size')})`,
    )
  }
  const signalTable = c.getOptionalString('signal.data.collection')
  if (signalTable && !/^[^.]+\.[^.]+$/.test(signalTable)) {
    throw new ConfigError(
      'signal.data.collection',
      `signal.data.collection must name the table as <schema>.<table>, got '${signalTable}'`,
    )
  }
  const signalChannels = new Set(c.getList('signal.enabled.channels'))
  const consumer: Record<string, string> = {}
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith('signal.consumer.')) consumer[key.slice('signal.consumer.'.length)] = value
  }
  let kafkaSignal: CdcSettings['kafkaSignal'] = null
  if (signalChannels.has('kafka')) {
    const servers = c.getList('signal.kafka.bootstrap.servers').filter((x) => x.trim() !== '')
    if (servers.length === 0) {
      throw new ConfigError(
        'signal.kafka.bootstrap.servers',
        'signal.kafka.bootstrap.servers is required when signal.enabled.channels includes kafka: give the brokers ' +
          '(host:port) of the cluster holding the signal topic',
      )
    }
    checkTopicReaderProperties(consumer, 'signal.consumer.')
    kafkaSignal = {
      topic: c.getOptionalString('signal.kafka.topic') || `${c.getString('topic.prefix')}-signal`,
      bootstrapServers: servers.map((x) => x.trim()),
      groupId: c.getString('signal.kafka.groupId'),
      pollTimeoutMs: c.getInt('signal.kafka.poll.timeout.ms'),
      consumer,
    }
  }
  const skipped = new Set(c.getList('skipped.operations').filter((o) => o !== 'none'))
  const mode = c.getString('snapshot.mode')
  const snapshotMode = (mode === 'never' ? 'no_data' : mode === 'exported' ? 'initial' : mode) as SnapshotMode
  const sslmode = c.getString('database.sslmode')
  return Object.freeze({
    host: c.getString('database.hostname'),
    port: c.getInt('database.port'),
    user: c.getString('database.user'),
    password: c.getPassword('database.password')?.value,
    database: c.getString('database.dbname'),
    ssl: ['require', 'verify-ca', 'verify-full'].includes(sslmode),
    topicPrefix: c.getString('topic.prefix'),
    pluginName: c.getString('plugin.name'),
    slotName: c.getString('slot.name'),
    slotDropOnStop: c.getBoolean('slot.drop.on.stop'),
    slotMaxRetries: c.getInt('slot.max.retries'),
    slotRetryDelayMs: c.getLong('slot.retry.delay.ms'),
    statusIntervalMs: c.getInt('status.update.interval.ms'),
    publicationName: c.getString('publication.name'),
    publicationAutocreate: c.getString('publication.autocreate.mode'),
    schemaInclude: full(c.getList('schema.include.list')),
    schemaExclude: full(c.getList('schema.exclude.list')),
    tableInclude: full(c.getList('table.include.list')),
    tableExclude: full(c.getList('table.exclude.list')),
    columnInclude: full(c.getList('column.include.list')),
    columnExclude: full(c.getList('column.exclude.list')),
    messageKeyColumns: parseMessageKeyColumns(c.getOptionalString('message.key.columns')),
    skipped,
    tombstonesOnDelete: c.getBoolean('tombstones.on.delete'),
    extendedHeaders: c.getBoolean('extended.headers.enabled'),
    decimalMode: c.getString('decimal.handling.mode') as CdcSettings['decimalMode'],
    timePrecisionMode: c.getString('time.precision.mode') as CdcSettings['timePrecisionMode'],
    intervalMode: c.getString('interval.handling.mode') as CdcSettings['intervalMode'],
    binaryMode: c.getString('binary.handling.mode') as CdcSettings['binaryMode'],
    hstoreMode: c.getString('hstore.handling.mode') as CdcSettings['hstoreMode'],
    moneyFractionDigits: c.getInt('money.fraction.digits'),
    unavailablePlaceholder: c.getString('unavailable.value.placeholder'),
    includeUnknownTypes: c.getBoolean('include.unknown.datatypes'),
    provideTransactionMetadata: c.getBoolean('provide.transaction.metadata'),
    transactionTopic: `${c.getString('topic.prefix')}.${c.getString('topic.transaction')}`,
    snapshotMode,
    snapshotFetchSize: c.getInt('snapshot.fetch.size'),
    snapshotInclude: full(c.getList('snapshot.include.collection.list')),
    signalTable: signalTable || null,
    signalChannels,
    kafkaSignal,
    chunkSize: c.getInt('incremental.snapshot.chunk.size'),
    heartbeatIntervalMs: c.getInt('heartbeat.interval.ms'),
    heartbeatActionQuery: c.getOptionalString('heartbeat.action.query') || null,
    heartbeatTopic: `${c.getString('topic.heartbeat.prefix')}.${c.getString('topic.prefix')}`,
    maxBatchSize: c.getInt('max.batch.size'),
    maxQueueSize: c.getInt('max.queue.size'),
    pollIntervalMs: c.getInt('poll.interval.ms'),
    pgoutputStreaming: c.getBoolean('pgoutput.streaming'),
    streamingBufferBytes: c.getLong('pgoutput.streaming.buffer.bytes'),
  })
}

function parseMessageKeyColumns(text: string | null): { table: RegExp; columns: string[] }[] {
  if (!text) return []
  return text
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const colon = part.lastIndexOf(':')
      const columns =
        colon < 0
          ? []
          : part
              .slice(colon + 1)
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
      if (colon <= 0 || columns.length === 0) {
        throw new ConfigError(
          'message.key.columns',
          `message.key.columns entry '${part}' must look like <schema.table regex>:<column>[,<column>...]`,
        )
      }
      return { table: javaRegexFor('message.key.columns', part.slice(0, colon)).whole, columns }
    })
}
