/**
 * The pipeline of the chaos tests and what they check at the end. PostgreSQL CDC
 * (`io.debezium.connector.postgresql.PostgresConnector`) → Kafka → Debezium JDBC sink (upsert,
 * deletes, key from the record key) → PostgreSQL, on a broker and a PostgreSQL cluster of the
 * test's own (both restarted by the test). Every wait has a deadline and says what it waited for;
 * the final check reports everything that diverged (rows, per-key order in the topic, task states)
 * in one message, so a failure tells which bug bit.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import type { PostgresCluster } from '../../scripts/postgres.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { createLog } from '../../src/log/create-log.ts'
import { tpKey } from '../../src/log/log.ts'
import { CREATE_TABLE, TABLE } from './load.ts'
import { ownBroker, ownPostgres } from './services.ts'

export const TOPIC_PREFIX = 'chaos'
export const TOPIC = `${TOPIC_PREFIX}.public.${TABLE}`
export const PARTITIONS = 3
export const SOURCE = 'chaos-cdc'
export const SINK = 'chaos-jdbc-sink'

function note(message: string): void {
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 23)}] ${message}\n`)
}

export { note }

export interface Services {
  dir: string
  broker: Awaited<ReturnType<typeof ownBroker>>
  pg: PostgresCluster
  sourceUrl: string
  targetUrl: string
  destroy(): Promise<void>
}

async function sql(url: string, ...statements: string[]): Promise<unknown[][]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  client.on('error', () => {})
  await client.connect()
  try {
    const results: unknown[][] = []
    for (const s of statements) results.push((await client.query(s)).rows)
    return results
  } finally {
    await client.end().catch(() => {})
  }
}

/** Own broker and PostgreSQL cluster (started in parallel), source table and topic. */
export async function startServices(): Promise<Services> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chaos-'))
  const broker = await ownBroker()
  const [, cluster] = await Promise.all([broker.start(), ownPostgres()])
  await sql(cluster.url(), 'CREATE DATABASE source', 'CREATE DATABASE target')
  const sourceUrl = cluster.url('source')
  const targetUrl = cluster.url('target')
  const seed = Array.from({ length: 100 }, (_, i) => `(${i + 1}, ${i}, 'seed')`).join(',')
  await sql(
    sourceUrl,
    CREATE_TABLE,
    `ALTER TABLE ${TABLE} REPLICA IDENTITY FULL`,
    `INSERT INTO ${TABLE} VALUES (0, 0, 'marker'), ${seed}`,
  )
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': broker.bootstrap }), 'chaos-setup')
  try {
    await log.createTopics([{ name: TOPIC, partitions: PARTITIONS, replicationFactor: 1 }])
  } finally {
    await log.close()
  }
  note(`broker ${broker.bootstrap} (${broker.stateDir}), PostgreSQL ${cluster.url()} (${cluster.stateDir})`)
  return {
    dir,
    broker,
    pg: cluster,
    sourceUrl,
    targetUrl,
    async destroy() {
      await broker.destroy()
      cluster.destroy()
    },
  }
}

/** Worker properties shared by the standalone and distributed workers. */
export function workerProperties(s: Services): Record<string, string> {
  return {
    'bootstrap.servers': s.broker.bootstrap,
    'offset.flush.interval.ms': '500',
    'consumer.session.timeout.ms': '6000',
    'consumer.heartbeat.interval.ms': '1000',
    'log.level': 'info',
  }
}

export function sourceConfig(s: Services): Record<string, string> {
  const url = new URL(s.sourceUrl)
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'database.hostname': url.hostname,
    'database.port': url.port,
    'database.user': 'postgres',
    'database.dbname': 'source',
    'topic.prefix': TOPIC_PREFIX,
    'plugin.name': 'pgoutput',
    'slot.name': 'chaos_slot',
    'publication.name': 'chaos_pub',
    'publication.autocreate.mode': 'filtered',
    'table.include.list': `public.${TABLE}`,
    'snapshot.mode': 'initial',
    // A killed worker's walsender holds the slot until the server notices (wal_sender_timeout 15 s).
    'slot.max.retries': '60',
    'slot.retry.delay.ms': '1000',
  }
}

