/**
 * A task whose configs hold `${provider:path:key}` references: its runner can be built only once the
 * providers answered (a Kubernetes Secret is an HTTP request away), but the worker must know the
 * task at once — to stop it, pause it, or refuse a second start. This stands in for the runner
 * until it exists, and then passes everything on to it. A stop before it exists ends it quietly.
 */
import type { State, TargetState, TaskId } from '../common/states.ts'
import type { TaskMetrics } from './task-metrics.ts'
import type { TaskRunner } from './task-runner.ts'

/** What the worker does with a task, whether its runner exists yet or not. */
export type RunningTask = Pick<
  TaskRunner,
  'id' | 'state' | 'targetState' | 'start' | 'stop' | 'transitionTo'
> & {
  /** Undefined while the task's config is still being resolved. */
  readonly taskMetrics: TaskMetrics | undefined
}

export class ResolvingTask implements RunningTask {
  readonly id: TaskId
  readonly #build: (stopped: () => boolean, target: () => TargetState) => Promise<RunningTask | undefined>
  #target: TargetState
  #runner: RunningTask | undefined
  #stopped = false
  #building: Promise<void> = Promise.resolve()

  /** `build` resolves the configs and builds the runner, or reports the failure and gives undefined. */
  constructor(
    id: TaskId,
    target: TargetState,
    build: (stopped: () => boolean, target: () => TargetState) => Promise<RunningTask | undefined>,
  ) {
    this.id = id
    this.#target = target
    this.#build = build
  }

  get state(): State {
    return this.#runner?.state ?? 'UNASSIGNED'
  }

  get taskMetrics(): TaskMetrics | undefined {
    return this.#runner?.taskMetrics
  }

  get targetState(): TargetState {
    return this.#runner?.targetState ?? this.#target
  }

  start(): void {
    this.#building = this.#build(
      () => this.#stopped,
      () => this.#target,
    ).then(
      (runner) => {
        // Built only if no stop had come; a stop that comes now stops it once it runs (see stop()).
        if (!runner) return
        this.#runner = runner
        runner.start()
      },
      () => undefined, // `build` reports its own failures
    )
  }

  transitionTo(target: TargetState): void {
    this.#target = target
    this.#runner?.transitionTo(target)
  }

  async stop(timeoutMs: number): Promise<boolean> {
    this.#stopped = true
    await this.#building
    return this.#runner ? this.#runner.stop(timeoutMs) : true
  }
}
