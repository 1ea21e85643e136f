/**
 * One process at a time owns an embedded log's data directory.
 *
 * The lock itself is SQLite's: the database runs in `locking_mode=EXCLUSIVE`, and the first write
 * takes an OS file lock that the connection holds until it closes. The kernel drops that lock when the
 * process dies (even by kill -9), so liveness needs no checking and a reused pid cannot fool it.
 * Beside it, an `owner.pid` file names the holder, only so the error can say who has the directory.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { ConnectError } from '../../api/errors.ts'

const OWNER_FILE = 'owner.pid'

export interface DataDirLock {
  release(): void
}

/**
 * Takes the exclusive lock on `db` (opened on a file in `dir`, with no busy timeout) or throws a
 * `ConnectError` naming the directory and the process holding it.
 */
export function lockDataDir(db: DatabaseSync, dir: string): DataDirLock {
  try {
    db.exec('PRAGMA locking_mode=EXCLUSIVE')
    db.exec('PRAGMA journal_mode=WAL')
    // A write transaction takes the exclusive lock; in EXCLUSIVE mode it is kept after COMMIT.
    db.exec('BEGIN IMMEDIATE; COMMIT')
  } catch (error) {
    if (!isBusy(error)) throw error
    const owner = liveOwner(dir)
    const who = owner === undefined ? 'another process' : `process ${owner}`
    throw new ConnectError(
      'CONFLICT',
      `The embedded log directory ${dir} is in use by ${who}${owner === process.pid ? ' (this one)' : ''}: ` +
        'stop that worker, or give this one its own data directory.',
      { cause: error, retriable: false },
    )
  }
  const ownerFile = join(dir, OWNER_FILE)
  writeFileSync(ownerFile, `${process.pid}\n`)
  return {
    release() {
      rmSync(ownerFile, { force: true })
    },
  }
}

function isBusy(error: unknown): boolean {
  const errcode = (error as { errcode?: number }).errcode
  // SQLITE_BUSY (5) and SQLITE_LOCKED (6), including their extended codes.
  return errcode !== undefined && ((errcode & 0xff) === 5 || (errcode & 0xff) === 6)
}

function liveOwner(dir: string): number | undefined {
  let pid: number
  try {
    pid = Number.parseInt(readFileSync(join(dir, OWNER_FILE), 'utf8'), 10)
  } catch {
    return undefined
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined
  }
}
