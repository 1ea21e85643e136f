/**
 * What pgoutput does not say about a table, read from the catalog on a normal connection:
 * nullability, defaults, the primary key and the types behind OIDs (enums, domains, arrays).
 * Like Debezium's out-of-band JDBC metadata this can race with DDL issued right after a change;
 * the Relation message stays the authority for column names and types.
 */
import type pg from 'pg'
import type { PgType } from './value-converters.ts'

export interface CatalogColumn {
  name: string
  typeOid: number
  typmod: number
  nullable: boolean
  defaultExpression: string | null
}

export interface CatalogTable {
  oid: number
  schema: string
  table: string
  columns: CatalogColumn[]
  primaryKey: string[]
  /** `d` default, `f` full, `i` index, `n` nothing. */
  replicaIdentity: string
}

export class Catalog {
  readonly #ref: { current: pg.Client }
  readonly #types = new Map<number, PgType>()

  constructor(client: { current: pg.Client }) {
    this.#ref = client
  }

  /** The table by name, or null when it does not exist. */
  async table(schema: string, table: string): Promise<CatalogTable | null> {
    const { rows } = await this.#ref.current.query(
      `SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, table],
    )
    if (rows.length === 0) return null
    const oid = Number(rows[0].oid)
    const columns = await this.#ref.current.query(
      `SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS def
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [oid],
    )
    const pk = await this.#ref.current.query(
      `SELECT a.attname FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1 AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [oid],
    )
    return {
      oid,
      schema,
      table,
      replicaIdentity: String(rows[0].relreplident),
      primaryKey: pk.rows.map((r) => String(r.attname)),
      columns: columns.rows.map((r) => ({
        name: String(r.attname),
        typeOid: Number(r.atttypid),
        typmod: Number(r.atttypmod),
        nullable: r.attnotnull !== 't' && r.attnotnull !== true,
        defaultExpression: r.def === null ? null : String(r.def),
      })),
    }
  }

  /** Every ordinary and partitioned table outside the system schemas, as `[schema, table]`. */
  async tables(): Promise<[string, string][]> {
    const { rows } = await this.#ref.current.query(
      `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
        ORDER BY 1, 2`,
    )
    return rows.map((r) => [String(r.nspname), String(r.relname)])
  }

  /** Resolves type OIDs (through domains and array elements), cached. */
  async types(oids: number[]): Promise<Map<number, PgType>> {
    const missing = [...new Set(oids)].filter((o) => !this.#types.has(o))
    if (missing.length > 0) await this.#load(missing)
    const out = new Map<number, PgType>()
    for (const oid of oids) out.set(oid, this.#types.get(oid)!)
    return out
  }

  /** Forgets a type (a Type message said it changed, e.g. a new enum label). */
  forget(oid: number): void {
    this.#types.delete(oid)
  }

  async #load(oids: number[]): Promise<void> {
    const { rows } = await this.#ref.current.query(
      `SELECT t.oid, t.typname, t.typtype, t.typelem, t.typbasetype, t.typtypmod, t.typcategory,
              (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels
         FROM pg_type t WHERE t.oid = ANY($1::oid[])`,
      [oids],
    )
    const raw = new Map<number, Record<string, string | null>>()
    for (const r of rows) raw.set(Number(r.oid), r as Record<string, string | null>)
    const dependencies: number[] = []
    for (const r of raw.values()) {
      if (r.typtype === 'd') dependencies.push(Number(r.typbasetype))
      else if (r.typcategory === 'A' && Number(r.typelem) !== 0) dependencies.push(Number(r.typelem))
    }
    const unresolved = dependencies.filter((o) => !this.#types.has(o) && !raw.has(o))
    if (unresolved.length > 0) await this.#load(unresolved)
    const resolve = (oid: number): PgType => {
      const known = this.#types.get(oid)
      if (known) return known
      const r = raw.get(oid)
      if (!r) return { oid, name: `oid:${oid}`, kind: 'p', element: null, enumLabels: null, baseTypmod: -1 }
      let type: PgType
      if (r.typtype === 'd') {
        const base = resolve(Number(r.typbasetype))
        type = { ...base, oid, kind: base.kind === 'b' ? 'd' : base.kind, baseTypmod: Number(r.typtypmod) }
      } else if (r.typcategory === 'A' && Number(r.typelem) !== 0) {
        type = {
          oid,
          name: String(r.typname),
          kind: 'b',
          element: resolve(Number(r.typelem)),
          enumLabels: null,
          baseTypmod: -1,
        }
      } else {
        const labels = r.labels as unknown
        type = {
          oid,
          name: String(r.typname),
          kind: String(r.typtype),
          element: null,
          enumLabels: r.typtype === 'e' ? parseTextArray(labels) : null,
          baseTypmod: -1,
        }
      }
      this.#types.set(oid, type)
      return type
    }
    for (const oid of raw.keys()) resolve(oid)
  }
}

function parseTextArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String)
  if (typeof value !== 'string' || value === '{}') return []
  return value
    .slice(1, -1)
    .match(/"((?:[^"\\]|\\.)*)"|[^,]+/g)!
    .map((s) => (s.startsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s))
}
