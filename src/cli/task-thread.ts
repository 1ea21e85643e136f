/**
 * The module a task thread starts from (decision 0029): it builds what the thread's task runners
 * need — the worker config, the built-in plugins and those on `plugin.path` (loaded again in this
 * thread: `.ts` plugins too), a logger, and on Kafka its own log clients — then hosts tasks
 * (runtime/task-thread-host.ts). The main thread starts it with its worker's config keys.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { createLogger } from '../common/logger.ts'
import { DistributedConfig } from '../config/distributed-config.ts'
import { WorkerConfig } from '../config/worker-config.ts'
import { createLog } from '../log/create-log.ts'
import { builtInPlugins } from '../plugins/built-ins.ts'
import { loadPluginPath } from '../plugins/plugin-loader.ts'
import { hostTaskThread } from '../runtime/task-thread-host.ts'

/** Where a Worker starts its task threads. */
export const taskThreadEntry = new URL(import.meta.url)

interface TaskThreadData {
  originals: Record<string, string>
  distributed: boolean
  index: number
}

async function main(port: NonNullable<typeof parentPort>, data: TaskThreadData): Promise<void> {
  const config = data.distributed ? new DistributedConfig(data.originals) : new WorkerConfig(data.originals)
  const logger = createLogger({ level: config.getString('log.level') }).child({ thread: data.index })
  const plugins = builtInPlugins()
  await loadPluginPath(config.getList('plugin.path'), plugins)
  hostTaskThread(port, {
    config,
    plugins,
    logger,
    openLog: config.embedded
      ? undefined
      : () => createLog(config, `sluice-${process.pid}-tasks-${data.index}`),
  })
}

if (!isMainThread && parentPort && (workerData as Partial<TaskThreadData> | undefined)?.originals) {
  await main(parentPort, workerData as TaskThreadData)
}
