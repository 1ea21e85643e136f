/**
 * Values resolved from config providers, masked wherever the worker writes text a user can read:
 * log lines (the root logger's hook), status traces and validation results. A value shorter than
 * four characters is not masked in free text (it would erase unrelated words and numbers); the REST
 * API never shows resolved values at all, whatever their length.
 */
export const MASK = '[hidden]'
const MIN_LENGTH = 4

const values = new Set<string>()
/** Longest first, so a value containing another is masked whole. */
let ordered: string[] = []

export function registerSecretValues(resolved: Iterable<string>): void {
  let added = false
  for (const value of resolved) {
    if (value.length >= MIN_LENGTH && !values.has(value)) {
      values.add(value)
      added = true
    }
  }
  if (added) ordered = [...values].sort((a, b) => b.length - a.length)
}

/** The text with every registered value replaced by `[hidden]`. */
export function maskSecretValues(text: string): string {
  if (ordered.length === 0 || text.length < MIN_LENGTH) return text
  let out = text
  for (const value of ordered) if (out.includes(value)) out = out.split(value).join(MASK)
  return out
}

/** Every registered value, for a task thread to register in its own isolate (its logger masks them too). */
export function registeredSecretValues(): string[] {
  return [...values]
}
