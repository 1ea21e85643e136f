/**
 * `io.confluent.connect.json.JsonSchemaConverter`, byte-compatible with Confluent's: Connect data ↔
 * JSON text with the mapping of Confluent's `JsonSchemaData` (json-schema-data.ts for schemas; the
 * JSON writer and reader in their `jsonSchema` flavour for values), framed with the schema registry
 * wire format (magic byte 0, the 4-byte schema id, then the UTF-8 JSON; V1 GUID framing read too),
 * schemas registered in and fetched from a Confluent-compatible Schema Registry as `JSON` schemas.
 *
 * The registry steps (subject name strategies, which id to write with, the registry version of a
 * schema read back, retries, caches, error wrapping) are the AvroConverter's
 * (schema-registry/registry-serde.ts, schema-registry-client.ts). `json.fail.invalid.schema=true`
 * validates every payload against its JSON schema, writing and reading (Ajv), so a record that does
 * not fit is a DataError the runtime hands to `errors.tolerance`. With `use.latest.version` and
 * `latest.compatibility.strict` (the default) each payload must validate against the subject's
 * latest schema (Confluent checks the two schemas' compatibility instead: decision 0025).
 */
import { createRequire } from 'node:module'
import type { AnySchema, ValidateFunction } from 'ajv'
import { type ConfigDef, ValidString } from '../api/config-def.ts'
import type { MaybePromise } from '../api/connector.ts'
import { isPlainlyValid, type Schema, validateValue } from '../api/data/schema.ts'
import { NULL_SCHEMA_AND_VALUE, type SchemaAndValue } from '../api/data/schema-and-value.ts'
import { DataError, errorMessage } from '../api/errors.ts'
import { newConverterConfigDef } from './converter-config.ts'
import { compileReader, type FieldReader, MISMATCH, readFastValue } from './json-fast-reader.ts'
import { type JsonTree, readJson } from './json-reader.ts'
import { JsonSchemaData, type JsonSchemaDocument } from './json-schema-data.ts'
import { JsonToConnect } from './json-to-connect.ts'
import { JsonWriter, type Writer } from './json-writer.ts'
import { RegistryConverter } from './schema-registry/registry-converter.ts'
import {
  registryVersionOf,
  schemaTypeOf,
  unknownSchemaError,
  writerSchema,
} from './schema-registry/registry-serde.ts'
import type { RegistrySchema } from './schema-registry/schema-registry-client.ts'
import {
  defineSerdeConfig,
  KEY_SUBJECT_NAME_STRATEGY_CONFIG,
  VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
} from './schema-registry/serde-config.ts'
import { type SchemaRef, V0_HEADER_SIZE, v0Header } from './schema-registry/wire-format.ts'

export const FAIL_INVALID_SCHEMA_CONFIG = 'json.fail.invalid.schema'
export const LATEST_COMPATIBILITY_STRICT_CONFIG = 'latest.compatibility.strict'
export const OBJECT_ADDITIONAL_PROPERTIES_CONFIG = 'object.additional.properties'
export const USE_OPTIONAL_FOR_NON_REQUIRED_CONFIG = 'use.optional.for.nonrequired'
export const DECIMAL_FORMAT_CONFIG = 'decimal.format'
export const FLATTEN_SINGLETON_UNIONS_CONFIG = 'flatten.singleton.unions'
export const GENERALIZED_SUM_TYPE_SUPPORT_CONFIG = 'generalized.sum.type.support'
export const IGNORE_DEFAULT_FOR_NULLABLES_CONFIG = 'ignore.default.for.nullables'
export const SCHEMAS_CACHE_SIZE_CONFIG = 'schemas.cache.config'

const JSON_SCHEMA_GROUP = 'JSON Schema'

