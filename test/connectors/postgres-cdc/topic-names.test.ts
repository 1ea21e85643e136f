/**
 * A captured table whose name Kafka cannot take as a topic name: as Debezium's topic naming strategy,
 * every character outside `[a-zA-Z0-9._-]` becomes `_` (with a warning), on the real PostgreSQL.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { postgresSkipReason } from '../../helpers/services.ts'
import { after, harness, op } from './harness.ts'

describe('[integration] PostgreSQL CDC topic names', { skip: postgresSkipReason() }, () => {
  test('snapshot and streamed events of "Order Lines €" go to srv.public.Order_Lines__', async () => {
    const h = await harness('cdc_topics')
    try {
      await h.db.sql(
        'CREATE TABLE "Order Lines €" (id int PRIMARY KEY)',
        'INSERT INTO "Order Lines €" VALUES (1)',
      )
      await h.start({ 'table.include.list': 'public.Order Lines.*' })
      await h.pollUntil((r) => r.some((x) => op(x) === 'r'), 30_000, 'the snapshot row')
      await h.db.sql('INSERT INTO "Order Lines €" VALUES (2)')
      await h.pollUntil((r) => r.some((x) => op(x) === 'c'), 30_000, 'the streamed insert')
      const events = h.records.filter((r) => op(r) !== null)
      assert.deepEqual(
        events.map((r) => [r.topic, op(r), after(r)?.id]),
        [
          ['srv.public.Order_Lines__', 'r', 1],
          ['srv.public.Order_Lines__', 'c', 2],
        ],
      )
    } finally {
      await h.close()
    }
  })
})
