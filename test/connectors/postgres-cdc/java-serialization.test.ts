/**
 * Debezium's incremental-snapshot keys (hex of a Java-serialized Object[]) checked against real Java:
 * test/connectors/postgres-cdc/java/JavaKeys.java is run with `java` (single-file launch, no
 * dependencies) to write keys Sluice must read and to read back the keys Sluice writes.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  deserializeKey,
  type JavaValue,
  serializeKey,
} from '../../../src/connectors/postgres-cdc/java-serialization.ts'
import { javaKeys, spec } from './java/java-keys.ts'

const v = (type: JavaValue['type'], text: string): JavaValue => ({ type, text })

const KEYS: ((JavaValue | null)[] | null)[] = [
  null,
  [v('Integer', '1')],
  // Java shares cached boxes (Integer -128..127, Boolean): the second is a back-reference.
  [
    v('Integer', '7'),
    v('Integer', '7'),
    v('Integer', '1000'),
    v('Integer', '1000'),
    v('Integer', '-2147483648'),
  ],
  [v('Long', '9223372036854775807'), v('Long', '-5'), v('Long', '-5'), v('Short', '-32768')],
  [v('Boolean', 'true'), v('Boolean', 'true'), v('Boolean', 'false')],
  [
    v('String', ''),
    v('String', 'plain'),
    v('String', 'héllo wörld'),
    v('String', 'nul\u0000 and 😀 beyond the BMP'),
  ],
  [v('String', 'x'.repeat(70_000))],
  [
    v('BigDecimal', '-123.450'),
    v('BigDecimal', '0'),
    v('BigDecimal', '0.0000001'),
    v('BigDecimal', '98765432109876543210.5'),
  ],
  [v('BigInteger', '0'), v('BigInteger', '-340282366920938463463374607431768211456')],
  [v('UUID', '123e4567-e89b-12d3-a456-426614174000'), v('UUID', 'ffffffff-ffff-ffff-8000-000000000000')],
  // Before 1582-10-15 Java's calendar is Julian (as pgjdbc's dates are).
  [
    v('Date', '2024-03-01'),
    v('Date', '1969-12-31'),
    v('Date', '1582-10-15'),
    v('Date', '1582-10-04'),
    v('Date', '0001-01-01'),
  ],
  [v('Double', '1.5'), v('Float', '-2.25'), null, v('String', 'after a null')],
]

describe('Java serialization of incremental-snapshot keys (against real Java)', () => {
  test('Sluice writes the bytes Java writes, reads what Java writes, and Java reads back what Sluice writes', () => {
    const fromJava = javaKeys('encode', KEYS.map(spec))
    KEYS.forEach((key, i) => {
      assert.equal(serializeKey(key), fromJava[i], `bytes of ${spec(key).slice(0, 80)}`)
      assert.deepEqual(deserializeKey(fromJava[i]), key, `Sluice reads Java's ${spec(key).slice(0, 80)}`)
    })
    assert.deepEqual(javaKeys('decode', KEYS.map(serializeKey)), KEYS.map(spec))
  })

  test('reads keys Java wrote with values Sluice normalizes (date from a JVM east or west of UTC)', () => {
    // java.sql.Date holds local midnight: a JVM at UTC+2 writes 22:00 UTC of the day before.
    const [east] = javaKeys('encode', ['Date:2024-03-01'], 'Europe/Berlin')
    const [west] = javaKeys('encode', ['Date:2024-03-01'], 'America/Los_Angeles')
    assert.deepEqual(deserializeKey(east), [v('Date', '2024-03-01')])
    assert.deepEqual(deserializeKey(west), [v('Date', '2024-03-01')])
  })

  test('refuses classes it does not know, and values a class cannot hold, naming them', () => {
    // new Object[]{ new java.util.Date(0) }: a class Debezium's PostgreSQL keys never hold.
    const utilDate =
      'aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c020000787000000001737200' +
      '0e6a6176612e7574696c2e44617465686a81014b597419030000787077080000000000000000' +
      '78'
    assert.throws(() => deserializeKey(utilDate), /java\.util\.Date, a class Sluice does not read/)
    assert.throws(() => deserializeKey('[1]'), /not hex/)
    assert.throws(() => deserializeKey('aced0005'), /ends early/)
    assert.throws(() => serializeKey([v('Integer', '2147483648')]), /out of range for a Java Integer/)
    assert.throws(() => serializeKey([v('BigDecimal', 'NaN')]), /not a decimal/)
  })
})
