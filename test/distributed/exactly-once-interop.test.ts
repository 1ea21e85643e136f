/**
 * [integration] Exactly-once source (KIP-618) in one cluster of Apache Kafka Connect 4.3.1 workers
 * (jars from Maven Central, bench/jvm/connect.ts) and Sluice workers, all with
 * `exactly.once.source.support=enabled`. Two FileStreamSource connectors (one task each, so each kind
 * of worker runs one) read files of numbered lines while they are appended; the leadership and the
 * tasks go back and forth between Java and Sluice by kill -9:
 *
 *   [with SLUICE_EOS_INTEROP_FULL=1: Java leader + Sluice follower → kill -9 Java →] Sluice leads →
 *   a Java worker joins as a follower and must start its task, which asks the Sluice leader
 *   `PUT /connectors/{c}/fence` → kill -9 Sluice: Java leads → a new Sluice worker joins as a
 *   follower of the Java leader and asks it to fence.
 *
 * Kafka Connect takes 20–90 s to start on a loaded 2-core machine, so CI runs the short form (one
 * Java worker); the full form adds a Java worker that leads first.
 * A `read_committed` consumer must see every number exactly once; the config topic must hold
 * Kafka Connect's `tasks-fencing-<c>` records, and the Java worker must name its producers
 * `<group.id>-<connector>-<task>` as Sluice does (the ids that fence each other).
 * A missing JVM or Maven fails the test (the jars are resolved once into .services/cache).
 */
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startConnectDistributed } from '../../bench/jvm/connect.ts'
import { freePort } from '../../bench/lib/cases.ts'
import { distributedGroupKeys } from '../../bench/lib/properties-file.ts'
import type { WorkerProcess } from '../../bench/lib/worker-process.ts'
import { sign } from '../../src/herder/distributed/session-key.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import type { Log } from '../../src/log/log.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { Cluster } from './cluster.ts'
import { configRecords, readCommitted, tally } from './exactly-once-check.ts'

const skip = kafkaSkipReason()
const CONNECTORS = ['eos-interop-a', 'eos-interop-b']
const FULL = process.env.SLUICE_EOS_INTEROP_FULL === '1'

interface JavaWorker {
  process: WorkerProcess
  url: string
  id: string
}

interface TaskStatus {
  state: string
  worker_id: string
  trace?: string
}

