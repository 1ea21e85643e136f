/**
 * What a worker run with `--trace-gc` (SLUICE_BENCH_NODE_ARGS, or the benches' `--gc-trace` switch)
 * allocated on V8's heap, read from the trace lines in its log:
 *
 *   [pid:0x…]   1234 ms: Scavenge 40.1 (52.3) -> 24.0 (52.3) MB, pooled: 0 MB, 1.2 / 0.0 ms  (…) allocation failure;
 *
 * Bytes allocated between two collections = the heap's size before the second minus its size after
 * the first (V8 allocates only between them), summed over the collections that started after
 * `fromMs` (ms since the process started: e.g. when the first record arrived, so start-up is not
 * counted). Buffers' memory outside the heap is not included. The trace prints MB with one decimal, so each
 * collection's figure is ±0.05 MB: negligible against the ~16–48 MB a scavenge frees.
 */

const LINE = /\s(\d+) ms: ([A-Za-z -]+?)(?: \([a-z ]+\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/

export interface GcSummary {
  /** Heap bytes allocated from `fromMs` to the last collection. */
  allocatedBytes: number
  scavenges: number
  markCompacts: number
  /** Largest heap V8 had reserved (the parenthesised figure), MiB. */
  peakCommittedMiB: number
  /** Largest heap in use before a collection, MiB. */
  peakUsedMiB: number
}

export function gcSummary(log: string, fromMs = 0): GcSummary {
  const MB = 1024 * 1024
  let allocated = 0
  let previousAfter: number | undefined
  let scavenges = 0
  let markCompacts = 0
  let peakCommitted = 0
  let peakUsed = 0
  for (const line of log.split('\n')) {
    const m = LINE.exec(line)
    if (!m) continue
    const at = Number(m[1])
    const kind = m[2]!
    const before = Number(m[3])
    const after = Number(m[5])
    if (at >= fromMs) {
      if (previousAfter !== undefined) allocated += Math.max(0, before - previousAfter)
      if (kind.startsWith('Scavenge') || kind.startsWith('Minor')) scavenges++
      else markCompacts++
      peakCommitted = Math.max(peakCommitted, Number(m[4]), Number(m[6]))
      peakUsed = Math.max(peakUsed, before)
    }
    previousAfter = after
  }
  return {
    allocatedBytes: allocated * MB,
    scavenges,
    markCompacts,
    peakCommittedMiB: peakCommitted,
    peakUsedMiB: peakUsed,
  }
}
