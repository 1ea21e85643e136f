/**
 * The group leader's assignment of connectors and tasks to workers, after Kafka Connect's
 * `IncrementalCooperativeAssignor` (KIP-415) and `EagerAssignor`.
 *
 * Incremental cooperative: each member reports what it runs; the leader hands out only changes.
 * - deleted (no longer configured) and duplicated (held by several members) items are revoked;
 * - lost items (assigned last round, reported by nobody now) wait out `scheduled.rebalance.max.delay.ms`
 *   when a member departed, so a restarting worker gets its own work back; when the delay ran out
 *   they go to the workers that were empty meanwhile, or to the least loaded;
 * - new items go to the least-loaded workers (by connector count for connectors, task count for tasks);
 * - when no delay is pending and counts differ by more than one, the excess is revoked from the most
 *   loaded workers in this round and handed out in the next one (revoked members rejoin at once),
 *   so an item never runs on two workers at a time.
 * Work nobody moves keeps running: members never see it in `assigned` or `revoked`.
 */
import { type Allocation, type ConnectorTaskId, emptyAllocation, taskKey } from './connect-protocol.ts'

export interface MemberState {
  memberId: string
  /** What the member runs now (from its JoinGroup metadata). */
  allocation: Allocation
}

export interface Configured {
  connectors: string[]
  tasks: ConnectorTaskId[]
}

export interface MemberAssignment {
  assigned: Allocation
  revoked: Allocation
  delay: number
}

export interface AssignorOptions {
  /** `scheduled.rebalance.max.delay.ms` */
  maxDelayMs: number
  now?: () => number
}

interface Load {
  connectors: Set<string>
  tasks: Map<string, ConnectorTaskId>
}

export class IncrementalCooperativeAssignor {
  readonly #maxDelayMs: number
  readonly #now: () => number
  /** The full assignment after the last round, by member id; undefined before the first round as leader. */
  #previous: Map<string, Load> | undefined
  #previousGeneration = -1
  #scheduledAt = 0
  #candidates = new Set<string>()
  /** Lost items held back while a delay runs: still "previously assigned" in later rounds. */
  #waiting: { connectors: string[]; tasks: ConnectorTaskId[] } = { connectors: [], tasks: [] }

  constructor(options: AssignorOptions) {
    this.#maxDelayMs = options.maxDelayMs
    this.#now = options.now ?? Date.now
  }

  /** What each member holds after the last round (the leader uses it to find a task's owner). */
  current(): Map<string, Allocation> {
    const out = new Map<string, Allocation>()
    for (const [id, load] of this.#previous ?? []) {
      out.set(id, { connectors: [...load.connectors], tasks: [...load.tasks.values()] })
    }
    return out
  }

  /** Forgets the leader's memory (after losing leadership): the next round starts from what members report. */
  reset(): void {
    this.#previous = undefined
    this.#scheduledAt = 0
    this.#candidates.clear()
    this.#waiting = { connectors: [], tasks: [] }
  }

