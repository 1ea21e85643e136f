/**
 * The machine's MariaDB (or MySQL) server for tests and benchmarks: found on 127.0.0.1:3306 (root,
 * empty password), or started with the machine's `mariadbd` when it is installed but not running.
 * Tests make their own databases on it and drop them.
 *
 *   npx node scripts/mariadb.ts start|status
 *
 * Environment: SLUICE_MARIADB_URL (default mysql://root@127.0.0.1:3306) to use another server.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { portOpen } from './postgres.ts'

export function mariadbUrl(): string {
  return process.env.SLUICE_MARIADB_URL || 'mysql://root@127.0.0.1:3306'
}

function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 3306) }
}

const DAEMON = '/usr/sbin/mariadbd'

/** Resolves with the server's URL once it accepts connections; starts the machine's server if needed. */
export async function ensureMariadb(timeoutMs = 30_000): Promise<string> {
  const url = mariadbUrl()
  const { host, port } = hostPort(url)
  if (await portOpen(port, host)) return url
  if (process.env.SLUICE_MARIADB_URL || !existsSync(DAEMON)) {
    throw new Error(
      `no MariaDB/MySQL server answers on ${host}:${port}; start one (root, empty password) or set SLUICE_MARIADB_URL`,
    )
  }
  const started = spawnSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', DAEMON], {
    encoding: 'utf8',
  })
  if (started.status !== 0) throw new Error(`could not start ${DAEMON}: ${started.stderr || started.error}`)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await portOpen(port, host)) {
      process.stderr.write(`[mariadb] started the machine's server on ${host}:${port}\n`)
      return url
    }
    await sleep(250)
  }
  throw new Error(`started ${DAEMON} but nothing answers on ${host}:${port} after ${timeoutMs} ms`)
}

if (import.meta.main) {
  const command = process.argv[2] ?? 'status'
  if (command === 'start') process.stdout.write(`${await ensureMariadb()}\n`)
  else {
    const { host, port } = hostPort(mariadbUrl())
    process.stdout.write(`${(await portOpen(port, host)) ? 'running' : 'stopped'} ${mariadbUrl()}\n`)
  }
}
