/**
 * Task-config publishing: a connector's owner generates its task configs; the leader, their only
 * writer, puts them in the config topic, and any other owner posts them to the leader's internal
 * `POST /connectors/{c}/tasks`, signed with the session key under `sessioned` (KIP-507). The leader
 * also keeps that key fresh.
 */
import type { Props } from '../../api/connector.ts'
import { ConnectError, errorMessage, errorTrace } from '../../api/errors.ts'
import { connectorTransactionalIds } from '../../runtime/exactly-once.ts'
import { sameConfigs } from '../task-configs.ts'
import { type HerderContext, sleep } from './herder-state.ts'
import { interWorkerRequest } from './inter-worker-client.ts'
import { newSessionKey, sign } from './session-key.ts'

export class TaskConfigPublisher {
  readonly #c: HerderContext
  /** Task-config publications in flight to the leader, by connector (a newer one supersedes). */
  readonly #publishing = new Map<string, object>()

  constructor(context: HerderContext) {
    this.#c = context
  }

  /** The owner regenerates task configs; when they differ from the committed ones, they are published. */
  async reconfigure(name: string): Promise<void> {
    const { state, worker, configs: store, status, logger } = this.#c
    if (!state.ownedConnectors.has(name) || !worker.isConnectorRunning(name)) return
    let configs: Props[]
    try {
      configs = await worker.connectorTaskConfigs(name)
    } catch (error) {
      logger.error(`connector ${name} failed to generate task configs: ${errorMessage(error)}`)
      status.onConnectorStatus(name, {
        state: 'FAILED',
        trace: errorTrace(error),
        workerId: worker.workerId,
        generation: state.generationId,
      })
      return
    }
    if (!store.inconsistent(name) && sameConfigs(store.taskConfigs(name), configs)) return
    await this.#publish(name, configs)
  }

  /**
   * The leader writes task configs itself. Any other owner posts them to the leader in the
   * background (retrying, with backoff, until it is superseded, loses the connector or succeeds):
   * the herder's queue must stay free, or this worker could not rejoin the rebalance the leader is
   * waiting for (Kafka Connect forwards on a separate executor for the same reason).
   */
  async #publish(name: string, configs: Props[]): Promise<void> {
    const { state, queue, logger } = this.#c
    if (state.current?.isLeader === true) {
      await this.write(name, configs)
      return
    }
    const token = {}
    this.#publishing.set(name, token)
    void (async () => {
      for (let attempt = 0; ; attempt++) {
        if (state.stopped || this.#publishing.get(name) !== token || !state.ownedConnectors.has(name)) return
        try {
          if (state.current?.isLeader === true) {
            await queue.serial(() => this.write(name, configs))
          } else {
            await this.#postToLeader(name, configs)
          }
          if (this.#publishing.get(name) === token) this.#publishing.delete(name)
          return
        } catch (error) {
          if (attempt % 10 === 9) {
            logger.warn(
              `publishing task configs of ${name} failed ${attempt + 1} times: ${errorMessage(error)}`,
            )
          }
          await sleep(Math.min(100 * 2 ** attempt, 2000))
        }
      }
    })()
  }

  /**
   * Leader only: writes the connector's task configs to the config topic. Under exactly-once source
   * support (`preparing` or `enabled`), a source connector's previous generation is fenced first
   * (decision 0024).
   */
  async write(name: string, configs: Props[]): Promise<void> {
    const { configs: store, status, logger } = this.#c
    const previous = store.taskCount(name)
    if (this.#fences(name)) {
      await this.#fenceZombies(name, Math.max(store.taskCountRecord(name) ?? 0, previous), configs.length)
    }
    await store.putTaskConfigs(name, configs)
    if (this.#fences(name)) await store.putTaskCountRecord(name, configs.length)
    for (let task = configs.length; task < previous; task++) status.onTaskDestroyed({ connector: name, task })
    logger.info(`wrote ${configs.length} task configs of ${name}`)
  }

  /**
   * Leader only: the round of zombie fencing a worker asks for before it starts a task of a new
   * generation (Kafka Connect's internal `PUT /connectors/{c}/fence`, `DistributedHerder.fenceZombieSourceTasks`).
   * Nothing to do unless task configs were committed after the last task-count record (this leader
   * writes the record with the configs; a Kafka Connect leader leaves it to this request). Then the
   * ids of the generation the record counted are fenced — unless there is no record (no task ever
   * ran transactionally) or both generations have one task (the new task's claim fences the old) —
   * and a task-count record with the committed task count is written.
   */
  async fenceForTaskStart(name: string): Promise<void> {
    const { configs: store } = this.#c
    await store.readToEnd()
    if (!store.pendingFencing(name)) return
    const record = store.taskCountRecord(name)
    const count = store.taskCount(name)
    if (record !== undefined && (record !== 1 || count !== 1)) await this.#fenceZombies(name, record, count)
    await store.putTaskCountRecord(name, count)
  }

  /** Whether the connector's generations are fenced: a source connector, with exactly-once at least `preparing`. */
  #fences(name: string): boolean {
    const { config, configs: store, worker } = this.#c
    if (config.exactlyOnceSource === 'disabled') return false
    const className = store.connectorConfig(name)?.['connector.class']
    try {
      return className !== undefined && worker.connectorType(className) === 'source'
    } catch {
      return false
    }
  }

  /**
   * Zombie fencing (KIP-618, Kafka Connect's `DistributedHerder.fenceZombieSourceTasks`): the
   * transactional ids 0…count-1 of the connector's tasks are fenced, so a task of a previous
   * generation still running anywhere (a worker cut off from the group, a frozen process) can no
   * longer commit. Before a new generation's task configs are written (`write`), count is the larger
   * of the last task-count record and the task configs committed; the task-count record written
   * after the new configs tells the next fencing how far to go. A failure is reported in the status
   * of the connector's tasks and fails the write, which is retried with the next reconfiguration.
   */
  async #fenceZombies(name: string, count: number, next: number): Promise<void> {
    const { config, worker, status, logger, state } = this.#c
    if (count === 0) return
    const ids = connectorTransactionalIds(config.groupId, name, count)
    try {
      if (!worker.log.fenceProducers) throw new ConnectError('CONFIG', 'this log cannot fence producers')
      await worker.log.fenceProducers(ids)
      logger.info(`fenced ${count} transactional ids of ${name}'s previous task generation`)
    } catch (error) {
      const failure = new ConnectError(
        'CONNECT',
        `Failed to fence out zombie tasks of connector ${name} (transactional ids ${ids[0]}…${ids[ids.length - 1]}): ${errorMessage(error)} — check that the brokers support transactions and that the worker may Write/Describe these TransactionalIds`,
        { cause: error },
      )
      for (let task = 0; task < Math.max(next, 1); task++) {
        status.onTaskStatus(
          { connector: name, task },
          {
            state: 'FAILED',
            trace: errorTrace(failure),
            workerId: worker.workerId,
            generation: state.generationId,
          },
        )
      }
      throw failure
    }
  }

