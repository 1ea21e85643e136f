/** What the numbers were measured on, recorded next to them. */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism, totalmem } from 'node:os'

export interface MachineInfo {
  cpu: string
  cores: number
  memoryGiB: number
  os: string
  kernel: string
  node: string
  java: string
}

function firstMatch(text: string, pattern: RegExp): string | undefined {
  return pattern.exec(text)?.[1]?.trim()
}

export function machineInfo(): MachineInfo {
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8')
    } catch {
      return ''
    }
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' })
  return {
    cpu: firstMatch(read('/proc/cpuinfo'), /^model name\s*:\s*(.+)$/m) ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: firstMatch(read('/etc/os-release'), /^PRETTY_NAME="?([^"\n]+)"?$/m) ?? process.platform,
    kernel: read('/proc/sys/kernel/osrelease').trim(),
    node: process.version,
    java: `${java.stderr ?? ''}`.split('\n')[0]?.trim() || 'not found',
  }
}
