/**
 * The record writers of Confluent's formats (`io.confluent.connect.s3.format.*`), writing into a
 * byte sink (an object upload, which sends a part each time `s3.part.size` bytes are buffered):
 *
 * - JsonFormat (`.json`): one JSON document per line, as JsonConverter writes with schemas off.
 * - ByteArrayFormat (`.bin`): the raw bytes of each value (a BYTES or schemaless byte[]) then the
 *   separator.
 * - ParquetFormat (`.<codec>.parquet`): the records of a file as rows of its first record's schema,
 *   buffered up to a row group (4 MiB of values) and then encoded into the part buffer, so memory
 *   per open file stays near one part; the footer is written when the file is committed.
 *
 * - AvroFormat (`.avro`): an Avro object container file in the Avro schema Confluent's `AvroData`
 *   derives from the file's Connect schema (src/api/avro), `avro.codec` null or deflate, blocks of
 *   about 64 KB written to the part buffer as they fill.
 *
 * With `s3.compression.type=gzip`, JSON and ByteArray files are gzip streams (`.gz` appended), made
 * of one gzip member per MiB of input (readers of gzip read concatenated members as one stream).
 *
 * `write` converts the whole record before writing anything, so a record that cannot be written
 * (a DataError) leaves the file as it was and can go to the dead-letter queue.
 */
import { createRequire } from 'node:module'
import { gzipSync } from 'node:zlib'
import type { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import { AvroContainerEncoder, AvroData, type AvroWriter } from '../../api/avro/index.ts'
import { BigDecimal } from '../../api/data/big-decimal.ts'
import { DateType, Decimal, TimestampType, TimeType } from '../../api/data/logical-types.ts'
import type { Schema } from '../../api/data/schema.ts'
import { Struct } from '../../api/data/struct.ts'
import { DataError } from '../../api/errors.ts'
import type { FormatName, S3SinkSettings } from './config.ts'
import { toJsonText } from './json-values.ts'

/** Where a writer's bytes go. */
export interface ByteSink {
  write(bytes: Uint8Array): void
}

/** The part of a record a file holds: its value, its key, or its headers. */
export interface Datum {
  schema: Schema | null
  value: unknown
}

export interface RecordWriter {
  /**
   * Converts one datum and returns what appends it: throws a `DataError`, leaving the file
   * unchanged, when it cannot be written in this format.
   */
  prepare(datum: Datum): () => void
  /** Writes what is still buffered (and a footer) to the sink. */
  finish(): void
}

export interface FormatSpec {
  extension: string
  create(sink: ByteSink, schema: Schema | null): RecordWriter
}

const encoder = new TextEncoder()

export function formatSpec(name: FormatName, s: S3SinkSettings): FormatSpec {
  const gzip = s.compression === 'gzip'
  const wrap = (sink: ByteSink): { sink: ByteSink; finish: () => void } =>
    gzip ? gzipSink(sink, s.compressionLevel) : { sink, finish: () => {} }
  switch (name) {
    case 'json':
      return {
        extension: gzip ? '.json.gz' : '.json',
        create(target) {
          const { sink, finish } = wrap(target)
          // Lines are joined and encoded 64 KiB at a time: one buffer per record costs more than the text.
          let lines: string[] = []
          let pending = 0
          const flush = () => {
            if (pending === 0) return
            sink.write(encoder.encode(lines.join('')))
            lines = []
            pending = 0
          }
          return {
            prepare(datum) {
              const line = `${toJsonText(datum.schema, datum.value, s.jsonDecimalNumeric)}\n`
              return () => {
                lines.push(line)
                pending += line.length
                if (pending >= 65_536) flush()
              }
            },
            finish() {
              flush()
              finish()
            },
          }
        },
      }
    case 'bytearray':
      return {
        extension: `${s.byteArrayExtension}${gzip ? '.gz' : ''}`,
        create(target) {
          const { sink, finish } = wrap(target)
          return {
            prepare(datum) {
              if (datum.schema !== null && datum.schema.type !== 'BYTES')
                throw new DataError(
                  `ByteArrayFormat writes BYTES values; this one has a ${datum.schema.type} schema (use ByteArrayConverter)`,
                )
              if (datum.value !== null && !(datum.value instanceof Uint8Array))
                throw new DataError(
                  `ByteArrayFormat writes byte arrays; this value is a ${typeof datum.value} (use ByteArrayConverter)`,
                )
              const bytes = (datum.value as Uint8Array | null) ?? new Uint8Array(0)
              return () => {
                sink.write(bytes)
                sink.write(s.byteArraySeparator)
              }
            },
            finish,
          }
        },
      }
    case 'parquet':
      return {
        extension:
          s.parquetCodec === 'none' || s.parquetCodec === 'uncompressed'
            ? '.parquet'
            : `.${s.parquetCodec}.parquet`,
        create(sink, schema) {
          return new ParquetRecordWriter(sink, schema, s)
        },
      }
    case 'avro': {
      const avroData = new AvroData({
        enhancedAvroSchemaSupport: s.enhancedAvro,
        connectMetaData: s.connectMetaData,
      })
      return {
        extension: '.avro',
        create(sink, schema) {
          return new AvroRecordWriter(sink, schema, avroData, s.avroCodec)
        },
      }
    }
  }
}

function gzipSink(target: ByteSink, level: number): { sink: ByteSink; finish: () => void } {
  const MEMBER = 1024 * 1024
  let pending: Uint8Array[] = []
  let size = 0
  const flush = () => {
    if (size === 0) return
    target.write(gzipSync(Buffer.concat(pending), level >= 0 ? { level } : {}))
    pending = []
    size = 0
  }
  return {
    sink: {
      write(bytes) {
        pending.push(bytes)
        size += bytes.length
        if (size >= MEMBER) flush()
      },
    },
    finish: flush,
  }
}

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number]

