/**
 * KIP-891: status bodies carry the `version` of the connector and of each task (Connector.version()
 * and Task.version() of the installed plugin), in `GET /connectors/{c}/status`, the task status,
 * `GET /connectors?expand=status` and the restart response. A connector whose class is not installed
 * shows no version.
 */
import type { SinkConnector, SourceConnector } from '../api/connector.ts'
import type { ConnectorStateInfo, Herder, TaskStateInfo } from '../herder/herder.ts'
import { PluginRegistry } from '../plugins/plugin-registry.ts'

interface Versions {
  connector: string
  task?: string
}

/** Per herder (its plugins), by connector class. */
const cache = new WeakMap<Herder, Map<string, Versions | null>>()

function versionsOf(herder: Herder, connectorName: string): Versions | null {
  let byClass = cache.get(herder)
  if (!byClass) {
    byClass = new Map()
    cache.set(herder, byClass)
  }
  let className: string | undefined
  try {
    className = herder.connectorConfig(connectorName)['connector.class']
  } catch {
    return null
  }
  if (!className) return null
  const cached = byClass.get(className)
  if (cached !== undefined) return cached
  let versions: Versions | null = null
  try {
    const registry = new PluginRegistry()
    for (const plugin of herder.plugins()) registry.register(plugin)
    const descriptor = registry.resolve<SourceConnector | SinkConnector>(
      className,
      ['source', 'sink'],
      'connector.class',
    )
    versions = { connector: descriptor.version }
    try {
      const TaskClass = descriptor.create().taskClass()
      versions.task = new TaskClass().version()
    } catch {
      // A task class that cannot be made here shows no version; the connector's is still known.
    }
  } catch {
    versions = null
  }
  byClass.set(className, versions)
  return versions
}

export type VersionedTaskState = TaskStateInfo & { version?: string }
export type VersionedStateInfo = Omit<ConnectorStateInfo, 'connector' | 'tasks'> & {
  connector: ConnectorStateInfo['connector'] & { version?: string }
  tasks: VersionedTaskState[]
}

export function withVersions(herder: Herder, info: ConnectorStateInfo): VersionedStateInfo {
  const versions = versionsOf(herder, info.name)
  if (!versions) return info
  return {
    ...info,
    connector: { ...info.connector, version: versions.connector },
    tasks: info.tasks.map((t) => (versions.task ? { ...t, version: versions.task } : t)),
  }
}

export function taskWithVersion(herder: Herder, connector: string, info: TaskStateInfo): VersionedTaskState {
  const version = versionsOf(herder, connector)?.task
  return version ? { ...info, version } : info
}
