/**
 * The frame every schema-registry converter shares (Confluent's `AbstractKafkaSchemaSerDe` as a
 * converter): configuration of the registry client and serde settings, the caches of prepared
 * writers (per topic, per Connect schema) and readers (per topic and schema id or GUID), the fast
 * path for a run of records of one schema id, the wire format's framing, and the error prefixes.
 * A format (Avro binary, JSON text) supplies how a schema is prepared and how a value is encoded
 * and decoded; the registry steps it calls are registry-serde.ts's.
 */
import type { ConfigDef } from '../../api/config-def.ts'
import type { MaybePromise } from '../../api/connector.ts'
import type { Converter, HeaderConverter } from '../../api/converter.ts'
import type { Schema } from '../../api/data/schema.ts'
import { NULL_SCHEMA_AND_VALUE, type SchemaAndValue } from '../../api/data/schema-and-value.ts'
import type { ConnectError } from '../../api/errors.ts'
import type { Headers } from '../../api/headers.ts'
import type { RecordHeaders } from '../../api/record-headers.ts'
import { withConverterType } from '../converter-config.ts'
import { wrapSerdeError } from './registry-serde.ts'
import { SchemaRegistryClient } from './schema-registry-client.ts'
import { type SerdeSettings, serdeSettings } from './serde-config.ts'
import { type SchemaRef, unframe, V0_HEADER_SIZE } from './wire-format.ts'

const MAX_PREPARED = 1000

export abstract class RegistryConverter<Writer, Reader> implements Converter, HeaderConverter {
  protected isKey = false
  protected settings!: SerdeSettings
  protected client!: SchemaRegistryClient
  /** Per topic, per Connect schema (identity): the prepared writer. */
  #writers = new Map<string, WeakMap<Schema, Writer>>()
  /** Per topic and schema reference: the prepared reader. */
  #readers = new Map<string, Reader>()
  /** The reader of the last V0-framed record read, for the common run of records of one schema. */
  #lastRead: { topic: string; id: number; ref: SchemaRef; prepared: Reader } | undefined

  abstract config(): ConfigDef

  /** The format's own settings, from the parsed converter config. */
  protected abstract configureFormat(parsed: Record<string, unknown>): void
  protected abstract prepareWriter(topic: string, schema: Schema): Promise<Writer>
  protected abstract encode(
    topic: string,
    prepared: Writer,
    schema: Schema,
    value: unknown,
    headers: RecordHeaders | Headers | undefined,
  ): Uint8Array
  protected abstract prepareReader(topic: string, ref: SchemaRef): Promise<Reader>
  /** Decodes the body starting at `offset` of `bytes`. */
  protected abstract decodeAt(
    topic: string,
    prepared: Reader,
    bytes: Buffer,
    offset: number,
    ref: SchemaRef,
  ): SchemaAndValue

  /** As a key or value converter pass `isKey`; as a header converter the values' subject is used. */
  configure(configs: Readonly<Record<string, string>>, isKey?: boolean): void {
    const parsed = this.config().parse(
      isKey === undefined ? { 'converter.type': 'header', ...configs } : withConverterType(configs, isKey),
    )
    this.isKey = isKey ?? false
    this.settings = serdeSettings(parsed)
    this.client?.close()
    this.client = new SchemaRegistryClient(this.settings.client)
    this.configureFormat(parsed)
    this.#writers = new Map()
    this.#readers = new Map()
    this.#lastRead = undefined
  }

  close(): void {
    this.client?.close()
  }

  abstract fromConnectData(
    topic: string,
    schema: Schema | null,
    value: unknown,
    headers?: RecordHeaders | Headers,
  ): MaybePromise<Uint8Array | null>

  abstract toConnectData(
    topic: string,
    value: Uint8Array | null,
    headers?: RecordHeaders | Headers,
  ): MaybePromise<SchemaAndValue>

  fromConnectHeader(
    topic: string,
    _headerKey: string,
    schema: Schema | null,
    value: unknown,
  ): MaybePromise<Uint8Array | null> {
    return this.fromConnectData(topic, schema, value)
  }

  toConnectHeader(topic: string, _headerKey: string, value: Uint8Array | null): MaybePromise<SchemaAndValue> {
    return this.toConnectData(topic, value)
  }

  protected get side(): 'key' | 'value' {
    return this.isKey ? 'key' : 'value'
  }

  /** Encodes with the writer prepared for this topic and schema, preparing it on first sight. */
  protected write(
    topic: string,
    schema: Schema,
    value: unknown,
    headers: RecordHeaders | Headers | undefined,
  ): MaybePromise<Uint8Array> {
    let perTopic = this.#writers.get(topic)
    const prepared = perTopic?.get(schema)
    if (prepared !== undefined) return this.encode(topic, prepared, schema, value, headers)
    return this.prepareWriter(topic, schema).then((p) => {
      if (perTopic === undefined) {
        perTopic = new WeakMap()
        if (this.#writers.size >= MAX_PREPARED) this.#writers.clear()
        this.#writers.set(topic, perTopic)
      }
      perTopic.set(schema, p)
      return this.encode(topic, p, schema, value, headers)
    })
  }

  /** Decodes wire-format bytes (V0 id or V1 GUID prefix). */
  protected readFramed(topic: string, value: Uint8Array | null): MaybePromise<SchemaAndValue> {
    if (value === null || value === undefined) return NULL_SCHEMA_AND_VALUE
    const buffer = asBuffer(value)
    const last = this.#lastRead
    if (last !== undefined && topic === last.topic && buffer.length >= V0_HEADER_SIZE && buffer[0] === 0) {
      if (buffer.readInt32BE(1) === last.id)
        return this.decodeAt(topic, last.prepared, buffer, V0_HEADER_SIZE, last.ref)
    }
    let framed: ReturnType<typeof unframe>
    try {
      framed = unframe(buffer, `the ${this.side}`)
    } catch (error) {
      throw this.deserializeError(topic, error)
    }
    return this.read(topic, framed.ref, framed.payload, true)
  }

  /** Decodes a payload of a schema reference (`remember`: a prefixed V0 id, for the fast path). */
  protected read(
    topic: string,
    ref: SchemaRef,
    payload: Buffer,
    remember = false,
  ): MaybePromise<SchemaAndValue> {
    const key = `${topic}\u0000${ref.kind === 'id' ? ref.id : ref.guid}`
    const decode = (prepared: Reader): SchemaAndValue => {
      if (remember && ref.kind === 'id') this.#lastRead = { topic, id: ref.id, ref, prepared }
      return this.decodeAt(topic, prepared, payload, 0, ref)
    }
    const prepared = this.#readers.get(key)
    if (prepared !== undefined) return decode(prepared)
    return this.prepareReader(topic, ref).then((p) => {
      if (this.#readers.size >= MAX_PREPARED)
        this.#readers.delete(this.#readers.keys().next().value as string)
      this.#readers.set(key, p)
      return decode(p)
    })
  }

  /** The subject name strategy of this side. */
  protected subjectOf(topic: string, recordName: string): string {
    const strategy = this.isKey ? this.settings.keySubject : this.settings.valueSubject
    return strategy(topic, this.isKey, recordName)
  }

  protected serializeError(topic: string, error: unknown): ConnectError {
    return wrapSerdeError(
      `Converting Kafka Connect data to byte[] failed due to serialization error of topic ${topic} (record ${this.side})`,
      error,
    )
  }

  protected deserializeError(topic: string, error: unknown): ConnectError {
    return wrapSerdeError(
      `Converting byte[] to Kafka Connect data failed due to serialization error of topic ${topic} (record ${this.side})`,
      error,
    )
  }
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