let hyparquetWriter: typeof import('hyparquet-writer') | undefined

/**
 * hyparquet-writer (~16 MB in memory) is required by the first Parquet file a task writes, not
 * when the plugin list is loaded. Node ≥ 22.12 requires ES modules synchronously.
 */
function parquetLib(): typeof import('hyparquet-writer') {
  hyparquetWriter ??= createRequire(import.meta.url)('hyparquet-writer') as typeof import('hyparquet-writer')
  return hyparquetWriter
}

// ── Parquet ─────────────────────────────────────────────────────────────────────────────────────

/** Parquet encodes a row group at a time: about one upload part's worth of rows, at most this many. */
const MAX_ROWS_PER_GROUP = 100_000
const MAX_GROUP_BYTES = 4 * 1024 * 1024

class ParquetRecordWriter implements RecordWriter {
  readonly #sink: ByteSink
  readonly #schema: Schema
  readonly #columns: { name: string; schema: Schema }[]
  readonly #writer: ParquetWriter
  readonly #bytes: ByteWriter
  readonly #groupBytes: number
  #rows: Record<string, unknown>[] = []
  #estimated = 0

  constructor(sink: ByteSink, schema: Schema | null, s: S3SinkSettings) {
    if (schema === null || schema.type !== 'STRUCT') {
      throw new DataError(
        `ParquetFormat needs records with a STRUCT schema; this one has ${schema === null ? 'no schema (schemaless JSON?): use a converter with schemas, e.g. JsonConverter with schemas.enable=true' : `a ${schema.type} schema`}`,
      )
    }
    this.#sink = sink
    this.#schema = schema
    this.#columns = schema.fields.map((f) => ({ name: f.name, schema: f.schema }))
    const { ByteWriter, ParquetWriter } = parquetLib()
    this.#bytes = new ByteWriter(64 * 1024)
    const codec =
      s.parquetCodec === 'none' || s.parquetCodec === 'uncompressed'
        ? 'UNCOMPRESSED'
        : (s.parquetCodec.toUpperCase() as 'SNAPPY' | 'GZIP')
    this.#writer = new ParquetWriter({
      writer: this.#bytes,
      schema: parquetSchema(schema),
      codec,
      compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) },
      createdBy: 'sluice s3 sink',
    })
    // Rows wait as JS objects (several times their size in memory) until encoded: a row group is
    // capped at 4 MiB of values, or half a part when parts are smaller, so an open file stays small.
    this.#groupBytes = Math.min(MAX_GROUP_BYTES, Math.floor(s.partSize / 2))
    this.#drain()
  }

  prepare(datum: Datum): () => void {
    if (!(datum.value instanceof Struct)) {
      throw new DataError(
        datum.value === null
          ? 'ParquetFormat cannot write a null value'
          : `ParquetFormat needs Struct values; this one is a ${typeof datum.value} (schemaless JSON cannot be written as Parquet: use a converter with schemas)`,
      )
    }
    const row: Record<string, unknown> = {}
    let size = 0
    for (const column of this.#columns) {
      const field = datum.value.schema.field(column.name)
      const raw = field === undefined ? (column.schema.defaultValue ?? null) : datum.value.get(field)
      const converted = toParquet(column.schema, raw, column.name)
      size += estimate(converted)
      row[column.name] = converted
    }
    return () => {
      this.#rows.push(row)
      this.#estimated += size
      if (this.#estimated >= this.#groupBytes || this.#rows.length >= MAX_ROWS_PER_GROUP) this.#flushGroup()
    }
  }

  finish(): void {
    this.#flushGroup()
    void this.#writer.finish()
    this.#drain()
  }

  #flushGroup(): void {
    if (this.#rows.length === 0) return
    const rows = this.#rows
    this.#rows = []
    this.#estimated = 0
    const columnData = this.#columns.map((c) => ({ name: c.name, data: rows.map((r) => r[c.name]) }))
    void this.#writer.write({ columnData, rowGroupSize: rows.length })
    this.#drain()
  }

  /** Moves the encoded bytes to the sink and empties the writer's buffer (its offset keeps counting). */
  #drain(): void {
    const w = this.#bytes as unknown as { index: number; buffer: ArrayBuffer }
    if (w.index === 0) return
    this.#sink.write(new Uint8Array(w.buffer.slice(0, w.index)))
    w.index = 0
  }

  get schema(): Schema {
    return this.#schema
  }
}