export function sinkConfig(s: Services): Record<string, string> {
  const url = new URL(s.targetUrl)
  return {
    'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
    'tasks.max': '2',
    topics: TOPIC,
    'connection.url': `jdbc:postgresql://${url.host}/target`,
    'connection.username': 'postgres',
    'insert.mode': 'upsert',
    'delete.enabled': 'true',
    'primary.key.mode': 'record_key',
    'schema.evolution': 'basic',
    'table.name.format': TABLE,
  }
}

type Row = { id: number; v: number; note: string | null }

async function rows(url: string): Promise<Map<number, Row>> {
  const [result] = (await sql(url, `SELECT id, v, note FROM ${TABLE} ORDER BY id`)) as Row[][]
  return new Map(result.map((r) => [r.id, r]))
}

/** The marker row (id 0): bumped in the source, awaited in the target, to prove end-to-end progress. */
export class Marker {
  #value = 0
  readonly s: Services
  constructor(s: Services) {
    this.s = s
  }

  /** Bumps the marker and resolves when the target has it; throws after `timeoutMs` saying so. */
  async progress(what: string, timeoutMs = 120_000): Promise<number> {
    const started = Date.now()
    const deadline = started + timeoutMs
    const value = ++this.#value
    for (;;) {
      try {
        await sql(this.s.sourceUrl, `UPDATE ${TABLE} SET v = ${value} WHERE id = 0`)
        break
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`could not write the marker after ${what}: ${error}`)
        await sleep(200)
      }
    }
    let seen: number | undefined
    for (;;) {
      try {
        const [r] = (await sql(this.s.targetUrl, `SELECT v FROM ${TABLE} WHERE id = 0`)) as { v: number }[][]
        seen = r[0]?.v
        if (seen !== undefined && seen >= value) {
          note(`${what}: end to end again in ${Date.now() - started} ms`)
          return Date.now() - started
        }
      } catch {
        // the target table does not exist yet, or the server restarts
      }
      if (Date.now() > deadline)
        throw new Error(
          `no end-to-end progress ${timeoutMs} ms after ${what}: marker ${value} written to the source, ` +
            `the target has ${seen ?? 'no marker row'}`,
        )
      await sleep(250)
    }
  }
}

/** Source and target compared row by row: missing, extra and stale rows with their ids. */
export async function compareTables(s: Services): Promise<string[]> {
  const [source, target] = await Promise.all([rows(s.sourceUrl), rows(s.targetUrl)])
  const missing: number[] = []
  const stale: string[] = []
  const extra: number[] = []
  for (const [id, row] of source) {
    const t = target.get(id)
    if (!t) missing.push(id)
    else if (t.v !== row.v || t.note !== row.note)
      stale.push(`${id}: source (v=${row.v}, note=${row.note}) target (v=${t.v}, note=${t.note})`)
  }
  for (const id of target.keys()) if (!source.has(id)) extra.push(id)
  const problems: string[] = []
  const some = (list: unknown[], separator: string) =>
    `${list.slice(0, 40).join(separator)}${list.length > 40 ? `${separator}… (${list.length - 40} more)` : ''}`
  if (missing.length)
    problems.push(`${missing.length} rows missing in the target: ids ${some(missing, ', ')}`)
  if (extra.length)
    problems.push(
      `${extra.length} extra rows in the target (deleted in the source): ids ${some(extra, ', ')}`,
    )
  if (stale.length) problems.push(`${stale.length} stale rows in the target:\n    ${some(stale, '\n    ')}`)
  if (problems.length === 0) note(`tables equal: ${source.size} rows`)
  return problems
}

/** Waits (bounded) until source and target are equal; returns the differences left at the deadline. */
export async function converge(s: Services, marker: Marker, timeoutMs = 120_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  const problems: string[] = []
  try {
    await marker.progress('the load stopped', timeoutMs)
  } catch (error) {
    problems.push(String(error instanceof Error ? error.message : error))
  }
  // The marker is on one partition; the others may trail it by a batch.
  const settle = Math.min(deadline, Date.now() + 15_000)
  for (;;) {
    const diff = await compareTables(s)
    if (diff.length === 0 || Date.now() > settle) return [...problems, ...diff]
    await sleep(500)
  }
}

