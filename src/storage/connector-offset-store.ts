/**
 * A source connector's offsets when it has its own offsets topic (`offsets.storage.topic`, KIP-618;
 * Kafka Connect's `ConnectorOffsetBackingStore` with a connector store and the worker store):
 *
 * - reads: the connector's topic first; the worker's global offsets topic answers for the keys the
 *   connector's topic does not hold (a connector that ran before it had its own topic resumes where
 *   it was);
 * - writes: to the connector's topic, then the non-null offsets to the global topic as well, after
 *   the first write succeeded, without waiting for it (a failure there is only logged), so that
 *   the global topic keeps following the connector;
 * - null offsets (deletions) go to the global topic first, and only once they are written there to
 *   the connector's topic: a deletion is never undone by the fallback to an older global value;
 * - exactly-once: the offset records are the connector topic's, sent in the task's transaction;
 *   deletions reach the global topic before the transaction commits, the other offsets after it.
 *
 * The connector's topic is created (if missing) and read on first use, or at `start()`; the worker's
 * store is shared and stays open, `close()` closes the connector's.
 */
import { ConnectError, errorMessage } from '../api/errors.ts'
import type { Logger } from '../common/logger.ts'
import type { ProduceRecord } from '../log/log.ts'
import { canonicalOffsetKey, type OffsetStore } from './offset-store.ts'

export interface ConnectorOffsetStoreOptions {
  /** The store of the connector's topic, not started yet. */
  own: OffsetStore & { start(): Promise<void> }
  /** Creates the connector's topic if missing (and checks it), before `own` starts. */
  prepare(): Promise<void>
  /** The worker's store (its global offsets topic). */
  global: OffsetStore
  logger: Logger
}

export class ConnectorOffsetStore implements OffsetStore {
  readonly #o: ConnectorOffsetStoreOptions
  readonly #own: OffsetStore
  readonly #global: OffsetStore
  #started: Promise<void> | undefined
  #closed: Promise<void> | undefined
  /** Writes to the global topic under way, in order. */
  #globalWrites: Promise<void> = Promise.resolve()

  constructor(options: ConnectorOffsetStoreOptions) {
    this.#o = options
    this.#own = options.own
    this.#global = options.global
  }

  /** Creates the connector's topic if missing and reads it to its end (once; later calls wait for it). */
  start(): Promise<void> {
    // Started after its close, the reader would tail the topic with nobody left to close it.
    if (this.#closed && !this.#started)
      return Promise.reject(new ConnectError('CONNECT', "the connector's offsets topic reader is closed"))
    this.#started ??= (async () => {
      await this.#o.prepare()
      await this.#o.own.start()
    })()
    return this.#started
  }

  async get(keys: readonly string[]): Promise<Map<string, string>> {
    await this.start()
    const [global, own] = await Promise.all([this.#global.get(keys), this.#own.get(keys)])
    return new Map([...global, ...own])
  }

  async set(entries: ReadonlyMap<string, string | null>): Promise<void> {
    await this.start()
    await this.beforeCommit(entries)
    await this.#own.set(entries)
    this.#copyToGlobal(entries)
  }

  /**
   * The deletions among `entries`, written to the global topic (before the connector's topic sees
   * them), after the copies still under way: an earlier offset of the same partition landing after
   * its deletion would be served again by the fallback.
   */
  async beforeCommit(entries: ReadonlyMap<string, string | null>): Promise<void> {
    const deletions = new Map([...entries].filter(([, value]) => value === null))
    if (deletions.size === 0) return
    const write = this.#globalWrites.then(() => this.#global.set(deletions))
    this.#globalWrites = write.catch(() => {})
    await write
  }

  transactionRecords(entries: ReadonlyMap<string, string | null>): ProduceRecord[] {
    return this.#own.transactionRecords!(entries)
  }

  applyCommitted(entries: ReadonlyMap<string, string | null>): void {
    this.#own.applyCommitted!(entries)
    this.#copyToGlobal(entries)
  }

  /** Every entry of the connector in either topic, the connector topic's where both hold the partition. */
  async connectorEntries(connector: string): Promise<Map<string, string>> {
    await this.start()
    const [global, own] = await Promise.all([
      this.#global.connectorEntries(connector),
      this.#own.connectorEntries(connector),
    ])
    const byPartition = new Map<string, [string, string]>()
    for (const entries of [global, own])
      for (const [key, value] of entries) byPartition.set(canonicalOffsetKey(key) ?? key, [key, value])
    return new Map(byPartition.values())
  }

  /**
   * Every stored key of the connector in both topics, each spelling of a partition (a Java worker may
   * have written its fields in another order): an offsets reset tombstones them all.
   */
  async connectorKeys(connector: string): Promise<string[]> {
    await this.start()
    const [global, own] = await Promise.all([
      this.#global.connectorEntries(connector),
      this.#own.connectorEntries(connector),
    ])
    return [...new Set([...global.keys(), ...own.keys()])]
  }

  #copyToGlobal(entries: ReadonlyMap<string, string | null>): void {
    const offsets = new Map([...entries].filter(([, value]) => value !== null))
    // Closed (a cancelled task whose transaction committed late): the connector's topic has the
    // offsets, and a copy landing after an offsets reset would be served again by the fallback.
    if (offsets.size === 0 || this.#closed) return
    this.#globalWrites = this.#globalWrites
      .then(() => this.#global.set(offsets))
      .catch((error: unknown) =>
        this.#o.logger.warn(
          `writing source offsets to the worker's offsets topic as well failed (the connector's own topic has them): ${errorMessage(error)}`,
        ),
      )
  }

  /** Waits for the copies to the global topic, then closes the connector's topic (not the worker's). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#started?.catch(() => {})
      await this.#globalWrites
      await this.#own.close()
    })()
    return this.#closed
  }
}
