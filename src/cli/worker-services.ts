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
import { createKafkaGroupClient } from '../log/kafka/group-client.ts'
import { workerKafkaOptions } from '../log/kafka/worker-client-options.ts'
import type { Log } from '../log/log.ts'
import { startRestProxyServer } from '../rest/rest-proxy-server.ts'
import { startSchemaRegistryServer } from '../rest/schema-registry-server.ts'
import { parseServiceListener, type ServiceServer } from '../rest/service-server.ts'
import { RestProxy } from '../services/rest-proxy/rest-proxy.ts'
import type { CompatibilityLevel } from '../services/schema-registry/compatibility.ts'
import { GroupWriterElection, SR_PROTOCOL_TYPE } from '../services/schema-registry/leader-election.ts'
import { SchemaRegistry } from '../services/schema-registry/schema-registry.ts'

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
  const registryListener = config.getList('schema.registry.listeners')[0]
  const proxyListener = config.getList('rest.proxy.listeners')[0]
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
        ? parseServiceListener('schema.registry.listeners', registryListener)
        : undefined
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
            `http://${config.getOptionalString('rest.advertised.host.name') || listenHost}:${registryServer?.port ?? 0}`,
        )
        const started = election
        steps.push(() => started.stop())
        await election.start({
          version: 1,
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: Number(url.port || 80),
          scheme: 'http',
          // Without a listener other workers could not forward writes here.
          leader_eligibility:
            registryServer !== undefined && config.getBoolean('schema.registry.leader.eligibility'),
        })
      }
    }
    let proxy: RestProxy | undefined
    let proxyServer: ServiceServer | undefined
    if (proxyListener) {
      const listener = parseServiceListener('rest.proxy.listeners', proxyListener)
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
      proxyServer = await startRestProxyServer({ proxy, host: listener.host, port: listener.port, logger })
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
