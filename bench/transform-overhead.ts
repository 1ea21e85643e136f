/**
 * The cost of a chain of three transforms (InsertField, ReplaceField, RegexRouter) on the
 * file → Kafka → file pipeline (goal: ≤ 15 % throughput loss). Two runs of Sluice on
 * Kafka, identical but for the sink connector's `transforms`:
 *
 *   source: FileStreamSource, value.converter=StringConverter (each input line, a JSON object,
 *           goes to the topic as is)
 *   sink:   FileStreamSink, value.converter=JsonConverter schemas off (each value a map), then
 *           InsertField$Value (static field), ReplaceField$Value (rename), RegexRouter (topic)
 *
 *   npx node bench/transform-overhead.ts [--lines 1000000] [--repeats 2]
 *
 * Records are counted at the destination file (the `seq=` mark of each line, wherever it lands in
 * the rewritten JSON). Writes bench/out/transform-overhead-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureKafka } from '../scripts/kafka.ts'
import { freePort, workerProperties } from './lib/cases.ts'
import { DestinationWatcher } from './lib/destination-file.ts'
import { machineInfo } from './lib/machine.ts'
import { writeProperties } from './lib/properties-file.ts'
import { sluiceRevision } from './lib/revision.ts'
import { startSluiceStandalone } from './lib/sluice.ts'
import { median, round } from './lib/stats.ts'
import { createTopics, deleteTopics } from './lib/topics.ts'
import { waitRestReady } from './lib/worker-process.ts'

const outDir = join(import.meta.dirname, 'out')
const { values } = parseArgs({ options: { lines: { type: 'string' }, repeats: { type: 'string' } } })
const lines = Number(values.lines ?? 1_000_000)
const repeats = Number(values.repeats ?? 2)

const TRANSFORMS = {
  transforms: 'insert,rename,route',
  'transforms.insert.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
  'transforms.insert.static.field': 'origin',
  'transforms.insert.static.value': 'bench',
  'transforms.rename.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
  'transforms.rename.renames': 'payload:body',
  'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
  'transforms.route.regex': '(.*)',
  'transforms.route.replacement': '$1-routed',
}

/** `{"id":"seq=0000000001","payload":"…"}`, 200 bytes a line. */
function inputFile(dir: string): string {
  const path = join(dir, `json-input-${lines}.txt`)
  const chunks: string[] = []
  for (let i = 0; i < lines; i++) {
    const head = `{"id":"seq=${String(i).padStart(10, '0')}","payload":"`
    chunks.push(`${head}${'p'.repeat(200 - head.length - 3)}"}`)
  }
  writeFileSync(path, `${chunks.join('\n')}\n`)
  return path
}

async function run(input: string, withTransforms: boolean, bootstrap: string, dir: string): Promise<number> {
  const runDir = join(dir, `${withTransforms ? 'chain' : 'plain'}-${Date.now()}`)
  mkdirSync(runDir, { recursive: true })
  const topic = `bench-smt-${Math.random().toString(36).slice(2, 8)}`
  await createTopics(bootstrap, [topic])
  const destination = join(runDir, 'sink.txt')
  const source = writeProperties(join(runDir, 'source.properties'), {
    name: 'bench-source',
    'connector.class': 'FileStreamSource',
    file: input,
    topic,
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
  })
  const sink = writeProperties(join(runDir, 'sink.properties'), {
    name: 'bench-sink',
    'connector.class': 'FileStreamSink',
    file: destination,
    topics: topic,
    ...(withTransforms ? TRANSFORMS : {}),
  })
  const port = await freePort()
  const watcher = new DestinationWatcher(destination, lines, { anywhere: true })
  const worker = startSluiceStandalone({
    cwd: runDir,
    worker: workerProperties({ cwd: runDir, port, bootstrap, offsetFlushIntervalMs: 10_000 }),
    connectorFiles: [source, sink],
  })
  try {
    await waitRestReady(worker, port, 60_000)
    const progress = await watcher.waitComplete({ timeoutMs: 300_000 })
    if (
      progress.unique !== lines ||
      progress.firstLineAt === undefined ||
      progress.completeAt === undefined
    ) {
      throw new Error(`incomplete: ${progress.unique} of ${lines} (${progress.malformed} malformed)`)
    }
    return lines / ((progress.completeAt - progress.firstLineAt) / 1000)
  } finally {
    await worker.stop()
    watcher.close()
    await deleteTopics(bootstrap, [topic, `${topic}-routed`]).catch(() => {})
  }
}

const { bootstrap } = await ensureKafka()
const dir = join(outDir, 'runs', `transform-overhead-${new Date().toISOString().replaceAll(':', '-')}`)
mkdirSync(dir, { recursive: true })
const input = inputFile(dir)
const plain: number[] = []
const chain: number[] = []
for (let i = 0; i < repeats; i++) {
  plain.push(await run(input, false, bootstrap, dir))
  chain.push(await run(input, true, bootstrap, dir))
  process.stderr.write(
    `[bench] repeat ${i + 1}: plain ${round(plain[i], 0)} rec/s, chain ${round(chain[i], 0)} rec/s\n`,
  )
}
const loss = 1 - median(chain) / median(plain)
// Each repeat runs both back to back, so a pair shares the machine's load of the moment.
const pairLosses = plain.map((p, i) => 1 - chain[i] / p)
const result = {
  benchmark: 'transform-overhead',
  at: new Date().toISOString(),
  machine: machineInfo(),
  sluice: sluiceRevision(),
  loadAverage: loadavg()[0],
  lines,
  plain,
  chain,
  lossPercent: round(loss * 100, 1),
  pairLossPercents: pairLosses.map((l) => round(l * 100, 1)),
  medianPairLossPercent: round(median(pairLosses) * 100, 1),
}
writeFileSync(
  join(outDir, `transform-overhead-${result.at.replaceAll(':', '-')}.json`),
  JSON.stringify(result, null, 2),
)
process.stdout.write(
  `| run | records/s (median of ${repeats}) |\n|---|--:|\n| no transforms | ${round(median(plain), 0)} |\n| InsertField + ReplaceField + RegexRouter | ${round(median(chain), 0)} |\n\nthroughput loss: ${round(loss * 100, 1)} % (ratio of medians); per back-to-back pair: ${pairLosses.map((l) => `${round(l * 100, 1)} %`).join(', ')}, median ${round(median(pairLosses) * 100, 1)} %\n`,
)
