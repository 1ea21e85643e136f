/**
 * The keys of Confluent's S3 sink (`io.confluent.connect.s3.S3SinkConnectorConfig`, with
 * `StorageCommonConfig`, `StorageSinkConnectorConfig` and `PartitionerConfig` of
 * kafka-connect-storage-common), with their names and defaults, plus `s3.checksum.mode` for
 * S3-compatible stores that reject the AWS SDK's default checksums.
 */
import {
  AbstractConfig,
  ConfigDef,
  NonEmptyString,
  Range,
  ValidString,
  validator,
} from '../../api/config-def.ts'
import type { Props } from '../../api/connector.ts'
import { ConfigError } from '../../api/errors.ts'
import { isKnownTimeZone } from '../../api/time-zone.ts'

export const S3_BUCKET = 's3.bucket.name'
export const S3_REGION = 's3.region'
export const STORE_URL = 'store.url'
export const PATH_STYLE = 's3.path.style.access.enabled'
export const PATH_STYLE_ALIAS = 's3.path.style.access'
export const ACCESS_KEY = 'aws.access.key.id'
export const SECRET_KEY = 'aws.secret.access.key'
export const PART_SIZE = 's3.part.size'
export const PART_RETRIES = 's3.part.retries'
export const S3_RETRY_BACKOFF = 's3.retry.backoff.ms'
export const COMPRESSION_TYPE = 's3.compression.type'
export const COMPRESSION_LEVEL = 's3.compression.level'
export const CONDITIONAL_WRITES = 'enable.conditional.writes'
export const CHECKSUM_MODE = 's3.checksum.mode'
export const STORAGE_CLASS = 'storage.class'
export const TOPICS_DIR = 'topics.dir'
export const DIRECTORY_DELIM = 'directory.delim'
export const FILE_DELIM = 'file.delim'
export const FORMAT_CLASS = 'format.class'
export const FLUSH_SIZE = 'flush.size'
export const ROTATE_INTERVAL = 'rotate.interval.ms'
export const ROTATE_SCHEDULE_INTERVAL = 'rotate.schedule.interval.ms'
export const RETRY_BACKOFF = 'retry.backoff.ms'
export const ZERO_PAD_WIDTH = 'filename.offset.zero.pad.width'
export const SCHEMA_COMPATIBILITY = 'schema.compatibility'
export const NULL_VALUES = 'behavior.on.null.values'
export const TOMBSTONE_PARTITION = 'tombstone.encoded.partition'
export const STORE_KEYS = 'store.kafka.keys'
export const STORE_HEADERS = 'store.kafka.headers'
export const KEYS_FORMAT = 'keys.format.class'
export const HEADERS_FORMAT = 'headers.format.class'
export const BYTEARRAY_EXTENSION = 'format.bytearray.extension'
export const BYTEARRAY_SEPARATOR = 'format.bytearray.separator'
export const JSON_DECIMAL_FORMAT = 'json.decimal.format'
export const PARQUET_CODEC = 'parquet.codec'
export const AVRO_CODEC = 'avro.codec'
export const ENHANCED_AVRO = 'enhanced.avro.schema.support'
export const CONNECT_META_DATA = 'connect.meta.data'
export const PARTITIONER_CLASS = 'partitioner.class'
export const PARTITION_FIELD = 'partition.field.name'
export const PARTITION_DURATION = 'partition.duration.ms'
export const PATH_FORMAT = 'path.format'
export const LOCALE = 'locale'
export const TIMEZONE = 'timezone'
export const TIMESTAMP_EXTRACTOR = 'timestamp.extractor'
export const TIMESTAMP_FIELD = 'timestamp.field'

const FORMAT_PACKAGE = 'io.confluent.connect.s3.format'
export const FORMATS = {
  json: `${FORMAT_PACKAGE}.json.JsonFormat`,
  bytearray: `${FORMAT_PACKAGE}.bytearray.ByteArrayFormat`,
  parquet: `${FORMAT_PACKAGE}.parquet.ParquetFormat`,
  avro: `${FORMAT_PACKAGE}.avro.AvroFormat`,
} as const
export type FormatName = keyof typeof FORMATS
/** Formats this sink writes. */
const SUPPORTED_FORMATS: readonly FormatName[] = ['json', 'bytearray', 'parquet', 'avro']

const PARTITIONER_PACKAGE = 'io.confluent.connect.storage.partitioner'
export const PARTITIONERS = {
  default: `${PARTITIONER_PACKAGE}.DefaultPartitioner`,
  field: `${PARTITIONER_PACKAGE}.FieldPartitioner`,
  time: `${PARTITIONER_PACKAGE}.TimeBasedPartitioner`,
  daily: `${PARTITIONER_PACKAGE}.DailyPartitioner`,
  hourly: `${PARTITIONER_PACKAGE}.HourlyPartitioner`,
} as const
export type PartitionerName = keyof typeof PARTITIONERS

