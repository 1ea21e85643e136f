/**
 * Bad JDBC source configs are refused with the key to fix and how, from
 * `PUT /connector-plugins/JdbcSourceConnector/config/validate` and `POST /connectors` (400), checked
 * against real databases.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { freshMariadbDatabase, freshPostgresDatabase, type TestDatabase } from '../../../helpers/databases.ts'
import { request } from '../../../helpers/rest.ts'
import { mariadbSkipReason, mariadbUrl, postgresSkipReason } from '../../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../../rest/worker.ts'
import { uniqueSuffix } from './support.ts'

interface ConfigInfos {
  error_count: number
  configs: { value: { name: string; errors: string[] } }[]
}

function errorsByKey(infos: ConfigInfos): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const c of infos.configs) if (c.value.errors.length > 0) out[c.value.name] = c.value.errors
  return out
}

describe('[integration] JDBC source bad input', () => {
  let worker: TestWorker
  before(async () => {
    worker = await startTestWorker()
  })
  after(async () => {
    await worker?.close()
  })

  async function validate(config: Record<string, string>): Promise<Record<string, string[]>> {
    const res = await request<ConfigInfos>(
      worker.base,
      'PUT',
      '/connector-plugins/JdbcSourceConnector/config/validate',
      {
        'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
        name: 'validated',
        'topic.prefix': 'postgres-',
        ...config,
      },
    )
    assert.equal(res.status, 200, JSON.stringify(res.body))
    return errorsByKey(res.body)
  }

  it('a URL of an unsupported database, or of a server that is not there, names connection.url', async () => {
    const unsupported = await validate({ 'connection.url': 'jdbc:oracle:thin:@db:1521:orcl', mode: 'bulk' })
    assert.deepEqual(Object.keys(unsupported), ['connection.url'])
    assert.match(unsupported['connection.url'][0], /unsupported database 'oracle'.*jdbc:postgresql:\/\//)
    const away = await validate({ 'connection.url': 'jdbc:postgresql://127.0.0.1:1/x', mode: 'bulk' })
    assert.match(
      away['connection.url']?.[0] ?? '',
      /cannot reach PostgreSQL at 127\.0\.0\.1:1.*check the host and port/,
    )
  })

  it('a missing or unknown mode names mode', async () => {
    const missing = await validate({ 'connection.url': 'jdbc:sqlite::memory:' })
    assert.match(
      missing.mode?.[0] ?? '',
      /mode must be set to one of: bulk, timestamp, incrementing, timestamp\+incrementing/,
    )
    const unknown = await validate({ 'connection.url': 'jdbc:sqlite::memory:', mode: 'snapshot' })
    assert.match(unknown.mode?.[0] ?? '', /Invalid value snapshot for configuration mode/)
  })

  describe('on PostgreSQL', { skip: postgresSkipReason() }, () => {
    let db: TestDatabase
    before(async () => {
      db = await freshPostgresDatabase('jdbc_bad')
      await db.sql(
        'CREATE TABLE orders (id SERIAL PRIMARY KEY, name TEXT, modified TIMESTAMP NOT NULL DEFAULT now(), touched TIMESTAMP)',
        'CREATE TABLE plain (code INT NOT NULL, name TEXT)',
      )
    })
    after(async () => {
      await db?.drop()
    })
    const base = () => ({ 'connection.url': db.jdbcUrl })

    it('an unknown table names table.whitelist and lists the tables there are', async () => {
      const errors = await validate({ ...base(), mode: 'bulk', 'table.whitelist': 'orders,ordres' })
      assert.deepEqual(Object.keys(errors), ['table.whitelist'])
      assert.match(
        errors['table.whitelist'][0],
        /no such table: ordres .*public\.orders.*fix table\.whitelist/,
      )
    })

    it('a missing column names its key and lists the columns', async () => {
      const inc = await validate({
        ...base(),
        mode: 'incrementing',
        'incrementing.column.name': 'idd',
        'table.whitelist': 'orders',
      })
      assert.match(
        inc['incrementing.column.name']?.[0] ?? '',
        /table public\.orders has no column 'idd' \(it has: id, name, modified, touched\)/,
      )
      const ts = await validate({
        ...base(),
        mode: 'timestamp',
        'timestamp.column.name': 'updated_at',
        'table.whitelist': 'orders',
      })
      assert.match(ts['timestamp.column.name']?.[0] ?? '', /has no column 'updated_at'/)
    })

    it('wrong mode/column combinations name the column key', async () => {
      const noTs = await validate({ ...base(), mode: 'timestamp+incrementing', 'table.whitelist': 'orders' })
      assert.match(
        noTs['timestamp.column.name']?.[0] ?? '',
        /mode=timestamp\+incrementing needs timestamp\.column\.name/,
      )
      const noAuto = await validate({ ...base(), mode: 'incrementing', 'table.whitelist': 'plain' })
      assert.match(
        noAuto['incrementing.column.name']?.[0] ?? '',
        /no auto-increment column to detect; set incrementing\.column\.name/,
      )
      const textTs = await validate({
        ...base(),
        mode: 'timestamp',
        'timestamp.column.name': 'name',
        'table.whitelist': 'orders',
      })
      assert.match(
        textTs['timestamp.column.name']?.[0] ?? '',
        /column 'name' of public\.orders is text, not a timestamp/,
      )
      const textInc = await validate({
        ...base(),
        mode: 'incrementing',
        'incrementing.column.name': 'name',
        'table.whitelist': 'orders',
      })
      assert.match(textInc['incrementing.column.name']?.[0] ?? '', /must hold integers/)
    })

    it('a nullable column is refused unless validate.non.null=false', async () => {
      const errors = await validate({
        ...base(),
        mode: 'timestamp',
        'timestamp.column.name': 'touched',
        'table.whitelist': 'orders',
      })
      assert.match(
        errors['timestamp.column.name']?.[0] ?? '',
        /column 'touched' of public\.orders is nullable; make it NOT NULL, or set validate\.non\.null=false/,
      )
      const relaxed = await validate({
        ...base(),
        mode: 'timestamp',
        'timestamp.column.name': 'touched',
        'table.whitelist': 'orders',
        'validate.non.null': 'false',
      })
      assert.deepEqual(relaxed, {})
      const coalesced = await validate({
        ...base(),
        mode: 'timestamp',
        'timestamp.column.name': 'touched,modified',
        'table.whitelist': 'orders',
      })
      assert.deepEqual(coalesced, {}, 'one NOT NULL column among several is enough')
    })

    it('a query that fails, or lacks the mode’s column, names query or the column key', async () => {
      const failing = await validate({ ...base(), mode: 'bulk', query: 'SELECT * FROM nowhere' })
      assert.match(failing.query?.[0] ?? '', /the query fails on the database: .*nowhere/)
      const lacking = await validate({
        ...base(),
        mode: 'incrementing',
        query: 'SELECT name FROM orders',
        'incrementing.column.name': 'id',
      })
      assert.match(lacking['incrementing.column.name']?.[0] ?? '', /the query returns no column 'id'/)
    })

    it('POST /connectors answers 400 with the same message', async () => {
      const res = await request<{ error_code: number; message: string }>(worker.base, 'POST', '/connectors', {
        name: `bad-${uniqueSuffix()}`,
        config: {
          'connector.class': 'JdbcSourceConnector',
          ...base(),
          mode: 'incrementing',
          'incrementing.column.name': 'idd',
          'table.whitelist': 'orders',
        },
      })
      assert.equal(res.status, 400)
      assert.equal(res.body.error_code, 400)
      assert.match(res.body.message, /has no column 'idd'/)
    })
  })

  describe('on MariaDB', { skip: mariadbSkipReason() }, () => {
    let db: TestDatabase
    const user = `sluice_${uniqueSuffix()}`
    before(async () => {
      db = await freshMariadbDatabase('jdbc_bad')
      await db.sql(
        `CREATE USER '${user}'@'%' IDENTIFIED BY 'right-password'`,
        `CREATE USER '${user}'@'localhost' IDENTIFIED BY 'right-password'`,
        `GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`,
        `GRANT ALL ON \`${db.name}\`.* TO '${user}'@'localhost'`,
        'CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT)',
      )
    })
    after(async () => {
      await db
        ?.sql(`DROP USER IF EXISTS '${user}'@'%'`, `DROP USER IF EXISTS '${user}'@'localhost'`)
        .catch(() => {})
      await db?.drop()
    })

    it('a wrong password names connection.password; the right one validates', async () => {
      const url = `jdbc:mariadb://${new URL(mariadbUrl()).host}/${db.name}`
      const wrong = await validate({
        'connection.url': url,
        'connection.user': user,
        'connection.password': 'wrong-password',
        mode: 'incrementing',
      })
      assert.match(
        wrong['connection.password']?.[0] ?? '',
        /cannot log in to MySQL\/MariaDB.*Check connection\.user and connection\.password/,
      )
      const right = await validate({
        'connection.url': url,
        'connection.user': user,
        'connection.password': 'right-password',
        mode: 'incrementing',
      })
      assert.deepEqual(right, {})
    })
  })
})
