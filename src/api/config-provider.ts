/**
 * Config providers (KIP-297, Kafka's `org.apache.kafka.common.config.provider.ConfigProvider`): a
 * worker resolves `${provider:path:key}` (or `${provider:key}`) in connector and worker configs by
 * asking the provider named in `config.providers` for the keys at a path. The config kept in the
 * config store and shown by the REST API keeps the `${…}` text; only the running connector, its
 * tasks and validation see the values.
 *
 * A provider is a plugin like a converter: it ships built in or comes from `plugin.path` as a
 * `PluginDescriptor` of type `config_provider`.
 */

/** What a provider returns for one path (Kafka's `ConfigData`). */
export interface ConfigData {
  /** The values found, by key. A requested key that is absent is reported by the worker, naming it. */
  readonly data: Readonly<Record<string, string>>
  /**
   * How long, in milliseconds, the values may be used before they are asked for again. When a
   * later answer differs, the worker restarts the connector or tasks that use it (unless the
   * connector sets `config.action.reload=none`).
   */
  readonly ttl?: number
}

export interface ConfigProvider {
  /** Called once with the `config.providers.<name>.param.*` keys (prefix removed). */
  configure(params: Readonly<Record<string, string>>): void | Promise<void>
  /**
   * The values of `keys` at `path` (`''` when the reference has no path). Throws a `ConfigError`
   * saying what is wrong (unreadable file, path not allowed, unreachable service) — never the
   * values themselves.
   */
  get(path: string, keys: ReadonlySet<string>): ConfigData | Promise<ConfigData>
  close?(): void | Promise<void>
}
