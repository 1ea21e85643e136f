/**
 * The connectors and tasks this worker owns in the current generation, started and stopped on the
 * worker: what the rebalance assigns, what config-topic changes restart, what REST restarts.
 */
import { errorMessage } from '../../api/errors.ts'
import type { TaskId } from '../../common/states.ts'
import { taskKey } from './connect-protocol.ts'
import type { HerderContext } from './herder-state.ts'
import type { TaskConfigPublisher } from './task-config-publisher.ts'

export class RunningWork {
  readonly #c: HerderContext
  readonly #publisher: TaskConfigPublisher
  /** Counts `stopEverything` calls: a start that straddles one is undone. */
  #stops = 0
  #stopping: Promise<void> = Promise.resolve()

  constructor(context: HerderContext, publisher: TaskConfigPublisher) {
    this.#c = context
    this.#publisher = publisher
  }

  /** Work may start only in a current generation, and never once the worker began stopping. */
  get #mayStart(): boolean {
    return !this.#c.state.stopped && this.#c.state.current !== undefined
  }

  startTask(id: TaskId): void {
    const { configs, worker, logger, state } = this.#c
    if (!this.#mayStart) return
    const connectorConfig = configs.connectorConfig(id.connector)
    const taskConfig = configs.taskConfigs(id.connector)[id.task]
    if (connectorConfig === undefined || taskConfig === undefined) {
      logger.warn(`task ${taskKey(id)} was assigned but has no config here; it stays stopped`)
      return
    }
    state.counters.taskStarts++
    worker.startTask(id, connectorConfig, taskConfig, configs.targetState(id.connector), {
      generation: state.generationId,
      fenceBeforeClaim: () => this.#publisher.fenceBeforeTaskStart(id.connector),
    })
  }

  async startConnector(name: string): Promise<void> {
    const { configs, worker, logger, queue } = this.#c
    const config = configs.connectorConfig(name)
    if (config === undefined || !this.#mayStart) return
    const target = configs.targetState(name)
    const stops = this.#stops
    const ok = await worker.startConnector(name, config, target, {
      onReconfigurationRequested: (n) => {
        void queue
          .serial(() => this.#publisher.reconfigure(n))
          .catch((error: unknown) => logger.error(`reconfiguring ${n} failed: ${errorMessage(error)}`))
      },
    })
    if (stops !== this.#stops || !this.#mayStart) {
      // Fenced or stopping while the connector started: it must not keep running.
      await worker.stopConnector(name)
      return
    }
    if (ok && target !== 'STOPPED') await this.#publisher.reconfigure(name)
  }

  /** Stops and restarts a connector this worker owns (a changed config, a restart request). */
  async restartConnector(name: string): Promise<void> {
    await this.#c.worker.stopConnector(name)
    await this.startConnector(name)
  }

  /** Stops and restarts a task this worker owns. */
  async restartTask(id: TaskId): Promise<void> {
    await this.#c.worker.stopTasks([id])
    this.startTask(id)
  }

  /**
   * Stops every connector and task this worker owns, at once: it does not wait for the operation
   * queue (fencing and stopping must not wait behind user requests). Calls run one after another.
   */
  stopEverything(reason: string): Promise<void> {
    this.#stops++
    const run = this.#stopping.then(() => this.#stopAll(reason))
    this.#stopping = run.catch(() => {})
    return run
  }

  /** Resolves once no `stopEverything` is running. */
  get settled(): Promise<void> {
    return this.#stopping
  }

  async #stopAll(reason: string): Promise<void> {
    const { state, worker, logger } = this.#c
    const tasks = [...state.ownedTasks.values()]
    if (tasks.length > 0) {
      logger.info(`stopping ${tasks.length} tasks: ${reason}`)
      await worker.stopTasks(tasks)
      state.counters.taskStops += tasks.length
    }
    for (const t of tasks) state.ownedTasks.delete(taskKey(t))
    for (const c of [...state.ownedConnectors]) {
      await worker.stopConnector(c)
      state.ownedConnectors.delete(c)
    }
  }
}
