/** The prose of docs/reference/jdbc-sink.md; scripts/gen-connector-docs.ts adds the keys from the ConfigDefs. */
export const JDBC_SINK_DOC = `
# JDBC sink connector

Writes records from Kafka topics into PostgreSQL, MySQL/MariaDB or SQLite tables. Two classes, one
implementation, each with the keys and defaults of the connector it replaces:

- \`io.confluent.connect.jdbc.JdbcSinkConnector\` (also \`JdbcSinkConnector\`, \`JdbcSink\`): Confluent’s keys.
- \`io.debezium.connector.jdbc.JdbcSinkConnector\`: Debezium’s keys; reads Debezium change events
  directly (op \`c\`/\`r\`/\`u\` → upsert of \`after\`, \`d\` → delete by key when \`delete.enabled\`, \`t\` →
  truncate when \`truncate.enabled\`) as well as flat records unwrapped by \`ExtractNewRecordState\`. As in
  Debezium, a tombstone is a delete by key when \`delete.enabled=true\` (after the unwrap SMT it is the
  only form a delete takes) and is skipped otherwise, like \`d\` events.

Subscribe with the framework keys \`topics\` (a list) or \`topics.regex\` (e.g. \`tote_.*\`).

## Behaviour

- **Delivery.** One write (one database transaction) runs at a time while the worker fetches and
  converts the next records; the rows of the \`put()\` calls made meanwhile wait behind it and the
  next write takes them all in one transaction (\`put()\` waits once \`batch.size\` rows wait). Every
  row is committed before the worker commits the consumer offsets that cover it: at-least-once. With
  \`insert.mode=upsert\` a replay after a crash rewrites the same rows (idempotent).
- **Statements.** Consecutive rows for the same table and columns become one multi-row statement:
  PostgreSQL \`INSERT … ON CONFLICT (pk) DO UPDATE SET c=EXCLUDED.c\` (by default through \`COPY\` into a
  temporary table, see \`sluice.postgres.bulk.mode\`), MySQL/MariaDB \`INSERT … ON DUPLICATE KEY UPDATE
  c=VALUES(c)\`, SQLite \`INSERT … ON CONFLICT (pk) DO UPDATE SET c=excluded.c\`. Deletes are
  \`DELETE … WHERE (pk) IN (…)\`. Within one batch, rows for the same key keep their order (an upsert
  after a delete is not lost).
- **Bad rows.** If a batch fails for anything but the connection, it is rolled back and replayed one
  row at a time under a savepoint: the good rows commit, each bad row goes to the errant-record
  reporter (\`errors.tolerance=all\` + \`errors.deadletterqueue.topic.name\` → dead-letter topic; with
  \`errors.tolerance=none\` the task fails naming the record). Records the sink cannot map (no schema,
  nested STRUCT, a tombstone with \`delete.enabled=false\`) are handled the same way.
- **Connection errors** (refused, reset, server shutting down) are retried: the batch is redelivered
  after \`retry.backoff.ms\` (\`flush.retry.delay.ms\`), up to \`max.retries\` (\`flush.max.retries\`) times in
  a row, then the task fails.
- **Identifiers** from topics and field names are always escaped: a topic \`x"; DROP TABLE y; --\` is a
  table of that name. With \`quote.sql.identifiers=never\` (Debezium: \`quote.identifiers=false\`) plain
  names are folded to lower case on PostgreSQL, as unquoted SQL would, and still written quoted.
- **Table names.** \`\${topic}\` is replaced by the topic; \`schema.table\` (PostgreSQL) or
  \`database.table\` (MySQL) selects another schema/database. Debezium’s flavour turns dots in the topic
  into underscores and also replaces \`\${source.db}\`, \`\${source.schema}\`, \`\${source.table}\`.
  A tombstone has no \`source\` block: with a \`\${source.*}\` name it is skipped with a warning, as
  Debezium's DefaultCollectionNamingStrategy skips it (the delete event before it deletes the row). On
  PostgreSQL a table or column name over 63 bytes is refused naming it (PostgreSQL would silently cut it).

## Column types (auto.create / auto.evolve, schema.evolution=basic)

| Connect schema | PostgreSQL | MySQL/MariaDB | SQLite |
|---|---|---|---|
| INT8 / INT16 / INT32 / INT64 | SMALLINT / SMALLINT / INT / BIGINT | TINYINT / SMALLINT / INT / BIGINT | INTEGER |
| FLOAT32 / FLOAT64 | REAL / DOUBLE PRECISION | FLOAT / DOUBLE | REAL |
| BOOLEAN | BOOLEAN | TINYINT | INTEGER |
| STRING | TEXT | LONGTEXT; VARCHAR(255) in a primary key | TEXT |
| BYTES | BYTEA | LONGBLOB; VARBINARY(255) in a primary key | BLOB |
| Decimal (scale s) | DECIMAL(p,s), p = \`connect.decimal.precision\` or \`sluice.decimal.default.precision\` | same | NUMERIC |
| Date / Time / Timestamp | DATE / TIME / TIMESTAMP | DATE / TIME(6) / DATETIME(6) | TEXT (ISO-8601) |
| io.debezium.time.{Date, Time, MicroTime, Timestamp, MicroTimestamp, NanoTimestamp} | DATE / TIME / TIMESTAMP | DATE / TIME(6) / DATETIME(6) | TEXT |
| io.debezium.time.ZonedTimestamp | TIMESTAMPTZ | DATETIME(6) (converted to UTC) | TEXT |
| io.debezium.data.Json / Uuid | JSONB / UUID | JSON / CHAR(36) | TEXT |
| ARRAY | \`<element>[]\` | not supported | not supported |
| STRUCT, MAP | not supported: flatten first (\`Flatten$Value\`) | | |

Optional fields become \`NULL\` columns, required ones \`NOT NULL\`, schema defaults become \`DEFAULT\`.
auto.evolve only adds columns (optional or with a default); it never drops, renames or retypes one
and never changes the primary key. Timestamps are written as wall-clock time in \`db.timezone\`
(\`use.time.zone\`).

## Keys of \`io.confluent.connect.jdbc.JdbcSinkConnector\`

{{config:io.confluent.connect.jdbc.JdbcSinkConnector}}

## Keys of \`io.debezium.connector.jdbc.JdbcSinkConnector\`

{{config:io.debezium.connector.jdbc.JdbcSinkConnector}}

## Not supported yet

- Confluent: \`jdbc.credentials.provider.class\`, \`date.timezone\`, \`timestamp.fields.list\`,
  \`trim.sensitive.log\`, \`mssql.*\`; other databases than PostgreSQL, MySQL/MariaDB and SQLite.
- Debezium: \`primary.key.mode=record_header\`, \`use.reduction.buffer\`, \`keyed.message.batch.mode\`,
  naming strategies, connection pool keys (one connection per task), \`__debezium.source.column.*\`
  type propagation.
- Schemaless (map) values: the sink needs records with schemas.
`
