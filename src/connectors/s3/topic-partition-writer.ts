/**
 * The files of one Kafka partition (Confluent's `TopicPartitionWriter`): one open file per encoded
 * partition, rotated together, and the offset that is safe to commit.
 *
 * Rotation, in the order Confluent checks it for each record: a schema change the compatibility
 * rule does not accept, `rotate.interval.ms` (record time, or a change of encoded partition, with a
 * time-based partitioner), `rotate.schedule.interval.ms` (wall clock, aligned to `timezone`), then
 * after writing `flush.size` records. A rotation commits *every* open file of the partition.
 *
 * Exactly once (decision 0022): a file is named by the offset of its first record, so a replay from
 * the same position writes the same names. After a rotation the writer records the end of what is
 * complete in a small commit marker object, `<topics.dir>/_sluice/commits/<topic>+<partition>.json`,
 * before it reports the offset to the runtime. On open, the task reads the marker, deletes objects
 * of this partition that start after it (written by a run that died before recording them: they
 * are uncommitted) and rewinds the consumer there. So a kill at any moment neither loses a record
 * nor leaves one in two objects, whatever the rotation rule.
 *
 * Failures: a request that fails leaves the writer's state as it was (bytes buffered, files open,
 * a rotation half done) and surfaces as a `RetriableError`; the runtime redelivers the batch, the
 * records already written are skipped by offset, and the unfinished work is done first.
 */
import type { SinkTaskContext } from '../../api/connector.ts'
import { type Schema, schemaEquals } from '../../api/data/schema.ts'
import { ConnectError, DataError } from '../../api/errors.ts'
import { connectLogger } from '../../api/log.ts'
import type { SinkRecord } from '../../api/records.ts'
import type { TopicPartition } from '../../api/topic-partition.ts'
import type { S3SinkSettings } from './config.ts'
import { type Datum, type FormatSpec, formatSpec, type RecordWriter } from './formats.ts'
import { nextScheduledRotation, type Partitioner } from './partitioner.ts'
import type { ObjectUpload, S3Store } from './s3-store.ts'

/** The commit marker's content. */
export interface CommitMarker {
  version: 1
  topic: string
  partition: number
  /** Every record up to and including this offset is in committed objects (or was skipped on purpose). */
  endOffset: number
  /** The objects of the last rotation. */
  objects: string[]
}

interface FilePart {
  upload: ObjectUpload
  writer: RecordWriter
  finished: boolean
}

interface OpenFile {
  encodedPartition: string
  startOffset: number
  schema: Schema | null
  value: FilePart | null
  keys: FilePart | null
  headers: FilePart | null
}

export interface WriterDeps {
  settings: S3SinkSettings
  store: S3Store
  partitioner: Partitioner
  context: SinkTaskContext
  valueFormat: FormatSpec
  keysFormat: FormatSpec | null
  headersFormat: FormatSpec | null
  now: () => number
}

export class TopicPartitionWriter {
  readonly tp: TopicPartition
  readonly #d: WriterDeps
  readonly #files = new Map<string, OpenFile>()
  /** Next offset to accept; earlier ones are redeliveries of records already written. */
  #nextExpected: number | null = null
  /** The offset safe to commit (everything before it is in committed objects), once known. */
  #committed: number | null = null
  #recordCount = 0
  #lastWritten = -1
  #baseTimestamp: number | null = null
  #currentEncoded: string | null = null
  #rotating = false
  #nextScheduled = Number.POSITIVE_INFINITY
  #recovered = false

  constructor(tp: TopicPartition, deps: WriterDeps) {
    this.tp = tp
    this.#d = deps
    this.#scheduleNext()
  }

