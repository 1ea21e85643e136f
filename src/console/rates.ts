/**
 * Records per second from the task counters of `GET /sluice/metrics` (Kafka Connect's source-/sink-
 * task metrics totals of every task in the cluster), sampled each time a page polls and kept for the
 * last minutes while the console is open. Pure (no DOM).
 */
/** One task's record counters, on whichever worker runs it (`GET /sluice/metrics`). */
export interface TaskCounters {
  connector: string
  task: number
  type: 'source' | 'sink'
  sourceRecordPollTotal: number
  sourceRecordWriteTotal: number
  sinkRecordReadTotal: number
  sinkRecordSendTotal: number
}

export interface Counters {
  sourcePolled: number
  sourceWritten: number
  sinkRead: number
  sinkPut: number
}

function countersOf(t: TaskCounters): Counters {
  return {
    sourcePolled: t.sourceRecordPollTotal,
    sourceWritten: t.sourceRecordWriteTotal,
    sinkRead: t.sinkRecordReadTotal,
    sinkPut: t.sinkRecordSendTotal,
  }
}

/** Per connector, its tasks' counters summed. */
export function connectorCounters(tasks: readonly TaskCounters[]): Map<string, Counters> {
  const out = new Map<string, Counters>()
  for (const task of tasks) {
    const sum = out.get(task.connector) ?? { sourcePolled: 0, sourceWritten: 0, sinkRead: 0, sinkPut: 0 }
    const add = countersOf(task)
    for (const key of Object.keys(sum) as (keyof Counters)[]) sum[key] += add[key]
    out.set(task.connector, sum)
  }
  return out
}

/** Each task's counters, keyed by {@link taskKey}. */
export function taskCounters(tasks: readonly TaskCounters[]): Map<string, Counters> {
  return new Map(tasks.map((t) => [taskKey(t.connector, t.task), countersOf(t)]))
}

export function taskKey(connector: string, task: number): string {
  return JSON.stringify([connector, task])
}

export interface Sample {
  at: number
  counters: Counters
}

export type Rates = Counters

/** Per-second rates between two samples; a counter that went down (a task restarted) counts from 0. */
export function ratesBetween(before: Sample, after: Sample): Rates {
  const seconds = (after.at - before.at) / 1000
  const rate = (key: keyof Counters) => {
    if (seconds <= 0) return 0
    const delta = after.counters[key] - before.counters[key]
    return (delta >= 0 ? delta : after.counters[key]) / seconds
  }
  return {
    sourcePolled: rate('sourcePolled'),
    sourceWritten: rate('sourceWritten'),
    sinkRead: rate('sinkRead'),
    sinkPut: rate('sinkPut'),
  }
}

/** Samples of each connector's counters over the last `windowMs`, and the rates between them. */
export class RateHistory {
  readonly #samples = new Map<string, Sample[]>()
  readonly #windowMs: number
  readonly #minSpacingMs: number

  constructor(windowMs = 5 * 60_000, minSpacingMs = 900) {
    this.#windowMs = windowMs
    this.#minSpacingMs = minSpacingMs
  }

  add(at: number, counters: ReadonlyMap<string, Counters>): void {
    for (const [connector, value] of counters) {
      let list = this.#samples.get(connector)
      if (!list) {
        list = []
        this.#samples.set(connector, list)
      }
      const last = list[list.length - 1]
      if (last && at - last.at < this.#minSpacingMs) continue
      list.push({ at, counters: { ...value } })
      while (list.length > 0 && at - list[0]!.at > this.#windowMs) list.shift()
    }
    for (const connector of [...this.#samples.keys()])
      if (!counters.has(connector)) this.#samples.delete(connector)
  }

  /** The latest rate, or undefined before two samples. */
  latest(connector: string): Rates | undefined {
    const list = this.#samples.get(connector)
    if (!list || list.length < 2) return undefined
    return ratesBetween(list[list.length - 2]!, list[list.length - 1]!)
  }

  /** Every rate in the window, oldest first, with the time of its later sample. */
  series(connector: string): { at: number; rates: Rates }[] {
    const list = this.#samples.get(connector) ?? []
    return list.slice(1).map((sample, i) => ({ at: sample.at, rates: ratesBetween(list[i]!, sample) }))
  }
}

/** `1234.5` → `1.2k`, small values with one decimal. */
export function formatRate(value: number): string {
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`
  if (value >= 10_000) return `${Math.round(value / 1000)}k`
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`
  if (value >= 10) return String(Math.round(value))
  return value.toFixed(1)
}
