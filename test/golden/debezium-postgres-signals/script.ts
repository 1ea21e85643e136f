/**
 * Signals, snapshots on demand, transaction metadata and heartbeats, captured from Debezium
 * (`npx node bench/cdc-golden-capture.ts signals` → events.json here) and compared with ours
 * (test/connectors/postgres-cdc/golden.test.ts).
 *
 * The phases run one after the other; each waits until every topic holds the records Debezium made
 * for it (the capture waits for the counts to stop growing and records them per phase, the test waits
 * for those counts). Nothing is written to the tables while a snapshot runs, so the order of records
 * within each topic is deterministic and compared record by record. Heartbeats come on a timer, so
 * only the first heartbeat record is compared.
 */
export const TABLES = ['public.sig', 'public.debezium_signal']
export const SIGNAL_TABLE = 'public.debezium_signal'

export const setup: string[] = [
  'CREATE TABLE sig (id int PRIMARY KEY, v text, n int NOT NULL)',
  `INSERT INTO sig SELECT g, 'v' || g, g * 10 FROM generate_series(1, 5) g`,
  'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)',
]

/** Connector settings on top of the common ones (the Kafka channel's topic and brokers are per run). */
export const PROPS: Record<string, string> = {
  'signal.data.collection': SIGNAL_TABLE,
  'signal.enabled.channels': 'source,kafka',
  'provide.transaction.metadata': 'true',
  'heartbeat.interval.ms': '2000',
  'table.include.list': TABLES.join(','),
}

export type Phase =
  | { name: string; sql: string[]; offset?: true }
  | { name: string; kafkaSignal: unknown; offset?: true }

/** After the initial snapshot (5 reads of `sig`), these phases run in order. */
export const PHASES: Phase[] = [
  {
    name: 'streamed transaction',
    sql: [`BEGIN; INSERT INTO sig VALUES (6, 'v6', 60); UPDATE sig SET n = 11 WHERE id = 1; COMMIT`],
    offset: true,
  },
  {
    name: 'incremental snapshot from the signal table, with additional-conditions',
    sql: [
      `INSERT INTO debezium_signal VALUES ('golden-inc', 'execute-snapshot', '{"data-collections": ["public.sig"], "type": "incremental", "additional-conditions": [{"data-collection": "public.sig", "filter": "id > 3"}]}')`,
    ],
    offset: true,
  },
  {
    name: 'blocking snapshot from the signal table',
    sql: [
      `INSERT INTO debezium_signal VALUES ('golden-block', 'execute-snapshot', '{"data-collections": ["public.sig"], "type": "blocking"}')`,
    ],
    offset: true,
  },
  {
    name: 'streaming after the blocking snapshot',
    sql: ['UPDATE sig SET v = NULL WHERE id = 2'],
    offset: true,
  },
  {
    name: 'incremental snapshot from the Kafka channel',
    kafkaSignal: {
      type: 'execute-snapshot',
      data: { 'data-collections': ['public.sig'], type: 'INCREMENTAL' },
    },
    offset: true,
  },
]

/** Records of the initial snapshot. */
export const SNAPSHOT_RECORDS = 5
