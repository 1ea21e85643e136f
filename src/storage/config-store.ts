import type { TargetState } from '../common/states.ts'

export interface StoredConnector {
  /** The config as submitted: `${provider:…}` references are kept, not resolved. */
  readonly config: Readonly<Record<string, string>>
  readonly targetState: TargetState
}

/** Where connector configs and target states live: a local file (standalone) or the config topic. */
export interface ConfigStore {
  load(): Promise<Map<string, StoredConnector>>
  put(name: string, connector: StoredConnector): Promise<void>
  remove(name: string): Promise<void>
  close(): Promise<void>
}
