/**
 * Boots a standalone worker — Kafka Connect's `connect-standalone worker.properties [connector…]`:
 * the log (Kafka, or embedded when no `bootstrap.servers`), local config and offset stores under
 * the data dir, the worker, the herder and the REST API. Connector files given on the command line
 * are created (or updated) after the stored connectors are resumed.
 */
import { join } from 'node:path'
import type { Props } from '../api/connector.ts'
import { ConfigError } from '../api/errors.ts'
import { reserveWorkerPath } from '../api/worker-files.ts'
import { createLogger, type Logger } from '../common/logger.ts'
import { readConfigFile } from '../config/config-file.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import { Loggers } from '../herder/loggers.ts'
import { StandaloneHerder } from '../herder/standalone/standalone-herder.ts'
import { createLog } from '../log/create-log.ts'
import type { Log } from '../log/log.ts'
import { builtInPlugins } from '../plugins/built-ins.ts'
import { loadPluginPath } from '../plugins/plugin-loader.ts'
import type { PluginRegistry } from '../plugins/plugin-registry.ts'
import { type RestServer, restServerSettings, startRestServer } from '../rest/rest-server.ts'
import { ConfigProviders } from '../runtime/config-transformer.ts'
import { invalidConfigMessage, validateConnectorConfig } from '../runtime/config-validation.ts'
import { Worker } from '../runtime/worker.ts'
import { checkWorkerPlugins } from '../runtime/worker-plugins.ts'
import { FileConfigStore } from '../storage/local/file-config-store.ts'
import { FileOffsetStore } from '../storage/local/file-offset-store.ts'
import { ensurePrivateDir } from '../storage/local/json-file.ts'
import { openLogOffsetStore } from '../storage/local/log-offset-store.ts'
import { MemoryStatusStore } from '../storage/memory-status-store.ts'
import { withTelemetry } from '../telemetry/otlp-exporter.ts'
import { VERSION } from '../version.ts'
import type { WorkerServices } from './worker-services.ts'

/** Where task threads start (cli/task-thread.ts), named rather than imported: a worker without them does not load it. */
const taskThreadEntry = new URL(
  import.meta.url.endsWith('.ts') ? './task-thread.ts' : './task-thread.js',
  import.meta.url,
)

export interface StandaloneWorker {
  readonly herder: StandaloneHerder
  readonly rest: RestServer
  readonly log: Log
  readonly logger: Logger
  /** The schema registry and REST proxy, when their listeners are set. */
  readonly services: WorkerServices
  stop(): Promise<void>
}

export async function startStandalone(
  config: WorkerConfig,
  connectorFiles: string[] = [],
  options: { prettyLogs?: boolean } = {},
): Promise<StandaloneWorker> {
  const logger = createLogger({ level: config.getString('log.level'), pretty: options.prettyLogs })
  const plugins = builtInPlugins()
  await loadPluginPath(config.getList('plugin.path'), plugins)
  checkWorkerPlugins(config, plugins)
  const providers = await ConfigProviders.fromWorkerConfig(config.originals(), plugins)
  // The worker's own files are off limits to FileStream connectors (validated below and over REST).
  const releasePaths = [
    reserveWorkerPath(config.dataDir, 'sluice.data.dir'),
    reserveWorkerPath(config.offsetsFile, 'offset.storage.file.filename'),
  ]
  const otel = withTelemetry<StandaloneWorker>(process.env, logger, VERSION)
  try {
    return otel.wrap(await startWith(config, plugins, providers, connectorFiles, logger, releasePaths))
  } catch (error) {
    for (const release of releasePaths) release()
    await providers.close()
    await otel.telemetry?.stop()
    throw error
  }
}

