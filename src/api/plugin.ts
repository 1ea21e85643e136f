/**
 * How a plugin presents itself to the worker. A plugin package (built-in or on `plugin.path`)
 * exports `plugins: PluginDescriptor[]`.
 */
export type PluginType =
  | 'source'
  | 'sink'
  | 'converter'
  | 'header_converter'
  | 'transformation'
  | 'predicate'
  | 'config_provider'

export interface PluginDescriptor<T = unknown> {
  /** The canonical class name, as `GET /connector-plugins` lists it (the Java one for drop-ins). */
  readonly className: string
  readonly type: PluginType
  readonly version: string
  /** Extra names it answers to besides the derived ones (simple name, name without `Connector`). */
  readonly aliases?: readonly string[]
  create(): T
}