const EXTRACTOR_PACKAGE = `${PARTITIONER_PACKAGE}.TimeBasedPartitioner$`
export const EXTRACTORS = ['Wallclock', 'Record', 'RecordField'] as const
export type ExtractorName = (typeof EXTRACTORS)[number]

export const PARQUET_CODECS = ['none', 'uncompressed', 'snappy', 'gzip'] as const
export const S3_STORAGE_CLASS = 'io.confluent.connect.s3.storage.S3Storage'

const MIB = 1024 * 1024

/** A class name given in full or by its simple name, as Confluent's class loading accepts only the full one. */
function resolveClass<T extends string>(table: Record<T, string>, value: string): T | undefined {
  const trimmed = value.trim()
  for (const [name, className] of Object.entries(table) as [T, string][]) {
    if (trimmed === className || trimmed === className.slice(className.lastIndexOf('.') + 1)) return name
  }
  return undefined
}

const formatValidator = validator(
  `one of ${SUPPORTED_FORMATS.map((f) => FORMATS[f]).join(', ')}`,
  (value) => {
    const name = resolveClass(FORMATS, String(value))
    if (name === undefined)
      return `Unknown format: use one of ${SUPPORTED_FORMATS.map((f) => FORMATS[f]).join(', ')}`
    if (!SUPPORTED_FORMATS.includes(name)) return `${FORMATS[name]} is not supported by this sink`
    return undefined
  },
)

const partitionerValidator = validator(Object.values(PARTITIONERS).join(', '), (value) =>
  resolveClass(PARTITIONERS, String(value)) === undefined
    ? `Unknown partitioner: use one of ${Object.values(PARTITIONERS).join(', ')}`
    : undefined,
)

const extractorValidator = validator(EXTRACTORS.join(', '), (value) => {
  const text = String(value).trim()
  const simple = text.startsWith(EXTRACTOR_PACKAGE) ? text.slice(EXTRACTOR_PACKAGE.length) : text
  return EXTRACTORS.includes(simple as ExtractorName)
    ? undefined
    : `Unknown timestamp extractor: use one of ${EXTRACTORS.join(', ')}`
})

const timezoneValidator = validator('a time zone ID (e.g. UTC, Europe/Paris) or +hh:mm', (value) => {
  if (value === null || value === '') return undefined
  return timeZoneProblem(String(value))
})

/** Why `zone` is not a usable time zone, or undefined. */
export function timeZoneProblem(zone: string): string | undefined {
  if (/^[+-]\d{2}:\d{2}$/.test(zone) || isKnownTimeZone(zone)) return undefined
  return `Unknown time zone '${zone}': use an IANA ID such as UTC or Europe/Paris, or an offset like +02:00`
}

const storageClassValidator = validator(S3_STORAGE_CLASS, (value) =>
  resolveClass({ s3: S3_STORAGE_CLASS }, String(value)) === undefined
    ? `Unknown storage class: this sink writes to S3 only (${S3_STORAGE_CLASS})`
    : undefined,
)

const storeUrlValidator = validator('an http(s) URL, or empty for AWS', (value) => {
  if (value === null || value === '') return undefined
  try {
    const url = new URL(withScheme(String(value)))
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'store.url must be an http or https URL'
    return undefined
  } catch {
    return `'${value}' is not a URL: give the endpoint of the S3-compatible store, e.g. http://minio:9000`
  }
})

