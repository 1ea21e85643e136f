/**
 * V8's heap limits for a worker, chosen from the memory its container may use (decision 0028).
 *
 * Node sizes V8's old generation from the machine's (or cgroup's) memory but leaves a quarter of it
 * unused in a container, and its young generation grows to 3 × 64 MiB under allocation pressure
 * whatever the memory: RSS then follows what V8 lets accumulate, not what the worker holds. The
 * launcher (bin/sluice.js) re-executes Node once with the flags below, unless the user chose:
 *
 * - `--max-semi-space-size=32` always, 16 in a container of less than 1 GiB: records in flight
 *   survive fewer scavenges, and fewer are promoted to die in old space (decision 0042), while the
 *   young generation stays under 96 MiB (48 MiB in a small container);
 * - `--no-allocation-site-pretenuring` always (decision 0039): V8 otherwise starts allocating the
 *   objects of an allocation site straight in the old generation once most of them survive one
 *   scavenge, which records in flight through a pipeline do; they die soon after, but only a
 *   mark-compact frees them there, so the old generation filled with ~35–40 MiB of dead records;
 * - `--max-old-space-size` = 75 % of the container's memory limit, but at least 96 MiB less than
 *   the limit (Node itself, the young generation and buffers outside the heap live there), and at
 *   least 64 MiB; only when a limit is set (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`).
 *
 * A heap flag in NODE_OPTIONS or on Node's command line wins: the launcher then adds nothing of
 * that kind. The pure functions here are what the tests check; `launcherFlags` reads the machine.
 *
 * The environment gets `MALLOC_ARENA_MAX=2` unless the user set it (decision 0031): glibc gives
 * each thread that allocates (V8's platform workers, libuv's pool) an arena of its own, up to 8 per
 * core, and an idle worker kept ~2 MiB in them; musl ignores the variable.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const MIB = 1024 * 1024
/** Share of the container's memory given to V8's old generation. */
export const OLD_SPACE_SHARE = 0.75
/** Memory left outside the old generation, at least (Node, young generation, native buffers). */
export const NON_HEAP_RESERVE_MIB = 96
export const MIN_OLD_SPACE_MIB = 64
export const SEMI_SPACE_MIB = 32
/** Semi-spaces in a container of less than `SMALL_CONTAINER_MIB`, whose memory the young generation would crowd. */
export const SMALL_SEMI_SPACE_MIB = 16
export const SMALL_CONTAINER_MIB = 1024
/** Larger than any real limit: cgroup v1 writes ~2^63 for "no limit". */
const NO_LIMIT = 2 ** 60

/** `--max-old-space-size` (MiB) for a container limit in bytes. */
export function oldSpaceMib(limitBytes: number): number {
  const limitMib = Math.floor(limitBytes / MIB)
  return Math.max(
    MIN_OLD_SPACE_MIB,
    Math.min(Math.floor(limitMib * OLD_SPACE_SHARE), limitMib - NON_HEAP_RESERVE_MIB),
  )
}

/** `--max-semi-space-size` (MiB) for a container limit in bytes, or none. */
export function semiSpaceMib(limitBytes: number | undefined): number {
  return limitBytes !== undefined && limitBytes < SMALL_CONTAINER_MIB * MIB
    ? SMALL_SEMI_SPACE_MIB
    : SEMI_SPACE_MIB
}

/** The flag that stops V8 from allocating objects of "long-lived" allocation sites in the old generation. */
export const NO_PRETENURING = '--no-allocation-site-pretenuring'

/** Whether Node's options already set the heap's size (space 'old' or 'semi') or its pretenuring. */
function chosen(space: 'old' | 'semi' | 'pretenuring', options: readonly string[]): boolean {
  if (space === 'pretenuring')
    return options.some((o) => /^--(no-)?allocation-site-pretenuring$/.test(o.replaceAll('_', '-')))
  const prefix = space === 'old' ? '--max-old-space-size' : '--max-semi-space-size'
  return options.some((o) => o.replaceAll('_', '-').startsWith(prefix))
}

/**
 * The heap flags to add: none of a kind the user set in NODE_OPTIONS or on Node's command line
 * (`execArgv`); the old-space one only with a memory limit (bytes).
 */
export function heapFlags(input: {
  limitBytes: number | undefined
  nodeOptions: string | undefined
  execArgv: readonly string[]
}): string[] {
  const options = [...(input.nodeOptions ?? '').split(/\s+/).filter(Boolean), ...input.execArgv]
  const flags: string[] = []
  if (input.limitBytes !== undefined && !chosen('old', options))
    flags.push(`--max-old-space-size=${oldSpaceMib(input.limitBytes)}`)
  if (!chosen('semi', options)) flags.push(`--max-semi-space-size=${semiSpaceMib(input.limitBytes)}`)
  if (!chosen('pretenuring', options)) flags.push(NO_PRETENURING)
  return flags
}

/** A cgroup memory file's limit in bytes, or undefined for "max", no limit or no file. */
function limitIn(file: string): number | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch {
    return undefined
  }
  const bytes = Number(text)
  return text !== 'max' && Number.isFinite(bytes) && bytes > 0 && bytes < NO_LIMIT ? bytes : undefined
}

/**
 * The memory limit of this process's cgroup, in bytes (the smallest set on it or an ancestor):
 * cgroup v2 `memory.max`, else v1 `memory.limit_in_bytes`. `root` is `/` but for tests.
 */
export function cgroupMemoryLimit(root = '/'): number | undefined {
  let lines: string[]
  try {
    lines = readFileSync(join(root, 'proc/self/cgroup'), 'utf8').split('\n')
  } catch {
    return undefined
  }
  const limits: number[] = []
  const collect = (mount: string, path: string, file: string) => {
    // In a container the cgroup namespace makes `path` `/`; without one, it is the host's path,
    // and the mount may show either the whole tree or only this cgroup: try both.
    const parts = path.split('/').filter(Boolean)
    for (let n = parts.length; n >= 0; n--) {
      const limit = limitIn(join(root, mount, ...parts.slice(0, n), file))
      if (limit !== undefined) limits.push(limit)
    }
  }
  for (const line of lines) {
    const [, controllers, path] = line.split(':', 3)
    if (controllers === undefined || path === undefined) continue
    if (controllers === '') collect('sys/fs/cgroup', path, 'memory.max')
    else if (controllers.split(',').includes('memory'))
      collect('sys/fs/cgroup/memory', path, 'memory.limit_in_bytes')
  }
  return limits.length === 0 ? undefined : Math.min(...limits)
}

/** Arenas glibc's malloc may use, shared by all threads (its default is 8 per core). */
export const MALLOC_ARENAS = 2

/** The environment variables to add for Node: none the user set already. */
export function mallocEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return env.MALLOC_ARENA_MAX === undefined ? { MALLOC_ARENA_MAX: String(MALLOC_ARENAS) } : {}
}

/** The flags for this process, from its cgroup and its NODE_OPTIONS and command line. */
export function launcherFlags(): string[] {
  return heapFlags({
    limitBytes: cgroupMemoryLimit(),
    nodeOptions: process.env.NODE_OPTIONS,
    execArgv: process.execArgv,
  })
}
