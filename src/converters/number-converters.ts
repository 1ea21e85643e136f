/**
 * The fixed-width converters of `org.apache.kafka.connect.converters`: Boolean (1 byte, 0 or 1),
 * Short (2), Integer (4), Long (8), Float (4, IEEE 754) and Double (8), all big-endian, the same
 * bytes as Kafka's `ShortSerializer`, `IntegerSerializer`… Reading gives the type's optional
 * schema; null is null both ways. The schema given when writing is ignored, except by
 * BooleanConverter, which (as in Kafka) refuses a non-BOOLEAN one. Errors keep Kafka's wording:
 * the message of the `DataException`, with the serializer's message as the cause.
 *
 * LongConverter reads a `number` when the value fits a double exactly, a `bigint` otherwise.
 */

import type { ConfigDef } from '../api/config-def.ts'
import { javaClassOf } from '../api/data/java-text.ts'
import { type Schema, Schemas } from '../api/data/schema.ts'
import type { SchemaAndValue } from '../api/data/schema-and-value.ts'
import { DataError } from '../api/errors.ts'
import { newConverterConfigDef, withConverterType } from './converter-config.ts'
import { DataHeaderConverter } from './data-header-converter.ts'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

interface NumberCodec {
  /** Kafka's display name of the type, as in "Failed to serialize to short". */
  readonly typeName: string
  /** The deserializer's name in its size message ("ShortDeserializer", or plain "Deserializer"). */
  readonly deserializerName: string
  readonly size: number
  readonly schema: Schema
  /** The bytes, or undefined when the value is not of this type. */
  encode(value: unknown): Uint8Array | undefined
  decode(bytes: Buffer): unknown
}

abstract class NumberConverter extends DataHeaderConverter {
  readonly #codec: NumberCodec

  constructor(codec: NumberCodec) {
    super()
    this.#codec = codec
  }

  config(): ConfigDef {
    return newConverterConfigDef()
  }

  configure(configs: Readonly<Record<string, string>>, isKey?: boolean): void {
    newConverterConfigDef().parse(withConverterType(configs, isKey))
  }

  fromConnectData(_topic: string, _schema: Schema | null, value: unknown): Uint8Array | null {
    if (value == null) return null
    const bytes = this.#codec.encode(value)
    if (bytes === undefined) {
      throw new DataError(`Failed to serialize to ${this.#codec.typeName} (was ${javaClassOf(value)}): `)
    }
    return bytes
  }

  toConnectData(_topic: string, value: Uint8Array | null): SchemaAndValue {
    const { schema, size } = this.#codec
    if (value == null) return { schema, value: null }
    if (value.length !== size) {
      throw new DataError(`Failed to deserialize ${this.#codec.typeName}: `, {
        cause: new Error(`Size of data received by ${this.#codec.deserializerName} is not ${size}`),
      })
    }
    return { schema, value: this.#codec.decode(asBuffer(value)) }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The size, encoding and decoding of a big-endian number of `size` bytes; `fits` says which values it takes. */
function fixedWidth(
  size: number,
  fits: (value: unknown) => boolean,
  write: (b: Buffer, value: number) => void,
  read: (b: Buffer) => number,
): Pick<NumberCodec, 'size' | 'encode' | 'decode'> {
  return {
    size,
    encode(value) {
      if (!fits(value)) return undefined
      const b = Buffer.allocUnsafe(size)
      write(b, value as number)
      return b
    },
    decode: read,
  }
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number'
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}

export class ShortConverter extends NumberConverter {
  constructor() {
    super({
      typeName: 'short',
      deserializerName: 'ShortDeserializer',
      schema: Schemas.OPTIONAL_INT16,
      ...fixedWidth(
        2,
        (value) => isIntIn(value, -32768, 32767),
        (b, value) => b.writeInt16BE(value),
        (b) => b.readInt16BE(0),
      ),
    })
  }
}

export class IntegerConverter extends NumberConverter {
  constructor() {
    super({
      typeName: 'integer',
      deserializerName: 'IntegerDeserializer',
      schema: Schemas.OPTIONAL_INT32,
      ...fixedWidth(
        4,
        (value) => isIntIn(value, -2147483648, 2147483647),
        (b, value) => b.writeInt32BE(value),
        (b) => b.readInt32BE(0),
      ),
    })
  }
}

export class LongConverter extends NumberConverter {
  constructor() {
    super({
      typeName: 'long',
      deserializerName: 'LongDeserializer',
      size: 8,
      schema: Schemas.OPTIONAL_INT64,
      encode(value) {
        let big: bigint
        if (typeof value === 'bigint') big = value
        else if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value)
        else return undefined
        if (big < INT64_MIN || big > INT64_MAX) return undefined
        const b = Buffer.allocUnsafe(8)
        b.writeBigInt64BE(big)
        return b
      },
      decode(b) {
        const v = b.readBigInt64BE(0)
        return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v
      },
    })
  }
}

export class FloatConverter extends NumberConverter {
  constructor() {
    super({
      typeName: 'float',
      deserializerName: 'Deserializer',
      schema: Schemas.OPTIONAL_FLOAT32,
      ...fixedWidth(
        4,
        isNumber,
        (b, value) => b.writeFloatBE(value),
        (b) => b.readFloatBE(0),
      ),
    })
  }
}

export class DoubleConverter extends NumberConverter {
  constructor() {
    super({
      typeName: 'double',
      deserializerName: 'Deserializer',
      schema: Schemas.OPTIONAL_FLOAT64,
      ...fixedWidth(
        8,
        isNumber,
        (b, value) => b.writeDoubleBE(value),
        (b) => b.readDoubleBE(0),
      ),
    })
  }
}

/** `org.apache.kafka.connect.converters.BooleanConverter`: one byte, 1 for true and 0 for false. */
export class BooleanConverter extends DataHeaderConverter {
  config(): ConfigDef {
    return newConverterConfigDef()
  }

  configure(configs: Readonly<Record<string, string>>, isKey?: boolean): void {
    newConverterConfigDef().parse(withConverterType(configs, isKey))
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Uint8Array | null {
    if (schema != null && schema.type !== 'BOOLEAN') {
      throw new DataError(`Invalid schema type for BooleanConverter: ${schema.type}`)
    }
    if (value == null) return null
    if (typeof value !== 'boolean') {
      throw new DataError(`BooleanConverter is not compatible with objects of type ${javaClassOf(value)}`)
    }
    return Uint8Array.of(value ? 1 : 0)
  }

  toConnectData(_topic: string, value: Uint8Array | null): SchemaAndValue {
    if (value == null) return { schema: Schemas.OPTIONAL_BOOLEAN, value: null }
    let why: string | undefined
    if (value.length !== 1) why = 'Size of data received by BooleanDeserializer is not 1'
    else if (value[0] > 1) why = `Unexpected byte received by BooleanDeserializer: ${(value[0] << 24) >> 24}`
    if (why) throw new DataError('Failed to deserialize boolean: ', { cause: new Error(why) })
    return { schema: Schemas.OPTIONAL_BOOLEAN, value: value[0] === 1 }
  }
}
