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
export class FileStreamSinkTask extends SinkTask {
  #file: string | null = null
  #handle: FileHandle | null = null

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
    let text = ''
    for (const record of records) text += `${render(record.value)}\n`
    if (this.#handle) await this.#handle.write(text)
    else process.stdout.write(text)
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
