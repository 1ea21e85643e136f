/**
 * Which Sluice was measured: the commit and whether src/ had uncommitted changes (the working
 * tree is shared with other work in progress, so a number without this is hard to reproduce).
 */
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', '..')

export interface Revision {
  commit: string
  subject: string
  /** Paths under src/ that differ from the commit. */
  uncommittedSrc: string[]
}

export function sluiceRevision(): Revision {
  const git = (args: string[]): string =>
    spawnSync('git', args, { cwd: root, encoding: 'utf8', timeout: 10_000 }).stdout?.trim() ?? ''
  return {
    commit: git(['rev-parse', 'HEAD']),
    subject: git(['log', '-1', '--format=%s']),
    uncommittedSrc: git(['status', '--porcelain', '--', 'src'])
      .split('\n')
      .filter((line) => line !== ''),
  }
}
