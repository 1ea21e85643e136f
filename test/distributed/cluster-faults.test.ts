/**
 * [integration] Fault tests of distributed mode with real worker processes on the shared Kafka
 * broker: three workers run two FileStream sources and two FileStream sinks with three tasks
 * each. One worker is killed with SIGKILL (its work resumes elsewhere after the short rebalance
 * delay, every line reaches the sink files); a worker joins (only moved tasks stop, none restarts
 * on the others); the whole cluster restarts (sources resume from the offsets topic, not from the
 * beginning); one worker's broker connections are reset for 5 s (a network blip: it recovers, nothing
 * is lost); 50 connectors are created at once (rebalances counted).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { lineNumber, readLines, writeNumberedLines } from '../helpers/files.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { Cluster, type ClusterWorker, clusterView, restWithRetry } from './cluster.ts'

const skip = kafkaSkipReason()

/** Resets (ss -K) the established TCP connections of process `pid` to local port `port`; returns how many. */
function resetConnections(pid: number, port: number): number {
  const listing = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
  })
  const localPorts = listing
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[2]?.split(':').pop())
    .filter((p): p is string => p !== undefined && p !== '')
  for (const local of localPorts) {
    execFileSync('ss', ['-K', '-tn', 'state', 'established', `( sport = :${local} and dport = :${port} )`])
  }
  return localPorts.length
}

function countLines(lines: string[]): Map<number, number> {
  const counts = new Map<number, number>()
  for (const line of lines) counts.set(lineNumber(line), (counts.get(lineNumber(line)) ?? 0) + 1)
  return counts
}

interface Status {
  connector: { state: string; worker_id: string }
  tasks: { id: number; state: string; worker_id: string }[]
}

