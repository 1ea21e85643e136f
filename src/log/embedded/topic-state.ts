/**
 * What the embedded log keeps in memory about a topic: its stored description plus the offsets that
 * bound each partition. `next` is the single source of new offsets, so it is only advanced inside the
 * transaction that writes the records (and restored if that transaction fails).
 *
 * Compaction (`cleanup.policy=compact`), as Kafka's log cleaner does it: a partition's records are
 * compacted once the records appended since its last compaction are as many as it kept then (Kafka's
 * `min.cleanable.dirty.ratio` 0.5), and at least `MIN_DIRTY`. Only records before its cleanable end
 * are compacted: the last `HEAD` records never are (Kafka never cleans the active segment), nor any
 * from the first record younger than `min.compaction.lag.ms`, so a consumer less than `HEAD` records
 * behind still reads every record. Of the records before that end only the latest of each key stays
 * (a tombstone too: it is what tells a reader the key was deleted), and the first record, so the log
 * start offset does not move (nor does it on Kafka); offsets keep their gaps and the last record is
 * always kept, so the end offset does not move either. Without a compaction lag a partition so holds
 * at most twice its keys plus 2 × `HEAD` (and 2) records, whatever the number of appends.
 */
import { EMBEDDED_OFFSETS_TOPIC, isCompacted } from '../log.ts'
import type { StoredTopic } from './record-store.ts'

export interface TopicState {
  readonly id: number
  readonly name: string
  readonly partitions: number
  readonly configs: Readonly<Record<string, string>>
  /** `message.timestamp.type=LogAppendTime`: records take the append time, not the producer's. */
  readonly logAppendTime: boolean
  /** Per partition: the offset the next appended record gets (Kafka's log end offset). */
  readonly next: number[]
  /** Per partition: the first offset still held (Kafka's log start offset). */
  readonly start: number[]
  /** Round-robin cursor choosing the partition of each send's unkeyed records. */
  stickyCursor: number
  /** The log's own offsets topic: only the worker's stores write it (see `ownRecord` in log.ts). */
  readonly own: boolean
  /** `cleanup.policy` holds `compact`: older records of a key are deleted (see `compactIfDirty`). */
  readonly compact: boolean
  /** Per partition, for a compacted topic: records appended since its last compaction. */
  readonly dirty: number[]
  /** Per partition, for a compacted topic: records its last compaction kept. */
  readonly clean: number[]
  /** `min.compaction.lag.ms`: records younger than this are not compacted (0: no lag). */
  readonly minCompactionLagMs: number
}

export function topicState(
  stored: StoredTopic,
  bounds: (partition: number) => { first: number; last: number } | undefined,
): TopicState {
  const next: number[] = []
  const start: number[] = []
  for (let p = 0; p < stored.partitions; p++) {
    const b = bounds(p)
    next.push(b === undefined ? 0 : b.last + 1)
    start.push(b === undefined ? 0 : b.first)
  }
  return {
    id: stored.id,
    name: stored.name,
    partitions: stored.partitions,
    configs: Object.freeze({ ...stored.configs }),
    logAppendTime: stored.configs['message.timestamp.type'] === 'LogAppendTime',
    next,
    start,
    stickyCursor: Math.floor(Math.random() * stored.partitions),
    own: stored.name === EMBEDDED_OFFSETS_TOPIC,
    compact: isCompacted(stored.configs),
    dirty: next.map(() => 0),
    clean: next.map(() => 0),
    minCompactionLagMs: Number(stored.configs['min.compaction.lag.ms'] ?? 0) || 0,
  }
}

/** Appends a compacted partition takes at least before it is compacted again. */
export const MIN_DIRTY = 1000

/** The last records of a compacted partition, which compaction never touches (its uncleaned head). */
export const HEAD = 1000
