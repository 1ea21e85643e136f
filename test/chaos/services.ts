/**
 * Services of a chaos test's own, which it may crash and restart (the shared ones are never
 * restarted): a Kafka broker, a 3-node Kafka cluster with a SASL_SSL listener, and a PostgreSQL
 * cluster, on free ports with temp dirs; and a network blip that cuts one process's TCP connections
 * to a port (`ss -K`, root only).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KafkaBroker, type KafkaBrokerOptions } from '../../scripts/kafka.ts'
import { PostgresCluster } from '../../scripts/postgres.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'

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
 * `listeners`: more listeners advertised at other addresses (a proxy's), see `KafkaBrokerOptions`;
 * `features`: feature levels to format it with, e.g. `{ 'transaction.version': 1 }`.
 */
export async function ownBroker(
  options: Pick<KafkaBrokerOptions, 'listeners' | 'features'> = {},
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
    ...options,
  })
  return Object.assign(broker, {
    async destroy() {
      await broker.stop('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  })
}

export interface SecureCluster {
  readonly nodes: KafkaBroker[]
  /** Every node's PLAINTEXT listener (the test's own checks and admin calls). */
  readonly plaintext: string
  /** Every node's SASL_SSL listener. */
  readonly secure: string
  /** Worker properties for the SASL_SSL listener: SCRAM-SHA-512 and the cluster's certificate. */
  readonly clientProperties: Record<string, string>
  /** Stops every node and deletes their data (unless `keep`: a failed test's logs). */
  destroy(keep?: boolean): Promise<void>
}

/**
 * `size` KRaft nodes (broker+controller each, a 3-voter quorum for 3 nodes) keeping their data across
 * restarts, replication factor `size` and `min.insync.replicas` `size - 1` for the internal topics,
 * each with a SASL_SSL listener (SCRAM-SHA-512 user `connect`, a self-signed certificate for
 * 127.0.0.1) for the workers. Preferred leaders are restored every 5 s, so a restarted node takes its
 * partitions back: a restart is two leader changes.
 */
export async function ownSecureCluster(size = 3): Promise<SecureCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chaos-cluster-'))
  const cert = selfSignedCertificate(dir, 'broker')
  const users = { connect: 'connect-secret' }
  const ports = []
  for (let i = 0; i < size; i++)
    ports.push({ plain: await freePort(), controller: await freePort(), secure: await freePort() })
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controller}`).join(',')
  const clusterId = randomBytes(16).toString('base64url')
  const nodes = ports.map(
    (p, i) =>
      new KafkaBroker({
        port: p.plain,
        controllerPort: p.controller,
        stateDir: join(dir, `node-${i + 1}`),
        keepData: true,
        heap: '320m',
        // A test cluster: C1 only and a serial GC start the JVM with less CPU (3 nodes on 2 cores).
        jvmOptions: ['-XX:TieredStopAtLevel=1', '-XX:-UseG1GC', '-XX:+UseSerialGC'],
        startTimeoutMs: 180_000,
        cluster: { nodeId: i + 1, voters, clusterId, replicationFactor: size },
        saslSsl: { port: p.secure, keystore: cert.keystore, users },
        properties: {
          'leader.imbalance.check.interval.seconds': '5',
          // A stopped node leaves the quorum's view fast, so leaders move soon after a kill -9.
          'broker.session.timeout.ms': '4000',
          'broker.heartbeat.interval.ms': '1000',
        },
      }),
  )
  const cluster: SecureCluster = {
    nodes,
    plaintext: nodes.map((n) => n.bootstrap).join(','),
    secure: nodes.map((n) => n.secureBootstrap).join(','),
    clientProperties: {
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="${users.connect}";`,
      'ssl.truststore.location': cert.certFile,
    },
    async destroy(keep = false) {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')))
      if (!keep) rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    // Together: each node answers only once the quorum has a majority.
    await Promise.all(nodes.map((n) => n.start()))
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')))
    throw error
  }
  return cluster
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
