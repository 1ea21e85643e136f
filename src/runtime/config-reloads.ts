/**
 * Values from config providers that change (Connect's `WorkerConfigTransformer` TTL reloads and the
 * connectors' `config.action.reload`): after the shortest TTL a provider gave, the configs a
 * connector instance or task runs with are resolved again; only when a value differs, and unless the
 * connector sets `config.action.reload=none`, is that one unit restarted (Connect restarts the
 * connector at every TTL, changed or not, and never its tasks). A value that can no longer be read
 * leaves the running one in place, is logged, and is tried again after the same time.
 */
import type { Props } from '../api/connector.ts'
import { errorMessage } from '../api/errors.ts'
import type { Logger } from '../common/logger.ts'
import { type Resolution, resolutionError, resolutionFailed } from './config-transformer.ts'

/** How to watch one unit: read its configs again (undefined once it is gone), restart it. */
export interface ReloadTarget {
  /** The unit's configs resolved again, the connector's first; undefined when it no longer runs. */
  reread(): Promise<Resolution[] | undefined>
  restart(): Promise<void>
}

const MIN_TTL_MS = 100

export class ConfigReloads {
  readonly #logger: Logger
  readonly #timers = new Map<string, NodeJS.Timeout>()

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** Watches `unit` (`connector:<name>`, `task:<id>`) if a provider gave a TTL for what it runs with. */
  watch(
    unit: string,
    current: readonly Resolution[],
    target: ReloadTarget,
    ttl = shortestTtl(current),
  ): void {
    if (ttl === undefined) return
    // A provider answering a TTL of 0 must not make the worker ask it in a loop.
    const ttlMs = Math.max(ttl, MIN_TTL_MS)
    this.cancel(unit)
    const seen = fingerprint(current)
    const timer = setTimeout(() => {
      this.#timers.delete(unit)
      void this.#check(unit, seen, ttlMs, target).catch((error: unknown) =>
        this.#logger.warn(`re-reading config provider values of ${unit} failed: ${errorMessage(error)}`),
      )
    }, ttlMs)
    timer.unref()
    this.#timers.set(unit, timer)
  }

  cancel(unit: string): void {
    clearTimeout(this.#timers.get(unit))
    this.#timers.delete(unit)
  }

  cancelAll(): void {
    for (const unit of [...this.#timers.keys()]) this.cancel(unit)
  }

  async #check(unit: string, seen: string, ttlMs: number, target: ReloadTarget): Promise<void> {
    const next = await target.reread()
    if (next === undefined) return
    if (next.some(resolutionFailed)) {
      const why = next
        .filter(resolutionFailed)
        .map((r) => resolutionError(r).message)
        .join('; ')
      this.#logger.warn(
        `${unit}: config provider values could not be read again; keeping the current ones: ${why}`,
      )
      this.watch(unit, next, target, ttlMs)
      return
    }
    if (fingerprint(next) === seen || reloadAction(next[0]!.props) === 'none') {
      this.watch(unit, next, target)
      return
    }
    this.#logger.info(
      `${unit}: a value from a config provider changed; restarting it (config.action.reload=restart)`,
    )
    await target.restart()
  }
}

function shortestTtl(resolutions: readonly Resolution[]): number | undefined {
  const ttls = resolutions.map((r) => r.ttlMs).filter((t): t is number => t !== undefined)
  return ttls.length === 0 ? undefined : Math.min(...ttls)
}

function reloadAction(props: Props): 'none' | 'restart' {
  return (props['config.action.reload'] ?? 'restart').trim().toLowerCase() === 'none' ? 'none' : 'restart'
}

/** The resolved values, compared to tell whether a provider's answer changed. */
function fingerprint(resolutions: readonly Resolution[]): string {
  const entries = resolutions.flatMap((r) => [...r.values]).sort(([a], [b]) => a.localeCompare(b))
  return JSON.stringify(entries)
}
