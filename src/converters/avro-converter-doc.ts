/** The prose of docs/reference/avro-converter.md; scripts/gen-connector-docs.ts adds the keys from the ConfigDef. */
export const AVRO_CONVERTER_DOC = `
# Avro converter (Confluent Schema Registry)

{{className}} (also \`AvroConverter\`): Confluent's Avro converter, byte for byte. Set it as
\`key.converter\`, \`value.converter\` or \`header.converter\`, with its keys under that prefix
(\`value.converter.schema.registry.url=http://registry:8081\`). It talks to any
Confluent-compatible schema registry (Confluent's, Apicurio's \`/apis/ccompat/v7\`, Karapace,
Redpanda's).

Bytes: magic byte \`0\`, the schema id as a 4-byte big-endian integer, then the Avro binary of the
value (no container header). Reading also accepts magic byte \`1\` followed by a 16-byte schema
GUID. A null value is a null record (a tombstone) both ways.

Schema ids in headers (Confluent's newer serializers): with
\`value.schema.id.serializer=io.confluent.kafka.serializers.schema.id.HeaderSchemaIdSerializer\` (or
\`key.schema.id.serializer\`) the value is the Avro binary alone and the record header
\`__value_schema_id\` (\`__key_schema_id\`) holds magic byte \`1\` and the schema's GUID. Reading, the
default \`DualSchemaIdDeserializer\` takes the id from that header when the record has one (its bytes
may also be the V0 form), else from the bytes' prefix; \`PrefixSchemaIdDeserializer\` reads the prefix
only. Both need the record headers from the runtime: a worker that does not hand them to converters
refuses \`HeaderSchemaIdSerializer\`, naming the key.

Schemas: a Connect schema becomes the Avro schema Confluent's \`AvroData\` makes of it, written with
the same JSON text, so a registry that already holds schemas registered by Java workers hands out
the same ids. Optional types are unions with \`null\` (\`["null", T]\`, or \`[T, "null"]\` when the
schema has a default); \`connect.name\`, \`connect.version\`, \`connect.doc\`, \`connect.parameters\`,
\`connect.default\` and \`connect.type\` (INT8/INT16) keep what Avro cannot say; Decimal is bytes
with \`logicalType: decimal\` and \`precision\` from \`connect.decimal.precision\` (64 when absent);
Date, Time and Timestamp are \`date\`, \`time-millis\`, \`timestamp-millis\`; unnamed structs are
records \`io.confluent.connect.avro.ConnectDefault\`, \`ConnectDefault2\`, …; maps with keys that are
not strings are arrays of \`io.confluent.connect.avro.MapEntry\` records. Reading, the Connect
schema's version is the registry version of the writer's schema under the topic's subject, which
storage sinks use to decide when a file must be rotated.

Subjects: \`<topic>-key\` / \`<topic>-value\` (\`TopicNameStrategy\`), the record's full name
(\`RecordNameStrategy\`) or \`<topic>-<record name>\` (\`TopicRecordNameStrategy\`), by Confluent's class
names \`io.confluent.kafka.serializers.subject.*\`. \`AssociatedNameStrategy\` is accepted and uses the
topic name.

Writing registers the schema (\`auto.register.schemas=true\`, the default); with
\`auto.register.schemas=false\` it writes with a fixed id (\`use.schema.id\`), or the subject's latest
version (\`use.latest.version=true\`), or looks the schema up and fails when it is not registered. Schemas and
ids are cached: only the first record of a schema or id waits for the registry.

Errors: bytes that do not start with magic byte 0 or 1 ("Unknown magic byte!", with the first byte
shown), an id the registry does not know, or a value that does not fit its schema are data errors
naming the topic and the side (key or value); the runtime adds partition and offset and applies
\`errors.tolerance\` (dead-letter queue). A registry that cannot be reached is tried on every URL of
\`schema.registry.url\` and retried with backoff (\`max.retries\`, \`retries.wait.ms\`); then the error
is retriable, so \`errors.retry.timeout\` keeps the task retrying, and the task status says which
registry could not be reached.

https: \`schema.registry.url=https://…\` with the registry's CA in
\`schema.registry.ssl.truststore.location\` (PKCS12 or PEM; \`.password\`, \`.type\`), and for a registry
that asks for client certificates \`schema.registry.ssl.keystore.*\`.

Not supported: schemaless data (a record value without a Connect schema), schema references,
bearer authentication.

\`\`\`properties
value.converter=io.confluent.connect.avro.AvroConverter
value.converter.schema.registry.url=https://registry-1:8081,https://registry-2:8081
value.converter.basic.auth.credentials.source=USER_INFO
value.converter.basic.auth.user.info=connect:secret
value.converter.schema.registry.ssl.truststore.location=/etc/sluice/registry-ca.p12
value.converter.schema.registry.ssl.truststore.password=changeit
\`\`\`

## Settings

{{config}}
`
