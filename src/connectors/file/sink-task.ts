import { type FileHandle, open } from 'node:fs/promises'
import { AbstractConfig } from '../../api/config-def.ts'
import { type Props, type SinkOffsets, SinkTask } from '../../api/connector.ts'
import { Struct } from '../../api/data/struct.ts'
import { RetriableError } from '../../api/errors.ts'
import type { SinkRecord } from '../../api/records.ts'
import { FILE_CONFIG, fileSinkConfigDef } from './config.ts'
import { FILE_CONNECTOR_VERSION } from './version.ts'

/**
 * Appends each record's value as a line to a file (or standard output), as Kafka's
 * `FileStreamSinkTask`. Unlike Kafka's, `flush` fsyncs the file: offsets are committed only once
 * the lines are on disk, so a crash never loses a line whose offset was committed.
 */
/** A write buffer grown past this is not kept for the next `put` (a batch of unusually large records). */
const KEEP_BUFFER_BYTES = 4 * 1024 * 1024

export class FileStreamSinkTask extends SinkTask {
  #file: string | null = null
  #handle: FileHandle | null = null
  /**
   * The lines of a `put`, encoded straight into one buffer kept from put to put (the write is
   * awaited before the next): no string of the whole batch on V8's heap (a rope of two strings
   * per line, then flattened for the write: ~270 bytes of garbage per 200-byte line).
   */
  #buffer: Buffer = Buffer.alloc(0)

  version(): string {
    return FILE_CONNECTOR_VERSION
  }

  async start(props: Props): Promise<void> {
    const config = new AbstractConfig(fileSinkConfigDef, props)
    this.#file = config.getOptionalString(FILE_CONFIG) || null
    if (this.#file) {
      try {
        this.#handle = await open(this.#file, 'a')
      } catch (error) {
        throw new RetriableError(`cannot open ${this.#file} for appending`, { cause: error })
      }
    }
  }

  async put(records: SinkRecord[]): Promise<void> {
    // One write per batch: lines show up at once (as Kafka's PrintStream does); fsync waits for flush.
    if (records.length === 0) return
    if (this.#handle === null) {
      let text = ''
      for (const record of records) text += `${render(record.value)}\n`
      process.stdout.write(text)
      return
    }
    let buffer = this.#buffer
    let length = 0
    for (const record of records) {
      const line = render(record.value)
      // At most 3 bytes per UTF-16 unit, and the newline.
      const most = line.length * 3 + 1
      if (buffer.length - length < most) {
        const grown = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * buffer.length, length + most))
        buffer.copy(grown, 0, 0, length)
        buffer = grown
      }
      length += buffer.write(line, length)
      buffer[length++] = 0x0a
    }
    this.#buffer = buffer.length <= KEEP_BUFFER_BYTES ? buffer : Buffer.alloc(0)
    // The handle as it was: a stop() during a short write must not make the next write read null.
    const handle = this.#handle
    let written = 0
    while (written < length) {
      const { bytesWritten } = await handle.write(buffer, written, length - written)
      written += bytesWritten
    }
  }

  override async flush(_offsets: SinkOffsets): Promise<void> {
    await this.#handle?.datasync()
  }

  async stop(): Promise<void> {
    const handle = this.#handle
    this.#handle = null
    await handle?.close()
  }
}

function render(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return 'null'
  // As Kafka's sink prints it (PrintStream.println(Object)).
  if (value instanceof Struct) return value.toString()
  if (typeof value === 'object')
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  return String(value)
}
