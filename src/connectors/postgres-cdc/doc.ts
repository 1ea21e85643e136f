/** The prose of docs/reference/postgres-cdc.md; scripts/gen-connector-docs.ts adds the keys from the ConfigDef. */
export const POSTGRES_CDC_DOC = `
# PostgreSQL change data capture (Debezium PostgresConnector)

Class: {{className}} (also \`PostgresConnector\`). One task per
connector. It reads a logical replication slot with its own decoder of the \`pgoutput\` protocol (version 1,
values as text) and emits change events in Debezium's format: topic \`<topic.prefix>.<schema>.<table>\`, key
\`<prefix>.<schema>.<table>.Key\`, value \`<prefix>.<schema>.<table>.Envelope\` (version 2: \`before\`, \`after\`,
\`source\`, \`transaction\`, \`op\`, \`ts_ms\`, \`ts_us\`, \`ts_ns\`), \`source\` = \`io.debezium.connector.postgresql.Source\`
(\`source.version\` is the Debezium release whose format we follow, 3.6.1.Final). Deletes are followed by a
tombstone; a primary key change is a delete, a tombstone and a create with \`__debezium.newkey\` /
\`__debezium.oldkey\` headers; unchanged TOAST values read \`__debezium_unavailable_value\`.

## Offsets and the slot

Partition \`{"server": "<topic.prefix>"}\`; offset keys \`lsn\`, \`lsn_proc\`, \`lsn_commit\`, \`txId\`, \`ts_usec\`,
\`messageType\`, during the initial snapshot \`snapshot\` (\`INITIAL\`), \`last_snapshot_record\`,
\`snapshot_completed\`, and while an incremental snapshot runs \`incremental_snapshot_collections\`,
\`incremental_snapshot_primary_key\`, \`incremental_snapshot_maximum_key\`, \`incremental_snapshot_correlation_id\`.
One key is ours: \`tx_events_processed\`, the number of change messages of transaction \`txId\` already
handled, so a restart inside a transaction resumes at the next message even when several share one LSN.
The slot's flushed LSN moves only after the runtime committed the offsets of acknowledged records (to
their \`lsn_commit\`, the end of the last complete transaction).

Incremental snapshot keys are kept as Debezium keeps them, hex of a Java-serialized \`Object[]\` of the key
columns (the key of the last row sent, and the table's maximum key), so an incremental snapshot Debezium
left half done resumes in Sluice at the next row, and the other way round. Key columns of types
\`int2\`, \`int4\`, \`int8\`, \`oid\`, \`numeric\`, \`bool\`, \`float4\`, \`float8\`, \`uuid\`, \`date\`, \`text\`,
\`varchar\`, \`bpchar\`, \`name\`, \`time\`, \`timetz\`, \`timestamp\`, \`timestamptz\` and \`bit\` are covered
(Integer, Long, BigDecimal, Boolean, Float, Double, UUID, java.sql.Date, String, as Debezium's PostgreSQL
connector holds them; a \`java.sql.Date\` is written at UTC midnight). Keys with other types are written as
JSON arrays of texts, which Sluice reads but Debezium does not; a key Sluice cannot read (another Java class)
makes that table's incremental snapshot start over from its first row, with a warning.

## Failures in plain words

- \`wal_level\` not \`logical\`, a user without REPLICATION: the task fails at start saying which \`ALTER\` fixes it.
- Slot active for another PID, invalidated (\`wal_status=lost\`), made for another plugin or database, dropped
  while streaming, or ahead of the stored offsets (dropped and recreated): the task fails naming the fix
  (usually \`snapshot.mode=when_needed\`). A lost connection (server restart) is retried with backoff and
  resumes after the last message handled.
- Captured tables without primary key and with REPLICA IDENTITY DEFAULT: a warning at start.

## Not implemented

Debezium keys not listed below are ignored. Notably: \`decoderbufs\` decoding (read as pgoutput), blocking
snapshots, the Kafka/file/JMX signal channels, \`read.only\` incremental snapshots, the logical decoding message
filters (\`message.prefix.include.list\`/\`exclude.list\`; messages themselves are emitted on \`<prefix>.message\`),
\`column.truncate/mask.*\`, \`column.propagate.source.type\`,
\`snapshot.select.statement.overrides\`, \`snapshot.max.threads\`, \`offset.mismatch.strategy\`,
\`lsn.flush.mode\`, \`publish.via.partition.root\`, \`replica.identity.autoset.values\`, \`xmin.fetch.interval.ms\`,
PostGIS and pgvector types (left out like other unknown types unless \`include.unknown.datatypes\`).

## Types

As Debezium 3.6.1 maps them (checked against events captured from it, test/golden/): among others \`point\` as
\`io.debezium.data.geometry.Point\` (\`x\`, \`y\`, \`wkb\` of the 2D point, no \`srid\`), \`hstore\` as a JSON string
(keys in the order Debezium's Java HashMap gives them) or a map, \`ltree\` as \`io.debezium.data.Ltree\`, \`citext\`,
\`isbn\`, network and range types as strings, \`tsvector\` as \`io.debezium.data.Tsvector\`, \`money\` by
\`money.fraction.digits\`, and every \`time.precision.mode\`. The other geometric types (\`box\`, \`circle\`,
\`line\`, \`lseg\`, \`path\`, \`polygon\`) have no mapping in 3.6.1: with \`include.unknown.datatypes\` they are the bytes
of their text with Java's doubles (\`(1.0,1.0),(0.0,0.0)\`). Arrays of \`point\`, \`money\`, \`interval\`, \`name\`,
\`varbit\` and \`xml\` are left out, as by Debezium.

## Settings

{{config}}
`
