/**
 * The workers compared side by side, each launched like connect-standalone with the same worker
 * keys (Kafka Connect's names): JsonConverter with schemas off for keys and values, a file offset
 * store in the run's own directory, a loopback REST listener on a port of its own.
 */
import { createServer } from 'node:net'
import { join } from 'node:path'
import { CONNECT_VERSION, startConnectStandalone } from '../jvm/connect.ts'
import { startSluiceStandalone } from './sluice.ts'
import type { WorkerProcess } from './worker-process.ts'

export type CaseName = 'sluice-kafka' | 'sluice-embedded' | 'connect-kafka'
export const ALL_CASES: readonly CaseName[] = ['sluice-kafka', 'sluice-embedded', 'connect-kafka']

export interface BenchCase {
  name: CaseName
  /** What the table calls it. */
  label: string
  /** Needs the Kafka broker (topics are created there beforehand). */
  kafka: boolean
  start(options: {
    cwd: string
    port: number
    bootstrap?: string
    connectorFiles: string[]
    offsetFlushIntervalMs: number
    /** Sluice's `task.threads` (decision 0029); absent: the default. Ignored by Kafka Connect. */
    taskThreads?: string
  }): WorkerProcess
}

export function parseCases(raw: string | undefined): CaseName[] {
  if (raw === undefined || raw === '') return [...ALL_CASES]
  const names = raw.split(',').map((s) => s.trim())
  for (const name of names) {
    if (!ALL_CASES.includes(name as CaseName)) {
      throw new Error(`unknown case '${name}'; choose from ${ALL_CASES.join(', ')}`)
    }
  }
  return names as CaseName[]
}

export function workerProperties(options: {
  taskThreads?: string
  cwd: string
  port: number
  bootstrap?: string
  offsetFlushIntervalMs: number
}): Record<string, string | number> {
  return {
    ...(options.taskThreads === undefined ? {} : { 'task.threads': options.taskThreads }),
    ...(options.bootstrap === undefined ? {} : { 'bootstrap.servers': options.bootstrap }),
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': 'false',
    'value.converter.schemas.enable': 'false',
    'offset.storage.file.filename': join(options.cwd, 'connect.offsets'),
    'offset.flush.interval.ms': options.offsetFlushIntervalMs,
    listeners: `http://127.0.0.1:${options.port}`,
  }
}

export function benchCase(name: CaseName): BenchCase {
  switch (name) {
    case 'sluice-kafka':
      return {
        name,
        label: 'Sluice on Kafka',
        kafka: true,
        start: (o) =>
          startSluiceStandalone({
            cwd: o.cwd,
            worker: workerProperties(o),
            connectorFiles: o.connectorFiles,
          }),
      }
    case 'sluice-embedded':
      return {
        name,
        label: 'Sluice on the embedded log',
        kafka: false,
        start: (o) =>
          startSluiceStandalone({
            cwd: o.cwd,
            // No bootstrap.servers: the embedded log, its data under the run's directory.
            worker: {
              ...workerProperties({ ...o, bootstrap: undefined }),
              'sluice.data.dir': join(o.cwd, 'data'),
            },
            connectorFiles: o.connectorFiles,
          }),
      }
    case 'connect-kafka':
      return {
        name,
        label: `Kafka Connect ${CONNECT_VERSION} on Kafka`,
        kafka: true,
        start: (o) =>
          startConnectStandalone({
            cwd: o.cwd,
            worker: workerProperties({ ...o, taskThreads: undefined }),
            connectorFiles: o.connectorFiles,
          }),
      }
  }
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
