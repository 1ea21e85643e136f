/**
 * SIGTERM (what Kubernetes and `podman stop` send) stops a `sluice standalone` process gracefully:
 * tasks commit what they delivered, so a restarted worker neither reads nor delivers anything
 * twice; a task that does not stop is abandoned after `task.shutdown.graceful.timeout.ms` and the
 * process still exits, in time for the pod's termination grace period.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { readLines, waitForLines } from '../helpers/files.ts'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')

interface Proc {
  child: ChildProcess
  exit: Promise<number | null>
  logFile: string
}

async function startWorker(dir: string, files: string[], tag: string): Promise<Proc> {
  const logFile = join(dir, `worker-${tag}.log`)
  const out = openSync(logFile, 'w')
  const child = spawn(process.execPath, [MAIN, 'standalone', ...files], {
    stdio: ['ignore', out, out],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  })
  closeSync(out)
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  let exited = false
  void exit.then(() => {
    exited = true
  })
  const deadline = Date.now() + 30_000
  while (!/standalone worker ready on/.test(readFileSync(logFile, 'utf8'))) {
    if (exited || Date.now() > deadline)
      throw new Error(`worker did not start:\n${readFileSync(logFile, 'utf8')}`)
    await sleep(50)
  }
  return { child, exit, logFile }
}

describe('SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sigterm-'))
  const running = new Set<ChildProcess>()
  after(() => {
    for (const child of running) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('commits what was delivered: the restarted worker reads and delivers nothing twice', async () => {
    const input = join(dir, 'in.txt')
    const output = join(dir, 'out.txt')
    writeFileSync(input, '')
    const worker = join(dir, 'worker.properties')
    // Offsets are committed only by the stop: the periodic commit never comes.
    writeFileSync(
      worker,
      [
        `sluice.data.dir=${join(dir, 'data')}`,
        'listeners=http://127.0.0.1:0',
        'offset.flush.interval.ms=600000',
        'log.level=info',
      ].join('\n'),
    )
    const source = join(dir, 'source.properties')
    writeFileSync(source, `name=in\nconnector.class=FileStreamSource\nfile=${input}\ntopic=lines\n`)
    const sink = join(dir, 'sink.properties')
    writeFileSync(sink, `name=out\nconnector.class=FileStreamSink\nfile=${output}\ntopics=lines\n`)

    const first = await startWorker(dir, [worker, source, sink], 'first')
    running.add(first.child)
    appendFileSync(input, `${Array.from({ length: 100 }, (_, i) => `a${i}`).join('\n')}\n`)
    await waitForLines(output, 100)
    first.child.kill('SIGTERM')
    assert.equal(await first.exit, 0, readFileSync(first.logFile, 'utf8'))
    running.delete(first.child)
    assert.match(readFileSync(first.logFile, 'utf8'), /SIGTERM: stopping/)

    const second = await startWorker(dir, [worker, source, sink], 'second')
    running.add(second.child)
    appendFileSync(input, `${Array.from({ length: 50 }, (_, i) => `b${i}`).join('\n')}\n`)
    const lines = await waitForLines(output, 150)
    await sleep(1000) // anything delivered twice would arrive by now
    second.child.kill('SIGTERM')
    assert.equal(await second.exit, 0)
    running.delete(second.child)
    const all = readLines(output)
    assert.equal(all.length, 150, `delivered twice: ${all.length - 150} lines`)
    assert.deepEqual(lines.slice(0, 3), ['a0', 'a1', 'a2'])
    assert.equal(all.at(-1), 'b49')
  })

  it('abandons a task that does not stop after task.shutdown.graceful.timeout.ms and exits', async () => {
    const worker = join(dir, 'stuck-worker.properties')
    writeFileSync(
      worker,
      [
        `sluice.data.dir=${join(dir, 'stuck-data')}`,
        'listeners=http://127.0.0.1:0',
        'task.shutdown.graceful.timeout.ms=1500',
        `plugin.path=${resolve(import.meta.dirname, 'stuck-plugin')}`,
        'log.level=info',
      ].join('\n'),
    )
    const connector = join(dir, 'stuck.properties')
    writeFileSync(connector, 'name=stuck\nconnector.class=test.StuckSource\n')
    const proc = await startWorker(dir, [worker, connector], 'stuck')
    running.add(proc.child)
    await sleep(500) // the task is in its poll() now
    const sent = Date.now()
    proc.child.kill('SIGTERM')
    const code = await proc.exit
    const took = Date.now() - sent
    running.delete(proc.child)
    const log = readFileSync(proc.logFile, 'utf8')
    assert.equal(code, 0, log)
    assert.ok(took >= 1400, `exited after ${took} ms, before the graceful timeout`)
    assert.ok(took < 1500 + 8000, `exited after ${took} ms`)
    assert.match(log, /did not stop within 1500 ms; cancelling it/)
  })
})
