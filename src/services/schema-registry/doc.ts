/** Prose of docs/reference/schema-registry.md; `{{config}}` is replaced by the worker keys. */
export const SCHEMA_REGISTRY_DOC = `
# Schema registry (served by the worker)

A worker serves a Confluent-compatible Schema Registry when \`schema.registry.listeners\` is set, e.g.
\`schema.registry.listeners=http://0.0.0.0:8081\`. Serializers and converters (\`schema.registry.url\`)
use it unchanged; Sluice's own AvroConverter and \`@kafkajs/confluent-schema-registry\` are tested
against it.

- **Storage:** a compacted, single-partition topic of the worker's log (\`_schemas\`; Kafka, or the
  embedded log when the worker runs without Kafka), in the record format of Confluent's registry.
  The registry survives restarts; every worker reads the topic into memory and answers from there.
- **Distributed workers:** every worker answers. Writes go to one writer, elected through a Kafka
  group (\`schema.registry.group.id\`); the others forward them to it and answer once they have read
  the result back. Only a worker with a listener can be elected, so give at least one worker
  \`schema.registry.listeners\` (a worker running only the REST proxy uses the registry in process
  and forwards its writes too). Ids are global and never handed out twice; the same schema registered under
  another subject gets the same id.
- **Schema types:** \`AVRO\` (the default) and \`JSON\` (JSON Schema, drafts 4 to 2020-12), with
  references to schemas of other subjects. \`PROTOBUF\` is refused with error code 42201.
- **Compatibility:** \`NONE\`, \`BACKWARD\` (the default), \`BACKWARD_TRANSITIVE\`, \`FORWARD\`,
  \`FORWARD_TRANSITIVE\`, \`FULL\`, \`FULL_TRANSITIVE\`, globally and per subject. Avro schemas are
  checked with Avro's schema-resolution rules (fields added or removed with or without defaults,
  type promotions, enum symbols, unions, names and aliases, fixed sizes); JSON schemas with the main
  rules of Confluent's JSON Schema checks (types, enums, limits, required properties, open and closed
  content models, combinators, local \`$ref\`s). A refused schema is answered 409 with error code
  40901 and the reasons.
- **Modes:** \`READWRITE\`, \`READONLY\`, \`IMPORT\` (register with a fixed \`id\` and \`version\`), globally
  and per subject.

## REST API

Answers are \`application/vnd.schemaregistry.v1+json\`; errors are \`{"error_code": N, "message": "…"}\`
with Confluent's codes: 40401 subject not found, 40402 version not found, 40403 schema not found,
40404/40405 subject (not) soft-deleted, 40406/40407 version (not) soft-deleted, 40408/40409 no
subject-level config/mode, 40901 incompatible (HTTP 409), 42201 invalid schema, 42202 invalid
version, 42203 invalid compatibility level, 42204 invalid mode, 42205 operation not permitted, 42206
reference exists, 42207 id mismatch, 42208 invalid subject, 50001 store error, 50003 forwarding
failed, 50004 no writer elected yet.

| method and path | answer |
|---|---|
| \`GET /subjects\` (\`deleted\`, \`subjectPrefix\`) | subject names |
| \`GET /subjects/{s}/versions\` (\`deleted\`) | version numbers |
| \`POST /subjects/{s}/versions\` \`{schema, schemaType?, references?, id?, version?}\` | \`{id, version}\` — registers (idempotent) |
| \`POST /subjects/{s}\` \`{schema, …}\` | the matching version, or 40403 |
| \`GET /subjects/{s}/versions/{v\\|latest\\|-1}\` and \`…/schema\` | \`{subject, version, id, schemaType?, references?, schema}\`, or the schema alone |
| \`GET /subjects/{s}/versions/{v}/referencedby\` | ids of schemas referencing it |
| \`DELETE /subjects/{s}\` and \`/subjects/{s}/versions/{v}\` (\`permanent\`) | deleted versions; a permanent delete needs a soft one first |
| \`GET /schemas/ids/{id}\` and \`…/schema\`, \`…/subjects\`, \`…/versions\` | \`{schema, schemaType?, references?}\`, the schema, subjects, subject versions |
| \`GET /schemas\`, \`GET /schemas/types\`, \`GET /contexts\` | every schema, \`["JSON","AVRO"]\`, \`["."]\` |
| \`GET/PUT/DELETE /config\` and \`/config/{s}\` (\`defaultToGlobal\`) | \`{compatibilityLevel}\`; PUT \`{compatibility}\` |
| \`GET/PUT /mode\`, \`GET/PUT/DELETE /mode/{s}\` (\`force\`) | \`{mode}\` |
| \`POST /compatibility/subjects/{s}/versions/{v\\|latest}\` and \`…/versions\` (\`verbose\`) | \`{is_compatible, messages?}\` |

Not served: contexts other than the default one, schema GUIDs, associations, metadata and rule
sets, \`normalize\`.

## https and authentication

Confluent's keys of the registry's listener, under the \`schema.registry.\` prefix:

\`\`\`properties
schema.registry.listeners=https://0.0.0.0:8081
schema.registry.ssl.keystore.location=/etc/sluice/registry.keystore.p12
schema.registry.ssl.keystore.password=…
schema.registry.ssl.key.password=…
schema.registry.authentication.method=BASIC
schema.registry.authentication.realm=SchemaRegistry-Props
schema.registry.authentication.roles=admin,developer
schema.registry.authentication.credentials.file=/etc/sluice/registry-users.properties
\`\`\`

- **Keystores and truststores:** PKCS12 (keytool's format since Java 9, also under a \`.jks\` name)
  or PEM (key and certificate chain in one file), read from the file whatever
  \`ssl.keystore.type\` says. JKS stores, and PKCS12 stores encrypted with the RC2/3DES schemes of
  Java 8 and OpenSSL 1.x, are refused at start with the command that converts them.
- **Client certificates:** \`ssl.client.authentication\` \`NONE\`, \`REQUESTED\` or \`REQUIRED\`
  (deprecated \`ssl.client.auth=true\` is \`REQUIRED\`), verified with \`ssl.truststore.*\`.
- **Basic auth:** where Confluent names a JAAS section (\`authentication.realm\`) whose
  \`PropertyFileLoginModule\` reads a file, Sluice reads that file directly:
  \`authentication.credentials.file\`, lines \`user: password[,role …]\` (a password plain or
  \`MD5:<hex>\`). \`authentication.roles\` \`*\` lets in every user of the file; a list, users with
  one of those roles (others get 403). A request without valid credentials gets 401
  \`{"error_code":401,"message":"Unauthorized"}\` with \`WWW-Authenticate: Basic realm="<realm>"\`.
  \`authentication.skip.paths\` are served to anyone.
- **Distributed workers:** the writer is advertised with the listener's scheme; a worker forwards
  writes over https with its registry's \`ssl.*\` settings (the truststore must verify the other
  workers' certificates) and the caller's credentials. Writes of the in-process REST proxy go as the
  first user of the credentials file with a plain password and an allowed role.
- **Clients:** Confluent's converters and Sluice's AvroConverter take \`schema.registry.url=https://…\`,
  \`schema.registry.ssl.truststore.location\` / \`.password\` / \`.type\` and
  \`basic.auth.credentials.source=USER_INFO\` with \`basic.auth.user.info=user:password\`.

## Worker keys

{{config}}
`
