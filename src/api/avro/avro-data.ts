/**
 * `AvroData`: Kafka Connect data ↔ Avro, as Confluent's `io.confluent.connect.avro.AvroData` maps it
 * (the rules are in connect-to-avro.ts, avro-to-connect.ts and avro-values.ts), with Avro binary
 * encoding by avsc. Connectors that write Avro (a storage sink's Avro format) and the AvroConverter
 * share it, as Confluent's connectors share their avro-data library.
 *
 * ```ts
 * const avro = new AvroData({ enhancedAvroSchemaSupport: true })
 * const schema = avro.fromConnectSchema(connectSchema)      // AvroSchema; avroSchemaText(schema) for JSON
 * const bytes = avro.encode(connectSchema, struct)           // Avro binary, no header
 * const { schema: s, value } = avro.decode(schema, bytes)    // back to Connect
 * ```
 *
 * Longs are exact: avsc's long is replaced by one that reads a `number` when it is a safe integer
 * and a `bigint` otherwise, and writes either.
 *
 * avsc (~9 MB in memory) is required on the first Avro schema, not when the plugin list is loaded:
 * a worker that never touches Avro never holds it.
 */
import { createRequire } from 'node:module'
import type avscModule from 'avsc'
import { isPlainlyValid, type Schema, validateValue } from '../data/schema.ts'
import type { SchemaAndValue } from '../data/schema-and-value.ts'
import { DataError } from '../errors.ts'
import {
  type AvroDataOptions,
  type ResolvedAvroDataOptions,
  resolveAvroDataOptions,
} from './avro-data-config.ts'
import { type AvroSchema, avroSchemaText, parseAvroSchema } from './avro-schema.ts'
import { avroToConnectSchema } from './avro-to-connect.ts'
import { compileToAvro, compileToConnect } from './avro-values.ts'
import { connectToAvroSchema } from './connect-to-avro.ts'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

interface Tap {
  buf: Buffer
  pos: number
  readLong(): number
  writeLong(n: number): void
}

/**
 * avsc's long, exact over int64: reads a safe integer as a number and anything larger as a bigint;
 * writes either. Varints of up to 7 bytes (|n| < 2^48) are read, and |n| < 2^51 written, by avsc's
 * own float arithmetic (exact there; beyond, avsc's long encoding rounds); the rest goes through BigInt.
 */
function exactLong(avsc: typeof avscModule): avscModule.Type {
  return Object.create(
    avsc.types.LongType.__with({
      fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
      toBuffer: (n: number | bigint) => {
        const buf = Buffer.alloc(8)
        buf.writeBigInt64LE(BigInt(n))
        return buf
      },
      fromJSON: (v: unknown) => (typeof v === 'bigint' ? v : Number(v)),
      toJSON: (n: number | bigint) => Number(n),
      isValid: (n: unknown) =>
        (typeof n === 'number' && Number.isSafeInteger(n)) ||
        (typeof n === 'bigint' && n >= INT64_MIN && n <= INT64_MAX),
      compare: (a: number | bigint, b: number | bigint) => {
        const x = BigInt(a)
        const y = BigInt(b)
        return x < y ? -1 : x > y ? 1 : 0
      },
    }),
    {
      _read: {
        value(tap: Tap): number | bigint {
          const { buf } = tap
          let end = tap.pos
          while (end < buf.length && buf[end] & 0x80) end++
          if (end - tap.pos < 7) return tap.readLong()
          let z = 0n
          for (let i = end; i >= tap.pos; i--) z = (z << 7n) | BigInt(buf[i] & 0x7f)
          tap.pos = end + 1
          const v = BigInt.asIntN(64, (z >> 1n) ^ -(z & 1n))
          return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
        },
      },
      _write: {
        value(tap: Tap, val: number | bigint): void {
          if (typeof val === 'number') {
            if (!Number.isSafeInteger(val)) throw new Error(`invalid "long": ${val}`)
            // avsc's float arithmetic is exact while 2|n| fits a double's 53 bits.
            if (val > -(2 ** 51) && val < 2 ** 51) {
              tap.writeLong(val)
              return
            }
          } else if (typeof val !== 'bigint' || val < INT64_MIN || val > INT64_MAX) {
            throw new Error(`invalid "long": ${String(val)}`)
          }
          const big = BigInt(val)
          let z = BigInt.asUintN(64, (big << 1n) ^ (big >> 63n))
          const { buf } = tap
          while (z >= 0x80n) {
            buf[tap.pos++] = Number(z & 0x7fn) | 0x80
            z >>= 7n
          }
          buf[tap.pos++] = Number(z)
        },
      },
    },
  )
}

