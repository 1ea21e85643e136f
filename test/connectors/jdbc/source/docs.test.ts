import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { connectorPage, pages } from '../../../../scripts/gen-connector-docs.ts'

describe('docs/reference/jdbc-source.md', () => {
  test('is what scripts/gen-connector-docs.ts generates from the ConfigDef', () => {
    const page = pages.find((p) => p.page === 'jdbc-source')!
    const committed = readFileSync(
      new URL('../../../../docs/reference/jdbc-source.md', import.meta.url),
      'utf8',
    )
    assert.equal(committed, connectorPage(page), 'run: npx node scripts/gen-connector-docs.ts')
    assert.match(committed, /\| `timestamp.delay.interval.ms` \| LONG \| `0` \|/)
  })
})
