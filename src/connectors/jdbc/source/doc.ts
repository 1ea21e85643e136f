/** The prose of docs/reference/jdbc-source.md; scripts/gen-connector-docs.ts adds the keys from the ConfigDef. */
export const JDBC_SOURCE_DOC = `
# JDBC source connector

{{className}} (also \`JdbcSourceConnector\`, \`JdbcSource\`): a drop-in for Confluent's JDBC source
(kafka-connect-jdbc 10.x). It copies tables — or one custom query — of **PostgreSQL**, **MySQL/MariaDB**
and **SQLite** into Kafka topics by polling them with SQL. Existing connector JSON works unchanged,
and offsets written by Confluent's connector are resumed.

\`\`\`json
{
  "name": "my-cool-task",
  "config": {
    "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
    "connection.url": "jdbc:postgresql://db:5432/shop",
    "connection.user": "kafka", "connection.password": "\${env:DATABASE_PASSWORD}",
    "mode": "timestamp+incrementing",
    "timestamp.column.name": "modified", "incrementing.column.name": "id",
    "topic.prefix": "postgres-"
  }
}
\`\`\`

URLs: \`jdbc:postgresql://host[:port]/db[?currentSchema=…&sslmode=…]\`, \`jdbc:mysql://host[:port]/db\`,
\`jdbc:mariadb://host[:port]/db\`, \`jdbc:sqlite:/path/file.db\`. A user and password in the URL work too;
\`connection.user\`/\`connection.password\` win.

## Modes and the SQL they run

| mode | sees | query (\`ts\` is \`COALESCE(c1, c2, …)\` with several timestamp columns) | offset |
|---|---|---|---|
| \`bulk\` | the whole table, every poll | \`SELECT * FROM t\` | none |
| \`incrementing\` | inserts | \`… WHERE inc > ? ORDER BY inc ASC\` (start: -1) | \`{"incrementing": id}\` |
| \`timestamp\` | inserts and updates | \`… WHERE ts > ? AND ts < ? ORDER BY ts ASC\` | \`{"timestamp": ms, "timestamp_nanos": n}\` |
| \`timestamp+incrementing\` | inserts and updates | \`… WHERE ts < ? AND ((ts = ? AND inc > ?) OR ts > ?) ORDER BY ts,inc ASC\` | all three |

The upper bound is the **database clock** minus \`timestamp.delay.interval.ms\`, read before each query,
and both bounds are exclusive. \`query.suffix\` is appended last. Deletes are never seen (use the
PostgreSQL CDC connector for those).

Topics are \`topic.prefix\` + the table's unqualified name (query mode: \`topic.prefix\` alone). Records
have no key (add \`ValueToKey\`/\`ExtractField\` transforms for one) and a struct value named after the table.

## Offsets (compatible with Confluent's)

Partition \`{"table": "public.orders", "protocol": "1"}\` (PostgreSQL \`schema.table\`, MySQL \`database.table\`,
SQLite \`table\`); the older \`{"table": "orders"}\` partition is read when no v1 offset exists. Query mode uses
\`{"query": "query"}\`. Offset values are JSON numbers; \`timestamp_nanos\` keeps sub-millisecond precision
so microsecond timestamps are not read again and again.

## Types

| SQL | Connect |
|---|---|
| boolean (MySQL \`BIT(1)\`) | BOOLEAN |
| smallint / integer / bigint (MySQL TINYINT → INT8; UNSIGNED → one size up) | INT16 / INT32 / INT64 |
| real / double | FLOAT32 / FLOAT64 |
| NUMERIC(p,s) | by \`numeric.mapping\`: Decimal (\`scale\`, \`connect.decimal.precision\`), INT8…INT64 or FLOAT64 |
| MySQL DECIMAL | always Decimal (as Confluent) |
| char, varchar, text, json, jsonb, uuid, enum, other text-like types | STRING |
| bytea, BLOB, (VAR)BINARY | BYTES |
| date / time / timestamp, timestamptz, DATETIME | Connect Date / Time / Timestamp |
| PostgreSQL one-dimensional arrays of the types above | ARRAY (Confluent drops array columns) |

Nullable columns give optional fields. Timestamps without a zone are read in \`db.timezone\`; the
connection's session zone is set to it, so bounds bound into the queries mean the same instants.

## Differences from Confluent's connector (on purpose)

- **Validation that names the key**: \`config/validate\` and \`POST /connectors\` connect to the database and
  report a whitelisted table that does not exist, a missing incrementing/timestamp column (listing the
  columns there are), a column of the wrong type, a nullable column (\`validate.non.null\`), a custom
  query that fails, and a table whose topic name Kafka would refuse (characters outside \`[a-zA-Z0-9._-]\`,
  over 249 characters; Confluent's producer fails the task on it at runtime) — each on the key to fix.
- **Warnings at start** when a polled column leads no index (every poll scans the table), and when rows
  may commit out of order (incrementing mode; \`timestamp.delay.interval.ms=0\`, explicitly when a
  PostgreSQL timestamp column defaults to \`now()\`, the transaction's start time).
- **Late commits on PostgreSQL** (opt-in \`wait.for.open.transactions=true\`): before a read, the task
  fixes its bound — the database clock in timestamp modes, the id sequence's last value (read before the
  clock) in incrementing mode, where the query becomes \`… WHERE inc > ? AND inc <= ? ORDER BY inc\` — then
  waits until every other transaction of the database that started before it has ended. Rows a long
  transaction stamps with \`now()\`, or ids it took before a later transaction committed a higher one, are
  then read when it commits instead of skipped (kafka-connect-jdbc#27), without guessing a
  \`timestamp.delay.interval.ms\`. Other tables are read meanwhile; a transaction left open holds its
  table back, with a warning every 30 s naming it. Application-supplied timestamps are not covered.
- **Rows sharing a timestamp are never lost**: in \`timestamp\` mode a record carries its own timestamp as
  offset only when the next row is strictly later (Confluent's rule since PR #1093, here from the start),
  so a restart inside a group re-reads it. \`timestamp+incrementing\` offsets are exact. The exclusive
  upper bound keeps rows stamped at "now" for the next poll.
- **Streaming reads**: rows come through a cursor (PostgreSQL) or a streamed result (MySQL, SQLite),
  \`batch.max.rows\` at a time, one batch fetched ahead; memory does not grow with the table.
- **Lost connections**: the task reconnects every \`connection.backoff.ms\` and re-runs the interrupted
  query from the last offset it handed out — no row lost, at most that query's rows repeated. The task
  stays RUNNING and logs each try; \`query.retry.attempts\` (default -1, forever) bounds the retries.
- **A dropped table** is skipped by its task until the table monitor reassigns the tables.
- SQLite timestamps are compared normalised (\`strftime('%Y-%m-%d %H:%M:%f', …)\`), so text timestamps of
  different spellings compare correctly.

## Not supported

\`query.masked\`, \`timestamp.granularity\` (always Connect logical timestamps), \`transaction.isolation.mode\`,
\`jdbc.credentials.provider.class\`, \`incrementing.column.mapping\`/\`timestamp.columns.mapping\`,
\`poll.linger.ms\`/\`max.buffer.size\` (10.9's threaded poll loop), \`date.calendar.system\`, and databases
other than PostgreSQL, MySQL/MariaDB and SQLite. Unknown keys are ignored, as Kafka Connect does.

## Settings

{{config}}
`