let loaded: { avsc: typeof avscModule; exactLong: avscModule.Type } | undefined

/** avsc and the exact long type, loaded once on first use. */
function avscLib(): { avsc: typeof avscModule; exactLong: avscModule.Type } {
  if (loaded === undefined) {
    const avsc = createRequire(import.meta.url)('avsc') as typeof avscModule
    loaded = { avsc, exactLong: exactLong(avsc) }
  }
  return loaded
}

/** Unions of null and one type stay unwrapped (the value or null); every other union is wrapped. */
function typeHook(schema: unknown, opts: object): avscModule.Type | undefined {
  const { avsc, exactLong } = avscLib()
  if (schema === 'long' || (isObject(schema) && schema.type === 'long')) return exactLong
  if (Array.isArray(schema) && schema.length === 2 && schema.filter((b) => b === 'null').length === 1) {
    const UnwrappedUnionType = (
      avsc.types as unknown as { UnwrappedUnionType: new (s: unknown, o: object) => avscModule.Type }
    ).UnwrappedUnionType
    return new UnwrappedUnionType(schema, opts)
  }
  return undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** The avsc type that reads and writes an Avro schema (unions and longs as described above). */
export function avscType(schema: AvroSchema | string): avscModule.Type {
  const { avsc } = avscLib()
  const text = typeof schema === 'string' ? schema : avroSchemaText(schema)
  try {
    return avsc.Type.forSchema(JSON.parse(text), {
      typeHook,
      wrapUnions: true,
      registry: {},
    } as avscModule.ForSchemaOptions)
  } catch (error) {
    throw new DataError(`invalid Avro schema: ${(error as Error).message}`, { cause: error })
  }
}

/** Everything derived from one Avro schema, built once. */
export interface AvroReader {
  readonly avro: AvroSchema
  readonly text: string
  readonly connect: Schema
  readonly type: avscModule.Type
  /** The avsc value → the Connect value. */
  readonly toConnect: (value: unknown) => unknown
}

/** Everything derived from one Connect schema, built once. */
export interface AvroWriter {
  readonly connect: Schema
  readonly avro: AvroSchema
  /** The schema's JSON text, as Java's Avro writes it (what is registered). */
  readonly text: string
  readonly type: avscModule.Type
  /** The Connect value → the avsc value. */
  readonly toAvro: (value: unknown) => unknown
}

/** A bounded cache that drops its oldest entry first. */
class BoundedCache<K, V> {
  readonly #max: number
  readonly #map = new Map<K, V>()
  constructor(max: number) {
    this.#max = max
  }
  get(key: K): V | undefined {
    return this.#map.get(key)
  }
  set(key: K, value: V): void {
    if (this.#max <= 0) return
    this.#map.set(key, value)
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K)
  }
  get size(): number {
    return this.#map.size
  }
}

export class AvroData {
  readonly options: ResolvedAvroDataOptions
  readonly #writers: BoundedCache<Schema, AvroWriter>
  readonly #readers: BoundedCache<string, AvroReader>

  constructor(options: AvroDataOptions = {}) {
    this.options = resolveAvroDataOptions(options)
    this.#writers = new BoundedCache(this.options.schemasCacheSize)
    this.#readers = new BoundedCache(this.options.schemasCacheSize)
  }

  /** The Avro schema of a Connect schema (`AvroData.fromConnectSchema`). */
  fromConnectSchema(schema: Schema): AvroSchema {
    return this.writerFor(schema).avro
  }

  /** The Connect schema of an Avro schema; `version` (the registry's) applies when it has no `connect.version`. */
  toConnectSchema(schema: AvroSchema | string, version?: number): Schema {
    return this.readerFor(schema, version).connect
  }

  /** The avsc value of a Connect value (`AvroData.fromConnectData`): validated against its schema first. */
  fromConnectData(schema: Schema, value: unknown): unknown {
    return this.#toAvro(this.writerFor(schema), value)
  }

  /** A Connect value from an avsc value of `schema` (`AvroData.toConnectData`). */
  toConnectData(schema: AvroSchema | string, value: unknown, version?: number): SchemaAndValue {
    const reader = this.readerFor(schema, version)
    return { schema: reader.connect, value: reader.toConnect(value) }
  }

  /** Avro binary (no header) of a Connect value. */
  encode(schema: Schema, value: unknown): Buffer {
    const writer = this.writerFor(schema)
    return this.#write(writer.type, this.#toAvro(writer, value))
  }

  /** A Connect value from Avro binary written with `schema`. */
  decode(schema: AvroSchema | string, bytes: Uint8Array, version?: number): SchemaAndValue {
    const reader = this.readerFor(schema, version)
    return { schema: reader.connect, value: reader.toConnect(readAvro(reader.type, bytes)) }
  }

  /** The writer of a Connect schema: its Avro schema, text, avsc type and value converter (cached by identity). */
  writerFor(schema: Schema): AvroWriter {
    let writer = this.#writers.get(schema)
    if (writer === undefined) {
      const avro = connectToAvroSchema(schema, this.options)
      const text = avroSchemaText(avro)
      writer = {
        connect: schema,
        avro,
        text,
        type: avscType(text),
        toAvro: compileToAvro(schema, avro, this.options),
      }
      this.#writers.set(schema, writer)
    }
    return writer
  }

  /**
   * A writer of Connect values of `schema` in another Avro schema whose fields match by name (a
   * registry's latest version, `use.latest.version`).
   */
  writerWith(schema: Schema, avro: AvroSchema | string): AvroWriter {
    const parsed = typeof avro === 'string' ? parseAvroSchema(avro) : avro
    const text = avroSchemaText(parsed)
    return {
      connect: schema,
      avro: parsed,
      text,
      type: avscType(text),
      toAvro: compileToAvro(schema, parsed, this.options),
    }
  }

  /** The reader of an Avro schema (cached by schema text and version). */
  readerFor(schema: AvroSchema | string, version?: number): AvroReader {
    const text = typeof schema === 'string' ? schema : avroSchemaText(schema)
    const key = version === undefined ? text : `${version}\u0000${text}`
    let reader = this.#readers.get(key)
    if (reader === undefined) {
      const avro = typeof schema === 'string' ? parseAvroSchema(schema) : schema
      const connect = avroToConnectSchema(avro, this.options, version)
      reader = {
        avro,
        text,
        connect,
        type: avscType(text),
        toConnect: compileToConnect(avro, connect, this.options),
      }
      this.#readers.set(key, reader)
    }
    return reader
  }

  #toAvro(writer: AvroWriter, value: unknown): unknown {
    if (!isPlainlyValid(writer.connect, value)) validateValue(writer.connect, value)
    return writer.toAvro(value)
  }

  #write(type: avscModule.Type, value: unknown): Buffer {
    try {
      return type.toBuffer(value)
    } catch (error) {
      throw new DataError(`the value does not fit its Avro schema: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }
}

/** Reads Avro binary with an avsc type; DataError when the bytes do not fit it. */
export function readAvro(type: avscModule.Type, bytes: Uint8Array): unknown {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  try {
    return type.fromBuffer(buffer)
  } catch (error) {
    throw new DataError(`the bytes are not Avro data of the writer's schema: ${(error as Error).message}`, {
      cause: error,
    })
  }
}
