/**
 * A table whose topic name Kafka would refuse (`topic.prefix` + table name; legal: `[a-zA-Z0-9._-]`, at
 * most 249 characters). Confluent's source passes the name through and its producer fails the task at
 * runtime; here validation (config/validate, create) refuses it, naming the table and the way out.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { JdbcSourceConnector } from '../../../../src/connectors/jdbc/source/connector.ts'
import { freshPostgresDatabase, type TestDatabase } from '../../../helpers/databases.ts'
import { postgresSkipReason } from '../../../helpers/services.ts'

describe('[integration] JDBC source topic names', { skip: postgresSkipReason() }, () => {
  let db: TestDatabase
  before(async () => {
    db = await freshPostgresDatabase('jdbc_topics')
    await db.sql('CREATE TABLE "order lines" (id int PRIMARY KEY)', 'CREATE TABLE fine (id int PRIMARY KEY)')
  })
  after(async () => {
    await db?.drop()
  })

  const errors = async (props: Record<string, string>): Promise<Record<string, string[]>> => {
    const values = await new JdbcSourceConnector().validate({
      'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
      'connection.url': db.jdbcUrl,
      mode: 'incrementing',
      'incrementing.column.name': 'id',
      'topic.prefix': 'pg-',
      ...props,
    })
    return Object.fromEntries(values.filter((v) => v.errors.length > 0).map((v) => [v.name, v.errors]))
  }

  test('a table name with a space is refused at validation, naming the table and the key to fix', async () => {
    const all = await errors({})
    assert.deepEqual(Object.keys(all), ['table.blacklist'])
    assert.match(
      all['table.blacklist']![0]!,
      /table public\.order lines, 'pg-order lines'.*' '.*add it to table\.blacklist/,
    )
    const listed = await errors({ 'table.whitelist': 'order lines,fine' })
    assert.match(listed['table.whitelist']?.[0] ?? '', /leave the table out of table\.whitelist/)
    assert.deepEqual(await errors({ 'table.blacklist': 'order lines' }), {})
  })
})
