import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { contextHeaders, uuidV7 } from '../../../src/connectors/postgres-cdc/change-events.ts'
import { parseSettings } from '../../../src/connectors/postgres-cdc/config.ts'
import { PostgresCdcConnector } from '../../../src/connectors/postgres-cdc/connector.ts'
import { formatLsn, parseLsn } from '../../../src/connectors/postgres-cdc/lsn.ts'
import { positionReached } from '../../../src/connectors/postgres-cdc/offsets.ts'
import {
  decodePgOutput,
  PG_EPOCH_OFFSET_US,
  type PgOutputMessage,
} from '../../../src/connectors/postgres-cdc/pgoutput-decoder.ts'
import {
  intervalMicros,
  parseArrayText,
  parseTimestampMicros,
  zonedTimestamp,
} from '../../../src/connectors/postgres-cdc/value-converters.ts'
import { builtInPlugins } from '../../../src/plugins/built-ins.ts'

const base = {
  'database.hostname': 'db',
  'database.user': 'u',
  'database.dbname': 'd',
  'topic.prefix': 'srv',
}

describe('pgoutput decoder', () => {
  test('decodes Begin, Relation, Insert with null/unchanged/text columns, Update with an old key, and Commit', () => {
    const begin = Buffer.alloc(21)
    begin.write('B')
    begin.writeUInt32BE(0, 1)
    begin.writeUInt32BE(0x1000, 5)
    begin.writeBigInt64BE(1_000_000n, 9)
    begin.writeUInt32BE(42, 17)
    assert.deepEqual(decodePgOutput(begin), {
      tag: 'begin',
      finalLsn: 0x1000,
      commitTimeUs: 1_000_000n + PG_EPOCH_OFFSET_US,
      xid: 42,
    })
    const relation = Buffer.concat([
      Buffer.from('R'),
      u32(16384),
      Buffer.from('public\0t\0'),
      Buffer.from([0x64]),
      u16(2),
      Buffer.from([1]),
      Buffer.from('id\0'),
      u32(23),
      u32(0xffffffff),
      Buffer.from([0]),
      Buffer.from('v\0'),
      u32(25),
      u32(0xffffffff),
    ])
    assert.deepEqual(decodePgOutput(relation), {
      tag: 'relation',
      relationId: 16384,
      schema: 'public',
      table: 't',
      replicaIdentity: 'd',
      columns: [
        { name: 'id', typeOid: 23, typmod: -1, isKey: true },
        { name: 'v', typeOid: 25, typmod: -1, isKey: false },
      ],
    })
    const tuple = (...cols: (string | null | undefined)[]): Buffer =>
      Buffer.concat([
        u16(cols.length),
        ...cols.map((c) =>
          c === null
            ? Buffer.from('n')
            : c === undefined
              ? Buffer.from('u')
              : Buffer.concat([Buffer.from('t'), u32(Buffer.byteLength(c)), Buffer.from(c)]),
        ),
      ])
    const insert = Buffer.concat([Buffer.from('I'), u32(16384), Buffer.from('N'), tuple('1', null)])
    // Tuples stay as bytes until read: compared here by their texts.
    const texts = (m: PgOutputMessage): unknown =>
      m.tag === 'insert'
        ? { ...m, newTuple: m.newTuple.texts() }
        : m.tag === 'update'
          ? { ...m, oldTuple: m.oldTuple?.texts() ?? null, newTuple: m.newTuple.texts() }
          : m
    assert.deepEqual(texts(decodePgOutput(insert)), {
      tag: 'insert',
      relationId: 16384,
      newTuple: ['1', null],
    })
    const update = Buffer.concat([
      Buffer.from('U'),
      u32(16384),
      Buffer.from('K'),
      tuple('1', null),
      Buffer.from('N'),
      tuple('2', undefined),
    ])
    assert.deepEqual(texts(decodePgOutput(update)), {
      tag: 'update',
      relationId: 16384,
      oldKind: 'K',
      oldTuple: ['1', null],
      newTuple: ['2', undefined],
    })
    const truncate = Buffer.concat([Buffer.from('T'), u32(2), Buffer.from([1]), u32(1), u32(2)])
    assert.deepEqual(decodePgOutput(truncate), { tag: 'truncate', options: 1, relationIds: [1, 2] })
  })

  test('refuses an unknown message type with its letter', () => {
    assert.throws(() => decodePgOutput(Buffer.from('Z')), /unknown message type 'Z'/)
  })
})

