/**
 * The CDC connector's validate() (config/validate and create) checks what the server must offer before
 * the connector is accepted: wal_level=logical, the REPLICATION attribute, a usable slot. Against the
 * real test PostgreSQL (wal_level=logical) and the machine's own server on 127.0.0.1:5432, whose
 * wal_level is replica (skipped where that server does not answer).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { PostgresCdcConnector } from '../../../src/connectors/postgres-cdc/connector.ts'
import { dropReplicationSlot, freshPostgresDatabase, type TestDatabase } from '../../helpers/databases.ts'
import { postgresSkipReason } from '../../helpers/services.ts'

const REPLICA_SERVER = { host: '127.0.0.1', port: 5432 }

async function replicaServerSkipReason(): Promise<string | false> {
  const client = new pg.Client({ ...REPLICA_SERVER, user: 'postgres', database: 'postgres' })
  try {
    await client.connect()
    const { rows } = await client.query('SHOW wal_level')
    return rows[0].wal_level === 'logical' ? 'the server on 127.0.0.1:5432 has wal_level=logical' : false
  } catch (error) {
    return `no PostgreSQL on 127.0.0.1:5432 (${(error as Error).message})`
  } finally {
    await client.end().catch(() => {})
  }
}

async function errors(props: Record<string, string>): Promise<Record<string, string[]>> {
  const values = await new PostgresCdcConnector().validate({
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'topic.prefix': 'srv',
    'plugin.name': 'pgoutput',
    ...props,
  })
  return Object.fromEntries(values.filter((v) => v.errors.length > 0).map((v) => [v.name, v.errors]))
}

describe('[integration] PostgreSQL CDC validation against the server', () => {
  test('wal_level=replica is refused naming the fix', async (t) => {
    const skip = await replicaServerSkipReason()
    if (skip) {
      t.skip(skip)
      return
    }
    const found = await errors({
      'database.hostname': REPLICA_SERVER.host,
      'database.port': String(REPLICA_SERVER.port),
      'database.user': 'postgres',
      'database.dbname': 'postgres',
    })
    assert.deepEqual(Object.keys(found), ['database.hostname'])
    assert.match(
      found['database.hostname']![0]!,
      /wal_level=replica: logical decoding needs wal_level=logical/,
    )
    assert.match(found['database.hostname']![0]!, /ALTER SYSTEM SET wal_level = 'logical' and restart/)
  })

  describe('on the logical test server', { skip: postgresSkipReason() }, () => {
    let db: TestDatabase
    const role = `norepl_${randomBytes(4).toString('hex')}`
    const slot = `sl_${randomBytes(5).toString('hex')}`
    const base = (): Record<string, string> => ({
      'database.hostname': new URL(db.url).hostname,
      'database.port': new URL(db.url).port,
      'database.user': 'postgres',
      'database.dbname': db.name,
    })
    before(async () => {
      db = await freshPostgresDatabase('cdc_validate')
      await db.sql(`CREATE ROLE ${role} LOGIN`)
    })
    after(async () => {
      await dropReplicationSlot(db.url, slot).catch(() => {})
      await db?.sql(`DROP ROLE IF EXISTS ${role}`)
      await db?.drop()
    })

    test('a sound server and user give no errors', async () => {
      assert.deepEqual(await errors({ ...base(), 'slot.name': slot }), {})
    })

    test('a user without REPLICATION names database.user', async () => {
      const found = await errors({ ...base(), 'database.user': role, 'slot.name': slot })
      assert.deepEqual(Object.keys(found), ['database.user'])
      assert.match(
        found['database.user']![0]!,
        new RegExp(`user '${role}' has no REPLICATION privilege: run ALTER ROLE`),
      )
    })

    test('an existing slot of another plugin names slot.name', async () => {
      await db.sql(`SELECT pg_create_logical_replication_slot('${slot}', 'test_decoding')`)
      const found = await errors({ ...base(), 'slot.name': slot })
      assert.deepEqual(Object.keys(found), ['slot.name'])
      assert.match(
        found['slot.name']![0]!,
        /uses the test_decoding plugin, but this connector decodes pgoutput/,
      )
    })
  })
})
