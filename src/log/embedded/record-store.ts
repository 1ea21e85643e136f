/**
 * The SQLite file behind the embedded log: schema, prepared statements and transactions. Nothing
 * here knows about consumers or groups; it stores topics, records and committed group offsets.
 *
 * Records live in one table whose primary key (topic_id, partition, offset) is also its storage order
 * (`WITHOUT ROWID`), so appends go to the end of a partition's key range and a poll is one range scan.
 * A topic gets a fresh integer id when created, so a topic deleted and created again under the same
 * name never sees the old records.
 *
 * Durability: WAL journal with `synchronous=FULL`, so a COMMIT returns only after the WAL is fsync'd.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts'

const SCHEMA_VERSION = '1'
const COLUMNS = 7
const ROWS_PER_INSERT = 64

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  partitions INTEGER NOT NULL,
  configs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  key BLOB,
  value BLOB,
  headers BLOB,
  PRIMARY KEY (topic_id, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
`

export interface StoredTopic {
  readonly id: number
  readonly name: string
  readonly partitions: number
  readonly configs: Record<string, string>
}

/** A stored record as a row: [offset, timestamp, key, value, headers]. */
export type RecordRow = [number, number, Uint8Array | null, Uint8Array | null, Uint8Array | null]

export class RecordStore {
  readonly dir: string
  readonly #db: DatabaseSync
  readonly #lock: DataDirLock
  readonly #insertRecord: StatementSync
  readonly #insertRecords: StatementSync
  /** Rows given to `insertRecord` and not yet written, flat: COLUMNS values each. */
  #rows: unknown[] = []
  readonly #readRange: StatementSync
  readonly #firstOffset: StatementSync
  readonly #lastOffset: StatementSync
  readonly #insertTopic: StatementSync
  readonly #deleteTopicRecords: StatementSync
  readonly #deleteTopic: StatementSync
  readonly #deleteTopicOffsets: StatementSync
  readonly #groupOffsets: StatementSync
  readonly #groupOffset: StatementSync
  readonly #upsertGroupOffset: StatementSync
  readonly #deleteGroupOffset: StatementSync
  readonly #compact: StatementSync
  readonly #firstOffsetAfter: StatementSync
  readonly #countRecords: StatementSync

