/**
 * The write load of the chaos tests: one connection to the source database, ~`rate` transactions a
 * second, each one of: insert of a new id, update, delete, re-insert of a deleted id, primary-key
 * change, two updates of one row in one transaction, or a rolled-back transaction. Connection errors
 * (a server restart, a cut connection) are waited out: the load reconnects, re-reads which ids exist
 * and goes on. Seeded, so a failing run's load can be replayed (`SLUICE_CHAOS_SEED`).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'

export const TABLE = 'items'
/** Ids the load uses; id 0 is the progress marker (see `Marker`). */
const MAX_ID = 400

export const CREATE_TABLE = `CREATE TABLE ${TABLE} (id int PRIMARY KEY, v int NOT NULL, note text)`

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface LoadStats {
  committed: number
  rolledBack: number
  errors: number
  byKind: Record<string, number>
  lastError: string | null
}

export class Load {
  readonly seed: number
  readonly stats: LoadStats = { committed: 0, rolledBack: 0, errors: 0, byKind: {}, lastError: null }
  readonly #url: string
  readonly #rate: number
  readonly #next: () => number
  #present = new Set<number>()
  #deleted = new Set<number>()
  #stopping = false
  #running: Promise<void> | null = null
  #client: pg.Client | null = null

  constructor(url: string, options: { rate?: number; seed?: number } = {}) {
    this.#url = url
    this.#rate = options.rate ?? 100
    this.seed = options.seed ?? Number(process.env.SLUICE_CHAOS_SEED ?? Date.now() % 1_000_000)
    this.#next = random(this.seed)
  }

  start(): void {
    this.#running = this.#loop()
  }

  /** Stops after the transaction in flight; resolves once no transaction is open. */
  async stop(): Promise<void> {
    this.#stopping = true
    await this.#running
  }

  async #connect(): Promise<pg.Client> {
    for (;;) {
      const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 2000 })
      client.on('error', () => {}) // a cut connection: the next query fails and we reconnect
      try {
        await client.connect()
        const { rows } = await client.query<{ id: number }>(`SELECT id FROM ${TABLE} WHERE id > 0`)
        this.#present = new Set(rows.map((r) => r.id))
        for (const id of this.#present) this.#deleted.delete(id)
        return client
      } catch (error) {
        this.stats.lastError = String(error)
        await client.end().catch(() => {})
        if (this.#stopping) throw error
        await sleep(200)
      }
    }
  }

  #pick(from: Set<number>): number | undefined {
    if (from.size === 0) return undefined
    const all = [...from]
    return all[Math.floor(this.#next() * all.length)]
  }

  #unused(): number | undefined {
    for (let tries = 0; tries < 20; tries++) {
      const id = 1 + Math.floor(this.#next() * MAX_ID)
      if (!this.#present.has(id)) return id
    }
    return undefined
  }

  /** One transaction: its statements, its kind, and what it does to the id sets once committed. */
  #plan(): { kind: string; sql: string[]; apply: () => void; rollback?: boolean } | undefined {
    const r = this.#next()
    const v = Math.floor(this.#next() * 1_000_000)
    const note = `n${v.toString(36)}`
    if (r < 0.2 || this.#present.size < 20) {
      const id = this.#unused()
      if (id === undefined) return undefined
      const kind = this.#deleted.has(id) ? 'reinsert' : 'insert'
      return {
        kind,
        sql: [`INSERT INTO ${TABLE} VALUES (${id}, ${v}, '${note}')`],
        apply: () => {
          this.#present.add(id)
          this.#deleted.delete(id)
        },
      }
    }
    if (r < 0.3 && this.#deleted.size > 0) {
      const id = this.#pick(this.#deleted)!
      return {
        kind: 'reinsert',
        sql: [`INSERT INTO ${TABLE} VALUES (${id}, ${v}, '${note}')`],
        apply: () => {
          this.#present.add(id)
          this.#deleted.delete(id)
        },
      }
    }
    const id = this.#pick(this.#present)!
    if (r < 0.6) {
      return {
        kind: 'update',
        sql: [`UPDATE ${TABLE} SET v = ${v}, note = '${note}' WHERE id = ${id}`],
        apply: () => {},
      }
    }
    if (r < 0.7) {
      return {
        kind: 'update-twice',
        sql: [
          `UPDATE ${TABLE} SET v = v + 1 WHERE id = ${id}`,
          `UPDATE ${TABLE} SET v = ${v}, note = '${note}' WHERE id = ${id}`,
        ],
        apply: () => {},
      }
    }
    if (r < 0.82) {
      return {
        kind: 'delete',
        sql: [`DELETE FROM ${TABLE} WHERE id = ${id}`],
        apply: () => {
          this.#present.delete(id)
          this.#deleted.add(id)
        },
      }
    }
    if (r < 0.9) {
      const to = this.#unused()
      if (to === undefined) return undefined
      return {
        kind: 'pk-change',
        sql: [`UPDATE ${TABLE} SET id = ${to}, v = ${v} WHERE id = ${id}`],
        apply: () => {
          this.#present.delete(id)
          this.#deleted.add(id)
          this.#present.add(to)
          this.#deleted.delete(to)
        },
      }
    }
    return {
      kind: 'rollback',
      sql: [
        `UPDATE ${TABLE} SET v = -1, note = 'rolled back' WHERE id = ${id}`,
        `DELETE FROM ${TABLE} WHERE id = ${this.#pick(this.#present)!}`,
      ],
      apply: () => {},
      rollback: true,
    }
  }

  async #loop(): Promise<void> {
    const interval = 1000 / this.#rate
    let due = Date.now()
    while (!this.#stopping) {
      this.#client ??= await this.#connect()
      const plan = this.#plan()
      if (plan) {
        try {
          await this.#client.query('BEGIN')
          for (const statement of plan.sql) await this.#client.query(statement)
          await this.#client.query(plan.rollback ? 'ROLLBACK' : 'COMMIT')
          if (plan.rollback) this.stats.rolledBack++
          else {
            plan.apply()
            this.stats.committed++
          }
          this.stats.byKind[plan.kind] = (this.stats.byKind[plan.kind] ?? 0) + 1
        } catch (error) {
          // The commit may or may not have happened: reconnecting re-reads the ids.
          this.stats.errors++
          this.stats.lastError = String(error)
          await this.#client.end().catch(() => {})
          this.#client = null
        }
      }
      due += interval
      const wait = due - Date.now()
      if (wait > 0) await sleep(wait)
      else if (wait < -1000) due = Date.now() // fell behind (an outage): no burst to catch up
    }
    await this.#client?.end().catch(() => {})
  }
}
