import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError } from '../../src/api/errors.ts'
import { compileJavaRegex, javaRegexFor } from '../../src/api/java-regex.ts'
import { parseSettings } from '../../src/connectors/postgres-cdc/config.ts'
import { sinkTopics } from '../../src/runtime/worker.ts'

/** [Java pattern, input, what Java's Pattern.matches(pattern, input) answers] */
const MATCHES: [string, string, boolean][] = [
  ['(?i)orders.*', 'ORDERS_eu', true],
  ['\\Qa.b\\E', 'a.b', true],
  ['\\Qa.b\\E', 'axb', false],
  ['\\Qa.b', 'a.b', true],
  ['\\Q(x)\\E+', '(x)', true],
  ['a(?i:b)c', 'aBc', true],
  ['a(?i:b)c', 'aBC', false],
  ['a(?i)b(?-i)c', 'aBc', true],
  ['a(?i)b(?-i)c', 'aBC', false],
  ['(?i)a|b', 'B', true],
  ['(a(?i)b|c)', 'C', true],
  ['(a(?i)b|c)d', 'cD', false],
  ['(?x) a b # a comment\n c', 'abc', true],
  ['(?x)[ a b ]+', 'ab', true],
  ['(?s).', '\n', true],
  ['.', '\n', false],
  ['.', '\u0085', false],
  ['(?m)a$\\n^b', 'a\nb', true],
  ['\\p{Alpha}+', 'abZ', true],
  ['\\p{Alpha}+', 'ab1', false],
  ['\\p{Alpha}', 'é', false],
  ['[\\p{Alpha}\\d]+', 'ab1', true],
  ['[^\\P{Alpha}]+', 'ab', true],
  ['\\P{Alpha}', '1', true],
  ['\\p{Punct}+', '!/[`{~', true],
  ['\\p{XDigit}+', 'fA0', true],
  ['\\p{Space}', '\u000b', true],
  ['\\p{IsLatin}+', 'abé', true],
  ['\\p{Lu}', 'A', true],
  ['\\p{L}+', 'Ωé', true],
  ['\\p{IsAlphabetic}', 'x', true],
  ['\\p{javaLowerCase}', 'x', true],
  ['\\AA\\z', 'A', true],
  ['\\h', '\u00a0', true],
  ['\\h', '\n', false],
  ['\\v', '\n', true],
  ['\\v', '\u2028', true],
  ['\\s', '\u00a0', false],
  ['\\R', '\r\n', true],
  ['[a-z&&[^aeiou]]+', 'bcd', true],
  ['[a-z&&[^aeiou]]+', 'bad', false],
  ['[a-d[m-p]]+', 'amp', true],
  ['[]a]+', ']a', true],
  ['[-a]+', '-a', true],
  ['\\x{1F600}', '😀', true],
  ['\\0101', 'A', true],
  ['(\\w)\\1', 'aa', true],
  ['(?<n>x)\\k<n>', 'xx', true],
  ['a}b]', 'a}b]', true],
  ['(?i)[a-c]', 'B', true],
  ['\\e\\cA', '\u001b\u0001', true],
  ['public\\.(orders|users)', 'public.users', true],
  ['public\\.(orders|users)', 'public.users2', false],
]

describe('Java regex translation', () => {
  for (const [pattern, input, expected] of MATCHES) {
    test(`${JSON.stringify(pattern)} matches ${JSON.stringify(input)}: ${expected}`, () => {
      assert.equal(compileJavaRegex(pattern).whole.test(input), expected)
    })
  }

  test('$ and \\Z also match before a final line terminator with find(), \\z only at the end', () => {
    assert.equal(compileJavaRegex('a$').find.test('a\n'), true)
    assert.equal(compileJavaRegex('a\\Z').find.test('a\r\n'), true)
    assert.equal(compileJavaRegex('a\\z').find.test('a\n'), false)
    assert.equal(compileJavaRegex('(?m)^b').find.test('a\nb'), true)
    assert.equal(compileJavaRegex('^b').find.test('a\nb'), false)
  })

  test('(?m) does not let matches() succeed on one line of the input', () => {
    assert.equal(compileJavaRegex('(?m)a').whole.test('x\na'), false)
  })

  test('what JavaScript cannot do is refused with the reason', () => {
    for (const [pattern, why] of [
      ['a*+', /possessive quantifier/],
      ['a{2}+', /possessive quantifier/],
      ['(?>a)', /atomic groups/],
      ['\\Ga', /\\G/],
      ['\\p{InGreek}', /blocks/],
      ['(?U)\\w', /UNICODE_CHARACTER_CLASS/],
      ['\\X', /grapheme/],
      ['a{', /Illegal repetition/],
      ['(a', /Unclosed group/],
      ['\\y', /Illegal\/unsupported escape/],
      ['[a', /Unclosed character class/],
      ['\\p{NoSuchThing}', /character property/],
    ] as const) {
      assert.throws(() => compileJavaRegex(pattern), why, pattern)
    }
  })

  test('javaRegexFor names the key', () => {
    assert.throws(
      () => javaRegexFor('topics.regex', 'orders.*+'),
      (e: unknown) => e instanceof ConfigError && e.key === 'topics.regex' && /possessive/.test(e.message),
    )
  })

  test('sink topics.regex is a Java regex matched against the whole topic name', () => {
    const pattern = sinkTopics({ 'topics.regex': '(?i)orders\\Q.v1\\E' }) as RegExp
    assert.equal(pattern.test('ORDERS.v1'), true)
    assert.equal(pattern.test('orders.v1x'), false)
    assert.equal(pattern.test('ordersQ.v1E'), false)
  })

  test('Debezium list keys take Java regexes: (?i) works, what cannot run is an error naming the key', () => {
    const base = {
      'database.hostname': 'h',
      'database.user': 'u',
      'database.dbname': 'd',
      'topic.prefix': 'p',
    }
    const s = parseSettings({ ...base, 'table.include.list': '(?i)public\\.ORDERS.*,\\Qinv.items\\E' })
    assert.equal(s.tableInclude[0].test('public.orders_2024'), true)
    assert.equal(s.tableInclude[1].test('inv.items'), true)
    assert.equal(s.tableInclude[1].test('invXitems'), false)
    assert.throws(
      () => parseSettings({ ...base, 'table.exclude.list': 'a*+' }),
      (e: unknown) => e instanceof ConfigError && /table\.exclude\.list/.test(e.message),
    )
  })
})