export interface Event {
  partition: number
  offset: number
  op: string
  lsn: number
  /** Identity of the source change (`lsn/op`): a replay of it has the same id. */
  id: string
}

/**
 * Per key, the events ordered by their last occurrence in the topic must have increasing LSNs. A
 * restarted source re-sends from its last committed offset, in order, so every replayed event is
 * followed again by the later ones of its key: replays pass. An event that a retry put behind a
 * later event of its key, and that nothing re-sent after, does not pass.
 */
export function reorderedKeys(byKey: ReadonlyMap<string, readonly Event[]>): {
  problems: string[]
  duplicates: number
} {
  const problems: string[] = []
  let duplicates = 0
  for (const [key, events] of byKey) {
    const last = new Map<string, Event>()
    for (const e of events) {
      if (last.has(e.id)) duplicates++
      last.delete(e.id)
      last.set(e.id, e) // a Map keeps insertion order: re-setting moves it to its last occurrence
    }
    const ordered = [...last.values()]
    for (let i = 1; i < ordered.length; i++) {
      if (ordered[i].lsn < ordered[i - 1].lsn) {
        const show = (e: Event) => `${e.op}@lsn ${e.lsn} (partition ${e.partition} offset ${e.offset})`
        const all = events.map((e) => `${e.op}@${e.lsn}:${e.offset}`).join(' ')
        problems.push(
          `key ${key} reordered in the topic: ${show(ordered[i])} comes after ${show(ordered[i - 1])}; ` +
            `every event of the key (op@lsn:offset): ${all}`,
        )
        break
      }
    }
  }
  return { problems, duplicates }
}

/**
 * Reads the whole topic and checks the per-key order: for each key, the events ordered by their
 * last occurrence in the topic must have increasing source LSNs. At-least-once replays (a restarted
 * task re-sends from its last committed offset, in order) pass; a record that a retry put behind a
 * later one of the same key does not — and that is what leaves a stale row in the sink.
 */
export async function checkTopicOrder(s: Services): Promise<string[]> {
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': s.broker.bootstrap }), 'chaos-check')
  const byKey = new Map<string, Event[]>()
  let records = 0
  let tombstones = 0
  try {
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition }))
    const ends = await log.endOffsets(partitions)
    const consumer = log.createConsumer({
      groupId: 'chaos-check',
      clientId: 'chaos-check',
      maxPollRecords: 5000,
    })
    try {
      await consumer.assign(partitions)
      for (const p of partitions) consumer.seek(p, 0)
      const done = (p: { partition: number }) =>
        consumer.position({ topic: TOPIC, partition: p.partition }) >=
        (ends.get(tpKey({ topic: TOPIC, partition: p.partition })) ?? 0)
      const deadline = Date.now() + 60_000
      while (!partitions.every(done)) {
        if (Date.now() > deadline) throw new Error(`could not read ${TOPIC} to its end offsets in 60 s`)
        for (const r of await consumer.poll(500)) {
          records++
          if (r.value === null) {
            tombstones++
            continue
          }
          const key = JSON.stringify(
            (JSON.parse(Buffer.from(r.key!).toString()) as { payload: unknown }).payload,
          )
          const payload = (
            JSON.parse(Buffer.from(r.value).toString()) as {
              payload: { op: string; source: { lsn: number } }
            }
          ).payload
          const events = byKey.get(key) ?? []
          events.push({
            partition: r.partition,
            offset: r.offset,
            op: payload.op,
            lsn: Number(payload.source.lsn),
            id: `${payload.source.lsn}/${payload.op}`,
          })
          byKey.set(key, events)
        }
      }
    } finally {
      await consumer.close()
    }
  } finally {
    await log.close()
  }
  const { problems, duplicates } = reorderedKeys(byKey)
  note(
    `topic ${TOPIC}: ${records} records (${tombstones} tombstones), ${byKey.size} keys, ${duplicates} replayed duplicates, ${problems.length} keys reordered`,
  )
  return problems
}

