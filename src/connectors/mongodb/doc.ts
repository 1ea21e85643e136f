/** The prose of docs/reference/mongodb-sink.md and mongodb-source.md; scripts/gen-connector-docs.ts adds the keys. */
export const MONGODB_SINK_DOC = `
# MongoDB sink connector

{{className}} (also \`MongoSinkConnector\`, \`MongoSink\`): a drop-in for the official MongoDB Kafka
connector's sink, with its keys, defaults, class names and write models. Records are turned into
BSON documents (a \`Struct\` by its schema; a schemaless map as Java's JsonConverter hands it over,
integers as int64; a JSON string as Extended JSON; bytes as raw BSON), run through the post
processors and written with one \`bulkWrite\` per run of consecutive records of one topic and
namespace (at most \`max.batch.size\`) before \`put\` returns, so the offsets committed cover only
written documents.

\`\`\`properties
name=orders-to-mongo
connector.class=com.mongodb.kafka.connect.MongoSinkConnector
topics=orders
connection.uri=mongodb://mongo1:27017,mongo2:27017/?replicaSet=rs0
database=shop
collection=orders
document.id.strategy=com.mongodb.kafka.connect.sink.processor.id.strategy.ProvidedInKeyStrategy
delete.on.null.values=true
errors.tolerance=all
errors.deadletterqueue.topic.name=orders-dlq
\`\`\`

## Ids and write models

| \`document.id.strategy\` (package \`com.mongodb.kafka.connect.sink.processor.id.strategy\`) | \`_id\` |
|---|---|
| \`BsonOidStrategy\` (default) | a new ObjectId per record: replays insert again |
| \`UuidStrategy\` | a random UUID, as a string or binary (\`document.id.strategy.uuid.format\`) |
| \`KafkaMetaDataStrategy\` | \`<topic>#<partition>#<offset>\` |
| \`FullKeyStrategy\` | the key document (\`{}\` without a key) |
| \`PartialKeyStrategy\` / \`PartialValueStrategy\` | the key or value projected by an allow or block list |
| \`ProvidedInKeyStrategy\` / \`ProvidedInValueStrategy\` | the key's or value's \`_id\` (an error when missing or null) |
| \`UuidProvidedInKeyStrategy\` / \`UuidProvidedInValueStrategy\` | the same, as UUID binary |

| \`writemodel.strategy\` (package \`com.mongodb.kafka.connect.sink.writemodel.strategy\`) | operation |
|---|---|
| \`DefaultWriteModelStrategy\` (default), \`ReplaceOneDefaultStrategy\` | \`replaceOne({_id}, value, upsert)\` |
| \`ReplaceOneBusinessKeyStrategy\` | \`replaceOne(<_id fields>, value without _id, upsert)\`; the id must be a document (Partial* strategies; flattened to dotted paths) |
| \`UpdateOneDefaultStrategy\` | \`updateOne({_id}, {$set: value}, upsert)\` |
| \`UpdateOneTimestampsStrategy\` | \`updateOne({_id}, {$set: value + _modifiedTS, $setOnInsert: {_insertedTS}}, upsert)\` |
| \`UpdateOneBusinessKeyTimestampStrategy\` | the same with the business-key filter |
| \`InsertOneDefaultStrategy\` | \`insertOne(value)\` |
| \`DeleteOneDefaultStrategy\`, \`DeleteOneBusinessKeyStrategy\` | \`deleteOne\` by the key, or by the value's business key |

A tombstone (null value) deletes only with \`delete.on.null.values=true\` (filter \`{_id: <id from
the key>}\`, so the id strategy must read the key) or \`delete.writemodel.strategy=DeleteOneTombstoneBusinessKeyStrategy\`
(the key document is the filter); otherwise it is an error handled per \`errors.tolerance\`.

## Change events (\`change.data.capture.handler\`)

With a handler the post processors and the write-model strategy are bypassed:

- \`…cdc.debezium.rdbms.RdbmsHandler\` and its \`postgres.PostgresHandler\` / \`mysql.MysqlHandler\`:
  Debezium's relational envelope — Sluice's own PostgreSQL CDC connector's output included.
  \`c\`/\`r\`/\`u\` replace (upsert) the document whose \`_id\` is a sub-document of the key's fields,
  with the \`after\` image minus the key fields; \`d\` deletes it; tombstones and DDL events write
  nothing. A table without a key needs \`REPLICA IDENTITY FULL\` (the \`before\` image is the filter).
- \`…cdc.debezium.mongodb.MongoDbHandler\` (oplog format) and \`…cdc.debezium.mongodb.ChangeStreamHandler\`:
  Debezium's MongoDB connector's events (\`after\`/\`patch\` as Extended JSON strings).
- \`…cdc.mongodb.ChangeStreamHandler\`: MongoDB change events, as the MongoDB source publishes them:
  insert and replace → replaceOne (upsert) by \`documentKey\`, update → replace by \`fullDocument\`
  when present, else \`$set\`/\`$unset\` from \`updateDescription\`, delete → deleteOne.

## Errors

- A record that cannot become a write model (a key the id strategy cannot read, a missing \`_id\`,
  a tombstone without deletes) and each document the server refuses (the \`BulkWriteError\`'s
  per-index write errors: duplicate keys, validation) go to the errant record reporter: with
  \`errors.tolerance=all\` to the dead-letter topic with the \`__connect.errors.*\` headers, else the
  task fails. In an ordered bulk write the server stops at the first refused document; the documents
  after it are written by a new bulk write, so one bad record drops and reorders nothing.
- The server unreachable (network, server selection, a primary stepping down): the batch is
  redelivered after a backoff doubling from 1 s to 60 s, until the server is back.
- Refused credentials fail the task naming \`connection.uri\`.

Differences from the official connector: the \`mongo.errors.*\` overrides, \`timeseries.*\`
collection creation, \`field.value.transformer\`, \`max.num.retries\`/\`retries.defer.timeout\` (removed
in 1.7) and custom strategy classes are not available. Keys that are not documents (a plain string
key) fail only records whose strategy reads the key.

Tested against mongo-java-server 1.47.0 (scripts/mongo.ts): every id strategy, write model, post
processor, namespace mapper, \`topic.override.*\`, per-write failures (ordered and unordered), the RDBMS
handler on events of the PostgreSQL CDC connector through Kafka, and the change-stream handler on
events recorded from a real MongoDB (update descriptions, replaces).

## Settings

Every key but \`connection.uri\` can be set for one topic as \`topic.override.<topic>.<key>\`.

{{config}}
`