  assign(
    generationId: number,
    members: readonly MemberState[],
    configured: Configured,
  ): Map<string, MemberAssignment> {
    const now = this.#now()
    const ids = members.map((m) => m.memberId).sort()
    const configuredConnectors = new Set(configured.connectors)
    const configuredTasks = new Map(configured.tasks.map((t) => [taskKey(t), t]))

    // What each member runs now.
    const current = new Map<string, Load>()
    for (const m of members) {
      current.set(m.memberId, {
        connectors: new Set(m.allocation.connectors),
        tasks: new Map(m.allocation.tasks.map((t) => [taskKey(t), t])),
      })
    }
    // The leader's memory is trusted only for the generation right before this one.
    if (this.#previous === undefined || this.#previousGeneration !== generationId - 1) {
      if (this.#previousGeneration !== generationId - 1) this.reset()
      this.#previous = new Map([...current].map(([id, load]) => [id, cloneLoad(load)]))
    }
    const previous = this.#previous

    const revoked = new Map(ids.map((id) => [id, emptyAllocation()]))
    const assigned = new Map(ids.map((id) => [id, emptyAllocation()]))

    // Deleted and duplicated items are revoked from whoever runs them.
    const holders = new Map<string, string[]>()
    const taskHolders = new Map<string, string[]>()
    for (const id of ids) {
      const load = current.get(id)!
      for (const c of load.connectors) holders.set(c, [...(holders.get(c) ?? []), id])
      for (const k of load.tasks.keys()) taskHolders.set(k, [...(taskHolders.get(k) ?? []), id])
    }
    for (const id of ids) {
      const load = current.get(id)!
      for (const c of [...load.connectors]) {
        if (!configuredConnectors.has(c) || holders.get(c)!.length > 1) {
          revoked.get(id)!.connectors.push(c)
          load.connectors.delete(c)
        }
      }
      for (const [k, t] of [...load.tasks]) {
        if (!configuredTasks.has(k) || taskHolders.get(k)!.length > 1) {
          revoked.get(id)!.tasks.push(t)
          load.tasks.delete(k)
        }
      }
    }

    const activeConnectors = new Set<string>()
    const activeTasks = new Set<string>()
    for (const load of current.values()) {
      for (const c of load.connectors) activeConnectors.add(c)
      for (const k of load.tasks.keys()) activeTasks.add(k)
    }
    const previousConnectors = new Set<string>()
    const previousTasks = new Set<string>()
    for (const load of previous.values()) {
      for (const c of load.connectors) previousConnectors.add(c)
      for (const k of load.tasks.keys()) previousTasks.add(k)
    }
    for (const c of this.#waiting.connectors) previousConnectors.add(c)
    for (const t of this.#waiting.tasks) previousTasks.add(taskKey(t))
    // Lost: assigned before, still configured, run by nobody now (and not just revoked as a duplicate).
    const lostConnectors = [...previousConnectors].filter(
      (c) => configuredConnectors.has(c) && !activeConnectors.has(c) && !holders.has(c),
    )
    const lostTasks = [...previousTasks]
      .filter((k) => configuredTasks.has(k) && !activeTasks.has(k) && !taskHolders.has(k))
      .map((k) => configuredTasks.get(k)!)
    // Created: configured, neither assigned before nor run by anyone (revoked duplicates come back here next round).
    const newConnectors = configured.connectors.filter(
      (c) => !previousConnectors.has(c) && !activeConnectors.has(c),
    )
    const newTasks = configured.tasks.filter(
      (t) => !previousTasks.has(taskKey(t)) && !activeTasks.has(taskKey(t)),
    )

    let delay = 0
    const departed = [...previous.keys()].some((id) => !current.has(id))
    const toPlaceConnectors = [...newConnectors]
    const toPlaceTasks = [...newTasks]
    let lostTargets: string[] | undefined
    const waiting = this.#scheduledAt !== 0
    if (lostConnectors.length + lostTasks.length > 0) {
      if (this.#maxDelayMs <= 0 || (!departed && !waiting)) {
        toPlaceConnectors.push(...lostConnectors)
        toPlaceTasks.push(...lostTasks)
        this.reset()
      } else if (!waiting) {
        this.#scheduledAt = now + this.#maxDelayMs
        delay = this.#maxDelayMs
        this.#candidates = new Set(ids.filter((id) => isEmptyLoad(current.get(id)!)))
        this.#waiting = { connectors: lostConnectors, tasks: lostTasks }
      } else if (now >= this.#scheduledAt) {
        toPlaceConnectors.push(...lostConnectors)
        toPlaceTasks.push(...lostTasks)
        const candidates = ids.filter((id) => this.#candidates.has(id))
        if (candidates.length > 0) lostTargets = candidates
        this.reset()
      } else {
        delay = this.#scheduledAt - now
        for (const id of ids) if (isEmptyLoad(current.get(id)!)) this.#candidates.add(id)
        this.#waiting = { connectors: lostConnectors, tasks: lostTasks }
      }
    } else if (waiting) {
      // The departed worker came back with its work: nothing is waiting any more.
      this.reset()
    }

    // The lost items that waited go to the workers that were empty meanwhile, round robin.
    if (lostTargets !== undefined) {
      let i = 0
      for (const c of lostConnectors) {
        const id = lostTargets[i++ % lostTargets.length]
        current.get(id)!.connectors.add(c)
        assigned.get(id)!.connectors.push(c)
      }
      i = 0
      for (const t of lostTasks) {
        const id = lostTargets[i++ % lostTargets.length]
        current.get(id)!.tasks.set(taskKey(t), t)
        assigned.get(id)!.tasks.push(t)
      }
      toPlaceConnectors.splice(toPlaceConnectors.length - lostConnectors.length)
      toPlaceTasks.splice(toPlaceTasks.length - lostTasks.length)
    }

    if (ids.length > 0) {
      for (const c of toPlaceConnectors) {
        const id = leastLoaded(ids, (m) => current.get(m)!.connectors.size)
        current.get(id)!.connectors.add(c)
        assigned.get(id)!.connectors.push(c)
      }
      for (const t of toPlaceTasks) {
        const id = leastLoaded(
          ids,
          (m) => current.get(m)!.tasks.size,
          (m) => countOf(current.get(m)!.tasks, t.connector),
        )
        current.get(id)!.tasks.set(taskKey(t), t)
        assigned.get(id)!.tasks.push(t)
      }

      // Load balancing only while nothing waits for a departed worker.
      if (delay === 0) {
        balance(ids, current, assigned, revoked, 'connectors')
        balance(ids, current, assigned, revoked, 'tasks')
      }
    }

    this.#previous = new Map([...current].map(([id, load]) => [id, cloneLoad(load)]))
    this.#previousGeneration = generationId
    const result = new Map<string, MemberAssignment>()
    for (const id of ids) result.set(id, { assigned: assigned.get(id)!, revoked: revoked.get(id)!, delay })
    return result
  }
}

/**
 * When counts differ by more than one, takes the excess over the fair share (floor, or floor+1 for
 * `total % workers` of them) from the most loaded workers: first items handed to them this round
 * (which then are simply not handed out), then running ones, which are revoked. Either way the item
 * is unowned after this round and is placed by the next one.
 */
function balance(
  ids: string[],
  current: Map<string, Load>,
  assigned: Map<string, Allocation>,
  revoked: Map<string, Allocation>,
  kind: 'connectors' | 'tasks',
): void {
  const keys = (id: string): string[] =>
    kind === 'connectors' ? [...current.get(id)!.connectors] : [...current.get(id)!.tasks.keys()]
  const counts = ids.map((id) => keys(id).length)
  if (Math.max(...counts) - Math.min(...counts) <= 1) return
  const total = counts.reduce((a, b) => a + b, 0)
  const floor = Math.floor(total / ids.length)
  let extra = total % ids.length
  const order = [...ids].sort((a, b) => keys(b).length - keys(a).length || (a < b ? -1 : 1))
  for (const id of order) {
    const list = keys(id)
    let allowed = floor
    if (extra > 0 && list.length > floor) {
      allowed = floor + 1
      extra--
    }
    let excess = list.length - allowed
    if (excess <= 0) continue
    const a = assigned.get(id)!
    const fresh = new Set(kind === 'connectors' ? a.connectors : a.tasks.map(taskKey))
    const ordered = [...list.filter((k) => fresh.has(k)), ...list.filter((k) => !fresh.has(k)).reverse()]
    for (const key of ordered.slice(0, excess)) {
      const load = current.get(id)!
      if (kind === 'connectors') {
        load.connectors.delete(key)
        if (fresh.has(key)) a.connectors = a.connectors.filter((c) => c !== key)
        else revoked.get(id)!.connectors.push(key)
      } else {
        const task = load.tasks.get(key)!
        load.tasks.delete(key)
        if (fresh.has(key)) a.tasks = a.tasks.filter((t) => taskKey(t) !== key)
        else revoked.get(id)!.tasks.push(task)
      }
      excess--
    }
  }
}

function cloneLoad(load: Load): Load {
  return { connectors: new Set(load.connectors), tasks: new Map(load.tasks) }
}

function isEmptyLoad(load: Load): boolean {
  return load.connectors.size === 0 && load.tasks.size === 0
}

function countOf(tasks: Map<string, ConnectorTaskId>, connector: string): number {
  let n = 0
  for (const t of tasks.values()) if (t.connector === connector) n++
  return n
}

function leastLoaded(ids: string[], load: (id: string) => number, tieBreak?: (id: string) => number): string {
  let best = ids[0]
  for (const id of ids.slice(1)) {
    const d = load(id) - load(best)
    if (d < 0 || (d === 0 && tieBreak !== undefined && tieBreak(id) < tieBreak(best))) best = id
  }
  return best
}

/** Kafka Connect's `EagerAssignor`: everything revoked first; sorted connectors, then tasks, round robin over sorted members. */
export function eagerAssign(memberIds: readonly string[], configured: Configured): Map<string, Allocation> {
  const ids = [...memberIds].sort()
  const out = new Map(ids.map((id) => [id, emptyAllocation()]))
  let i = 0
  for (const c of [...configured.connectors].sort()) out.get(ids[i++ % ids.length])!.connectors.push(c)
  const tasks = [...configured.tasks].sort((a, b) =>
    a.connector === b.connector ? a.task - b.task : a.connector < b.connector ? -1 : 1,
  )
  for (const t of tasks) out.get(ids[i++ % ids.length])!.tasks.push(t)
  return out
}
