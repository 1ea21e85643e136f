/** The prose of docs/reference/json-schema-converter.md; scripts/gen-connector-docs.ts adds the keys from the ConfigDef. */
export const JSON_SCHEMA_CONVERTER_DOC = `
# JSON Schema converter (Confluent Schema Registry)

{{className}} (also \`JsonSchemaConverter\`): Confluent's JSON Schema converter, byte for byte. Set
it as \`key.converter\`, \`value.converter\` or \`header.converter\`, with its keys under that prefix
(\`value.converter.schema.registry.url=http://registry:8081\`). It talks to any Confluent-compatible
schema registry (the worker's own, Confluent's, Apicurio's \`/apis/ccompat/v7\`, Karapace, Redpanda's)
and reads what Confluent's serializers, the REST Proxy's \`jsonschema\` format and Sluice's proxy
write.

Bytes: magic byte \`0\`, the schema id as a 4-byte big-endian integer, then the value as UTF-8
JSON text. Reading also accepts magic byte \`1\` followed by a 16-byte schema GUID. A null record (a
tombstone) reads as null; a null value is written as a null record when it has no schema or its
schema allows no null, and as the JSON \`null\` with its schema id when the schema is optional, as
Confluent's converter does.

Schemas are registered as \`JSON\` schemas, made from the Connect schema as Confluent's
\`JsonSchemaData\` makes them, printed with the same text (the key order of Java's JSON Schema
library and of the Java maps it prints from), so a registry that already holds schemas registered by
Java workers hands out the same ids:

- INT8…INT64 are \`integer\`, FLOAT32/64 \`number\`, each with \`connect.type\` (\`int8\`, …,
  \`float64\`); BOOLEAN is \`boolean\`, STRING \`string\`, BYTES \`string\` with \`connect.type: bytes\`
  (base64 in the data);
- a struct is an \`object\` whose \`properties\` carry \`connect.index\` (the field's position), its name
  as \`title\`; \`object.additional.properties=false\` adds \`additionalProperties: false\`;
- a map with required string keys is an \`object\` with \`additionalProperties\`; any other map is an
  \`array\` of \`{"key": …, "value": …}\` objects; both with \`connect.type: map\`;
- an optional schema is \`{"oneOf": [{"type": "null"}, …]}\`; a struct named
  \`io.confluent.connect.json.OneOf\` is a \`oneOf\` of its fields' schemas, and a \`oneOf\`/\`anyOf\` read
  back becomes such a struct with one field set;
- the schema's doc is \`description\`, its version \`connect.version\`, its parameters
  \`connect.parameters\`, its default \`default\`; Decimal, Date, Time and Timestamp keep their Connect
  names as \`title\` (Decimal is base64 of the unscaled bytes, or a JSON number with
  \`decimal.format=NUMERIC\`; dates and times are integers).

Reading turns any JSON schema into a Connect schema: \`integer\` without \`connect.type\` is INT64,
\`number\` FLOAT64, \`enum\`/\`const\` an enum string, \`allOf\` the merged properties, local \`$ref\`s are
followed; fields without \`connect.index\` come in the order Confluent's converter reads them (the
iteration order of a Java HashMap of the property names, so a JDBC sink creates the same columns as
on a Java worker); with \`use.optional.for.nonrequired=true\` a property not in \`required\` is an
optional field. The Connect schema's version is the registry version of the writer's schema under
the topic's subject, unless the schema carries \`connect.version\`.

Validation: \`json.fail.invalid.schema=true\` checks every payload against its JSON schema, when
writing and when reading; a payload that does not fit is a data error naming the topic, side and the
failing JSON pointer, which \`errors.tolerance=all\` sends to the dead-letter topic. With
\`auto.register.schemas=false\` and \`use.latest.version=true\` records are written with the subject's
latest schema id, and \`latest.compatibility.strict=true\` (the default) refuses a payload that the
latest schema does not allow.

Subjects, registration, caches, retries and errors are the Avro converter's (see
[avro-converter.md](avro-converter.md)): \`<topic>-key\`/\`<topic>-value\`, the schema's \`title\` (its
Connect name) for \`RecordNameStrategy\`, \`<topic>-<title>\` for \`TopicRecordNameStrategy\`; those two
refuse a schema without a name, as Confluent's do.

Not supported: schemaless data (a record value without a Connect schema), schema references,
recursive schemas, \`preserve.additional.properties\`, \`ignore.modern.dialects\` (drafts 2019-09 and
2020-12 are read as they are), the schema id carried in headers, bearer authentication.

\`\`\`properties
value.converter=io.confluent.connect.json.JsonSchemaConverter
value.converter.schema.registry.url=http://registry-1:8081,http://registry-2:8081
value.converter.json.fail.invalid.schema=true
errors.tolerance=all
errors.deadletterqueue.topic.name=bets-dlq
\`\`\`

## Settings

{{config}}
`
