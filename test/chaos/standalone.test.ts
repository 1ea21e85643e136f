/**
 * Chaos through one standalone worker (Sluice on Kafka, the real `sluice standalone` command): CDC
 * from PostgreSQL to a JDBC sink into PostgreSQL under ~100 changes/s, with two kill -9 of the
 * worker, a PostgreSQL restart, a broker restart on its kept data and a network blip. Then: source
 * and target equal row by row, no per-key reordering in the topic, every connector and task
 * RUNNING without a hand restart. See scenario.ts and pipeline.ts.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { kafkaSkipReason, postgresSkipReason } from '../helpers/services.ts'
import { note, SINK, SOURCE, sinkConfig, sourceConfig, workerProperties } from './pipeline.ts'
import { runScenario, type Workers } from './scenario.ts'
import { freePort } from './services.ts'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')

function properties(map: Record<string, string>): string {
  return `${Object.entries(map)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`
}

function standalone(): Workers {
  let dir = ''
  let url = ''
  let child: ChildProcess | undefined
  let launches = 0
  const logs: string[] = []
  const exited = new WeakSet<ChildProcess>()

  async function launch(): Promise<void> {
    const logFile = join(dir, `worker-${launches++}.log`)
    logs.push(logFile)
    const out = openSync(logFile, 'w')
    const c = spawn(
      process.execPath,
      [MAIN, 'standalone', join(dir, 'worker.properties'), join(dir, 'source.json'), join(dir, 'sink.json')],
      { cwd: dir, stdio: ['ignore', out, out], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    )
    closeSync(out)
    c.once('exit', () => exited.add(c))
    child = c
    const deadline = Date.now() + 120_000
    for (;;) {
      if (exited.has(c)) throw new Error(`the worker exited while starting; see ${logFile}`)
      try {
        const res = await fetch(`${url}/connectors`)
        if (res.status === 200) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`the worker's REST API did not answer in 120 s; see ${logFile}`)
      await sleep(100)
    }
  }

  return {
    async start(s) {
      dir = s.dir
      const port = await freePort()
      url = `http://127.0.0.1:${port}`
      writeFileSync(
        join(dir, 'worker.properties'),
        properties({
          ...workerProperties(s),
          'sluice.data.dir': join(dir, 'data'),
          listeners: url,
        }),
      )
      writeFileSync(join(dir, 'source.json'), JSON.stringify({ name: SOURCE, config: sourceConfig(s) }))
      writeFileSync(join(dir, 'sink.json'), JSON.stringify({ name: SINK, config: sinkConfig(s) }))
      await launch()
    },
    async killOne() {
      const c = child!
      c.kill('SIGKILL')
      while (!exited.has(c)) await sleep(20)
      note(`  worker pid ${c.pid} killed; starting another`)
      await launch()
      return `restarted as pid ${child!.pid}`
    },
    pids: () => (child?.pid ? [child.pid] : []),
    url: () => url,
    logs: () => logs,
    async stop() {
      const c = child
      if (!c || exited.has(c)) return
      c.kill('SIGTERM')
      const deadline = Date.now() + 20_000
      while (!exited.has(c) && Date.now() < deadline) await sleep(50)
      if (!exited.has(c)) c.kill('SIGKILL')
    },
  }
}

test('[integration] chaos: CDC → Kafka → JDBC sink through a standalone worker', {
  skip: kafkaSkipReason() || postgresSkipReason(),
  timeout: 900_000,
}, async () => {
  const problems = await runScenario(standalone(), { kills: 2 })
  if (problems.length) assert.fail(`the pipeline diverged:\n  - ${problems.join('\n  - ')}`)
})