  get committedOffset(): number | null {
    if (this.#files.size === 0 && !this.#rotating && this.#nextExpected !== null) return this.#nextExpected
    return this.#committed
  }

  get recovered(): boolean {
    return this.#recovered
  }

  markerKey(): string {
    const { topicsDir, directoryDelim: d, fileDelim: f } = this.#d.settings
    return `${topicsDir === '' ? '' : `${topicsDir}${d}`}_sluice${d}commits${d}${this.tp.topic}${f}${this.tp.partition}.json`
  }

  /**
   * Reads the commit marker, deletes the uncommitted objects after it and returns the offset to
   * resume from (null without a marker: the consumer group's offset stands, as in Confluent's sink).
   */
  async recover(): Promise<number | null> {
    const raw = await this.#d.store.get(this.markerKey())
    if (raw === null) {
      this.#recovered = true
      return null
    }
    let marker: CommitMarker
    try {
      marker = JSON.parse(new TextDecoder().decode(raw)) as CommitMarker
    } catch (error) {
      throw new ConnectError(
        'CONNECT',
        `the commit marker s3://${this.#d.settings.bucket}/${this.markerKey()} is not JSON: delete it to start from the consumer group's offsets`,
        { cause: error },
      )
    }
    const resume = marker.endOffset + 1
    const orphans: string[] = []
    for await (const key of this.#d.store.list(this.#listPrefix(), this.#startAfter(resume))) {
      const start = this.#startOffsetOf(key)
      if (start !== null && start >= resume) orphans.push(key)
    }
    for (const key of orphans) {
      connectLogger().warn(
        `deleting s3://${this.#d.settings.bucket}/${key}: written after the last recorded commit of ${this.tp.topic}-${this.tp.partition} (offset ${marker.endOffset}) by a run that did not finish; its records are written again`,
      )
      await this.#d.store.delete(key)
    }
    this.#nextExpected = resume
    this.#committed = resume
    this.#recovered = true
    return resume
  }

  /** The prefix holding every object of this partition (just its directory with the DefaultPartitioner). */
  #listPrefix(): string {
    const s = this.#d.settings
    const top = s.topicsDir === '' ? '' : `${s.topicsDir}${s.directoryDelim}`
    if (s.partitioner === 'default')
      return `${top}${this.#d.partitioner.partitionedPath(this.tp.topic, `partition=${this.tp.partition}`)}${s.directoryDelim}`
    return `${top}${this.tp.topic}${s.directoryDelim}`
  }

  #startAfter(resume: number): string | undefined {
    if (this.#d.settings.partitioner !== 'default' || resume === 0) return undefined
    return `${this.#listPrefix()}${this.#baseName(resume - 1)}`
  }

