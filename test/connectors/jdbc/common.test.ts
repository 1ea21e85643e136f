import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { ConfigError, RetriableError } from '../../../src/api/errors.ts'
import {
  type DbConnection,
  openConnection,
  parsePostgresArray,
} from '../../../src/connectors/jdbc/common/connection.ts'
import {
  dialectFor,
  mysqlDialect,
  postgresDialect,
  sqliteDialect,
} from '../../../src/connectors/jdbc/common/dialect.ts'
import { parseJdbcUrl } from '../../../src/connectors/jdbc/common/url.ts'
import { freshMariadbDatabase, freshPostgresDatabase } from '../../helpers/databases.ts'
import { mariadbSkipReason, postgresSkipReason } from '../../helpers/services.ts'

describe('JDBC URLs', () => {
  test('PostgreSQL URLs with properties; separate user/password keys win', () => {
    assert.deepEqual(
      parseJdbcUrl('jdbc:postgresql://db.example:6543/shop?user=u&password=p&sslmode=require'),
      {
        dialect: 'postgresql',
        host: 'db.example',
        port: 6543,
        database: 'shop',
        user: 'u',
        password: 'p',
        properties: { sslmode: 'require' },
      },
    )
    const location = parseJdbcUrl('jdbc:postgresql://h/shop?user=u', { user: 'other', password: 'secret' })
    assert.equal(location.dialect === 'postgresql' && location.port, 5432)
    assert.equal(location.dialect !== 'sqlite' && location.user, 'other')
    assert.equal(location.dialect !== 'sqlite' && location.password, 'secret')
  })

  test('MySQL and MariaDB URLs share the mysql dialect; IPv6 hosts', () => {
    const mysql = parseJdbcUrl('jdbc:mysql://127.0.0.1/inventory')
    const mariadb = parseJdbcUrl('jdbc:mariadb://[::1]:3307/inventory')
    assert.equal(mysql.dialect === 'mysql' && mysql.port, 3306)
    assert.equal(mariadb.dialect === 'mysql' && mariadb.host, '::1')
    assert.equal(mariadb.dialect === 'mysql' && mariadb.port, 3307)
  })

  test('SQLite file paths and memory', () => {
    assert.deepEqual(parseJdbcUrl('jdbc:sqlite:/var/data/app.db'), {
      dialect: 'sqlite',
      path: '/var/data/app.db',
      properties: {},
    })
    assert.deepEqual(parseJdbcUrl('jdbc:sqlite::memory:'), {
      dialect: 'sqlite',
      path: ':memory:',
      properties: {},
    })
  })

  test('bad URLs are config errors naming the key, with examples and no password', () => {
    assert.throws(
      () => parseJdbcUrl('jdbc:oracle:thin:@host:1521:orcl', { key: 'connection.url' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === 'connection.url' &&
        /unsupported database 'oracle'/.test(e.message) &&
        /jdbc:postgresql:\/\//.test(e.message),
    )
    assert.throws(
      () => parseJdbcUrl(''),
      (e: unknown) => e instanceof ConfigError && /is empty/.test(e.message),
    )
    assert.throws(
      () => parseJdbcUrl('jdbc:postgresql:///db?password=hunter2'),
      (e: unknown) =>
        e instanceof ConfigError && /names no host/.test(e.message) && !e.message.includes('hunter2'),
    )
  })
})

describe('dialects', () => {
  test('identifiers are always escaped, never trusted', () => {
    const evil = 'x"; DROP TABLE y; --'
    assert.equal(postgresDialect.quoteIdentifier(evil), '"x""; DROP TABLE y; --"')
    assert.equal(sqliteDialect.quoteIdentifier(evil), '"x""; DROP TABLE y; --"')
    assert.equal(mysqlDialect.quoteIdentifier('a`b'), '`a``b`')
  })

  test('qualified names split outside quotes and print back', () => {
    assert.deepEqual(postgresDialect.parseTableId('public.orders'), { schema: 'public', table: 'orders' })
    assert.deepEqual(postgresDialect.parseTableId('"my.schema"."odd""name"'), {
      schema: 'my.schema',
      table: 'odd"name',
    })
    assert.deepEqual(mysqlDialect.parseTableId('shop.orders'), { catalog: 'shop', table: 'orders' })
    assert.deepEqual(sqliteDialect.parseTableId('orders'), { table: 'orders' })
    assert.equal(postgresDialect.quoteTable({ schema: 'public', table: 'a"b' }), '"public"."a""b"')
    assert.equal(mysqlDialect.tableName({ catalog: 'shop', table: 'orders' }), 'shop.orders')
    assert.equal(dialectFor('postgresql').placeholder(3), '$3')
    assert.equal(dialectFor('mysql').placeholder(3), '?')
  })

  test('PostgreSQL array literals', () => {
    assert.deepEqual(parsePostgresArray('{1,2,NULL}'), ['1', '2', null])
    assert.deepEqual(parsePostgresArray('{{"a b","c\\"d"},{e,f}}'), [
      ['a b', 'c"d'],
      ['e', 'f'],
    ])
    assert.deepEqual(parsePostgresArray('{}'), [])
    assert.deepEqual(parsePostgresArray('[0:1]={x,y}'), ['x', 'y'])
  })
})

/** The same checks on every driver. */
async function exerciseConnection(connection: DbConnection, create: string): Promise<void> {
  const d = connection.dialect
  const t = d.quoteIdentifier('odd "table"')
  await connection.execute(create.replace('$T', t))
  const p = (i: number) => d.placeholder(i)
  assert.equal(
    await connection.execute(`INSERT INTO ${t} (id, amount, note) VALUES (${p(1)}, ${p(2)}, ${p(3)})`, [
      1,
      '12.50',
      'one',
    ]),
    1,
  )
  // A failed transaction leaves nothing behind.
  await assert.rejects(
    connection.transaction(async () => {
      await connection.execute(`INSERT INTO ${t} (id, amount, note) VALUES (${p(1)}, ${p(2)}, ${p(3)})`, [
        2,
        '1.00',
        'two',
      ])
      await connection.execute(`INSERT INTO ${t} (id, amount, note) VALUES (${p(1)}, ${p(2)}, ${p(3)})`, [
        1,
        '1.00',
        'dup',
      ])
    }),
  )
  await connection.transaction(async () => {
    for (let i = 10; i < 35; i++) {
      await connection.execute(`INSERT INTO ${t} (id, amount, note) VALUES (${p(1)}, ${p(2)}, ${p(3)})`, [
        i,
        `${i}.25`,
        null,
      ])
    }
  })
  const all = await connection.query(`SELECT id, amount, note FROM ${t} ORDER BY id`)
  assert.deepEqual(
    all.columns.map((c) => c.name),
    ['id', 'amount', 'note'],
  )
  assert.equal(all.rows.length, 26)
  assert.equal(all.rows[0]?.[1], '12.50')
  assert.equal(all.rows[0]?.[2], 'one')
  const batches: number[] = []
  for await (const batch of connection.stream(
    `SELECT id FROM ${t} WHERE id >= ${p(1)} ORDER BY id`,
    [10],
    10,
  )) {
    assert.deepEqual(
      batch.columns.map((c) => c.name),
      ['id'],
    )
    batches.push(batch.rows.length)
  }
  assert.deepEqual(batches, [10, 10, 5])
  // The connection is usable after a stream.
  assert.equal((await connection.query(`SELECT count(*) FROM ${t}`)).rows.length, 1)
}

test('[integration] PostgreSQL connections: text values, numeric precision, cursors, transactions', {
  skip: postgresSkipReason(),
}, async () => {
  const db = await freshPostgresDatabase('jdbc_common')
  after(() => db.drop())
  const connection = await openConnection(parseJdbcUrl(db.jdbcUrl))
  try {
    await exerciseConnection(
      connection,
      'CREATE TABLE $T (id int PRIMARY KEY, amount numeric(10,2), note varchar(20))',
    )
    const typed = await connection.query(
      "SELECT 12345678901234567::int8, 1.10::numeric(5,2), true, '\\x0102'::bytea, '{1,2}'::int4[], now()::timestamptz, 'x'::varchar(7)",
    )
    assert.deepEqual(
      typed.columns.map((c) => c.type),
      ['int8', 'numeric', 'bool', 'bytea', '_int4', 'timestamptz', 'varchar'],
    )
    assert.deepEqual(
      [typed.columns[1]?.precision, typed.columns[1]?.scale, typed.columns[6]?.precision],
      [5, 2, 7],
    )
    const row = typed.rows[0] ?? []
    assert.equal(row[0], '12345678901234567')
    assert.equal(row[1], '1.10')
    assert.equal(row[2], true)
    assert.deepEqual(row[3], Buffer.from([1, 2]))
    assert.equal(row[4], '{1,2}')
    // A user-defined type is named by pg_type.
    await connection.execute("CREATE TYPE mood AS ENUM ('ok', 'sad')")
    assert.equal((await connection.query("SELECT 'ok'::mood")).columns[0]?.type, 'mood')
  } finally {
    await connection.close()
  }
})

test('[integration] MariaDB connections: decimals as strings, streaming, transactions', {
  skip: mariadbSkipReason(),
}, async () => {
  const db = await freshMariadbDatabase('jdbc_common')
  after(() => db.drop())
  const connection = await openConnection(parseJdbcUrl(db.jdbcUrl))
  try {
    await exerciseConnection(
      connection,
      'CREATE TABLE $T (id int PRIMARY KEY, amount decimal(10,2), note varchar(20)) ENGINE=InnoDB',
    )
    const typed = await connection.query(
      'SELECT CAST(12345678901234567 AS SIGNED), CAST(1.10 AS DECIMAL(5,2)), CAST(NOW() AS DATETIME)',
    )
    assert.equal(typed.rows[0]?.[0], '12345678901234567')
    assert.equal(typed.rows[0]?.[1], '1.10')
    assert.deepEqual(
      [typed.columns[1]?.type, typed.columns[1]?.precision, typed.columns[1]?.scale],
      ['newdecimal', 5, 2],
    )
    assert.equal(typeof typed.rows[0]?.[2], 'string')
  } finally {
    await connection.close()
  }
})

test('SQLite connections', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-jdbc-'))
  const connection = await openConnection(parseJdbcUrl(`jdbc:sqlite:${join(dir, 'test.db')}`))
  try {
    await exerciseConnection(
      connection,
      'CREATE TABLE $T (id INTEGER PRIMARY KEY, amount TEXT, note VARCHAR(20))',
    )
    assert.deepEqual(
      (await connection.query('SELECT id, note FROM "odd ""table""" LIMIT 1')).columns.map((c) => c.type),
      ['integer', 'varchar'],
    )
  } finally {
    await connection.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('[integration] wrong password, unknown database and unreachable servers say what to fix', {
  skip: postgresSkipReason() || mariadbSkipReason(),
}, async () => {
  const pgUrl = new URL(process.env.SLUICE_TEST_POSTGRES ?? '')
  await assert.rejects(
    openConnection(parseJdbcUrl(`jdbc:postgresql://${pgUrl.host}/no_such_db_here`)),
    (e: unknown) =>
      e instanceof ConfigError && e.key === 'connection.url' && /does not exist/.test(e.message),
  )
  const mysqlUrl = new URL(process.env.SLUICE_TEST_MARIADB ?? '')
  await assert.rejects(
    openConnection(
      parseJdbcUrl(`jdbc:mariadb://${mysqlUrl.host}/test`, { user: 'nobody_here', password: 'wrong' }),
    ),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.key === 'connection.password' &&
      /Check connection.user and connection.password/.test(e.message),
  )
  await assert.rejects(
    openConnection(parseJdbcUrl('jdbc:postgresql://127.0.0.1:1/db')),
    (e: unknown) => e instanceof RetriableError && /cannot reach PostgreSQL at 127.0.0.1:1/.test(e.message),
  )
})
