/**
 * Schemas as the registry holds them: text in one of the registry's schema types, parsed and
 * checked. AVRO (the default) is parsed with avsc, which applies Avro's rules (names, defaults that
 * match their field's type, union branches); JSON (JSON Schema) is compiled with Ajv. PROTOBUF is
 * refused with a clear message. A schema's canonical text (the JSON re-serialized without
 * insignificant whitespace, as Confluent's `AvroSchema.canonicalString()` prints Avro's compact
 * form) decides whether two registrations are "the same schema", so re-registering with different
 * whitespace returns the existing id.
 *
 * References (`references: [{name, subject, version}]`) bring in named types (Avro) or documents
 * (`$ref` targets, JSON Schema) registered under other subjects; the caller resolves them, in
 * dependency order, before parsing.
 */
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import avro from 'avsc'
import { invalidSchema, ServiceError } from '../service-error.ts'

export const SCHEMA_TYPES = ['AVRO', 'JSON', 'PROTOBUF'] as const
export type SchemaType = (typeof SCHEMA_TYPES)[number]

export interface SchemaReference {
  readonly name: string
  readonly subject: string
  readonly version: number
}

/** A referenced schema, resolved: its reference name and its text. */
export interface ResolvedReference {
  readonly name: string
  readonly schemaType: SchemaType
  readonly schema: string
}

export interface ParsedSchema {
  readonly schemaType: SchemaType
  /** The schema text without insignificant whitespace. */
  readonly canonical: string
  /** The parsed Avro type (AVRO). */
  readonly avro?: avro.Type
  /** The JSON Schema document (JSON). */
  readonly json?: unknown
  /** The compiled validator (JSON). */
  readonly validate?: ValidateFunction
}

/** `schemaType` of a request: absent means AVRO; the name is case-insensitive as in Confluent. */
export function schemaTypeOf(value: unknown): SchemaType {
  if (value === undefined || value === null || value === '') return 'AVRO'
  const upper = String(value).toUpperCase()
  if (upper === 'AVRO' || upper === 'JSON' || upper === 'PROTOBUF') return upper
  throw invalidSchema(`Invalid schema type ${String(value)}: use AVRO, JSON or PROTOBUF`)
}

export function parseSchema(
  schemaType: SchemaType,
  text: unknown,
  references: readonly ResolvedReference[] = [],
): ParsedSchema {
  if (typeof text !== 'string' || text.trim() === '') {
    throw invalidSchema('Empty schema: the request needs a "schema" string')
  }
  if (schemaType === 'PROTOBUF') {
    throw invalidSchema(
      'Invalid schema of type PROTOBUF: this registry serves AVRO and JSON schemas only; register Protobuf schemas in a registry that supports them',
    )
  }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    throw invalidSchema(`Invalid schema ${text}, details: not JSON (${(error as Error).message})`)
  }
  const canonical = JSON.stringify(document)
  if (schemaType === 'AVRO') return { schemaType, canonical, avro: parseAvro(document, text, references) }
  const validate = compileJsonSchema(document, text, references)
  return { schemaType, canonical, json: document, validate }
}

function parseAvro(document: unknown, text: string, references: readonly ResolvedReference[]): avro.Type {
  const registry: Record<string, avro.Type> = {}
  try {
    for (const reference of references) {
      if (reference.schemaType !== 'AVRO') {
        throw new Error(`reference '${reference.name}' is a ${reference.schemaType} schema, not AVRO`)
      }
      avro.Type.forSchema(JSON.parse(reference.schema) as avro.Schema, { registry })
    }
    return avro.Type.forSchema(document as avro.Schema, { registry })
  } catch (error) {
    if (error instanceof ServiceError) throw error
    throw invalidSchema(`Invalid schema ${text}, details: ${(error as Error).message}`)
  }
}

const DRAFT_2020 = /draft\/2020-12/
const DRAFT_2019 = /draft\/2019-09/
const OLD_DRAFTS = /draft-0[346]\/schema/

function compileJsonSchema(
  document: unknown,
  text: string,
  references: readonly ResolvedReference[],
): ValidateFunction {
  if (typeof document !== 'object' && typeof document !== 'boolean') {
    throw invalidSchema(`Invalid schema ${text}, details: a JSON Schema is an object or a boolean`)
  }
  const draft =
    typeof document === 'object' && document !== null
      ? (document as { $schema?: unknown }).$schema
      : undefined
  const options = { strict: false, allErrors: false, validateFormats: false }
  const ajv =
    typeof draft === 'string' && DRAFT_2020.test(draft)
      ? new Ajv2020(options)
      : typeof draft === 'string' && DRAFT_2019.test(draft)
        ? new Ajv2019(options)
        : new Ajv(options)
  // Draft-04/06 documents: their keywords are a subset Ajv's draft-07 understands; Ajv has no
  // meta-schema for them, so the `$schema` marker is not resolved.
  const compiled =
    typeof draft === 'string' && OLD_DRAFTS.test(draft)
      ? { ...(document as Record<string, unknown>), $schema: undefined }
      : document
  try {
    for (const reference of references) {
      if (reference.schemaType !== 'JSON') {
        throw new Error(`reference '${reference.name}' is a ${reference.schemaType} schema, not JSON`)
      }
      ajv.addSchema(JSON.parse(reference.schema) as AnySchema, reference.name)
    }
    return ajv.compile(compiled as AnySchema)
  } catch (error) {
    throw invalidSchema(`Invalid schema ${text}, details: ${(error as Error).message}`)
  }
}