describe('[integration] distributed cluster under faults', { skip, timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dist-'))
  let cluster: Cluster
  const pairs = ['a', 'b']
  const topic = (p: string) => `${cluster.groupId}-${p}`
  const input = (p: string) => join(dir, `in-${p}.txt`)
  const output = (p: string) => join(dir, `out-${p}.txt`)
  let written = 0

  before(async () => {
    cluster = new Cluster({ dir, bootstrap: kafkaBootstrap() })
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'dist-test' })
    await log.createTopics(pairs.map((p) => ({ name: topic(p), partitions: 3, replicationFactor: 1 })))
    await log.close()
    await Promise.all([cluster.start(), cluster.start(), cluster.start()])
  })

  after(async () => {
    await cluster?.stopAll()
    await cluster?.deleteTopics(pairs.map(topic))
    if (!process.env.SLUICE_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true })
    else process.stdout.write(`# kept ${dir}\n`)
  })

  const anyWorker = (): ClusterWorker => cluster.alive()[0]

  async function status(name: string): Promise<Status | undefined> {
    const res = await fetch(`${anyWorker().url}/connectors/${name}/status`)
    return res.status === 200 ? ((await res.json()) as Status) : undefined
  }

  async function allRunning(
    names: string[],
    tasks: Record<string, number>,
    on?: Set<string>,
  ): Promise<boolean> {
    for (const name of names) {
      const s = await status(name)
      if (s?.connector.state !== 'RUNNING' || s.tasks.length !== tasks[name]) return false
      if (on && !on.has(s.connector.worker_id)) return false
      for (const t of s.tasks) if (t.state !== 'RUNNING' || (on && !on.has(t.worker_id))) return false
    }
    return true
  }

  function appendLines(count: number): void {
    for (const p of pairs) writeNumberedLines(input(p), written + 1, count, 60)
    written += count
  }

  /** Every line 1..written of each input reached its sink file (at least once). */
  async function outputComplete(timeoutMs = 60_000): Promise<void> {
    for (const p of pairs) {
      await eventually(
        () => {
          const seen = new Set(readLines(output(p)).map(lineNumber))
          for (let i = 1; i <= written; i++) if (!seen.has(i)) return undefined
          return true
        },
        timeoutMs,
        `all ${written} lines in ${output(p)}`,
      )
    }
  }

  const names = pairs.flatMap((p) => [`src-${p}`, `sink-${p}`])
  const taskCounts: Record<string, number> = Object.fromEntries(
    pairs.flatMap((p) => [
      [`src-${p}`, 1],
      [`sink-${p}`, 3],
    ]),
  )

  it('runs sources and sinks spread over three workers', async () => {
    appendLines(1000)
    for (const p of pairs) {
      // Created through different workers: followers forward to the leader.
      const via = cluster.workers[pairs.indexOf(p) + 1]
      const src = await restWithRetry(`${via.url}/connectors`, 'POST', {
        name: `src-${p}`,
        config: { 'connector.class': 'FileStreamSource', file: input(p), topic: topic(p) },
      })
      assert.equal(src.status, 201, JSON.stringify(src.body))
      const sink = await restWithRetry(`${via.url}/connectors`, 'POST', {
        name: `sink-${p}`,
        config: { 'connector.class': 'FileStreamSink', file: output(p), topics: topic(p), 'tasks.max': '3' },
      })
      assert.equal(sink.status, 201, JSON.stringify(sink.body))
    }
    await eventually(() => allRunning(names, taskCounts).then((ok) => ok || undefined), 60_000, 'all RUNNING')
    await outputComplete()
    // Balanced by count once the revoking rounds settled: 8 tasks over 3 workers is 3/3/2.
    let counts: number[] = []
    await eventually(
      async () => {
        const views = await Promise.all(cluster.alive().map(clusterView))
        counts = views.map((v) => v.tasks.length)
        const settled = views.every((v) => !v.rebalancing) && counts.reduce((a, b) => a + b, 0) === 8
        return settled && Math.max(...counts) - Math.min(...counts) <= 1 ? true : undefined
      },
      30_000,
      `a balanced assignment (last seen ${counts})`,
    )
  })

  it('moves a SIGKILLed worker’s tasks to the others after the delay, losing no data', async () => {
    const views = await Promise.all(cluster.alive().map(async (w) => ({ w, v: await clusterView(w) })))
    const victim = views.find(({ v }) => v.tasks.length > 0 && !v.leader)?.w ?? views[0].w
    const victimTasks = (await clusterView(victim)).tasks
    await victim.kill9()
    appendLines(1000)
    const survivors = new Set(cluster.alive().map((w) => w.id))
    await eventually(
      () => allRunning(names, taskCounts, survivors).then((ok) => ok || undefined),
      90_000,
      `tasks ${victimTasks.join(', ')} RUNNING on the survivors`,
    )
    const after = await Promise.all(cluster.alive().map(clusterView))
    const running = new Set(after.flatMap((v) => v.tasks))
    for (const t of victimTasks) assert.ok(running.has(t), `${t} runs again`)
    await outputComplete()
  })

  it('spreads load to a joining worker; tasks on the others are only stopped when moved, never restarted', async () => {
    const old = cluster.alive()
    const before = new Map(await Promise.all(old.map(async (w) => [w, await clusterView(w)] as const)))
    const joined = await cluster.start()
    await eventually(
      async () => {
        const v = await clusterView(joined)
        return v.tasks.length >= 2 && !v.rebalancing ? v : undefined
      },
      60_000,
      'the new worker to get tasks',
    )
    await eventually(() => allRunning(names, taskCounts).then((ok) => ok || undefined), 60_000, 'all RUNNING')
    const gained = (await clusterView(joined)).tasks.length
    let stops = 0
    for (const w of old) {
      const now = await clusterView(w)
      const was = before.get(w)!
      assert.equal(now.counters.taskStarts - was.counters.taskStarts, 0, `no task started again on ${w.id}`)
      stops += now.counters.taskStops - was.counters.taskStops
      for (const t of now.tasks) assert.ok(was.tasks.includes(t), `${t} on ${w.id} is one it already ran`)
    }
    assert.equal(stops, gained, 'exactly the moved tasks were stopped')
    appendLines(500)
    await outputComplete()
  })

  it('recovers when the leader itself is killed: a new leader takes over and the work resumes', async () => {
    const views = await Promise.all(cluster.alive().map(async (w) => ({ w, v: await clusterView(w) })))
    const leader = views.find(({ v }) => v.leader)!.w
    await leader.kill9()
    appendLines(500)
    const survivors = new Set(cluster.alive().map((w) => w.id))
    await eventually(
      () => allRunning(names, taskCounts, survivors).then((ok) => ok || undefined),
      90_000,
      'all tasks RUNNING on the survivors after the leader died',
    )
    const after = await Promise.all(cluster.alive().map(clusterView))
    assert.equal(after.filter((v) => v.leader).length, 1, 'one new leader')
    await outputComplete()
    await cluster.start() // back to three workers for the next test
  })

  it('resumes from stored offsets after the whole cluster restarts', async () => {
    // How often each line arrived so far (a SIGKILL may have replayed some: at least once).
    const before = new Map(pairs.map((p) => [p, countLines(readLines(output(p)))]))
    const writtenBefore = written
    await cluster.stopAll()
    await Promise.all([cluster.start(), cluster.start(), cluster.start()])
    appendLines(500)
    await eventually(() => allRunning(names, taskCounts).then((ok) => ok || undefined), 60_000, 'all RUNNING')
    await outputComplete()
    for (const p of pairs) {
      const now = countLines(readLines(output(p)))
      for (let i = 1; i <= writtenBefore; i++) {
        assert.equal(
          now.get(i),
          before.get(p)!.get(i),
          `line ${i} of ${p} was not read again after the restart`,
        )
      }
    }
  })

  it("rides out a network blip: one worker's broker connections are reset for 5 s, nothing is lost", async () => {
    const port = Number(kafkaBootstrap().split(':').pop())
    const victim = cluster.alive()[1]
    const before = await clusterView(victim)
    appendLines(300)
    // Every connection the worker holds to the broker is reset (as a flapping network would), again
    // and again for 5 s, so its reconnects fail too; the broker and the other workers stay up.
    const deadline = Date.now() + 5_000
    let resets = 0
    while (Date.now() < deadline) {
      resets += resetConnections(victim.child.pid!, port)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.ok(resets > 0, 'the worker had broker connections to reset')
    appendLines(300)
    await eventually(() => allRunning(names, taskCounts).then((ok) => ok || undefined), 90_000, 'all RUNNING')
    await outputComplete(90_000)
    assert.equal(victim.exited, false, 'the worker survived the blip')
    const after = await clusterView(victim)
    assert.ok(after.generation >= before.generation)
  })

  it('takes 50 connectors created at once without a rebalance storm', async () => {
    const workers = cluster.alive()
    const before = await Promise.all(workers.map(clusterView))
    const generationBefore = Math.max(...before.map((v) => v.generation))
    const many = Array.from({ length: 50 }, (_, i) => `bulk-${i}`)
    const started = performance.now()
    const results = await Promise.all(
      many.map((name, i) =>
        restWithRetry(
          `${workers[i % workers.length].url}/connectors`,
          'POST',
          {
            name,
            config: {
              'connector.class': 'FileStreamSink',
              file: join(dir, `${name}.txt`),
              topics: topic('a'),
            },
          },
          120_000,
        ),
      ),
    )
    for (const r of results) assert.ok(r.status === 201 || r.status === 409, JSON.stringify(r.body))
    const tasks = Object.fromEntries(many.map((n) => [n, 1]))
    await eventually(
      () => allRunning(many, tasks).then((ok) => ok || undefined),
      120_000,
      '50 connectors RUNNING',
    )
    const after = await Promise.all(workers.map(clusterView))
    const rebalances = Math.max(...after.map((v) => v.generation)) - generationBefore
    const restartsOfOldTasks = after.reduce(
      (n, v, i) => n + v.counters.taskStops - before[i].counters.taskStops,
      0,
    )
    process.stdout.write(
      `# 50 connectors: ${rebalances} rebalances (generations), ${restartsOfOldTasks} task stops, ${Math.round(performance.now() - started)} ms until all RUNNING\n`,
    )
    // Each creation may cause a rebalance (as in Kafka Connect), and task configs one more; a storm would be many more.
    assert.ok(rebalances <= 150, `${rebalances} rebalances for 50 connectors`)
  })
})