function estimate(value: unknown): number {
  if (value === null || value === undefined) return 1
  if (typeof value === 'string') return value.length + 4
  if (value instanceof Uint8Array) return value.length + 4
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + estimate(v), 4)
  if (typeof value === 'object') return Object.values(value).reduce((n: number, v) => n + estimate(v), 0)
  return 8
}

/** A Connect value as the primitive hyparquet-writer takes for the column's schema element. */
function toParquet(schema: Schema, value: unknown, path: string): unknown {
  if (value === null || value === undefined) {
    if (!schema.optional && schema.defaultValue == null)
      throw new DataError(
        `field '${path}' is required by the file's schema but the record has no value for it`,
      )
    return schema.defaultValue === undefined || schema.defaultValue === null
      ? null
      : toParquet(schema, schema.defaultValue, path)
  }
  switch (schema.name) {
    case Decimal.LOGICAL_NAME: {
      const d = value instanceof BigDecimal ? value : BigDecimal.parse(String(value))
      return d.setScale(Decimal.scaleOf(schema)).unscaled
    }
    case DateType.LOGICAL_NAME:
      return value instanceof Date ? DateType.fromLogical(schema, value) : Number(value)
    case TimeType.LOGICAL_NAME:
      return value instanceof Date ? TimeType.fromLogical(schema, value) : Number(value)
    case TimestampType.LOGICAL_NAME:
      return BigInt(value instanceof Date ? value.getTime() : Number(value))
  }
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'FLOAT32':
    case 'FLOAT64':
      return Number(value)
    case 'INT64':
      return typeof value === 'bigint' ? value : BigInt(value as number)
    case 'BOOLEAN':
      return Boolean(value)
    case 'STRING':
      return String(value)
    case 'BYTES':
      if (!(value instanceof Uint8Array)) throw new DataError(`field '${path}' should hold bytes`)
      return value
    case 'STRUCT': {
      if (!(value instanceof Struct)) throw new DataError(`field '${path}' should hold a Struct`)
      const out: Record<string, unknown> = {}
      for (const f of schema.fields) {
        const own = value.schema.field(f.name)
        out[f.name] = toParquet(f.schema, own === undefined ? null : value.get(own), `${path}.${f.name}`)
      }
      return out
    }
    case 'ARRAY':
      if (!Array.isArray(value)) throw new DataError(`field '${path}' should hold an array`)
      return value.map((v) => toParquet(schema.valueSchema as Schema, v, `${path}[]`))
    case 'MAP': {
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object)
      return entries.map(([k, v]) => ({
        key: toParquet(schema.keySchema as Schema, k, `${path}.key`),
        value: toParquet(schema.valueSchema as Schema, v, `${path}.value`),
      }))
    }
  }
}

/** The Parquet schema (flattened, depth first) of a Connect STRUCT schema, as parquet-avro shapes it. */
export function parquetSchema(schema: Schema): SchemaElement[] {
  const out: SchemaElement[] = [{ name: rootName(schema), num_children: schema.fields.length }]
  for (const f of schema.fields) element(f.name, f.schema, out)
  return out
}

function rootName(schema: Schema): string {
  const name = schema.name?.slice(schema.name.lastIndexOf('.') + 1)
  return name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : 'ConnectDefault'
}

