/**
 * Source throughput with exactly-once (KIP-618) on vs off: one `sluice distributed` worker (run from
 * the sources) on the test broker reads a pre-written file of `--records` × 200 B lines with a
 * FileStreamSource (batch.size 2000, transaction.boundary=poll: one transaction per batch) into a
 * 3-partition topic. Time from the connector's creation until its committed offset (GET
 * /connectors/{c}/offsets) reaches the end of the file; offset.flush.interval.ms=100 so the
 * non-transactional run's offset lags by at most 100 ms. Modes alternate, `--repeats` each. Also
 * the worker's CPU-seconds over that time (process tree, /proc), which neighbours on a shared
 * machine change far less than the wall time.
 *
 * `--base <checkout>` adds a third mode, `enabled` run by another checkout's CLI (e.g. main), back
 * to back with the others. SLUICE_BENCH_NODE_ARGS adds Node flags to the worker
 * (`--cpu-prof --cpu-prof-dir=/tmp/p`).
 *
 *   npx node bench/exactly-once-source.ts [--records 200000] [--repeats 3] [--base ../main]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { createKafkaLog } from '../src/log/kafka/kafka-log.ts'
import { Cluster, restWithRetry } from '../test/distributed/cluster.ts'
import { treeCpuSeconds } from './lib/cpu-time.ts'
import { ensureInputFile } from './lib/input-file.ts'
import { machineInfo } from './lib/machine.ts'

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    repeats: { type: 'string', default: '3' },
    base: { type: 'string' },
    bootstrap: { type: 'string', default: process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092' },
  },
})
const records = Number(args.records)
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-eos-'))
const input = ensureInputFile(dir, records, 200)
const log = createKafkaLog({ bootstrapServers: [args.bootstrap], clientId: 'sluice-bench-eos' })

type Mode = 'disabled' | 'enabled' | 'enabled@base'
const modes: Mode[] = args.base ? ['disabled', 'enabled', 'enabled@base'] : ['disabled', 'enabled']
const nodeArgs = (process.env.SLUICE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
const cli = (checkout: string) => [process.execPath, ...nodeArgs, resolve(checkout, 'src/cli/main.ts')]

async function once(mode: Mode, run: number): Promise<{ ms: number; cpu: number }> {
  const cluster = new Cluster({
    dir,
    bootstrap: args.bootstrap,
    props: {
      'exactly.once.source.support': mode === 'disabled' ? 'disabled' : 'enabled',
      'offset.flush.interval.ms': '100',
    },
    command: cli(mode === 'enabled@base' ? args.base! : resolve(import.meta.dirname, '..')),
  })
  const topic = `${cluster.groupId}-out`
  try {
    await log.createTopics([{ name: topic, partitions: 3, replicationFactor: 1 }])
    const worker = await cluster.start(120_000)
    const name = `bench-eos-${mode.replace('@', '-')}-${run}`
    const cpuBefore = treeCpuSeconds(worker.child.pid!)
    const started = performance.now()
    const created = await restWithRetry(`${worker.url}/connectors`, 'POST', {
      name,
      config: {
        'connector.class': 'FileStreamSource',
        file: input.path,
        topic,
        'batch.size': '2000',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
    })
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`)
    for (;;) {
      const res = await fetch(`${worker.url}/connectors/${name}/offsets`)
      const body = (await res.json()) as { offsets?: { offset: { position?: number } }[] }
      if (body.offsets?.[0]?.offset.position === input.bytes) break
      if (performance.now() - started > 600_000) throw new Error('no end after 600 s')
      await sleep(20)
    }
    return { ms: performance.now() - started, cpu: treeCpuSeconds(worker.child.pid!) - cpuBefore }
  } finally {
    await cluster.stopAll()
    await cluster.deleteTopics([topic])
  }
}

const results = new Map<Mode, { ms: number; cpu: number }[]>(modes.map((mode) => [mode, []]))
const m = machineInfo()
console.log(
  `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.node}; load avg at start ${loadavg()[0].toFixed(2)}`,
)
for (let run = 1; run <= Number(args.repeats); run++) {
  for (const mode of modes) {
    const result = await once(mode, run)
    results.get(mode)!.push(result)
    console.log(
      `${mode.padEnd(12)} run ${run}: ${(result.ms / 1000).toFixed(2)} s, ${Math.round(records / (result.ms / 1000))} records/s, worker ${result.cpu.toFixed(2)} CPU-s = ${((result.cpu * 1e6) / records).toFixed(1)} CPU-s per million (load ${loadavg()[0].toFixed(2)})`,
    )
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const [mode, runs] of results) {
  const ms = median(runs.map((r) => r.ms))
  const cpu = median(runs.map((r) => r.cpu))
  console.log(
    `${mode}: median ${(ms / 1000).toFixed(2)} s = ${Math.round(records / (ms / 1000))} records/s, ${((cpu * 1e6) / records).toFixed(1)} CPU-s per million`,
  )
}
await log.close()
rmSync(dir, { recursive: true, force: true })
