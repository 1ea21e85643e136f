import type { ConfigStore, StoredConnector } from '../config-store.ts'
import { readJsonFile, restrictFileMode, writeJsonFileAtomic } from './json-file.ts'

interface ConfigFile {
  version: 1
  connectors: Record<string, StoredConnector>
}

/** Standalone connector configs in one JSON file under the data dir, rewritten atomically on change. */
export class FileConfigStore implements ConfigStore {
  readonly #file: string
  #connectors: Record<string, StoredConnector> = {}
  #writing: Promise<void> = Promise.resolve()

  constructor(file: string) {
    this.#file = file
  }

  async load(): Promise<Map<string, StoredConnector>> {
    restrictFileMode(this.#file)
    const content = await readJsonFile<ConfigFile>(this.#file)
    this.#connectors = content?.connectors ?? {}
    return new Map(Object.entries(this.#connectors))
  }

  async put(name: string, connector: StoredConnector): Promise<void> {
    this.#connectors = { ...this.#connectors, [name]: connector }
    await this.#save()
  }

  async remove(name: string): Promise<void> {
    const { [name]: _removed, ...rest } = this.#connectors
    this.#connectors = rest
    await this.#save()
  }

  async close(): Promise<void> {
    await this.#writing
  }

  async #save(): Promise<void> {
    const snapshot: ConfigFile = { version: 1, connectors: this.#connectors }
    const write = this.#writing.then(() => writeJsonFileAtomic(this.#file, snapshot))
    this.#writing = write.catch(() => {})
    await write
  }
}
