/**
 * The MongoDB source task (`com.mongodb.kafka.connect.source.MongoSourceTask`): one change stream on
 * a collection, a database or the deployment, turned into records.
 *
 * Offsets, as the official connector stores them: partition `{"ns": "mongodb://<hosts>/<db>[.<coll>]"}`
 * (or `{"ns": offset.partition.name}`), offset `{"_id": "<resume token JSON>"}`; while copying
 * existing data `{"_id": "{\"_id\": <doc id>, \"copyingData\": true}", "copy": "true"}`; heartbeats
 * `{"_id": <token>, "HEARTBEAT": "true"}`. A stored token resumes the stream with `startAfter`.
 *
 * Start-up without offsets follows `startup.mode`. For `copy_existing` the change stream is opened
 * first, then every namespace is copied through `aggregate` with the official `$replaceRoot` shape
 * (insert-like events), then the stream is read from where it was opened, so changes made during the
 * copy are published after it (upserts downstream make that idempotent). A restart during the copy
 * copies again, as the official connector does; the last copied record stores the stream's opening
 * token when the server gave one, so a restart after the copy does not (KAFKA-428).
 *
 * Failures:
 * - server unreachable: the stream is closed, the problem shows in the task's status, and it is
 *   reopened from the last token read, after a backoff doubling from 1 s to 30 s;
 * - the stored resume token is no longer in the oplog (`ChangeStreamHistoryLost`, 286, or 280): with
 *   `errors.tolerance=none` the task fails with what was lost and how to start over; with `all` it
 *   starts again per `startup.mode` and says so in the log and the task's status — never silently;
 * - credentials refused, a bad pipeline: the task fails with the server's message.
 */
import {
  type ChangeStream,
  type ChangeStreamOptions,
  type Document,
  type MongoClient,
  MongoServerError,
} from 'mongodb'
import { type Props, SourceTask } from '../../../api/connector.ts'
import { ConnectError, DataError, errorMessage } from '../../../api/errors.ts'
import { connectLogger } from '../../../api/log.ts'
import { type OffsetMap, SourceRecord } from '../../../api/records.ts'
import { type BsonDocument, isDocument } from '../bson-document.ts'
import { classify, openClient, redactedHosts } from '../client.ts'
import { MONGODB_CONNECTOR_VERSION } from '../version.ts'
import { readSourceSettings, type SourceSettings } from './config.ts'
import { formatJson } from './json-formatter.ts'
import { makeProducer, type Producer, TopicMapper } from './record-output.ts'

const MIN_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000
const HISTORY_LOST_CODES = new Set([286, 280])
const BSON_OPTIONS = { promoteValues: false, promoteBuffers: false, promoteLongs: false } as const

/** The default source partition name: the hosts of `connection.uri` and the watched namespace. */
export function defaultPartitionName(s: SourceSettings): string {
  return `${redactedHosts(s.uri)}/${s.database}${s.collection === '' ? '' : `.${s.collection}`}`
}

export function isHistoryLost(error: unknown): boolean {
  if (
    error instanceof MongoServerError &&
    typeof error.code === 'number' &&
    HISTORY_LOST_CODES.has(error.code)
  )
    return true
  return (
    error instanceof Error &&
    /ChangeStreamHistoryLost|resume token was not found|resume point may no longer be in the oplog/i.test(
      error.message,
    )
  )
}

export class MongoSourceTask extends SourceTask {
  #s!: SourceSettings
  #props: Props = {}
  #client: MongoClient | undefined
  #partition: OffsetMap = {}
  #topics!: TopicMapper
  #key!: Producer
  #value!: Producer
  #stream: ChangeStream<BsonDocument, BsonDocument> | undefined
  /** Events read while opening the stream, before the copy. */
  #pending: BsonDocument[] = []
  /** The copy in progress: namespaces left and the cursor of the current one. */
  #copy:
    | { namespaces: { db: string; coll: string }[]; cursor: AsyncIterator<BsonDocument> | undefined }
    | undefined
  /** The token to reopen the stream from after a failure (the last event read). */
  #token: BsonDocument | undefined
  #opened = false
  #failures = 0
  #lastActivity = Date.now()
  #lastHeartbeatToken = ''
  #stopped = false
  #wake: (() => void) | undefined

