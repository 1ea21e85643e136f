/**
 * JsonSchemaConverter vs JsonConverter (schemas.enable=true): a round trip (`fromConnectData` then
 * `toConnectData`) of the 10-field bet record of the JDBC sink benchmarks (bench/lib/bet-records.ts),
 * value side, with and without `json.fail.invalid.schema` (every payload validated against its
 * JSON schema both ways). Prints records/s (median of `--rounds` rounds after a warm-up round) and
 * bytes per record. The JsonSchemaConverter talks to a Confluent-compatible registry (Apicurio
 * Registry, started by scripts/apicurio.ts unless `--registry <url>` or SLUICE_TEST_APICURIO is
 * given); after the first record every conversion is answered from its caches.
 *
 *   npx node bench/json-schema-converter.ts [--records 50000] [--rounds 5] [--registry http://…/apis/ccompat/v7]
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { ensureApicurio } from '../scripts/apicurio.ts'
import { isPromise } from '../src/api/converter.ts'
import type { Schema } from '../src/api/data/schema.ts'
import type { Struct } from '../src/api/data/struct.ts'
import { JsonConverter } from '../src/converters/json-converter.ts'
import { JsonSchemaConverter } from '../src/converters/json-schema-converter.ts'
import { betPayload, VALUE_SCHEMA } from './lib/bet-records.ts'
import { compareRoundTrips, type RoundTrip } from './lib/round-trips.ts'

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
const topic = `bench-json-schema-${Date.now()}`

const json = new JsonConverter()
json.configure({}, false)

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

const jsonRoundTrip: RoundTrip<Struct> = (s) => {
  const bytes = json.fromConnectData(topic, schema, s)!
  json.toConnectData(topic, bytes)
  return bytes
}

/** A configured, warmed JsonSchemaConverter's round trip (the first record registers and learns the id). */
async function jsonSchemaRoundTrip(
  configs: Record<string, string>,
): Promise<[RoundTrip<Struct>, () => void]> {
  const converter = new JsonSchemaConverter()
  converter.configure({ 'schema.registry.url': registry, ...configs }, false)
  await converter.toConnectData(topic, await converter.fromConnectData(topic, schema, structs[0]))
  const roundTrip: RoundTrip<Struct> = (s) => {
    const bytes = converter.fromConnectData(topic, schema, s)
    if (bytes === null || isPromise(bytes))
      throw new Error('the JsonSchemaConverter should answer from its caches')
    const back = converter.toConnectData(topic, bytes)
    if (isPromise(back)) throw new Error('the JsonSchemaConverter should answer from its caches')
    return bytes
  }
  return [roundTrip, () => converter.close()]
}

const load = loadavg()[0]!.toFixed(2)
const lines: string[] = []
for (const [label, configs] of [
  ['JsonSchemaConverter', {}],
  ['JsonSchemaConverter, json.fail.invalid.schema=true', { 'json.fail.invalid.schema': 'true' }],
] as const) {
  const [roundTrip, close] = await jsonSchemaRoundTrip(configs)
  const [j, s] = compareRoundTrips(structs, ROUNDS, jsonRoundTrip, roundTrip)
  close()
  lines.push(
    `  JsonConverter (schemas.enable=true) ${Math.round(j.perSecond)} records/s, ${j.bytes.toFixed(1)} B/record`,
    `  ${label.padEnd(35)} ${Math.round(s.perSecond)} records/s, ${s.bytes.toFixed(1)} B/record`,
    `  ratio: ${(s.perSecond / j.perSecond).toFixed(2)}× the speed, ${(s.bytes / j.bytes).toFixed(3)}× the bytes`,
  )
}
console.log(
  `Round trip (fromConnectData + toConnectData) of a 10-field record, ${N} records × ${ROUNDS} rounds (median), load average ${load} at start:\n${lines.join('\n')}`,
)
