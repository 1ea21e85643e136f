/**
 * The framing Confluent's schema-registry serializers put before the payload (schema-registry
 * `SchemaId`, the serializers' `MAGIC_BYTE`):
 *
 *   V0: 0x00 | schema id (int32, big-endian, signed) | payload       — what Sluice writes
 *   V1: 0x01 | schema GUID (16 bytes: UUID most then least significant bits) | payload
 *
 * Avro and JSON Schema payloads follow directly (Protobuf would insert message indexes).
 *
 * Confluent's `HeaderSchemaIdSerializer` writes the payload alone and the V1 bytes (magic byte 1
 * and the GUID) in the record header `__key_schema_id` or `__value_schema_id`; its
 * `DualSchemaIdDeserializer` reads that header (V0 or V1 bytes) when the record has it, else the
 * payload's prefix (schema-registry `SchemaId`, `HeaderSchemaIdSerializer`, `DualSchemaIdDeserializer`).
 */
import { DataError } from '../../api/errors.ts'

export const MAGIC_BYTE_V0 = 0
export const MAGIC_BYTE_V1 = 1
export const V0_HEADER_SIZE = 5
export const V1_HEADER_SIZE = 17

/** The record headers Confluent's serializers carry schema ids in (`SchemaId.KEY_SCHEMA_ID_HEADER`…). */
export const SCHEMA_ID_HEADERS = { key: '__key_schema_id', value: '__value_schema_id' } as const

export type SchemaRef = { kind: 'id'; id: number } | { kind: 'guid'; guid: string }

export interface Framed {
  readonly ref: SchemaRef
  /** The payload after the header (a view of the input). */
  readonly payload: Buffer
}

/** The 5-byte V0 header for a schema id. */
export function v0Header(id: number): Buffer {
  const header = Buffer.allocUnsafe(V0_HEADER_SIZE)
  header[0] = MAGIC_BYTE_V0
  header.writeInt32BE(id, 1)
  return header
}

/** The 17 V1 bytes of a GUID (`SchemaId.guidToBytes`): magic byte 1, then the UUID's 16 bytes. */
export function v1Bytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new DataError(`'${guid}' is not a schema GUID (a UUID)`)
  return Buffer.concat([Buffer.from([MAGIC_BYTE_V1]), Buffer.from(hex, 'hex')])
}

/** The schema reference in a schema id header's value (V0 or V1 bytes, `SchemaId.fromBytes`). */
export function headerRef(bytes: Uint8Array, describe: string): SchemaRef {
  const { ref, payload } = unframe(bytes, describe)
  if (payload.length > 0) {
    throw new DataError(
      `${describe} has ${payload.length} bytes after the schema id: it is not a schema id header`,
    )
  }
  return ref
}

function guidText(bytes: Buffer): string {
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * Splits framed bytes into schema reference and payload. `describe` names what is read (e.g.
 * "the value of topic 'orders'") in the DataError for anything that is not framed.
 */
export function unframe(bytes: Uint8Array, describe: string): Framed {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = buffer.length > 0 ? buffer[0] : -1
  if (magic === MAGIC_BYTE_V0 && buffer.length >= V0_HEADER_SIZE) {
    return { ref: { kind: 'id', id: buffer.readInt32BE(1) }, payload: buffer.subarray(V0_HEADER_SIZE) }
  }
  if (magic === MAGIC_BYTE_V1 && buffer.length >= V1_HEADER_SIZE) {
    return {
      ref: { kind: 'guid', guid: guidText(buffer.subarray(1, V1_HEADER_SIZE)) },
      payload: buffer.subarray(V1_HEADER_SIZE),
    }
  }
  if (magic === MAGIC_BYTE_V0 || magic === MAGIC_BYTE_V1) {
    throw new DataError(
      `${describe} is ${buffer.length} bytes, too short for the schema registry framing (magic byte ${magic} needs at least ${magic === 0 ? V0_HEADER_SIZE : V1_HEADER_SIZE})`,
    )
  }
  const first =
    magic < 0
      ? 'empty'
      : `0x${magic.toString(16).padStart(2, '0')}${magic >= 0x20 && magic < 0x7f ? ` ('${String.fromCharCode(magic)}')` : ''}`
  throw new DataError(
    `Unknown magic byte! ${describe} starts with ${first}, not 0 or 1: it was not written by a Schema Registry serializer ` +
      '(plain JSON, a string, or another format?). Set the converter to match the data on the topic, or route such records ' +
      'to a dead letter queue with errors.tolerance=all',
  )
}