describe('text value conversion', () => {
  test('timestamps, intervals, arrays and LSNs read as Debezium reads them', () => {
    assert.equal(
      parseTimestampMicros('2024-05-01 10:15:30.123456'),
      Date.UTC(2024, 4, 1, 10, 15, 30) * 1000 + 123456,
    )
    assert.equal(parseTimestampMicros('2024-05-01 10:15:30+02'), Date.UTC(2024, 4, 1, 8, 15, 30) * 1000)
    assert.equal(parseTimestampMicros('infinity'), 9223372036825200000n)
    assert.equal(parseTimestampMicros('2024-02-29 00:00:00'), Date.UTC(2024, 1, 29) * 1000, 'a leap day')
    // 1 month = 365.25/12 days, as MicroDuration.
    assert.equal(intervalMicros('P1M'), Math.trunc(30.4375 * 86400 * 1e6))
    assert.equal(intervalMicros('PT1.5S'), 1_500_000)
    assert.deepEqual(parseArrayText('{1,"a b","q\\"x",NULL}'), ['1', 'a b', 'q"x', null])
    assert.deepEqual(parseArrayText('{}'), [])
    assert.equal(parseLsn('16/B374D848'), 0x16b374d848)
    assert.equal(formatLsn(0x16b374d848), '16/B374D848')
  })
})

describe('timestamp text, read without a Date', () => {
  // A small deterministic generator, so a failure names a reproducible case.
  let seed = 42
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  const pad = (v: number, w = 2): string => String(v).padStart(w, '0')

  test('reads every layout PostgreSQL prints as Date.UTC reads it, across 1700-2200, leap days and offsets', () => {
    for (let i = 0; i < 20_000; i++) {
      const year = 1700 + random(501)
      const month = 1 + random(12)
      const day = 1 + random(new Date(Date.UTC(year, month, 0)).getUTCDate())
      const [h, m, sec] = [random(24), random(60), random(60)]
      const digits = random(7)
      const fraction = digits === 0 ? '' : pad(random(10 ** digits), digits)
      const offsetKind = random(4)
      const sign = random(2) === 0 ? 1 : -1
      const [oh, om, os] = [random(15), random(60), random(60)]
      const offset =
        offsetKind === 0
          ? ''
          : `${sign > 0 ? '+' : '-'}${pad(oh)}${offsetKind >= 2 ? `:${pad(om)}` : ''}${offsetKind === 3 ? `:${pad(os)}` : ''}`
      const offsetSeconds =
        offsetKind === 0
          ? 0
          : sign * (oh * 3600 + (offsetKind >= 2 ? om * 60 : 0) + (offsetKind === 3 ? os : 0))
      const text = `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(h)}:${pad(m)}:${pad(sec)}${digits ? `.${fraction}` : ''}${offset}`
      const utc = new Date(0)
      utc.setUTCFullYear(year, month - 1, day)
      utc.setUTCHours(h, m, sec, 0)
      const expected =
        (utc.getTime() / 1000 - offsetSeconds) * 1_000_000 + (digits ? Number(fraction.padEnd(6, '0')) : 0)
      assert.equal(parseTimestampMicros(text), expected, text)
      const utcText = `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(h)}:${pad(m)}:${pad(sec)}${digits ? `.${fraction}` : ''}+00`
      const micros = (utc.getTime() / 1000) * 1_000_000 + (digits ? Number(fraction.padEnd(6, '0')) : 0)
      const iso = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19)
      const six = (digits ? fraction : '').padEnd(6, '0')
      for (const p of [0, 3, 6])
        assert.equal(zonedTimestamp(utcText, p), p === 0 ? `${iso}Z` : `${iso}.${six.slice(0, p)}Z`, utcText)
    }
  })

  test('leaves other shapes to the general parser: BC, five-digit and early years, infinity, bad text', () => {
    assert.equal(parseTimestampMicros('0044-03-15 12:00:00 BC'), Date.UTC(-43, 2, 15, 12) * 1000)
    assert.equal(parseTimestampMicros('1500-01-01 00:00:00'), Date.UTC(1500, 0, 1) * 1000)
    assert.equal(parseTimestampMicros('-infinity'), -9223372036832400000n)
    assert.throws(() => parseTimestampMicros('2024-05-01 10:15:30.1234567'), /cannot parse timestamp/)
    assert.throws(() => parseTimestampMicros('2024-05-01 1x:15:30'), /cannot parse timestamp/)
  })
})

