/** Prose of docs/reference/rest-proxy.md; `{{config}}` is replaced by the worker keys. */
export const REST_PROXY_DOC = `
# REST proxy (served by the worker)

A worker serves the produce API of Confluent's REST Proxy when \`rest.proxy.listeners\` is set, e.g.
\`rest.proxy.listeners=http://0.0.0.0:8082\`. Records go into the worker's log: Kafka, or the
embedded log when the worker runs without Kafka. Avro and JSON Schema data use the worker's schema
registry (see [schema-registry.md](schema-registry.md)), which runs in the worker whenever the proxy
does, and are written in Confluent's wire format (byte 0, the 4-byte schema id, then the Avro
binary or JSON body).

## https and authentication

The proxy's listener takes the same keys as the registry's (see
[schema-registry.md](schema-registry.md#https-and-authentication)) under the \`rest.proxy.\` prefix,
as Confluent's REST Proxy takes them from rest-utils: \`rest.proxy.listeners=https://…\`,
\`rest.proxy.ssl.keystore.location\`, \`rest.proxy.ssl.keystore.password\`,
\`rest.proxy.ssl.key.password\`, \`rest.proxy.ssl.truststore.*\`,
\`rest.proxy.ssl.client.authentication\`, \`rest.proxy.authentication.method=BASIC\`,
\`rest.proxy.authentication.realm\`, \`rest.proxy.authentication.roles\` and
\`rest.proxy.authentication.credentials.file\`. A request without valid credentials gets 401
\`{"error_code":401,"message":"Unauthorized"}\`.

## v2

\`POST /topics/{topic}\` and \`POST /topics/{topic}/partitions/{p}\` with content type
\`application/vnd.kafka.{json|binary|avro|jsonschema}.v2+json\` (\`application/vnd.kafka.v2+json\` and
\`application/json\` mean binary). Body: \`{"records": [{"key"?, "value"?, "partition"?}], "key_schema"?,
"key_schema_id"?, "value_schema"?, "value_schema_id"?}\`. A schema given as text is registered under
\`<topic>-key\` or \`<topic>-value\`. Avro data is Avro's JSON encoding (unions as \`{"type": value}\`);
plain values of the schema are accepted too. Answer (\`application/vnd.kafka.v2+json\`):
\`{"key_schema_id", "value_schema_id", "offsets": [{"partition", "offset", "error_code", "error"}]}\`,
one offset per record in order; a log that cannot take the records gives per-record 50002 (or
retriable 50003) errors, and one that refuses them 40301 (Kafka's authorization failure): the
embedded log's own \`connect-offsets\` topic, which only the worker writes. Through v3 the same
refusal, and deleting that topic, is 403 with 40301.

## v3

- \`GET /v3/clusters\`, \`GET /v3/clusters/{cluster_id}\`: the log's cluster id.
- \`GET /v3/clusters/{cluster_id}/topics\`, \`GET|DELETE …/topics/{topic}\`, \`POST …/topics\`
  \`{"topic_name", "partitions_count"?, "replication_factor"?, "configs"?: [{name, value}]}\` (201; an
  existing topic is 400 with 40002; a missing one 404 with 40403).
- \`POST /v3/clusters/{cluster_id}/topics/{topic}/records\`: \`{"partition_id"?, "headers"?: [{name,
  value (base64)}], "key"?, "value"?, "timestamp"?}\`, where key and value are \`{"type": "BINARY"|"JSON"|
  "STRING", "data"}\` or schema-based: \`{"schema_id"|"schema_version"|"schema", "schema_type"?,
  "subject"? | "subject_name_strategy"?, "data"}\` (strategies TOPIC_NAME, the default, \`<topic>-key|value\`;
  RECORD_NAME, the record's full name; TOPIC_RECORD_NAME, \`<topic>-<record name>\`; no type and no
  schema: the latest schema of the subject). One JSON object answers with its
  delivery report (\`error_code\` 200, \`partition_id\`, \`offset\`, \`timestamp\`, \`key\`/\`value\` sizes and
  schema ids). Several concatenated objects, or a chunked body, are streaming mode: one report per
  record, in order, one JSON object per line.
- \`POST /v3/clusters/{cluster_id}/topics/{topic}/records:batch\`: \`{"entries": [{"id", …record}]}\` →
  207 \`{"successes": [...], "failures": [{"id", "error_code", "message"}]}\`.

## Errors

Bad input is a 4xx, never a 5xx: 40401 topic not found (with \`rest.proxy.auto.create.topics=false\`),
40402 partition not found, 40403 schema not found, 42201 keys without a key schema, 42202 values
without a value schema, 42203 data that does not fit its schema, 42205 invalid schema, 42206 payload
error, 42208 bad batch, 400 bad v3 data, 415 an unknown content type.

Not served: consumers, partition and config endpoints, ACLs, Protobuf, https and authentication on this
listener.

## Worker keys

{{config}}
`
