/**
 * [integration] Exactly-once source (KIP-618) when a network partition cuts a worker off from the
 * broker while it runs the task: 2 worker processes on a broker of the test's own, each reaching it
 * through a TCP proxy of its own (test/helpers/tcp-proxy.ts) in front of a listener that advertises
 * the proxy's address, so every connection of that worker (group, producers, internal topics) goes
 * through it. Only the proxy of the worker running the task ever stalls: the other one forwards
 * untouched, a direct connection in all but name (a proxy each, so whichever worker the assignor
 * picks can be cut off). A stall holds everything both ways and delivers it when it ends (a
 * partition that heals, not a reset), so what the cut-off worker sent meanwhile reaches the broker
 * late.
 *
 * - Past the session timeout: the coordinator drops the worker, the task starts on the other one
 *   and claims its transactional id; the cut-off worker is a zombie whose held requests land after
 *   that claim and must be refused (PRODUCER_FENCED). It must stop its task without a FAILED status
 *   and rejoin; no task is left for a hand restart.
 * - Shorter than the session timeout: nothing moves, the task keeps running where it was.
 * In both, a `read_committed` consumer counts every number exactly once.
 *
 * `SLUICE_PARTITION_RUNS` sets how many runs of each case (default 1; 20 to measure).
 * `SLUICE_PARTITION_EOS=disabled` runs the same without exactly-once: then only "no number lost" is
 * asserted and the duplicates are reported (as test diagnostics).
 */
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { type Log, tpKey } from '../../src/log/log.ts'
import { freePort, ownBroker } from '../chaos/services.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaSkipReason } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'
import { Cluster, type ClusterWorker, clusterView, restWithRetry } from './cluster.ts'
import { readCommitted, tally } from './exactly-once-check.ts'

const skip = kafkaSkipReason()
const RUNS = Number(process.env.SLUICE_PARTITION_RUNS ?? 1)
const EOS = process.env.SLUICE_PARTITION_EOS !== 'disabled'
const SESSION_TIMEOUT_MS = 6000
const HEARTBEAT_MS = 1000
/** Well inside the session: the worker gives up one heartbeat before it, and heartbeats are 1 s apart. */
const SHORT_STALL_MS = 2000
const PARTITIONS = 3
/** Lines appended per tick of 50 ms (800 a second). */
const LINES_PER_TICK = 40

interface TaskStatus {
  state: string
  worker_id: string
  trace?: string
}

