import { type FileHandle, open } from 'node:fs/promises'
import { AbstractConfig } from '../../api/config-def.ts'
import { type Props, SourceTask } from '../../api/connector.ts'
import { Schemas } from '../../api/data/schema.ts'
import { ConnectError } from '../../api/errors.ts'
import { connectLogger } from '../../api/log.ts'
import { type OffsetMap, SourceRecord } from '../../api/records.ts'
import { BATCH_SIZE_CONFIG, FILE_CONFIG, fileSourceConfigDef, TOPIC_CONFIG } from './config.ts'
import { FILE_CONNECTOR_VERSION } from './version.ts'

const NEWLINE = 0x0a
const READ_SIZE = 256 * 1024
/** How long `poll()` waits for the file to grow (or appear) before returning nothing. */
const IDLE_WAIT_MS = 250

/**
 * Reads lines from a file (or standard input) into one topic, as Kafka's `FileStreamSourceTask`:
 * partition `{"filename": <file>}`, offset `{"position": <byte offset after the last line>}`, value
 * schema STRING, no key. A partial last line waits for its newline. After a restart it resumes at
 * the stored position.
 */
export class FileStreamSourceTask extends SourceTask {
  #file: string | null = null
  #topic = ''
  #batchSize = 2000
  #handle: FileHandle | null = null
  #stdin: AsyncIterator<Buffer> | null = null
  /** Byte position in the file of the first byte of `#pending`. */
  #position = 0
  #pending: Buffer = Buffer.alloc(0)
  #partition: OffsetMap | null = null
  #stopped = false
  #wake: (() => void) | null = null
  #warnedMissing = false

  version(): string {
    return FILE_CONNECTOR_VERSION
  }

  async start(props: Props): Promise<void> {
    const config = new AbstractConfig(fileSourceConfigDef, props)
    this.#file = config.getOptionalString(FILE_CONFIG) || null
    this.#topic = config.getString(TOPIC_CONFIG)
    this.#batchSize = config.getInt(BATCH_SIZE_CONFIG)
    if (this.#file === null) {
      this.#stdin = process.stdin[Symbol.asyncIterator]()
      return
    }
    this.#partition = Object.freeze({ filename: this.#file })
    const stored = await this.context.offsetStorageReader().offset(this.#partition)
    const position = stored?.position
    if (position !== undefined && position !== null) {
      if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
        throw new ConnectError(
          'CONNECT',
          `stored offset for ${this.#file} has an invalid position: ${String(position)}`,
        )
      }
      this.#position = position
    }
  }

  async poll(): Promise<SourceRecord[] | null> {
    while (!this.#stopped) {
      const records = this.#takeLines()
      if (records.length > 0) return records
      const grew = await this.#read()
      if (grew) continue
      await this.#idle()
      return null
    }
    return null
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#wake?.()
    const handle = this.#handle
    this.#handle = null
    await handle?.close()
  }

  /** Reads the next chunk into `#pending`. False when there was nothing new to read. */
  async #read(): Promise<boolean> {
    if (this.#stdin) {
      const next = await this.#stdin.next()
      if (next.done) return false
      this.#pending = this.#pending.length ? Buffer.concat([this.#pending, next.value]) : next.value
      return true
    }
    if (!this.#handle && !(await this.#open())) return false
    const buffer = Buffer.allocUnsafe(READ_SIZE)
    const readAt = this.#position + this.#pending.length
    const { bytesRead } = await this.#handle!.read(buffer, 0, READ_SIZE, readAt)
    if (bytesRead === 0) return false
    const chunk = buffer.subarray(0, bytesRead)
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk
    return true
  }

  async #open(): Promise<boolean> {
    try {
      this.#handle = await open(this.#file!, 'r')
      this.#warnedMissing = false
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      if (!this.#warnedMissing) {
        this.#warnedMissing = true
        connectLogger().warn(
          `Couldn't find file ${this.#file} for FileStreamSourceTask, waiting for it to be created`,
        )
      }
      return false
    }
  }

  /** Whole lines from `#pending`, at most `batch.size`, each carrying the position after it. */
  #takeLines(): SourceRecord[] {
    const records: SourceRecord[] = []
    const pending = this.#pending
    let start = 0
    while (records.length < this.#batchSize) {
      const end = pending.indexOf(NEWLINE, start)
      if (end < 0) break
      const lineEnd = end > start && pending[end - 1] === 0x0d ? end - 1 : end
      const line = pending.toString('utf8', start, lineEnd)
      start = end + 1
      records.push(
        new SourceRecord({
          topic: this.#topic,
          valueSchema: Schemas.STRING,
          value: line,
          timestamp: Date.now(),
          sourcePartition: this.#partition,
          sourceOffset: this.#partition ? { position: this.#position + start } : null,
        }),
      )
    }
    if (start > 0) {
      this.#position += start
      this.#pending = pending.subarray(start)
    }
    return records
  }

  #idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, IDLE_WAIT_MS)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    })
  }
}