  /**
   * Before a source task claims its transactional id under `enabled`: when a round of zombie fencing
   * is due for its connector (task configs committed after the last task-count record, e.g. written
   * by a Kafka Connect leader, which fences only when asked), the leader performs it — this worker
   * if it leads, else the leader through the internal `PUT /connectors/{c}/fence`, as a Kafka
   * Connect worker asks. A refusal the leader may not repeat is retriable: 409 (rebalancing), 5xx,
   * unreachable, 403 (a session key rotated since this worker read it) and 404 (a leader of an
   * older build during a rolling upgrade, or a connector whose deletion has not reached us yet).
   */
  async fenceBeforeTaskStart(name: string): Promise<void> {
    const { state, configs: store, queue } = this.#c
    if (!store.pendingFencing(name)) return
    if (state.current?.isLeader === true) {
      await queue.serial(() => this.fenceForTaskStart(name))
      return
    }
    const response = await this.#toLeader('PUT', `connectors/${encodeURIComponent(name)}/fence`, '')
    if (response.status >= 300) {
      const retriable = [403, 404, 409].includes(response.status) || response.status >= 500
      throw new ConnectError(
        retriable ? 'RETRIABLE' : 'CONNECT',
        `the leader refused zombie fencing for ${name} (${response.status}): ${response.body}`,
      )
    }
  }

  async #postToLeader(name: string, configs: Props[]): Promise<void> {
    const response = await this.#toLeader(
      'POST',
      `connectors/${encodeURIComponent(name)}/tasks?forward=true`,
      JSON.stringify(configs),
    )
    if (response.status >= 300) {
      throw new ConnectError('RETRIABLE', `leader answered ${response.status}: ${response.body}`)
    }
  }

  /** An internal request to the leader, its body signed with the session key under `sessioned`. */
  async #toLeader(method: 'POST' | 'PUT', path: string, body: string) {
    const { state, configs: store } = this.#c
    const leaderUrl = state.current?.leaderUrl
    if (!leaderUrl) throw new ConnectError('RETRIABLE', 'no known leader')
    const headers: Record<string, string> = body === '' ? {} : { 'Content-Type': 'application/json' }
    const key = store.sessionKey
    if (state.current?.protocol === 'sessioned' && key !== undefined) Object.assign(headers, sign(body, key))
    try {
      return await interWorkerRequest(`${leaderUrl}${path}`, {
        method,
        headers,
        body,
        timeoutMs: 30_000,
        tls: this.#c.tls,
      })
    } catch (error) {
      throw new ConnectError(
        'RETRIABLE',
        `the leader at ${leaderUrl} did not answer: ${errorMessage(error)}`,
        {
          cause: error,
        },
      )
    }
  }

  /** Leader only, under `sessioned`: a new session key when there is none or it is older than its TTL. */
  async maybeRotateSessionKey(): Promise<void> {
    const { state, configs: store, config, logger } = this.#c
    if (state.current?.protocol !== 'sessioned' || !state.current.isLeader) return
    const key = store.sessionKey
    const ttl = config.getInt('inter.worker.key.ttl.ms')
    if (key !== undefined && Date.now() - key.creationTimestamp < ttl) return
    await store.putSessionKey(newSessionKey())
    logger.info('wrote a new session key')
  }
}
