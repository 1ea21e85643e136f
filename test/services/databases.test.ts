import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freshMariadbDatabase, freshPostgresDatabase } from '../helpers/databases.ts'
import { mariadbSkipReason, postgresSkipReason } from '../helpers/services.ts'

test('[integration] the test PostgreSQL cluster has wal_level=logical and makes fresh databases', {
  skip: postgresSkipReason(),
}, async () => {
  const db = await freshPostgresDatabase('svc')
  try {
    const [walLevel, tables] = await db.sql(
      'SHOW wal_level',
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'",
    )
    assert.deepEqual(walLevel, [{ wal_level: 'logical' }])
    assert.deepEqual(tables, [{ n: 0 }])
    assert.match(db.jdbcUrl, /^jdbc:postgresql:\/\/127\.0\.0\.1:\d+\/svc_[0-9a-f]{8}$/)
  } finally {
    await db.drop()
  }
})

test('[integration] the machine MariaDB makes fresh databases', { skip: mariadbSkipReason() }, async () => {
  const db = await freshMariadbDatabase('svc')
  try {
    const [, rows] = await db.sql('CREATE TABLE t (id INT PRIMARY KEY)', 'SELECT DATABASE() AS db')
    assert.deepEqual(rows, [{ db: db.name }])
  } finally {
    await db.drop()
  }
})