/** Confluent prefixes a URL given without a scheme with https://. */
export function withScheme(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`
}

const S3 = 'S3'
const CONNECTOR = 'Connector'
const STORAGE = 'Storage'
const PARTITIONER = 'Partitioner'

export const s3SinkConfigDef = new ConfigDef()
  .define({
    name: S3_BUCKET,
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'The S3 Bucket. The bucket must exist: the connector does not create it.',
    validator: NonEmptyString,
    group: S3,
    orderInGroup: 1,
    displayName: 'S3 Bucket',
  })
  .define({
    name: S3_REGION,
    type: 'STRING',
    defaultValue: 'us-west-2',
    importance: 'MEDIUM',
    documentation: 'The AWS region to be used the connector.',
    group: S3,
    orderInGroup: 2,
    displayName: 'AWS region',
  })
  .define({
    name: STORE_URL,
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation:
      'Store\'s connection URL, if applicable: the endpoint of an S3-compatible store (MinIO, s3proxy, Ceph). A URL without a scheme gets "https://".',
    validator: storeUrlValidator,
    group: S3,
    orderInGroup: 3,
    displayName: 'Store URL',
  })
  .define({
    name: PATH_STYLE,
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      'Specifies whether or not to enable path style access to the bucket used by the connector (needed by most S3-compatible stores).',
    group: S3,
    orderInGroup: 4,
    displayName: 'Enable Path Style Access to S3',
  })
  .define({
    name: PATH_STYLE_ALIAS,
    type: 'BOOLEAN',
    defaultValue: null,
    importance: 'LOW',
    documentation: `Accepted as another name for ${PATH_STYLE} (a name often written in configurations); when set it wins.`,
    group: S3,
    orderInGroup: 5,
  })
  .define({
    name: ACCESS_KEY,
    type: 'STRING',
    defaultValue: '',
    importance: 'HIGH',
    documentation:
      "The AWS access key ID used to authenticate personal AWS credentials such as IAM credentials. Use only if you do not wish to authenticate by using a credentials provider class via ``s3.credentials.provider.class``. When empty, the AWS SDK's default chain is used (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared credentials file, container and instance roles).",
    group: S3,
    orderInGroup: 6,
    displayName: 'AWS Access Key ID',
  })
  .define({
    name: SECRET_KEY,
    type: 'PASSWORD',
    defaultValue: '',
    importance: 'HIGH',
    documentation:
      'The secret access key used to authenticate personal AWS credentials such as IAM credentials. Use only if you do not wish to authenticate by using a credentials provider class via ``s3.credentials.provider.class``.',
    group: S3,
    orderInGroup: 7,
    displayName: 'AWS Secret Access Key',
  })
  .define({
    name: PART_SIZE,
    type: 'INT',
    defaultValue: 25 * MIB,
    importance: 'HIGH',
    documentation:
      'The Part Size in S3 Multi-part Uploads: the memory buffered per open file before a part is uploaded.',
    validator: Range.between(5 * MIB, 2 ** 31 - 1),
    group: S3,
    orderInGroup: 8,
    displayName: 'S3 Part Size',
  })
  .define({
    name: PART_RETRIES,
    type: 'INT',
    defaultValue: 3,
    importance: 'MEDIUM',
    documentation:
      'Maximum number of retry attempts for failed requests. Zero means no retries. The actual number of attempts is determined by the S3 client based on multiple factors including, but not limited to: the value of this parameter, type of exception occurred, and throttling settings of the underlying S3 client.',
    validator: Range.atLeast(0),
    group: S3,
    orderInGroup: 9,
    displayName: 'S3 Part Upload Retries',
  })
  .define({
    name: S3_RETRY_BACKOFF,
    type: 'LONG',
    defaultValue: 200,
    importance: 'LOW',
    documentation:
      'How long to wait in milliseconds before attempting the first retry of a failed S3 request. Upon a failure, this connector may wait up to twice as long as the previous wait, up to the maximum number of retries. This avoids retrying in a tight loop under failure scenarios.',
    validator: Range.atLeast(0),
    group: S3,
    orderInGroup: 10,
    displayName: 'Retry Backoff (ms)',
  })
  .define({
    name: COMPRESSION_TYPE,
    type: 'STRING',
    defaultValue: 'none',
    importance: 'LOW',
    documentation:
      'Compression type for files written to S3. Applied when using JsonFormat or ByteArrayFormat.',
    validator: ValidString.in('none', 'gzip'),
    group: S3,
    orderInGroup: 11,
    displayName: 'Compression type',
  })
  .define({
    name: COMPRESSION_LEVEL,
    type: 'INT',
    defaultValue: -1,
    importance: 'LOW',
    documentation:
      'Compression level for files written to S3 (-1 is the default of the codec, 0 to 9 otherwise).',
    validator: Range.between(-1, 9),
    group: S3,
    orderInGroup: 12,
    displayName: 'Compression type',
  })
  .define({
    name: CONDITIONAL_WRITES,
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      'Write objects with If-None-Match: * so an object already in the bucket is never replaced. An object found there is accepted when it holds the same records (a replay after a crash); otherwise the task rereads its position from the bucket. Unlike Confluent, this applies to every rotation mode.',
    group: S3,
    orderInGroup: 13,
    displayName: 'Enable conditional writes',
  })
  .define({
    name: CHECKSUM_MODE,
    type: 'STRING',
    defaultValue: 'WHEN_SUPPORTED',
    importance: 'LOW',
    documentation:
      "When the AWS SDK adds checksums to requests and validates them on responses. WHEN_SUPPORTED (the SDK's default) sends CRC32 checksums with every upload; WHEN_REQUIRED only where an operation requires one, for S3-compatible stores that reject the newer checksum headers (older MinIO, Cloudflare R2, some Ceph versions). The environment variable AWS_REQUEST_CHECKSUM_CALCULATION is honoured when this key is not set.",
    validator: ValidString.inIgnoringCase('WHEN_SUPPORTED', 'WHEN_REQUIRED'),
    group: S3,
    orderInGroup: 14,
    displayName: 'Checksum mode',
  })
  .define({
    name: FORMAT_CLASS,
    type: 'CLASS',
    importance: 'HIGH',
    documentation: 'The format class to use when writing data to the store.',
    validator: formatValidator,
    group: CONNECTOR,
    orderInGroup: 1,
    displayName: 'Format class',
  })
  .define({
    name: FLUSH_SIZE,
    type: 'INT',
    importance: 'HIGH',
    documentation:
      'Number of records written to store before invoking file commits: a rotation commits every open file of the Kafka partition.',
    validator: Range.atLeast(1),
    group: CONNECTOR,
    orderInGroup: 2,
    displayName: 'Flush Size',
  })
  .define({
    name: ROTATE_INTERVAL,
    type: 'LONG',
    defaultValue: -1,
    importance: 'HIGH',
    documentation:
      "The time interval in milliseconds to invoke file commits. You can configure this parameter so that the time interval is determined by using a timestamp extractor (for example, Kafka Record Time, Record Field, or Wall Clock extractor). When a first record is processed, a timestamp is set as the base time. This is useful if you require exactly-once-semantics. This configuration ensures that file commits are invoked at every configured interval. The start and end of the time span is determined using file timestamp alignment. The default value -1 means that this feature is disabled. Honoured only with a time-based partitioner, as in Confluent's.",
    group: CONNECTOR,
    orderInGroup: 3,
    displayName: 'Rotate Interval (ms)',
  })
  .define({
    name: ROTATE_SCHEDULE_INTERVAL,
    type: 'LONG',
    defaultValue: -1,
    importance: 'MEDIUM',
    documentation:
      "The time interval in milliseconds to periodically invoke file commits. This configuration ensures that file commits are invoked at every configured interval. Time of commit will be adjusted to 00:00 of selected timezone. The commit will be performed at the scheduled time, regardless of the previous commit time or number of messages. This configuration is useful when you have to commit your data based on current server time, for example at the beginning of every hour. The default value -1 means that this feature is disabled. Unlike Confluent's, files also rotate on schedule when no record arrives. Wall-clock boundaries differ on replay: the task then relies on the objects in the bucket to avoid writing a record twice.",
    group: CONNECTOR,
    orderInGroup: 4,
    displayName: 'Scheduled Rotate Interval (ms)',
  })
  .define({
    name: RETRY_BACKOFF,
    type: 'LONG',
    defaultValue: 5000,
    importance: 'LOW',
    documentation:
      'The retry backoff in milliseconds. This config is used to notify Kafka Connect to retry delivering a message batch or performing recovery in case of transient exceptions.',
    validator: Range.atLeast(0),
    group: CONNECTOR,
    orderInGroup: 5,
    displayName: 'Retry Backoff (ms)',
  })
  .define({
    name: ZERO_PAD_WIDTH,
    type: 'INT',
    defaultValue: 10,
    importance: 'LOW',
    documentation:
      "Width to zero-pad offsets in store's filenames if offsets are too short in order to provide fixed-width filenames that can be ordered by simple lexicographic sorting.",
    validator: Range.atLeast(0),
    group: CONNECTOR,
    orderInGroup: 6,
    displayName: 'Filename Offset Zero Pad Width',
  })
  .define({
    name: SCHEMA_COMPATIBILITY,
    type: 'STRING',
    defaultValue: 'NONE',
    importance: 'HIGH',
    documentation:
      'The schema compatibility rule to use when the connector is observing schema changes. NONE rotates the files at every change of the value schema; BACKWARD, FORWARD and FULL keep writing while the new schema is compatible in that direction (a newer version for BACKWARD and FULL, an older one for FORWARD) and rotate otherwise. Records are written with their own schema (no projection), so BACKWARD and FORWARD only decide when files rotate.',
    validator: ValidString.inIgnoringCase('NONE', 'BACKWARD', 'FORWARD', 'FULL'),
    group: CONNECTOR,
    orderInGroup: 7,
    displayName: 'Schema Compatibility',
  })
  .define({
    name: NULL_VALUES,
    type: 'STRING',
    defaultValue: 'fail',
    importance: 'LOW',
    documentation:
      "How to handle records with a null value (i.e. Kafka tombstone records). Valid options are 'ignore', 'fail' and 'write'. Ignore would skip the tombstone record and fail would cause the connector task to throw an exception. In case of the write tombstone option, the connector redirects tombstone records to a separate directory mentioned in the config tombstone.encoded.partition. The storage of Kafka record keys is mandatory when this option is selected and the file for values is not generated for tombstone records.",
    validator: ValidString.inIgnoringCase('fail', 'ignore', 'write'),
    group: CONNECTOR,
    orderInGroup: 8,
    displayName: 'Behavior for null-valued records',
  })
  .define({
    name: TOMBSTONE_PARTITION,
    type: 'STRING',
    defaultValue: 'tombstone',
    importance: 'LOW',
    documentation:
      'Output s3 folder to write the tombstone records to. The configured partitioner would map tombstone records to this output folder.',
    validator: NonEmptyString,
    group: CONNECTOR,
    orderInGroup: 9,
    displayName: 'Tombstone Encoded Partition',
  })
  .define({
    name: STORE_KEYS,
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation:
      'Enable or disable writing keys to storage, in `<file>.keys<extension>` files beside the value files.',
    group: CONNECTOR,
    orderInGroup: 10,
    displayName: 'Write record keys',
  })
  .define({
    name: STORE_HEADERS,
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation:
      'Enable or disable writing headers to storage, in `<file>.headers<extension>` files beside the value files.',
    group: CONNECTOR,
    orderInGroup: 11,
    displayName: 'Write record headers',
  })
  .define({
    name: KEYS_FORMAT,
    type: 'CLASS',
    defaultValue: FORMATS.json,
    importance: 'LOW',
    documentation:
      "The format class to use when writing keys to the store. Confluent's default is AvroFormat, which this sink does not write yet: set it explicitly when moving a configuration that relies on the default.",
    validator: formatValidator,
    group: CONNECTOR,
    orderInGroup: 12,
    displayName: 'Keys format class',
  })
  .define({
    name: HEADERS_FORMAT,
    type: 'CLASS',
    defaultValue: FORMATS.json,
    importance: 'LOW',
    documentation:
      "The format class to use when writing headers to the store. Confluent's default is AvroFormat, which this sink does not write yet. Headers are written as an array of {key, value} per record.",
    validator: formatValidator,
    group: CONNECTOR,
    orderInGroup: 13,
    displayName: 'Headers format class',
  })
  .define({
    name: BYTEARRAY_EXTENSION,
    type: 'STRING',
    defaultValue: '.bin',
    importance: 'LOW',
    documentation: 'Output file extension for ByteArrayFormat. Defaults to `.bin`.',
    group: CONNECTOR,
    orderInGroup: 14,
    displayName: 'Output file extension for ByteArrayFormat',
  })
  .define({
    name: BYTEARRAY_SEPARATOR,
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation:
      'String inserted between records for ByteArrayFormat. Defaults to the line separator (`\\n`) and may contain escape sequences like `\\n`. An input record that contains the line separator looks like multiple records in the output S3 object.',
    group: CONNECTOR,
    orderInGroup: 15,
    displayName: 'Line separator ByteArrayFormat',
  })
  .define({
    name: JSON_DECIMAL_FORMAT,
    type: 'STRING',
    defaultValue: 'BASE64',
    importance: 'LOW',
    documentation:
      "Controls which format json converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
    validator: ValidString.inIgnoringCase('BASE64', 'NUMERIC'),
    group: CONNECTOR,
    orderInGroup: 16,
    displayName: 'Decimal Format',
  })
  .define({
    name: PARQUET_CODEC,
    type: 'STRING',
    defaultValue: 'snappy',
    importance: 'LOW',
    documentation:
      'The Parquet compression codec to be used for output files. The file extension is `.<codec>.parquet` (`.parquet` for none).',
    validator: ValidString.in(...PARQUET_CODECS),
    group: CONNECTOR,
    orderInGroup: 17,
    displayName: 'Parquet Compression Codec',
  })
  .define({
    name: AVRO_CODEC,
    type: 'STRING',
    defaultValue: 'null',
    importance: 'LOW',
    documentation:
      'The Avro compression codec to be used for output files. Available values: null, deflate (snappy and bzip2, which Confluent also offers, are not written yet).',
    validator: ValidString.in('null', 'deflate'),
    group: CONNECTOR,
    orderInGroup: 18,
    displayName: 'Avro Compression Codec',
  })
  .define({
    name: ENHANCED_AVRO,
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      'Enable enhanced schema support to preserve package information and Enums, in the Avro schemas written by AvroFormat.',
    group: CONNECTOR,
    orderInGroup: 19,
    displayName: 'Enhanced Avro Support',
  })
  .define({
    name: CONNECT_META_DATA,
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      "Allow connect converter to add its meta data to the output schema (AvroFormat's connect.* properties).",
    group: CONNECTOR,
    orderInGroup: 20,
    displayName: 'Connect Metadata',
  })
  .define({
    name: STORAGE_CLASS,
    type: 'CLASS',
    defaultValue: S3_STORAGE_CLASS,
    importance: 'HIGH',
    documentation: `The underlying storage layer. Confluent requires it; this sink writes to S3 only and defaults it to ${S3_STORAGE_CLASS}.`,
    validator: storageClassValidator,
    group: STORAGE,
    orderInGroup: 1,
    displayName: 'Storage Class',
  })
  .define({
    name: TOPICS_DIR,
    type: 'STRING',
    defaultValue: 'topics',
    importance: 'HIGH',
    documentation:
      'Top level directory to store the data ingested from Kafka. Blank: the objects start with the topic directory.',
    group: STORAGE,
    orderInGroup: 2,
    displayName: 'Topics directory',
  })
  .define({
    name: DIRECTORY_DELIM,
    type: 'STRING',
    defaultValue: '/',
    importance: 'MEDIUM',
    documentation: 'Directory delimiter pattern',
    validator: NonEmptyString,
    group: STORAGE,
    orderInGroup: 3,
    displayName: 'Directory Delimiter',
  })
  .define({
    name: FILE_DELIM,
    type: 'STRING',
    defaultValue: '+',
    importance: 'MEDIUM',
    documentation: 'File delimiter pattern',
    validator: NonEmptyString,
    group: STORAGE,
    orderInGroup: 4,
    displayName: 'File Delimiter',
  })
  .define({
    name: PARTITIONER_CLASS,
    type: 'CLASS',
    defaultValue: PARTITIONERS.default,
    importance: 'HIGH',
    documentation:
      'The partitioner to use when writing data to the store. You can use ``DefaultPartitioner``, which preserves the Kafka partitions; ``FieldPartitioner``, which partitions the data to different directories according to the value of the partitioning field specified in ``partition.field.name``; ``TimeBasedPartitioner``, which partitions data according to ingestion time; ``DailyPartitioner`` and ``HourlyPartitioner``, time-based with a fixed duration and path.',
    validator: partitionerValidator,
    group: PARTITIONER,
    orderInGroup: 1,
    displayName: 'Partitioner Class',
  })
  .define({
    name: PARTITION_FIELD,
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'The name of the partitioning field when FieldPartitioner is used. Nested fields are named with dots (`a.b`).',
    group: PARTITIONER,
    orderInGroup: 2,
    displayName: 'Partition Field Name',
  })
  .define({
    name: PARTITION_DURATION,
    type: 'LONG',
    defaultValue: -1,
    importance: 'MEDIUM',
    documentation:
      'The duration of a partition milliseconds used by ``TimeBasedPartitioner``. The default value -1 means that we are not using ``TimeBasedPartitioner``.',
    group: PARTITIONER,
    orderInGroup: 3,
    displayName: 'Partition Duration (ms)',
  })
  .define({
    name: PATH_FORMAT,
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      "This configuration is used to set the format of the data directories when partitioning with ``TimeBasedPartitioner``. The format set in this configuration converts the Unix timestamp to proper directories strings. For example, if you set ``path.format='year'=YYYY/'month'=MM/'day'=dd/'hour'=HH``, the data directories will have the format ``/year=2015/month=12/day=07/hour=15/``. The pattern is Joda-Time's: YYYY is the year of era.",
    group: PARTITIONER,
    orderInGroup: 4,
    displayName: 'Path Format',
  })
  .define({
    name: LOCALE,
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'The locale to use when partitioning with ``TimeBasedPartitioner``. Used to format dates and times (e.g. en_US).',
    group: PARTITIONER,
    orderInGroup: 5,
    displayName: 'Locale',
  })
  .define({
    name: TIMEZONE,
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'The timezone to use when partitioning with ``TimeBasedPartitioner``. Used to format and compute dates and times. All timezone IDs must be specified in the long format, such as ``America/Los_Angeles``, ``America/New_York``, and ``Europe/Paris``, or ``UTC``.',
    validator: timezoneValidator,
    group: PARTITIONER,
    orderInGroup: 6,
    displayName: 'Timezone',
  })
  .define({
    name: TIMESTAMP_EXTRACTOR,
    type: 'STRING',
    defaultValue: 'Wallclock',
    importance: 'MEDIUM',
    documentation:
      'The extractor that gets the timestamp for records when partitioning with ``TimeBasedPartitioner``. It can be set to ``Wallclock``, ``Record`` or ``RecordField`` in order to use one of the built-in timestamp extractors.',
    validator: extractorValidator,
    group: PARTITIONER,
    orderInGroup: 7,
    displayName: 'Timestamp Extractor',
  })
  .define({
    name: TIMESTAMP_FIELD,
    type: 'STRING',
    defaultValue: 'timestamp',
    importance: 'MEDIUM',
    documentation:
      'The record field to be used as timestamp by the timestamp extractor (a Timestamp, an INT64 or INT32 of epoch milliseconds, or an ISO-8601 string; nested fields with dots).',
    group: PARTITIONER,
    orderInGroup: 8,
    displayName: 'Record Field for Timestamp Extractor',
  })

export type NullBehavior = 'fail' | 'ignore' | 'write'
export type Compatibility = 'NONE' | 'BACKWARD' | 'FORWARD' | 'FULL'

/** The sink's settings, parsed and checked across keys. */
export interface S3SinkSettings {
  bucket: string
  region: string
  storeUrl: string | null
  pathStyle: boolean
  accessKeyId: string
  secretAccessKey: string
  partSize: number
  partRetries: number
  s3RetryBackoffMs: number
  compression: 'none' | 'gzip'
  compressionLevel: number
  conditionalWrites: boolean
  checksumMode: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED'
  format: FormatName
  keysFormat: FormatName
  headersFormat: FormatName
  flushSize: number
  rotateIntervalMs: number
  rotateScheduleIntervalMs: number
  retryBackoffMs: number
  zeroPadWidth: number
  compatibility: Compatibility
  nullValues: NullBehavior
  tombstonePartition: string
  storeKeys: boolean
  storeHeaders: boolean
  byteArrayExtension: string
  byteArraySeparator: Uint8Array
  jsonDecimalNumeric: boolean
  parquetCodec: (typeof PARQUET_CODECS)[number]
  avroCodec: 'null' | 'deflate'
  enhancedAvro: boolean
  connectMetaData: boolean
  topicsDir: string
  directoryDelim: string
  fileDelim: string
  partitioner: PartitionerName
  partitionFields: string[]
  partitionDurationMs: number
  pathFormat: string
  locale: string
  timezone: string
  timestampExtractor: ExtractorName
  timestampField: string
}

/** Java's escape sequences in `format.bytearray.separator`. */
function unescapeSeparator(text: string): string {
  return text.replace(/\\([nrt\\])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[c] ?? c)
}

/** Parses the props (failing on the first bad key, named) and checks the keys that depend on each other. */
export function readSettings(props: Props): S3SinkSettings {
  const config = new AbstractConfig(s3SinkConfigDef, props)
  const str = (k: string) => config.getString(k)
  const partitioner = resolveClass(PARTITIONERS, str(PARTITIONER_CLASS)) as PartitionerName
  const extractorText = str(TIMESTAMP_EXTRACTOR).trim()
  const timestampExtractor = (
    extractorText.startsWith(EXTRACTOR_PACKAGE)
      ? extractorText.slice(EXTRACTOR_PACKAGE.length)
      : extractorText
  ) as ExtractorName
  const alias = config.get(PATH_STYLE_ALIAS) as boolean | null
  const secret = config.getPassword(SECRET_KEY)
  const settings: S3SinkSettings = {
    bucket: str(S3_BUCKET),
    region: str(S3_REGION),
    storeUrl: config.getOptionalString(STORE_URL) ? withScheme(str(STORE_URL)) : null,
    pathStyle: alias ?? config.getBoolean(PATH_STYLE),
    accessKeyId: str(ACCESS_KEY),
    secretAccessKey: secret?.value ?? '',
    partSize: config.getInt(PART_SIZE),
    partRetries: config.getInt(PART_RETRIES),
    s3RetryBackoffMs: config.getLong(S3_RETRY_BACKOFF),
    compression: str(COMPRESSION_TYPE) as 'none' | 'gzip',
    compressionLevel: config.getInt(COMPRESSION_LEVEL),
    conditionalWrites: config.getBoolean(CONDITIONAL_WRITES),
    checksumMode: str(CHECKSUM_MODE).toUpperCase() as 'WHEN_SUPPORTED' | 'WHEN_REQUIRED',
    format: resolveClass(FORMATS, str(FORMAT_CLASS)) as FormatName,
    keysFormat: resolveClass(FORMATS, str(KEYS_FORMAT)) as FormatName,
    headersFormat: resolveClass(FORMATS, str(HEADERS_FORMAT)) as FormatName,
    flushSize: config.getInt(FLUSH_SIZE),
    rotateIntervalMs: config.getLong(ROTATE_INTERVAL),
    rotateScheduleIntervalMs: config.getLong(ROTATE_SCHEDULE_INTERVAL),
    retryBackoffMs: config.getLong(RETRY_BACKOFF),
    zeroPadWidth: config.getInt(ZERO_PAD_WIDTH),
    compatibility: str(SCHEMA_COMPATIBILITY).toUpperCase() as Compatibility,
    nullValues: str(NULL_VALUES).toLowerCase() as NullBehavior,
    tombstonePartition: str(TOMBSTONE_PARTITION),
    storeKeys: config.getBoolean(STORE_KEYS),
    storeHeaders: config.getBoolean(STORE_HEADERS),
    byteArrayExtension: str(BYTEARRAY_EXTENSION),
    byteArraySeparator: new TextEncoder().encode(
      config.getOptionalString(BYTEARRAY_SEPARATOR) === null
        ? '\n'
        : unescapeSeparator(str(BYTEARRAY_SEPARATOR)),
    ),
    jsonDecimalNumeric: str(JSON_DECIMAL_FORMAT).toUpperCase() === 'NUMERIC',
    parquetCodec: str(PARQUET_CODEC) as S3SinkSettings['parquetCodec'],
    avroCodec: str(AVRO_CODEC) as 'null' | 'deflate',
    enhancedAvro: config.getBoolean(ENHANCED_AVRO),
    connectMetaData: config.getBoolean(CONNECT_META_DATA),
    topicsDir: str(TOPICS_DIR).trim(),
    directoryDelim: str(DIRECTORY_DELIM),
    fileDelim: str(FILE_DELIM),
    partitioner,
    partitionFields: config.getList(PARTITION_FIELD),
    partitionDurationMs: config.getLong(PARTITION_DURATION),
    pathFormat: str(PATH_FORMAT),
    locale: str(LOCALE),
    timezone: str(TIMEZONE),
    timestampExtractor,
    timestampField: str(TIMESTAMP_FIELD),
  }
  checkAcrossKeys(settings)
  return Object.freeze(settings)
}

function checkAcrossKeys(s: S3SinkSettings): void {
  if ((s.accessKeyId === '') !== (s.secretAccessKey === '')) {
    const missing = s.accessKeyId === '' ? ACCESS_KEY : SECRET_KEY
    throw new ConfigError(
      missing,
      `${ACCESS_KEY} and ${SECRET_KEY} go together: set both, or neither to use the AWS default credentials chain`,
    )
  }
  if (s.partitioner === 'field' && s.partitionFields.length === 0) {
    throw new ConfigError(
      PARTITION_FIELD,
      `FieldPartitioner needs ${PARTITION_FIELD}: the record field(s) to partition by`,
    )
  }
  if (s.partitioner === 'time') {
    if (s.partitionDurationMs <= 0)
      throw new ConfigError(
        PARTITION_DURATION,
        `TimeBasedPartitioner needs ${PARTITION_DURATION} > 0 (e.g. 3600000 for hourly directories)`,
      )
    if (s.pathFormat.trim() === '')
      throw new ConfigError(
        PATH_FORMAT,
        `TimeBasedPartitioner needs ${PATH_FORMAT}, e.g. 'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH`,
      )
  }
  if (s.partitioner === 'time' || s.partitioner === 'daily' || s.partitioner === 'hourly') {
    if (s.locale.trim() === '')
      throw new ConfigError(
        LOCALE,
        `${PARTITIONERS[s.partitioner]} needs ${LOCALE} (e.g. en_US), as Confluent's does`,
      )
    if (s.timezone.trim() === '')
      throw new ConfigError(
        TIMEZONE,
        `${PARTITIONERS[s.partitioner]} needs ${TIMEZONE} (e.g. UTC), as Confluent's does`,
      )
  }
  if (s.rotateScheduleIntervalMs > 0 && s.timezone.trim() === '') {
    throw new ConfigError(
      TIMEZONE,
      `${ROTATE_SCHEDULE_INTERVAL} needs ${TIMEZONE} to align the schedule (e.g. UTC)`,
    )
  }
  if (s.nullValues === 'write' && !s.storeKeys) {
    throw new ConfigError(
      NULL_VALUES,
      `${NULL_VALUES}=write writes tombstones as keys only: set ${STORE_KEYS}=true as well`,
    )
  }
  if ((s.format === 'parquet' || s.format === 'avro') && s.compression !== 'none') {
    throw new ConfigError(
      COMPRESSION_TYPE,
      `${COMPRESSION_TYPE} applies to JSON and ByteArray only: use ${s.format === 'avro' ? AVRO_CODEC : PARQUET_CODEC} for ${s.format === 'avro' ? 'Avro' : 'Parquet'}`,
    )
  }
  if (s.storeHeaders && s.headersFormat !== 'json') {
    throw new ConfigError(
      HEADERS_FORMAT,
      `headers are written as JSON only: set ${HEADERS_FORMAT} to ${FORMATS.json}`,
    )
  }
  if (s.fileDelim.includes(s.directoryDelim)) {
    throw new ConfigError(
      FILE_DELIM,
      `${FILE_DELIM} must not contain ${DIRECTORY_DELIM} ('${s.directoryDelim}')`,
    )
  }
}
