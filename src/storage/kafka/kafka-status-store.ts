/**
 * Connector, task and topic status in the status topic (Kafka Connect's `KafkaStatusBackingStore`,
 * same keys and values):
 *
 *   status-connector-<name>                 {"state":…,"trace":…,"worker_id":…,"generation":N}
 *   status-task-<name>-<n>                  same shape
 *   status-topic-<topic>:connector-<name>   {"topic":{"name","connector","task","discoverTimestamp"}}
 *
 * Destroyed connectors/tasks and reset topics are tombstones. Every worker tails the topic, so any
 * worker answers status requests. UNASSIGNED and FAILED are "safe" writes: skipped when the status
 * known here came from another worker in a newer generation (a zombie must not overwrite the owner).
 *
 * A zombie's write can still land after the owner's: sent while the zombie was cut off from the
 * broker, it waits in the network and arrives when the partition heals, after the new owner wrote
 * its status (the zombie's view of the topic was stale when it checked). So the owner answers: a
 * status of its work that another worker wrote in an older generation, read after the owner's own
 * status was read back, is followed by the owner's status written again. Two workers cannot both
 * answer each other (each would need the older generation).
 */
import { errorMessage, isRetriable } from '../../api/errors.ts'
import type { Logger } from '../../common/logger.ts'
import type { State, Status, StatusListener, TaskId } from '../../common/states.ts'
import type { Log, LogRecord } from '../../log/log.ts'
import { StatusTable } from '../status-table.ts'
import { KafkaBasedLog, utf8 } from './kafka-based-log.ts'

const TASK_KEY = /^status-task-(.+)-(\d+)$/
const TOPIC_KEY = /^status-topic-(.+):connector-(.+)$/

export class KafkaStatusStore extends StatusTable implements StatusListener {
  readonly #log: KafkaBasedLog
  readonly #logger: Logger
  readonly #generation: () => number
  /** Whether the connector still exists: a stopping task of a deleted one must not bring its status back. */
  configured: (connector: string) => boolean = () => true
  /** Writes go out one after another so a later status never lands before an earlier one. */
  #writes: Promise<void> = Promise.resolve()
  /** The sequence number of the newest write queued per key, while it is not yet written. */
  readonly #latest = new Map<string, number>()
  #seq = 0
  #stopping = false
  #wakeRetry: (() => void) | null = null
  /**
   * The last status this worker wrote of each connector and task it speaks for (any state but
   * UNASSIGNED), and whether it was read back from the topic yet (what is read after it is later).
   */
  readonly #spoken = new Map<string, { status: Status; readBack: boolean }>()