describe(`[integration] a worker cut off by a network partition while it runs a source task (exactly-once ${EOS ? 'enabled' : 'disabled'})`, {
  skip,
  timeout: 60 * 60_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-partition-'))
  const proxies: TcpProxy[] = []
  /** Worker id → the proxy between it and the broker. */
  const proxyOf = new Map<string, TcpProxy>()
  let broker: Awaited<ReturnType<typeof ownBroker>> | undefined
  let cluster: Cluster | undefined
  let log: Log | undefined
  let workers: ClusterWorker[] = []

  before(async () => {
    const ports = [await freePort(), await freePort()]
    for (const port of ports) proxies.push(await new TcpProxy({ host: '127.0.0.1', port }).start())
    broker = await ownBroker({
      listeners: proxies.map((proxy, i) => ({
        name: `PROXIED${i}`,
        port: ports[i],
        advertised: `127.0.0.1:${proxy.port}`,
      })),
    })
    await broker.start()
    log = createKafkaLog({ bootstrapServers: [broker.bootstrap], clientId: 'partition-test' })
    cluster = new Cluster({
      dir,
      bootstrap: broker.bootstrap,
      props: {
        'exactly.once.source.support': EOS ? 'enabled' : 'disabled',
        'scheduled.rebalance.max.delay.ms': '0',
        'session.timeout.ms': String(SESSION_TIMEOUT_MS),
        'heartbeat.interval.ms': String(HEARTBEAT_MS),
      },
    })
    workers = await Promise.all(
      proxies.map((proxy) => cluster!.start(120_000, { 'bootstrap.servers': `127.0.0.1:${proxy.port}` })),
    )
    for (const [i, w] of workers.entries()) proxyOf.set(w.id, proxies[i])
  })

  after(async () => {
    for (const proxy of proxies) proxy.resume()
    await cluster?.stopAll()
    await log?.close()
    for (const proxy of proxies) await proxy.close()
    await broker?.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The task's status as `via` sees it, once it is RUNNING (on another worker than `not`). */
  function runningTask(
    name: string,
    via: ClusterWorker,
    not?: string,
    timeoutMs = 90_000,
  ): Promise<TaskStatus> {
    return eventually(
      async () => {
        const res = await fetch(`${via.url}/connectors/${name}/status`)
        const status = (await res.json()) as { tasks?: TaskStatus[] }
        const task = status.tasks?.[0]
        return task?.state === 'RUNNING' && task.worker_id !== not ? task : undefined
      },
      timeoutMs,
      `the task of ${name} running${not ? ` on another worker than ${not}` : ''}`,
    )
  }

  /**
   * Streams numbered lines through a new FileStreamSource connector while the proxy of the worker
   * running its task stalls: until the task runs elsewhere (`takeover`) or for `ms`. Returns what
   * the check needs: the owner, and every number a read_committed consumer saw.
   */
  async function streamThrough(
    t: TestContext,
    name: string,
    numbers: number,
    stall: 'takeover' | number,
  ): Promise<{ owner: ClusterWorker; other: ClusterWorker; ownerStopsBefore: number; values: string[] }> {
    const topic = `${cluster!.groupId}-${name}`
    await log!.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 1 }])
    const file = join(dir, `${name}.txt`)
    writeFileSync(file, '')
    const created = await restWithRetry(`${workers[0].url}/connectors`, 'POST', {
      name,
      config: {
        'connector.class': 'FileStreamSource',
        file,
        topic,
        'batch.size': '40',
        ...(EOS ? { 'exactly.once.support': 'required' } : {}),
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const ownerId = (await runningTask(name, workers[0])).worker_id
    const owner = workers.find((w) => w.id === ownerId)
    const other = workers.find((w) => w.id !== ownerId)
    assert.ok(owner && other, `the task runs on ${ownerId}, not one of ${workers.map((w) => w.id)}`)
    const ownerStopsBefore = (await clusterView(owner)).counters.taskStops
    let written = 0
    const writer = (async () => {
      while (written < numbers) {
        const lines: string[] = []
        for (let i = 0; i < LINES_PER_TICK && written < numbers; i++) lines.push(String(++written))
        appendFileSync(file, `${lines.join('\n')}\n`)
        await sleep(50)
      }
    })()
    // The stall strikes while records flow, at a random moment.
    await sleep(300 + Math.floor(Math.random() * 1200))
    const proxy = proxyOf.get(ownerId)!
    const started = Date.now()
    proxy.stall()
    try {
      if (stall === 'takeover') {
        const moved = await runningTask(name, other, ownerId, 60_000)
        t.diagnostic(`${name}: the task runs on ${moved.worker_id} ${Date.now() - started} ms into the stall`)
        // The new owner commits a transaction or two under its epoch before the zombie's held
        // requests arrive.
        await sleep(1000)
      } else {
        await sleep(stall)
      }
    } finally {
      proxy.resume()
    }
    t.diagnostic(`${name}: ${owner.id} cut off for ${Date.now() - started} ms (${written} lines written)`)
    await writer
    const values = await readCommitted(log!, topic, numbers, 120_000, PARTITIONS)
    const { missing, duplicated } = tally(values, numbers)
    const uncommitted = await recordCount(log!, topic)
    t.diagnostic(
      `${name}: read_committed ${values.length} of ${numbers} (missing ${missing.length}, duplicated ${duplicated.length}); ` +
        `${uncommitted - values.length} aborted records in the log`,
    )
    assert.deepEqual(missing.slice(0, 20), [], `numbers lost (${missing.length})`)
    if (EOS) {
      assert.deepEqual(
        { duplicated: duplicated.slice(0, 20), total: values.length },
        { duplicated: [], total: numbers },
        `numbers seen more than once (${duplicated.length})`,
      )
    }
    return { owner, other, ownerStopsBefore, values }
  }

  /** `eventually`, whose timeout tells the task's status history and what each worker runs. */
  async function settle<T>(check: () => Promise<T | undefined>, name: string): Promise<T> {
    try {
      return await eventually(check, 60_000, 'the cluster settled with the task running')
    } catch (error) {
      const history = await statusHistory(log!, `${cluster!.groupId}-status`, name, true)
      const views = await Promise.all(workers.map(clusterView))
      throw new Error(
        `${(error as Error).message}\nstatus history of ${name}-0: ${history.join(' → ')}\n` +
          views.map((v, i) => `${workers[i].id}: gen ${v.generation} tasks ${v.tasks}`).join('\n'),
      )
    }
  }

  /** The connector is deleted and nothing of it FAILED, ever, on either worker. */
  async function finish(name: string): Promise<void> {
    const failed = (await statusHistory(log!, `${cluster!.groupId}-status`, name)).filter((s) =>
      s.startsWith('FAILED'),
    )
    assert.deepEqual(failed, [], `FAILED states of ${name} in the status topic`)
    const deleted = await restWithRetry(`${workers[0].url}/connectors/${name}`, 'DELETE')
    assert.equal(deleted.status, 204)
  }

  for (let run = 1; run <= RUNS; run++) {
    it(`run ${run}/${RUNS}: cut off past the session timeout, ${EOS ? 'the zombie is fenced and ' : ''}the task moves`, async (t) => {
      const name = `partition-long-${run}`
      const { owner, other } = await streamThrough(t, name, 6000, 'takeover')
      const zombieLog = readFileSync(owner.logFile, 'utf8')
      assert.match(zombieLog, /lost membership/, 'the cut-off worker noticed it was no longer a member')
      const fencing = zombieLog
        .split('\n')
        .filter((line) => line.includes(`"connector":"${name}"`))
        .filter((line) => /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|fenced|transaction failed/i.test(line))
      t.diagnostic(
        `${name}: the zombie's log on fencing: ${fencing.length === 0 ? 'nothing' : fencing.map((l) => l.slice(0, 300)).join(' | ')}`,
      )
      // The cluster settles with the task running, without anyone restarting it by hand, and no
      // task listed by both workers.
      const onBoth: string[] = []
      const settled = await settle(async () => {
        const views = await Promise.all(workers.map(clusterView))
        const [a, b] = views.map((v) => v.tasks.filter((task) => task.startsWith(`${name}-`)))
        onBoth.push(...a.filter((task) => b.includes(task)))
        if (views.some((v) => v.rebalancing) || a.length + b.length !== 1) return undefined
        return await runningTask(name, other, undefined, 1000)
      }, name)
      assert.deepEqual(onBoth, [], 'no task runs on both workers')
      t.diagnostic(`${name}: after the partition the task runs on ${settled.worker_id}`)
      await finish(name)
    })

    it(`run ${run}/${RUNS}: cut off for less than the session timeout, nothing moves`, async (t) => {
      const name = `partition-short-${run}`
      const { owner, ownerStopsBefore } = await streamThrough(t, name, 3000, SHORT_STALL_MS)
      const task = await runningTask(name, owner)
      assert.equal(task.worker_id, owner.id, 'the task stayed where it ran')
      assert.equal(
        (await clusterView(owner)).counters.taskStops,
        ownerStopsBefore,
        'the task was never stopped',
      )
      await finish(name)
    })
  }
})

/** How many records the topic holds, read_uncommitted (aborted ones included), up to its end offsets. */
async function recordCount(log: Log, topic: string): Promise<number> {
  const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }))
  return readToEnd(log, partitions, () => {})
}