describe('connector config', () => {
  test('is registered under the Debezium class name', () => {
    const plugin = builtInPlugins().find('io.debezium.connector.postgresql.PostgresConnector')
    assert.equal(plugin?.type, 'source')
    assert.ok(plugin?.create() instanceof PostgresCdcConnector)
  })

  test('uses Debezium defaults and reports bad values by key', async () => {
    const connector = new PostgresCdcConnector()
    // A sound config is then checked against the server: here none listens, which names the host.
    const values = await connector.validate({
      ...base,
      'database.hostname': '127.0.0.1',
      'database.port': '1',
    })
    const byName = Object.fromEntries(values.map((v) => [v.name, v]))
    assert.equal(byName['slot.name'].value, 'debezium')
    assert.equal(byName['publication.name'].value, 'dbz_publication')
    assert.equal(byName['snapshot.mode'].value, 'initial')
    assert.equal(byName['skipped.operations'].value, 't')
    assert.equal(byName['max.batch.size'].value, '2048')
    assert.equal(byName['max.queue.size'].value, '8192')
    assert.deepEqual(
      values.filter((v) => v.errors.length > 0).map((v) => v.name),
      ['database.hostname'],
    )
    assert.match(byName['database.hostname'].errors[0], /cannot connect to PostgreSQL at 127\.0\.0\.1:1/)

    const bad = await connector.validate({
      ...base,
      'slot.name': 'Bad-Slot',
      'snapshot.mode': 'custom',
      'skipped.operations': 'x',
    })
    const errors = Object.fromEntries(
      bad.filter((v) => v.errors.length > 0).map((v) => [v.name, v.errors[0]]),
    )
    assert.match(errors['slot.name'], /lower-case letters, digits or underscores/)
    assert.match(errors['snapshot.mode'], /not implemented/)
    assert.match(errors['skipped.operations'], /c \(create\)/)

    const cross = await connector.validate({ ...base, 'max.batch.size': '100', 'max.queue.size': '50' })
    assert.match(
      cross.find((v) => v.name === 'max.queue.size')!.errors[0],
      /must be larger than max.batch.size/,
    )
    assert.throws(
      () => connector.start({ ...base, 'table.include.list': 'a', 'table.exclude.list': 'b' }),
      /cannot both be set/,
    )
  })
})

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

describe('include and exclude lists', () => {
  test("match whole names ignoring case, as Debezium's Predicates.includes does", () => {
    const s = parseSettings({
      ...base,
      'table.include.list': 'public.orders,Inventory\\..*',
      'column.exclude.list': 'public.orders.SECRET',
    })
    const table = (id: string) => s.tableInclude.some((r) => r.test(id))
    assert.ok(table('public.orders'))
    assert.ok(table('PUBLIC.Orders'))
    assert.ok(table('inventory.items'))
    assert.ok(!table('public.orders_archive'), 'a pattern matches the whole name')
    assert.ok(s.columnExclude.some((r) => r.test('public.orders.secret')))
  })
})

describe("Debezium's extended headers", () => {
  test('are on by default and can be turned off', () => {
    assert.equal(parseSettings(base).extendedHeaders, true)
    assert.equal(parseSettings({ ...base, 'extended.headers.enabled': 'false' }).extendedHeaders, false)
  })

  test('name the logical name, task 0, the connector and a run id, as strings, in that order', () => {
    const headers = contextHeaders('srv')
    assert.deepEqual(
      headers.map((h) => [h.key, h.schema?.type]),
      [
        ['__debezium.context.connectorLogicalName', 'STRING'],
        ['__debezium.context.taskId', 'STRING'],
        ['__debezium.context.connectorName', 'STRING'],
        ['__debezium.context.runId', 'STRING'],
      ],
    )
    assert.deepEqual(
      headers.slice(0, 3).map((h) => h.value),
      ['srv', '0', 'postgresql'],
    )
    assert.notEqual(headers[3].value, contextHeaders('srv')[3].value, 'a new run id each time')
  })

  test('the run id is a version 7 UUID starting with the time in milliseconds', () => {
    const id = uuidV7(0x0123456789ab)
    assert.match(id, /^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

describe('the position reached after a restart inside a transaction', () => {
  const at = (txId: number | null, txEventsProcessed: number | null, lsn: number) => ({
    lsnCommit: 100,
    lsn,
    txId,
    txEventsProcessed,
  })
  test('stays at a stored count until the transaction passes it', () => {
    const resume = at(7, 1000, 500)
    assert.equal(positionReached(null, at(7, 3, 210)).txEventsProcessed, 3)
    // Before the transaction arrives, and while its first 1000 changes are skipped.
    assert.equal(positionReached(resume, at(null, null, 100)), resume)
    assert.equal(positionReached(resume, at(7, 97, 260)), resume)
    assert.equal(positionReached(resume, at(7, 1000, 500)), resume)
    assert.deepEqual(positionReached(resume, at(7, 1001, 500)), at(7, 1001, 500))
  })
  test("stays at a stored LSN (Debezium's offset, no count) while the transaction is at or before it", () => {
    const resume = at(7, null, 500)
    assert.equal(positionReached(resume, at(7, 97, 260)), resume)
    assert.equal(positionReached(resume, at(7, 98, 500)), resume)
    assert.deepEqual(positionReached(resume, at(7, 99, 501)), at(7, 99, 501))
    assert.deepEqual(positionReached(resume, at(8, 1, 40)), at(8, 1, 40))
  })
})
