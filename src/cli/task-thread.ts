/**
 * The module a task thread starts from (decision 0029): it builds what the thread's task runners
 * need — the worker config, the built-in plugins and those on `plugin.path` (loaded again in this
 * thread: `.ts` plugins too), a logger whose lines the main thread prints, and on Kafka its own log clients — then hosts tasks
 * (runtime/task-thread-host.ts). The main thread starts it with its worker's config keys.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { Logger } from '../common/logger.ts'
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
  // The thread's lines go to the main thread's logger as messages on the port the thread's task
  // messages use, not through the thread's own stderr: Node pipes that to the main thread
  // asynchronously, on a port of its own, so lines a task wrote just before its stop could arrive after
  // the main thread saw the task end, or be lost when it then terminated the thread. On one port they
  // arrive before the task's 'ended' and the thread's 'closed' (task-threads.ts).
  const logger = new Logger(
    (line) => port.postMessage({ t: 'log', line }),
    config.getString('log.level'),
  ).child({
    thread: data.index,
  })
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
