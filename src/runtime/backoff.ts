/** Exponential backoff with full jitter once the cap is reached: 100, 200, 400 … up to `maxMs`. */
export class Backoff {
  readonly #initialMs: number
  readonly #maxMs: number
  #attempt = 0

  constructor(initialMs: number, maxMs: number) {
    this.#initialMs = initialMs
    this.#maxMs = maxMs
  }

  next(): number {
    const exp = this.#initialMs * 2 ** Math.min(this.#attempt++, 30)
    return exp < this.#maxMs ? exp : Math.floor(this.#maxMs / 2 + (Math.random() * this.#maxMs) / 2)
  }

  reset(): void {
    this.#attempt = 0
  }
}
