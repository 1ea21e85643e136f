/**
 * RecordBatch v2 encoding (src/log/kafka/record-batch.ts) against bytes written by the Java client
 * (kafka-clients 4.3.1's MemoryRecordsBuilder; test/log/fixtures/RecordBatchVectors.java prints
 * them), CRC32C against RFC 3720's vectors, and compressed batches read back by the client
 * library's decoder.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32c, Reader, readRecordsBatch } from '@platformatic/kafka'
import { encodeRecordBatch } from '../../src/log/kafka/record-batch.ts'
import type { ProduceRecord } from '../../src/log/log.ts'

const bytes = (s: string) => Buffer.from(s, 'utf8')

/** `java RecordBatchVectors`, case "plain". */
const JAVA_PLAIN =
  '000000000000000000000192ffffffff0274a4e1ec0000000000030000018bcfe568000000018bcfe5680500000000000010920007000000640000000414000000046b310476310016000a02010a68656c6c6f0024001304046b33010404683102780668c3a901ea04000206046b34d80479797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797900'
/** `java RecordBatchVectors`, case "transactional". */
const JAVA_TRANSACTIONAL =
  '000000000000000000000053ffffffff02924e66f800100000000200000200000000000000020200000000000000000000000900007ffffd7800000003100000000261026200180080808080400202630264001600aff0ffffff7f04010100'

const encode = (...args: Parameters<typeof encodeRecordBatch>): Promise<Buffer> =>
  Promise.resolve(encodeRecordBatch(...args))

describe('RecordBatch v2 encoding', () => {
  it('writes the bytes the Java client writes: keys, null keys and values, headers, negative and multi-byte varints', async () => {
    const records: ProduceRecord[] = [
      { topic: 't', key: bytes('k1'), value: bytes('v1'), timestamp: 1700000000000 },
      { topic: 't', key: null, value: bytes('hello'), timestamp: 1700000000005 },
      {
        topic: 't',
        key: bytes('k3'),
        value: null,
        timestamp: 1699999999990,
        headers: [
          { key: 'h1', value: bytes('x') },
          { key: 'hé', value: null },
        ],
      },
      { topic: 't', key: bytes('k4'), value: bytes('y'.repeat(300)), timestamp: 1700000000001 },
    ]
    const batch = await encode(records, 0, 'none', {
      producerId: 4242n,
      producerEpoch: 7,
      baseSequence: 100,
      transactional: false,
    })
    assert.equal(batch.toString('hex'), JAVA_PLAIN)
  })

  it('writes timestamps more than 2^31 ms apart in one batch, and the transactional flag, as Java does', async () => {
    const records: ProduceRecord[] = [
      { topic: 't', key: bytes('a'), value: bytes('b'), timestamp: 2 ** 41 },
      { topic: 't', key: bytes('c'), value: bytes('d'), timestamp: 2 ** 41 + 2 ** 33 },
      { topic: 't', key: null, value: null, timestamp: 1000 },
    ]
    const batch = await encode(records, 0, 'none', {
      producerId: 9n,
      producerEpoch: 0,
      baseSequence: 2147483000,
      transactional: true,
    })
    assert.equal(batch.toString('hex'), JAVA_TRANSACTIONAL)
  })

  it('gives records without a timestamp the time of encoding, and refuses negative or fractional ones', async () => {
    const id = { producerId: -1n, producerEpoch: -1, baseSequence: -1, transactional: false }
    const batch = readRecordsBatch(
      Reader.from(await encode([{ topic: 't', key: null, value: null }], 1234, 'none', id)),
    )
    assert.equal(batch.firstTimestamp, 1234n)
    for (const timestamp of [-1, 1.5]) {
      assert.throws(
        () => encodeRecordBatch([{ topic: 't', key: null, value: null, timestamp }], 0, 'none', id),
        /timestamp/,
      )
    }
  })

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`compresses with ${codec}: the client library's decoder reads the records back, and the CRC holds`, async () => {
      const records: ProduceRecord[] = Array.from({ length: 500 }, (_, i) => ({
        topic: 't',
        key: i % 7 === 0 ? null : bytes(`key-${i}`),
        value: bytes(`value ${i} ${'z'.repeat(i % 50)}`),
        timestamp: 1_000 + i * 2 ** 30,
        headers: i % 3 === 0 ? [{ key: 'n', value: bytes(String(i)) }] : undefined,
      }))
      const batch = await encode(records, 0, codec, {
        producerId: 5n,
        producerEpoch: 1,
        baseSequence: 0,
        transactional: false,
      })
      assert.equal(batch.readUInt32BE(17), crc32c(batch.subarray(21)))
      assert.equal(batch.readInt32BE(8), batch.length - 12)
      const read = readRecordsBatch(Reader.from(batch))
      assert.equal(read.attributes & 0x07, { gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[codec])
      assert.equal(read.records.length, 500)
      assert.equal(read.lastOffsetDelta, 499)
      assert.equal(read.maxTimestamp, BigInt(1_000 + 499 * 2 ** 30))
      for (const [i, r] of read.records.entries()) {
        assert.equal(r.offsetDelta, i)
        assert.equal(BigInt(read.firstTimestamp) + BigInt(r.timestampDelta), BigInt(records[i].timestamp!))
        assert.deepEqual(r.key ?? null, records[i].key)
        assert.deepEqual(r.value, records[i].value)
        assert.equal(r.headers.length, records[i].headers?.length ?? 0)
      }
    })
  }
})

describe('CRC32C', () => {
  // RFC 3720, appendix B.4.
  const vectors: [string, Buffer, number][] = [
    ['32 bytes of zeros', Buffer.alloc(32), 0x8a9136aa],
    ['32 bytes of ones', Buffer.alloc(32, 0xff), 0x62a8ab43],
    ['0..31', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
    ['31..0', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
    ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ]
  for (const [name, data, expected] of vectors) {
    it(`of ${name} is 0x${expected.toString(16)}`, () => assert.equal(crc32c(data), expected))
  }
})
