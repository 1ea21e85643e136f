/** Runs JavaKeys.java (single-file launch of the JDK's `java`): the real-Java side of the key tests. */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import type { JavaValue } from '../../../../src/connectors/postgres-cdc/java-serialization.ts'

const PROGRAM = join(import.meta.dirname, 'JavaKeys.java')

/**
 * One output line per input line (`encode`: spec → hex; `decode`: hex → spec; `hashmap`: keys → the
 * order a java.util.HashMap iterates them), in a JVM at `timeZone`.
 */
export function javaKeys(mode: 'encode' | 'decode' | 'hashmap', lines: string[], timeZone = 'UTC'): string[] {
  const out = execFileSync('java', [`-Duser.timezone=${timeZone}`, PROGRAM, mode], {
    encoding: 'utf8',
    input: `${lines.join('\n')}\n`,
    maxBuffer: 64 * 1024 * 1024,
  })
  return out.trimEnd().split('\n')
}

/** The spec JavaKeys.java takes and prints: `Type:value|…`, strings as base64 of UTF-8. */
export function spec(key: (JavaValue | null)[] | null): string {
  if (key === null) return 'null'
  return key
    .map((v) =>
      v === null
        ? 'null'
        : `${v.type}:${v.type === 'String' ? Buffer.from(v.text, 'utf8').toString('base64') : v.text}`,
    )
    .join('|')
}