function element(name: string, schema: Schema, out: SchemaElement[]): void {
  const repetition_type = schema.optional ? 'OPTIONAL' : 'REQUIRED'
  switch (schema.name) {
    case Decimal.LOGICAL_NAME: {
      const scale = Decimal.scaleOf(schema)
      const precision = Number(schema.parameters?.['connect.decimal.precision'] ?? 38)
      out.push({
        name,
        type: 'BYTE_ARRAY',
        repetition_type,
        converted_type: 'DECIMAL',
        scale,
        precision,
        logical_type: { type: 'DECIMAL', scale, precision },
      })
      return
    }
    case DateType.LOGICAL_NAME:
      out.push({
        name,
        type: 'INT32',
        repetition_type,
        converted_type: 'DATE',
        logical_type: { type: 'DATE' },
      })
      return
    case TimeType.LOGICAL_NAME:
      out.push({
        name,
        type: 'INT32',
        repetition_type,
        converted_type: 'TIME_MILLIS',
        logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: 'MILLIS' },
      })
      return
    case TimestampType.LOGICAL_NAME:
      out.push({
        name,
        type: 'INT64',
        repetition_type,
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      })
      return
  }
  switch (schema.type) {
    case 'INT8':
      out.push({
        name,
        type: 'INT32',
        repetition_type,
        converted_type: 'INT_8',
        logical_type: { type: 'INTEGER', bitWidth: 8, isSigned: true },
      })
      return
    case 'INT16':
      out.push({
        name,
        type: 'INT32',
        repetition_type,
        converted_type: 'INT_16',
        logical_type: { type: 'INTEGER', bitWidth: 16, isSigned: true },
      })
      return
    case 'INT32':
      out.push({ name, type: 'INT32', repetition_type })
      return
    case 'INT64':
      out.push({ name, type: 'INT64', repetition_type })
      return
    case 'FLOAT32':
      out.push({ name, type: 'FLOAT', repetition_type })
      return
    case 'FLOAT64':
      out.push({ name, type: 'DOUBLE', repetition_type })
      return
    case 'BOOLEAN':
      out.push({ name, type: 'BOOLEAN', repetition_type })
      return
    case 'STRING':
      out.push({
        name,
        type: 'BYTE_ARRAY',
        repetition_type,
        converted_type: 'UTF8',
        logical_type: { type: 'STRING' },
      })
      return
    case 'BYTES':
      out.push({ name, type: 'BYTE_ARRAY', repetition_type })
      return
    case 'STRUCT':
      out.push({ name, repetition_type, num_children: schema.fields.length })
      for (const f of schema.fields) element(f.name, f.schema, out)
      return
    case 'ARRAY':
      out.push({
        name,
        repetition_type,
        converted_type: 'LIST',
        logical_type: { type: 'LIST' },
        num_children: 1,
      })
      out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 })
      element('element', schema.valueSchema as Schema, out)
      return
    case 'MAP':
      out.push({
        name,
        repetition_type,
        converted_type: 'MAP',
        logical_type: { type: 'MAP' },
        num_children: 1,
      })
      out.push({ name: 'key_value', repetition_type: 'REPEATED', num_children: 2 })
      element('key', { ...(schema.keySchema as Schema), optional: false } as Schema, out)
      element('value', schema.valueSchema as Schema, out)
      return
  }
}

// ── Avro ────────────────────────────────────────────────────────────────────────────────────────

class AvroRecordWriter implements RecordWriter {
  readonly #sink: ByteSink
  readonly #writer: AvroWriter
  readonly #encoder: AvroContainerEncoder

  constructor(sink: ByteSink, schema: Schema | null, avroData: AvroData, codec: 'null' | 'deflate') {
    if (schema === null) {
      throw new DataError(
        'AvroFormat needs records with a schema; this one has none (schemaless JSON?): use a converter with schemas, e.g. JsonConverter with schemas.enable=true',
      )
    }
    this.#sink = sink
    this.#writer = avroData.writerFor(schema)
    this.#encoder = new AvroContainerEncoder(this.#writer, { codec })
    sink.write(this.#encoder.header())
  }

  prepare(datum: Datum): () => void {
    const value = project(this.#writer.connect, datum.value)
    let valid: boolean
    try {
      valid = this.#writer.type.isValid(this.#writer.toAvro(value))
    } catch (error) {
      if (error instanceof DataError) throw error
      throw new DataError(`the record does not fit the file's Avro schema: ${(error as Error).message}`, {
        cause: error,
      })
    }
    if (!valid) throw new DataError("the record does not fit the file's Avro schema")
    return () => {
      const bytes = this.#encoder.append(value)
      if (bytes.length > 0) this.#sink.write(bytes)
    }
  }

  finish(): void {
    const bytes = this.#encoder.flush()
    if (bytes.length > 0) this.#sink.write(bytes)
  }
}

/**
 * A Struct of another version of the file's schema as a Struct of the file's schema (fields by
 * name; a field the record lacks takes its default or null): what BACKWARD, FORWARD and FULL
 * compatibility keep in one file.
 */
function project(target: Schema, value: unknown): unknown {
  if (target.type !== 'STRUCT' || !(value instanceof Struct) || value.schema === target) return value
  const out = new Struct(target)
  for (const field of target.fields) {
    const own = value.schema.field(field.name)
    const v = own === undefined ? (field.schema.defaultValue ?? null) : value.get(own)
    if (v === null && !field.schema.optional && field.schema.defaultValue == null) {
      throw new DataError(`the record has no value for '${field.name}', which the file's schema requires`)
    }
    out.put(field, v)
  }
  return out
}
