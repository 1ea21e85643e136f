import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { murmur2, partitionForKey, toPositive } from '../../src/log/murmur2.ts'

const bytes = (s: string) => new TextEncoder().encode(s)

void describe('murmur2', () => {
  void it("matches the golden vectors of Kafka's UtilsTest.testMurmur2", () => {
    const cases: [Uint8Array, number][] = [
      [bytes('21'), -973932308],
      [bytes('foobar'), -790332482],
      [bytes('a-little-bit-long-string'), -985981536],
      [bytes('a-little-bit-longer-string'), -1486304829],
      [bytes('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
      [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
    ]
    for (const [input, expected] of cases)
      assert.equal(murmur2(input), expected, new TextDecoder().decode(input))
  })

  void it('matches hashes the Java client computed for bytes with the high bit set and every tail length', () => {
    // Generated with the JVM Kafka client (published alongside other Kafka-compatible partitioners).
    assert.equal(murmur2(new Uint8Array([12, 42, 56, 24, 109, 111])), 274204207)
    assert.equal(murmur2(bytes('1')), -1993445489)
    assert.equal(murmur2(bytes('12')), 126087238)
    assert.equal(murmur2(bytes('123')), -267702483)
    assert.equal(murmur2(bytes('1234')), -1614185708)
    assert.equal(murmur2(bytes('12345')), -1188365604)
  })

  void it('places keys as toPositive(murmur2(key)) % partitions, never negative', () => {
    assert.equal(toPositive(-973932308), 1173551340)
    assert.equal(toPositive(-2147483648), 0)
    assert.equal(partitionForKey(bytes('21'), 12), 1173551340 % 12)
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(bytes(`key-${i}`), 7)
      assert.ok(p >= 0 && p < 7)
    }
  })
})