export const MONGODB_SOURCE_DOC = `
# MongoDB source connector

{{className}} (also \`MongoSourceConnector\`, \`MongoSource\`): a drop-in for the official MongoDB
Kafka connector's source. One change stream on a collection (\`database\` and \`collection\`), a
database (\`database\` only) or the whole deployment (neither), so one task whatever \`tasks.max\`
is. Each event becomes a record on \`[topic.prefix.]<db>.<coll>[.topic.suffix]\` (or per
\`topic.namespace.map\`), keyed by its \`documentKey\` (\`change.stream.document.key.as.key\`), valued
with the whole event or, with \`publish.full.document.only\`, the document.

\`\`\`properties
name=outbox
connector.class=com.mongodb.kafka.connect.MongoSourceConnector
connection.uri=mongodb://mongo1:27017,mongo2:27017/?replicaSet=rs0
database=shop
collection=outbox
pipeline=[{"$match": {"operationType": "insert"}}]
publish.full.document.only=true
\`\`\`

## Offsets

The official connector's: partition \`{"ns": "mongodb://<hosts>/<db>[.<coll>]"}\` (or
\`{"ns": "<offset.partition.name>"}\`), offset \`{"_id": "<resume token as JSON>"}\`, so a connector
moved from Kafka Connect resumes where it stopped (with \`startAfter\`). While copying existing data
the offset is \`{"_id": "{\\"_id\\": <doc id>, \\"copyingData\\": true}", "copy": "true"}\`; a restart
during the copy copies again. The last copied record stores the token the stream was opened at
(when the server gives one), so a restart after the copy streams instead of copying again. Heartbeats (\`heartbeat.interval.ms\`) store
\`{"_id": <token>, "HEARTBEAT": "true"}\` and send the token to \`heartbeat.topic.name\`.

## Starting

Without offsets, \`startup.mode\` decides: \`latest\`, \`timestamp\`
(\`startup.mode.timestamp.start.at.operation.time\`) or \`copy_existing\`: the stream is opened, then
the documents of the namespaces matching \`startup.mode.copy.existing.namespace.regex\` are published
as insert events (through \`startup.mode.copy.existing.pipeline\`, then the \`$replaceRoot\` of the
official connector, then \`pipeline\`), then the changes made since the stream was opened. The
1.5-era \`copy.existing*\` keys are accepted.

## Failures

- The server unreachable: the stream is reopened from the last event read, with a backoff doubling
  from 1 s to 30 s; meanwhile the task stays RUNNING with the problem as its trace.
- The stored resume token is no longer in the oplog (\`ChangeStreamHistoryLost\`): with
  \`errors.tolerance=none\` the task fails saying the changes since are lost and how to start over
  (reset the offsets or set a new \`offset.partition.name\`; \`startup.mode=copy_existing\` copies the
  current documents); with \`errors.tolerance=all\` it starts again per \`startup.mode\`, logged as an
  error and shown in the task's status — never silently from now, as the official connector does.
- An event that cannot be converted (e.g. a document missing a required field of
  \`output.schema.value\`) fails the task, or with \`errors.tolerance=all\` is logged and skipped.

## What was tested against which server

The only MongoDB available to the test suite is mongo-java-server 1.47.0 (scripts/mongo.ts), whose
change streams are faithful for collection-level inserts and deletes, \`startAfter\` resumption, a
\`$match\` pipeline and \`$replaceRoot\` aggregations. Against it: inserts and deletes, resume after a
restart, \`publish.full.document.only\`, \`pipeline\`, \`copy_existing\` with its pipeline, the output
formats, a server that goes away and comes back, and the outbox example end to end. It does not
produce faithful update or replace events (no \`updateDescription\`, replaces shown as updates), has no
\`ns\` field (the watched namespace is used for the topic), no database- or deployment-wide streams, no
transactions, no \`postBatchResumeToken\` and never reports a lost resume token. Those are tested
with events recorded from MongoDB's documentation and the official connector's tests (update and
replace shapes, database-wide namespaces, topic mapping, the JSON formatters) and with server replies
scripted at the wire protocol: database- and deployment-wide streams (\`aggregate: 1\`,
\`allChangesForCluster\`), heartbeats from \`postBatchResumeToken\`s, a lost resume token (error 286 with
the server's message) and refused credentials.

## Settings

{{config}}
`
