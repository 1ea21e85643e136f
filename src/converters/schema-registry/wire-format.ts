/**
 * The framing Confluent's schema-registry serializers put before the payload (schema-registry
 * `SchemaId`, the serializers' `MAGIC_BYTE`):
 *
 *   V0: 0x00 | schema id (int32, big-endian, signed) | payload       — what Sluice writes
 *   V1: 0x01 | schema GUID (16 bytes: UUID most then least significant bits) | payload
 *
 * Avro and JSON Schema payloads follow directly (Protobuf would insert message indexes).
 */
import { DataError } from '../../api/errors.ts'

export const MAGIC_BYTE_V0 = 0
export const MAGIC_BYTE_V1 = 1
export const V0_HEADER_SIZE = 5
export const V1_HEADER_SIZE = 17

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
