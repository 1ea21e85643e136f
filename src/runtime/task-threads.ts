/**
 * Task threads (decision 0029): with `task.threads` set, the worker runs each task runner in one of
 * a few worker threads instead of on its own event loop, so N tasks can use N cores. A
 * `ThreadedTask` stands in for the runner on the main thread: it passes start, target state, stop
 * and cancellation on, and turns what the thread reports into the task's status and metrics here.
 *
 * A thread on Kafka opens its own clients; on the embedded log (one SQLite database and its consumer
 * groups, owned by the main thread) its producers and consumers call the main thread's log
 * (task-thread-log.ts). Source offsets are read and written by the main thread's offset store.
 */
import { Worker as Thread } from 'node:worker_threads'
import type { Props } from '../api/connector.ts'
import type { Logger } from '../common/logger.ts'
import { registeredSecretValues } from '../common/secret-values.ts'
import type { State, TargetState, TaskId } from '../common/states.ts'
import type { Log } from '../log/log.ts'
import type { OffsetStore } from '../storage/offset-store.ts'
import type { ErrorMetrics } from './errors/error-handler.ts'
import type { RunningTask } from './resolving-task.ts'
import { TaskMetrics, type TaskStage } from './task-metrics.ts'
import { LogServer, serveOffsets } from './task-thread-log.ts'
import { Channel } from './task-thread-wire.ts'

/** How many task threads `task.threads` (checked by the worker config) asks for: 0 runs tasks on the main thread. */
export interface TaskThreadPoolOptions {
  /** The thread's entry module (cli/task-thread.ts): builds plugins and the log, then hosts tasks. */
  entry: URL
  threads: number
  /** The worker's config keys, for the threads to build theirs. */
  originals: Readonly<Record<string, string>>
  distributed: boolean
  log: Log
  offsetStore: OffsetStore
  logger: Logger
}

/** What a threaded task tells the worker. */
export interface ThreadedTaskEvents {
  status(state: State, trace: string | null): void
  topicActive(topic: string): void
  /** The runner was built (the task counts as started) or could not be (then it is FAILED). */
  built(error: { trace: string; message: string } | undefined): void
}

interface Hosted {
  task: ThreadedTask
  thread: TaskThread
}

class TaskThread {
  readonly thread: Thread
  readonly channel: Channel
  readonly server: LogServer
  tasks = 0
  #exited = false
  closed: Promise<void>

  constructor(
    options: TaskThreadPoolOptions,
    index: number,
    onMessage: (m: Record<string, unknown>) => void,
  ) {
    this.thread = new Thread(options.entry, {
      name: `sluice-tasks-${index}`,
      workerData: { originals: options.originals, distributed: options.distributed, index },
    })
    this.server = new LogServer(options.log, () => this.channel)
    this.channel = new Channel(
      this.thread,
      (target, method, args) => {
        if (target === 'offsets') return serveOffsets(options.offsetStore, method, args)
        if (this.server.handles(target)) return this.server.handle(target, method, args)
        throw new Error(`no call ${target}.${method} on the main thread`)
      },
      onMessage,
    )
    this.closed = new Promise((resolve) => this.thread.once('exit', () => resolve()))
  }

  get exited(): boolean {
    return this.#exited
  }

  markExited(): void {
    this.#exited = true
  }
}

export class TaskThreadPool {
  readonly #o: TaskThreadPoolOptions
  readonly #threads: TaskThread[] = []
  readonly #hosted = new Map<number, Hosted>()
  #next = 0

  constructor(options: TaskThreadPoolOptions) {
    this.#o = options
  }

  /** A stand-in for a task that runs in the least busy thread (started with `start()`). */
  task(
    id: TaskId,
    type: 'source' | 'sink',
    start: {
      connectorProps: Props
      taskProps: Props
      target: TargetState
      generation: number | undefined
      workerId: string
    },
    events: ThreadedTaskEvents,
  ): ThreadedTask {
    const inst = this.#next++
    const thread = this.#pick()
    thread.tasks++
    const task = new ThreadedTask(id, type, start.target, events, {
      start: () => thread.channel.send({ t: 'start', inst, id, ...start, secrets: registeredSecretValues() }),
      send: (message) => thread.channel.send({ ...message, inst }),
      release: () => {
        if (this.#hosted.delete(inst)) thread.tasks--
      },
    })
    this.#hosted.set(inst, { task, thread })
    return task
  }

  #pick(): TaskThread {
    const live = this.#threads.filter((t) => !t.exited)
    if (live.length < this.#o.threads) {
      const index = this.#threads.length
      const thread: TaskThread = new TaskThread(this.#o, index, (m) => this.#message(m))
      thread.thread.on('error', (error) => this.#died(thread, error))
      thread.thread.on('exit', (code) =>
        this.#died(thread, new Error(`task thread ${index} exited (code ${code})`)),
      )
      this.#threads.push(thread)
      return thread
    }
    return live.reduce((a, b) => (b.tasks < a.tasks ? b : a))
  }

  #message(m: Record<string, unknown>): void {
    // A thread's log line (cli/task-thread.ts), printed as the worker's own. It comes on the port of
    // the task's messages, so a task's last lines are printed before its 'ended' ends its stop(),
    // and a thread's before its 'closed'.
    if (m.t === 'log') this.#o.logger.line(m.line as string)
    else this.#hosted.get(m.inst as number)?.task.receive(m)
  }

  /** A thread that died fails the tasks it ran (with the error) and releases what it held on the log. */
  #died(thread: TaskThread, error: Error): void {
    if (thread.exited) return
    thread.markExited()
    thread.channel.close(error)
    void thread.server.close()
    for (const { task, thread: t } of [...this.#hosted.values()]) if (t === thread) task.threadDied(error)
  }

  /** Ends the threads (after the worker stopped its tasks) and what they held. */
  async close(): Promise<void> {
    await Promise.all(
      this.#threads.map(async (t) => {
        if (t.exited) return
        const closed = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000)
          t.thread.on('message', (m: { t?: string }) => {
            if (m.t === 'closed') {
              clearTimeout(timer)
              resolve()
            }
          })
        })
        t.channel.send({ t: 'close' })
        // Every line the thread logged before its 'closed' has been printed. A thread that does not
        // answer in time is terminated anyway: lines it logs from then on are lost with it.
        await closed
        t.markExited()
        await t.server.close()
        await t.thread.terminate()
      }),
    )
  }
}

