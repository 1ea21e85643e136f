/**
 * Declarative configuration, as Kafka's `ConfigDef`: each key is declared once with its type,
 * default, importance, documentation, validator and recommender. The same declaration parses a
 * connector's config at start (failing on the first bad key), answers
 * `PUT /connector-plugins/{plugin}/config/validate` (every key's errors at once), and generates the
 * reference docs. Error messages use Kafka's wording so scripts that match them keep working.
 */
import { ConfigError } from './errors.ts'

export type ConfigType =
  | 'BOOLEAN'
  | 'STRING'
  | 'INT'
  | 'SHORT'
  | 'LONG'
  | 'DOUBLE'
  | 'LIST'
  | 'CLASS'
  | 'PASSWORD'
export type Importance = 'HIGH' | 'MEDIUM' | 'LOW'
export type Width = 'NONE' | 'SHORT' | 'MEDIUM' | 'LONG'

/** Marks a key with no default: it is required. */
export const NO_DEFAULT: unique symbol = Symbol('ConfigDef.NO_DEFAULT')

/** A secret. It prints as `[hidden]` everywhere (logs, JSON, errors); `.value` reads it. */
export class Password {
  static readonly HIDDEN = '[hidden]'
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString(): string {
    return Password.HIDDEN
  }
  toJSON(): string {
    return Password.HIDDEN
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return Password.HIDDEN
  }
}

export type ParsedValue = boolean | string | number | string[] | Password | null

export interface Validator {
  /** Throws a `ConfigError` when the parsed value is not acceptable. */
  ensureValid(name: string, value: ParsedValue): void
  /** How the valid values read in docs, e.g. `[1,...]`. */
  toString(): string
}

export interface Recommender {
  validValues(name: string, parsedConfig: Readonly<Record<string, ParsedValue>>): unknown[]
  visible(name: string, parsedConfig: Readonly<Record<string, ParsedValue>>): boolean
}

export interface ConfigKeyInit {
  name: string
  type: ConfigType
  /** `NO_DEFAULT` (the default) makes the key required. A string default is parsed like input. */
  defaultValue?: unknown
  importance: Importance
  documentation: string
  validator?: Validator
  group?: string
  orderInGroup?: number
  width?: Width
  displayName?: string
  dependents?: string[]
  recommender?: Recommender
  /** Kept out of generated docs (framework internals). */
  internal?: boolean
}

export interface ConfigKey {
  readonly name: string
  readonly type: ConfigType
  readonly defaultValue: unknown
  readonly importance: Importance
  readonly documentation: string
  readonly validator: Validator | undefined
  readonly group: string | undefined
  readonly orderInGroup: number
  readonly width: Width
  readonly displayName: string
  readonly dependents: readonly string[]
  readonly recommender: Recommender | undefined
  readonly internal: boolean
  readonly required: boolean
}

/** One key's verdict from `validate`, the `value` half of Kafka Connect's ConfigInfo. */
export interface ConfigValue {
  name: string
  /** The value as the user gave it, or the default, rendered as a string; null when unset. */
  value: string | null
  recommendedValues: unknown[]
  errors: string[]
  visible: boolean
}

export class ConfigDef {
  readonly #keys = new Map<string, ConfigKey>()
  readonly #groups: string[] = []

