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
  /** Byte position in the file of the first pending byte (`#buffer[#start]`). */
  #position = 0
  /**
   * One read buffer for the task's life: bytes read and not yet taken as lines are
   * `#buffer[#start, #end)`. Lines become strings (copies) as soon as they are taken, so nothing
   * points into it afterwards and the next read may overwrite it. A fresh 256 KiB buffer per read
   * (and a copy of the last partial line onto it) made ~400 MB of short-lived array buffers per
   * million 200-byte lines, which V8 counts as external memory and lets pile up between
   * collections (bench/RESULTS.md, "Peak RSS: what lives past a scavenge").
   */
  #buffer: Buffer = Buffer.alloc(0)
  #start = 0
  #end = 0
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

  /** Reads the next chunk behind the pending bytes. False when there was nothing new to read. */
  async #read(): Promise<boolean> {
    if (this.#stdin) {
      const next = await this.#stdin.next()
      if (next.done) return false
      const chunk: Buffer = next.value
      this.#makeRoom(chunk.length)
      chunk.copy(this.#buffer, this.#end)
      this.#end += chunk.length
      return true
    }
    if (!this.#handle && !(await this.#open())) return false
    this.#makeRoom(1)
    const readAt = this.#position + (this.#end - this.#start)
    const room = this.#buffer.length - this.#end
    const { bytesRead } = await this.#handle!.read(this.#buffer, this.#end, room, readAt)
    if (bytesRead === 0) return false
    this.#end += bytesRead
    return true
  }

  /**
   * Makes room for at least `bytes` more after the pending ones: moves those (a partial line: reads
   * happen only when no whole line is left) to the buffer's start, and grows it for a line longer
   * than the buffer.
   */
  #makeRoom(bytes: number): void {
    const pending = this.#end - this.#start
    if (this.#start > 0) this.#buffer.copyWithin(0, this.#start, this.#end)
    this.#start = 0
    this.#end = pending
    if (this.#buffer.length - pending >= bytes) return
    const grown = Buffer.allocUnsafe(Math.max(READ_SIZE, 2 * this.#buffer.length, pending + bytes))
    this.#buffer.copy(grown, 0, 0, pending)
    this.#buffer = grown
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

  /** Whole pending lines, at most `batch.size`, each carrying the position after it. */
  #takeLines(): SourceRecord[] {
    const records: SourceRecord[] = []
    // The buffer up to the pending bytes' end: beyond it are bytes of earlier reads.
    const pending = this.#buffer.subarray(0, this.#end)
    const first = this.#start
    let start = first
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
          sourceOffset: this.#partition ? { position: this.#position + (start - first) } : null,
        }),
      )
    }
    this.#position += start - first
    this.#start = start
    if (start === this.#end) {
      this.#start = 0
      this.#end = 0
      // A buffer grown for a long line is not kept for the task's life once that line is taken.
      if (this.#buffer.length > 4 * READ_SIZE) this.#buffer = Buffer.allocUnsafe(READ_SIZE)
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
