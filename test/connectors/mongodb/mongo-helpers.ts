/** Shared set-up of the MongoDB connector tests: a client on the test server and a sink task harness. */
import { randomUUID } from 'node:crypto'
import { after, before } from 'node:test'
import { MongoClient } from 'mongodb'
import type {
  OffsetStorageReader,
  Props,
  SinkTaskContext,
  SourceTaskContext,
} from '../../../src/api/connector.ts'
import {
  type OffsetMap,
  SinkRecord,
  type SinkRecordInit,
  type SourceRecord,
} from '../../../src/api/records.ts'
import { MongoSinkTask } from '../../../src/connectors/mongodb/sink/sink-task.ts'
import { MongoSourceTask } from '../../../src/connectors/mongodb/source/source-task.ts'
import { mongoUrl } from '../../helpers/services.ts'

/** A database name of its own per test file run, so runs never see each other's documents. */
export function freshDatabase(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`
}

export async function connect(uri = mongoUrl()): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 })
  await client.connect()
  return client
}

/**
 * For the enclosing `describe`: a fresh database name, and a client on the test server connected
 * before its tests; after them the database is dropped and the client closed.
 */
export function mongoTestDatabase(prefix: string): { readonly name: string; readonly client: MongoClient } {
  const name = freshDatabase(prefix)
  let client: MongoClient | undefined
  before(async () => {
    client = await connect()
  })
  after(async () => {
    await client
      ?.db(name)
      .dropDatabase()
      .catch(() => {})
    await client?.close()
  })
  return {
    name,
    get client(): MongoClient {
      if (client === undefined) throw new Error('the MongoDB client connects in before()')
      return client
    },
  }
}

export interface Reported {
  record: SinkRecord
  error: Error
}

/** A started sink task with a recording errant-record reporter (or none) and the timeouts it asked for. */
export function startSink(
  props: Props,
  options: { reporter?: boolean } = {},
): { task: MongoSinkTask; reported: Reported[]; timeouts: number[] } {
  const reported: Reported[] = []
  const timeouts: number[] = []
  const context: SinkTaskContext = {
    configs: () => props,
    offset: () => {},
    timeout: (ms) => {
      timeouts.push(ms)
    },
    assignment: () => [],
    pause: () => {},
    resume: () => {},
    requestCommit: () => {},
    errantRecordReporter: () =>
      options.reporter === false
        ? null
        : {
            report: async (record, error) => {
              reported.push({ record, error })
            },
          },
  }
  const task = new MongoSinkTask()
  task.initialize(context)
  task.start({ 'connection.uri': props['connection.uri'] ?? mongoUrl(), ...props })
  return { task, reported, timeouts }
}

let offset = 0
/** A sink record on `topic` (partition 0, increasing offsets). */
export function record(
  topic: string,
  key: unknown,
  value: unknown,
  extra: Partial<SinkRecordInit> = {},
): SinkRecord {
  return new SinkRecord({ topic, kafkaPartition: 0, kafkaOffset: offset++, key, value, ...extra })
}

/** A started source task with an in-memory offset reader (`offsets`) and the problems it reported. */
export function startSource(
  props: Props,
  offsets: Map<string, Record<string, unknown>> = new Map(),
): { task: MongoSourceTask; problems: (Error | null)[] } {
  const problems: (Error | null)[] = []
  const reader: OffsetStorageReader = {
    offset: async (partition) => (offsets.get(JSON.stringify(partition)) as OffsetMap | undefined) ?? null,
    offsets: async (partitions) =>
      new Map(partitions.map((p) => [p, (offsets.get(JSON.stringify(p)) as OffsetMap | undefined) ?? null])),
  }
  const context: SourceTaskContext = {
    configs: () => props,
    offsetStorageReader: () => reader,
    reportProblem: (problem) => {
      problems.push(problem)
    },
  }
  const task = new MongoSourceTask()
  task.initialize(context)
  task.start({
    'connection.uri': props['connection.uri'] ?? mongoUrl(),
    'poll.await.time.ms': '300',
    ...props,
  })
  return { task, problems }
}

/** Polls until `count` records arrived (or `timeoutMs` passed). */
export async function pollRecords(
  task: MongoSourceTask,
  count: number,
  timeoutMs = 15_000,
): Promise<SourceRecord[]> {
  const records: SourceRecord[] = []
  const deadline = Date.now() + timeoutMs
  while (records.length < count && Date.now() < deadline) records.push(...((await task.poll()) ?? []))
  return records
}
