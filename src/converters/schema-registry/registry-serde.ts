/**
 * What every schema-registry converter does around its format (Confluent's
 * `AbstractKafkaSchemaSerDe`): choose the schema id a record is written with, find the registry
 * version of a schema read back, and say where a failure happened. The AvroConverter and the
 * JsonSchemaConverter share these; the format (Avro binary, JSON text) stays in each converter.
 */
import { ConnectError, DataError, errorMessage, RetriableError } from '../../api/errors.ts'
import {
  type RegistrySchema,
  type SchemaRegistryClient,
  SchemaRegistryError,
} from './schema-registry-client.ts'
import type { SerdeSettings } from './serde-config.ts'

/** The registry's name of a schema format: `AVRO` (also when absent), `JSON`, `PROTOBUF`. */
export type RegistrySchemaType = 'AVRO' | 'JSON' | 'PROTOBUF'

export function schemaTypeOf(schema: RegistrySchema): RegistrySchemaType {
  return (schema.schemaType ?? 'AVRO').toUpperCase() as RegistrySchemaType
}

/** The schema a record is written with: its id, and the registered text when it replaces the data's own. */
export interface WriterSchema {
  readonly id: number
  /** Set when `use.schema.id` or `use.latest.version` chose a registered schema other than the data's. */
  readonly registered?: RegistrySchema & { version?: number }
}

/**
 * The id to write `schema` with under `subject`, in Confluent's order: `auto.register.schemas`
 * registers; without it `use.schema.id` fixes the id, `use.latest.version` takes the subject's
 * latest version, else the schema is looked up (and must be registered). A registered schema of
 * another format is a DataError.
 */
export async function writerSchema(
  client: SchemaRegistryClient,
  settings: SerdeSettings,
  subject: string,
  schema: RegistrySchema,
): Promise<WriterSchema> {
  const type = schemaTypeOf(schema)
  try {
    if (settings.autoRegister) return { id: await client.register(subject, schema, settings.normalize) }
    if (settings.useSchemaId >= 0) {
      const fixed = await client.getSchemaById(settings.useSchemaId)
      if (schemaTypeOf(fixed) !== type)
        throw new DataError(
          `use.schema.id=${settings.useSchemaId} is a ${schemaTypeOf(fixed)} schema, not ${type}`,
        )
      return { id: settings.useSchemaId, registered: fixed }
    }
    if (settings.useLatestVersion) {
      const latest = await client.getLatest(subject)
      if (schemaTypeOf(latest) !== type) {
        throw new DataError(
          `the latest schema of subject '${subject}' is ${schemaTypeOf(latest)}, not ${type}`,
        )
      }
      return { id: latest.id, registered: latest }
    }
    return { id: (await client.lookup(subject, schema, settings.normalize)).id }
  } catch (error) {
    if (error instanceof SchemaRegistryError && error.errorCode === 40403 && !settings.autoRegister) {
      throw new DataError(
        `the schema is not registered under subject '${subject}' and auto.register.schemas=false: register it first, or enable auto.register.schemas`,
        { cause: error },
      )
    }
    throw error
  }
}

/**
 * The registry version of a schema under `subject` (what Confluent's converters carry as the
 * Connect schema version); undefined when it is registered neither there nor under one subject only.
 */
export async function registryVersionOf(
  client: SchemaRegistryClient,
  subject: string,
  schema: RegistrySchema,
  id: number | undefined,
): Promise<number | undefined> {
  try {
    return (
      await client.lookup(subject, {
        schema: schema.schema,
        schemaType: schema.schemaType,
        references: schema.references,
      })
    ).version
  } catch (error) {
    // Not under this subject (40401 subject, 40403 schema): look at where the id is registered.
    if (!(error instanceof SchemaRegistryError) || error.httpStatus !== 404) throw error
    if (id === undefined) return undefined
  }
  try {
    const versions = await client.getIdVersions(id)
    return (versions.find((v) => v.subject === subject) ?? (versions.length === 1 ? versions[0] : undefined))
      ?.version
  } catch (error) {
    if (error instanceof SchemaRegistryError && error.httpStatus === 404) return undefined
    throw error
  }
}

/** A 404 for a schema id or GUID, said as a data error naming the registry; other errors unchanged. */
export function unknownSchemaError(error: unknown, what: string, client: SchemaRegistryClient): unknown {
  if (error instanceof SchemaRegistryError && error.httpStatus === 404) {
    return new DataError(
      `${what} is not in the schema registry at ${client.displayUrls}: ${error.registryMessage}`,
      {
        cause: error,
      },
    )
  }
  return error
}

/** The same kind of error (data, retriable, config), its message prefixed with where it happened. */
export function wrapSerdeError(prefix: string, error: unknown): ConnectError {
  const message = `${prefix}: ${errorMessage(error)}`
  if (error instanceof RetriableError || (error instanceof ConnectError && error.retriable)) {
    return new RetriableError(message, { cause: error })
  }
  if (error instanceof ConnectError && error.code !== 'DATA')
    return new ConnectError(error.code, message, { cause: error, key: error.key })
  return new DataError(message, { cause: error })
}
