/**
 * Schema registry and REST proxy figures (a benchmark, not a test), on a standalone worker on the
 * embedded log, run as its own process (the load generator does not share its event loop):
 * 1. 1,000 registrations of distinct Avro schemas (sequential, one client), latency p50/p99;
 * 2. 100,000 `GET /schemas/ids/{id}` look-ups from `--clients` concurrent keep-alive clients,
 *    latency p50/p99 and look-ups/s;
 * 3. the REST proxy: `--records` bet records posted with v2 avro by `value_schema_id` in batches of
 *    100 from `--clients` concurrent clients, records/s from the first request to the last answer
 *    (each answer is given once every record of it is durable in the log). Goal ≥ 20,000 records/s.
 *
 *   npx node bench/schema-registry-proxy.ts [--registrations 1000] [--lookups 100000]
 *                                           [--records 200000] [--clients 16]
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { machineInfo } from './lib/machine.ts'
import { round } from './lib/stats.ts'

const MAIN = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const CT = 'application/vnd.schemaregistry.v1+json'

const { values } = parseArgs({
  options: {
    registrations: { type: 'string', default: '1000' },
    lookups: { type: 'string', default: '100000' },
    records: { type: 'string', default: '200000' },
    clients: { type: 'string', default: '16' },
  },
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  await new Promise((done) => server.close(done))
  return port
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function startWorker(dir: string): Promise<{ registry: string; proxy: string; child: ChildProcess }> {
  const [rest, sr, rp] = [await freePort(), await freePort(), await freePort()]
  writeFileSync(
    join(dir, 'worker.properties'),
    [
      `sluice.data.dir=${join(dir, 'data')}`,
      `listeners=http://127.0.0.1:${rest}`,
      `schema.registry.listeners=http://127.0.0.1:${sr}`,
      `rest.proxy.listeners=http://127.0.0.1:${rp}`,
      'log.level=warn',
    ].join('\n'),
  )
  const child = spawn(process.execPath, [MAIN, 'standalone', join(dir, 'worker.properties')], {
    stdio: 'ignore',
  })
  const registry = `http://127.0.0.1:${sr}`
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    try {
      if (
        (await fetch(`${registry}/subjects`)).ok &&
        (await fetch(`http://127.0.0.1:${rp}/v3/clusters`)).ok
      ) {
        return { registry, proxy: `http://127.0.0.1:${rp}`, child }
      }
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  child.kill('SIGKILL')
  throw new Error('the worker did not start in 60 s')
}

const schemaOf = (i: number) =>
  JSON.stringify({
    type: 'record',
    name: `Bet${i}`,
    namespace: 'bench',
    fields: [
      { name: 'bet_id', type: 'string' },
      { name: 'race_id', type: 'int' },
      { name: 'amount', type: 'double' },
    ],
  })

const BET = JSON.stringify({
  type: 'record',
  name: 'Bet',
  namespace: 'tote',
  fields: [
    { name: 'bet_id', type: 'string' },
    { name: 'race_id', type: 'int' },
    { name: 'runner_id', type: 'int' },
    { name: 'amount', type: 'double' },
    { name: 'placed_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'customer', type: ['null', 'string'], default: null },
  ],
})

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-sr-'))
  const { registry, proxy, child } = await startWorker(dir)
  const clients = Number(values.clients)
  const result: Record<string, unknown> = {
    machine: machineInfo(),
    loadAverageAtStart: loadavg()[0],
    clients,
  }
  try {
    // 1. registrations
    const registrations = Number(values.registrations)
    const regLatencies: number[] = []
    const ids: number[] = []
    const regStart = performance.now()
    for (let i = 0; i < registrations; i++) {
      const t0 = performance.now()
      const res = await fetch(`${registry}/subjects/bench-${i}-value/versions`, {
        method: 'POST',
        headers: { 'content-type': CT },
        body: JSON.stringify({ schema: schemaOf(i) }),
      })
      const body = (await res.json()) as { id: number }
      regLatencies.push(performance.now() - t0)
      ids.push(body.id)
    }
    const regSeconds = (performance.now() - regStart) / 1000
    regLatencies.sort((a, b) => a - b)
    result.registrations = {
      count: registrations,
      seconds: round(regSeconds, 2),
      perSecond: round(registrations / regSeconds, 0),
      p50Ms: round(percentile(regLatencies, 50), 2),
      p99Ms: round(percentile(regLatencies, 99), 2),
    }
    console.log('registrations', result.registrations)

    // 2. id look-ups
    const lookups = Number(values.lookups)
    const lookLatencies: number[] = []
    let next = 0
    const lookStart = performance.now()
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < lookups) {
          const i = next++
          const t0 = performance.now()
          const res = await fetch(`${registry}/schemas/ids/${ids[i % ids.length]}`)
          await res.arrayBuffer()
          if (!res.ok) throw new Error(`look-up answered ${res.status}`)
          lookLatencies.push(performance.now() - t0)
        }
      }),
    )
    const lookSeconds = (performance.now() - lookStart) / 1000
    lookLatencies.sort((a, b) => a - b)
    result.lookups = {
      count: lookups,
      seconds: round(lookSeconds, 2),
      perSecond: round(lookups / lookSeconds, 0),
      p50Ms: round(percentile(lookLatencies, 50), 2),
      p99Ms: round(percentile(lookLatencies, 99), 2),
    }
    console.log('lookups', result.lookups)

    // 3. REST proxy, v2 avro by value_schema_id, batches of 100
    const records = Number(values.records)
    const registered = (await (
      await fetch(`${registry}/subjects/tote_bench_bets-value/versions`, {
        method: 'POST',
        headers: { 'content-type': CT },
        body: JSON.stringify({ schema: BET }),
      })
    ).json()) as { id: number }
    const batch = (n: number) =>
      JSON.stringify({
        value_schema_id: registered.id,
        records: Array.from({ length: 100 }, (_, i) => ({
          value: {
            bet_id: `bet-${n}-${i}`,
            race_id: n % 12,
            runner_id: i % 14,
            amount: (i % 50) + 0.5,
            placed_at: 1_796_000_000_000 + n,
            customer: i % 3 === 0 ? null : { string: `c${i}` },
          },
        })),
      })
    const requests = Math.ceil(records / 100)
    const bodies = Array.from({ length: Math.min(requests, 64) }, (_, n) => batch(n))
    let sent = 0
    const proxyLatencies: number[] = []
    const proxyStart = performance.now()
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (sent < requests) {
          const n = sent++
          const t0 = performance.now()
          const res = await fetch(`${proxy}/topics/tote_bench_bets`, {
            method: 'POST',
            headers: { 'content-type': 'application/vnd.kafka.avro.v2+json' },
            body: bodies[n % bodies.length],
          })
          const body = (await res.json()) as { offsets: { error_code: number | null }[] }
          if (!res.ok || body.offsets.some((o) => o.error_code !== null))
            throw new Error(`produce answered ${res.status}`)
          proxyLatencies.push(performance.now() - t0)
        }
      }),
    )
    const proxySeconds = (performance.now() - proxyStart) / 1000
    proxyLatencies.sort((a, b) => a - b)
    result.proxy = {
      records: requests * 100,
      batch: 100,
      seconds: round(proxySeconds, 2),
      recordsPerSecond: round((requests * 100) / proxySeconds, 0),
      requestP50Ms: round(percentile(proxyLatencies, 50), 2),
      requestP99Ms: round(percentile(proxyLatencies, 99), 2),
    }
    console.log('proxy', result.proxy)
  } finally {
    child.kill('SIGTERM')
    await new Promise((done) => child.once('exit', done))
    rmSync(dir, { recursive: true, force: true })
  }
  const out = join(import.meta.dirname, 'out')
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, `schema-registry-proxy-${Date.now()}.json`), JSON.stringify(result, null, 2))
  console.log(JSON.stringify(result, null, 2))
}

await main()
