/**
 * Distributed mode figures, with real `sluice distributed` worker processes of the built
 * CLI (dist/) on the Kafka broker of the test services:
 *
 *   A. failover: three workers run a FileStreamSink with 6 tasks; one worker dies (SIGKILL) or stops
 *      (SIGTERM: it leaves the group); time until all 6 tasks are RUNNING on the others, with
 *      scheduled.rebalance.max.delay.ms=0. After a SIGKILL the coordinator notices only when the
 *      dead member's session.timeout.ms ran out (the broker's group.min.session.timeout.ms is 6 s).
 *   B. scale-out: three workers run 3 sinks × 10 tasks; a fourth joins; tasks moved, task stops
 *      and (re)starts on the three old workers, time until the assignment is balanced.
 *   C. sink throughput: a FileStreamSink with 6 tasks over 1, 2 and 3 workers, draining a
 *      pre-filled 6-partition topic; records counted in the destination file.
 *
 *   npx node bench/distributed-cluster.ts [--records 300000] [--repeats 3] [--cases A,B,C]
 *     [--session-timeout-ms 6000]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { createKafkaLog } from '../src/log/kafka/kafka-log.ts'
import { Cluster, type ClusterWorker, clusterView, restWithRetry } from '../test/distributed/cluster.ts'
import { machineInfo } from './lib/machine.ts'

const root = resolve(import.meta.dirname, '..')
const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '300000' },
    repeats: { type: 'string', default: '3' },
    cases: { type: 'string', default: 'A,B,C' },
    // Case A: the workers' (and their sink consumers') session timeout; below 6000 the broker must allow
    // it (group.min.session.timeout.ms, 1000 on the test broker of scripts/kafka.ts).
    'session-timeout-ms': { type: 'string', default: '6000' },
    bootstrap: { type: 'string', default: process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092' },
  },
})
const bootstrap = args.bootstrap
const cases = new Set(args.cases.split(','))
const sessionTimeoutMs = args['session-timeout-ms']
const heartbeatMs = String(Math.max(100, Math.floor(Number(sessionTimeoutMs) / 6)))
const command = [process.execPath, join(root, 'dist', 'src', 'cli', 'main.js')]
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
)
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-dist-'))
const log = createKafkaLog({ bootstrapServers: [bootstrap], clientId: 'sluice-bench-dist' })
const out: string[] = []
const say = (line: string) => {
  out.push(line)
  process.stdout.write(`${line}\n`)
}

interface Status {
  connector: { state: string; worker_id: string }
  tasks: { id: number; state: string; worker_id: string }[]
}

async function status(w: ClusterWorker, name: string): Promise<Status | undefined> {
  try {
    const res = await fetch(`${w.url}/connectors/${name}/status`)
    return res.status === 200 ? ((await res.json()) as Status) : undefined
  } catch {
    return undefined
  }
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}

async function tasksRunning(
  cluster: Cluster,
  name: string,
  count: number,
  on?: Set<string>,
): Promise<boolean> {
  const s = await status(cluster.alive()[0], name)
  if (!s || s.tasks.length !== count) return false
  return s.tasks.every((t) => t.state === 'RUNNING' && (on === undefined || on.has(t.worker_id)))
}

async function settled(cluster: Cluster, total: number): Promise<number[] | undefined> {
  const views = await Promise.all(cluster.alive().map(clusterView))
  const counts = views.map((v) => v.tasks.length)
  if (views.some((v) => v.rebalancing) || counts.reduce((a, b) => a + b, 0) !== total) return undefined
  return Math.max(...counts) - Math.min(...counts) <= 1 ? counts : undefined
}

async function sinkConnector(w: ClusterWorker, name: string, topic: string, tasks: number, file: string) {
  const res = await restWithRetry(`${w.url}/connectors`, 'POST', {
    name,
    config: {
      'connector.class': 'FileStreamSink',
      topics: topic,
      file,
      'tasks.max': String(tasks),
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    },
  })
  if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${JSON.stringify(res.body)}`)
}

async function failover(): Promise<void> {
  say(
    `\n### A. Failover: worker death → its tasks RUNNING elsewhere (scheduled.rebalance.max.delay.ms=0, session.timeout.ms=${sessionTimeoutMs}, heartbeat.interval.ms=${heartbeatMs})\n`,
  )
  say('| run | how the worker ended | tasks moved | time to RUNNING elsewhere (ms) |')
  say('|---|---|---|---|')
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    for (let run = 1; run <= Number(args.repeats); run++) {
      const cluster = new Cluster({
        dir,
        bootstrap,
        command,
        props: {
          'scheduled.rebalance.max.delay.ms': '0',
          'session.timeout.ms': sessionTimeoutMs,
          'heartbeat.interval.ms': heartbeatMs,
          'consumer.session.timeout.ms': sessionTimeoutMs,
          'consumer.heartbeat.interval.ms': heartbeatMs,
        },
      })
      const topic = `${cluster.groupId}-t`
      await log.createTopics([{ name: topic, partitions: 6, replicationFactor: 1 }])
      try {
        const workers = await Promise.all([cluster.start(), cluster.start(), cluster.start()])
        await sinkConnector(workers[0], 'fo', topic, 6, join(dir, `${cluster.groupId}.out`))
        await waitFor('6 tasks RUNNING', async () =>
          (await tasksRunning(cluster, 'fo', 6)) ? true : undefined,
        )
        await waitFor('balanced', () => settled(cluster, 6))
        const views = await Promise.all(workers.map(async (w) => ({ w, v: await clusterView(w) })))
        const victim = views.find(({ v }) => !v.leader && v.tasks.length > 0)!
        const started = performance.now()
        if (signal === 'SIGKILL') await victim.w.kill9()
        else await victim.w.stop()
        const survivors = new Set(cluster.alive().map((w) => w.id))
        await waitFor(
          'tasks RUNNING on survivors',
          async () => ((await tasksRunning(cluster, 'fo', 6, survivors)) ? true : undefined),
          120_000,
          20,
        )
        say(`| ${run} | ${signal} | ${victim.v.tasks.length} | ${Math.round(performance.now() - started)} |`)
      } finally {
        await cluster.stopAll()
        await log
          .deleteTopics([
            topic,
            `${cluster.groupId}-configs`,
            `${cluster.groupId}-offsets`,
            `${cluster.groupId}-status`,
          ])
          .catch(() => {})
      }
    }
  }
}

async function scaleOut(): Promise<void> {
  say('\n### B. A fourth worker joins three running 30 tasks (3 sinks × 10 tasks)\n')
  say(
    '| run | tasks moved to the new worker | task stops on the old workers | task (re)starts on the old workers | rebalances | join → balanced (ms) | counts after |',
  )
  say('|---|---|---|---|---|---|---|')
  for (let run = 1; run <= Number(args.repeats); run++) {
    const cluster = new Cluster({ dir, bootstrap, command, props: {} })
    const topic = `${cluster.groupId}-t`
    await log.createTopics([{ name: topic, partitions: 10, replicationFactor: 1 }])
    try {
      const workers = await Promise.all([cluster.start(), cluster.start(), cluster.start()])
      for (const i of [0, 1, 2])
        await sinkConnector(workers[i], `s${i}`, topic, 10, join(dir, `${cluster.groupId}-${i}.out`))
      for (const i of [0, 1, 2]) {
        await waitFor('10 tasks RUNNING', async () =>
          (await tasksRunning(cluster, `s${i}`, 10)) ? true : undefined,
        )
      }
      await waitFor('balanced', () => settled(cluster, 30))
      const before = await Promise.all(workers.map(clusterView))
      const started = performance.now()
      const joined = await cluster.start()
      const counts = await waitFor('balanced with 4', async () => {
        const c = await settled(cluster, 30)
        return c !== undefined && c.length === 4 ? c : undefined
      })
      const ms = Math.round(performance.now() - started)
      const after = await Promise.all(workers.map(clusterView))
      const stops = after.reduce((n, v, i) => n + v.counters.taskStops - before[i].counters.taskStops, 0)
      const starts = after.reduce((n, v, i) => n + v.counters.taskStarts - before[i].counters.taskStarts, 0)
      const rebalances = (await clusterView(joined)).generation - before[0].generation
      say(
        `| ${run} | ${(await clusterView(joined)).tasks.length} | ${stops} | ${starts} | ${rebalances} | ${ms} | ${counts.join('/')} |`,
      )
    } finally {
      await cluster.stopAll()
      await log
        .deleteTopics([
          topic,
          `${cluster.groupId}-configs`,
          `${cluster.groupId}-offsets`,
          `${cluster.groupId}-status`,
        ])
        .catch(() => {})
    }
  }
}

async function throughput(): Promise<void> {
  const records = Number(args.records)
  const width = 100
  say(`\n### C. FileStreamSink, 6 tasks, draining ${records} records of ${width} bytes from 6 partitions\n`)
  say('| workers | run | seconds (POST → last record in the file) | records/s |')
  say('|---|---|---|---|')
  const topic = `sluice-bench-dist-tp-${Date.now()}`
  await log.createTopics([{ name: topic, partitions: 6, replicationFactor: 1 }])
  const producer = log.createProducer({ clientId: 'sluice-bench-dist-fill' })
  const batch = 5000
  for (let i = 0; i < records; i += batch) {
    const rows = []
    for (let j = i; j < Math.min(records, i + batch); j++) {
      const head = `r-${String(j).padStart(9, '0')} `
      rows.push({
        topic,
        partition: j % 6,
        key: null,
        value: Buffer.from(head + 'x'.repeat(width - head.length)),
      })
    }
    await producer.send(rows)
  }
  await producer.close()
  try {
    for (const n of [1, 2, 3]) {
      for (let run = 1; run <= Number(args.repeats); run++) {
        const cluster = new Cluster({ dir, bootstrap, command, props: {} })
        try {
          const workers = await Promise.all(Array.from({ length: n }, () => cluster.start()))
          const file = join(dir, `${cluster.groupId}.out`)
          const started = performance.now()
          await sinkConnector(workers[0], `drain-${cluster.groupId}`, topic, 6, file)
          await waitFor(
            'all records in the file',
            async () => {
              try {
                return statSync(file).size >= records * (width + 1) ? true : undefined
              } catch {
                return undefined
              }
            },
            600_000,
            100,
          )
          const seconds = (performance.now() - started) / 1000
          say(`| ${n} | ${run} | ${seconds.toFixed(1)} | ${Math.round(records / seconds)} |`)
        } finally {
          await cluster.stopAll()
          await log
            .deleteTopics([
              `${cluster.groupId}-configs`,
              `${cluster.groupId}-offsets`,
              `${cluster.groupId}-status`,
            ])
            .catch(() => {})
        }
      }
    }
  } finally {
    await log.deleteTopics([topic]).catch(() => {})
  }
}

try {
  const m = machineInfo()
  say(
    `Machine: ${m.cpu}, ${m.cores} vCPU, ${m.memoryGiB} GiB; ${m.node}; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  if (cases.has('A')) await failover()
  if (cases.has('B')) await scaleOut()
  if (cases.has('C')) await throughput()
  say(
    `\nload average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
} finally {
  await log.close()
  rmSync(dir, { recursive: true, force: true })
}
