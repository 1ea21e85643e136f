/**
 * `io.confluent.connect.avro.AvroConverter`, byte-compatible with Confluent's: Connect data ↔ Avro
 * with the mapping of Confluent's AvroData (src/api/avro), framed with the schema registry wire
 * format (wire-format.ts: V0 written, V0 and V1 read), schemas registered in and fetched from a
 * Confluent-compatible Schema Registry (schema-registry-client.ts).
 *
 * Writing (`fromConnectData`): the Connect schema's Avro schema is registered under the subject
 * of the subject name strategy (`auto.register.schemas`, default), or looked up without
 * registering, or replaced by the subject's latest version (`use.latest.version`) or a fixed id
 * (`use.schema.id`). Reading (`toConnectData`): the schema of the id in the bytes is fetched, and
 * the Connect schema carries the registry version of that schema under the reader's subject (as
 * Confluent's converter does, so storage sinks see schema versions).
 *
 * Once a schema or id has been seen, conversions are synchronous and answered from caches; the
 * first sight of one returns a promise (the registry is asked). Failures name the topic and side:
 * `DataError` for data that cannot be converted (unknown magic byte, unknown id, a value that
 * does not fit), `RetriableError` when the registry cannot be reached after the client's retries.
 *
 * Schema ids in headers (`key.schema.id.serializer` / `value.schema.id.serializer` =
 * `HeaderSchemaIdSerializer`): the payload is the Avro body alone and the schema's GUID goes in
 * the `__key_schema_id` / `__value_schema_id` record header (wire-format.ts); the default
 * `DualSchemaIdDeserializer` reads that header when a record has it, else the prefix. Both need the
 * record's headers as bytes (`RecordHeaders`) from the runtime.
 *
 * Deviations: schemaless data (a null schema with a value) is refused rather than written with
 * Confluent's catch-all schema.
 */
import { AvroData, type AvroReader, type AvroWriter } from '../api/avro/avro-data.ts'
import { avroDataOptionsFrom, defineAvroDataConfig } from '../api/avro/avro-data-config.ts'
import { type AvroSchema, fullName, isNamed } from '../api/avro/avro-schema.ts'
import type { ConfigDef } from '../api/config-def.ts'
import type { MaybePromise } from '../api/connector.ts'
import { isPlainlyValid, type Schema, validateValue } from '../api/data/schema.ts'
import { NULL_SCHEMA_AND_VALUE, type SchemaAndValue } from '../api/data/schema-and-value.ts'
import { ConfigError, type ConnectError, DataError, errorMessage } from '../api/errors.ts'
import type { Headers } from '../api/headers.ts'
import { RecordHeaders } from '../api/record-headers.ts'
import { schemaGuid } from '../common/schema-guid.ts'
import { newConverterConfigDef } from './converter-config.ts'
import { asBuffer, RegistryConverter } from './schema-registry/registry-converter.ts'
import {
  registryVersionOf,
  schemaTypeOf,
  unknownSchemaError,
  wrapSerdeError,
  writerSchema,
} from './schema-registry/registry-serde.ts'
import type { RegistrySchema } from './schema-registry/schema-registry-client.ts'
import { defineSchemaIdConfig, defineSerdeConfig } from './schema-registry/serde-config.ts'
import {
  headerRef,
  SCHEMA_ID_HEADERS,
  type SchemaRef,
  v0Header,
  v1Bytes,
} from './schema-registry/wire-format.ts'

export function avroConverterConfigDef(): ConfigDef {
  return defineAvroDataConfig(defineSchemaIdConfig(defineSerdeConfig(newConverterConfigDef())))
}

/** A Connect schema ready to write on one topic: its framing prefix (or id header) and encoder. */
interface PreparedWriter {
  /** The V0 prefix; empty when the id goes in a header. */
  readonly header: Buffer
  /** The V1 bytes of the schema id header, with HeaderSchemaIdSerializer. */
  readonly idHeader?: Buffer
  readonly writer: AvroWriter
}

/** What one schema id reads into on one topic. */
interface PreparedReader {
  readonly reader: AvroReader
}

/** The subject-name input of a schema: a named type's full name, else its type name. */
function recordName(avro: AvroSchema): string {
  return isNamed(avro) ? fullName(avro) : avro.type
}

export class AvroConverter extends RegistryConverter<PreparedWriter, PreparedReader> {
  #data = new AvroData()
  #scratch = Buffer.allocUnsafe(4096)

  config(): ConfigDef {
    return avroConverterConfigDef()
  }

  protected configureFormat(parsed: Record<string, unknown>): void {
    this.#data = new AvroData(avroDataOptionsFrom(parsed))
  }

  fromConnectData(
    topic: string,
    schema: Schema | null,
    value: unknown,
    headers?: RecordHeaders | Headers,
  ): MaybePromise<Uint8Array | null> {
    if (value === null || value === undefined) return null
    if (
      (this.isKey ? this.settings.keyIdIn : this.settings.valueIdIn) === 'header' &&
      !(headers instanceof RecordHeaders)
    ) {
      const key = this.isKey ? 'key.schema.id.serializer' : 'value.schema.id.serializer'
      throw new ConfigError(
        key,
        `${key}=HeaderSchemaIdSerializer writes the schema id in a record header, but this runtime hands the converter no record headers: use PrefixSchemaIdSerializer`,
      )
    }
    if (schema === null) {
      throw new DataError(
        `Failed to serialize Avro data from topic ${topic} (record ${this.side}): the ${this.side} has no schema; ` +
          'AvroConverter writes only data with a Connect schema (use JsonConverter with schemas.enable=false for schemaless data)',
      )
    }
    return this.write(topic, schema, value, headers)
  }