interface ThreadLink {
  start(): void
  send(message: { t: string } & Record<string, unknown>): void
  release(): void
}

/** The main thread's view of a task that runs in a task thread. */
export class ThreadedTask implements RunningTask {
  readonly id: TaskId
  readonly taskMetrics: TaskMetrics
  /** The task's error counters, as the thread last reported them (with a stage's metrics). */
  errorMetrics: ErrorMetrics | undefined
  readonly #events: ThreadedTaskEvents
  readonly #link: ThreadLink
  #target: TargetState
  #state: State = 'UNASSIGNED'
  #cancelled = false
  #ended: (() => void) | undefined
  #done = false

  constructor(
    id: TaskId,
    type: 'source' | 'sink',
    target: TargetState,
    events: ThreadedTaskEvents,
    link: ThreadLink,
  ) {
    this.id = id
    this.#target = target
    this.#events = events
    this.#link = link
    this.taskMetrics = new TaskMetrics(id.connector, id.task, type)
  }

  get state(): State {
    return this.#state
  }

  get targetState(): TargetState {
    return this.#target
  }

  start(): void {
    this.#link.start()
  }

  transitionTo(target: TargetState): void {
    if (target === this.#target) return
    this.#target = target
    this.#link.send({ t: 'target', target })
  }

  /** As `TaskRunner.stop`: asks the thread to stop the runner; cancels it here if it has not ended in time. */
  async stop(timeoutMs: number): Promise<boolean> {
    if (this.#done) return true
    const ended = new Promise<boolean>((resolve) => {
      this.#ended = () => resolve(true)
    })
    this.#link.send({ t: 'stop', timeoutMs })
    let timer: NodeJS.Timeout | undefined
    const inTime = await Promise.race([
      ended,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (!inTime) {
      // The thread's runner cancels itself at the same timeout; if its loop is stuck, it is told, and
      // whatever it still reports is ignored here (decision 0014).
      this.#cancelled = true
      this.#link.send({ t: 'cancel' })
    }
    this.#finish()
    return inTime
  }

  #finish(): void {
    this.#done = true
    this.#link.release()
  }

  receive(m: Record<string, unknown>): void {
    switch (m.t) {
      case 'ended':
        this.#ended?.()
        if (!m.ended) this.#cancelled = true
        return
      case 'built':
        this.#events.built(m.ok ? undefined : { trace: m.trace as string, message: m.message as string })
        if (!m.ok) this.#finish()
        return
    }
    if (this.#cancelled) return
    switch (m.t) {
      case 'status':
        this.#state = m.state as State
        this.taskMetrics.onState(this.#state)
        this.#events.status(this.#state, m.trace as string | null)
        return
      case 'topic':
        this.#events.topicActive(m.topic as string)
        return
      case 'stage':
        this.taskMetrics.stage(
          m.stage as TaskStage,
          performance.now() - (m.ms as number),
          m.records as number,
          {
            batch: m.batch as number | undefined,
            bytes: m.bytes as number | undefined,
            error: m.error === undefined ? undefined : new Error(m.error as string),
          },
        )
        this.taskMetrics.partitionCount = m.partitionCount as number
        if (m.errors) this.errorMetrics = m.errors as ErrorMetrics
        return
      case 'done':
        this.taskMetrics.done(m.records as number)
        return
    }
  }

  /** The thread died under the task: it is FAILED with the thread's error. */
  threadDied(error: Error): void {
    this.#ended?.()
    if (!this.#cancelled && !this.#done) {
      this.#state = 'FAILED'
      this.taskMetrics.onState('FAILED')
      this.#events.status('FAILED', `${error.stack ?? error.message}`)
    }
    this.#finish()
  }
}
