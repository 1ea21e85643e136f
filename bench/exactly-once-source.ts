/**
 * Source throughput with exactly-once (KIP-618) on vs off: one `sluice distributed` worker (run from
 * the sources) on the test broker reads a pre-written file of `--records` × 200 B lines with a
 * FileStreamSource (batch.size 2000, transaction.boundary=poll: one transaction per batch) into a
 * 3-partition topic. Time from the connector's creation until its committed offset (GET
 * /connectors/{c}/offsets) reaches the end of the file; offset.flush.interval.ms=100 so the
 * non-transactional run's offset lags by at most 100 ms. Modes alternate, `--repeats` each.
 *
 *   npx node bench/exactly-once-source.ts [--records 200000] [--repeats 3]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { createKafkaLog } from '../src/log/kafka/kafka-log.ts'
import { Cluster, restWithRetry } from '../test/distributed/cluster.ts'
import { ensureInputFile } from './lib/input-file.ts'
import { machineInfo } from './lib/machine.ts'

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    repeats: { type: 'string', default: '3' },
    bootstrap: { type: 'string', default: process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092' },
  },
})
const records = Number(args.records)
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-eos-'))
const input = ensureInputFile(dir, records, 200)
const log = createKafkaLog({ bootstrapServers: [args.bootstrap], clientId: 'sluice-bench-eos' })

async function once(mode: 'disabled' | 'enabled', run: number): Promise<number> {
  const cluster = new Cluster({
    dir,
    bootstrap: args.bootstrap,
    props: { 'exactly.once.source.support': mode, 'offset.flush.interval.ms': '100' },
  })
  const topic = `${cluster.groupId}-out`
  try {
    await log.createTopics([{ name: topic, partitions: 3, replicationFactor: 1 }])
    const worker = await cluster.start(120_000)
    const name = `bench-eos-${mode}-${run}`
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
    return performance.now() - started
  } finally {
    await cluster.stopAll()
    await cluster.deleteTopics([topic])
  }
}

const results: Record<string, number[]> = { disabled: [], enabled: [] }
const m = machineInfo()
console.log(
  `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.node}; load avg at start ${loadavg()[0].toFixed(2)}`,
)
for (let run = 1; run <= Number(args.repeats); run++) {
  for (const mode of ['disabled', 'enabled'] as const) {
    const ms = await once(mode, run)
    results[mode].push(ms)
    console.log(
      `${mode.padEnd(8)} run ${run}: ${(ms / 1000).toFixed(2)} s, ${Math.round(records / (ms / 1000))} records/s (load ${loadavg()[0].toFixed(2)})`,
    )
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const mode of ['disabled', 'enabled'] as const) {
  const ms = median(results[mode])
  console.log(`${mode}: median ${(ms / 1000).toFixed(2)} s = ${Math.round(records / (ms / 1000))} records/s`)
}
await log.close()
rmSync(dir, { recursive: true, force: true })
