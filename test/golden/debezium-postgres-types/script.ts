/**
 * A second golden capture, for the types the first one (../debezium-postgres/) does not cover and for
 * the value-conversion settings: captured from Debezium (bench/cdc-golden-capture.ts types) once per
 * variant of connector settings, into events-<variant>.json, and compared with ours by
 * test/connectors/postgres-cdc/golden.test.ts. `setup` runs before the connector starts (its row is
 * snapshotted), `changes` while it streams.
 */
export const GOLDEN_TABLES = ['public.golden_more']

/** Connector settings per variant (besides connection, slot and topic prefix). */
export const VARIANTS: Record<string, Record<string, string>> = {
  defaults: {},
  alternatives: {
    'hstore.handling.mode': 'map',
    'interval.handling.mode': 'string',
    'money.fraction.digits': '3',
    'include.unknown.datatypes': 'true',
    'binary.handling.mode': 'hex',
    'time.precision.mode': 'isostring',
    'decimal.handling.mode': 'string',
  },
  connect: { 'time.precision.mode': 'connect', 'binary.handling.mode': 'base64-url-safe' },
  microseconds: { 'time.precision.mode': 'microseconds', 'include.unknown.datatypes': 'true' },
  adaptiveTimeMicroseconds: {
    'time.precision.mode': 'adaptive_time_microseconds',
    'money.fraction.digits': '3',
    'interval.handling.mode': 'string',
  },
  nanoseconds: {
    'time.precision.mode': 'nanoseconds',
    'binary.handling.mode': 'base64',
    'include.unknown.datatypes': 'true',
    'decimal.handling.mode': 'double',
  },
}

const VALUES = `(p, p_nn, h, hs, l, la, c, ca, m, iv, ivz, ivn, d, t, t3, ts, tsu, bx, circ, ln, ls, pth, pg, pa, ma, ia, i, cr, mac, mac8,
  tsv, r, nr, dr, tr, x, b, vb, mood, moods, raw, isb, e13) VALUES
  ('(1.5,-2)', '(3,4)', '"a"=>"1", "b"=>NULL, "k\\"q"=>"v\\\\w", "zz"=>"", "key10"=>"x"', '{"\\"a\\"=>\\"1\\""}',
   'top.mid.leaf', '{a.b,c}', 'MiXeD', '{A,b}', 12.345, '1 year 2 mons 3 days 04:05:06.78', '3 days',
   '-1 days +02:03:00.5', '2024-05-01', '10:15:30.5', '10:15:30.125', '2024-05-01 10:15:30.120',
   '2024-05-01 10:15:30.123456', '((1,1),(0,0))', '<(1,2),3>', '{1,-1,0.5}',
   '[(0,0),(1e10,1.5e-5)]', '[(1,2),(3,4)]', '((0,0),(1,1),(2,0.001))', '{"(1,2)"}', '{1}', '{1 day}', '10.0.0.1/8',
   '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', 'a fat cat', '[1,5)', '[1.5,2.5]',
   '[2024-01-01,2024-02-01)', '[2024-01-01 10:00,2024-01-02 11:00)', '<a>x</a>', B'101', B'1100101', 'ok',
   '{sad,happy}', '\\x00fffe01', '978-0-393-04002-9',
   '978-0-393-04002-9')`

export const setup: string[] = [
  'CREATE EXTENSION IF NOT EXISTS hstore',
  'CREATE EXTENSION IF NOT EXISTS ltree',
  'CREATE EXTENSION IF NOT EXISTS citext',
  'CREATE EXTENSION IF NOT EXISTS isn',
  `CREATE TYPE golden_more_mood AS ENUM ('sad', 'ok', 'happy')`,
  `CREATE TABLE golden_more (id serial PRIMARY KEY, p point, p_nn point NOT NULL DEFAULT '(0,0)', h hstore,
     hs hstore[], l ltree, la ltree[], c citext, ca citext[], m money, iv interval, ivz interval, ivn interval,
     d date, t time(6), t3 time(3), ts timestamp(3), tsu timestamp(6), bx box, circ circle, ln line, ls lseg, pth path,
     pg polygon, pa point[],
     ma money[], ia interval[], i inet, cr cidr, mac macaddr, mac8 macaddr8, tsv tsvector, r int4range,
     nr numrange, dr daterange, tr tsrange, x xml, b bit(3), vb varbit(10), mood golden_more_mood,
     moods golden_more_mood[], raw bytea, isb isbn, e13 ean13)`,
  `INSERT INTO golden_more ${VALUES}`,
]

export const changes: string[] = [
  `INSERT INTO golden_more ${VALUES}`,
  `UPDATE golden_more SET p = '(-0.5,1e10)', h = '', m = '-7.5', iv = '0', t = '24:00:00' WHERE id = 2`,
  'DELETE FROM golden_more WHERE id = 1',
]

/** Topics besides the tables' (suffixes after `<topic.prefix>.`). */
export const GOLDEN_EXTRA_TOPICS: string[] = []

export const SNAPSHOT_RECORDS = 1

/** 1 snapshot read, then an insert, an update, a delete and its tombstone. */
export const EXPECTED_RECORDS = 1 + 4