  #baseName(offset: number): string {
    const s = this.#d.settings
    return `${this.tp.topic}${s.fileDelim}${this.tp.partition}${s.fileDelim}${String(offset).padStart(s.zeroPadWidth, '0')}`
  }

  /** The start offset in an object name of this partition, or null for another partition's object. */
  #startOffsetOf(key: string): number | null {
    const s = this.#d.settings
    const name = key.slice(key.lastIndexOf(s.directoryDelim) + 1)
    const prefix = `${this.tp.topic}${s.fileDelim}${this.tp.partition}${s.fileDelim}`
    if (!name.startsWith(prefix)) return null
    const digits = /^\d+/.exec(name.slice(prefix.length))
    return digits ? Number(digits[0]) : null
  }

  /** Writes the partition's records (in offset order); throws a RetriableError to be called again. */
  async write(records: SinkRecord[]): Promise<void> {
    await this.#finishPendingWork()
    for (const record of records) {
      const offset = record.originalKafkaOffset
      if (this.#nextExpected !== null && offset < this.#nextExpected) continue
      await this.#writeRecord(record)
    }
    await this.#rotateOnTimeWithoutData()
  }

  /** Work a failed request left: parts to send, a rotation to finish. */
  async #finishPendingWork(): Promise<void> {
    if (this.#rotating || this.#recordCount >= this.#d.settings.flushSize) {
      await this.#commitFiles()
      return
    }
    for (const file of this.#files.values()) await this.#sendParts(file)
  }

  async #writeRecord(record: SinkRecord): Promise<void> {
    const s = this.#d.settings
    const now = this.#d.now()
    const offset = record.originalKafkaOffset
    const tombstone = record.value === null
    if (tombstone && s.nullValues !== 'write') {
      if (s.nullValues === 'ignore') {
        this.#nextExpected = offset + 1
        return
      }
      await this.#reject(
        record,
        new DataError(
          `record ${this.#where(offset)} has a null value (a tombstone) and behavior.on.null.values=fail: set it to ignore or write, or route the record elsewhere`,
        ),
      )
      return
    }
    let encoded: string
    let timestamp: number | null = null
    try {
      encoded = tombstone ? s.tombstonePartition : this.#d.partitioner.encodePartition(record, now)
      if (this.#d.partitioner.extractor !== null)
        timestamp = this.#d.partitioner.extractor.extract(record, now)
    } catch (error) {
      if (!(error instanceof DataError)) throw error
      await this.#reject(record, error)
      return
    }
    const existing = this.#files.get(encoded)
    if (
      existing !== undefined &&
      this.#recordCount > 0 &&
      !tombstone &&
      this.#schemaChanged(existing.schema, record.valueSchema)
    ) {
      await this.#commitFiles()
    } else if (this.#rotateOnTime(encoded, timestamp, now)) {
      await this.#commitFiles()
    }
    let file = this.#files.get(encoded)
    const created = file === undefined
    try {
      if (file === undefined) file = this.#openFile(encoded, offset, record, tombstone)
      this.#append(file, record, tombstone)
    } catch (error) {
      if (created && file !== undefined) this.#files.delete(encoded)
      if (!(error instanceof DataError)) throw error
      await this.#reject(record, error)
      return
    }
    this.#recordCount++
    this.#lastWritten = offset
    this.#nextExpected = offset + 1
    this.#currentEncoded = encoded
    if (timestamp !== null && this.#baseTimestamp === null) this.#baseTimestamp = timestamp
    await this.#sendParts(file)
    if (this.#recordCount >= s.flushSize) await this.#commitFiles()
  }

  /** A record this format or partitioner cannot take: to the dead-letter queue per errors.tolerance, or the task fails. */
  async #reject(record: SinkRecord, error: DataError): Promise<void> {
    const reporter = this.#d.context.errantRecordReporter()
    if (reporter === null) throw error
    await reporter.report(record, error)
    this.#nextExpected = record.originalKafkaOffset + 1
  }

  #where(offset: number): string {
    return `${this.tp.topic}-${this.tp.partition}@${offset}`
  }

  #openFile(encoded: string, offset: number, record: SinkRecord, tombstone: boolean): OpenFile {
    const d = this.#d
    const s = d.settings
    const top = s.topicsDir === '' ? '' : `${s.topicsDir}${s.directoryDelim}`
    const base = `${top}${d.partitioner.partitionedPath(this.tp.topic, encoded)}${s.directoryDelim}${this.#baseName(offset)}`
    const part = (spec: FormatSpec, suffix: string, schema: Schema | null): FilePart => {
      const upload = d.store.upload(`${base}${suffix}${spec.extension}`)
      return { upload, writer: spec.create(upload, schema), finished: false }
    }
    const file: OpenFile = {
      encodedPartition: encoded,
      startOffset: offset,
      schema: record.valueSchema,
      value: tombstone ? null : part(d.valueFormat, '', record.valueSchema),
      keys: d.keysFormat ? part(d.keysFormat, '.keys', record.keySchema) : null,
      headers: d.headersFormat ? part(d.headersFormat, '.headers', null) : null,
    }
    this.#files.set(encoded, file)
    return file
  }

  /** Converts everything first, then appends: a DataError leaves the files as they were. */
  #append(file: OpenFile, record: SinkRecord, tombstone: boolean): void {
    const writes: [FilePart, Datum][] = []
    if (file.value !== null && !tombstone)
      writes.push([file.value, { schema: record.valueSchema, value: record.value }])
    if (file.keys !== null) writes.push([file.keys, { schema: record.keySchema, value: record.key }])
    if (file.headers !== null) {
      writes.push([
        file.headers,
        { schema: null, value: [...record.headers].map((h) => ({ key: h.key, value: h.value })) },
      ])
    }
    const appends = writes.map(([part, datum]) => part.writer.prepare(datum))
    for (const append of appends) append()
  }

  async #sendParts(file: OpenFile): Promise<void> {
    const size = this.#d.settings.partSize
    for (const part of [file.value, file.keys, file.headers])
      if (part !== null) await part.upload.sendFullParts(size)
  }

  #schemaChanged(current: Schema | null, next: Schema | null): boolean {
    if (current === next) return false
    const mode = this.#d.settings.compatibility
    if (current === null || next === null) return true
    const versioned = current.version !== undefined && next.version !== undefined
    if (mode === 'NONE' || !versioned || current.name !== next.name) return !schemaEquals(current, next)
    if (mode === 'FORWARD') return next.version! < current.version!
    // BACKWARD and FULL keep the newest schema: a newer version starts new files.
    return next.version! > current.version!
  }

  #rotateOnTime(encoded: string, timestamp: number | null, now: number): boolean {
    if (this.#recordCount <= 0) return false
    const s = this.#d.settings
    const periodic =
      s.rotateIntervalMs > 0 &&
      this.#d.partitioner.extractor !== null &&
      timestamp !== null &&
      this.#baseTimestamp !== null &&
      (timestamp - this.#baseTimestamp >= s.rotateIntervalMs || encoded !== this.#currentEncoded)
    const scheduled = s.rotateScheduleIntervalMs > 0 && now >= this.#nextScheduled
    return periodic || scheduled
  }

  /**
   * Rotation when no record comes: the schedule, and `rotate.interval.ms` with the wall clock
   * extractor (record-time rotation waits for a record, as in Confluent's, to stay deterministic).
   */
  async #rotateOnTimeWithoutData(): Promise<void> {
    const s = this.#d.settings
    const now = this.#d.now()
    if (s.rotateScheduleIntervalMs > 0 && now >= this.#nextScheduled) {
      if (this.#recordCount > 0) await this.#commitFiles()
      else this.#scheduleNext()
      return
    }
    const extractor = this.#d.partitioner.extractor
    if (
      this.#recordCount > 0 &&
      s.rotateIntervalMs > 0 &&
      extractor?.name === 'Wallclock' &&
      this.#baseTimestamp !== null &&
      now - this.#baseTimestamp >= s.rotateIntervalMs
    ) {
      await this.#commitFiles()
    }
  }

  #scheduleNext(): void {
    const s = this.#d.settings
    if (s.rotateScheduleIntervalMs > 0)
      this.#nextScheduled = nextScheduledRotation(this.#d.now(), s.rotateScheduleIntervalMs, s.timezone)
  }

  /** Commits every open file, then the marker; resumable after a failure at any step. */
  async #commitFiles(): Promise<void> {
    this.#rotating = true
    const s = this.#d.settings
    const keys: string[] = []
    const files = [...this.#files.values()].sort((a, b) => a.startOffset - b.startOffset)
    const parts = files.flatMap((f) => [f.value, f.keys, f.headers].filter((p): p is FilePart => p !== null))
    for (const part of parts) {
      if (!part.finished) {
        part.writer.finish()
        part.finished = true
      }
      keys.push(part.upload.key)
    }
    // The objects of a rotation are independent; only the marker must wait for all of them.
    await Promise.all(
      parts.map(async (part) => {
        const result = await part.upload.commit(s.conditionalWrites)
        if (result === 'exists') {
          connectLogger().warn(
            `s3://${s.bucket}/${part.upload.key} already existed (left by a run that did not record it as committed); replacing it`,
          )
          await part.upload.commit(false)
        }
      }),
    )
    this.#files.clear()
    const end = (this.#nextExpected ?? this.#lastWritten + 1) - 1
    if (end >= 0) {
      const marker: CommitMarker = {
        version: 1,
        topic: this.tp.topic,
        partition: this.tp.partition,
        endOffset: end,
        objects: keys,
      }
      await this.#d.store.put(
        this.markerKey(),
        new TextEncoder().encode(`${JSON.stringify(marker)}\n`),
        false,
      )
      this.#committed = end + 1
    }
    this.#rotating = false
    this.#recordCount = 0
    this.#baseTimestamp = null
    this.#currentEncoded = null
    this.#scheduleNext()
    this.#d.context.requestCommit()
  }

  /** Drops the open files without committing them (their records are delivered again). */
  async abort(): Promise<void> {
    const files = [...this.#files.values()]
    this.#files.clear()
    await Promise.all(
      files.flatMap((f) =>
        [f.value, f.keys, f.headers].filter((p) => p !== null).map((p) => p.upload.abort()),
      ),
    )
  }

  /** Bytes buffered in this partition's open files (for memory checks). */
  get bufferedBytes(): number {
    let n = 0
    for (const f of this.#files.values())
      for (const p of [f.value, f.keys, f.headers]) if (p) n += p.upload.buffered
    return n
  }
}

export function formatsFor(
  s: S3SinkSettings,
): Pick<WriterDeps, 'valueFormat' | 'keysFormat' | 'headersFormat'> {
  return {
    valueFormat: formatSpec(s.format, s),
    keysFormat: s.storeKeys ? formatSpec(s.keysFormat, s) : null,
    headersFormat: s.storeHeaders ? formatSpec(s.headersFormat, s) : null,
  }
}
