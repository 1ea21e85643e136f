/**
 * A first-in first-out queue whose `push` and `shift` cost the same at any length.
 *
 * `Array.prototype.shift` is cheap only while V8 can move the array's start in place; an array of
 * more than ~16,000 elements lives in large-object space, where it cannot, and every `shift` moves
 * all the others: a queue of 32,768 cost ~4 µs per element taken (a CDC task with
 * `max.queue.size=32768` spent a third of its time there). Here taken slots are cleared and the
 * array is cut once its taken half is longer than the rest.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    if (this.#head === this.#items.length) {
      this.#items.length = 0
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  clear(): void {
    this.#items = []
    this.#head = 0
  }
}
