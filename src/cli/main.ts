#!/usr/bin/env node
/**
 * The `sluice` command. `sluice connectors|plugins|status` manage a running worker over REST
 * (see manage.ts); `sluice standalone worker.properties [connector.properties|.json …]` runs a
 * worker like Kafka Connect's `connect-standalone`; `sluice distributed worker.properties` joins a
 * cluster of workers like `connect-distributed`; `sluice demo` runs a small pipeline on the
 * embedded log (what `npm start` does).
 */
import { Command } from 'commander'
import { ConnectError, errorMessage } from '../api/errors.ts'
import { WorkerConfig, workerProps } from '../config/worker-config.ts'
import { VERSION } from '../version.ts'
import { runDemo } from './demo.ts'
import { exitCodeOf, globalOptionsLast, registerManageCommands } from './manage.ts'
import { type StandaloneWorker, startStandalone } from './standalone.ts'
import { resolveWorkerProps } from './worker-config-providers.ts'

const program = new Command()
  .name('sluice')
  .description('A Kafka Connect-compatible data integration runtime')
  .version(VERSION)

program
  .command('standalone')
  .description(
    'Run a standalone worker (like connect-standalone). Without bootstrap.servers it runs on the embedded log.',
  )
  .argument(
    '[worker-config]',
    'worker .properties file (keys of Kafka Connect; CONNECT_*/SLUICE_* env vars override)',
  )
  .argument('[connectors...]', 'connector configs to create or update: .properties or .json files')
  .action(async (workerFile: string | undefined, connectorFiles: string[]) => {
    const config = new WorkerConfig(await resolveWorkerProps(workerProps(workerFile)))
    const worker = await startStandalone(config, connectorFiles, { prettyLogs: process.stderr.isTTY })
    stopOnSignals(worker)
  })

program
  .command('distributed')
  .description(
    'Run a distributed worker (like connect-distributed): workers with the same group.id share connectors and tasks over Kafka',
  )
  .argument(
    '<worker-config>',
    'worker .properties file with group.id, bootstrap.servers and the *.storage.topic keys',
  )
  .action(async (workerFile: string) => {
    const { DistributedConfig, distributedWorkerProps } = await import('../config/distributed-config.ts')
    const { startDistributed } = await import('./distributed.ts')
    const config = new DistributedConfig(await resolveWorkerProps(distributedWorkerProps(workerFile)))
    const worker = await startDistributed(config, { prettyLogs: process.stderr.isTTY })
    stopOnSignals(worker)
  })

program
  .command('demo')
  .description(
    'Run a demo pipeline on the embedded log: lines appended to a file flow through a topic into another file',
  )
  .option('--data-dir <dir>', 'where the demo keeps its state', '.data/demo')
  .option('--port <port>', 'REST port', '8083')
  .option('--interval <ms>', 'how often a demo line is written', '1000')
  .action(async (options: { dataDir: string; port: string; interval: string }) => {
    const worker = await runDemo({
      dataDir: options.dataDir,
      port: Number(options.port),
      intervalMs: Number(options.interval),
    })
    stopOnSignals(worker)
  })

registerManageCommands(program, async (action) => {
  try {
    await action()
  } catch (error) {
    process.stderr.write(`sluice: ${errorMessage(error)}\n`)
    process.exitCode = exitCodeOf(error)
  }
})

function stopOnSignals(worker: Pick<StandaloneWorker, 'logger' | 'stop'>): void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      process.exit(130)
    }
    stopping = true
    worker.logger.info(`${signal}: stopping (tasks flush and commit their offsets)`)
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${errorMessage(error)}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

try {
  await program.parseAsync(globalOptionsLast(process.argv))
} catch (error) {
  const key = error instanceof ConnectError && error.key ? ` [${error.key}]` : ''
  process.stderr.write(`sluice: ${errorMessage(error)}${key}\n`)
  process.exit(error instanceof ConnectError && error.code === 'CONFIG' ? 2 : 1)
}
