/**
 * Confluent's partitioners (kafka-connect-storage-common `io.confluent.connect.storage.partitioner`):
 * the encoded partition of a record (the directories between the topic and the file name) and the
 * timestamp extractors of the time-based ones.
 *
 * - DefaultPartitioner: `partition=<kafka partition>`.
 * - FieldPartitioner: `<field>=<value>` per `partition.field.name`, joined by the directory delimiter.
 * - TimeBasedPartitioner: the record's time, rounded down to `partition.duration.ms` in the local
 *   time of `timezone`, formatted with `path.format` (Joda-Time). Daily and Hourly fix both.
 */

import { isPlainObject, type Schema } from '../../api/data/schema.ts'
import { Struct } from '../../api/data/struct.ts'
import { ConfigError, DataError } from '../../api/errors.ts'
import type { SinkRecord } from '../../api/records.ts'
import { type ExtractorName, PARTITION_FIELD, type S3SinkSettings, TIMESTAMP_FIELD } from './config.ts'
import { JodaFormatter, localToUtc, zoneOffsetMs } from './joda-time-format.ts'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
const DAILY_FORMAT = "'year'=YYYY/'month'=MM/'day'=dd"
const HOURLY_FORMAT = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH"

export interface Partitioner {
  /** The encoded partition of a record with a value. Throws a `DataError` when it has none. */
  encodePartition(record: SinkRecord, now: number): string
  /** `<topic><delim><encodedPartition>`, the directory of the record's files below topics.dir. */
  partitionedPath(topic: string, encodedPartition: string): string
  /** The time-based extractor (null for Default and Field): rotate.interval.ms uses it. */
  readonly extractor: TimestampExtractor | null
}

export interface TimestampExtractor {
  readonly name: ExtractorName
  extract(record: SinkRecord, now: number): number
}

export function createPartitioner(s: S3SinkSettings): Partitioner {
  const path = (topic: string, encoded: string) => `${topic}${s.directoryDelim}${encoded}`
  switch (s.partitioner) {
    case 'default':
      return {
        extractor: null,
        encodePartition: (record) => `partition=${record.originalKafkaPartition}`,
        partitionedPath: path,
      }
    case 'field':
      return {
        extractor: null,
        encodePartition: (record) =>
          s.partitionFields.map((f) => `${f}=${fieldText(record.value, f)}`).join(s.directoryDelim),
        partitionedPath: path,
      }
    case 'time':
    case 'daily':
    case 'hourly': {
      const duration =
        s.partitioner === 'daily' ? DAY_MS : s.partitioner === 'hourly' ? HOUR_MS : s.partitionDurationMs
      const pattern =
        s.partitioner === 'daily' ? DAILY_FORMAT : s.partitioner === 'hourly' ? HOURLY_FORMAT : s.pathFormat
      const zone = s.timezone
      const formatter = new JodaFormatter(pattern, zone, s.locale)
      const extractor = createExtractor(s.timestampExtractor, s.timestampField)
      return {
        extractor,
        encodePartition: (record, now) =>
          encodeTimestamp(duration, formatter, zone, extractor.extract(record, now)),
        partitionedPath: path,
      }
    }
  }
}

/** Confluent's `TimeBasedPartitioner.encodedPartitionForTimestamp`. */
export function encodeTimestamp(
  durationMs: number,
  formatter: JodaFormatter,
  zone: string,
  timestamp: number,
): string {
  const local = timestamp + zoneOffsetMs(zone, timestamp)
  // Java's long division truncates toward zero; so does this.
  const bucket = Math.trunc(local / durationMs) * durationMs
  return formatter.format(localToUtc(zone, bucket))
}

/**
 * Confluent's `DateTimeUtils.getNextTimeAdjustedByDay`: the next boundary of `intervalMs` counted
 * from the start of the current day in `zone`.
 */
export function nextScheduledRotation(now: number, intervalMs: number, zone: string): number {
  const local = now + zoneOffsetMs(zone, now)
  const startOfDay = localToUtc(zone, Math.floor(local / DAY_MS) * DAY_MS)
  const next = startOfDay + (Math.floor((now - startOfDay) / intervalMs) + 1) * intervalMs
  const nextDay = localToUtc(zone, (Math.floor(local / DAY_MS) + 1) * DAY_MS)
  return Math.min(next, nextDay)
}

function createExtractor(name: ExtractorName, field: string): TimestampExtractor {
  switch (name) {
    case 'Wallclock':
      return { name, extract: (_record, now) => now }
    case 'Record':
      return {
        name,
        extract(record) {
          if (record.timestamp === null || record.timestamp === undefined) {
            throw new DataError(
              `record ${record.originalTopic}-${record.originalKafkaPartition}@${record.originalKafkaOffset} has no timestamp: ` +
                'the Record timestamp extractor needs one (use Wallclock or RecordField)',
            )
          }
          return record.timestamp
        },
      }
    case 'RecordField':
      return {
        name,
        extract(record) {
          const value = lookup(record.value, field)
          if (value.found === false)
            throw new DataError(
              `record has no field '${field}' (${TIMESTAMP_FIELD}) to take its timestamp from`,
            )
          return timestampOf(value.value, value.schema, field)
        },
      }
  }
}

function timestampOf(value: unknown, _schema: Schema | null, field: string): number {
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'string') {
    const parsed = Date.parse(value)
    if (!Number.isNaN(parsed)) return parsed
  }
  throw new DataError(
    `field '${field}' is not a timestamp (${value === null ? 'null' : typeof value}): ` +
      'the RecordField extractor takes a Timestamp, epoch milliseconds or an ISO-8601 string',
  )
}

type Lookup = { found: true; value: unknown; schema: Schema | null } | { found: false }

/** A field of a Struct or map value; dots name nested fields. */
function lookup(root: unknown, path: string): Lookup {
  let current: unknown = root
  let schema: Schema | null = null
  for (const part of path.split('.')) {
    if (current instanceof Struct) {
      const f = current.schema.field(part)
      if (f === undefined) return { found: false }
      schema = f.schema
      current = current.get(f)
    } else if (current instanceof Map) {
      if (!current.has(part)) return { found: false }
      current = current.get(part)
      schema = null
    } else if (isPlainObject(current)) {
      if (!(part in current)) return { found: false }
      current = current[part]
      schema = null
    } else {
      return { found: false }
    }
  }
  return { found: true, value: current, schema }
}

function fieldText(value: unknown, field: string): string {
  if (!(value instanceof Struct) && !(value instanceof Map) && !isPlainObject(value)) {
    throw new DataError(
      `FieldPartitioner needs a Struct or map value to read '${field}' from (${PARTITION_FIELD}); got ${value === null ? 'null' : typeof value}`,
    )
  }
  const found = lookup(value, field)
  if (!found.found) throw new DataError(`record has no field '${field}' to partition by (${PARTITION_FIELD})`)
  const v = found.value
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean')
    return String(v)
  throw new DataError(
    `field '${field}' is a ${typeof v}: FieldPartitioner takes integers, strings and booleans`,
  )
}

/** Throws a ConfigError for a partitioner that cannot be built from the settings (a bad path.format). */
export function checkPartitioner(s: S3SinkSettings): void {
  try {
    createPartitioner(s)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError('partitioner.class', `cannot build the partitioner: ${(error as Error).message}`)
  }
}
