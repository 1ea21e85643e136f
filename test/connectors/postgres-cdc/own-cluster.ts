/**
 * A throwaway PostgreSQL cluster of the test's own (never the shared one), for tests that restart
 * the server: initdb into a temp dir, wal_level=logical, trust auth, a free port. Runs the server as
 * the `postgres` system user when we are root (PostgreSQL refuses root).
 */
import { spawn, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const isRoot = process.getuid?.() === 0

function binDir(): string | null {
  if (process.env.SLUICE_PG_BIN) return process.env.SLUICE_PG_BIN
  const base = '/usr/lib/postgresql'
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions[0] !== undefined) return join(base, versions[0], 'bin')
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' })
  return which.status === 0 && which.stdout.trim() !== '' ? resolve(which.stdout.trim(), '..') : null
}

/** Why the own-cluster tests cannot run here, or false. */
export function ownClusterSkipReason(): string | false {
  if (process.env.CI === 'true') return false
  return binDir() === null
    ? 'no initdb/pg_ctl on this machine (install postgresql or set SLUICE_PG_BIN)'
    : false
}

function run(tool: string, args: string[]): void {
  const executable = join(binDir()!, tool)
  const [command, commandArgs] = isRoot
    ? ['runuser', ['-u', 'postgres', '--', executable, ...args]]
    : [executable, args]
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', timeout: 120_000, cwd: '/' })
  if (result.status !== 0) {
    throw new Error(
      `${tool} ${args.join(' ')} failed: ${result.stdout ?? ''}${result.stderr ?? ''}${result.error ?? ''}`,
    )
  }
}

function chownToPostgres(path: string): void {
  if (!isRoot) return
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim())
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim())
  chownSync(path, uid, gid)
}

async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolvePort(port))
    })
  })
}

export interface OwnCluster {
  port: number
  url: string
  /** Fast restart, asynchronously: the caller's event loop keeps serving the replication stream. */
  restart(): Promise<void>
  destroy(): void
}

export async function startOwnCluster(options: { walLevel?: string } = {}): Promise<OwnCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-own-pg-'))
  chownToPostgres(dir)
  const data = join(dir, 'data')
  const logFile = join(dir, 'postgres.log')
  const port = await freePort()
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'])
  writeFileSync(
    join(data, 'postgresql.auto.conf'),
    [
      `wal_level = '${options.walLevel ?? 'logical'}'`,
      'max_wal_senders = 5',
      'max_replication_slots = 5',
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      "shared_buffers = '32MB'",
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(data, 'pg_hba.conf'),
    'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n',
  )
  chownToPostgres(join(data, 'postgresql.auto.conf'))
  chownToPostgres(join(data, 'pg_hba.conf'))
  writeFileSync(logFile, '')
  chownToPostgres(logFile)
  run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start'])
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart() {
      const executable = join(binDir()!, 'pg_ctl')
      const args = ['-D', data, '-m', 'fast', '-w', '-t', '90', 'restart', '-l', logFile]
      const child = isRoot
        ? spawn('runuser', ['-u', 'postgres', '--', executable, ...args], { cwd: '/', stdio: 'ignore' })
        : spawn(executable, args, { cwd: '/', stdio: 'ignore' })
      return new Promise((resolveRestart, reject) => {
        child.once('error', reject)
        child.once('exit', (code) =>
          code === 0 ? resolveRestart() : reject(new Error(`pg_ctl restart exited ${code}`)),
        )
      })
    },
    destroy() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } catch {
        // already down
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