  toConnectData(
    topic: string,
    value: Uint8Array | null,
    headers?: RecordHeaders | Headers,
  ): MaybePromise<SchemaAndValue> {
    if (value === null || value === undefined) return NULL_SCHEMA_AND_VALUE
    // DualSchemaIdDeserializer: the id header, when the record has one, frames a bare payload.
    if (
      (this.isKey ? this.settings.keyIdFromHeader : this.settings.valueIdFromHeader) &&
      headers instanceof RecordHeaders
    ) {
      const name = this.isKey ? SCHEMA_ID_HEADERS.key : SCHEMA_ID_HEADERS.value
      const header = headers.lastHeader(name)?.value
      if (header !== null && header !== undefined) {
        let ref: SchemaRef
        try {
          ref = headerRef(header, `the ${name} header`)
        } catch (error) {
          throw this.deserializeError(topic, error)
        }
        return this.read(topic, ref, asBuffer(value))
      }
    }
    return this.readFramed(topic, value)
  }

  protected encode(
    topic: string,
    prepared: PreparedWriter,
    _schema: Schema,
    value: unknown,
    headers: RecordHeaders | Headers | undefined,
  ): Uint8Array {
    let avroValue: unknown
    const start = prepared.header.length
    try {
      const { connect } = prepared.writer
      if (!isPlainlyValid(connect, value)) validateValue(connect, value)
      avroValue = prepared.writer.toAvro(value)
      for (;;) {
        const end = prepared.writer.type.encode(avroValue, this.#scratch, start)
        if (end >= 0) {
          const out = Buffer.allocUnsafe(end)
          prepared.header.copy(out, 0)
          this.#scratch.copy(out, start, start, end)
          if (prepared.idHeader !== undefined) this.#addIdHeader(headers as RecordHeaders, prepared.idHeader)
          return out
        }
        this.#scratch = Buffer.allocUnsafe(
          Math.max(this.#scratch.length * 2, start - end + this.#scratch.length),
        )
      }
    } catch (error) {
      throw this.serializeError(topic, error)
    }
  }

  /** `HeaderSchemaIdSerializer`: adds the id header unless the last one already says the same. */
  #addIdHeader(headers: RecordHeaders, bytes: Buffer): void {
    const name = this.isKey ? SCHEMA_ID_HEADERS.key : SCHEMA_ID_HEADERS.value
    const last = headers.lastHeader(name)?.value
    if (last && Buffer.from(last.buffer, last.byteOffset, last.byteLength).equals(bytes)) return
    headers.add(name, bytes)
  }

  protected async prepareWriter(topic: string, schema: Schema): Promise<PreparedWriter> {
    const settings = this.settings
    const client = this.client
    let writer: AvroWriter
    try {
      writer = this.#data.writerFor(schema)
    } catch (error) {
      throw this.serializeError(topic, error)
    }
    const subject = this.subjectOf(topic, recordName(writer.avro))
    try {
      const chosen = await writerSchema(client, settings, subject, { schema: writer.text })
      if (chosen.registered !== undefined) writer = this.#data.writerWith(schema, chosen.registered.schema)
      if ((this.isKey ? settings.keyIdIn : settings.valueIdIn) === 'header') {
        // The GUID as the registry gives it, else as Confluent's client derives it (Schema.getGuid).
        const registered = await client.getSchemaById(chosen.id)
        const guid = registered.guid ?? schemaGuid(registered.schema, registered.references)
        return { header: Buffer.alloc(0), idHeader: v1Bytes(guid), writer }
      }
      return { header: v0Header(chosen.id), writer }
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
      if (schemaTypeOf(registered) !== 'AVRO') {
        throw new DataError(
          `${what} is a ${registered.schemaType} schema, not Avro: use the converter for that format`,
        )
      }
      // Parse once without a version to learn the subject, then find the version under it.
      const unversioned = this.#data.readerFor(registered.schema)
      const subject = this.subjectOf(topic, recordName(unversioned.avro))
      const version = await registryVersionOf(
        client,
        subject,
        registered,
        ref.kind === 'id' ? ref.id : registered.id,
      )
      return {
        reader: version === undefined ? unversioned : this.#data.readerFor(registered.schema, version),
      }
    } catch (error) {
      throw this.deserializeError(topic, unknownSchemaError(error, what, client))
    }
  }

  /** Decodes the Avro body starting at `offset` (bytes after the body are ignored, as Java's decoder does). */
  protected decodeAt(
    topic: string,
    prepared: PreparedReader,
    bytes: Buffer,
    offset: number,
    ref: SchemaRef,
  ): SchemaAndValue {
    const { reader } = prepared
    try {
      let decoded: { value: unknown; offset: number }
      try {
        decoded = reader.type.decode(bytes, offset)
      } catch (error) {
        throw new DataError(`invalid Avro data: ${(error as Error).message}`, { cause: error })
      }
      if (decoded.offset < 0) throw new DataError('the Avro data is truncated')
      return { schema: reader.connect, value: reader.toConnect(decoded.value) }
    } catch (error) {
      const what = ref.kind === 'id' ? `schema id ${ref.id}` : `schema guid ${ref.guid}`
      throw this.deserializeError(
        topic,
        new DataError(`the payload does not match ${what}: ${errorMessage(error)}`, { cause: error }),
      )
    }
  }

  /** Confluent's AvroConverter words its serialization failures so. */
  protected override serializeError(topic: string, error: unknown): ConnectError {
    return wrapSerdeError(`Failed to serialize Avro data from topic ${topic} (record ${this.side})`, error)
  }
}
