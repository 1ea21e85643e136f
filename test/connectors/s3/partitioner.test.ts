/**
 * The S3 sink's pure logic: Joda-Time path formats, time buckets across time zones and daylight
 * saving changes, the scheduled rotation's boundaries, the encoded partitions, and the keys that
 * must go together.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import { ConfigError, DataError } from '../../../src/api/errors.ts'
import { SinkRecord } from '../../../src/api/records.ts'
import { readSettings } from '../../../src/connectors/s3/config.ts'
import { JodaFormatter } from '../../../src/connectors/s3/joda-time-format.ts'
import {
  createPartitioner,
  encodeTimestamp,
  nextScheduledRotation,
} from '../../../src/connectors/s3/partitioner.ts'

const base = {
  's3.bucket.name': 'b',
  'format.class': 'io.confluent.connect.s3.format.json.JsonFormat',
  'flush.size': '10',
}

describe('Joda-Time path formats', () => {
  test('literals, year of era, months, days, hours in the zone', () => {
    const at = Date.UTC(2015, 11, 7, 15, 4, 5, 678)
    assert.equal(
      new JodaFormatter("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", 'UTC', 'en_US').format(at),
      'year=2015/month=12/day=07/hour=15',
    )
    assert.equal(
      new JodaFormatter("yyyy-MM-dd'T'HH:mm:ss.SSS", 'Asia/Tokyo', 'en_US').format(at),
      '2015-12-08T00:04:05.678',
    )
    assert.equal(
      new JodaFormatter("MMM/MMMM/EEE/''x''", 'UTC', 'en_US').format(at),
      "Dec/December/Mon/'2015'",
    )
    assert.equal(new JodaFormatter('YY/D/Z', '-05:30', 'en_US').format(at), '15/341/-0530')
  })

  test('YYYY is the year, not the week-based year, on the last days of December', () => {
    // 2019-12-30 belongs to ISO week 1 of 2020; Joda's YYYY (year of era) still says 2019.
    const at = Date.UTC(2019, 11, 30, 12)
    assert.equal(new JodaFormatter('YYYY', 'UTC', 'en_US').format(at), '2019')
    assert.equal(new JodaFormatter('xxxx-ww', 'UTC', 'en_US').format(at), '2020-01')
  })

  test('an unknown pattern letter or an open quote is a ConfigError on path.format', () => {
    assert.throws(
      () => new JodaFormatter('YYYY/q', 'UTC', 'en'),
      (e: unknown) => e instanceof ConfigError && e.key === 'path.format',
    )
    assert.throws(() => new JodaFormatter("'year=YYYY", 'UTC', 'en'), /Unterminated quote/)
  })
})

describe('time buckets', () => {
  const daily = new JodaFormatter("'dt'=YYYY-MM-dd/HH", 'America/New_York', 'en_US')
  test('a day bucket starts at local midnight, also on the days daylight saving time changes', () => {
    // 2024-03-10 is 23 hours long in New York; 2024-11-03 is 25 hours long.
    assert.equal(
      encodeTimestamp(86_400_000, daily, 'America/New_York', Date.UTC(2024, 2, 10, 12)),
      'dt=2024-03-10/00',
    )
    assert.equal(
      encodeTimestamp(86_400_000, daily, 'America/New_York', Date.UTC(2024, 2, 11, 3, 59)),
      'dt=2024-03-10/00',
    )
    assert.equal(
      encodeTimestamp(86_400_000, daily, 'America/New_York', Date.UTC(2024, 10, 4, 4, 30)),
      'dt=2024-11-03/00',
    )
    assert.equal(
      encodeTimestamp(86_400_000, daily, 'America/New_York', Date.UTC(2024, 10, 4, 5, 30)),
      'dt=2024-11-04/00',
    )
  })

  test('the scheduled rotation falls on multiples of the interval from local midnight', () => {
    const now = Date.UTC(2024, 0, 1, 10, 7, 30)
    assert.equal(nextScheduledRotation(now, 600_000, 'UTC'), Date.UTC(2024, 0, 1, 10, 10))
    assert.equal(nextScheduledRotation(now, 3_600_000, '+05:30'), Date.UTC(2024, 0, 1, 10, 30))
    // An interval that does not divide a day restarts at the next midnight.
    assert.equal(
      nextScheduledRotation(Date.UTC(2024, 0, 1, 23, 30), 7 * 3_600_000, 'UTC'),
      Date.UTC(2024, 0, 2),
    )
  })
})

describe('encoded partitions', () => {
  const schema = SchemaBuilder.struct()
    .field('region', SchemaBuilder.string().optional().build())
    .field('n', SchemaBuilder.int64().build())
    .field('inner', SchemaBuilder.struct().field('ok', SchemaBuilder.bool().build()).build())
    .build()
  const record = (value: unknown, timestamp: number | null = 1_700_000_000_000) =>
    new SinkRecord({ topic: 't', kafkaPartition: 3, kafkaOffset: 42, valueSchema: null, value, timestamp })
  const struct = new Struct(schema)
    .put('region', null)
    .put('n', 12n)
    .put('inner', new Struct(schema.field('inner')!.schema).put('ok', true))

  test('DefaultPartitioner: partition=<kafka partition>', () => {
    const p = createPartitioner(readSettings(base))
    assert.equal(p.encodePartition(record(struct), 0), 'partition=3')
    assert.equal(p.partitionedPath('t', 'partition=3'), 't/partition=3')
  })

  test('FieldPartitioner: nested fields, null values, maps; a value without the field is a DataError', () => {
    const p = createPartitioner(
      readSettings({
        ...base,
        'partitioner.class': 'FieldPartitioner',
        'partition.field.name': 'region,n,inner.ok',
      }),
    )
    assert.equal(p.encodePartition(record(struct), 0), 'region=null/n=12/inner.ok=true')
    assert.equal(
      p.encodePartition(record({ region: 'eu', n: 1, inner: { ok: false } }), 0),
      'region=eu/n=1/inner.ok=false',
    )
    assert.throws(() => p.encodePartition(record({ region: 'eu' }), 0), DataError)
    assert.throws(() => p.encodePartition(record('text'), 0), /needs a Struct or map value/)
  })

  test('RecordField extractor: epoch millis, ISO strings; the Record extractor needs a timestamp', () => {
    const settings = {
      ...base,
      'partitioner.class': 'HourlyPartitioner',
      locale: 'en_US',
      timezone: 'UTC',
      'timestamp.extractor': 'RecordField',
      'timestamp.field': 'meta.at',
    }
    const p = createPartitioner(readSettings(settings))
    assert.equal(
      p.encodePartition(record({ meta: { at: Date.UTC(2020, 1, 29, 23, 59) } }), 0),
      'year=2020/month=02/day=29/hour=23',
    )
    assert.equal(
      p.encodePartition(record({ meta: { at: '2021-06-01T05:00:00Z' } }), 0),
      'year=2021/month=06/day=01/hour=05',
    )
    assert.throws(() => p.encodePartition(record({ meta: { at: true } }), 0), /not a timestamp/)
    const byRecord = createPartitioner(readSettings({ ...settings, 'timestamp.extractor': 'Record' }))
    assert.throws(() => byRecord.encodePartition(record({}, null), 0), /has no timestamp/)
  })
})

describe('keys that go together', () => {
  const fails = (props: Record<string, string>, key: string) =>
    assert.throws(
      () => readSettings({ ...base, ...props }),
      (e: unknown) => e instanceof ConfigError && e.key === key,
      `${JSON.stringify(props)} should fail on ${key}`,
    )

  test('each missing companion key is named', () => {
    fails(
      { 'partitioner.class': 'TimeBasedPartitioner', locale: 'en', timezone: 'UTC', 'path.format': 'YYYY' },
      'partition.duration.ms',
    )
    fails(
      {
        'partitioner.class': 'TimeBasedPartitioner',
        locale: 'en',
        timezone: 'UTC',
        'partition.duration.ms': '1000',
      },
      'path.format',
    )
    fails({ 'partitioner.class': 'HourlyPartitioner', timezone: 'UTC' }, 'locale')
    fails({ 'rotate.schedule.interval.ms': '1000' }, 'timezone')
    fails({ 'format.class': 'ParquetFormat', 's3.compression.type': 'gzip' }, 's3.compression.type')
    fails({ 'aws.access.key.id': 'only-the-id' }, 'aws.secret.access.key')
    fails({ 'file.delim': '/x' }, 'file.delim')
  })

  test("Confluent's spellings: simple class names, the path-style alias, a URL without a scheme", () => {
    const s = readSettings({
      ...base,
      'format.class': 'ParquetFormat',
      'partitioner.class': 'io.confluent.connect.storage.partitioner.DailyPartitioner',
      locale: 'en',
      timezone: 'UTC',
      'timestamp.extractor': 'io.confluent.connect.storage.partitioner.TimeBasedPartitioner$RecordField',
      's3.path.style.access': 'false',
      'store.url': 'minio:9000',
    })
    assert.equal(s.format, 'parquet')
    assert.equal(s.partitioner, 'daily')
    assert.equal(s.timestampExtractor, 'RecordField')
    assert.equal(s.pathStyle, false)
    assert.equal(s.storeUrl, 'https://minio:9000')
  })
})
