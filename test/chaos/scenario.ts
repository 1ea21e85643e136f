/**
 * The chaos scenario, shared by the standalone and the distributed test: the pipeline under load,
 * faults one after the other (each followed by a bounded wait for end-to-end progress), then the
 * load stops and the final checks run. `Workers` is what differs between the two tests.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Load } from './load.ts'
import {
  checkStatuses,
  checkTopicOrder,
  converge,
  Marker,
  note,
  type Services,
  SINK,
  SOURCE,
  startServices,
} from './pipeline.ts'
import { canCutConnections, cutConnections } from './services.ts'

export interface Workers {
  /** Starts the workers with the two connectors; resolves once REST answers. */
  start(s: Services): Promise<void>
  /** kill -9 of a worker (standalone: the worker, distributed: the leader) and its replacement. */
  killOne(): Promise<string>
  /** Pids of the running workers (their connections are cut in a network blip). */
  pids(): number[]
  /** A REST URL of a running worker. */
  url(): string
  /** More checks at the end (distributed: no FAILED state in the status topic's history). */
  extraChecks?(s: Services): Promise<string[]>
  /** Paths of the worker logs, for the failure message. */
  logs(): string[]
  stop(): Promise<void>
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

export async function runScenario(workers: Workers, options: { kills: number }): Promise<string[]> {
  const s = await startServices()
  const problems: string[] = []
  let load: Load | undefined
  try {
    await workers.start(s)
    const marker = new Marker(s)
    await marker.progress('the start (snapshot, table creation)', 120_000)
    load = new Load(s.sourceUrl)
    note(`load started (seed ${load.seed}: SLUICE_CHAOS_SEED=${load.seed} replays it)`)
    load.start()
    const l = load
    const faults: [string, () => Promise<string | undefined>][] = []
    const kill = async () => await workers.killOne()
    faults.push(['kill -9 #1', kill])
    faults.push([
      'a PostgreSQL restart',
      async () => {
        await s.pg.restart('fast')
        return undefined
      },
    ])
    if (options.kills > 1) faults.push(['kill -9 #2', kill])
    faults.push([
      'a broker restart on its kept data',
      async () => {
        await s.broker.stop('SIGTERM')
        await s.broker.start()
        return undefined
      },
    ])
    if (canCutConnections) {
      faults.push([
        'a network blip (the workers’ connections to Kafka and PostgreSQL cut)',
        async () => {
          let cut = 0
          for (const pid of workers.pids())
            cut += cutConnections(pid, s.broker.port) + cutConnections(pid, s.pg.port)
          if (cut === 0) throw new Error('the network blip found no connection of the workers to cut')
          return `${cut} connections cut`
        },
      ])
    } else note('not root: no network blip (ss -K needs root)')
    for (const [what, fault] of faults) {
      // Faults land in the middle of the load: some transactions since the last progress first.
      const committed = l.stats.committed
      await until(
        () => l.stats.committed >= committed + 150,
        60_000,
        `the load to commit 150 transactions before ${what}`,
      )
      note(`fault: ${what}`)
      try {
        const detail = await fault()
        if (detail) note(`  ${detail}`)
        await marker.progress(what)
      } catch (error) {
        problems.push(`${what}: ${error instanceof Error ? error.message : error}`)
        // What REST said while it was stuck (the pipeline may recover before the final checks).
        const stuck = await checkStatuses(workers.url(), [SOURCE, SINK]).catch((e: unknown) => [String(e)])
        problems.push(`statuses when ${what} stalled: ${stuck.length ? stuck.join('; ') : 'all RUNNING'}`)
        break // the pipeline is stuck: check what diverged rather than piling more faults on it
      }
    }
    await l.stop()
    note(`load stopped: ${JSON.stringify(l.stats)}`)
    problems.push(...(await converge(s, marker, problems.length ? 20_000 : 120_000)))
    problems.push(...(await checkTopicOrder(s)))
    problems.push(...(await checkStatuses(workers.url(), [SOURCE, SINK], 60_000)))
    if (workers.extraChecks) problems.push(...(await workers.extraChecks(s)))
  } catch (error) {
    problems.push(`the scenario failed: ${error instanceof Error ? error.stack : error}`)
  } finally {
    await load?.stop()
    await workers.stop()
    if (problems.length === 0) await s.destroy()
    else {
      await s.broker.stop('SIGKILL')
      s.pg.stop('immediate')
      problems.push(
        `worker logs: ${workers.logs().join(', ')}; broker log ${s.broker.logFile}; PostgreSQL log ${s.pg.logFile}`,
      )
    }
  }
  return problems
}
