/**
 * Starts the services a worker serves besides Kafka Connect's REST API, from its config: the
 * schema registry (`schema.registry.listeners`) and the REST proxy (`rest.proxy.listeners`). The
 * registry's store runs whenever either is on (the proxy's schema formats use it in process). In
 * distributed mode the registry's writer is elected through a Kafka group; otherwise this worker
 * writes. Stopped before the log is closed.
 */
import { hostname } from 'node:os'
import type { Logger } from '../common/logger.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import { interWorkerRequest } from '../herder/distributed/inter-worker-client.ts'
import { createKafkaGroupClient } from '../log/kafka/group-client.ts'
import { workerKafkaOptions } from '../log/kafka/worker-client-options.ts'
import type { Log } from '../log/log.ts'
import { startRestProxyServer } from '../rest/rest-proxy-server.ts'
import { startSchemaRegistryServer } from '../rest/schema-registry-server.ts'
import { type ServiceListener, serviceListener } from '../rest/service-security.ts'
import type { ServiceServer } from '../rest/service-server.ts'
import { RestProxy } from '../services/rest-proxy/rest-proxy.ts'
import type { CompatibilityLevel } from '../services/schema-registry/compatibility.ts'
import { GroupWriterElection, SR_PROTOCOL_TYPE } from '../services/schema-registry/leader-election.ts'
import { type LeaderTransport, SchemaRegistry } from '../services/schema-registry/schema-registry.ts'

export interface WorkerServices {
  readonly registry: SchemaRegistry | undefined
  readonly registryServer: ServiceServer | undefined
  readonly proxy: RestProxy | undefined
  readonly proxyServer: ServiceServer | undefined
  stop(): Promise<void>
}

