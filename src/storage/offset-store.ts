/**
 * Source offsets, stored as Kafka Connect stores them: key `["<connector>",{<source partition>}]`,
 * value `{<source offset>}`, both the compact JSON Jackson writes (no spaces, insertion order), so
 * a store can be read by — or filled from — a Java worker. A null value deletes an offset.
 */
import { ConnectError } from '../api/errors.ts'
import type { OffsetMap } from '../api/records.ts'
import type { ProduceRecord } from '../log/log.ts'

export interface OffsetStore {
  /** Values of these serialized keys; missing keys are absent. */
  get(keys: readonly string[]): Promise<Map<string, string>>
  /** Writes the entries durably (null deletes) and resolves once they are. */
  set(entries: ReadonlyMap<string, string | null>): Promise<void>
  /** Every stored entry whose key belongs to the connector (for the offsets REST endpoint). */
  connectorEntries(connector: string): Promise<Map<string, string>>
  /**
   * Every stored key of the connector, where `connectorEntries` keeps one per partition (a store
   * over two topics): what an offsets reset deletes. Without it, the keys of `connectorEntries`.
   */
  connectorKeys?(connector: string): Promise<string[]>
  /**
   * Where offsets live in a topic (Kafka): the records that write these entries there, for an
   * exactly-once source task to send in the transaction of its records (KIP-618).
   */
  transactionRecords?(entries: ReadonlyMap<string, string | null>): ProduceRecord[]
  /**
   * Awaited before the transaction carrying these entries commits (a connector's own offsets topic:
   * its deletions reach the worker's global topic first).
   */
  beforeCommit?(entries: ReadonlyMap<string, string | null>): Promise<void>
  /** The transaction carrying these entries committed: serve them now, before the topic is read back. */
  applyCommitted?(entries: ReadonlyMap<string, string | null>): void
  close(): Promise<void>
}

export function offsetKey(connector: string, partition: OffsetMap): string {
  return JSON.stringify([connector, partition])
}

export function parseOffsetKey(key: string): { connector: string; partition: OffsetMap } | null {
  try {
    const parsed = JSON.parse(key) as unknown
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      isOffsetMap(parsed[1])
    ) {
      return { connector: parsed[0], partition: parsed[1] }
    }
  } catch {
    // A key another tool wrote in some other shape: not ours to interpret.
  }
  return null
}

/** The same map with keys sorted: how keys written with another field order are matched. */
export function canonicalOffsetKey(key: string): string | null {
  const parsed = parseOffsetKey(key)
  if (!parsed) return null
  const sorted = Object.fromEntries(
    Object.entries(parsed.partition).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  )
  return JSON.stringify([parsed.connector, sorted])
}

export function isOffsetMap(value: unknown): value is OffsetMap {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  return Object.values(value).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
}

export function parseOffsetValue(text: string, key: string): OffsetMap {
  const value = JSON.parse(text) as unknown
  if (!isOffsetMap(value)) {
    throw new ConnectError(
      'CONNECT',
      `stored offset for ${key} is not a flat JSON object: ${text.slice(0, 200)}`,
    )
  }
  return value
}
