/**
 * What crosses between the worker's main thread and its task threads (decision 0029): calls and
 * replies, errors with their ConnectError code, and batches of records. A batch's bytes (keys,
 * values, header values) travel as one transferable ArrayBuffer — moved, not copied — beside a small
 * array of the other fields; the receiver gets views into that buffer.
 */
import { ConnectError, type ErrorCode } from '../api/errors.ts'
import type { LogHeader, LogRecord, ProduceRecord, TimestampType } from '../log/log.ts'

export interface WireError {
  message: string
  stack?: string
  code?: ErrorCode
  retriable?: boolean
  key?: string
}

export function toWireError(error: unknown): WireError {
  if (error instanceof ConnectError)
    return {
      message: error.message,
      stack: error.stack,
      code: error.code,
      retriable: error.retriable,
      key: error.key,
    }
  if (error instanceof Error) return { message: error.message, stack: error.stack }
  return { message: String(error) }
}

/** The error again, a ConnectError with its code and retriability when it was one; the stack is the sender's. */
export function fromWireError(wire: WireError): Error {
  const error =
    wire.code === undefined
      ? new Error(wire.message)
      : new ConnectError(wire.code, wire.message, { retriable: wire.retriable, key: wire.key })
  if (wire.stack !== undefined) error.stack = wire.stack
  return error
}

/** Byte arrays (null allowed) packed into one buffer: lengths (-1 for null) and the bytes. */
export interface PackedBytes {
  lengths: Int32Array
  bytes: ArrayBuffer
}

function pack(arrays: readonly (Uint8Array | null)[]): PackedBytes {
  const lengths = new Int32Array(arrays.length)
  let total = 0
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i]
    lengths[i] = a === null ? -1 : a.length
    total += a?.length ?? 0
  }
  const bytes = new ArrayBuffer(total)
  const view = new Uint8Array(bytes)
  let at = 0
  for (const a of arrays) {
    if (a === null) continue
    view.set(a, at)
    at += a.length
  }
  return { lengths, bytes }
}

function unpack(packed: PackedBytes): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = new Array(packed.lengths.length)
  let at = 0
  for (let i = 0; i < packed.lengths.length; i++) {
    const n = packed.lengths[i]
    if (n < 0) out[i] = null
    else {
      out[i] = new Uint8Array(packed.bytes, at, n)
      at += n
    }
  }
  return out
}

/** The buffers to pass as `transferList` with a packed batch. */
export function transferables(batch: { bytes: PackedBytes }): ArrayBuffer[] {
  return [batch.bytes.bytes, batch.bytes.lengths.buffer as ArrayBuffer]
}

/** Per record: topic, partition (-1: the log chooses), timestamp (-1: now), header keys. */
export interface WireProduceBatch {
  fields: [string, number, number, string[]][]
  bytes: PackedBytes
}

export function packProduce(records: readonly ProduceRecord[]): WireProduceBatch {
  const arrays: (Uint8Array | null)[] = []
  const fields: WireProduceBatch['fields'] = records.map((r) => {
    arrays.push(r.key, r.value)
    const keys: string[] = []
    for (const h of r.headers ?? []) {
      keys.push(h.key)
      arrays.push(h.value)
    }
    return [r.topic, r.partition ?? -1, r.timestamp ?? -1, keys]
  })
  return { fields, bytes: pack(arrays) }
}

export function unpackProduce(batch: WireProduceBatch): ProduceRecord[] {
  const arrays = unpack(batch.bytes)
  let i = 0
  return batch.fields.map(([topic, partition, timestamp, keys]) => {
    const record: ProduceRecord = { topic, key: arrays[i++], value: arrays[i++] }
    if (partition >= 0) record.partition = partition
    if (timestamp >= 0) record.timestamp = timestamp
    if (keys.length > 0) record.headers = keys.map((key) => ({ key, value: arrays[i++] }))
    return record
  })
}

/** Per record: topic, partition, offset, timestamp, timestamp type, header keys. */
export interface WireLogBatch {
  fields: [string, number, number, number, TimestampType, string[]][]
  bytes: PackedBytes
}

