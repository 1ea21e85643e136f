import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError } from '../../../src/api/errors.ts'
import { checkTopicReaderProperties, parseJaasCredentials } from '../../../src/api/topic-reader.ts'
import {
  blockingOffsetKeys,
  blockingTables,
  readBlocking,
} from '../../../src/connectors/postgres-cdc/blocking-snapshot.ts'
import { parseSettings } from '../../../src/connectors/postgres-cdc/config.ts'
import { PostgresCdcConnector } from '../../../src/connectors/postgres-cdc/connector.ts'
import { readOffset } from '../../../src/connectors/postgres-cdc/offsets.ts'
import {
  checkExpression,
  checkSelect,
  checkSignal,
  readSnapshotRequest,
  readStopRequest,
} from '../../../src/connectors/postgres-cdc/signal-data.ts'
import { securityOptions } from '../../../src/log/kafka/topic-reader.ts'

const base = {
  'database.hostname': 'localhost',
  'database.user': 'postgres',
  'database.dbname': 'db',
  'topic.prefix': 'srv',
}

describe('Kafka signal channel settings', () => {
  test('defaults as Debezium: topic <prefix>-signal, group kafka-signal', () => {
    const s = parseSettings({
      ...base,
      'signal.enabled.channels': 'source,kafka',
      'signal.kafka.bootstrap.servers': 'k:9092',
    })
    assert.deepEqual(s.kafkaSignal, {
      topic: 'srv-signal',
      bootstrapServers: ['k:9092'],
      groupId: 'kafka-signal',
      pollTimeoutMs: 100,
      consumer: {},
    })
    assert.equal(parseSettings(base).kafkaSignal, null)
  })

  test('errors name the key', () => {
    const errorKey = (props: Record<string, string>): string | undefined => {
      try {
        parseSettings({ ...base, ...props })
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error))
        return error.key
      }
      return undefined
    }
    assert.equal(errorKey({ 'signal.enabled.channels': 'jmx' }), 'signal.enabled.channels')
    assert.equal(errorKey({ 'signal.enabled.channels': 'kafka' }), 'signal.kafka.bootstrap.servers')
    assert.equal(
      errorKey({
        'signal.enabled.channels': 'kafka',
        'signal.kafka.bootstrap.servers': 'k:9092',
        'signal.consumer.sasl.mechanism': 'GSSAPI',
      }),
      'signal.consumer.sasl.mechanism',
    )
    // Pass-through keys are checked only when the channel is on, as Debezium reads them only then.
    assert.equal(errorKey({ 'signal.consumer.whatever': 'x' }), undefined)
  })

  test('validate() reports pass-through keys the ConfigDef does not declare', async () => {
    const values = await new PostgresCdcConnector().validate({
      ...base,
      'signal.enabled.channels': 'kafka',
      'signal.kafka.bootstrap.servers': 'k:9092',
      'signal.consumer.ssl.truststore.type': 'JKS',
    })
    const value = values.find((v) => v.name === 'signal.consumer.ssl.truststore.type')
    assert.match(value?.errors[0] ?? '', /only PEM/)
  })

  test('consumer security properties map to the client options', () => {
    const props = {
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\\"w";',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.certificates': '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----',
      'enable.auto.commit': 'true',
    }
    checkTopicReaderProperties(props, 'signal.consumer.')
    const options = securityOptions(props)
    assert.deepEqual(options.sasl, { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'p"w' })
    assert.equal(options.tls?.ca, props['ssl.truststore.certificates'])
    assert.equal(parseJaasCredentials('PlainLoginModule required;'), null)
    assert.deepEqual(securityOptions({}), {})
  })
})

describe('blocking snapshot requests', () => {
  test('data-collections are full, case-insensitive regexes over the captured tables; conditions replace the SELECT', () => {
    const request = readSnapshotRequest(
      JSON.stringify({
        type: 'BLOCKING',
        'data-collections': ['public\\.T.*', 'inventory.orders'],
        'additional-conditions': [
          { 'data-collection': 'public.t2', filter: 'SELECT * FROM public.t2 WHERE id < 5' },
        ],
      }),
    )
    assert.equal(request.type, 'blocking')
    assert.deepEqual(
      blockingTables(['public.t1', 'public.t2', 'public.x', 'inventory.orders', 'public.tt.x'], request),
      [
        { id: 'public.t1', select: null },
        { id: 'public.t2', select: 'SELECT * FROM public.t2 WHERE id < 5' },
        { id: 'inventory.orders', select: null },
        { id: 'public.tt.x', select: null },
      ],
    )
    assert.equal(readSnapshotRequest('{"data-collections": ["a.b"]}').type, 'incremental')
    assert.throws(() => readSnapshotRequest('not json'), /its data is not JSON/)
  })

  test('offsets: a blocking snapshot under way resumes; a finished one or an initial one does not look like it', () => {
    const remaining = [{ id: 'public.big', select: null }]
    const during = { lsn: 10, lsn_commit: 5, ...blockingOffsetKeys(remaining, false) }
    assert.deepEqual(readBlocking(during), remaining)
    assert.equal(
      readOffset(during)?.snapshotIncomplete,
      false,
      'not taken for an unfinished initial snapshot',
    )
    const done = { lsn: 10, lsn_commit: 5, ...blockingOffsetKeys(remaining, true) }
    assert.equal(readBlocking(done), null)
    assert.equal(readBlocking({ lsn: 1, snapshot: 'INITIAL', last_snapshot_record: false }), null)
    assert.equal(
      readOffset({ lsn: 1, snapshot: 'INITIAL', last_snapshot_record: false })?.snapshotIncomplete,
      true,
    )
    // Debezium's own offsets during a blocking snapshot (no table list): streaming resumes, as in Debezium.
    assert.equal(readBlocking({ lsn: 1, snapshot: 'BLOCKING', last_snapshot_record: false }), null)
  })
})

