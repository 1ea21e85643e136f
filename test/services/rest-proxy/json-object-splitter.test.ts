/**
 * Streaming mode's reader of concatenated JSON objects: objects split anywhere across chunks, braces
 * and quotes inside strings, whitespace between objects, and garbage refused.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { JsonObjectSplitter } from '../../../src/rest/rest-proxy-server.ts'

const objects = [
  { a: 1 },
  { s: 'a } { " \\" tricky', n: { deep: [1, { x: '}' }] } },
  { value: { type: 'STRING', data: '{' } },
]
const text = objects.map((o) => JSON.stringify(o)).join('\n  ')

test('yields each object whatever the chunk boundaries', () => {
  for (let size = 1; size <= text.length; size += 3) {
    const splitter = new JsonObjectSplitter()
    const out: string[] = []
    for (let i = 0; i < text.length; i += size) out.push(...splitter.push(text.slice(i, i + size)))
    assert.deepEqual(
      out.map((o) => JSON.parse(o)),
      objects,
      `chunks of ${size}`,
    )
    assert.equal(splitter.pending, false)
  }
})

test('knows when the body ends inside an object', () => {
  const splitter = new JsonObjectSplitter()
  assert.deepEqual(splitter.push('{"a": {"b": 1}'), [])
  assert.equal(splitter.pending, true)
})

test('refuses what is not a JSON object at the top level', () => {
  assert.throws(() => new JsonObjectSplitter().push('[1, 2]'), /expected a JSON object/)
  assert.throws(() => new JsonObjectSplitter().push('{"a":1}}'), /unbalanced/)
})