export function packLogRecords(records: readonly LogRecord[]): WireLogBatch {
  const arrays: (Uint8Array | null)[] = []
  const fields: WireLogBatch['fields'] = records.map((r) => {
    arrays.push(r.key, r.value)
    for (const h of r.headers) arrays.push(h.value)
    return [r.topic, r.partition, r.offset, r.timestamp, r.timestampType, r.headers.map((h) => h.key)]
  })
  return { fields, bytes: pack(arrays) }
}

export function unpackLogRecords(batch: WireLogBatch): LogRecord[] {
  const arrays = unpack(batch.bytes)
  let i = 0
  return batch.fields.map(([topic, partition, offset, timestamp, timestampType, keys]) => {
    const key = arrays[i++]
    const value = arrays[i++]
    const headers: LogHeader[] = keys.map((k) => ({ key: k, value: arrays[i++] }))
    return { topic, partition, offset, timestamp, timestampType, key, value, headers }
  })
}

/** The end of a thread's message port both sides use: a Worker (main side) or `parentPort` (thread). */
export interface Port {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void
  on(event: 'message', listener: (message: unknown) => void): unknown
}

interface CallMessage {
  t: 'call'
  call: number
  target: string
  method: string
  args: unknown[]
}

interface ReplyMessage {
  t: 'reply'
  call: number
  value?: unknown
  error?: WireError
}

/** A value's buffers to move rather than copy: a packed batch's. */
function transfersOf(value: unknown): ArrayBuffer[] {
  const bytes = (value as { bytes?: PackedBytes } | null | undefined)?.bytes
  return bytes?.bytes instanceof ArrayBuffer ? transferables({ bytes }) : []
}

/**
 * Calls in both directions over one port: `call()` sends one and resolves with the other side's
 * answer; calls from the other side go to `handle`; every other message goes to `other`. Messages
 * of one port arrive in the order they were sent.
 */
export class Channel {
  readonly #port: Port
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  #next = 0
  #closed: Error | undefined

  constructor(
    port: Port,
    handle: (target: string, method: string, args: unknown[]) => unknown,
    other: (message: { t: string } & Record<string, unknown>) => void,
  ) {
    this.#port = port
    port.on('message', (raw) => {
      const message = raw as { t: string } & Record<string, unknown>
      if (message.t === 'reply') {
        const reply = message as unknown as ReplyMessage
        const pending = this.#pending.get(reply.call)
        if (!pending) return
        this.#pending.delete(reply.call)
        if (reply.error) pending.reject(fromWireError(reply.error))
        else pending.resolve(reply.value)
      } else if (message.t === 'call') {
        const call = message as unknown as CallMessage
        void this.#answer(call, handle)
      } else other(message)
    })
  }

  async #answer(call: CallMessage, handle: (t: string, m: string, a: unknown[]) => unknown): Promise<void> {
    let reply: ReplyMessage
    try {
      reply = { t: 'reply', call: call.call, value: await handle(call.target, call.method, call.args) }
    } catch (error) {
      reply = { t: 'reply', call: call.call, error: toWireError(error) }
    }
    if (this.#closed) return
    this.#port.postMessage(reply, transfersOf(reply.value))
  }

  call<T>(
    target: string,
    method: string,
    args: unknown[] = [],
    transfer: readonly ArrayBuffer[] = [],
  ): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed)
    const call = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(call, { resolve: resolve as (v: unknown) => void, reject })
      this.#port.postMessage({ t: 'call', call, target, method, args } satisfies CallMessage, transfer)
    })
  }

  send(message: { t: string } & Record<string, unknown>, transfer: readonly ArrayBuffer[] = []): void {
    if (!this.#closed) this.#port.postMessage(message, transfer)
  }

  /** Fails every call still waiting (the other side is gone). */
  close(error: Error): void {
    this.#closed = error
    for (const pending of this.#pending.values()) pending.reject(error)
    this.#pending.clear()
  }
}