describe('malformed signals', () => {
  test('every malformed field of execute-snapshot and stop-snapshot is a SignalError saying which', () => {
    const bad: [string, RegExp][] = [
      ['{"data-collections":"notalist"}', /"data-collections" must be a list of strings, not "notalist"/],
      ['{"data-collections":[1,2]}', /"data-collections" must be a list of strings/],
      ['{"data-collections":["("]}', /'\(', which is not a regular expression/],
      ['{"data-collections":[]}', /it has no "data-collections"/],
      ['{}', /it has no "data-collections"/],
      ['[1]', /its data is not a JSON object/],
      ['{"data-collections":["a.b"], "type": 7}', /"type" must be "incremental" or "blocking", not 7/],
      ['{"data-collections":["a.b"], "type": "sideways"}', /"type" must be/],
      [
        '{"data-collections":["a.b"], "additional-conditions": {"x":1}}',
        /"additional-conditions" must be a list/,
      ],
      [
        '{"data-collections":["a.b"], "additional-conditions": [{"data-collection":"a.b"}]}',
        /needs a string "data-collection" and "filter"/,
      ],
      ['{"data-collections":["a.b"], "additional-conditions": ["x"]}', /needs a string/],
      ['{"data-collections":["a.b"], "surrogate-key": ["id"]}', /"surrogate-key" must be a column name/],
      [
        '{"data-collections":["a.b"], "additional-conditions": [{"data-collection":"a.b","filter":"1=1); DROP TABLE victim; --"}]}',
        /not a single expression: it has a '\)' without its '\('/,
      ],
    ]
    for (const [data, message] of bad) assert.throws(() => readSnapshotRequest(data), message, data)
    assert.throws(() => readStopRequest('{"data-collections":"a.b"}'), /must be a list of strings/)
    assert.deepEqual(readStopRequest(null), [])
    assert.throws(() => checkSignal(undefined, 'log'), /it has no "id"/)
    assert.throws(() => checkSignal('', 'log'), /it has no "id"/)
    assert.throws(() => checkSignal('s1', 42), /it has no "type"/)
    assert.throws(() => checkSignal('s1', 'explode'), /its type 'explode' is unknown/)
    assert.deepEqual(checkSignal('s1', 'execute-snapshot'), { id: 's1', type: 'execute-snapshot' })
  })

  test('a filter is one expression (incremental) or one query (blocking), whatever its quotes', () => {
    for (const ok of [
      "color = 'blue'",
      "name = 'it''s; -- fine' AND (a > 1 OR b IN (1, 2))",
      '"odd;name" > 3',
      "note LIKE '%(%'",
    ]) {
      checkExpression(ok)
    }
    const refused: [string, RegExp][] = [
      ['1=1); DROP TABLE victim; --', /a '\)' without its '\('/],
      ['1=1; DROP TABLE victim', /a statement separator/],
      ['1=1 -- and the rest', /a comment \(--\)/],
      ['1=1 /* x */', /a comment/],
      ['(1=1', /a '\(' without its '\)'/],
      ["a = 'open", /an unterminated string literal/],
      ["a = E'\\'' OR true", /a backslash in a string literal/],
      ['a = $$x$$', /dollar quoting/],
      ['  ', /no text/],
    ]
    for (const [filter, message] of refused) assert.throws(() => checkExpression(filter), message, filter)
    checkSelect('SELECT * FROM public.t WHERE id < 5 ORDER BY id DESC')
    checkSelect('with x as (select 1) select * from x')
    assert.throws(() => checkSelect('SELECT * FROM t; DROP TABLE t'), /a statement separator/)
    assert.throws(() => checkSelect('DELETE FROM t'), /no SELECT at its start/)
  })
})
