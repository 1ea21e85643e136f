#!/usr/bin/env node
/**
 * The `sluice` command. `sluice connectors|plugins|status` manage a running worker over REST
 * (see manage.ts); `sluice standalone worker.properties [connector.properties|.json …]` runs a
 * worker like Kafka Connect's `connect-standalone`; `sluice distributed worker.properties` joins a
 * cluster of workers like `connect-distributed`; `sluice demo` runs a small pipeline on the
 * embedded log (what `npm start` does).
 *
 * A worker command with only file arguments starts the worker directly; anything else (options,
 * help, other commands, a usage error) goes through the parser in program.ts, imported only then.
 */
import { ConnectError, errorMessage } from '../api/errors.ts'
import { exitAfterLogs } from '../common/logger.ts'
import { WorkerConfig, workerProps } from '../config/worker-config.ts'
import type { WorkerCommands } from './program.ts'
import type { StandaloneWorker } from './standalone.ts'
import { resolveWorkerProps } from './worker-config-providers.ts'

const workers: WorkerCommands = {
  async standalone(workerFile, connectorFiles) {
    const { startStandalone } = await import('./standalone.ts')
    const config = new WorkerConfig(await resolveWorkerProps(workerProps(workerFile)))
    const worker = await startStandalone(config, connectorFiles, { prettyLogs: process.stderr.isTTY })
    stopOnSignals(worker)
  },
  async distributed(workerFile) {
    const { DistributedConfig, distributedWorkerProps } = await import('../config/distributed-config.ts')
    const { startDistributed } = await import('./distributed.ts')
    const config = new DistributedConfig(await resolveWorkerProps(distributedWorkerProps(workerFile)))
    const worker = await startDistributed(config, { prettyLogs: process.stderr.isTTY })
    stopOnSignals(worker)
  },
  async demo(options) {
    const { runDemo } = await import('./demo.ts')
    stopOnSignals(await runDemo(options))
  },
}

function stopOnSignals(worker: Pick<StandaloneWorker, 'logger' | 'stop'>): void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      process.exit(130)
    }
    stopping = true
    worker.logger.info(`${signal}: stopping (tasks flush and commit their offsets)`)
    worker.stop().then(
      () => exitAfterLogs(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${errorMessage(error)}\n`)
        exitAfterLogs(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

/** File arguments only: no option, no `--`, no `-` (what the parser would treat as more than a file). */
const [command, ...args] = process.argv.slice(2)
const filesOnly = args.every((arg) => !arg.startsWith('-'))
try {
  if (command === 'standalone' && filesOnly) await workers.standalone(args[0], args.slice(1))
  else if (command === 'distributed' && filesOnly && args.length === 1) await workers.distributed(args[0]!)
  else await (await import('./program.ts')).parseCommandLine(process.argv, workers)
} catch (error) {
  const key = error instanceof ConnectError && error.key ? ` [${error.key}]` : ''
  process.stderr.write(`sluice: ${errorMessage(error)}${key}\n`)
  exitAfterLogs(error instanceof ConnectError && error.code === 'CONFIG' ? 2 : 1)
}
