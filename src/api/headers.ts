import type { Schema } from './data/schema.ts'

/** One Connect header: a key and a value with an optional schema (Java's `Header`). */
export interface Header {
  readonly key: string
  readonly schema: Schema | null
  readonly value: unknown
}

/** The list of every `Headers` created empty until it changes; never itself changed. */
const NO_HEADERS: Header[] = []

/**
 * An ordered, mutable list of headers in which a key may repeat (Java's `ConnectHeaders`).
 * Transforms get a copy per record; the runtime converts them with the header converter.
 */
export class Headers implements Iterable<Header> {
  #list: Header[]
  /** The list is shared with a duplicate: copy it before the first change (copy-on-write). */
  #shared = false

  constructor(headers?: Iterable<Header>) {
    if (headers === undefined) {
      // Most records have no headers: they share one empty list, copied before the first change.
      this.#list = NO_HEADERS
      this.#shared = true
    } else this.#list = [...headers]
  }

  get size(): number {
    return this.#list.length
  }

  add(key: string, value: unknown, schema: Schema | null = null): this {
    this.#own().push(Object.freeze({ key, schema, value }))
    return this
  }

  addHeader(header: Header): this {
    this.#own().push(header)
    return this
  }

  /** The last header with this key (the one that wins, as in Java). */
  lastWithName(key: string): Header | undefined {
    for (let i = this.#list.length - 1; i >= 0; i--) if (this.#list[i].key === key) return this.#list[i]
    return undefined
  }

  allWithName(key: string): Header[] {
    return this.#list.filter((h) => h.key === key)
  }

  remove(key: string): this {
    this.#own()
    for (let i = this.#list.length - 1; i >= 0; i--) if (this.#list[i].key === key) this.#list.splice(i, 1)
    return this
  }

  /** Keeps only the last header of each key. */
  retainLatest(): this {
    this.#own()
    const seen = new Set<string>()
    for (let i = this.#list.length - 1; i >= 0; i--) {
      if (seen.has(this.#list[i].key)) this.#list.splice(i, 1)
      else seen.add(this.#list[i].key)
    }
    return this
  }

  clear(): this {
    this.#list = []
    this.#shared = false
    return this
  }

  /** An independent copy; cheap: the two share their list until either changes. */
  duplicate(): Headers {
    const copy = new Headers()
    copy.#list = this.#list
    copy.#shared = true
    this.#shared = true
    return copy
  }

  #own(): Header[] {
    if (this.#shared) {
      this.#list = [...this.#list]
      this.#shared = false
    }
    return this.#list
  }

  [Symbol.iterator](): Iterator<Header> {
    return this.#list[Symbol.iterator]()
  }
}
