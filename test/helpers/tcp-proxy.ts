/**
 * A TCP proxy in front of a real service, for network faults: `cut()` drops every connection and
 * refuses new ones (the service looks down to whoever goes through the proxy, and stays up for
 * everyone else), `restore()` accepts again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export class TcpProxy {
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #server: Server | null = null
  #port = 0

  constructor(target: { host: string; port: number }) {
    this.#target = target
  }

  get port(): number {
    return this.#port
  }

  async start(): Promise<this> {
    await this.#listen()
    return this
  }

  /** Drops every open connection and stops accepting. */
  async cut(): Promise<void> {
    const server = this.#server
    this.#server = null
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (!this.#server) await this.#listen()
  }

  close(): Promise<void> {
    return this.cut()
  }

  async #listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.#target)
      this.#sockets.add(client)
      this.#sockets.add(upstream)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        this.#sockets.delete(client)
        this.#sockets.delete(upstream)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#port, '127.0.0.1', () => resolve())
    })
    this.#port = (server.address() as { port: number }).port
    this.#server = server
  }
}
