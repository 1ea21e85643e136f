/**
 * The order checks of the chaos tests, on scripted topics: per key (pipeline.ts `reorderedKeys`)
 * and per partition of numbered lines (secure-pipeline.ts `topicProblems`).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type Event, reorderedKeys } from './pipeline.ts'
import { topicProblems } from './secure-pipeline.ts'

/** Events of one key from `op@lsn` words, at offsets 0, 1, 2, … */
function topic(...words: string[]): Map<string, Event[]> {
  const events = words.map((w, offset) => {
    const [op, lsn] = w.split('@')
    return { partition: 0, offset, op, lsn: Number(lsn), id: `${lsn}/${op}` }
  })
  return new Map([['{"id":1}', events]])
}

describe('the per-key order check', () => {
  test('passes events in LSN order', () => {
    assert.deepEqual(reorderedKeys(topic('c@1', 'u@2', 'd@3', 'c@4')), { problems: [], duplicates: 0 })
  })

  test('passes at-least-once replays: a restart re-sends from its last commit, in order', () => {
    const replayed = topic('c@1', 'u@2', 'u@3', 'u@2', 'u@3', 'd@4', 'u@3', 'd@4', 'c@5')
    assert.deepEqual(reorderedKeys(replayed), { problems: [], duplicates: 4 })
  })

  test('passes a replay cut short by another crash that a later run completes', () => {
    assert.deepEqual(reorderedKeys(topic('c@1', 'u@2', 'u@3', 'u@2', 'u@2', 'u@3')).problems, [])
  })

  test('fails an event put behind a later one by a retry, naming the key and offsets', () => {
    const { problems } = reorderedKeys(topic('c@1', 'u@3', 'u@2'))
    assert.equal(problems.length, 1)
    assert.match(
      problems[0],
      /key \{"id":1\} reordered in the topic: u@lsn 2 \(partition 0 offset 2\) comes after u@lsn 3 \(partition 0 offset 1\)/,
    )
  })

  test('fails a retried duplicate that lands after a later event (a stale last write)', () => {
    assert.equal(reorderedKeys(topic('c@1', 'u@2', 'u@3', 'u@2')).problems.length, 1)
  })
})

describe('the per-partition check of numbered lines', () => {
  test('passes lines in order, and one replay per worker kill', () => {
    assert.deepEqual(
      topicProblems(
        [
          [1, 3, 5],
          [2, 4, 6],
        ],
        6,
        0,
      ),
      { problems: [], duplicates: 0 },
    )
    assert.deepEqual(
      topicProblems(
        [
          [1, 3, 5, 3, 5, 7],
          [2, 4, 6],
        ],
        7,
        1,
      ),
      { problems: [], duplicates: 2 },
    )
  })

  test('fails a duplicate without a kill, a partition going back twice for one kill, a missing line', () => {
    const duplicate = topicProblems([[1, 2, 3, 3]], 3, 0)
    assert.match(duplicate.problems.join('\n'), /goes back from line 3 to line 3/)
    assert.match(duplicate.problems.join('\n'), /1 duplicates in the topic with no worker kill/)
    assert.match(topicProblems([[1, 5, 2, 6, 3, 7]], 7, 1).problems.join('\n'), /2 times, at most 1 allowed/)
    assert.match(topicProblems([[1, 2], [4]], 4, 0).problems.join('\n'), /1 lines missing in the topic: 3/)
  })
})
