/**
 * Interop finding (a stretch goal): can a Sluice distributed worker take over the internal topics
 * an Apache Kafka Connect cluster wrote, and resume its file connector from its offsets? Then: do a
 * Java worker and a Sluice worker form one cluster?
 *
 *   1. Apache Kafka Connect (ConnectDistributed, jars from Maven Central, bench/jvm/connect.ts) runs a
 *      FileStreamSource over N lines into a topic; its offsets are flushed; it stops (SIGTERM).
 *   2. A Sluice distributed worker starts on the same group.id and topics: it must list the
 *      connector, run it, report Java's offset, and — after M more lines — leave exactly N+M records
 *      in the topic (no line read twice).
 *   3. The Java worker starts again next to the Sluice one: do they share the work?
 *
 *   npx node bench/distributed-interop.ts [--lines 1000] [--more 500]
 */
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { createKafkaLog } from '../src/log/kafka/kafka-log.ts'
import { Cluster, clusterView } from '../test/distributed/cluster.ts'
import { connectJvmOptions, resolveConnectJars } from './jvm/connect.ts'
import { freePort } from './lib/cases.ts'
import { distributedGroupKeys, writeProperties } from './lib/properties-file.ts'
import { spawnWorker } from './lib/worker-process.ts'

const root = resolve(import.meta.dirname, '..')
const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000' },
    more: { type: 'string', default: '500' },
    bootstrap: { type: 'string', default: process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092' },
  },
})
const N = Number(args.lines)
const M = Number(args.more)
const bootstrap = args.bootstrap
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
)
const dir = mkdtempSync(join(tmpdir(), 'sluice-interop-'))
const log = createKafkaLog({ bootstrapServers: [bootstrap], clientId: 'sluice-interop' })
const say = (line: string) => process.stdout.write(`${line}\n`)

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init)
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null }
}

const cluster = new Cluster({
  dir,
  bootstrap,
  command: [process.execPath, join(root, 'dist', 'src', 'cli', 'main.js')],
  props: {
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'offset.storage.partitions': '25',
    'status.storage.partitions': '5',
    'offset.flush.interval.ms': '1000',
  },
})
const group = cluster.groupId
const topic = `${group}-data`
const input = join(dir, 'in.txt')
const lines = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `line-${String(from + i).padStart(7, '0')}\n`).join('')

function startJava(port: number) {
  const { libDir, pluginDir } = resolveConnectJars()
  const log4j = join(dir, 'log4j2.properties')
  writeFileSync(
    log4j,
    'status = warn\nappender.out.type = Console\nappender.out.name = STDOUT\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = INFO\nrootLogger.appenderRef.out.ref = STDOUT\n',
  )
  const workerFile = writeProperties(
    join(dir, `java-${port}.properties`),
    {
      'bootstrap.servers': bootstrap,
      ...distributedGroupKeys(group),
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.flush.interval.ms': 1000,
      'session.timeout.ms': 6000,
      'heartbeat.interval.ms': 1000,
      'scheduled.rebalance.max.delay.ms': 3000,
      listeners: `http://127.0.0.1:${port}`,
      'plugin.path': pluginDir,
    },
    'Kafka Connect distributed worker, written by bench/distributed-interop.ts',
  )
  return spawnWorker(
    'java',
    [
      ...connectJvmOptions(),
      `-Dlog4j2.configurationFile=${log4j}`,
      '-cp',
      `${libDir}/*`,
      'org.apache.kafka.connect.cli.ConnectDistributed',
      workerFile,
    ],
    { cwd: dir, logFile: join(dir, `java-${port}.log`) },
  )
}

async function topicRecords(): Promise<number> {
  return (await log.endOffsets([{ topic, partition: 0 }])).get(`${topic}\u00000`) ?? 0
}

