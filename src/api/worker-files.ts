/**
 * The files a worker keeps its own state in (a standalone worker's `sluice.data.dir` and offsets
 * file). Connectors that read or write a path from their config (FileStream) refuse these at
 * validation: a sink appending to `connectors.json` or the embedded log would leave a worker that
 * cannot start again, and a source reading them would copy stored passwords into a topic. Workers
 * reserve their paths while they run; connectors only ask.
 */
import { existsSync, realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'

const reserved = new Map<string, { count: number; key: string }>()

/** The absolute path with symbolic links of its existing part resolved. */
function canonical(path: string): string {
  let existing = resolve(path)
  const rest: string[] = []
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(basename(existing))
    existing = dirname(existing)
  }
  try {
    existing = realpathSync(existing)
  } catch {
    // Unreadable: compare the path as given.
  }
  return join(existing, ...rest)
}

/**
 * Reserves a directory or file of the worker's own state, named by the worker config key that sets
 * it; returns the release.
 */
export function reserveWorkerPath(path: string, key: string): () => void {
  const at = canonical(path)
  const entry = reserved.get(at) ?? { count: 0, key }
  entry.count++
  reserved.set(at, entry)
  let released = false
  return () => {
    if (released) return
    released = true
    entry.count--
    if (entry.count === 0) reserved.delete(at)
  }
}

/** Why a connector may not use this path (it is, or is inside, a worker's own state), or nothing. */
export function workerPathProblem(path: string): string | undefined {
  const at = canonical(path)
  for (const [own, { key }] of reserved) {
    const rel = relative(own, at)
    const inside = rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
    if (inside) {
      return `${path} is the worker's own state (${key}=${own}); use a file outside it`
    }
  }
  return undefined
}