  version(): string {
    return MONGODB_CONNECTOR_VERSION
  }

  start(props: Props): void {
    this.#props = props
    this.#s = readSourceSettings(props)
    this.#partition = { ns: this.#s.offsetPartitionName || defaultPartitionName(this.#s) }
    this.#topics = new TopicMapper(this.#s)
    this.#key = makeProducer(
      this.#s.keyFormat,
      this.#s.jsonFormat,
      this.#s.keyFormat === 'schema' ? this.#s.keySchema : undefined,
      'output.schema.key',
    )
    this.#value = makeProducer(
      this.#s.valueFormat,
      this.#s.jsonFormat,
      this.#s.valueFormat === 'schema' && !this.#s.inferValueSchema ? this.#s.valueSchema : undefined,
      'output.schema.value',
    )
    this.#client = openClient(this.#s.uri, 'sluice-mongodb-source')
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.#stopped) return null
    try {
      if (!this.#opened) await this.#open()
      const records = this.#copy ? await this.#copyBatch() : await this.#streamBatch()
      if (this.#failures > 0) {
        this.#failures = 0
        this.context.reportProblem?.(null)
      }
      return records
    } catch (error) {
      if (this.#stopped) return null
      return await this.#failed(error)
    }
  }

  #tolerant(): boolean {
    return (this.#props['errors.tolerance'] ?? 'none').toLowerCase() === 'all'
  }

  async #failed(error: unknown): Promise<SourceRecord[]> {
    await this.#closeStream()
    if (isHistoryLost(error)) {
      const lost = new ConnectError(
        'CONNECT',
        `the resume token stored for source partition ${JSON.stringify(this.#partition)} is no longer in the oplog (${errorMessage(error)}): ` +
          'the changes made since it are lost to this connector. To start over, stop the connector and reset its offsets ' +
          '(DELETE /connectors/<name>/offsets) or set offset.partition.name to a new name, with startup.mode=copy_existing to copy the current documents first; ' +
          'make the oplog larger (or set heartbeat.interval.ms on quiet collections) so it does not happen again',
        { cause: error },
      )
      if (!this.#tolerant()) throw lost
      connectLogger().error(
        `MongoDB source: ${lost.message}. errors.tolerance=all: starting again per startup.mode=${this.#s.startupMode}`,
      )
      // Stays in the task's status (not cleared by the next good poll): the loss needs a look.
      this.context.reportProblem?.(lost)
      this.#token = undefined
      this.#opened = false
      this.#restartFromStartupMode = true
      return []
    }
    const classified = classify(error, this.#s.uri, 'reading the change stream')
    if (!classified.retriable) throw classified
    const backoff = Math.min(MIN_BACKOFF_MS * 2 ** this.#failures, MAX_BACKOFF_MS)
    this.#failures++
    this.context.reportProblem?.(classified)
    connectLogger().warn(
      `MongoDB source: ${classified.message}; reopening the change stream in ${backoff} ms`,
    )
    this.#opened = false
    await this.#sleep(backoff)
    return []
  }

  /** After a lost token with errors.tolerance=all: ignore the stored offset once. */
  #restartFromStartupMode = false

  async #open(): Promise<void> {
    let startAfter = this.#token
    let copy = false
    let startAtOperationTime = undefined as SourceSettings['startAtOperationTime']
    if (startAfter === undefined) {
      const offset = this.#restartFromStartupMode
        ? null
        : await this.context.offsetStorageReader().offset(this.#partition)
      this.#restartFromStartupMode = false
      if (offset && typeof offset._id === 'string' && offset.copy !== 'true') {
        startAfter = parseToken(offset._id)
      } else if (offset && offset.copy === 'true') {
        connectLogger().warn(
          'MongoDB source: the copy of existing data was interrupted; copying again from the start',
        )
        copy = true
      } else if (this.#s.startupMode === 'copy_existing') {
        copy = true
      } else if (this.#s.startupMode === 'timestamp') {
        startAtOperationTime = this.#s.startAtOperationTime
      }
    }
    const options: ChangeStreamOptions = { ...BSON_OPTIONS, maxAwaitTimeMS: this.#s.pollAwaitTimeMs }
    if (this.#s.fullDocument !== '') options.fullDocument = this.#s.fullDocument
    if (this.#s.fullDocumentBeforeChange !== '')
      options.fullDocumentBeforeChange = this.#s.fullDocumentBeforeChange
    if (this.#s.batchSize > 0) options.batchSize = this.#s.batchSize
    if (this.#s.collation) options.collation = this.#s.collation as ChangeStreamOptions['collation']
    if (startAfter) options.startAfter = startAfter
    if (startAtOperationTime) options.startAtOperationTime = startAtOperationTime
    const client = this.#client!
    const stream =
      this.#s.database === ''
        ? client.watch<BsonDocument, BsonDocument>(this.#s.pipeline, options)
        : this.#s.collection === ''
          ? client.db(this.#s.database).watch<BsonDocument, BsonDocument>(this.#s.pipeline, options)
          : client
              .db(this.#s.database)
              .collection(this.#s.collection)
              .watch<BsonDocument, BsonDocument>(this.#s.pipeline, options)
    this.#stream = stream as ChangeStream<BsonDocument, BsonDocument>
    this.#pending = []
    if (copy) {
      // Opens the cursor now (an empty first batch waits poll.await.time.ms), so the changes made
      // during the copy are read after it.
      const first = await this.#stream.tryNext()
      if (first) this.#pending.push(first)
      this.#copy = { namespaces: await this.#namespacesToCopy(), cursor: undefined }
      connectLogger().info(
        `MongoDB source: copying ${this.#copy.namespaces.length} namespace(s) before streaming changes`,
      )
    }
    this.#opened = true
  }

  async #namespacesToCopy(): Promise<{ db: string; coll: string }[]> {
    const client = this.#client!
    const dbs =
      this.#s.database !== ''
        ? [this.#s.database]
        : (await client.db('admin').admin().listDatabases({ nameOnly: true })).databases
            .map((d) => d.name)
            .filter((d) => !['admin', 'local', 'config'].includes(d))
    const result: { db: string; coll: string }[] = []
    for (const db of dbs) {
      const colls =
        this.#s.collection !== '' && db === this.#s.database
          ? [this.#s.collection]
          : (await client.db(db).listCollections({}, { nameOnly: true }).toArray())
              .map((c) => c.name)
              .filter((c) => !c.startsWith('system.'))
      for (const coll of colls) {
        if (this.#s.copyNamespaceRegex && !this.#s.copyNamespaceRegex.test(`${db}.${coll}`)) continue
        result.push({ db, coll })
      }
    }
    return result
  }

  async #copyBatch(): Promise<SourceRecord[]> {
    const copy = this.#copy!
    const records: SourceRecord[] = []
    while (records.length < this.#s.pollMaxBatchSize) {
      if (copy.cursor === undefined) {
        const ns = copy.namespaces.shift()
        if (ns === undefined) {
          this.#copy = undefined
          connectLogger().info('MongoDB source: copy of existing data done; streaming changes')
          // The last copied record stores where the stream was opened (the official connector's
          // cached resume token), so a restart after the copy streams instead of copying again.
          // Only when no event was read yet: the token then lies before every change to publish.
          const token = this.#stream?.resumeToken as BsonDocument | undefined
          const last = records.at(-1)
          if (last && token && this.#pending.length === 0) {
            records[records.length - 1] = last.newRecord({
              sourceOffset: { _id: formatJson(token, 'relaxed') },
            })
          }
          break
        }
        const pipeline: Document[] = [
          ...this.#s.copyPipeline,
          {
            $replaceRoot: {
              newRoot: {
                _id: { _id: '$_id', copyingData: true },
                operationType: 'insert',
                ns: { db: ns.db, coll: ns.coll },
                documentKey: { _id: '$_id' },
                fullDocument: '$$ROOT',
              },
            },
          },
          ...this.#s.pipeline,
        ]
        copy.cursor = this.#client!.db(ns.db)
          .collection(ns.coll)
          .aggregate<BsonDocument>(pipeline, { ...BSON_OPTIONS, allowDiskUse: true })
          [Symbol.asyncIterator]()
      }
      const next = await copy.cursor.next()
      if (next.done) {
        copy.cursor = undefined
        continue
      }
      const record = this.#toRecord(next.value, true)
      if (record) records.push(record)
    }
    return records
  }

  async #streamBatch(): Promise<SourceRecord[]> {
    const stream = this.#stream!
    const records: SourceRecord[] = []
    while (records.length < this.#s.pollMaxBatchSize && !this.#stopped) {
      const event = this.#pending.shift() ?? (await stream.tryNext())
      if (event === null) break
      this.#token = (stream.resumeToken as BsonDocument | undefined) ?? (event._id as BsonDocument)
      const record = this.#toRecord(event, false)
      if (record) records.push(record)
      if (this.#pending.length === 0 && stream.bufferedCount() === 0) break
    }
    if (records.length > 0) {
      this.#lastActivity = Date.now()
      return records
    }
    return this.#heartbeat(stream)
  }

  #heartbeat(stream: ChangeStream<BsonDocument, BsonDocument>): SourceRecord[] {
    const s = this.#s
    if (s.heartbeatIntervalMs <= 0 || Date.now() - this.#lastActivity < s.heartbeatIntervalMs) return []
    const token = stream.resumeToken as BsonDocument | undefined
    if (!token) return []
    const json = formatJson(token, 'relaxed')
    if (json === this.#lastHeartbeatToken) return []
    this.#lastHeartbeatToken = json
    this.#lastActivity = Date.now()
    return [
      new SourceRecord({
        sourcePartition: this.#partition,
        sourceOffset: { _id: json, HEARTBEAT: 'true' },
        topic: s.heartbeatTopic,
        keySchema: null,
        key: json,
        valueSchema: null,
        value: null,
      }),
    ]
  }

  #toRecord(event: BsonDocument, copying: boolean): SourceRecord | undefined {
    const s = this.#s
    const offset: Record<string, string> = { _id: formatJson(event._id, 'relaxed') }
    if (copying) offset.copy = 'true'
    const topic = this.#topics.topic(event)
    if (topic === '') {
      connectLogger().warn(
        `MongoDB source: no topic for event ${formatJson(event, 'relaxed').slice(0, 300)}: it names no database`,
      )
      return undefined
    }
    let valueDoc: BsonDocument | undefined
    const tombstone = s.tombstoneOnDelete && !isDocument(event.fullDocument)
    if (s.publishFullDocumentOnly) {
      if (isDocument(event.fullDocument)) valueDoc = event.fullDocument
    } else valueDoc = event
    if (valueDoc === undefined && !tombstone) return undefined
    const keyDoc: BsonDocument =
      s.keyFormat === 'schema'
        ? event
        : s.documentKeyAsKey && isDocument(event.documentKey)
          ? event.documentKey
          : { _id: event._id }
    try {
      const key = this.#key(keyDoc)
      const value = tombstone ? { schema: null, value: null } : this.#value(valueDoc!)
      return new SourceRecord({
        sourcePartition: this.#partition,
        sourceOffset: offset,
        topic,
        keySchema: key.schema,
        key: key.value,
        valueSchema: value.schema,
        value: value.value,
      })
    } catch (error) {
      const wrapped =
        error instanceof DataError ? error : new DataError(errorMessage(error), { cause: error })
      if (!this.#tolerant()) throw wrapped
      connectLogger().error(
        `MongoDB source skipped event ${formatJson(event, 'relaxed').slice(0, 500)}: ${wrapped.message}`,
      )
      return undefined
    }
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    this.#wake = undefined
  }

  async #closeStream(): Promise<void> {
    const stream = this.#stream
    this.#stream = undefined
    this.#copy = undefined
    await stream?.close().catch(() => {})
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#wake?.()
    await this.#closeStream()
    const client = this.#client
    this.#client = undefined
    await client?.close(true).catch(() => {})
  }
}

function parseToken(json: string): BsonDocument {
  try {
    const parsed = JSON.parse(json)
    if (isDocument(parsed)) return parsed
  } catch {
    // reported below
  }
  throw new ConnectError(
    'CONNECT',
    `the stored offset's _id is not a resume token document: ${json}; reset the connector's offsets`,
  )
}
