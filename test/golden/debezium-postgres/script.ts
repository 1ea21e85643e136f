/**
 * The fixed change script whose events were captured from Debezium (bench/cdc-golden-capture.ts) and
 * are compared with ours (test/connectors/postgres-cdc/golden.test.ts). `setup` runs before the
 * connector starts (its rows are snapshotted), `changes` while it streams. Values are literals, so
 * both runs see the same data; only times, LSNs and transaction ids differ.
 */
export const GOLDEN_TABLES = ['public.golden_types', 'public.golden_full', 'public.golden_toast']

const BODY = `'${'t'.repeat(3000)}'`

export const setup: string[] = [
  `CREATE TYPE golden_mood AS ENUM ('sad', 'ok', 'happy')`,
  `CREATE TABLE golden_types (
     id serial PRIMARY KEY, name varchar(50) NOT NULL, note text, small smallint, big bigint,
     flag boolean NOT NULL DEFAULT false, price numeric(10,2), loose numeric, ratio real, dbl double precision,
     created timestamptz, created0 timestamptz(0), local_ts timestamp, local_ms timestamp(3), day date, t time, t3 time(3),
     tz timetz, doc jsonb, js json, uid uuid, tags text[], nums int[], raw bytea, dur interval, mood golden_mood,
     bits bit(4), bit1 bit(1), ch char(3), addr inet, label varchar(20) NOT NULL DEFAULT 'none')`,
  'CREATE TABLE golden_full (id int PRIMARY KEY, body text, n int NOT NULL)',
  'ALTER TABLE golden_full REPLICA IDENTITY FULL',
  'CREATE TABLE golden_toast (id int PRIMARY KEY, body text, n int NOT NULL)',
  'ALTER TABLE golden_toast ALTER COLUMN body SET STORAGE EXTERNAL',
  `INSERT INTO golden_types (name, note, small, big, flag, price, loose, ratio, dbl, created, created0, local_ts, local_ms, day,
     t, t3, tz, doc, js, uid, tags, nums, raw, dur, mood, bits, bit1, ch, addr) VALUES
   ('first', 'a note', 7, 9007199254740993, true, 1234.56, 3.14159, 1.5, 2.25, '2024-05-01 10:15:30.123456+02',
    '2024-05-01 10:15:30+00', '2024-05-01 10:15:30.654321', '2024-02-29 23:59:59.999', '2024-02-29', '10:15:30.123456',
    '10:15:30.123', '10:15:30+02', '{"a": [1, 2]}', '{"b":true}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{"x","y z",NULL}', '{1,2,3}', '\\x00ff10', '1 year 2 mons 3 days 04:05:06.78', 'happy', B'1010', B'1', 'ab',
    '192.168.0.1/24')`,
  `INSERT INTO golden_types (name) VALUES ('second')`,
  `INSERT INTO golden_full VALUES (1, 'one', 1)`,
]

export const changes: string[] = [
  `INSERT INTO golden_types (name, price, loose, day, created, dur, tags, mood) VALUES
     ('third', -0.5, -12345678901234567890.123, '1969-12-31', '1999-12-31 23:59:59.5-05', '-1 days +02:03:00',
      '{}', 'sad')`,
  `UPDATE golden_types SET name = 'first!', price = 99.99 WHERE id = 1`,
  'DELETE FROM golden_types WHERE id = 2',
  'UPDATE golden_types SET id = 10 WHERE id = 3',
  `UPDATE golden_full SET body = 'uno', n = 2 WHERE id = 1`,
  'DELETE FROM golden_full WHERE id = 1',
  `INSERT INTO golden_toast VALUES (1, ${BODY}, 1)`,
  'UPDATE golden_toast SET n = 2 WHERE id = 1',
  // Logical decoding messages (pgoutput `messages 'true'`): one in a transaction, one outside.
  `BEGIN; SELECT pg_logical_emit_message(true, 'golden', 'hello'); INSERT INTO golden_full VALUES (2, 'two', 2); COMMIT`,
  `SELECT pg_logical_emit_message(false, 'golden-nt', '\\x00ff'::bytea)`,
]

/** Topics besides the tables' (suffixes after `<topic.prefix>.`). */
export const GOLDEN_EXTRA_TOPICS = ['message']

/** Records the script makes, tombstones included: 3 snapshot reads, then 7 + 4 + 2 streamed per table, 2 messages. */
export const EXPECTED_RECORDS = 3 + 7 + 4 + 2 + 2
