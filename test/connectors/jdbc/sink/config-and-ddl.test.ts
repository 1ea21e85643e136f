import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Decimal } from '../../../../src/api/data/logical-types.ts'
import { SchemaBuilder } from '../../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../../src/api/data/struct.ts'
import { ConfigError, ConnectError } from '../../../../src/api/errors.ts'
import { SinkRecord } from '../../../../src/api/records.ts'
import {
  mysqlDialect,
  postgresDialect,
  sqliteDialect,
} from '../../../../src/connectors/jdbc/common/dialect.ts'
import {
  bindValue,
  columnTypeOf,
  copyText,
  formatTimestamp,
} from '../../../../src/connectors/jdbc/sink/column-kind.ts'
import { readSettings } from '../../../../src/connectors/jdbc/sink/config.ts'
import {
  DebeziumJdbcSinkConnector,
  JdbcSinkConnector,
} from '../../../../src/connectors/jdbc/sink/connectors.ts'
import { createTableSql, sqlType } from '../../../../src/connectors/jdbc/sink/ddl.ts'
import { insertSql } from '../../../../src/connectors/jdbc/sink/dml.ts'
import { JdbcSinkTask } from '../../../../src/connectors/jdbc/sink/sink-task.ts'

const URL = 'jdbc:postgresql://127.0.0.1:5432/db'
const errorsOf = (values: { name: string; errors: string[] }[]) =>
  Object.fromEntries(values.filter((v) => v.errors.length > 0).map((v) => [v.name, v.errors.join(' ')]))

describe('JDBC sink config', () => {
  test('delete.enabled=true without pk.mode=record_key is an error on delete.enabled that says how to fix it', () => {
    const errors = errorsOf(
      new JdbcSinkConnector().validate({
        'connection.url': URL,
        'delete.enabled': 'true',
        'pk.mode': 'none',
      }),
    )
    assert.match(errors['delete.enabled'] ?? '', /needs pk\.mode=record_key/)
    assert.throws(
      () =>
        readSettings('confluent', { 'connection.url': URL, 'delete.enabled': 'true', 'pk.mode': 'kafka' }),
      (e: unknown) => e instanceof ConfigError && e.key === 'delete.enabled',
    )
  })

  test('upsert without a key, bad enums, a bad URL and a bad time zone are named by key', () => {
    const errors = errorsOf(
      new JdbcSinkConnector().validate({ 'connection.url': URL, 'insert.mode': 'upsert' }),
    )
    assert.match(errors['insert.mode'] ?? '', /needs a primary key/)
    const more = errorsOf(
      new JdbcSinkConnector().validate({
        'connection.url': 'jdbc:oracle:thin:@h:1521:x',
        'pk.mode': 'sometimes',
        'db.timezone': 'Mars/Olympus',
      }),
    )
    assert.match(more['pk.mode'] ?? '', /one of/)
    assert.match(more['db.timezone'] ?? '', /unknown time zone/)
    const url = errorsOf(new JdbcSinkConnector().validate({ 'connection.url': 'jdbc:oracle:thin:@h:1521:x' }))
    assert.match(url['connection.url'] ?? '', /unsupported database/)
    assert.match(
      errorsOf(new JdbcSinkConnector().validate({}))['connection.url'] ?? '',
      /no default value|required/i,
    )
  })

  test('Debezium keys map onto the same settings, with its defaults', () => {
    const s = readSettings('debezium', {
      'connection.url': URL,
      'connection.username': 'u',
      'connection.password': 'p',
      'primary.key.mode': 'record_key',
      'delete.enabled': 'true',
      'schema.evolution': 'basic',
      'insert.mode': 'upsert',
    })
    assert.equal(s.user, 'u')
    assert.equal(s.password, 'p')
    assert.equal(s.batchSize, 500)
    assert.equal(s.autoCreate && s.autoEvolve, true)
    assert.equal(s.quoteIdentifiers, false)
    assert.equal(s.tableNameFormat, '$' + '{topic}')
    const errors = errorsOf(
      new DebeziumJdbcSinkConnector().validate({ 'connection.url': URL, 'delete.enabled': 'true' }),
    )
    assert.match(errors['delete.enabled'] ?? '', /primary\.key\.mode=record_key/)
  })
})

