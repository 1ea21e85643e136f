/**
 * A plugin's own metrics, what JMX MBeans are to Kafka Connect's plugins: Debezium registers its
 * snapshot and streaming metrics as `debezium.postgres:type=connector-metrics,context=snapshot,server=<topic.prefix>`
 * on the JVM's platform MBean server, and the JMX exporter turns them into Prometheus series. Here a
 * plugin registers a group with the same domain and key properties and a function that reads its
 * attributes; the worker prints every registered group on `GET /metrics` (under the names the JMX
 * exporter's default rule gives them) and the web console reads them. Registration is process-wide,
 * as the platform MBean server is; a task closes its groups when it stops.
 */

/** An attribute: a number, a flag, text, or a map of numbers (Debezium's `Map<String, Long>` `RowsScanned`). */
export type PluginMetricValue = number | boolean | string | ReadonlyMap<string, number>

export interface PluginMetricsGroup {
  /** The MBean domain, e.g. `debezium.postgres`. */
  readonly domain: string
  /** The MBean key properties in their order, `type` first, e.g. `{type: 'connector-metrics', context: 'snapshot', server: 'inventory'}`. */
  readonly properties: Readonly<Record<string, string>>
  /** The attributes now, by their MBean names (`TotalTableCount`, `SnapshotRunning`, …). */
  read(): Readonly<Record<string, PluginMetricValue>>
}

/**
 * One set per process, as there is one platform MBean server: kept on `globalThis`, so a plugin that
 * imports the package root from another copy of Sluice's files (a plugin.path plugin's `sluice`
 * next to a worker run from the sources) still registers where the worker reads.
 */
const KEY = Symbol.for('sluice.plugin-metrics')
const shared = globalThis as { [KEY]?: Set<PluginMetricsGroup> }
shared[KEY] ??= new Set<PluginMetricsGroup>()
const groups = shared[KEY]

/** Registers a group until the returned function is called. */
export function registerPluginMetrics(group: PluginMetricsGroup): () => void {
  groups.add(group)
  return () => {
    groups.delete(group)
  }
}

/** Every registered group (the worker's side). */
export function pluginMetricsGroups(): PluginMetricsGroup[] {
  return [...groups]
}