  /** Opens (creating if needed) the log in `dir`, taking its exclusive lock. */
  constructor(dir: string) {
    this.dir = dir
    mkdirSync(dir, { recursive: true })
    this.#db = new DatabaseSync(join(dir, 'log.sqlite'), { timeout: 0 })
    try {
      this.#lock = lockDataDir(this.#db, dir)
    } catch (error) {
      this.#db.close()
      throw error
    }
    this.#db.exec('PRAGMA synchronous=FULL')
    this.#db.exec(SCHEMA)
    const version = this.getMeta('schema.version')
    if (version === undefined) this.setMeta('schema.version', SCHEMA_VERSION)
    else if (version !== SCHEMA_VERSION) {
      throw new Error(
        `The embedded log in ${dir} has schema version ${version}; this Sluice reads ${SCHEMA_VERSION}`,
      )
    }
    const db = this.#db
    this.#insertRecord = db.prepare(
      'INSERT INTO records (topic_id, partition, offset, timestamp, key, value, headers) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    this.#insertRecords = db.prepare(
      `INSERT INTO records (topic_id, partition, offset, timestamp, key, value, headers) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    )
    this.#readRange = db.prepare(
      'SELECT offset, timestamp, key, value, headers FROM records ' +
        'WHERE topic_id = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?',
    )
    this.#readRange.setReturnArrays(true)
    this.#firstOffset = db.prepare(
      'SELECT offset FROM records WHERE topic_id = ? AND partition = ? ORDER BY offset ASC LIMIT 1',
    )
    this.#lastOffset = db.prepare(
      'SELECT offset FROM records WHERE topic_id = ? AND partition = ? ORDER BY offset DESC LIMIT 1',
    )
    this.#insertTopic = db.prepare(
      'INSERT INTO topics (name, partitions, configs) VALUES (?, ?, ?) RETURNING id',
    )
    this.#deleteTopicRecords = db.prepare('DELETE FROM records WHERE topic_id = ?')
    this.#deleteTopic = db.prepare('DELETE FROM topics WHERE id = ?')
    this.#deleteTopicOffsets = db.prepare('DELETE FROM group_offsets WHERE topic = ?')
    this.#groupOffsets = db.prepare('SELECT topic, partition, offset FROM group_offsets WHERE group_id = ?')
    this.#groupOffset = db.prepare(
      'SELECT offset FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?',
    )
    this.#upsertGroupOffset = db.prepare(
      'INSERT INTO group_offsets (group_id, topic, partition, offset) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (group_id, topic, partition) DO UPDATE SET offset = excluded.offset',
    )
    this.#deleteGroupOffset = db.prepare(
      'DELETE FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?',
    )
    // Only records below the cleanable end are candidates, and only a later record below it too
    // supersedes one (Kafka's cleaner builds its offset map from the cleanable range alone). The first
    // record stays too: it is the partition's log start offset, which compaction does not move on
    // Kafka either (a committed offset below it would otherwise be reset).
    this.#compact = db.prepare(
      'DELETE FROM records WHERE topic_id = ? AND partition = ? AND key IS NOT NULL AND offset < ? ' +
        'AND offset > (SELECT MIN(offset) FROM records WHERE topic_id = ? AND partition = ?) AND offset NOT IN ' +
        '(SELECT MAX(offset) FROM records WHERE topic_id = ? AND partition = ? AND key IS NOT NULL AND offset < ? ' +
        'GROUP BY key)',
    )
    this.#firstOffsetAfter = db.prepare(
      'SELECT MIN(offset) AS o FROM records WHERE topic_id = ? AND partition = ? AND timestamp > ?',
    )
    this.#countRecords = db.prepare('SELECT COUNT(*) AS n FROM records WHERE topic_id = ? AND partition = ?')
  }

  getMeta(key: string): string | undefined {
    const row = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key)
    return row === undefined ? undefined : String(row.value)
  }

  setMeta(key: string, value: string): void {
    this.#db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value)
  }

  /** Runs `fn` in one transaction: durable when this returns, rolled back if `fn` throws. */
  transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN')
    let result: T
    try {
      result = fn()
      this.#writeRows()
    } catch (error) {
      this.#rows = []
      this.#db.exec('ROLLBACK')
      throw error
    }
    this.#db.exec('COMMIT')
    return result
  }

  topics(): StoredTopic[] {
    return this.#db
      .prepare('SELECT id, name, partitions, configs FROM topics ORDER BY name')
      .all()
      .map((row) => ({
        id: Number(row.id),
        name: String(row.name),
        partitions: Number(row.partitions),
        configs: JSON.parse(String(row.configs)) as Record<string, string>,
      }))
  }

  /** Inserts a topic row; call inside `transaction`. Returns the topic's new id. */
  insertTopic(name: string, partitions: number, configs: Record<string, string>): number {
    const row = this.#insertTopic.get(name, partitions, JSON.stringify(configs))
    return Number(row!.id)
  }

  /** Removes a topic, its records and every group's offsets for it; call inside `transaction`. */
  deleteTopic(id: number, name: string): void {
    this.#deleteTopicRecords.run(id)
    this.#deleteTopic.run(id)
    this.#deleteTopicOffsets.run(name)
  }

  /**
   * Appends one record; call inside `transaction`. Rows are written 64 to a statement: one call
   * into SQLite per row was the embedded log's largest cost.
   */
  insertRecord(
    topicId: number,
    partition: number,
    offset: number,
    timestamp: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: Uint8Array | null,
  ): void {
    this.#rows.push(topicId, partition, offset, timestamp, key, value, headers)
    if (this.#rows.length === ROWS_PER_INSERT * COLUMNS) this.#writeRows()
  }

  #writeRows(): void {
    const rows = this.#rows
    this.#rows = []
    if (rows.length === ROWS_PER_INSERT * COLUMNS) {
      this.#insertRecords.run(...(rows as SQLInputValue[]))
      return
    }
    for (let i = 0; i < rows.length; i += COLUMNS) {
      this.#insertRecord.run(...(rows.slice(i, i + COLUMNS) as SQLInputValue[]))
    }
  }

  /** Up to `limit` records of a partition from `fromOffset` on, in offset order. */
  readRange(topicId: number, partition: number, fromOffset: number, limit: number): RecordRow[] {
    return this.#readRange.all(topicId, partition, fromOffset, limit) as unknown as RecordRow[]
  }

  /**
   * Compacts a partition's records below `cleanableEnd`: of those, only the latest record of each key
   * stays, and the partition's first record; records from `cleanableEnd` on are untouched. Call inside
   * `transaction`. Returns how many records the partition holds after it.
   */
  compact(topicId: number, partition: number, cleanableEnd: number): number {
    this.#compact.run(topicId, partition, cleanableEnd, topicId, partition, topicId, partition, cleanableEnd)
    return Number(this.#countRecords.get(topicId, partition)!.n)
  }

  /** The first offset of a partition whose record's timestamp is after `timestamp`, if any. */
  firstOffsetAfter(topicId: number, partition: number, timestamp: number): number | undefined {
    const o = this.#firstOffsetAfter.get(topicId, partition, timestamp)?.o
    return o === null || o === undefined ? undefined : Number(o)
  }

  /** The first and last stored offsets of a partition, or undefined when it holds no records. */
  offsetBounds(topicId: number, partition: number): { first: number; last: number } | undefined {
    const first = this.#firstOffset.get(topicId, partition)
    const last = this.#lastOffset.get(topicId, partition)
    if (first === undefined || last === undefined) return undefined
    return { first: Number(first.offset), last: Number(last.offset) }
  }

  groupOffsets(groupId: string): { topic: string; partition: number; offset: number }[] {
    return this.#groupOffsets.all(groupId).map((row) => ({
      topic: String(row.topic),
      partition: Number(row.partition),
      offset: Number(row.offset),
    }))
  }

  groupOffset(groupId: string, topic: string, partition: number): number | undefined {
    const row = this.#groupOffset.get(groupId, topic, partition)
    return row === undefined ? undefined : Number(row.offset)
  }

  /** Sets (a number) or removes (null) a committed offset; call inside `transaction`. */
  setGroupOffset(groupId: string, topic: string, partition: number, offset: number | null): void {
    if (offset === null) this.#deleteGroupOffset.run(groupId, topic, partition)
    else this.#upsertGroupOffset.run(groupId, topic, partition, offset)
  }

  /** Releases the directory: the owner file goes first, so it never names a process that left. */
  close(): void {
    this.#lock.release()
    this.#db.close()
  }
}
