/**
 * The container image built by scripts/build-image.sh, run with podman: it answers /health as the
 * non-root user, its healthcheck passes, it runs a pipeline, and `podman stop` (SIGTERM) stops it
 * gracefully. Building takes minutes, so this runs only when SLUICE_TEST_IMAGE names a built image
 * (e.g. SLUICE_TEST_IMAGE=localhost/sluice:0.1.0), never as part of `npm test`.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { eventually, request } from '../helpers/rest.ts'

const IMAGE = process.env.SLUICE_TEST_IMAGE
const run = promisify(execFile)
const podman = (...args: string[]) => run('podman', args, { timeout: 120_000 })

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('the container image', { skip: IMAGE ? false : 'set SLUICE_TEST_IMAGE to a built image' }, () => {
  const name = `sluice-image-test-${process.pid}`
  let base = ''
  before(async () => {
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    await podman('run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8083`, IMAGE!, 'standalone')
  })
  after(async () => {
    await podman('rm', '-f', name).catch(() => {})
  })

  it('answers /health and /ready as a non-root user, and its healthcheck passes', async () => {
    await eventually(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), 30_000, '/health')
    assert.equal((await fetch(`${base}/ready`)).status, 200)
    const { stdout: user } = await podman('exec', name, '/bin/sh', '-c', 'echo "$(id -u) $HOME"')
    assert.doesNotMatch(user, /^0 /)
    const { stdout: inspect } = await podman('inspect', name, '--format', '{{.Config.User}}')
    assert.equal(inspect.trim(), '10001:10001')
    await podman('healthcheck', 'run', name)
  })

  it('runs a pipeline and exposes its metrics', async () => {
    await podman('exec', name, '/bin/sh', '-c', 'for i in 1 2 3 4 5; do echo "line $i"; done > /data/in.txt')
    for (const [connector, config] of [
      ['in', { 'connector.class': 'FileStreamSource', file: '/data/in.txt', topic: 'lines' }],
      ['out', { 'connector.class': 'FileStreamSink', file: '/data/out.txt', topics: 'lines' }],
    ] as const) {
      assert.equal((await request(base, 'PUT', `/connectors/${connector}/config`, config)).status, 201)
    }
    await eventually(async () => {
      const { stdout } = await podman('exec', name, '/bin/sh', '-c', 'cat /data/out.txt 2>/dev/null || true')
      return stdout.trim().split('\n').length === 5 ? true : undefined
    })
    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.match(metrics, /^kafka_connect_sink_task_sink_record_send_total\{connector="out",task="0"\} 5$/m)
  })

  it('stops gracefully on podman stop (SIGTERM), well within the timeout', async () => {
    const started = Date.now()
    await podman('stop', '--time', '30', name)
    assert.ok(Date.now() - started < 20_000, `stopped after ${Date.now() - started} ms`)
    const { stdout: code } = await podman('inspect', name, '--format', '{{.State.ExitCode}}')
    assert.equal(code.trim(), '0')
    const { stdout, stderr } = await podman('logs', name)
    assert.match(stdout + stderr, /SIGTERM: stopping/)
  })
})
