/**
 * The task thread's side (decision 0029): it runs whole task runners — the task, its converters,
 * transforms, error handling and log clients — built by the same code as on the main thread
 * (`Worker.buildTaskRunner`), and tells the main thread what the worker must know: status, active
 * topics, metrics per stage, and when a task ended. Nothing crosses per record, only per batch on
 * the embedded log (see task-thread-log.ts).
 */
import type { Props } from '../api/connector.ts'
import { errorMessage, errorTrace } from '../api/errors.ts'
import type { Logger } from '../common/logger.ts'
import { registerSecretValues } from '../common/secret-values.ts'
import type { StatusListener, TargetState, TaskId } from '../common/states.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import type { Log } from '../log/log.ts'
import type { PluginRegistry } from '../plugins/plugin-registry.ts'
import { TaskMetrics, type TaskStage } from './task-metrics.ts'
import type { TaskRunner } from './task-runner.ts'
import { RemoteLog, RemoteOffsetStore, rebalanceCallback } from './task-thread-log.ts'
import { Channel, type Port } from './task-thread-wire.ts'
import { Worker } from './worker.ts'

export interface TaskThreadOptions {
  config: WorkerConfig
  plugins: PluginRegistry
  logger: Logger
  /** The thread's own log clients (Kafka); absent: the main thread's log, over the port (embedded). */
  openLog?: () => Promise<Log>
}

/** A start message: what the main thread's Worker would pass to its runner. */
export interface StartTaskMessage {
  t: 'start'
  inst: number
  id: TaskId
  connectorProps: Props
  taskProps: Props
  target: TargetState
  generation: number | undefined
  workerId: string
  secrets: string[]
}

/** Counts as the main thread's TaskMetrics does, and sends each stage there too. */
class ForwardingTaskMetrics extends TaskMetrics {
  readonly #send: (message: { t: string } & Record<string, unknown>) => void
  errors: () => unknown = () => undefined

  constructor(
    id: TaskId,
    type: 'source' | 'sink',
    send: (m: { t: string } & Record<string, unknown>) => void,
  ) {
    super(id.connector, id.task, type)
    this.#send = send
  }

  override stage(
    stage: TaskStage,
    start: number,
    records: number,
    options: { batch?: number; error?: unknown; bytes?: number } = {},
  ): number {
    const ms = performance.now() - start
    const batch = super.stage(stage, start, records, options)
    this.#send({
      t: 'stage',
      stage,
      ms,
      records,
      batch: options.batch,
      bytes: options.bytes,
      error: options.error === undefined ? undefined : errorMessage(options.error),
      partitionCount: this.partitionCount,
      errors: this.errors(),
    })
    return batch
  }

  override done(records: number): void {
    super.done(records)
    this.#send({ t: 'done', records })
  }
}

export function hostTaskThread(port: Port, options: TaskThreadOptions): void {
  const runners = new Map<number, TaskRunner>()
  const channel: Channel = new Channel(
    port,
    (target, method, args) => {
      if (target.startsWith('l:')) return rebalanceCallback(channel, target, method, args)
      throw new Error(`no call ${target}.${method} in a task thread`)
    },
    (message) => {
      void handle(message).catch((error: unknown) =>
        options.logger.error(`task thread: ${message.t} failed: ${errorMessage(error)}`),
      )
    },
  )
  const offsetStore = new RemoteOffsetStore(channel)
  const log = options.openLog ? options.openLog() : Promise.resolve(new RemoteLog(channel))

  async function handle(message: { t: string } & Record<string, unknown>): Promise<void> {
    const inst = message.inst as number
    switch (message.t) {
      case 'start':
        return start(message as unknown as StartTaskMessage, await log)
      case 'target':
        runners.get(inst)?.transitionTo(message.target as TargetState)
        return
      case 'cancel':
        runners.get(inst)?.cancel()
        return
      case 'stop': {
        const runner = runners.get(inst)
        const ended = runner ? await runner.stop(message.timeoutMs as number) : true
        runners.delete(inst)
        channel.send({ t: 'ended', inst, ended })
        return
      }
      case 'close':
        await (await log).close()
        channel.send({ t: 'closed' })
        return
    }
  }

  function start(m: StartTaskMessage, log: Log): void {
    registerSecretValues(m.secrets)
    const send = (message: { t: string } & Record<string, unknown>): void =>
      channel.send({ ...message, inst: m.inst })
    const status: StatusListener = {
      onTaskStatus: (_id, s) => send({ t: 'status', state: s.state, trace: s.trace }),
      onTopicActive: (_connector, topic) => send({ t: 'topic', topic }),
      onConnectorStatus: () => undefined,
      onConnectorDestroyed: () => undefined,
      onTaskDestroyed: () => undefined,
    }
    let metrics: ForwardingTaskMetrics | undefined
    const worker = new Worker({
      config: options.config,
      log,
      plugins: options.plugins,
      offsetStore,
      statusListener: status,
      logger: options.logger,
      workerId: m.workerId,
      taskMetrics: (id, type) => (metrics = new ForwardingTaskMetrics(id, type, send)),
    })
    let runner: TaskRunner
    try {
      runner = worker.buildTaskRunner(m.id, m.connectorProps, m.taskProps, m.target, m.generation)
    } catch (error) {
      send({ t: 'built', ok: false, trace: errorTrace(error), message: errorMessage(error) })
      return
    }
    if (metrics) metrics.errors = () => ({ ...worker.taskErrorMetrics(m.id) })
    runners.set(m.inst, runner)
    send({ t: 'built', ok: true })
    runner.start()
  }
}
