/**
 * The `sluice` command's parser (commander): every command, option, help text and usage error.
 * main.ts imports it for everything but a worker started with plain file arguments, which it
 * starts without it (an idle worker does not keep a command-line parser in memory).
 */
import { Command } from 'commander'
import { errorMessage } from '../api/errors.ts'
import { VERSION } from '../version.ts'
import { exitCodeOf, globalOptionsLast, registerManageCommands } from './manage.ts'

export interface WorkerCommands {
  standalone(workerFile: string | undefined, connectorFiles: string[]): Promise<void>
  distributed(workerFile: string): Promise<void>
  demo(options: { dataDir: string; port: number; intervalMs: number }): Promise<void>
}

export async function parseCommandLine(argv: readonly string[], workers: WorkerCommands): Promise<void> {
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
    .action((workerFile: string | undefined, connectorFiles: string[]) =>
      workers.standalone(workerFile, connectorFiles),
    )

  program
    .command('distributed')
    .description(
      'Run a distributed worker (like connect-distributed): workers with the same group.id share connectors and tasks over Kafka',
    )
    .argument(
      '<worker-config>',
      'worker .properties file with group.id, bootstrap.servers and the *.storage.topic keys',
    )
    .action((workerFile: string) => workers.distributed(workerFile))

  program
    .command('demo')
    .description(
      'Run a demo pipeline on the embedded log: lines appended to a file flow through a topic into another file',
    )
    .option('--data-dir <dir>', 'where the demo keeps its state', '.data/demo')
    .option('--port <port>', 'REST port', '8083')
    .option('--interval <ms>', 'how often a demo line is written', '1000')
    .action((options: { dataDir: string; port: string; interval: string }) =>
      workers.demo({
        dataDir: options.dataDir,
        port: Number(options.port),
        intervalMs: Number(options.interval),
      }),
    )

  registerManageCommands(program, async (action) => {
    try {
      await action()
    } catch (error) {
      process.stderr.write(`sluice: ${errorMessage(error)}\n`)
      process.exitCode = exitCodeOf(error)
    }
  })

  await program.parseAsync(globalOptionsLast(argv))
}
