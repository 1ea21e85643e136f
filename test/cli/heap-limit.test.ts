/**
 * V8's heap limits from the container's memory (src/cli/heap-limit.ts, decision 0028): the policy
 * and the cgroup files it reads, as pure logic over temporary file trees; then the real launcher
 * (bin/sluice.js), which re-executes Node in place with the flags and leaves the user's alone.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  cgroupMemoryLimit,
  heapFlags,
  mallocEnv,
  oldSpaceMib,
  semiSpaceMib,
} from '../../src/cli/heap-limit.ts'

const MIB = 1024 * 1024
const LAUNCHER = resolve(import.meta.dirname, '../../bin/sluice.js')
const PROBE = resolve(import.meta.dirname, 'probes/process-probe.ts')

const dir = mkdtempSync(join(tmpdir(), 'sluice-heap-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A file tree standing for `/`: `files` maps paths under it to contents. */
function fakeRoot(name: string, files: Record<string, string>): string {
  const root = join(dir, name)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

describe('heap limit policy', () => {
  it('gives the old generation 75 % of the limit, keeping 96 MiB outside it, and 64 MiB at least', () => {
    assert.equal(oldSpaceMib(2048 * MIB), 1536)
    assert.equal(oldSpaceMib(512 * MIB), 384)
    assert.equal(oldSpaceMib(256 * MIB), 160) // 75 % would leave only 64 MiB outside the heap
    assert.equal(oldSpaceMib(128 * MIB), 64)
    assert.equal(oldSpaceMib(64 * MIB), 64)
  })

  it('adds the old-space flag only under a limit, the semi-space and pretenuring flags always', () => {
    assert.deepEqual(heapFlags({ limitBytes: 512 * MIB, nodeOptions: undefined, execArgv: [] }), [
      '--max-old-space-size=384',
      '--max-semi-space-size=16',
      '--no-allocation-site-pretenuring',
    ])
    assert.deepEqual(heapFlags({ limitBytes: 2048 * MIB, nodeOptions: undefined, execArgv: [] }), [
      '--max-old-space-size=1536',
      '--max-semi-space-size=32',
      '--no-allocation-site-pretenuring',
    ])
    assert.deepEqual(heapFlags({ limitBytes: undefined, nodeOptions: '', execArgv: [] }), [
      '--max-semi-space-size=32',
      '--no-allocation-site-pretenuring',
    ])
  })

  it('gives semi-spaces of 32 MiB, 16 in a container of less than 1 GiB', () => {
    assert.equal(semiSpaceMib(undefined), 32)
    assert.equal(semiSpaceMib(1024 * MIB), 32)
    assert.equal(semiSpaceMib(1024 * MIB - 1), 16)
    assert.equal(semiSpaceMib(256 * MIB), 16)
  })

  it("leaves pretenuring alone when Node's command line sets it either way", () => {
    for (const flag of ['--allocation-site-pretenuring', '--no-allocation_site_pretenuring']) {
      assert.deepEqual(heapFlags({ limitBytes: undefined, nodeOptions: undefined, execArgv: [flag] }), [
        '--max-semi-space-size=32',
      ])
    }
  })

  it("leaves a heap size the user set in NODE_OPTIONS or on Node's command line alone", () => {
    const limitBytes = 1024 * MIB
    assert.deepEqual(
      heapFlags({ limitBytes, nodeOptions: '--enable-source-maps --max-old-space-size=300', execArgv: [] }),
      ['--max-semi-space-size=32', '--no-allocation-site-pretenuring'],
    )
    assert.deepEqual(heapFlags({ limitBytes, nodeOptions: '--max_semi_space_size=8', execArgv: [] }), [
      '--max-old-space-size=768',
      '--no-allocation-site-pretenuring',
    ])
    assert.deepEqual(
      heapFlags({
        limitBytes,
        nodeOptions: undefined,
        execArgv: [
          '--max-old-space-size-percentage=50%',
          '--max-semi-space-size=32',
          '--allocation-site-pretenuring',
        ],
      }),
      [],
    )
  })
})

describe('malloc arenas', () => {
  it('limits glibc to two arenas unless the user chose a number', () => {
    assert.deepEqual(mallocEnv({}), { MALLOC_ARENA_MAX: '2' })
    assert.deepEqual(mallocEnv({ MALLOC_ARENA_MAX: '8' }), {})
  })
})

describe('cgroup memory limit', () => {
  it('reads cgroup v2 memory.max in a cgroup namespace', () => {
    const root = fakeRoot('v2', {
      'proc/self/cgroup': '0::/\n',
      'sys/fs/cgroup/memory.max': `${512 * MIB}\n`,
    })
    assert.equal(cgroupMemoryLimit(root), 512 * MIB)
  })

  it('takes the smallest limit of the cgroup and its ancestors on the host (v2)', () => {
    const root = fakeRoot('v2-host', {
      'proc/self/cgroup': '0::/kubepods/pod1/c1\n',
      'sys/fs/cgroup/memory.max': 'max\n',
      'sys/fs/cgroup/kubepods/pod1/memory.max': `${1024 * MIB}\n`,
      'sys/fs/cgroup/kubepods/pod1/c1/memory.max': 'max\n',
    })
    assert.equal(cgroupMemoryLimit(root), 1024 * MIB)
  })

  it("reads cgroup v1 memory.limit_in_bytes, where 'no limit' is about 2^63", () => {
    const limited = fakeRoot('v1', {
      'proc/self/cgroup': '5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': `${768 * MIB}\n`,
    })
    assert.equal(cgroupMemoryLimit(limited), 768 * MIB)
    const unlimited = fakeRoot('v1-none', {
      'proc/self/cgroup': '4:memory:/\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    })
    assert.equal(cgroupMemoryLimit(unlimited), undefined)
  })

  it('finds no limit without cgroup files', () => {
    assert.equal(cgroupMemoryLimit(fakeRoot('none', { 'proc/self/cgroup': '0::/\n' })), undefined)
    assert.equal(cgroupMemoryLimit(join(dir, 'missing')), undefined)
  })
})

interface ProbeReport {
  pid: number
  execArgv: string[]
  heapSizeLimit: number
  mallocArenaMax: string | undefined
}

/** Runs `sluice --version` through the real launcher with the probe; what the final process saw. */
async function launch(
  name: string,
  nodeOptions: string,
  env: Record<string, string> = {},
): Promise<{ pid: number; report: ProbeReport }> {
  const out = join(dir, `${name}.json`)
  const { MALLOC_ARENA_MAX: _, ...inherited } = process.env
  const child = spawn(process.execPath, [LAUNCHER, '--version'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, ...env, NODE_OPTIONS: `--import=${PROBE} ${nodeOptions}`, SLUICE_PROBE_OUT: out },
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk))
  const code = await new Promise<number | null>((done) => child.once('exit', done))
  assert.equal(code, 0, output)
  assert.match(output, /\d+\.\d+\.\d+/)
  return { pid: child.pid!, report: JSON.parse(readFileSync(out, 'utf8')) as ProbeReport }
}

describe('the launcher (bin/sluice.js)', () => {
  it('re-executes Node in place with the heap flags', async () => {
    const { pid, report } = await launch('default', '')
    assert.equal(report.pid, pid, 'the same process, not a child')
    const semi = `--max-semi-space-size=${semiSpaceMib(cgroupMemoryLimit())}`
    assert.ok(report.execArgv.includes(semi), report.execArgv.join(' '))
    assert.ok(report.execArgv.includes('--no-allocation-site-pretenuring'), report.execArgv.join(' '))
    assert.equal(report.mallocArenaMax, '2')
  })

  it('re-executes for the malloc setting alone, and keeps a MALLOC_ARENA_MAX the user set', async () => {
    const heapSet = await launch('malloc', '--max-semi-space-size=8')
    assert.equal(heapSet.report.pid, heapSet.pid)
    assert.equal(heapSet.report.mallocArenaMax, '2')
    const { report } = await launch('malloc-user', '', { MALLOC_ARENA_MAX: '4' })
    assert.equal(report.mallocArenaMax, '4')
  })

  it('respects heap sizes set in NODE_OPTIONS', async () => {
    const { report } = await launch('user', '--max-old-space-size=300 --max-semi-space-size=8')
    assert.deepEqual(
      report.execArgv.filter((a) => a.startsWith('--max-')),
      [],
    )
    // V8's limit is the old generation plus the young one (three semi-spaces).
    assert.equal(report.heapSizeLimit, (300 + 3 * 8) * MIB)
  })
})
