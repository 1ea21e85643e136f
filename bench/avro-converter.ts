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
import { compareRoundTrips } from './lib/round-trips.ts'

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

const load = loadavg()[0]!.toFixed(2)
const [jsonResult, avroResult] = compareRoundTrips(
  structs,
  ROUNDS,
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
