/**
 * Makes `ConnectionPool.close()` of @platformatic/kafka close every connection the pool opened, not
 * only those still in its map. The pool files connections by broker address and drops the entry when
 * a connection emits `close` or `error` — by address, not by identity. After a network blip the old,
 * cut connection's `close` can come after the pool has already opened its replacement under the same
 * address: the replacement is dropped from the map while it is open and in use, and `close()` never
 * closes it. The socket then outlives the client (a test process that never exits; in a worker, one
 * idle socket per blip until the broker's idle timeout).
 *
 * Every pool of the library is this one class (the clients create theirs through it), so the patch is
 * applied once, here, when the Kafka log module loads. Until the library files connections by
 * identity, each pool remembers what it opened (from its own `connect` event) and closes the rest
 * after its own close.
 */
import { ConnectionPool } from '@platformatic/kafka'

interface Closable {
  close(callback: (error?: Error | null) => void): void
  once(event: 'close' | 'error', listener: () => void): unknown
}

const CLOSE_WAIT_MS = 5_000

const opened = new WeakMap<object, Set<Closable>>()
const patched = Symbol.for('sluice.kafka.pool-close-sweep')

type PoolPrototype = {
  emit(event: string | symbol, ...args: unknown[]): boolean
  close(callback?: (error?: Error | null) => void): Promise<void> | undefined
  [patched]?: true
}

export function installPoolCloseSweep(): void {
  const proto = ConnectionPool.prototype as unknown as PoolPrototype
  if (proto[patched]) return
  proto[patched] = true
  const emit = proto.emit
  proto.emit = function (this: object, event, ...args) {
    // From `connecting`, not `connect`: the pool can drop an entry still connecting, too.
    if (event === 'connecting') {
      const connection = (args[0] as { connection?: Closable } | undefined)?.connection
      if (connection) {
        const remembered = opened.get(this) ?? new Set<Closable>()
        opened.set(this, remembered)
        remembered.add(connection)
        // A failed connect emits `error` and never `close`.
        const forget = () => remembered.delete(connection)
        connection.once('close', forget)
        connection.once('error', forget)
      }
    }
    return emit.call(this, event, ...args)
  }
  const close = proto.close
  proto.close = function (this: object, callback) {
    const sweep = async (): Promise<void> => {
      const left = [...(opened.get(this) ?? [])]
      opened.delete(this)
      // A peer that never answers the close must not hold the client's close() forever.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled(left.map((c) => new Promise<void>((resolve) => c.close(() => resolve())))),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_WAIT_MS)
          timer.unref()
        }),
      ])
      clearTimeout(timer)
    }
    if (callback) {
      void close.call(this, (error) => {
        void sweep().finally(() => callback(error))
      })
      return undefined
    }
    return (close.call(this) as Promise<void>).finally(sweep)
  }
}

installPoolCloseSweep()