export function jsonSchemaConverterConfigDef(): ConfigDef {
  let order = 0
  const base = { group: JSON_SCHEMA_GROUP } as const
  return defineSerdeConfig(newConverterConfigDef())
    .define({
      ...base,
      orderInGroup: order++,
      name: FAIL_INVALID_SCHEMA_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      documentation:
        'Whether to fail serialization and deserialization if the payload is not valid for its JSON schema.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: LATEST_COMPATIBILITY_STRICT_CONFIG,
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'LOW',
      documentation:
        'With use.latest.version: whether each payload must be valid for the latest subject version it is written with.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: OBJECT_ADDITIONAL_PROPERTIES_CONFIG,
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'MEDIUM',
      documentation: 'Whether to allow additional properties for object schemas.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: USE_OPTIONAL_FOR_NON_REQUIRED_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      documentation: 'Whether to set non-required properties to be optional.',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: DECIMAL_FORMAT_CONFIG,
      type: 'STRING',
      defaultValue: 'BASE64',
      validator: ValidString.inIgnoringCase('BASE64', 'NUMERIC'),
      importance: 'LOW',
      documentation:
        "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: FLATTEN_SINGLETON_UNIONS_CONFIG,
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'LOW',
      documentation: 'Whether to flatten singleton unions',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: GENERALIZED_SUM_TYPE_SUPPORT_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      documentation:
        'Toggle for enabling/disabling generalized sum type support: interoperability of enum/union with other schema formats',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: IGNORE_DEFAULT_FOR_NULLABLES_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      documentation: 'Whether to ignore the default for nullable fields when the value is null',
    })
    .define({
      ...base,
      orderInGroup: order++,
      name: SCHEMAS_CACHE_SIZE_CONFIG,
      type: 'INT',
      defaultValue: 1000,
      importance: 'LOW',
      documentation: 'Size of the converted schemas cache',
    })
}

/** A Connect schema ready to write on one topic. */
interface PreparedWriter {
  readonly header: Buffer
  readonly write: Writer
  /** Set when payloads are validated (json.fail.invalid.schema, or a strict latest version). */
  readonly validate: ValidateFunction | undefined
  readonly what: string
}

/** What one schema id reads into on one topic. */
interface PreparedReader {
  readonly connect: Schema
  /** The reader compiled for `connect` (json-fast-reader.ts). */
  readonly fast: FieldReader
  readonly validate: ValidateFunction | undefined
  readonly what: string
}

/** Stands for a missing title in a subject name strategy's input (no subject can contain it). */
const NO_TITLE = '\u0000'
const DRAFT_2020 = /draft\/2020-12/
const DRAFT_2019 = /draft\/2019-09/

