/**
 * `org.apache.kafka.connect.storage.StringConverter`: writes any value's string form in
 * `converter.encoding` (UTF-8 by default), reads bytes back as an OPTIONAL_STRING. The schema is
 * ignored when writing, except that FLOAT32/FLOAT64 numbers print as Java's `Float.toString` /
 * `Double.toString` (`1.0`, `1.0E10`) — what Java's `toString()` gives for those boxed values.
 *
 * Encodings: the Java charset names for UTF-8, US-ASCII, ISO-8859-1, UTF-16, UTF-16BE and
 * UTF-16LE (and their usual aliases). As in Java, a character the charset cannot encode (or a lone
 * surrogate) becomes `?`, and an undecodable byte becomes U+FFFD. Other Java charsets are refused
 * at configure time. Like Kafka's `StringSerializer`, `key.serializer.encoding` /
 * `value.serializer.encoding` (and the `deserializer` ones) win over `converter.encoding`.
 *
 * Deviation: non-string values print with JavaScript's `String()` (a Struct prints its fields;
 * a byte array prints its numbers, where Java prints an object id such as `[B@6d06d69c`).
 */

import type { ConfigDef } from '../api/config-def.ts'
import { javaDoubleToString, javaFloatToString } from '../api/data/java-text.ts'
import { type Schema, Schemas } from '../api/data/schema.ts'
import type { SchemaAndValue } from '../api/data/schema-and-value.ts'
import { ConfigError } from '../api/errors.ts'
import { CONVERTER_TYPE_CONFIG, newConverterConfigDef, withConverterType } from './converter-config.ts'
import { DataHeaderConverter } from './data-header-converter.ts'

export const ENCODING_CONFIG = 'converter.encoding'

export function stringConverterConfigDef(): ConfigDef {
  return newConverterConfigDef().define({
    name: ENCODING_CONFIG,
    type: 'STRING',
    defaultValue: 'UTF-8',
    importance: 'HIGH',
    documentation: 'The name of the Java character set to use for encoding strings as byte arrays.',
    width: 'MEDIUM',
    displayName: 'Encoding',
  })
}

export type Charset = 'utf8' | 'ascii' | 'latin1' | 'utf16' | 'utf16be' | 'utf16le'

const CHARSETS: Record<string, Charset> = {
  utf8: 'utf8',
  unicode11utf8: 'utf8',
  usascii: 'ascii',
  ascii: 'ascii',
  iso646us: 'ascii',
  iso88591: 'latin1',
  latin1: 'latin1',
  l1: 'latin1',
  iso88591_1987: 'latin1',
  utf16: 'utf16',
  utf16be: 'utf16be',
  xutf16be: 'utf16be',
  unicodebigunmarked: 'utf16be',
  utf16le: 'utf16le',
  xutf16le: 'utf16le',
  unicodelittleunmarked: 'utf16le',
}

/** The charset a Java charset name (case-insensitive, any aliases we know) stands for. */
export function charsetFor(name: string, key = ENCODING_CONFIG): Charset {
  const charset = CHARSETS[name.toLowerCase().replace(/[-_]/g, '')]
  if (!charset) throw new ConfigError(key, `Unsupported encoding ${name}`)
  return charset
}

const LONE_SURROGATE = /\p{Cs}/gu

/** Java's `String.getBytes(charset)`, unmappable characters as `?`. */
export function encodeString(text: string, charset: Charset): Uint8Array {
  switch (charset) {
    case 'utf8':
      return Buffer.from(text.isWellFormed() ? text : text.replace(LONE_SURROGATE, '?'), 'utf8')
    case 'ascii':
      return Buffer.from(text.replace(/[\u0080-\u{10ffff}]/gu, '?'), 'latin1')
    case 'latin1':
      return Buffer.from(text.replace(/[\u0100-\u{10ffff}]/gu, '?'), 'latin1')
    case 'utf16le':
      return Buffer.from(text.isWellFormed() ? text : text.replace(LONE_SURROGATE, '?'), 'utf16le')
    case 'utf16be':
      return Buffer.from(text.isWellFormed() ? text : text.replace(LONE_SURROGATE, '?'), 'utf16le').swap16()
    case 'utf16': {
      const body = encodeString(text, 'utf16be')
      const out = Buffer.allocUnsafe(body.length + 2)
      out[0] = 0xfe
      out[1] = 0xff
      out.set(body, 2)
      return out
    }
  }
}

/** Java's `new String(bytes, charset)`, undecodable input as U+FFFD. */
export function decodeString(bytes: Uint8Array, charset: Charset): string {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  switch (charset) {
    case 'utf8':
      return buffer.toString('utf8')
    case 'ascii':
      return buffer.toString('latin1').replace(/[\x80-\xff]/g, '\ufffd')
    case 'latin1':
      return buffer.toString('latin1')
    case 'utf16le':
      return new TextDecoder('utf-16le').decode(buffer)
    case 'utf16be':
      return new TextDecoder('utf-16be').decode(buffer)
    case 'utf16':
      if (buffer[0] === 0xff && buffer[1] === 0xfe)
        return new TextDecoder('utf-16le').decode(buffer.subarray(2))
      if (buffer[0] === 0xfe && buffer[1] === 0xff)
        return new TextDecoder('utf-16be').decode(buffer.subarray(2))
      return new TextDecoder('utf-16be').decode(buffer)
  }
}

/** A value's text as Java's `toString()` would give it, as far as JavaScript can tell. */
export function javaToString(schema: Schema | null, value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number') {
    if (schema?.type === 'FLOAT32') return javaFloatToString(value)
    if (schema?.type === 'FLOAT64' || !Number.isInteger(value)) return javaDoubleToString(value)
  }
  return String(value)
}

export class StringConverter extends DataHeaderConverter {
  #encodeAs: Charset = 'utf8'
  #decodeAs: Charset = 'utf8'

  config(): ConfigDef {
    return stringConverterConfigDef()
  }

  configure(configs: Readonly<Record<string, string>>, isKey?: boolean): void {
    const all = withConverterType(configs, isKey)
    const parsed = stringConverterConfigDef().parse(all)
    const encoding = parsed[ENCODING_CONFIG] as string
    const side = parsed[CONVERTER_TYPE_CONFIG] === 'key' ? 'key' : 'value'
    const serializerKey = `${side}.serializer.encoding`
    const deserializerKey = `${side}.deserializer.encoding`
    this.#encodeAs = charsetFor(
      all[serializerKey] ?? encoding,
      all[serializerKey] ? serializerKey : ENCODING_CONFIG,
    )
    this.#decodeAs = charsetFor(
      all[deserializerKey] ?? encoding,
      all[deserializerKey] ? deserializerKey : ENCODING_CONFIG,
    )
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Uint8Array | null {
    return value == null ? null : encodeString(javaToString(schema, value), this.#encodeAs)
  }

  toConnectData(_topic: string, value: Uint8Array | null): SchemaAndValue {
    return {
      schema: Schemas.OPTIONAL_STRING,
      value: value == null ? null : decodeString(value, this.#decodeAs),
    }
  }
}