async function startWith(
  config: WorkerConfig,
  plugins: PluginRegistry,
  providers: ConfigProviders,
  connectorFiles: string[],
  logger: Logger,
  releasePaths: (() => void)[],
): Promise<StandaloneWorker> {
  const connectorConfigs = connectorFiles.map(readConnectorFile)
  // Bad connector files fail here, before any state is opened.
  for (const props of connectorConfigs) {
    const infos = await validateConnectorConfig(props, plugins, providers, {
      exactlyOnceSource: config.exactlyOnceSource === 'enabled',
    })
    if (infos.error_count > 0)
      throw new ConfigError(undefined, `${props.name}: ${invalidConfigMessage(infos)}`)
  }
  const restSettings = restServerSettings(config)
  const loggers = new Loggers(logger)
  ensurePrivateDir(config.dataDir)
  const log = await createLog(config, `sluice-${process.pid}`)
  // On the embedded log the offsets live in the log, so a source task's records and offsets commit
  // together (decision 0032); standalone on Kafka keeps them in the file, as Kafka Connect does.
  const offsetStore =
    log.kind === 'embedded'
      ? await openLogOffsetStore(log, config.offsetsFile, logger)
      : await FileOffsetStore.open(config.offsetsFile)
  const statusStore = new MemoryStatusStore()
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
  const herder = new StandaloneHerder({
    worker,
    configStore: new FileConfigStore(join(config.dataDir, 'connectors.json')),
    statusStore,
    logger,
  })
  let services: WorkerServices | undefined
  const rest = await startRestServer({
    ...restSettings,
    herder,
    logger,
    loggers,
    version: VERSION,
    schemaRegistry: () => services?.registry,
  })
  // With `listeners=http://:0` the port is known only now; nothing has reported a status yet.
  worker.workerId = config.workerId(rest.port)
  // Before the connectors start: their converters may use the worker's schema registry.
  try {
    services = await startServices(config, { config, log, logger, clientId: `sluice-${process.pid}` })
  } catch (error) {
    await rest.close()
    await offsetStore.close()
    await log.close()
    throw error
  }
  await herder.start()
  for (const props of connectorConfigs) {
    const name = props.name
    // Resumed from the data dir with the same config: restarting it would only stop and start it again.
    if (sameProps(storedConfig(herder, name), { ...props, name })) continue
    await herder.putConnectorConfig(name, props, { allowReplace: true })
  }
  logger.info(`Sluice ${VERSION} standalone worker ready on ${rest.url} (log: ${log.kind})`)
  let stopping: Promise<void> | undefined
  return {
    herder,
    rest,
    log,
    logger,
    services,
    stop() {
      stopping ??= (async () => {
        await rest.close()
        await herder.stop()
        await services.stop()
        await offsetStore.close()
        await log.close()
        await providers.close()
        for (const release of releasePaths) release()
      })()
      return stopping
    },
  }
}

/**
 * The schema registry and REST proxy, imported only when a listener is set: they bring the Kafka
 * client, ajv and avsc, which an idle worker without them does not need in memory.
 */
async function startServices(
  config: WorkerConfig,
  options: Parameters<typeof import('./worker-services.ts').startWorkerServices>[0],
): Promise<WorkerServices> {
  if (!config.getList('schema.registry.listeners')[0] && !config.getList('rest.proxy.listeners')[0])
    return NO_SERVICES
  const { startWorkerServices } = await import('./worker-services.ts')
  return await startWorkerServices(options)
}

const NO_SERVICES: WorkerServices = {
  registry: undefined,
  registryServer: undefined,
  proxy: undefined,
  proxyServer: undefined,
  stop: async () => {},
}

/** A connector file: `.properties` as connect-standalone takes, or JSON (`{"name","config"}` or a flat map). */
export function readConnectorFile(file: string): Props {
  const props = readConfigFile(file, 'connector config')
  if (!props.name) throw new ConfigError('name', `${file} has no 'name': every connector needs a unique name`)
  if (!props['connector.class']) {
    throw new ConfigError(
      'connector.class',
      `${file} has no 'connector.class': name the connector to run, e.g. FileStreamSource`,
    )
  }
  return props
}

function storedConfig(herder: StandaloneHerder, name: string): Record<string, string> | null {
  try {
    return herder.connectorConfig(name)
  } catch {
    return null
  }
}

function sameProps(a: Record<string, string> | null, b: Record<string, string>): boolean {
  if (!a) return false
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k])
}
