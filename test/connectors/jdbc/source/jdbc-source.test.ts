/**
 * The JDBC source's pieces against Confluent's behaviour: config keys and defaults, the SQL of each
 * mode, offsets, timestamps with nanoseconds, type mapping, task grouping, and the conservative
 * timestamp offsets on a real SQLite file.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, describe, test } from 'node:test'
import type { OffsetMap } from '../../../../src/api/records.ts'
import { openConnection } from '../../../../src/connectors/jdbc/common/connection.ts'
import {
  mysqlDialect,
  postgresDialect,
  sqliteDialect,
} from '../../../../src/connectors/jdbc/common/dialect.ts'
import { JdbcSourceConfig, jdbcSourceConfigDef } from '../../../../src/connectors/jdbc/source/config.ts'
import { JdbcSourceConnector } from '../../../../src/connectors/jdbc/source/connector.ts'
import { offsetFromMap, offsetToMap } from '../../../../src/connectors/jdbc/source/offsets.ts'
import { buildQuery } from '../../../../src/connectors/jdbc/source/query-builder.ts'
import { buildRowMapping } from '../../../../src/connectors/jdbc/source/schema-mapping.ts'
import {
  formatTimestamp,
  parseTimestamp,
  zoneOffsetMs,
} from '../../../../src/connectors/jdbc/source/sql-time.ts'
import { TableQuerier } from '../../../../src/connectors/jdbc/source/table-querier.ts'
import { configProblems } from '../../../../src/connectors/jdbc/source/validation.ts'
import { builtInPlugins } from '../../../../src/plugins/built-ins.ts'

describe('JDBC source config', () => {
  test('has Confluent’s keys and defaults', () => {
    const defaults = Object.fromEntries(
      jdbcSourceConfigDef.configKeys().map((k) => [k.name, k.required ? 'REQUIRED' : k.defaultValue]),
    )
    assert.deepEqual(
      {
        'connection.url': defaults['connection.url'],
        'connection.attempts': defaults['connection.attempts'],
        'connection.backoff.ms': defaults['connection.backoff.ms'],
        mode: defaults.mode,
        'poll.interval.ms': defaults['poll.interval.ms'],
        'batch.max.rows': defaults['batch.max.rows'],
        'table.poll.interval.ms': defaults['table.poll.interval.ms'],
        'table.types': defaults['table.types'],
        'validate.non.null': defaults['validate.non.null'],
        'timestamp.delay.interval.ms': defaults['timestamp.delay.interval.ms'],
        'db.timezone': defaults['db.timezone'],
        'quote.sql.identifiers': defaults['quote.sql.identifiers'],
        'numeric.mapping': defaults['numeric.mapping'],
        'timestamp.initial': defaults['timestamp.initial'],
        'topic.prefix': defaults['topic.prefix'],
        'query.retry.attempts': defaults['query.retry.attempts'],
      },
      {
        'connection.url': '',
        'connection.attempts': 3,
        'connection.backoff.ms': 10000,
        mode: '',
        'poll.interval.ms': 5000,
        'batch.max.rows': 1000,
        'table.poll.interval.ms': 60000,
        'table.types': ['TABLE'],
        'validate.non.null': true,
        'timestamp.delay.interval.ms': 0,
        'db.timezone': 'UTC',
        'quote.sql.identifiers': 'always',
        'numeric.mapping': null,
        'timestamp.initial': null,
        'topic.prefix': '',
        'query.retry.attempts': -1,
      },
    )
  })

  test('answers to the Java class name and the short names', () => {
    const plugins = builtInPlugins()
    for (const name of [
      'io.confluent.connect.jdbc.JdbcSourceConnector',
      'JdbcSourceConnector',
      'JdbcSource',
    ]) {
      assert.equal(
        plugins.resolve(name, ['source'], 'connector.class').className,
        'io.confluent.connect.jdbc.JdbcSourceConnector',
      )
    }
  })

  test('problems name the key and the fix', () => {
    const problems = (props: Record<string, string>) =>
      configProblems(new JdbcSourceConfig({ 'connection.url': 'jdbc:sqlite:/tmp/x.db', ...props }))
    assert.deepEqual(
      problems({}).map(([k]) => k),
      ['mode'],
    )
    const [[key, message]] = problems({ mode: 'timestamp' })
    assert.equal(key, 'timestamp.column.name')
    assert.match(message, /mode=timestamp needs timestamp.column.name/)
    assert.deepEqual(
      problems({ mode: 'bulk', 'table.whitelist': 'a', 'table.blacklist': 'b' }).map(([k]) => k),
      ['table.whitelist', 'table.blacklist'],
    )
    assert.deepEqual(
      problems({ mode: 'bulk', 'table.exclude.list': 'x.*' }).map(([k]) => k),
      ['table.exclude.list'],
    )
    assert.deepEqual(
      problems({ mode: 'incrementing', query: 'SELECT * FROM t' }).map(([k]) => k),
      ['incrementing.column.name'],
    )
    const bad = configProblems(
      new JdbcSourceConfig({ 'connection.url': 'jdbc:oracle:thin:@h:1521:x', mode: 'bulk' }),
    )
    assert.equal(bad[0][0], 'connection.url')
    assert.match(bad[0][1], /unsupported database 'oracle'/)
    assert.throws(() => new JdbcSourceConfig({ 'topic.prefix': 'bad prefix!' }), /topic.prefix/)
    assert.throws(() => new JdbcSourceConfig({ 'db.timezone': 'Mars/Olympus' }), /db.timezone/)
    assert.throws(() => new JdbcSourceConfig({ mode: 'snapshot' }), /mode/)
  })
})

describe('SQL per mode (Confluent’s TimestampIncrementingCriteria)', () => {
  const base = { quote: true, timestampColumns: ['modified'], suffix: '' }
  test('PostgreSQL', () => {
    const table = { schema: 'public', table: 'orders' }
    assert.equal(
      buildQuery({ ...base, mode: 'bulk', dialect: postgresDialect, table }).sql,
      'SELECT * FROM "public"."orders"',
    )
    assert.deepEqual(
      buildQuery({
        ...base,
        mode: 'incrementing',
        dialect: postgresDialect,
        table,
        incrementingColumn: 'id',
      }),
      {
        sql: 'SELECT * FROM "public"."orders" WHERE "id" > $1 ORDER BY "id" ASC',
        params: ['incrementing'],
      },
    )
    assert.deepEqual(buildQuery({ ...base, mode: 'timestamp', dialect: postgresDialect, table }), {
      sql: 'SELECT * FROM "public"."orders" WHERE "modified" > $1 AND "modified" < $2 ORDER BY "modified" ASC',
      params: ['begin', 'end'],
    })
    assert.deepEqual(
      buildQuery({
        ...base,
        mode: 'timestamp+incrementing',
        dialect: postgresDialect,
        table,
        incrementingColumn: 'id',
        timestampColumns: ['updated', 'created'],
        suffix: 'LIMIT 100',
      }),
      {
        sql:
          'SELECT * FROM "public"."orders" WHERE COALESCE("updated", "created") < $1 AND ' +
          '((COALESCE("updated", "created") = $2 AND "id" > $3) OR COALESCE("updated", "created") > $4) ' +
          'ORDER BY COALESCE("updated", "created"),"id" ASC LIMIT 100',
        params: ['end', 'begin', 'incrementing', 'begin'],
      },
    )
  })
  test('incrementing with wait.for.open.transactions bounds the ids from above', () => {
    assert.deepEqual(
      buildQuery({
        ...base,
        mode: 'incrementing',
        dialect: postgresDialect,
        table: { schema: 'public', table: 'o' },
        incrementingColumn: 'id',
        incrementingUpperBound: true,
      }),
      {
        sql: 'SELECT * FROM "public"."o" WHERE "id" > $1 AND "id" <= $2 ORDER BY "id" ASC',
        params: ['incrementing', 'incrementingUpper'],
      },
    )
  })
  test('MySQL, SQLite, a custom query, unquoted identifiers', () => {
    assert.equal(
      buildQuery({
        ...base,
        mode: 'incrementing',
        dialect: mysqlDialect,
        table: { catalog: 'shop', table: 'o' },
        incrementingColumn: 'id',
      }).sql,
      'SELECT * FROM `shop`.`o` WHERE `id` > ? ORDER BY `id` ASC',
    )
    assert.equal(
      buildQuery({ ...base, mode: 'timestamp', dialect: sqliteDialect, table: { table: 'o' } }).sql,
      `SELECT * FROM "o" WHERE strftime('%Y-%m-%d %H:%M:%f', "modified") > ? AND strftime('%Y-%m-%d %H:%M:%f', "modified") < ? ` +
        `ORDER BY strftime('%Y-%m-%d %H:%M:%f', "modified") ASC`,
    )
    assert.equal(
      buildQuery({
        ...base,
        quote: false,
        mode: 'incrementing',
        dialect: postgresDialect,
        query: 'SELECT id, x FROM t',
        incrementingColumn: 'id',
      }).sql,
      'SELECT id, x FROM t WHERE id > $1 ORDER BY id ASC',
    )
  })
})

describe('offsets', () => {
  test('are Confluent’s maps and read back Confluent’s', () => {
    const offset = offsetFromMap({ timestamp: 1714557600123, timestamp_nanos: 123456789, incrementing: 42 })
    assert.deepEqual(offset.timestamp, { seconds: 1714557600, nanos: 123456789 })
    assert.equal(offset.incrementing, 42n)
    assert.deepEqual(offsetToMap(offset), {
      incrementing: 42,
      timestamp: 1714557600123,
      timestamp_nanos: 123456789,
    })
    assert.deepEqual(offsetToMap(offsetFromMap({ incrementing: 7 })), { incrementing: 7 })
    assert.deepEqual(offsetFromMap(null), {})
  })
})

describe('timestamps', () => {
  test('keep microseconds through parse and format, in any zone', () => {
    const ts = parseTimestamp('2024-05-01 10:00:00.123456', 'UTC')
    assert.deepEqual(ts, { seconds: Date.UTC(2024, 4, 1, 10) / 1000, nanos: 123456000 })
    assert.equal(formatTimestamp(ts, 'UTC', 6), '2024-05-01 10:00:00.123456')
    assert.deepEqual(parseTimestamp('2024-05-01 12:00:00.123456+02', 'UTC'), ts)
    assert.deepEqual(parseTimestamp('2024-05-01T10:00:00.123456Z', 'Europe/Paris'), ts)
    const paris = parseTimestamp('2024-05-01 12:00:00.123456', 'Europe/Paris')
    assert.deepEqual(paris, ts)
    assert.equal(formatTimestamp(ts, 'Europe/Paris', 6), '2024-05-01 12:00:00.123456')
    assert.equal(zoneOffsetMs('America/New_York', Date.UTC(2024, 0, 1)), -5 * 3600_000)
    // The fast path for zoneless UTC text agrees with the general one (which an explicit Z takes).
    for (const text of [
      '2024-05-01 10:00:00',
      '2024-05-01 10:00:00.5',
      '2024-05-01T10:00:00.123456789',
      '1999-12-31 23:59:59.999',
    ]) {
      assert.deepEqual(parseTimestamp(text, 'UTC'), parseTimestamp(`${text}Z`, 'UTC'), text)
    }
  })
})

describe('type mapping', () => {
  const map = (type: string, extra: Record<string, unknown> = {}, mapping = 'none' as const) =>
    buildRowMapping({
      dialect: 'postgresql',
      columns: [{ name: 'c', type, ...extra }],
      numericMapping: mapping,
      zone: 'UTC',
      schemaName: 't',
    })
  test('numeric.mapping follows Confluent’s table', () => {
    const field = (
      type: string,
      p: number,
      s: number,
      m: 'none' | 'precision_only' | 'best_fit' | 'best_fit_eager_double',
    ) =>
      buildRowMapping({
        dialect: 'postgresql',
        columns: [{ name: 'c', type, precision: p, scale: s }],
        numericMapping: m,
        zone: 'UTC',
      }).schema.fields[0].schema
    assert.equal(field('numeric', 10, 2, 'none').name, 'org.apache.kafka.connect.data.Decimal')
    assert.deepEqual(field('numeric', 10, 2, 'none').parameters, {
      scale: '2',
      'connect.decimal.precision': '10',
    })
    assert.equal(field('numeric', 4, 0, 'precision_only').type, 'INT16')
    assert.equal(field('numeric', 10, 0, 'best_fit').type, 'INT64')
    assert.equal(field('numeric', 10, 2, 'best_fit').type, 'FLOAT64')
    assert.equal(field('numeric', 30, 2, 'best_fit').name, 'org.apache.kafka.connect.data.Decimal')
    assert.equal(field('numeric', 30, 2, 'best_fit_eager_double').type, 'FLOAT64')
  })
  test('values convert from the drivers’ raw forms', () => {
    assert.equal(map('int8').toStruct(['9007199254740993']).get('c'), 9007199254740993n)
    assert.equal(map('bool').toStruct([true]).get('c'), true)
    assert.equal(
      (
        map('numeric', { precision: 10, scale: 2 }).toStruct(['10.5']).get('c') as { toString(): string }
      ).toString(),
      '10.50',
    )
    assert.deepEqual(map('_int4').toStruct(['{1,NULL,3}']).get('c'), [1, null, 3])
    assert.equal(
      (map('timestamp').toStruct(['2024-05-01 10:00:00.5']).get('c') as Date).toISOString(),
      '2024-05-01T10:00:00.500Z',
    )
    assert.equal(
      (map('date').toStruct(['2024-05-01']).get('c') as Date).toISOString(),
      '2024-05-01T00:00:00.000Z',
    )
    assert.equal((map('time').toStruct(['10:00:01.25']).get('c') as Date).getTime(), 36_001_250)
    assert.equal(map('jsonb').toStruct(['{"a": 1}']).get('c'), '{"a": 1}')
    assert.equal(map('int4').schema.name, 't')
  })
})

describe('tasks', () => {
  test('spread tables in contiguous groups over at most tasks.max tasks (ConnectorUtils.groupPartitions)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-jdbc-groups-'))
    after(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'db.sqlite')
    const db = new DatabaseSync(path)
    for (const t of ['a', 'b', 'c', 'd', 'e']) db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY)`)
    db.close()
    const connector = new JdbcSourceConnector()
    connector.initialize({ requestTaskReconfiguration() {}, raiseError() {} })
    await connector.start({
      'connection.url': `jdbc:sqlite:${path}`,
      mode: 'bulk',
      'table.poll.interval.ms': '0',
    })
    const groups = connector
      .taskConfigs(3)
      .map((p) => (JSON.parse(p.tables) as { table: string }[]).map((t) => t.table))
    assert.deepEqual(groups, [['a', 'b'], ['c', 'd'], ['e']])
    assert.equal(connector.taskConfigs(10).length, 5)
    await connector.stop()
  })
})

describe('timestamp mode offsets on rows sharing a timestamp', () => {
  test('a record carries its own timestamp only once the next row is strictly later (no loss on restart)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-jdbc-ts-'))
    after(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'db.sqlite')
    const setup = new DatabaseSync(path)
    setup.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, modified TIMESTAMP NOT NULL)')
    const times = [
      '2024-01-01 00:00:01',
      '2024-01-01 00:00:01',
      '2024-01-01 00:00:02',
      '2024-01-01 00:00:02',
      '2024-01-01 00:00:03',
    ]
    for (const t of times) setup.prepare('INSERT INTO t (modified) VALUES (?)').run(t)
    setup.close()
    const db = await openConnection({ dialect: 'sqlite', path, properties: {} })
    const querier = new TableQuerier(
      {
        dialect: 'sqlite',
        mode: 'timestamp',
        table: { table: 't' },
        topic: 't',
        partition: { table: 't', protocol: '1' },
        timestampColumns: ['modified'],
        suffix: '',
        quote: true,
        numericMapping: 'none',
        zone: 'UTC',
        delayMs: 0,
        pollIntervalMs: 0,
        batchMaxRows: 2,
      },
      {},
    )
    const offsets: OffsetMap[] = []
    for (;;) {
      const { records, done } = await querier.poll(db)
      offsets.push(...records.map((r) => r.sourceOffset!))
      if (done) break
    }
    await db.close()
    const second = (s: number) => ({ timestamp: Date.UTC(2024, 0, 1, 0, 0, s), timestamp_nanos: 0 })
    // Rows T1,T1,T2,T2,T3 carry T0,T1,T1,T2,T3 (Confluent PR #1093).
    assert.deepEqual(offsets, [
      { timestamp: 0, timestamp_nanos: 0 },
      second(1),
      second(1),
      second(2),
      second(3),
    ])
  })
})
