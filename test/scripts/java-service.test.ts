/**
 * scripts/java-service.ts through a real JVM service (s3proxy, the quickest to start) on a free port
 * and a temporary state dir: parallel starts make one JVM, a hung JVM an earlier run left is replaced,
 * and `stop()` only ever signals the JVM its pid file names.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { ensureStarted } from '../../scripts/java-service.ts'
import { S3Proxy } from '../../scripts/s3proxy.ts'
import { freePort } from '../chaos/services.ts'
import { s3SkipReason } from '../helpers/services.ts'

/** Runs and is not a zombie (a JVM this process started stays one until Node reaps it). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

// s3proxy itself is fetched with Maven like the shared store: skip where that one is unavailable.
describe('[integration] a JVM service of the scripts (s3proxy on its own port)', {
  skip: s3SkipReason(),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-java-service-'))
  let proxy: S3Proxy | undefined
  after(async () => {
    if (proxy?.pid !== undefined) process.kill(proxy.pid, 'SIGCONT')
    await proxy?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('two parallel starts make one JVM: one starts it, the other waits and reuses it', async () => {
    const port = await freePort()
    proxy = new S3Proxy({ port, stateDir: dir })
    const other = new S3Proxy({ port, stateDir: dir })
    const started = await Promise.all([ensureStarted(proxy), ensureStarted(other)])
    assert.deepEqual(started.toSorted(), [false, true])
    assert.ok(await proxy.answers())
    assert.equal(proxy.pid, other.pid)
    assert.equal(await ensureStarted(proxy), false, 'a store that answers is reused')
  })

  test('a JVM an earlier run started that never answers is killed and replaced', async () => {
    const hung = proxy!.pid!
    process.kill(hung, 'SIGSTOP')
    // The signal stops the JVM's threads as each is next scheduled: under load one answered a request
    // sent at once (the check then saw a store that answers). Wait until the kernel says it stopped.
    for (let i = 0; i < 200 && !stopped(hung); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.ok(stopped(hung), 'the JVM is stopped')
    const previous = process.env.SLUICE_S3PROXY_START_TIMEOUT_MS
    process.env.SLUICE_S3PROXY_START_TIMEOUT_MS = '20000'
    try {
      proxy = new S3Proxy({ port: proxy!.port, stateDir: dir })
      assert.equal(await ensureStarted(proxy), true)
    } finally {
      if (previous === undefined) delete process.env.SLUICE_S3PROXY_START_TIMEOUT_MS
      else process.env.SLUICE_S3PROXY_START_TIMEOUT_MS = previous
    }
    assert.equal(alive(hung), false, 'the hung JVM is gone')
    assert.notEqual(proxy.pid, hung)
    assert.ok(await proxy.answers())
  })

  test('stop() stops the JVM of its pid file once, and never a process that is not that JVM', async () => {
    const pid = proxy!.pid!
    assert.equal(await proxy!.stop(), true)
    assert.equal(alive(pid), false)
    assert.equal(await proxy!.answers(), false)
    assert.equal(await proxy!.stop(), false)
    // A recycled pid: the pid file names this test's own process, which is no s3proxy.
    writeFileSync(proxy!.pidFile, `${process.pid}\n`)
    assert.equal(proxy!.pid, undefined)
    assert.equal(await proxy!.stop(), false)
  })
})

/** Whether every thread of the process is stopped (state T in /proc/<pid>/task/<tid>/stat). */
function stopped(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      return /^T$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))
    })
  } catch {
    return false
  }
}
