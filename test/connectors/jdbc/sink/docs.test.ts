import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

test('docs/reference/jdbc-sink.md is what scripts/gen-jdbc-sink-docs.ts generates from the ConfigDefs', async () => {
  const { jdbcSinkDocs } = await import('../../../../scripts/gen-jdbc-sink-docs.ts')
  assert.equal(
    readFileSync(new URL('../../../../docs/reference/jdbc-sink.md', import.meta.url), 'utf8'),
    jdbcSinkDocs(),
    'run node scripts/gen-jdbc-sink-docs.ts',
  )
})