  constructor(log: Log, topic: string, clientId: string, logger: Logger, generation: () => number) {
    super()
    this.#logger = logger
    this.#generation = generation
    this.#log = new KafkaBasedLog({
      log,
      topic,
      clientId: `${clientId}-status`,
      logger,
      onRecord: (record) => this.#apply(record),
    })
  }

  start(): Promise<void> {
    return this.#log.start()
  }

  async stop(): Promise<void> {
    // A write still retrying against an unreachable broker gives up now rather than hold the stop.
    this.#stopping = true
    this.#wakeRetry?.()
    await this.flush()
    await this.#log.stop()
  }

  /** Resolves once every status written so far is durable. */
  flush(): Promise<void> {
    return this.#writes
  }

  readToEnd(): Promise<void> {
    return this.#log.readToEnd()
  }

  // ── StatusListener (writes) ─────────────────────────────────────────────────────────────────

  onConnectorStatus(connector: string, status: Status): void {
    if (status.state === 'UNASSIGNED' && !this.configured(connector)) return
    const stamped = { ...status, generation: this.#generation() }
    const safe = isSafeWrite(stamped.state)
    const key = `status-connector-${connector}`
    this.#spoken.delete(key)
    if (safe && !this.#mayOverwrite(this.connector(connector), stamped)) return
    this.setConnector(connector, stamped)
    this.#speak(key, stamped)
    this.#write(
      key,
      statusValue(stamped),
      safe ? () => this.#mayOverwrite(this.connector(connector), stamped) : undefined,
    )
  }

  onTaskStatus(id: TaskId, status: Status): void {
    if (status.state === 'UNASSIGNED' && !this.configured(id.connector)) return
    // The generation the task was assigned in, when the runner knows it: a task stopped late (after a
    // lost membership, the broker away) reports in the group's next generation, where another worker
    // may own it already — stamped with the current one, its UNASSIGNED would win over that RUNNING.
    const stamped = { ...status, generation: status.generation > 0 ? status.generation : this.#generation() }
    const safe = isSafeWrite(stamped.state)
    const key = `status-task-${id.connector}-${id.task}`
    this.#spoken.delete(key)
    if (safe && !this.#mayOverwrite(this.task(id), stamped)) return
    this.setTask(id, stamped)
    this.#speak(key, stamped)
    this.#write(
      key,
      statusValue(stamped),
      safe ? () => this.#mayOverwrite(this.task(id), stamped) : undefined,
    )
  }

  onConnectorDestroyed(connector: string): void {
    this.#write(`status-connector-${connector}`, null)
    for (const [task] of this.tasks(connector)) this.#write(`status-task-${connector}-${task}`, null)
    this.forgetConnector(connector)
  }

  onTaskDestroyed(id: TaskId): void {
    this.setTask(id, null)
    this.#write(`status-task-${id.connector}-${id.task}`, null)
  }

  onTopicActive(connector: string, topic: string, task: number): void {
    if (!this.addTopic(connector, topic)) return
    this.#write(
      `status-topic-${topic}:connector-${connector}`,
      JSON.stringify({ topic: { name: topic, connector, task, discoverTimestamp: Date.now() } }),
    )
  }

  resetActiveTopics(connector: string): void {
    for (const topic of this.activeTopics(connector))
      this.#write(`status-topic-${topic}:connector-${connector}`, null)
    this.forgetTopics(connector)
  }

  /** putSafe: another worker's newer-generation status wins. */
  #mayOverwrite(previous: Status | undefined, next: Status): boolean {
    if (previous === undefined) return true
    return previous.workerId === next.workerId || previous.generation <= next.generation
  }

  /**
   * Queues a write. As Kafka Connect's store does, a retriable failure (broker away) is retried until
   * it succeeds, unless a newer status of the same key was queued meanwhile (that one is written
   * instead): a status dropped after a few attempts stayed stale for good — a RUNNING task shown
   * UNASSIGNED after a broker restart. A safe write (UNASSIGNED, FAILED) that had to wait is checked
   * again against the topic read to its end first: the task may run on another worker by now, in a
   * newer generation, and its RUNNING must not be overwritten by this worker's late UNASSIGNED.
   */
  #write(key: string, value: string | null, stillSafe?: () => boolean): void {
    const seq = ++this.#seq
    this.#latest.set(key, seq)
    const send = async (): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        if (this.#latest.get(key) !== seq) return // superseded by a newer status of the same key
        if (attempt > 0 && stillSafe) {
          const caughtUp = await this.#log.readToEnd().then(
            () => true,
            () => false,
          )
          if (caughtUp && !stillSafe()) {
            this.#logger.info(`status ${key} not written: another worker reported it in a newer generation`)
            if (this.#latest.get(key) === seq) this.#latest.delete(key)
            return
          }
        }
        try {
          await this.#log.send([{ key: utf8.encode(key), value: value === null ? null : utf8.encode(value) }])
          if (this.#latest.get(key) === seq) this.#latest.delete(key)
          if (attempt > 0) this.#logger.info(`status ${key} written after ${attempt + 1} attempts`)
          return
        } catch (error) {
          if (!isRetriable(error) || this.#stopping) {
            this.#logger.error(`could not write status ${key}: ${errorMessage(error)}`)
            if (this.#latest.get(key) === seq) this.#latest.delete(key)
            return
          }
          const delay = Math.min(200 * 2 ** attempt, 5000)
          if (attempt === 0 || delay === 5000)
            this.#logger.warn(
              `writing status ${key} failed (${errorMessage(error)}); retrying in ${delay} ms`,
            )
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay)
            this.#wakeRetry = () => {
              clearTimeout(timer)
              resolve()
            }
          })
          this.#wakeRetry = null
        }
      }
    }
    this.#writes = this.#writes.then(send)
  }

  #speak(key: string, status: Status): void {
    if (status.state !== 'UNASSIGNED') this.#spoken.set(key, { status, readBack: false })
  }

  /**
   * A status read for a key this worker speaks for. Once its own status was read back, another
   * worker's of an older generation is a late write (see the module comment): this worker's status
   * is written again, and returned to keep in the table. Another worker's of the same or a newer
   * generation, or a tombstone, means the work moved on: this worker no longer speaks for it.
   */
  #answer(key: string, read: Status | null): Status | undefined {
    const spoken = this.#spoken.get(key)
    if (spoken === undefined) return undefined
    const mine = spoken.status
    if (read !== null && read.workerId === mine.workerId) {
      if (statusValue(read) === statusValue(mine)) spoken.readBack = true
      return undefined
    }
    if (!spoken.readBack) return undefined // written before this worker's status
    if (read === null || read.generation >= mine.generation) {
      this.#spoken.delete(key)
      return undefined
    }
    spoken.readBack = false
    this.#logger.info(
      `status ${key} from worker ${read.workerId} of generation ${read.generation} landed after this worker's of generation ${mine.generation}: writing it again`,
    )
    this.#write(key, statusValue(mine))
    return mine
  }

  #apply(record: LogRecord): void {
    const key = utf8.decode(record.key)
    if (key === null) return
    const text = utf8.decode(record.value)
    if (key.startsWith('status-connector-')) {
      const name = key.slice('status-connector-'.length)
      const status = text === null ? null : parseStatus(text)
      this.setConnector(name, this.#answer(key, status) ?? status)
      return
    }
    const task = TASK_KEY.exec(key)
    if (task) {
      const id = { connector: task[1], task: Number(task[2]) }
      const status = text === null ? null : parseStatus(text)
      this.setTask(id, this.#answer(key, status) ?? status)
      return
    }
    const topic = TOPIC_KEY.exec(key)
    if (topic) {
      const [, name, connector] = topic
      if (text === null) this.removeTopic(connector, name)
      else this.addTopic(connector, name)
    }
  }
}

function isSafeWrite(state: State): boolean {
  return state === 'UNASSIGNED' || state === 'FAILED'
}

function statusValue(s: Status): string {
  return JSON.stringify({ state: s.state, trace: s.trace, worker_id: s.workerId, generation: s.generation })
}

function parseStatus(text: string): Status {
  const v = JSON.parse(text) as {
    state: State
    trace?: string | null
    worker_id: string
    generation?: number
  }
  return { state: v.state, trace: v.trace ?? null, workerId: v.worker_id, generation: v.generation ?? 0 }
}
