/** The prose of docs/reference/s3-sink.md; scripts/gen-connector-docs.ts adds the keys from the ConfigDef. */
export const S3_SINK_DOC = `
# S3 sink connector

{{className}} (also \`S3SinkConnector\`): Confluent's S3 sink, with its keys, object names and
formats, for AWS S3 and S3-compatible stores (MinIO, Ceph, s3proxy; set \`store.url\`). A configuration
written for Confluent's connector runs unchanged, with two exceptions: \`avro.codec\` snappy and bzip2
are not written yet, and \`keys.format.class\`/\`headers.format.class\` default to JSON (Confluent's
default is Avro; headers are written as JSON only).

\`\`\`properties
name=lake
connector.class=io.confluent.connect.s3.S3SinkConnector
storage.class=io.confluent.connect.s3.storage.S3Storage
topics=pg.public.orders
s3.bucket.name=lake
s3.region=us-east-1
store.url=http://minio:9000
aws.access.key.id=minio
aws.secret.access.key=minio123
format.class=io.confluent.connect.s3.format.parquet.ParquetFormat
flush.size=10000
rotate.schedule.interval.ms=600000
timezone=UTC
\`\`\`

## Objects

\`<topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<start offset>.<extension>\`, the start
offset being the first record's, zero-padded to \`filename.offset.zero.pad.width\` digits:

| partitioner | encoded partition |
|---|---|
| \`DefaultPartitioner\` | \`partition=<kafka partition>\` |
| \`FieldPartitioner\` | \`<field>=<value>\` for each of \`partition.field.name\` (nested fields with dots; \`null\` for a null) |
| \`TimeBasedPartitioner\` | the record's time rounded down to \`partition.duration.ms\` in \`timezone\`, formatted with \`path.format\` (Joda-Time: \`YYYY\` is the year) |
| \`DailyPartitioner\`, \`HourlyPartitioner\` | \`year=YYYY/month=MM/day=dd\`, plus \`/hour=HH\` |

| format | extension | content |
|---|---|---|
| \`JsonFormat\` | \`.json\` (\`.json.gz\`) | one JSON document per line, as \`JsonConverter\` writes with schemas off |
| \`ByteArrayFormat\` | \`format.bytearray.extension\` (\`.bin\`) | each value's bytes, then \`format.bytearray.separator\` |
| \`ParquetFormat\` | \`.<parquet.codec>.parquet\` | rows of the file's Struct schema; nested structs, arrays, maps, Decimal, Date, Time, Timestamp |
| \`AvroFormat\` | \`.avro\` | an Avro container file (\`avro.codec\` null or deflate) in the schema Confluent's \`AvroData\` gives the Connect schema |

A rotation commits every open file of a Kafka partition: after \`flush.size\` records, at a value schema
change that \`schema.compatibility\` does not accept, every \`rotate.interval.ms\` of record time (with a
time-based partitioner), and on the wall-clock schedule of \`rotate.schedule.interval.ms\` — which,
unlike Confluent's, also fires when no record arrives. With \`store.kafka.keys\` / \`store.kafka.headers\`,
\`<name>.keys<ext>\` and \`<name>.headers<ext>\` files hold the keys and headers (JSON or ByteArray).
Null values: \`behavior.on.null.values\` fails (a record for the dead-letter queue when
\`errors.tolerance=all\`), ignores them, or writes their keys under \`tombstone.encoded.partition\`.

## Exactly once, and which objects are complete

After each rotation the task writes a commit marker,
\`<topics.dir>/_sluice/commits/<topic>+<partition>.json\` (\`{"endOffset": …, "objects": […]}\`): every
record up to \`endOffset\` is in a completed object. Only then does it report the consumer offset to the
worker. When a partition is assigned, the task reads the marker, deletes the objects of that partition
that start after \`endOffset\` (left by a run that died before recording them) and resumes from
\`endOffset + 1\`. So a worker killed at any moment neither loses a record nor leaves one in two objects,
whatever the rotation rule — scheduled and wall-clock rotations included, where Confluent's sink can
duplicate. Objects are written with \`If-None-Match: *\` (\`enable.conditional.writes\`); an object found
at the name is one such leftover and is replaced. Readers that want only complete data read objects
whose start offset is at most the marker's \`endOffset\`.

The marker is the bucket's word on where the connector is: without one (a bucket written by Confluent's
connector) the consumer group's offsets stand. To export a topic again, delete the marker as well as
the objects.

## Memory

Each open file buffers at most one \`s3.part.size\` part (uploaded as a multipart part when full; a
smaller file is one PutObject); a Parquet file also holds up to 4 MiB of row values before encoding
them as a row group. Memory is therefore about \`s3.part.size\` × open files.

## Failures

Validation asks the store: a bucket that does not exist, credentials it refuses and an endpoint that
cannot be reached are errors on \`s3.bucket.name\`, \`aws.access.key.id\` and \`store.url\`. At run time a
failing request is retried \`s3.part.retries\` times (\`s3.retry.backoff.ms\`, doubling), then the batch is
redelivered after \`retry.backoff.ms\`; meanwhile the task stays RUNNING with the cause in its status,
nothing is committed past what is in the store, and open files resume where they stopped. A record
that cannot be written in the format (schemaless data into Parquet, a non-bytes value for ByteArray)
goes to the dead-letter queue per \`errors.tolerance\`.

\`s3.checksum.mode=WHEN_REQUIRED\` turns off the AWS SDK's default CRC32 checksums for stores that reject
them.

## Settings

{{config}}
`