  define(init: ConfigKeyInit): this {
    if (this.#keys.has(init.name))
      throw new ConfigError(init.name, `Configuration ${init.name} is defined twice.`)
    const required = init.defaultValue === undefined || init.defaultValue === NO_DEFAULT
    const defaultValue = required
      ? NO_DEFAULT
      : init.defaultValue === null
        ? null
        : parseType(init.name, init.defaultValue, init.type)
    if (!required && defaultValue !== null && init.validator)
      init.validator.ensureValid(init.name, defaultValue as ParsedValue)
    if (init.group && !this.#groups.includes(init.group)) this.#groups.push(init.group)
    this.#keys.set(
      init.name,
      Object.freeze({
        name: init.name,
        type: init.type,
        defaultValue,
        importance: init.importance,
        documentation: init.documentation,
        validator: init.validator,
        group: init.group,
        orderInGroup: init.orderInGroup ?? -1,
        width: init.width ?? 'NONE',
        displayName: init.displayName ?? init.name,
        dependents: Object.freeze([...(init.dependents ?? [])]),
        recommender: init.recommender,
        internal: init.internal ?? false,
        required,
      }),
    )
    return this
  }

  /** Adds every key of another definition (used to compose framework and connector keys). */
  defineAll(other: ConfigDef): this {
    for (const key of other.configKeys()) {
      if (!this.#keys.has(key.name)) this.#keys.set(key.name, key)
      if (key.group && !this.#groups.includes(key.group)) this.#groups.push(key.group)
    }
    return this
  }

  /** A copy without keys this definition should not offer. */
  without(...names: string[]): ConfigDef {
    const copy = new ConfigDef()
    for (const key of this.configKeys()) if (!names.includes(key.name)) copy.#keys.set(key.name, key)
    copy.#groups.push(...this.#groups)
    return copy
  }

  configKeys(): ConfigKey[] {
    return [...this.#keys.values()]
  }

  key(name: string): ConfigKey | undefined {
    return this.#keys.get(name)
  }

  names(): string[] {
    return [...this.#keys.keys()]
  }

  groups(): string[] {
    return [...this.#groups]
  }

  /**
   * Parses and validates every declared key, failing on the first problem with a `ConfigError`
   * naming the key. Undeclared keys are ignored (as Kafka does). The result is frozen.
   */
  parse(props: Readonly<Record<string, unknown>>): Readonly<Record<string, ParsedValue>> {
    const parsed: Record<string, ParsedValue> = {}
    for (const key of this.#keys.values()) parsed[key.name] = parseKey(key, props)
    return Object.freeze(parsed)
  }

  /**
   * Validates every declared key and reports all problems at once, plus recommended values and
   * visibility, in declaration order. Never throws for bad input.
   */
  validate(props: Readonly<Record<string, unknown>>): ConfigValue[] {
    const parsed: Record<string, ParsedValue> = {}
    const results = new Map<string, ConfigValue>()
    for (const key of this.#keys.values()) {
      const given = props[key.name]
      const value: ConfigValue = {
        name: key.name,
        value: given === undefined || given === null ? renderDefault(key) : renderValue(key, given),
        recommendedValues: [],
        errors: [],
        visible: true,
      }
      try {
        parsed[key.name] = parseKey(key, props)
      } catch (error) {
        value.errors.push(error instanceof Error ? error.message : String(error))
      }
      results.set(key.name, value)
    }
    for (const key of this.#keys.values()) {
      if (!key.recommender) continue
      const value = results.get(key.name)!
      try {
        value.recommendedValues = key.recommender.validValues(key.name, parsed)
        value.visible = key.recommender.visible(key.name, parsed)
      } catch (error) {
        value.errors.push(error instanceof Error ? error.message : String(error))
      }
    }
    return [...results.values()]
  }

  /** A Markdown table of the keys, for the generated reference pages. */
  toMarkdown(): string {
    const rows = this.configKeys()
      .filter((k) => !k.internal)
      .map((k) => {
        const def = k.required ? '*required*' : `\`${renderDefault(k) ?? 'null'}\``
        const valid = k.validator ? `\`${k.validator.toString()}\`` : ''
        const doc = k.documentation.replaceAll('|', '\\|').replaceAll('\n', ' ')
        return `| \`${k.name}\` | ${k.type} | ${def} | ${valid} | ${k.importance} | ${doc} |`
      })
    return [
      '| key | type | default | valid values | importance | description |',
      '|---|---|---|---|---|---|',
      ...rows,
    ].join('\n')
  }
}

function parseKey(key: ConfigKey, props: Readonly<Record<string, unknown>>): ParsedValue {
  const given = props[key.name]
  let value: ParsedValue
  if (given === undefined) {
    if (key.required) {
      throw new ConfigError(
        key.name,
        `Missing required configuration "${key.name}" which has no default value.`,
      )
    }
    value = key.defaultValue as ParsedValue
  } else {
    value = given === null ? null : parseType(key.name, given, key.type)
  }
  if (key.validator && !(value === null && given === undefined)) key.validator.ensureValid(key.name, value)
  return value
}

function renderDefault(key: ConfigKey): string | null {
  if (key.required || key.defaultValue === null) return null
  return renderValue(key, key.defaultValue)
}

function renderValue(key: ConfigKey, value: unknown): string {
  if (key.type === 'PASSWORD') return Password.HIDDEN
  if (Array.isArray(value)) return value.join(',')
  return String(value)
}

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

function invalid(name: string, value: unknown, why: string): ConfigError {
  return new ConfigError(name, `Invalid value ${String(value)} for configuration ${name}: ${why}`)
}

/** Kafka's `ConfigDef.parseType`: accepts the typed value or its string form. */
export function parseType(name: string, value: unknown, type: ConfigType): ParsedValue {
  const text = typeof value === 'string' ? value.trim() : value
  switch (type) {
    case 'BOOLEAN':
      if (typeof text === 'boolean') return text
      if (typeof text === 'string') {
        if (text.toLowerCase() === 'true') return true
        if (text.toLowerCase() === 'false') return false
      }
      throw invalid(name, value, 'Expected value to be either true or false')
    case 'PASSWORD':
      if (value instanceof Password) return value
      if (typeof value === 'string') return new Password(value)
      throw invalid(name, '[hidden]', 'Expected value to be a string, but it was a ' + typeof value)
    case 'STRING':
      if (typeof text === 'string') return text
      throw invalid(name, value, `Expected value to be a string, but it was a ${typeof value}`)
    case 'CLASS':
      if (typeof text === 'string' && text.length > 0) return text
      if (typeof value === 'function' && value.name) return value.name
      throw invalid(name, value, 'Expected a class name')
    case 'INT':
    case 'SHORT':
    case 'LONG': {
      const n =
        typeof text === 'number'
          ? text
          : typeof text === 'string' && /^[+-]?\d+$/.test(text)
            ? Number(text)
            : NaN
      const [min, max] =
        type === 'INT' ? [INT32_MIN, INT32_MAX] : type === 'SHORT' ? [-32768, 32767] : [-(2 ** 63), 2 ** 63]
      if (!Number.isInteger(n) || n < min || n > max) {
        const what =
          type === 'INT' ? '32-bit integer' : type === 'SHORT' ? '16-bit integer' : '64-bit integer'
        throw invalid(
          name,
          value,
          `Not a number of type ${type}` + (Number.isInteger(n) ? ` (out of ${what} range)` : ''),
        )
      }
      return n
    }
    case 'DOUBLE': {
      const n = typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : NaN
      if (Number.isNaN(n)) throw invalid(name, value, 'Not a number of type DOUBLE')
      return n
    }
    case 'LIST':
      if (Array.isArray(value)) return value.map(String)
      if (typeof text === 'string') return text === '' ? [] : text.split(/\s*,\s*/)
      throw invalid(name, value, 'Expected a comma separated list.')
  }
}

/** Numeric bounds, as Kafka's `ConfigDef.Range`. */
export const Range = {
  atLeast(min: number): Validator {
    return {
      ensureValid(name, value) {
        if (value === null) throw invalid(name, value, 'Value must be non-null')
        if ((value as number) < min) throw invalid(name, value, `Value must be at least ${min}`)
      },
      toString: () => `[${min},...]`,
    }
  },
  between(min: number, max: number): Validator {
    return {
      ensureValid(name, value) {
        if (value === null) throw invalid(name, value, 'Value must be non-null')
        if ((value as number) < min) throw invalid(name, value, `Value must be at least ${min}`)
        if ((value as number) > max) throw invalid(name, value, `Value must be no more than ${max}`)
      },
      toString: () => `[${min},...,${max}]`,
    }
  },
}

/** One of a fixed set of strings, as Kafka's `ValidString` / `CaseInsensitiveValidString`. */
export const ValidString = {
  in(...allowed: string[]): Validator {
    return {
      ensureValid(name, value) {
        if (typeof value !== 'string' || !allowed.includes(value)) {
          throw invalid(name, value, `String must be one of: ${allowed.join(', ')}`)
        }
      },
      toString: () => `[${allowed.join(', ')}]`,
    }
  },
  inIgnoringCase(...allowed: string[]): Validator {
    const lower = allowed.map((a) => a.toLowerCase())
    return {
      ensureValid(name, value) {
        if (typeof value !== 'string' || !lower.includes(value.toLowerCase())) {
          throw invalid(name, value, `String must be one of (case insensitive): ${allowed.join(', ')}`)
        }
      },
      toString: () => `(case insensitive) [${allowed.join(', ')}]`,
    }
  },
}

/** Every list element among the allowed ones, as Kafka's `ValidList`. */
export function validList(...allowed: string[]): Validator {
  return {
    ensureValid(name, value) {
      for (const item of (value as string[] | null) ?? []) {
        if (!allowed.includes(item)) throw invalid(name, item, `String must be one of: ${allowed.join(', ')}`)
      }
    },
    toString: () => `[${allowed.join(', ')}]`,
  }
}

export const NonEmptyString: Validator = {
  ensureValid(name, value) {
    if (typeof value !== 'string' || value === '') throw invalid(name, value, 'String must be non-empty')
  },
  toString: () => 'non-empty string',
}

export const NonNull: Validator = {
  ensureValid(name, value) {
    if (value === null) throw invalid(name, value, 'entry must be non null')
  },
  toString: () => 'non-null',
}

/** A validator from a function that returns an error reason, or nothing when valid. */
export function validator(
  describe: string,
  check: (value: ParsedValue, name: string) => string | undefined,
): Validator {
  return {
    ensureValid(name, value) {
      const why = check(value, name)
      if (why) throw invalid(name, value instanceof Password ? Password.HIDDEN : value, why)
    },
    toString: () => describe,
  }
}

export function allOf(...validators: Validator[]): Validator {
  return {
    ensureValid(name, value) {
      for (const v of validators) v.ensureValid(name, value)
    },
    toString: () => validators.map(String).join(', '),
  }
}

/**
 * A parsed config with typed getters and access to the original strings (Kafka's `AbstractConfig`).
 * Frozen once built.
 */
export class AbstractConfig {
  readonly definition: ConfigDef
  readonly values: Readonly<Record<string, ParsedValue>>
  readonly #originals: Readonly<Record<string, string>>

  constructor(definition: ConfigDef, originals: Readonly<Record<string, string>>) {
    this.definition = definition
    this.#originals = Object.freeze({ ...originals })
    this.values = definition.parse(originals)
  }

  get(name: string): ParsedValue {
    if (!(name in this.values)) throw new ConfigError(name, `Unknown configuration '${name}'`)
    return this.values[name]
  }
  getString(name: string): string {
    return this.get(name) as string
  }
  getOptionalString(name: string): string | null {
    return this.get(name) as string | null
  }
  getInt(name: string): number {
    return this.get(name) as number
  }
  getLong(name: string): number {
    return this.get(name) as number
  }
  getDouble(name: string): number {
    return this.get(name) as number
  }
  getBoolean(name: string): boolean {
    return this.get(name) as boolean
  }
  getList(name: string): string[] {
    return (this.get(name) as string[] | null) ?? []
  }
  getPassword(name: string): Password | null {
    return this.get(name) as Password | null
  }
  originals(): Readonly<Record<string, string>> {
    return this.#originals
  }
  /** Originals whose key starts with the prefix, with the prefix removed (or kept). */
  originalsWithPrefix(prefix: string, strip = true): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(this.#originals)) {
      if (k.startsWith(prefix)) out[strip ? k.slice(prefix.length) : k] = v
    }
    return out
  }
}