describe('[integration] exactly-once source in a mixed cluster of Kafka Connect 4.3.1 and Sluice', {
  skip,
  timeout: 900_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-eos-interop-'))
  const cluster = new Cluster({
    dir,
    bootstrap: kafkaBootstrap(),
    props: {
      'exactly.once.source.support': 'enabled',
      'scheduled.rebalance.max.delay.ms': '0',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    },
  })
  const group = cluster.groupId
  const javas: JavaWorker[] = []
  let log: Log
  const topic = (c: string) => `${group}-${c}`
  const file = (c: string) => join(dir, `${c}.txt`)
  let written = 0
  let writing = true
  let writer: Promise<void> = Promise.resolve()

  before(async () => {
    log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'eos-interop-test' })
    await log.createTopics(CONNECTORS.map((c) => ({ name: topic(c), partitions: 1, replicationFactor: 1 })))
  })

  after(async () => {
    writing = false
    await writer
    await Promise.all(javas.map((j) => j.process.stop(20_000)))
    await cluster.stopAll()
    if (!process.env.SLUICE_KEEP_TEST_DIR) await cluster.deleteTopics(CONNECTORS.map(topic))
    await log?.close()
    if (process.env.SLUICE_KEEP_TEST_DIR) console.log(`kept ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  })

  async function startJava(): Promise<JavaWorker> {
    const port = await freePort()
    const process = startConnectDistributed({
      cwd: dir,
      logFile: join(dir, `java-${port}.log`),
      worker: {
        'bootstrap.servers': kafkaBootstrap(),
        ...distributedGroupKeys(group),
        'offset.storage.partitions': 5,
        'status.storage.partitions': 2,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'exactly.once.source.support': 'enabled',
        'session.timeout.ms': 6000,
        'heartbeat.interval.ms': 1000,
        'scheduled.rebalance.max.delay.ms': 0,
        'offset.flush.interval.ms': 500,
        listeners: `http://127.0.0.1:${port}`,
      },
    })
    const java = { process, url: `http://127.0.0.1:${port}`, id: `127.0.0.1:${port}` }
    javas.push(java)
    await eventually(
      async () => {
        if (process.exit() !== undefined) throw new Error(`Kafka Connect exited:\n${process.logTail(40)}`)
        const res = await fetch(`${java.url}/connectors`).catch(() => undefined)
        return res?.status === 200 ? true : undefined
      },
      240_000,
      `Kafka Connect on ${java.url}`,
    )
    return java
  }

  /** The connector's task 0 as `via` reports it, once `accept` holds. */
  function taskWhere(
    connector: string,
    via: () => string,
    accept: (t: TaskStatus) => boolean,
    what: string,
  ): Promise<TaskStatus> {
    return eventually(
      async () => {
        const res = await fetch(`${via()}/connectors/${connector}/status`).catch(() => undefined)
        if (res?.status !== 200) return undefined
        const task = ((await res.json()) as { tasks?: TaskStatus[] }).tasks?.[0]
        if (task?.state === 'FAILED')
          throw new Error(`${connector} task 0 FAILED on ${task.worker_id}: ${task.trace}`)
        return task !== undefined && accept(task) ? task : undefined
      },
      90_000,
      `${connector}: ${what}`,
    )
  }

  const runningOn = (ids: string[]) => (t: TaskStatus) => t.state === 'RUNNING' && ids.includes(t.worker_id)

  /** Both connectors' tasks RUNNING on these workers; each of `each` runs one of them. */
  async function tasksOn(via: () => string, ids: string[], each: string[] = []): Promise<string[]> {
    const owners = await eventually(
      async () => {
        const found = await Promise.all(
          CONNECTORS.map((c) => taskWhere(c, via, runningOn(ids), `RUNNING on ${ids.join(' or ')}`)),
        )
        const owners = found.map((t) => t.worker_id)
        return each.every((id) => owners.includes(id)) ? owners : undefined
      },
      90_000,
      `tasks on ${each.join(' and ') || ids.join(' or ')}`,
    )
    return owners
  }

  async function sessionKeyHeaders(body: string): Promise<Record<string, string>> {
    const value = (await configRecords(log, `${group}-configs`)).get('session-key')
    assert.ok(value, 'no session-key record in the config topic')
    const key = JSON.parse(value) as { key: string; algorithm: string; 'creation-timestamp': number }
    return sign(body, {
      key: key.key,
      algorithm: key.algorithm,
      creationTimestamp: key['creation-timestamp'],
    })
  }

  it('moves tasks and leadership between Java and Sluice workers, no number twice', async () => {
    const started = Date.now()
    const lap = (what: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${what}`)
    for (const c of CONNECTORS) writeFileSync(file(c), '')
    const java1 = FULL ? await startJava() : undefined
    if (java1) lap('Java worker 1 up (leader)')
    const sluice1 = await cluster.start(120_000)
    lap(`Sluice worker 1 up (${java1 ? 'follower' : 'leader'})`)
    for (const c of CONNECTORS) {
      const res = await eventually(
        async () => {
          const r = await fetch(`${sluice1.url}/connectors`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              name: c,
              config: {
                'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
                file: file(c),
                topic: topic(c),
                // Kafka Connect's FileStreamSourceTask returns a full batch with lines still in its
                // 1,024-char buffer and extracts them only when the file grows again: with 20 it never
                // delivered the lines of its last read once the writer stopped. A batch larger than a
                // buffer's worth of these short lines makes it drain the buffer on every poll.
                'batch.size': '1000',
              },
            }),
          })
          return r.status === 409 ? undefined : r
        },
        60_000,
        `creating ${c} through the Sluice follower`,
      )
      assert.equal(res.status, 201, await res.text())
    }
    writer = (async () => {
      while (writing) {
        const lines: string[] = []
        for (let i = 0; i < 10; i++) lines.push(String(++written))
        for (const c of CONNECTORS) appendFileSync(file(c), `${lines.join('\n')}\n`)
        await sleep(100)
      }
    })()

    if (java1) {
      await tasksOn(() => java1.url, [java1.id, sluice1.id], [java1.id, sluice1.id])
      lap('a task on each: Java leader, Sluice follower')
      await sleep(1000)
      java1.process.child.kill('SIGKILL')
      await eventually(async () => (java1.process.exit() ? true : undefined), 10_000, 'the Java leader gone')
      await tasksOn(() => sluice1.url, [sluice1.id])
      lap('kill -9 of the Java leader: both tasks on the Sluice worker, now the leader')
    } else {
      await tasksOn(() => sluice1.url, [sluice1.id])
      lap('both tasks on the Sluice leader')
    }

    // The Sluice leader serves Kafka Connect's internal fencing request: signed, forwarded, checked.
    const unsigned = await fetch(`${sluice1.url}/connectors/${CONNECTORS[0]}/fence`, { method: 'PUT' })
    assert.equal(unsigned.status, 400, await unsigned.text())
    const signed = await fetch(`${sluice1.url}/connectors/${CONNECTORS[0]}/fence`, {
      method: 'PUT',
      headers: await sessionKeyHeaders(''),
    })
    assert.equal(signed.status, 204, await signed.text())
    const unknown = await fetch(`${sluice1.url}/connectors/${group}-nope/fence`, {
      method: 'PUT',
      headers: await sessionKeyHeaders(''),
    })
    assert.equal(unknown.status, 404, await unknown.text())

    const java2 = await startJava()
    lap('Java worker 2 up (follower of the Sluice leader)')
    await tasksOn(() => sluice1.url, [java2.id, sluice1.id], [java2.id, sluice1.id])
    lap('a task on each: Sluice leader, Java follower (it asked the Sluice leader to fence)')
    await sleep(2000)
    writing = false
    await writer
    for (const c of CONNECTORS) {
      const values = await readCommitted(log, topic(c), written, 30_000)
      const { missing, duplicated } = tally(values, written)
      assert.deepEqual(
        { missing: missing.slice(0, 20), duplicated: duplicated.slice(0, 20) },
        { missing: [], duplicated: [] },
        `${c}: ${written} numbers through Java and Sluice workers`,
      )
      lap(`${c}: ${values.length} of ${written} numbers, each once`)
    }

    await sluice1.kill9()
    await tasksOn(() => java2.url, [java2.id])
    lap('kill -9 of the Sluice leader: both tasks on the Java worker, now the leader')

    const sluice2 = await cluster.start(120_000)
    await tasksOn(() => java2.url, [java2.id, sluice2.id], [java2.id, sluice2.id])
    lap('a task on each: Java leader, Sluice follower')
    // A Sluice follower forwards a signed fencing request to the Java leader, which accepts the signature.
    const forwarded = await fetch(`${sluice2.url}/connectors/${CONNECTORS[1]}/fence`, {
      method: 'PUT',
      headers: await sessionKeyHeaders(''),
    })
    assert.equal(forwarded.status, 204, await forwarded.text())

    const records = await configRecords(log, `${group}-configs`)
    for (const c of CONNECTORS) assert.equal(records.get(`tasks-fencing-${c}`), '{"task-count":1}')
    const javaLogs = javas.map((j) => readFileSync(j.process.logFile, 'utf8')).join('\n')
    for (const c of CONNECTORS) {
      assert.match(javaLogs, new RegExp(`transactional\\.id = ${group}-${c}-0\\b`))
    }
    assert.doesNotMatch(javaLogs, /Failed to perform (round of )?zombie fencing/)
  })
})
