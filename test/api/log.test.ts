import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { type ConnectLogger, connectLogger, runWithConnectLogger } from '../../src/api/log.ts'

function recorder(): ConnectLogger & { lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  }
}

describe('connectLogger()', () => {
  it('is the logger the runtime set, across awaits and timers started from there', async () => {
    const a = recorder()
    const b = recorder()
    await Promise.all([
      runWithConnectLogger(a, async () => {
        await new Promise((r) => setTimeout(r, 5))
        connectLogger().warn('from a')
      }),
      runWithConnectLogger(b, async () => {
        await new Promise<void>((r) =>
          setTimeout(() => {
            connectLogger().info('from b')
            r()
          }, 1),
        )
      }),
    ])
    assert.deepEqual(a.lines, ['warn from a'])
    assert.deepEqual(b.lines, ['info from b'])
  })

  it('outside a worker, warnings become process warnings', async () => {
    const seen = new Promise<Error>((r) => process.once('warning', r))
    connectLogger().warn('no worker here')
    assert.equal((await seen).message, 'no worker here')
  })

  it('[integration] a connector warning lands in the worker log under the task name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-log-'))
    writeFileSync(
      join(dir, 'worker.properties'),
      `sluice.data.dir=${join(dir, 'data')}\nlisteners=http://127.0.0.1:0\n`,
    )
    writeFileSync(
      join(dir, 'src.properties'),
      `name=missing-file\nconnector.class=FileStreamSource\ntopic=t\nfile=${join(dir, 'nope.txt')}\n`,
    )
    const child = spawn(
      process.execPath,
      [
        resolve(import.meta.dirname, '../../src/cli/main.ts'),
        'standalone',
        'worker.properties',
        'src.properties',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    try {
      const entry = await new Promise<Record<string, unknown>>((found, failed) => {
        let buffer = ''
        const timer = setTimeout(() => failed(new Error(`no warning in the log:\n${buffer}`)), 20_000)
        child.stderr.on('data', (chunk: Buffer) => {
          buffer += chunk.toString()
          for (const line of buffer.split('\n')) {
            if (!line.includes("Couldn't find file")) continue
            clearTimeout(timer)
            found(JSON.parse(line) as Record<string, unknown>)
          }
        })
      })
      assert.equal(entry.level, 40)
      assert.equal(entry.connector, 'missing-file')
      assert.equal(entry.task, 0)
    } finally {
      child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
