/** Writes a Java `.properties` file (keys and values here never need escaping beyond `\`). */
import { writeFileSync } from 'node:fs'

export function writeProperties(
  path: string,
  entries: Record<string, string | number>,
  comment?: string,
): string {
  const escaped = (text: string): string => text.replaceAll('\\', '\\\\')
  const lines = comment === undefined ? [] : [`# ${comment}`]
  for (const [key, value] of Object.entries(entries)) lines.push(`${key}=${escaped(String(value))}`)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}
