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

  constructor(context: HerderContext, publisher: TaskConfigPublisher) {
    this.#c = context
    this.#publisher = publisher
  }

  startTask(id: TaskId): void {
    const { configs, worker, logger, state } = this.#c
    const connectorConfig = configs.connectorConfig(id.connector)
    const taskConfig = configs.taskConfigs(id.connector)[id.task]
    if (connectorConfig === undefined || taskConfig === undefined) {
      logger.warn(`task ${taskKey(id)} was assigned but has no config here; it stays stopped`)
      return
    }
    state.counters.taskStarts++
    worker.startTask(id, connectorConfig, taskConfig, configs.targetState(id.connector))
  }

  async startConnector(name: string): Promise<void> {
    const { configs, worker, logger, queue } = this.#c
    const config = configs.connectorConfig(name)
    if (config === undefined) return
    const target = configs.targetState(name)
    const ok = await worker.startConnector(name, config, target, {
      onReconfigurationRequested: (n) => {
        void queue
          .serial(() => this.#publisher.reconfigure(n))
          .catch((error: unknown) => logger.error(`reconfiguring ${n} failed: ${errorMessage(error)}`))
      },
    })
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

  async stopEverything(reason: string): Promise<void> {
    const { state, worker, logger } = this.#c
    const tasks = [...state.ownedTasks.values()]
    if (tasks.length > 0) {
      logger.info(`stopping ${tasks.length} tasks: ${reason}`)
      await worker.stopTasks(tasks)
      state.counters.taskStops += tasks.length
    }
    state.ownedTasks.clear()
    for (const c of state.ownedConnectors) await worker.stopConnector(c)
    state.ownedConnectors.clear()
  }
}
