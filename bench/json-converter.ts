/**
 * JsonConverter.toConnectData alone on the JDBC sink benchmark's records (bench/lib/bet-records.ts:
 * a 10-field bet keyed by id, each envelope carrying its ~1.1 KB schema, schemas.enable=true).
 * Converts the same records `--rounds` times after a warm-up round and prints µs per record (key and
 * value separately, median round) and, for reference, `JSON.parse` of the same texts (whole, and the
 * payload alone: a lower bound for any JSON.parse-based reader, which would still have to convert).
 *
 *   npx node bench/json-converter.ts [--records 100000] [--rounds 5]
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { JsonConverter } from '../src/converters/json-converter.ts'
import { betPayload, KEY_SCHEMA, VALUE_SCHEMA } from './lib/bet-records.ts'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
  },
})
const N = Number(values.records)
const ROUNDS = Number(values.rounds)

const keyBytes: Buffer[] = []
const valueBytes: Buffer[] = []
for (let id = 0; id < N; id++) {
  keyBytes.push(Buffer.from(JSON.stringify({ schema: KEY_SCHEMA, payload: { id } })))
  valueBytes.push(Buffer.from(JSON.stringify({ schema: VALUE_SCHEMA, payload: betPayload(id) })))
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** µs per record of `convert` over `inputs`: median of ROUNDS rounds after one warm-up round. */
function time(inputs: Buffer[], convert: (b: Buffer) => unknown): number {
  const rounds: number[] = []
  let sink: unknown
  for (let round = 0; round <= ROUNDS; round++) {
    const started = performance.now()
    for (let i = 0; i < inputs.length; i++) sink = convert(inputs[i]!)
    if (round > 0) rounds.push(((performance.now() - started) * 1000) / inputs.length)
  }
  if (sink === undefined) throw new Error('nothing converted')
  return median(rounds)
}

const keys = new JsonConverter()
keys.configure({}, true)
const vals = new JsonConverter()
vals.configure({}, false)
const load = loadavg()[0]!.toFixed(2)
const key = time(keyBytes, (b) => keys.toConnectData('bench', b))
const value = time(valueBytes, (b) => vals.toConnectData('bench', b))
const parse = time(valueBytes, (b) => JSON.parse(b.toString('utf8')))
// JSON.parse of the payload alone (the schema cut off by its known length), still to be converted.
const head = `{"schema":${JSON.stringify(VALUE_SCHEMA)},"payload":`.length
const parsePayload = time(valueBytes, (b) => JSON.parse(b.toString('utf8').slice(head, -1)))
console.log(
  `JsonConverter.toConnectData, ${N} records × ${ROUNDS} rounds (median), load average ${load} at start:\n` +
    `  key   ${key.toFixed(3)} µs/record (${keyBytes[0]!.length} B)\n` +
    `  value ${value.toFixed(3)} µs/record (${valueBytes[0]!.length} B)\n` +
    `  key + value ${(key + value).toFixed(3)} µs/record = ${Math.round(1e6 / (key + value))} records/s\n` +
    `  (reference, value: JSON.parse of the whole text ${parse.toFixed(3)} µs/record, of the payload` +
    ` alone ${parsePayload.toFixed(3)} µs/record, both including the UTF-8 decoding)`,
)