/** Every state the connector's task 0 had in the status topic, oldest first (FAILED with its trace). */
async function statusHistory(log: Log, topic: string, connector: string, detail = false): Promise<string[]> {
  const count = (await log.describeTopics([topic])).get(topic)?.partitions ?? 1
  const partitions = Array.from({ length: count }, (_, partition) => ({ topic, partition }))
  const states: string[] = []
  await readToEnd(log, partitions, (key, value) => {
    if (key !== `status-task-${connector}-0` || value === null) return
    const status = JSON.parse(value) as {
      state: string
      trace?: string | null
      worker_id?: string
      generation?: number
    }
    const where = detail ? ` (${status.worker_id}, generation ${status.generation})` : ''
    states.push(
      status.state === 'FAILED'
        ? `FAILED on ${status.worker_id}: ${(status.trace ?? '').split('\n').slice(0, 4).join(' ')}`
        : `${status.state}${where}`,
    )
  })
  return states
}

async function readToEnd(
  log: Log,
  partitions: { topic: string; partition: number }[],
  each: (key: string, value: string | null) => void,
): Promise<number> {
  const ends = await log.endOffsets(partitions)
  const consumer = log.createConsumer({ groupId: `partition-read-${Date.now()}`, clientId: 'partition-read' })
  let n = 0
  try {
    await consumer.assign(partitions)
    for (const p of partitions) consumer.seek(p, 0)
    const deadline = Date.now() + 60_000
    const done = () => partitions.every((p) => consumer.position(p) >= (ends.get(tpKey(p)) ?? 0))
    while (!done()) {
      assert.ok(Date.now() < deadline, `could not read ${partitions[0].topic} to its end in 60 s`)
      for (const r of await consumer.poll(300)) {
        n++
        each(Buffer.from(r.key ?? []).toString(), r.value ? Buffer.from(r.value).toString() : null)
      }
    }
    return n
  } finally {
    await consumer.close()
  }
}
