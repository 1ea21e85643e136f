/**
 * Boots a distributed worker — Kafka Connect's `connect-distributed worker.properties`: the Kafka
 * log, the internal topics (created or checked), the config/offset/status stores read to their
 * end, the worker, the `connect` group membership, the distributed herder and the REST API.
 */

import { createLogger, type Logger } from '../common/logger.ts'
import type { DistributedConfig } from '../config/distributed-config.ts'
import { CONNECT_PROTOCOL_TYPE } from '../herder/distributed/connect-protocol.ts'
import { DistributedHerder } from '../herder/distributed/distributed-herder.ts'
import { Loggers } from '../herder/loggers.ts'
import { createKafkaGroupClient } from '../log/kafka/group-client.ts'
import { createKafkaLog } from '../log/kafka/kafka-log.ts'
import { workerKafkaOptions } from '../log/kafka/worker-client-options.ts'
import type { Log } from '../log/log.ts'
import { builtInPlugins } from '../plugins/built-ins.ts'
import { loadPluginPath } from '../plugins/plugin-loader.ts'
import { type RestServer, restServerSettings, startRestServer } from '../rest/rest-server.ts'
import { ConfigProviders } from '../runtime/config-transformer.ts'
import { Worker } from '../runtime/worker.ts'
import { checkWorkerPlugins } from '../runtime/worker-plugins.ts'
import { ensureInternalTopics } from '../storage/kafka/internal-topics.ts'
import { KafkaConfigStore } from '../storage/kafka/kafka-config-store.ts'
import { KafkaOffsetStore } from '../storage/kafka/kafka-offset-store.ts'
import { KafkaStatusStore } from '../storage/kafka/kafka-status-store.ts'
import { withTelemetry } from '../telemetry/otlp-exporter.ts'
import { VERSION } from '../version.ts'
import { startWorkerServices, type WorkerServices } from './worker-services.ts'

/** Where task threads start (cli/task-thread.ts), named rather than imported: a worker without them does not load it. */
const taskThreadEntry = new URL(
  import.meta.url.endsWith('.ts') ? './task-thread.ts' : './task-thread.js',
  import.meta.url,
)

export interface DistributedWorker {
  readonly herder: DistributedHerder
  readonly rest: RestServer
  readonly log: Log
  readonly logger: Logger
  /** The schema registry and REST proxy, when their listeners are set. */
  readonly services: WorkerServices
  stop(): Promise<void>
}

export async function startDistributed(
  config: DistributedConfig,
  options: { prettyLogs?: boolean } = {},
): Promise<DistributedWorker> {
  const logger = createLogger({ level: config.getString('log.level'), pretty: options.prettyLogs })
  const plugins = builtInPlugins()
  await loadPluginPath(config.getList('plugin.path'), plugins)
  checkWorkerPlugins(config, plugins)
  const providers = await ConfigProviders.fromWorkerConfig(config.originals(), plugins)
  const groupId = config.groupId
  const clientId = `sluice-${groupId}-${process.pid}`
  const bootstrapServers = config.getList('bootstrap.servers')
  // Sink tasks' consumers take `consumer.*` group timings (a dead worker's sink consumers hold their
  // partitions until their own session times out).
  const consumerSetting = (key: string): number | undefined => {
    const value = config.originals()[`consumer.${key}`]
    return value === undefined ? undefined : Number(value)
  }
  const clientOptions = workerKafkaOptions(config)
  const log = createKafkaLog({
    bootstrapServers,
    clientId,
    ...clientOptions,
    consumer: {
      sessionTimeoutMs: consumerSetting('session.timeout.ms'),
      heartbeatIntervalMs: consumerSetting('heartbeat.interval.ms'),
    },
  })
  const otel = withTelemetry<DistributedWorker>(process.env, logger, VERSION)
  const cleanup: (() => Promise<unknown>)[] = [() => log.close(), () => providers.close()]
  const telemetry = otel.telemetry
  if (telemetry) cleanup.push(() => telemetry.stop())
  try {
    await ensureInternalTopics(log, {
      configTopic: config.getString('config.storage.topic'),
      offsetTopic: config.getString('offset.storage.topic'),
      statusTopic: config.getString('status.storage.topic'),
      configReplicationFactor: config.getInt('config.storage.replication.factor'),
      offsetPartitions: config.getInt('offset.storage.partitions'),
      offsetReplicationFactor: config.getInt('offset.storage.replication.factor'),
      statusPartitions: config.getInt('status.storage.partitions'),
      statusReplicationFactor: config.getInt('status.storage.replication.factor'),
    })
    let herder: DistributedHerder | undefined
    const configStore = new KafkaConfigStore(log, config.getString('config.storage.topic'), clientId, logger)
    const offsetStore = new KafkaOffsetStore(log, config.getString('offset.storage.topic'), clientId, logger)
    const statusStore = new KafkaStatusStore(
      log,
      config.getString('status.storage.topic'),
      clientId,
      logger,
      () => herder?.generationId ?? -1,
    )
    statusStore.configured = (name) => configStore.connectorConfig(name) !== undefined
    cleanup.unshift(
      () => configStore.stop(),
      () => offsetStore.close(),
      () => statusStore.stop(),
    )
    await Promise.all([configStore.start(), offsetStore.start(), statusStore.start()])
    const worker = new Worker({
      config,
      log,
      plugins,
      offsetStore,
      statusListener: statusStore,
      logger,
      workerId: config.workerId(),
      configProviders: providers,
      taskThreadEntry,
    })
    const group = createKafkaGroupClient({
      bootstrapServers,
      clientId,
      ...(clientOptions.tls ? { tls: clientOptions.tls } : {}),
      ...(clientOptions.sasl ? { sasl: clientOptions.sasl } : {}),
      groupId,
      protocolType: CONNECT_PROTOCOL_TYPE,
      sessionTimeoutMs: config.getInt('session.timeout.ms'),
      rebalanceTimeoutMs: config.getInt('rebalance.timeout.ms'),
      heartbeatIntervalMs: config.getInt('heartbeat.interval.ms'),
    })
    cleanup.push(() => group.close())
    const restSettings = restServerSettings(config)
    herder = new DistributedHerder({
      config,
      worker,
      configStore,
      statusStore,
      membership: group.membership,
      logger,
      tls: restSettings.tls,
    })
    let services: WorkerServices | undefined
    const rest = await startRestServer({
      ...restSettings,
      herder,
      logger,
      loggers: new Loggers(logger),
      version: VERSION,
      schemaRegistry: () => services?.registry,
    })
    cleanup.unshift(() => rest.close())
    worker.workerId = config.workerId(rest.port)
    herder.url = config.advertisedUrl(rest.port)
    const started = herder
    cleanup.splice(1, 0, () => started.stop())
    // Before the connectors start: their converters may use the worker's schema registry.
    const workerServices = await startWorkerServices({ config, log, logger, clientId, distributed: true })
    services = workerServices
    cleanup.splice(2, 0, () => workerServices.stop())
    await herder.start()
    logger.info(
      `Sluice ${VERSION} distributed worker ${worker.workerId} ready in group '${groupId}' on ${rest.url}`,
    )
    let stopping: Promise<void> | undefined
    return {
      herder,
      rest,
      log,
      logger,
      services,
      stop() {
        stopping ??= (async () => {
          for (const step of cleanup) await step().catch(() => {})
        })()
        return stopping
      },
    }
  } catch (error) {
    for (const step of cleanup) await step().catch(() => {})
    throw error
  }
}