interface AjvClasses {
  Ajv: typeof import('ajv').Ajv
  Ajv2019: typeof import('ajv/dist/2019.js').Ajv2019
  Ajv2020: typeof import('ajv/dist/2020.js').Ajv2020
}
let ajvLoaded: AjvClasses | undefined
/** Ajv (~4 MB resident) loads when a converter first validates, not with the plugin list. */
function ajvClasses(): AjvClasses {
  if (!ajvLoaded) {
    const require = createRequire(import.meta.url)
    ajvLoaded = {
      Ajv: (require('ajv') as typeof import('ajv')).Ajv,
      Ajv2019: (require('ajv/dist/2019.js') as typeof import('ajv/dist/2019.js')).Ajv2019,
      Ajv2020: (require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')).Ajv2020,
    }
  }
  return ajvLoaded
}

/** An Ajv validator of a JSON schema document (the draft its `$schema` names, draft-07 otherwise). */
function compileValidator(document: unknown): ValidateFunction {
  const { Ajv, Ajv2019, Ajv2020 } = ajvClasses()
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
  const modern = typeof draft === 'string' && (DRAFT_2020.test(draft) || DRAFT_2019.test(draft))
  // Older drafts: their keywords are a subset of draft-07's, whose meta-schema Ajv has; drop the marker.
  const compiled =
    modern || typeof document !== 'object' || document === null
      ? document
      : { ...(document as Record<string, unknown>), $schema: undefined }
  return ajv.compile(compiled as AnySchema)
}

function invalidPayload(validate: ValidateFunction, what: string): DataError {
  const detail = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')
  return new DataError(`JSON does not match ${what} (json.fail.invalid.schema=true): ${detail}`)
}

export class JsonSchemaConverter extends RegistryConverter<PreparedWriter, PreparedReader> {
  #failInvalid = false
  #latestStrict = true
  #data!: JsonSchemaData
  #writer!: JsonWriter
  #reader!: JsonToConnect

  config(): ConfigDef {
    return jsonSchemaConverterConfigDef()
  }

  protected configureFormat(parsed: Record<string, unknown>): void {
    this.#failInvalid = parsed[FAIL_INVALID_SCHEMA_CONFIG] as boolean
    this.#latestStrict = parsed[LATEST_COMPATIBILITY_STRICT_CONFIG] as boolean
    const replaceNullWithDefault = !(parsed[IGNORE_DEFAULT_FOR_NULLABLES_CONFIG] as boolean)
    const decimalNumeric = (parsed[DECIMAL_FORMAT_CONFIG] as string).toUpperCase() === 'NUMERIC'
    this.#writer = new JsonWriter({ decimalNumeric, replaceNullWithDefault, jsonSchema: true })
    this.#reader = new JsonToConnect(replaceNullWithDefault, true)
    this.#data = new JsonSchemaData(
      {
        allowAdditionalProperties: parsed[OBJECT_ADDITIONAL_PROPERTIES_CONFIG] as boolean,
        useOptionalForNonRequired: parsed[USE_OPTIONAL_FOR_NON_REQUIRED_CONFIG] as boolean,
        decimalNumeric,
        generalizedSumTypeSupport: parsed[GENERALIZED_SUM_TYPE_SUPPORT_CONFIG] as boolean,
        flattenSingletonUnions: parsed[FLATTEN_SINGLETON_UNIONS_CONFIG] as boolean,
      },
      (schema, value) => this.#writer.toJson(schema, value),
      (schema, json) => this.#reader.toConnect(schema, treeOf(json)),
    )
  }

  /** The JSON Schema document Sluice registers for a Connect schema. */
  jsonSchemaOf(schema: Schema): JsonSchemaDocument {
    return this.#data.fromConnectSchema(schema)
  }

  /** The Connect schema of a JSON Schema document (with the registry version, when known). */
  connectSchemaOf(document: JsonSchemaDocument, version?: number): Schema {
    return this.#data.toConnectSchema(document, version)
  }

  fromConnectData(topic: string, schema: Schema | null, value: unknown): MaybePromise<Uint8Array | null> {
    if (value === undefined) value = null
    if (schema === null) {
      if (value === null) return null
      throw new DataError(
        `Failed to serialize JSON data from topic ${topic} (record ${this.side}): the ${this.side} has no schema; ` +
          'JsonSchemaConverter writes only data with a Connect schema (use JsonConverter with schemas.enable=false for schemaless data)',
      )
    }
    // Confluent's JsonSchemaData gives no JSON for a null that its schema does not allow: no record.
    if (value === null && !schema.optional && schema.defaultValue == null) return null
    return this.write(topic, schema, value, undefined)
  }

  toConnectData(topic: string, value: Uint8Array | null): MaybePromise<SchemaAndValue> {
    return this.readFramed(topic, value)
  }

  protected encode(topic: string, prepared: PreparedWriter, schema: Schema, value: unknown): Uint8Array {
    try {
      if (value !== null && !isPlainlyValid(schema, value)) validateValue(schema, value)
      const text = prepared.write(value)
      if (prepared.validate !== undefined && !prepared.validate(JSON.parse(text))) {
        throw invalidPayload(prepared.validate, prepared.what)
      }
      const out = Buffer.allocUnsafe(V0_HEADER_SIZE + Buffer.byteLength(text, 'utf8'))
      prepared.header.copy(out, 0)
      out.write(text, V0_HEADER_SIZE, 'utf8')
      return out
    } catch (error) {
      throw this.serializeError(topic, error)
    }
  }

  protected async prepareWriter(topic: string, schema: Schema): Promise<PreparedWriter> {
    const settings = this.settings
    let document: JsonSchemaDocument
    let subject: string
    try {
      document = this.#data.fromConnectSchema(schema)
      subject = this.#subject(topic, document)
    } catch (error) {
      throw this.serializeError(topic, error)
    }
    try {
      const own: RegistrySchema = { schema: JSON.stringify(document), schemaType: 'JSON' }
      const chosen = await writerSchema(this.client, settings, subject, own)
      const latestStrict = chosen.registered !== undefined && settings.useLatestVersion && this.#latestStrict
      const validated =
        this.#failInvalid || latestStrict ? (chosen.registered?.schema ?? own.schema) : undefined
      return {
        header: v0Header(chosen.id),
        write: this.#writer.writerFor(schema),
        validate: validated === undefined ? undefined : compileValidator(JSON.parse(validated)),
        what: `schema id ${chosen.id}`,
      }
    } catch (error) {
      throw this.serializeError(topic, error)
    }
  }

  protected async prepareReader(topic: string, ref: SchemaRef): Promise<PreparedReader> {
    const client = this.client
    const what = ref.kind === 'id' ? `schema id ${ref.id}` : `schema guid ${ref.guid}`
    try {
      const registered: RegistrySchema & { id?: number } =
        ref.kind === 'id' ? await client.getSchemaById(ref.id) : await client.getSchemaByGuid(ref.guid)
      if (schemaTypeOf(registered) !== 'JSON') {
        throw new DataError(
          `${what} is a ${schemaTypeOf(registered)} schema, not JSON: use the converter for that format`,
        )
      }
      if ((registered.references ?? []).length > 0) {
        throw new DataError(`${what} has schema references, which the JsonSchemaConverter does not resolve`)
      }
      const document = JSON.parse(registered.schema) as JsonSchemaDocument
      const subject = this.#subject(topic, document)
      const version = await registryVersionOf(
        client,
        subject,
        registered,
        ref.kind === 'id' ? ref.id : registered.id,
      )
      const connect = this.#data.toConnectSchema(document, version)
      return {
        connect,
        fast: compileReader(connect, this.#reader),
        validate: this.#failInvalid ? compileValidator(document) : undefined,
        what,
      }
    } catch (error) {
      throw this.deserializeError(topic, unknownSchemaError(error, what, client))
    }
  }

  protected decodeAt(topic: string, prepared: PreparedReader, bytes: Buffer, offset: number): SchemaAndValue {
    try {
      const text = bytes.toString('utf8', offset)
      if (prepared.validate !== undefined) {
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          // Not plain JSON (trailing content, leading zeros…): the reader below says what Jackson says.
        }
        if (parsed !== undefined && !prepared.validate(parsed))
          throw invalidPayload(prepared.validate, prepared.what)
      }
      const fast = readFastValue(text, prepared.fast)
      if (fast !== MISMATCH) return { schema: prepared.connect, value: fast }
      let tree: JsonTree | undefined
      try {
        tree = readJson(text, 'tree')
      } catch (error) {
        throw new DataError(`invalid JSON: ${errorMessage(error)}`, { cause: error })
      }
      if (tree === undefined) return NULL_SCHEMA_AND_VALUE
      return { schema: prepared.connect, value: this.#reader.toConnect(prepared.connect, tree) }
    } catch (error) {
      throw this.deserializeError(topic, error)
    }
  }

  /**
   * The subject of a schema on a topic. The record name strategies use the schema's `title`
   * (Confluent's `JsonSchema.name()`); a schema without one is a data error, as in Confluent's.
   */
  #subject(topic: string, document: JsonSchemaDocument): string {
    const title = typeof document === 'object' ? document.title : undefined
    if (typeof title === 'string') return this.subjectOf(topic, title)
    const subject = this.subjectOf(topic, NO_TITLE)
    if (!subject.includes(NO_TITLE)) return subject
    const key = this.isKey ? KEY_SUBJECT_NAME_STRATEGY_CONFIG : VALUE_SUBJECT_NAME_STRATEGY_CONFIG
    throw new DataError(
      `${key} names the subject after the schema, and the ${this.side} schema has no name (no JSON schema "title"): give the Connect schema a name, or use TopicNameStrategy`,
    )
  }
}

/** A parsed JSON value (a schema's `default`) as the reader's tree. */
function treeOf(json: unknown): JsonTree {
  return readJson(JSON.stringify(json), 'tree') ?? null
}
