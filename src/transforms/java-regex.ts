/**
 * Java `java.util.regex` patterns and replacement strings, as SMT configs carry them, run on
 * JavaScript's RegExp.
 *
 * - `matches()` (the whole input must match: RegexRouter, TopicNameMatches, Debezium's routers) is
 *   `^(?:p)$`; `replaceFirst` replaces the first `find()` match, as Java does after `matches()`.
 * - Leading inline flags `(?i)`, `(?s)`, `(?m)`, `(?x)`-less combinations become RegExp flags;
 *   `\A`, `\z`, `\Z` become anchors; possessive quantifiers and atomic groups (`*+`, `(?>…)`) are
 *   rejected, as JavaScript has no equivalent.
 * - Replacement strings: `$1`, `${name}`, `\$` and `\\` as Java reads them. A `$` not followed by a
 *   digit or `{` is an error in Java, and here.
 */
import { ConfigError } from '../api/errors.ts'

export interface JavaPattern {
  readonly source: string
  /** The first match anywhere (Java's `find()`), no `g` flag. */
  readonly find: RegExp
  /** Whole-input match (Java's `matches()`). */
  readonly whole: RegExp
}

/** Compiles a Java regex, throwing a plain `Error` with the reason when JavaScript cannot run it. */
export function compileJavaRegex(source: string): JavaPattern {
  let body = source
  let flags = ''
  const inline = /^\(\?([imsux]+)\)/.exec(body)
  if (inline) {
    for (const f of inline[1]) {
      if (f === 'x') throw new Error('the COMMENTS flag (?x) is not supported')
      if (f === 'i' || f === 'm' || f === 's') flags += f
    }
    body = body.slice(inline[0].length)
  }
  if (/(?<!\\)(?:\\\\)*[*+?}]\+/.test(body)) throw new Error('possessive quantifiers are not supported')
  if (body.includes('(?>')) throw new Error('atomic groups are not supported')
  body = body.replace(/(?<!\\)((?:\\\\)*)\\([AzZ])/g, (_m, slashes: string, anchor: string) => {
    if (anchor === 'A') return `${slashes}^`
    if (anchor === 'z') return `${slashes}$(?![\\s\\S])`
    return `${slashes}(?=\\n?$(?![\\s\\S]))`
  })
  const make = (text: string): RegExp => {
    try {
      return new RegExp(text, `${flags}u`)
    } catch {
      return new RegExp(text, flags)
    }
  }
  return Object.freeze({ source, find: make(body), whole: make(`^(?:${body})$`) })
}

/** Java's `Matcher.replaceFirst` replacement syntax converted to JavaScript's `String.replace` syntax. */
export function javaReplacement(replacement: string): string {
  let out = ''
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]
    if (c === '\\') {
      i++
      if (i >= replacement.length) throw new Error('character to be escaped is missing')
      out += replacement[i] === '$' ? '$$' : replacement[i]
    } else if (c === '$') {
      const next = replacement[i + 1]
      if (next === '{') {
        const end = replacement.indexOf('}', i)
        if (end < 0) throw new Error("named capturing group is missing trailing '}'")
        const name = replacement.slice(i + 2, end)
        if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`invalid group name '${name}'`)
        out += `$<${name}>`
        i = end
      } else if (next !== undefined && next >= '0' && next <= '9') {
        let j = i + 1
        while (j < replacement.length && replacement[j] >= '0' && replacement[j] <= '9') j++
        out += `$${replacement.slice(i + 1, j)}`
        i = j - 1
      } else {
        throw new Error('Illegal group reference')
      }
    } else {
      out += c
    }
  }
  return out
}

/**
 * `matcher.matches()` then `matcher.replaceFirst(replacement)`: the new text when the whole input
 * matches, or `null` when it does not.
 */
export function replaceIfMatches(pattern: JavaPattern, replacement: string, input: string): string | null {
  if (!pattern.whole.test(input)) return null
  return input.replace(pattern.find, replacement)
}

/** A config validator's check: the reason a Java regex cannot be used here, or nothing. */
export function regexProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  try {
    compileJavaRegex(value)
    return undefined
  } catch (error) {
    return `Invalid regex: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** Converts a replacement for a config key, naming the key when it is invalid. */
export function replacementFor(key: string, replacement: string): string {
  try {
    return javaReplacement(replacement)
  } catch (error) {
    throw new ConfigError(
      key,
      `Invalid value ${replacement} for configuration ${key}: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}
