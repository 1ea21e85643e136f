/**
 * The table of the incremental-snapshot handover between real Debezium and Sluice
 * (bench/cdc-incremental-capture.ts → handover.json here; test/connectors/postgres-cdc/incremental-offsets.test.ts):
 * a composite key of int8, date, numeric, varchar and uuid, so the key Debezium serializes holds a Long, a
 * java.sql.Date, a BigDecimal, a String and a UUID.
 */
export const ROWS = 1000
export const CHUNK_SIZE = 5

export const TABLE_SETUP = [
  `CREATE TABLE inc (a int8, d date, n numeric(10,2), s varchar(20), u uuid, v text, PRIMARY KEY (a, d, n, s, u))`,
  `INSERT INTO inc SELECT g, DATE '2024-01-01' + g, g + 0.5, 's' || g, lpad(to_hex(g), 32, '0')::uuid, 'v' || g
     FROM generate_series(1, ${ROWS}) g`,
  `CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)`,
]

export const SIGNAL = `INSERT INTO debezium_signal VALUES ('inc-1', 'execute-snapshot', '{"data-collections": ["public.inc"]}')`