/**
 * Every FAILED state a task or connector went through, from the distributed workers' status topic
 * (its whole history: a task that failed and was started again by a later rebalance is RUNNING over
 * REST at the end, but its failure stays here). Each with the worker, generation and the trace's head.
 */
export async function failuresInStatusTopic(s: Services, topic: string): Promise<string[]> {
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': s.broker.bootstrap }), 'chaos-status')
  const problems: string[] = []
  try {
    const count = (await log.describeTopics([topic])).get(topic)?.partitions ?? 1
    const partitions = Array.from({ length: count }, (_, partition) => ({ topic, partition }))
    const ends = await log.endOffsets(partitions)
    const consumer = log.createConsumer({ groupId: 'chaos-status', clientId: 'chaos-status' })
    try {
      await consumer.assign(partitions)
      for (const p of partitions) consumer.seek(p, 0)
      const done = (p: { topic: string; partition: number }) =>
        consumer.position(p) >= (ends.get(tpKey(p)) ?? 0)
      const deadline = Date.now() + 60_000
      while (!partitions.every(done)) {
        if (Date.now() > deadline) throw new Error(`could not read ${topic} to its end offsets in 60 s`)
        for (const r of await consumer.poll(500)) {
          if (r.value === null) continue
          const key = Buffer.from(r.key ?? []).toString()
          const v = JSON.parse(Buffer.from(r.value).toString()) as {
            state?: string
            trace?: string | null
            worker_id?: string
            generation?: number
          }
          if (v.state !== 'FAILED') continue
          const trace = (v.trace ?? '').split('\n').slice(0, 6).join('\n      ')
          problems.push(
            `${key.replace(/^status-/, '')} went FAILED on ${v.worker_id} in generation ${v.generation} ` +
              `(status topic offset ${r.offset}):\n      ${trace}`,
          )
        }
      }
    } finally {
      await consumer.close()
    }
  } finally {
    await log.close()
  }
  note(`status topic ${topic}: ${problems.length} FAILED states`)
  return problems
}

interface Status {
  name: string
  connector: { state: string; trace?: string; worker_id: string }
  tasks: { id: number; state: string; trace?: string; worker_id: string }[]
}

/**
 * Every connector and task RUNNING, as REST reports them, within `timeoutMs` (a rebalance after the
 * last fault may still be assigning them: UNASSIGNED for a moment is fine); otherwise each one that
 * is not, with its trace.
 */
export async function checkStatuses(url: string, names: string[], timeoutMs = 0): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const problems = await statusProblems(url, names)
    if (problems.length === 0 || Date.now() >= deadline) {
      if (problems.length && timeoutMs > 0) problems.unshift(`not every task RUNNING within ${timeoutMs} ms:`)
      return problems
    }
    await sleep(500)
  }
}

async function statusProblems(url: string, names: string[]): Promise<string[]> {
  const problems: string[] = []
  for (const name of names) {
    let status: Status
    try {
      const res = await fetch(`${url}/connectors/${encodeURIComponent(name)}/status`)
      if (res.status !== 200) {
        problems.push(`GET /connectors/${name}/status answered ${res.status}: ${await res.text()}`)
        continue
      }
      status = (await res.json()) as Status
    } catch (error) {
      problems.push(`GET ${url}/connectors/${name}/status failed: ${error}`)
      continue
    }
    const trace = (t?: string) => (t ? `\n      ${t.split('\n').slice(0, 12).join('\n      ')}` : '')
    if (status.connector.state !== 'RUNNING')
      problems.push(
        `connector ${name} is ${status.connector.state} on ${status.connector.worker_id}${trace(status.connector.trace)}`,
      )
    if (status.tasks.length === 0) problems.push(`connector ${name} has no tasks`)
    for (const t of status.tasks)
      if (t.state !== 'RUNNING')
        problems.push(`task ${name}-${t.id} is ${t.state} on ${t.worker_id}${trace(t.trace)}`)
  }
  return problems
}
