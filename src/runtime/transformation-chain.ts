import type { Props } from '../api/connector.ts'
import { ConfigError, DataError, errorMessage } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Predicate, Transformation } from '../api/transformation.ts'
import type { PluginRegistry } from '../plugins/plugin-registry.ts'

interface Stage<R extends ConnectRecord> {
  alias: string
  transform: Transformation<R>
  predicate: Predicate<R> | undefined
  negate: boolean
}

/**
 * The connector's `transforms`, applied in order, each guarded by its optional predicate
 * (`transforms.<alias>.predicate`, `.negate`). A transform returning null drops the record and the
 * rest of the chain is skipped. Errors name the transform's alias.
 */
export class TransformationChain<R extends ConnectRecord> {
  readonly #stages: Stage<R>[]

  private constructor(stages: Stage<R>[]) {
    this.#stages = stages
  }

  get isEmpty(): boolean {
    return this.#stages.length === 0
  }

  static fromConfig<R extends ConnectRecord>(props: Props, plugins: PluginRegistry): TransformationChain<R> {
    const list = (key: string) =>
      (props[key] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    const predicates = new Map<string, Predicate<R>>()
    for (const alias of list('predicates')) {
      const key = `predicates.${alias}.type`
      const type = props[key]
      if (!type)
        throw new ConfigError(key, `Missing required configuration "${key}" for predicate '${alias}'.`)
      const predicate = plugins.resolve<Predicate<R>>(type, ['predicate'], key).create()
      configureWithKeys(
        () => predicate.configure(prefixed(props, `predicates.${alias}.`)),
        `predicates.${alias}.`,
      )
      predicates.set(alias, predicate)
    }
    const stages: Stage<R>[] = []
    for (const alias of list('transforms')) {
      const key = `transforms.${alias}.type`
      const type = props[key]
      if (!type)
        throw new ConfigError(key, `Missing required configuration "${key}" for transform '${alias}'.`)
      const transform = plugins.resolve<Transformation<R>>(type, ['transformation'], key).create()
      const own = prefixed(props, `transforms.${alias}.`)
      configureWithKeys(() => transform.configure(own), `transforms.${alias}.`)
      const predicateAlias = own.predicate
      const predicate = predicateAlias ? predicates.get(predicateAlias) : undefined
      if (predicateAlias && !predicate) {
        throw new ConfigError(
          `transforms.${alias}.predicate`,
          `transform '${alias}' refers to predicate '${predicateAlias}', which is not listed in 'predicates'`,
        )
      }
      stages.push({ alias, transform, predicate, negate: (own.negate ?? '').trim().toLowerCase() === 'true' })
    }
    return new TransformationChain(stages)
  }

  apply(record: R): R | null {
    let current: R | null = record
    for (const stage of this.#stages) {
      if (current === null) return null
      if (stage.predicate && stage.predicate.test(current) === stage.negate) continue
      try {
        current = stage.transform.apply(current)
      } catch (error) {
        throw new DataError(`transform '${stage.alias}' failed: ${errorMessage(error)}`, { cause: error })
      }
    }
    return current
  }

  close(): void {
    for (const stage of this.#stages) {
      stage.transform.close?.()
      stage.predicate?.close?.()
    }
  }
}

/** A transform's or predicate's own ConfigError names its bare key; report it under the connector's key. */
function configureWithKeys(configure: () => void, prefix: string): void {
  try {
    configure()
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError(error.key ? `${prefix}${error.key}` : `${prefix}type`, error.message, {
        cause: error,
      })
    }
    throw error
  }
}

function prefixed(props: Props, prefix: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(props)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v
  return out
}
