/**
 * The life of one task inside a worker: start, run its loop, follow the target state
 * (STARTED/PAUSED), stop gracefully, and report every state change — a failure with its trace —
 * to the status listener. A failing task never takes the worker down.
 *
 * A task that does not end within the graceful timeout is cancelled (Kafka Connect's
 * `WorkerTask.cancel`): it may already run on another worker, so from then on it reports no status,
 * and the runners check `cancelled`: nothing more is committed or written.
 */

import { errorMessage, errorTrace } from '../api/errors.ts'
import { runWithConnectLogger } from '../api/log.ts'
import { asConnectLogger, type Logger } from '../common/logger.ts'
import type { State, StatusListener, TargetState, TaskId } from '../common/states.ts'
import { taskIdString } from '../common/states.ts'
import { TaskMetrics } from './task-metrics.ts'

export interface TaskRunnerContext {
  readonly id: TaskId
  readonly workerId: string
  readonly statusListener: StatusListener
  readonly logger: Logger
  /** The group generation a status report carries, read at each report (0 when absent). */
  readonly generation?: () => number
  /** Where the runner counts its work (the worker's metrics); a private one when absent. */
  readonly metrics?: TaskMetrics
}

export abstract class TaskRunner {
  readonly id: TaskId
  protected readonly logger: Logger
  /** The task's metrics; `metrics.stage()` is the runners' one hook for metrics and tracing. */
  protected readonly metrics: TaskMetrics
  readonly #ctx: TaskRunnerContext
  #state: State = 'UNASSIGNED'
  #target: TargetState
  #stopping = false
  #cancelled = false
  #done: Promise<void> | undefined
  #targetChanged: (() => void) | undefined

  constructor(ctx: TaskRunnerContext, initialTarget: TargetState, taskType: 'source' | 'sink') {
    this.id = ctx.id
    this.#ctx = ctx
    this.#target = initialTarget
    this.logger = ctx.logger
    this.metrics = ctx.metrics ?? new TaskMetrics(ctx.id.connector, ctx.id.task, taskType)
  }

  get state(): State {
    return this.#state
  }

  get taskMetrics(): TaskMetrics {
    return this.metrics
  }

  get targetState(): TargetState {
    return this.#target
  }

  /** True once a stop was requested (cancellation included). */
  protected get stopping(): boolean {
    return this.#stopping
  }

  /** True once the task was abandoned after the graceful timeout: no commit, no write, no status. */
  protected get cancelled(): boolean {
    return this.#cancelled
  }

  /** Starts the task's loop in the background; `stop()` ends it. */
  start(): void {
    this.#done = runWithConnectLogger(asConnectLogger(this.logger), () => this.#run())
  }

  transitionTo(target: TargetState): void {
    if (target === this.#target) return
    this.#target = target
    this.#targetChanged?.()
    this.onTargetStateChange(target)
  }

  /** Asks the loop to end, waits for it up to `timeoutMs`. Resolves true if it ended in time. */
  async stop(timeoutMs: number): Promise<boolean> {
    if (!this.#stopping) {
      this.#stopping = true
      this.#targetChanged?.()
      try {
        await runWithConnectLogger(asConnectLogger(this.logger), () => this.onStopRequested())
      } catch (error) {
        this.logger.warn({ err: errorMessage(error) }, `${taskIdString(this.id)}: error while stopping`)
      }
    }
    if (!this.#done) return true
    let timer: NodeJS.Timeout | undefined
    const ended = await Promise.race([
      this.#done.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (!ended) {
      this.logger.warn(
        `${taskIdString(this.id)}: did not stop within ${timeoutMs} ms; cancelling it (its offsets are not committed)`,
      )
      this.cancel()
    }
    return ended
  }

  /**
   * Abandons the task (Java's `WorkerTask.cancel`): the loop may still be blocked in the task or the
   * log, but whatever it does from now on commits nothing and reports nothing. Implies a stop.
   */
  cancel(): void {
    if (this.#cancelled) return
    this.#cancelled = true
    this.#stopping = true
    this.#targetChanged?.()
    try {
      this.onCancel()
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, `${taskIdString(this.id)}: error while cancelling`)
    }
  }

  /**
   * Resolves when the target state changes or a stop is requested (at once if one already was). A
   * change made before the call is not seen: check the target right before calling, with no await between.
   */
  protected waitForTargetChange(): Promise<void> {
    if (this.#stopping) return Promise.resolve()
    return new Promise((resolve) => {
      this.#targetChanged = () => {
        this.#targetChanged = undefined
        resolve()
      }
    })
  }

  protected setState(state: State, trace: string | null = null): void {
    this.#state = state
    this.metrics.onState(state)
    // Java's WorkerTask skips the status update of a cancelled task: it may run elsewhere by now.
    if (this.#cancelled) return
    this.#ctx.statusListener.onTaskStatus(this.id, {
      state,
      trace,
      workerId: this.#ctx.workerId,
      generation: this.#ctx.generation?.() ?? 0,
    })
  }

  /** Reports the topics of a batch as active for the connector (KIP-558). */
  protected reportTopics(records: readonly { topic: string }[]): void {
    if (this.#cancelled) return
    let last = ''
    for (const r of records) {
      if (r.topic !== last) this.#ctx.statusListener.onTopicActive(this.id.connector, r.topic, this.id.task)
      last = r.topic
    }
  }

  /** The task's whole life: initialize, start, loop until stopped, clean up. */
  protected abstract execute(): Promise<void>
  /** Called from `stop()`, concurrently with the loop, to make a pending poll/put return. */
  protected abstract onStopRequested(): Promise<void> | void
  /** Called once on cancellation: release what the abandoned loop still holds (its producer…). */
  protected onCancel(): void {}
  protected onTargetStateChange(_target: TargetState): void {}

  async #run(): Promise<void> {
    try {
      await this.execute()
      if (this.#state !== 'FAILED') this.setState('UNASSIGNED')
    } catch (error) {
      if (await this.endsQuietly(error)) {
        this.setState('UNASSIGNED')
        return
      }
      const log = this.#cancelled ? this.logger.warn.bind(this.logger) : this.logger.error.bind(this.logger)
      log({ err: errorMessage(error) }, `${taskIdString(this.id)} failed: ${errorMessage(error)}`)
      this.setState('FAILED', errorTrace(error))
      await this.cleanupAfterFailure()
    }
  }

  /**
   * Whether a failure is the expected end of a task its worker is stopping (it lost the task): the
   * task then stops as if asked to, with no FAILED status while another instance runs it.
   */
  protected async endsQuietly(_error: unknown): Promise<boolean> {
    return false
  }

  /** Releases resources after a failure (the loop's own cleanup did not run). */
  protected async cleanupAfterFailure(): Promise<void> {}
}
