/**
 * Services of a chaos test's own, which it may crash and restart (the shared ones are never
 * restarted): a Kafka broker and a PostgreSQL cluster on free ports with temp dirs, and a network
 * blip that cuts one process's TCP connections to a port (`ss -K`, root only).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KafkaBroker } from '../../scripts/kafka.ts'
import { PostgresCluster } from '../../scripts/postgres.ts'

export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolvePort(port))
    })
  })
}

/**
 * A broker of the test's own, keeping its data across restarts; `destroy()` stops it and deletes it.
 * `features`: feature levels to format it with, e.g. `{ 'transaction.version': 1 }`.
 */
export async function ownBroker(
  features?: Readonly<Record<string, number>>,
): Promise<KafkaBroker & { destroy(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chaos-kafka-'))
  const broker = new KafkaBroker({
    port: await freePort(),
    controllerPort: await freePort(),
    stateDir: dir,
    keepData: true,
    heap: '384m',
    // A JVM start on a busy 2-core machine has taken over 2 minutes.
    startTimeoutMs: 180_000,
    features,
  })
  return Object.assign(broker, {
    async destroy() {
      await broker.stop('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  })
}

/** A PostgreSQL cluster of the test's own (wal_level=logical), started. */
export async function ownPostgres(): Promise<PostgresCluster> {
  const cluster = new PostgresCluster({
    port: await freePort(),
    stateDir: mkdtempSync(join(tmpdir(), 'sluice-chaos-pg-')),
    keepData: false,
    settings: {
      max_wal_senders: '10',
      max_replication_slots: '10',
      max_connections: '100',
      shared_buffers: "'64MB'",
      // A killed worker's walsender holds the slot until the server notices the dead peer; not much
      // lower, or a busy machine's late keepalive replies cut live replication connections too.
      wal_sender_timeout: "'15s'",
    },
  })
  cluster.start()
  return cluster
}

export const canCutConnections = process.getuid?.() === 0

/**
 * Cuts every established TCP connection of process `pid` to 127.0.0.1:`port` (a network blip: the
 * peer stays up and the process must reconnect). Returns how many were cut.
 */
export function cutConnections(pid: number, port: number): number {
  const list = spawnSync('ss', ['-tnpH', 'state', 'established', 'dst', `127.0.0.1:${port}`], {
    encoding: 'utf8',
  })
  if (list.status !== 0) throw new Error(`ss failed: ${list.stderr}`)
  let cut = 0
  for (const line of list.stdout.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue
    const local = line.trim().split(/\s+/)[2] // Recv-Q Send-Q Local Peer Process
    const sport = local?.split(':').at(-1)
    if (!sport) continue
    const kill = spawnSync(
      'ss',
      ['-K', 'state', 'established', 'src', `127.0.0.1:${sport}`, 'dst', `127.0.0.1:${port}`],
      { encoding: 'utf8' },
    )
    if (kill.status !== 0) throw new Error(`ss -K failed (root needed): ${kill.stderr}`)
    cut++
  }
  return cut
}