describe('JDBC sink DDL and statements', () => {
  const col = (schema: ReturnType<typeof SchemaBuilder.prototype.build>, isKey = false) => ({
    schema,
    type: columnTypeOf(schema, 'f'),
    isKey,
  })

  test('Decimal columns keep the precision and scale of the schema, or the default precision', () => {
    const withPrecision = Decimal.builder(3).parameter('connect.decimal.precision', '12').build()
    assert.equal(sqlType('postgresql', col(withPrecision), 65), 'DECIMAL(12,3)')
    assert.equal(sqlType('mysql', col(Decimal.schema(2)), 65), 'DECIMAL(65,2)')
    assert.equal(sqlType('sqlite', col(Decimal.schema(2)), 65), 'NUMERIC')
  })

  test('string and bytes keys are bounded on MySQL, unbounded values elsewhere', () => {
    assert.equal(sqlType('mysql', col(SchemaBuilder.string().build(), true), 65), 'VARCHAR(255)')
    assert.equal(sqlType('mysql', col(SchemaBuilder.string().build()), 65), 'LONGTEXT')
    assert.equal(sqlType('mysql', col(SchemaBuilder.bytes().build(), true), 65), 'VARBINARY(255)')
    assert.equal(sqlType('postgresql', col(SchemaBuilder.string().build(), true), 65), 'TEXT')
    assert.throws(
      () => columnTypeOf(SchemaBuilder.struct().build(), 'nested'),
      /field 'nested' has type STRUCT/,
    )
  })

  test('CREATE TABLE: optional → NULL, required → NOT NULL, defaults, primary key; identifiers escaped', () => {
    const q = postgresDialect.quoteIdentifier
    const sql = createTableSql(
      'postgresql',
      q('t"x'),
      q,
      [
        { name: 'id', ...col(SchemaBuilder.int64().build(), true) },
        { name: 'n"ote', ...col(SchemaBuilder.string().optional().build()) },
        { name: 'ok', ...col(SchemaBuilder.bool().defaultValue(true).build()) },
      ],
      65,
    )
    assert.equal(
      sql,
      'CREATE TABLE IF NOT EXISTS "t""x" (\n"id" BIGINT NOT NULL,\n"n""ote" TEXT NULL,\n"ok" BOOLEAN DEFAULT TRUE NOT NULL,\nPRIMARY KEY("id"))',
    )
  })

  test('multi-row upserts per dialect', () => {
    assert.equal(
      insertSql(postgresDialect, '"t"', postgresDialect.quoteIdentifier, ['k', 'a'], 1, 2, true),
      'INSERT INTO "t" ("k","a") VALUES ($1,$2),($3,$4) ON CONFLICT ("k") DO UPDATE SET "a"=EXCLUDED."a"',
    )
    assert.equal(
      insertSql(mysqlDialect, '`t`', mysqlDialect.quoteIdentifier, ['k', 'a'], 1, 1, true),
      'INSERT INTO `t` (`k`,`a`) VALUES (?,?) ON DUPLICATE KEY UPDATE `a`=VALUES(`a`)',
    )
    assert.equal(
      insertSql(sqliteDialect, '"t"', sqliteDialect.quoteIdentifier, ['k'], 1, 1, true),
      'INSERT INTO "t" ("k") VALUES (?) ON CONFLICT ("k") DO NOTHING',
    )
  })

  test('timestamps are written as wall-clock time in db.timezone', () => {
    const micros = BigInt(Date.UTC(2024, 0, 15, 12, 0, 0, 250)) * 1000n + 7n
    assert.equal(formatTimestamp(micros, 'UTC'), '2024-01-15 12:00:00.250007')
    assert.equal(formatTimestamp(micros, 'Europe/Paris'), '2024-01-15 13:00:00.250007')
    assert.equal(formatTimestamp(micros, 'America/New_York'), '2024-01-15 07:00:00.250007')
    const at = new Date(Date.UTC(2024, 6, 15, 12, 0, 0, 250))
    const ts = { kind: 'timestamp' as const }
    assert.equal(bindValue(ts, at, { dialect: 'postgresql', timezone: 'UTC' }), '2024-07-15 12:00:00.250000')
    assert.equal(
      bindValue(ts, at, { dialect: 'mysql', timezone: 'Europe/Paris' }),
      '2024-07-15 14:00:00.250000',
    )
    assert.equal(
      bindValue({ kind: 'timestamp', unit: 'us' }, 1_721_044_800_250_007, {
        dialect: 'sqlite',
        timezone: 'UTC',
      }),
      '2024-07-15 12:00:00.250007',
    )
  })

  test('COPY text escapes backslashes and control characters, writes NULL as \\N and bytes as hex', () => {
    assert.equal(copyText('a\\b\tc\nd'), 'a\\\\b\\tc\\nd')
    assert.equal(copyText(null), '\\N')
    assert.equal(copyText(Buffer.from([1, 255])), '\\\\x01ff')
    assert.equal(copyText(false), 'f')
  })
})

describe('JDBC sink connection failures', () => {
  test('an unreachable database is retried every retry.backoff.ms, then fails the task after max.retries', async () => {
    const task = new JdbcSinkTask()
    task.initialize({
      configs: () => ({}),
      offset: () => {},
      timeout: () => {},
      assignment: () => [],
      pause: () => {},
      resume: () => {},
      requestCommit: () => {},
      errantRecordReporter: () => null,
    })
    task.start({
      'connection.url': 'jdbc:postgresql://127.0.0.1:1/nowhere',
      'connection.attempts': '1',
      'max.retries': '2',
      'retry.backoff.ms': '300',
    })
    const schema = SchemaBuilder.struct().field('id', SchemaBuilder.int32().build()).build()
    const records = [
      new SinkRecord({
        topic: 't',
        kafkaPartition: 0,
        kafkaOffset: 0,
        valueSchema: schema,
        value: new Struct(schema).put('id', 1),
      }),
    ]
    const started = Date.now()
    await task.put(records)
    await assert.rejects(
      task.flush(new Map()),
      (e: unknown) =>
        e instanceof ConnectError && !e.retriable && /giving up after 2 retries/.test(e.message),
    )
    assert.ok(Date.now() - started >= 600, 'two waits of retry.backoff.ms')
    await assert.rejects(task.put(records), /giving up/, 'the task stays failed')
    await task.stop()
  })
})