export async function startWorkerServices(options: {
  config: WorkerConfig
  log: Log
  logger: Logger
  clientId: string
  /** Distributed mode (informational: any worker on Kafka with a registry listener elects its writer). */
  distributed?: boolean
}): Promise<WorkerServices> {
  const { config, log, logger, clientId } = options
  // Listeners, TLS and credentials are read before anything starts: bad settings fail the start.
  const registryListener = serviceListener(config, 'schema.registry.')
  const proxyListener = serviceListener(config, 'rest.proxy.')
  const steps: (() => Promise<unknown>)[] = []
  const stop = async () => {
    for (const step of [...steps].reverse())
      await step().catch((error) =>
        logger.warn({ err: (error as Error).message }, 'stopping a worker service failed'),
      )
  }
  try {
    let registry: SchemaRegistry | undefined
    let registryServer: ServiceServer | undefined
    let election: GroupWriterElection | undefined
    if (registryListener || proxyListener) {
      const listener = registryListener
      // On Kafka, several workers (distributed, or standalone ones pointed at the same topic) may
      // serve one registry: they elect its writer. A worker without a listener cannot be forwarded
      // to; on its own (a proxy-only standalone worker) it writes, otherwise it forwards.
      const topic = config.getString('schema.registry.topic')
      if (!config.embedded && (listener || options.distributed)) {
        const group = createKafkaGroupClient({
          bootstrapServers: config.getList('bootstrap.servers'),
          clientId: `${clientId}-schema-registry`,
          ...kafkaSecurity(config),
          groupId:
            config.getString('schema.registry.group.id') ||
            (topic === '_schemas' ? 'schema-registry' : `schema-registry-${topic}`),
          protocolType: SR_PROTOCOL_TYPE,
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 30_000,
          heartbeatIntervalMs: 3_000,
          onRejoinNeeded: () => election?.wake(),
        })
        steps.push(() => group.close())
        // The identity (the URL others forward to) is known once the listener is bound.
        election = new GroupWriterElection(group.membership, logger)
      }
      registry = new SchemaRegistry({
        log,
        clientId,
        logger,
        topic,
        replicationFactor: config.get('schema.registry.topic.replication.factor') as number,
        defaultCompatibility: config
          .getString('schema.registry.compatibility.level')
          .toUpperCase() as CompatibilityLevel,
        ...(election ? { election } : {}),
        sendToLeader: leaderTransport(registryListener),
      })
      await registry.start()
      const started = registry
      steps.push(() => started.stop())
      if (listener) {
        registryServer = await startSchemaRegistryServer({
          registry,
          host: listener.host,
          port: listener.port,
          logger,
          ...(listener.tls ? { tls: listener.tls } : {}),
          ...(listener.auth ? { auth: listener.auth } : {}),
        })
        const server = registryServer
        steps.push(() => server.close())
      }
      if (election) {
        // A wildcard listener is no address for others: the machine's host name stands in.
        const listenHost =
          listener && !['', '0.0.0.0', '::', '[::]'].includes(listener.host) ? listener.host : hostname()
        const url = new URL(
          config.getOptionalString('schema.registry.advertised.url') ||
            `${listener?.protocol ?? 'http'}://${config.getOptionalString('rest.advertised.host.name') || listenHost}:${registryServer?.port ?? 0}`,
        )
        const started = election
        steps.push(() => started.stop())
        await election.start({
          version: 1,
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
          scheme: url.protocol.replace(/:$/, ''),
          // Without a listener other workers could not forward writes here.
          leader_eligibility:
            registryServer !== undefined && config.getBoolean('schema.registry.leader.eligibility'),
        })
      }
    }
    let proxy: RestProxy | undefined
    let proxyServer: ServiceServer | undefined
    if (proxyListener) {
      const listener = proxyListener
      proxy = new RestProxy({
        log,
        registry,
        logger,
        clientId,
        autoCreateTopics: config.getBoolean('rest.proxy.auto.create.topics'),
        batchMaximumEntries: config.getInt('rest.proxy.batch.maximum.entries'),
      })
      await proxy.start()
      const started = proxy
      steps.push(() => started.stop())
      proxyServer = await startRestProxyServer({
        proxy,
        host: listener.host,
        port: listener.port,
        logger,
        ...(listener.tls ? { tls: listener.tls } : {}),
        ...(listener.auth ? { auth: listener.auth } : {}),
      })
      const server = proxyServer
      steps.push(() => server.close())
    }
    if (registryServer)
      logger.info(`schema registry ready on ${registryServer.url} (topic ${registry!.topic})`)
    if (proxyServer) logger.info(`REST proxy ready on ${proxyServer.url}`)
    return { registry, registryServer, proxy, proxyServer, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

function kafkaSecurity(config: WorkerConfig): Pick<ReturnType<typeof workerKafkaOptions>, 'tls' | 'sasl'> {
  const { tls, sasl } = workerKafkaOptions(config)
  return { ...(tls ? { tls } : {}), ...(sasl ? { sasl } : {}) }
}

/**
 * How this worker's registry sends in-process writes (the proxy's embedded schemas) to the writer:
 * over https with the registry listener's TLS settings, and, when the registry asks for basic
 * auth, as the first user of its credentials file with a plain password and an allowed role
 * (every instance of one registry reads the same users, as Confluent's instances share one JAAS file).
 */
function leaderTransport(listener: ServiceListener | undefined): LeaderTransport {
  const auth = listener?.auth
  const user = auth
    ? [...auth.users].find(
        ([, u]) =>
          !u.md5 && (auth.roles === 'any' || [...u.roles].some((r) => (auth.roles as Set<string>).has(r))),
      )
    : undefined
  const authorization = user
    ? `Basic ${Buffer.from(`${user[0]}:${user[1].password}`, 'utf8').toString('base64')}`
    : undefined
  return async (url, request) =>
    interWorkerRequest(url, {
      method: request.method,
      headers: { ...request.headers, ...(authorization ? { authorization } : {}) },
      body: request.body,
      timeoutMs: request.timeoutMs,
      ...(listener?.tls ? { tls: listener.tls } : {}),
    })
}
