/** The prose of docs/reference/postgres-cdc.md; scripts/gen-connector-docs.ts adds the keys from the ConfigDef. */
export const POSTGRES_CDC_DOC = `
# PostgreSQL change data capture (Debezium PostgresConnector)

Class: {{className}} (also \`PostgresConnector\`). One task per
connector. It reads a logical replication slot with its own decoder of the \`pgoutput\` protocol (version 2
with streaming of large transactions on PostgreSQL 14 and later, version 1 before; values as text) and emits change events in Debezium's format: topic \`<topic.prefix>.<schema>.<table>\`, key
\`<prefix>.<schema>.<table>.Key\`, value \`<prefix>.<schema>.<table>.Envelope\` (version 2: \`before\`, \`after\`,
\`source\`, \`transaction\`, \`op\`, \`ts_ms\`, \`ts_us\`, \`ts_ns\`), \`source\` = \`io.debezium.connector.postgresql.Source\`
(\`source.version\` is the Debezium release whose format we follow, 3.6.1.Final). Deletes are followed by a
tombstone; a primary key change is a delete, a tombstone and a create with \`__debezium.newkey\` /
\`__debezium.oldkey\` headers; unchanged TOAST values read \`__debezium_unavailable_value\`.
The initial and blocking snapshots read each table with \`COPY (SELECT …) TO STDOUT\` (the texts a query
returns, converted as the stream's are) in one REPEATABLE READ READ ONLY transaction; at most
\`snapshot.fetch.size\` rows, and at most 64 KiB of them, are read ahead of the records handed out, and
a poll (snapshot or streaming) hands out at most 512 records (or \`max.batch.size\` when smaller; \`max.batch.size\` under exactly-once on Kafka, where each poll is a transaction).

## Offsets and the slot

Partition \`{"server": "<topic.prefix>"}\`; offset keys \`lsn\`, \`lsn_proc\`, \`lsn_commit\`, \`txId\`, \`ts_usec\`,
\`messageType\`, during the initial (blocking) snapshot \`snapshot\` (\`INITIAL\`, \`BLOCKING\`), \`last_snapshot_record\`,
\`snapshot_completed\`, and while an incremental snapshot runs \`incremental_snapshot_collections\`,
\`incremental_snapshot_primary_key\`, \`incremental_snapshot_maximum_key\`, \`incremental_snapshot_correlation_id\`.
Keys of ours: \`kafka_signal_offset\` and \`blocking_snapshot_collections\` (see Signals), and
\`tx_events_processed\`, the number of change messages of transaction \`txId\` already handled, so a restart
inside a transaction resumes at the next message even when several share one LSN.
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

## Large transactions

On PostgreSQL 14 and later the task asks for protocol version 2 with \`streaming 'on'\`: a transaction larger than
the server's \`logical_decoding_work_mem\` is sent while it runs instead of being decoded onto the server's disk
(\`pg_replslot\`) and sent only after its commit. The task keeps such a transaction until its commit — in memory
up to \`pgoutput.streaming.buffer.bytes\`, beyond that in an unlinked temporary file in \`TMPDIR\` (it needs
about the size of the transaction's changes; the space is freed when the transaction was emitted or rolled
back, when the task stops, or when the process dies) — and emits it at its commit exactly as version 1 would:
same events, order, \`source\` fields, transaction metadata and offsets; a rolled-back transaction or savepoint
emits nothing. Streamed transactions also arrive sooner after their commit when \`logical_decoding_work_mem\`
is smaller, since the server still holds up to that much of each one until it commits.
\`pgoutput.streaming=false\` (Sluice only) keeps version 1. One difference comes from a PostgreSQL bug: in a
streamed transaction a transactional \`pg_logical_emit_message\` carries the top-level xid, so one emitted
inside a savepoint that is rolled back is still emitted.

## Signals

Signals come from the signal table (\`signal.data.collection\`, channel \`source\`: rows inserted into it are read
from the WAL and act at their position in the stream) and from Kafka (channel \`kafka\`: partition 0 of
\`signal.kafka.topic\`, records whose key is \`topic.prefix\` and whose value is
\`{"id": "…", "type": "execute-snapshot", "data": {"data-collections": ["public.orders"], "type": "blocking"}}\`; they
act between two polls). Types: \`execute-snapshot\` (\`incremental\` by default, or \`blocking\`),
\`stop-snapshot\`, \`pause-snapshot\`, \`resume-snapshot\`, \`log\`. As in Debezium, an incremental snapshot on
PostgreSQL writes its watermarks to the signal table, so it needs \`signal.data.collection\` even when triggered
through Kafka; a blocking snapshot does not.

- **Incremental** (DBLog watermarks): chunks of \`incremental.snapshot.chunk.size\` rows by primary key, interleaved
  with streaming, \`op: r\`, \`source.snapshot: incremental\`; \`additional-conditions\` filters are WHERE conditions.
- **Blocking**: streaming pauses right after the signal, the captured tables matching \`data-collections\`
  (full-match, case-insensitive regular expressions) are read like the initial snapshot (\`op: r\`,
  \`source.snapshot\` \`first\`/\`true\`/\`first_in_data_collection\`/\`last_in_data_collection\`/\`last\`), each
  \`additional-conditions\` entry's \`filter\` being a whole SELECT that replaces the table's \`SELECT *\`; then
  streaming resumes at the pause. Changes committed meanwhile are streamed afterwards (they may also be in the
  snapshot: at-least-once). The records carry the offset of the pause with \`snapshot: BLOCKING\`,
  \`last_snapshot_record\`, \`snapshot_completed\` and, ours, \`blocking_snapshot_collections\` (the tables left):
  after a restart during a blocking snapshot the remaining tables are read again (the interrupted one from its
  start) before streaming resumes — Debezium abandons the snapshot instead. A blocking snapshot that fails (e.g. a
  bad SELECT) is abandoned with a warning and streaming resumes, as in Debezium.
- **Filters and malformed signals**: a filter can only be one expression (incremental) or one query (blocking):
  \`;\`, comments, a \`)\` closing more than it opened, dollar quoting and backslashes in literals are refused,
  and every snapshot query runs as one statement (extended protocol) in a READ ONLY transaction, so nothing a
  filter calls can write. A malformed signal (not JSON, wrong types, unknown type, no id from the signal table,
  a bad filter) is logged, shown as the task's status trace and skipped, on both channels, as Debezium skips it;
  a filter failing on the server skips that table's incremental snapshot the same way.
- **Kafka channel position**: the Kafka offset of the last signal handled rides in the connector's offsets
  (\`kafka_signal_offset\`, ours), written with the records the signal causes, so a restart neither loses nor
  repeats a signal whose effect was stored; the group \`signal.kafka.groupId\` is committed after those offsets
  and is the start position only when the offsets have none (Debezium 3.x keeps the position in the group alone,
  auto-committed). A signal with no effect on any record (e.g. \`log\`) may run again after a restart.
- **Signal broker away**: streaming waits, the task stays RUNNING with the error as its status trace, and the
  channel reconnects with backoff (0.5 s to 10 s). \`signal.consumer.*\` takes \`security.protocol\`, \`sasl.mechanism\`
  (PLAIN, SCRAM-SHA-256/512), \`sasl.jaas.config\` (username/password), PEM \`ssl.truststore.*\`/\`ssl.keystore.*\`,
  \`ssl.endpoint.identification.algorithm\`, \`group.id\`, \`client.id\`, \`auto.offset.reset\`, \`request.timeout.ms\`;
  plain consumer tuning keys (\`enable.auto.commit\`, \`session.timeout.ms\`, \`fetch.min.bytes\`, …) are accepted
  without effect; anything else (JKS stores, GSSAPI, OAUTHBEARER) is refused with 400 naming the key.

## Failures in plain words

- \`wal_level\` not \`logical\`, a user without REPLICATION, no free replication slot, a \`slot.name\` of another
  plugin or database or held by a client other than Sluice: \`config/validate\` and create refuse the config
  (errors on \`database.hostname\`, \`database.user\`, \`slot.name\`) saying what fixes it; a task started anyway
  fails at start the same way.
- Table names that are not legal topic names: characters outside \`[a-zA-Z0-9._-]\` become \`_\` with a
  warning, as Debezium's topic naming strategy does.
- Slot active for another PID, invalidated (\`wal_status=lost\`), made for another plugin or database, dropped
  while streaming, or ahead of the stored offsets (dropped and recreated): the task fails naming the fix
  (usually \`snapshot.mode=when_needed\`). A lost connection (server restart) is retried with backoff and
  resumes after the last message handled.
- Captured tables without primary key and with REPLICA IDENTITY DEFAULT: a warning at start.

## Metrics

The task keeps Debezium's snapshot and streaming metrics (connector-metrics.ts), registered as Debezium
registers its MBeans, \`debezium.postgres:type=connector-metrics,context=snapshot|streaming,server=<topic.prefix>\`:
\`SnapshotRunning\`, \`SnapshotCompleted\`, \`SnapshotAborted\`, \`SnapshotPaused\`, \`TotalTableCount\`,
\`RemainingTableCount\`, \`RowsScanned\` (per table), \`SnapshotDurationInSeconds\`, \`MilliSecondsSinceLastEvent\`,
\`TotalNumberOfEventsSeen\`; \`Connected\`, \`MilliSecondsBehindSource\` (at the last change polled, against its
commit time), \`NumberOfCommittedTransactions\`. Initial, blocking and incremental snapshots all count; ours:
\`SnapshotType\` and \`RowsEstimated\` (the planner's estimate of each table, \`pg_class.reltuples\`, -1 when never
analyzed). The worker's \`GET /metrics\` prints them as
\`debezium_postgres_connector_metrics_<Attribute>{context,server}\` (\`key\` labels a table), and the web console
shows them on the connector's page.

## Not implemented

Debezium keys not listed below are ignored. Notably: \`decoderbufs\` decoding (read as pgoutput), the
file/JMX/in-process signal channels, the \`schema-changes\` signal, \`signal.poll.interval.ms\` (Kafka signals are read
continuously), \`read.only\` incremental snapshots, \`surrogate-key\` in signals, the logical decoding message
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
