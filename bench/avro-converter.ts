/**
 * AvroConverter vs JsonConverter (schemas.enable=true): a round trip (`fromConnectData` then
 * `toConnectData`) of the 10-field bet record of the JDBC sink benchmarks (bench/lib/bet-records.ts),
 * value side. Prints records/s (median of `--rounds` rounds after a warm-up round) and bytes per
 * record for both. The AvroConverter talks to a Confluent-compatible registry (Apicurio Registry,
 * started by scripts/apicurio.ts unless `--registry <url>` or SLUICE_TEST_APICURIO is given); after
 * the first record every conversion is answered from its caches, so the registry's speed is not
 * measured.
 *
 *   npx node bench/avro-converter.ts [--records 50000] [--rounds 5] [--registry http://…/apis/ccompat/v7]
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { ensureApicurio } from '../scripts/apicurio.ts'
import { isPromise } from '../src/api/converter.ts'
import type { Schema } from '../src/api/data/schema.ts'
import type { Struct } from '../src/api/data/struct.ts'
import { AvroConverter } from '../src/converters/avro-converter.ts'
import { JsonConverter } from '../src/converters/json-converter.ts'
import { betPayload, VALUE_SCHEMA } from './lib/bet-records.ts'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '5' },
    registry: { type: 'string' },
  },
})
const N = Number(values.records)
const ROUNDS = Number(values.rounds)
const registry = values.registry ?? process.env.SLUICE_TEST_APICURIO ?? (await ensureApicurio()).url
const topic = `bench-avro-${Date.now()}`

const json = new JsonConverter()
json.configure({}, false)
const avro = new AvroConverter()
avro.configure({ 'schema.registry.url': registry }, false)

// The Connect records: read once from their JSON envelopes.
const structs: Struct[] = []
let schema: Schema | null = null
for (let id = 0; id < N; id++) {
  const read = json.toConnectData(
    topic,
    Buffer.from(JSON.stringify({ schema: VALUE_SCHEMA, payload: betPayload(id) })),
  )
  schema = read.schema
  structs.push(read.value as Struct)
}

// Warm the AvroConverter's caches (registers the schema, learns the id and version).
const first = await avro.fromConnectData(topic, schema, structs[0])
await avro.toConnectData(topic, first)

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

type RoundTrip = (s: Struct) => Uint8Array

/** One pass over every record: seconds taken and total bytes. */
function pass(roundTrip: RoundTrip): { seconds: number; bytes: number } {
  let bytes = 0
  const started = performance.now()
  for (let i = 0; i < N; i++) bytes += roundTrip(structs[i]!).length
  return { seconds: (performance.now() - started) / 1000, bytes }
}

/**
 * Records/s of both converters, median of ROUNDS rounds after a warm-up round. Each round runs
 * both, one after the other (alternating which goes first), so both see the same machine load.
 */
function compare(
  a: RoundTrip,
  b: RoundTrip,
): [{ perSecond: number; bytes: number }, { perSecond: number; bytes: number }] {
  const ra: number[] = []
  const rb: number[] = []
  let bytesA = 0
  let bytesB = 0
  for (let round = 0; round <= ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0]
    for (const which of order) {
      const result = pass(which === 0 ? a : b)
      if (which === 0) bytesA = result.bytes
      else bytesB = result.bytes
      if (round > 0) (which === 0 ? ra : rb).push(N / result.seconds)
    }
  }
  return [
    { perSecond: median(ra), bytes: bytesA / N },
    { perSecond: median(rb), bytes: bytesB / N },
  ]
}

const load = loadavg()[0]!.toFixed(2)
const [jsonResult, avroResult] = compare(
  (s) => {
    const bytes = json.fromConnectData(topic, schema, s)!
    json.toConnectData(topic, bytes)
    return bytes
  },
  (s) => {
    const bytes = avro.fromConnectData(topic, schema, s)
    if (bytes === null || isPromise(bytes)) throw new Error('the AvroConverter should answer from its caches')
    const back = avro.toConnectData(topic, bytes)
    if (isPromise(back)) throw new Error('the AvroConverter should answer from its caches')
    return bytes
  },
)
avro.close()
console.log(
  `Round trip (fromConnectData + toConnectData) of a 10-field record, ${N} records × ${ROUNDS} rounds (median), load average ${load} at start:\n` +
    `  JsonConverter (schemas.enable=true) ${Math.round(jsonResult.perSecond)} records/s, ${jsonResult.bytes.toFixed(1)} B/record\n` +
    `  AvroConverter                       ${Math.round(avroResult.perSecond)} records/s, ${avroResult.bytes.toFixed(1)} B/record\n` +
    `  Avro/JSON: ${(avroResult.perSecond / jsonResult.perSecond).toFixed(2)}× the speed, ${(avroResult.bytes / jsonResult.bytes).toFixed(3)}× the bytes`,
)
