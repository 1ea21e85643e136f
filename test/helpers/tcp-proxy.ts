/**
 * A TCP proxy in front of a real service, for network faults seen by whoever connects through it
 * (the service stays up for everyone else):
 * - `cut()` drops every connection and refuses new ones (a reset); `restore()` accepts again on the
 *   same port.
 * - `stall()` is a partition: connections stay open and new ones are accepted, but nothing goes
 *   through in either direction; `resume()` delivers what was held, in the order it was sent
 *   (closes included), as TCP does when a partition heals before its retransmissions give up. A
 *   request sent into the stall therefore reaches the service late, after whatever happened
 *   meanwhile.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export class TcpProxy {
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #server: Server | null = null
  #port = 0
  /** Deliveries held by a stall, in arrival order across every connection. */
  #held: (() => void)[] | null = null

  constructor(target: { host: string; port: number }) {
    this.#target = target
  }

  get port(): number {
    return this.#port
  }

  get stalled(): boolean {
    return this.#held !== null
  }

  async start(): Promise<this> {
    await this.#listen()
    return this
  }

  /** Drops every open connection and stops accepting (what a stall held is dropped too). */
  async cut(): Promise<void> {
    const server = this.#server
    this.#server = null
    this.#held = null
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (!this.#server) await this.#listen()
  }

  /** Holds everything either side sends (and their closes) until `resume()`. */
  stall(): void {
    this.#held ??= []
  }

  /** Delivers what the stall held, in order, and forwards as usual again. */
  resume(): void {
    const held = this.#held ?? []
    this.#held = null
    for (const deliver of held) deliver()
  }

  close(): Promise<void> {
    return this.cut()
  }

  #deliver(deliver: () => void): void {
    if (this.#held !== null) this.#held.push(deliver)
    else deliver()
  }

  #forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) =>
      this.#deliver(() => {
        if (to.write(chunk)) return
        from.pause()
        to.once('drain', () => from.resume())
      }),
    )
    // A close travels behind the data sent before it.
    from.on('end', () => this.#deliver(() => to.end()))
    from.on('error', () => this.#deliver(() => to.destroy()))
    from.on('close', () => this.#sockets.delete(from))
  }

  async #listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.#target)
      this.#sockets.add(client)
      this.#sockets.add(upstream)
      this.#forward(client, upstream)
      this.#forward(upstream, client)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#port, '127.0.0.1', () => resolve())
    })
    this.#port = (server.address() as { port: number }).port
    this.#server = server
  }
}
