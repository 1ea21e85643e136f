import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/** Writes `count` numbered lines (`line-000001 …`) padded to about `width` bytes. */
export function writeNumberedLines(file: string, from: number, count: number, width = 100): void {
  const lines: string[] = []
  for (let i = from; i < from + count; i++) lines.push(numberedLine(i, width))
  writeFileSync(file, `${lines.join('\n')}\n`, { flag: 'a' })
}

export function numberedLine(n: number, width = 100): string {
  const head = `line-${String(n).padStart(7, '0')} `
  return head + 'x'.repeat(Math.max(0, width - head.length))
}

export function lineNumber(line: string): number {
  const m = /^line-(\d{7}) /.exec(line)
  if (!m) throw new Error(`not a numbered line: ${line.slice(0, 60)}`)
  return Number(m[1])
}

export function readLines(file: string): string[] {
  if (!existsSync(file)) return []
  const text = readFileSync(file, 'utf8')
  return text === '' ? [] : text.slice(0, text.endsWith('\n') ? -1 : undefined).split('\n')
}

/** Waits until the file holds at least `count` lines; fails with what it saw after `timeoutMs`. */
export async function waitForLines(file: string, count: number, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const lines = readLines(file)
    if (lines.length >= count) return lines
    if (Date.now() > deadline)
      throw new Error(`${file} has ${lines.length} lines after ${timeoutMs} ms, expected ${count}`)
    await sleep(50)
  }
}

/**
 * Checks an at-least-once delivery of lines 1..n in one partition: every number arrives, and the
 * output is a sequence of contiguous increasing runs (a restart may replay from an earlier
 * point, never skip ahead).
 */
export function assertAtLeastOnceInOrder(lines: string[], n: number): { duplicates: number } {
  const seen = new Set<number>()
  let previous = 0
  for (const line of lines) {
    const current = lineNumber(line)
    if (current !== previous + 1 && current > previous) {
      throw new Error(`line ${current} arrived right after line ${previous}: lines in between were skipped`)
    }
    seen.add(current)
    previous = current
  }
  for (let i = 1; i <= n; i++) if (!seen.has(i)) throw new Error(`line ${i} never arrived`)
  return { duplicates: lines.length - seen.size }
}
