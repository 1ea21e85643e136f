/**
 * The commands the README shows, run as a user runs them from a checkout after `npm ci`: `npx
 * sluice …` (package.json's bin, bin/sluice.js, running the TypeScript sources with the checkout's
 * Node 24). Each management command the README lists exists; a worker starts as shown; `--url`
 * works before and after the command; a port already in use names the `listeners` key.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { Command } from 'commander'
import { globalOptionsLast, registerManageCommands } from '../../src/cli/manage.ts'
import { eventually } from '../helpers/rest.ts'

const REPO = resolve(import.meta.dirname, '../..')
const BIN = join(REPO, 'bin/sluice.js')

/** `npx sluice …` from the checkout, as the README has it. */
function npxSluice(args: string[]) {
  return spawnSync('npx', ['sluice', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 })
}

/** The same entry point without npx's own start-up. */
function sluice(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 30_000 })
}

/** Each `npx sluice <command> <subcommand>` of the README's shell blocks, alternatives expanded. */
function readmeCommands(): string[][] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const commands: string[][] = []
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) {
      if (!line.startsWith('npx sluice ')) continue
      const words: string[] = []
      for (const word of line.slice('npx sluice '.length).split(/\s+/)) {
        if (!/^[a-z|]+$/.test(word)) break
        words.push(word)
      }
      const alternatives = words.map((w) => w.split('|'))
      const expand = (i: number): string[][] =>
        i === alternatives.length
          ? [[]]
          : alternatives[i]!.flatMap((a) => expand(i + 1).map((rest) => [a, ...rest]))
      for (const command of expand(0))
        if (!commands.some((c) => c.join(' ') === command.join(' '))) commands.push(command)
    }
  }
  return commands
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  await new Promise((done) => server.close(done))
  return port
}

describe('global options before the command', () => {
  it('are moved after it, values and = forms included, before a -- and nothing else', () => {
    const argv = ['node', 'sluice']
    assert.deepEqual(globalOptionsLast([...argv, '--url', 'http://w:8083', '--json', 'status']), [
      ...argv,
      'status',
      '--url',
      'http://w:8083',
      '--json',
    ])
    assert.deepEqual(globalOptionsLast([...argv, '--user=a:b', 'connectors', 'create', '--', 'x']), [
      ...argv,
      'connectors',
      'create',
      '--user=a:b',
      '--',
      'x',
    ])
    assert.deepEqual(globalOptionsLast([...argv, 'standalone', 'w.properties']), [
      ...argv,
      'standalone',
      'w.properties',
    ])
    assert.deepEqual(globalOptionsLast([...argv, '--version']), [...argv, '--version'])
  })
})

describe('the README commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-readme-'))
  const workers: ChildProcess[] = []
  after(async () => {
    for (const worker of workers) {
      // The whole group: npx, its shell and the worker (which npx does not always pass SIGTERM on to).
      const exited =
        worker.exitCode === null && worker.signalCode === null
          ? new Promise((done) => worker.once('exit', done))
          : Promise.resolve()
      try {
        process.kill(-worker.pid!, 'SIGTERM')
      } catch {
        // already gone
      }
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('npx sluice runs from the checkout', () => {
    const result = npxSluice(['--version'])
    assert.equal(result.status, 0, result.stderr)
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }
    assert.equal(result.stdout.trim(), version)
    assert.doesNotMatch(result.stderr, /not found/)
  })

  it('every command the README lists exists', () => {
    const commands = readmeCommands()
    assert.ok(commands.length >= 15, `only ${commands.length} commands found in the README`)
    const program = new Command('sluice')
    registerManageCommands(program, async () => {})
    for (const command of commands) {
      if (command[0] === 'standalone' || command[0] === 'distributed') {
        const result = sluice([...command, '--help'])
        assert.equal(result.status, 0, `${command.join(' ')}: ${result.stderr}`)
        assert.match(result.stdout, new RegExp(`^Usage: sluice ${command.join(' ')}\\b`))
        continue
      }
      let at: Command | undefined = program
      for (const word of command) at = at?.commands.find((c) => c.name() === word)
      assert.ok(at, `the README shows 'npx sluice ${command.join(' ')}', which does not exist`)
    }
  })

  it('npx sluice standalone starts a worker from the README files; --url works before and after the command', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    writeFileSync(
      join(dir, 'worker.properties'),
      `sluice.data.dir=${join(dir, 'data')}\nlisteners=${url}\nlog.level=warn\n`,
    )
    writeFileSync(
      join(dir, 'file-source.properties'),
      `name=file-source\nconnector.class=FileStreamSource\nfile=${join(dir, 'in.txt')}\ntopic=lines\n`,
    )
    const worker = spawn(
      'npx',
      ['sluice', 'standalone', join(dir, 'worker.properties'), join(dir, 'file-source.properties')],
      { cwd: REPO, stdio: 'ignore', detached: true },
    )
    workers.push(worker)
    await eventually(async () => ((await fetch(`${url}/health`)).ok ? true : undefined), 60_000, 'worker up')
    await eventually(async () => ((await fetch(`${url}/connectors/file-source`)).ok ? true : undefined))
    for (const args of [
      ['--url', url, 'connectors', 'list'],
      ['connectors', 'list', '--url', url],
      [`--url=${url}`, '--json', 'connectors', 'list'],
    ]) {
      const result = sluice(args)
      assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stdout, /file-source/, args.join(' '))
    }
  })

  it('a port already in use stops the worker with an error naming listeners and the port', async () => {
    const server = createServer()
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const { port } = server.address() as { port: number }
    try {
      writeFileSync(
        join(dir, 'busy.properties'),
        `sluice.data.dir=${join(dir, 'busy-data')}\nlisteners=http://127.0.0.1:${port}\nlog.level=warn\n`,
      )
      const result = sluice(['standalone', join(dir, 'busy.properties')])
      assert.equal(result.status, 2, result.stderr)
      assert.match(
        result.stderr,
        new RegExp(`port ${port} is already in use \\(listeners=http://127\\.0\\.0\\.1:${port}\\)`),
      )
      assert.match(result.stderr, /\[listeners\]/)
    } finally {
      server.close()
    }
  })
})
