/** CPU seconds (user + system) a process tree has used, from /proc/<pid>/stat (Linux only). */
import { readFileSync } from 'node:fs'
import { processTree } from './rss.ts'

/** Clock ticks per second of /proc's utime/stime: USER_HZ, 100 on every mainstream Linux build. */
const USER_HZ = 100

function ownCpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return 0
  }
}

/** CPU seconds used so far by `pid` and its live descendants (reaped children are not counted). */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0
  for (const p of processTree(pid)) ticks += ownCpuTicks(p)
  return ticks / USER_HZ
}
