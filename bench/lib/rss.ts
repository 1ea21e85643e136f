/**
 * Resident memory of a process and its descendants, read from /proc (Linux only).
 *
 * RSS is summed over the whole process tree, so a worker launched through a wrapper (or a JVM that
 * forks helpers) is charged for everything it runs. Shared pages are counted once per process, as
 * `ps` does; for the single-process workers measured here that is the plain VmRSS.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Kilobytes of a `VmRSS:`-style line in /proc/<pid>/status, or undefined when the process is gone. */
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)
  return match === null ? undefined : Number(match[1])
}

/** Parent pid from /proc/<pid>/stat; the command name may hold spaces and parentheses. */
function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[1])
  } catch {
    return undefined
  }
}

/** `root` and every live descendant of it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= 0) continue
    const ppid = parentPid(pid)
    if (ppid === undefined) continue
    const list = children.get(ppid)
    if (list === undefined) children.set(ppid, [pid])
    else list.push(pid)
  }
  const tree: number[] = []
  const stack = [root]
  while (stack.length > 0 && tree.length < 10_000) {
    const pid = stack.pop()!
    tree.push(pid)
    stack.push(...(children.get(pid) ?? []))
  }
  return tree
}

/** Current RSS of `pid` and its descendants in bytes; 0 when the process is gone. */
export function treeRssBytes(pid: number): number {
  let kb = 0
  for (const p of processTree(pid)) kb += statusKb(p, 'VmRSS') ?? 0
  return kb * 1024
}

/** The kernel's high-water mark (VmHWM) of `pid` alone, in bytes. */
export function peakRssBytes(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmHWM')
  return kb === undefined ? undefined : kb * 1024
}

/**
 * Samples a process tree's RSS on an interval. The peak is the largest tree sum seen, or the
 * root's own VmHWM when that is larger (it catches spikes between two samples).
 */
export class RssSampler {
  readonly #pid: number
  readonly #timer: NodeJS.Timeout
  #peak = 0
  #last = 0
  #samples = 0

  constructor(pid: number, intervalMs = 100) {
    this.#pid = pid
    this.#timer = setInterval(() => this.sample(), intervalMs)
    this.#timer.unref()
    this.sample()
  }

  sample(): number {
    const rss = treeRssBytes(this.#pid)
    if (rss > 0) {
      this.#last = rss
      this.#samples++
      this.#peak = Math.max(this.#peak, rss, peakRssBytes(this.#pid) ?? 0)
    }
    return rss
  }

  /** Stops sampling (take a last sample first, while the process still lives). */
  stop(): { peakBytes: number; lastBytes: number; samples: number } {
    clearInterval(this.#timer)
    return { peakBytes: this.#peak, lastBytes: this.#last, samples: this.#samples }
  }
}

export function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10
}
