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

/** A distributed worker's `group.id` and internal topics (`<group>-configs|offsets|status`, one replica). */
export function distributedGroupKeys(group: string): Record<string, string | number> {
  return {
    'group.id': group,
    'config.storage.topic': `${group}-configs`,
    'offset.storage.topic': `${group}-offsets`,
    'status.storage.topic': `${group}-status`,
    'config.storage.replication.factor': 1,
    'offset.storage.replication.factor': 1,
    'status.storage.replication.factor': 1,
  }
}