try {
  await log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
  writeFileSync(input, lines(1, N))
  const javaPort = await freePort()
  const java = startJava(javaPort)
  const javaUrl = `http://127.0.0.1:${javaPort}`
  await waitFor(
    'Kafka Connect REST',
    async () => ((await json(`${javaUrl}/connectors`)).status === 200 ? true : undefined),
    180_000,
  )
  say(`1. Kafka Connect (Java) distributed worker up on ${javaUrl}`)
  const created = await json(`${javaUrl}/connectors`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'src',
      config: { 'connector.class': 'FileStreamSource', file: input, topic },
    }),
  })
  say(`   POST /connectors → ${created.status}`)
  await waitFor(`${N} records from Java`, async () => ((await topicRecords()) >= N ? true : undefined))
  const javaOffsets = await waitFor('Java offsets', async () => {
    const res = await json(`${javaUrl}/connectors/src/offsets`)
    const offsets = (res.body as { offsets: { offset: { position: number } }[] }).offsets
    return offsets[0]?.offset.position === N * 13 ? offsets : undefined
  })
  say(`   Java wrote ${await topicRecords()} records; its offsets: ${JSON.stringify(javaOffsets)}`)
  await java.stop(30_000)
  say('   Java worker stopped (SIGTERM)')

  const sluice = await cluster.start()
  say(`2. Sluice distributed worker up on ${sluice.url}, same group.id and internal topics`)
  const list = await json(`${sluice.url}/connectors`)
  say(`   GET /connectors → ${JSON.stringify(list.body)}`)
  const config = await json(`${sluice.url}/connectors/src/config`)
  say(`   GET /connectors/src/config → ${JSON.stringify(config.body)}`)
  const status = await waitFor('src RUNNING on Sluice', async () => {
    const s = await json(`${sluice.url}/connectors/src/status`)
    const body = s.body as { tasks: { state: string; worker_id: string }[] }
    return body.tasks?.[0]?.state === 'RUNNING' && body.tasks[0].worker_id === sluice.id ? body : undefined
  })
  say(`   status → ${JSON.stringify(status)}`)
  say(
    `   GET /connectors/src/offsets on Sluice → ${JSON.stringify((await json(`${sluice.url}/connectors/src/offsets`)).body)}`,
  )
  appendFileSync(input, lines(N + 1, M))
  await waitFor(`${N + M} records`, async () => ((await topicRecords()) >= N + M ? true : undefined))
  await sleep(3000)
  const total = await topicRecords()
  say(
    `   after ${M} more lines the topic holds ${total} records (expected ${N + M}: ${total === N + M ? 'resumed from Java’s offset, nothing read twice' : 'MISMATCH'})`,
  )

  const javaPort2 = await freePort()
  const java2 = startJava(javaPort2)
  say(`3. a Java worker joins the Sluice worker's cluster on http://127.0.0.1:${javaPort2}`)
  try {
    await waitFor(
      'Java REST',
      async () =>
        (await json(`http://127.0.0.1:${javaPort2}/connectors`)).status === 200 ? true : undefined,
      180_000,
    )
    await sleep(5_000)
    // A sink with 4 tasks created through the Java worker: forwarded to the Sluice leader, its task
    // configs posted (signed) by whichever worker owns the connector, its tasks shared by both.
    const javaUrl2 = `http://127.0.0.1:${javaPort2}`
    let sinkCreated: { status: number; body: unknown } = { status: 0, body: null }
    await waitFor('sink created via Java', async () => {
      sinkCreated = await json(`${javaUrl2}/connectors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'sink',
          config: {
            'connector.class': 'FileStreamSink',
            file: join(dir, 'out.txt'),
            topics: topic,
            'tasks.max': '4',
          },
        }),
      })
      return sinkCreated.status === 409 ? undefined : true
    })
    say(`   POST /connectors (sink, 4 tasks) to the Java worker → ${sinkCreated.status}`)
    try {
      const sinkStatus = await waitFor(
        'sink tasks RUNNING',
        async () => {
          const res = await json(`${sluice.url}/connectors/sink/status`)
          const body = res.body as { tasks: { state: string }[] }
          return body.tasks?.length === 4 && body.tasks.every((t) => t.state === 'RUNNING') ? body : undefined
        },
        60_000,
      )
      say(`   sink status (read on Sluice): ${JSON.stringify(sinkStatus)}`)
      const out = await waitFor('sink output', async () => {
        const n = readFileSync(join(dir, 'out.txt'), 'utf8').split('\n').filter(Boolean).length
        return n >= N + M ? n : undefined
      })
      say(`   sink file: ${out} lines (topic holds ${N + M})`)
    } catch (error) {
      say(
        `   sink did not get to RUNNING: ${(error as Error).message}; status ${JSON.stringify((await json(`${sluice.url}/connectors/sink/status`)).body)}`,
      )
    }
    const view = await clusterView(sluice)
    const s = (await json(`${sluice.url}/connectors/src/status`)).body
    say(`   Sluice worker view: ${JSON.stringify(view)}`)
    say(`   status: ${JSON.stringify(s)}`)
    const javaLog = readFileSync(join(dir, `java-${javaPort2}.log`), 'utf8')
    const joined = /Joined group at generation (\d+).*?protocol (\w+)/.exec(javaLog)
    say(`   Java log: ${joined ? joined[0] : 'no "Joined group" line'}`)
    for (const line of javaLog
      .split('\n')
      .filter((l) => / ERROR | WARN /.test(l))
      .slice(0, 5))
      say(`   Java: ${line.slice(0, 300)}`)
    const tasks = (await json(`${javaUrl2}/connectors/src/tasks`)).body as {
      config: Record<string, string>
    }[]
    say(`   src task config as Java reads it: task.class=${tasks[0]?.config['task.class']}`)
    // 4. The Sluice worker stops: everything moves to the Java worker, which must run the task
    //    configs Sluice wrote and resume from the offsets Sluice committed.
    await sluice.stop()
    say('4. the Sluice worker stopped (SIGTERM); the Java worker takes over after its rebalance delay')
    const javaStatus = await waitFor('src RUNNING on Java', async () => {
      const body = (await json(`${javaUrl2}/connectors/src/status`)).body as {
        tasks: { state: string; worker_id: string }[]
      }
      return body.tasks?.[0]?.state === 'RUNNING' && body.tasks[0].worker_id.endsWith(`:${javaPort2}`)
        ? body
        : undefined
    })
    say(`   src status on Java: ${JSON.stringify(javaStatus)}`)
    appendFileSync(input, lines(N + M + 1, M))
    await waitFor(`${N + 2 * M} records`, async () =>
      (await topicRecords()) >= N + 2 * M ? true : undefined,
    )
    await sleep(3000)
    const total2 = await topicRecords()
    say(
      `   after ${M} more lines the topic holds ${total2} records (expected ${N + 2 * M}: ${total2 === N + 2 * M ? 'Java resumed from the offset Sluice wrote, nothing read twice' : 'MISMATCH'})`,
    )
  } finally {
    await java2.stop(30_000)
  }
} finally {
  await cluster.stopAll()
  await log.deleteTopics([topic, `${group}-configs`, `${group}-offsets`, `${group}-status`]).catch(() => {})
  await log.close()
  if (!process.env.SLUICE_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true })
  else say(`kept ${dir}`)
}
