/**
 * How a worker reacts to the config topic (Kafka Connect's `ConfigUpdateListener` of
 * `DistributedHerder`): new or removed connectors and new task configs trigger a rebalance; a
 * changed connector config restarts the connector where it runs; changed task configs restart
 * those tasks on their owner; target states reach the connector and its tasks; restart requests
 * are carried out by the owners.
 */
import { errorMessage } from '../../api/errors.ts'
import type { TaskId } from '../../common/states.ts'
import type { ConfigUpdateListener, RestartRequest } from '../../storage/kafka/kafka-config-store.ts'
import { taskKey } from './connect-protocol.ts'
import type { HerderContext } from './herder-state.ts'
import type { RunningWork } from './running-work.ts'

export class ConfigReactions implements ConfigUpdateListener {
  readonly #c: HerderContext
  readonly #work: RunningWork
  #known: Set<string>

  constructor(context: HerderContext, work: RunningWork) {
    this.#c = context
    this.#work = work
    this.#known = new Set(context.configs.connectors())
  }

  onSessionKeyUpdate(): void {}

  onConnectorConfigUpdate(name: string): void {
    if (!this.#known.has(name)) {
      this.#known.add(name)
      this.#c.state.requestRejoin(`connector ${name} was created`)
      return
    }
    // A changed config restarts the connector where it runs; no rebalance.
    void this.#c.queue
      .serial(async () => {
        if (!this.#c.state.ownedConnectors.has(name)) return
        await this.#work.restartConnector(name)
      })
      .catch((error: unknown) => this.#c.logger.error(`restarting ${name}: ${errorMessage(error)}`))
  }

  onConnectorConfigRemove(name: string): void {
    this.#known.delete(name)
    this.#c.state.requestRejoin(`connector ${name} was deleted`)
  }

  onTaskConfigUpdate(tasks: TaskId[]): void {
    this.#c.state.requestRejoin(
      `task configs of ${[...new Set(tasks.map((t) => t.connector))].join(', ')} changed`,
    )
    // Tasks whose config changed restart in place on their owner.
    void this.#c.queue
      .serial(async () => {
        for (const t of tasks) {
          if (!this.#c.state.ownedTasks.has(taskKey(t))) continue
          const config = this.#c.configs.taskConfigs(t.connector)[t.task]
          if (config === undefined) continue // removed: the rebalance revokes it
          await this.#work.restartTask(t)
        }
      })
      .catch((error: unknown) => this.#c.logger.error(`restarting tasks: ${errorMessage(error)}`))
  }

  onConnectorTargetStateChange(name: string): void {
    void this.#c.queue
      .serial(async () => {
        const target = this.#c.configs.targetState(name)
        if (this.#c.state.ownedConnectors.has(name)) {
          const wasStopped = this.#c.status.connector(name)?.state === 'STOPPED'
          if (
            (target === 'STOPPED' && this.#c.worker.isConnectorRunning(name)) ||
            (target !== 'STOPPED' && wasStopped)
          ) {
            // Into or out of STOPPED: the connector instance stops, or starts and publishes its task configs.
            await this.#work.restartConnector(name)
            return
          }
        }
        // PAUSED/STARTED reach the connector and the tasks this worker runs.
        if (target !== 'STOPPED') this.#c.worker.setConnectorTargetState(name, target)
      })
      .catch((error: unknown) => this.#c.logger.error(`target state of ${name}: ${errorMessage(error)}`))
  }

  onRestartRequest(request: RestartRequest): void {
    void this.#c.queue
      .serial(async () => {
        const name = request.connector
        const config = this.#c.configs.connectorConfig(name)
        if (config === undefined) return
        if (this.#c.state.ownedConnectors.has(name)) {
          const failed = this.#c.status.connector(name)?.state === 'FAILED'
          if (!request.onlyFailed || failed) {
            await this.#work.restartConnector(name)
          }
        }
        if (!request.includeTasks) return
        for (const t of this.#c.state.ownedTasks.values()) {
          if (t.connector !== name) continue
          if (request.onlyFailed && this.#c.status.task(t)?.state !== 'FAILED') continue
          await this.#work.restartTask(t)
        }
      })
      .catch((error: unknown) =>
        this.#c.logger.error(`restart of ${request.connector}: ${errorMessage(error)}`),
      )
  }
}
