/**
 * The reference pages of the schema registry and the REST proxy match their worker keys: a key added
 * or changed in src/config/services-config.ts without regenerating the pages fails here.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { servicePage, servicePages } from '../../scripts/gen-service-docs.ts'
import { servicesConfigDef } from '../../src/config/services-config.ts'

const REFERENCE = join(import.meta.dirname, '..', '..', 'docs', 'reference')

for (const page of servicePages) {
  test(`docs/reference/${page.page}.md is generated from the current keys`, () => {
    const current = readFileSync(join(REFERENCE, `${page.page}.md`), 'utf8')
    assert.equal(current, servicePage(page), `run node scripts/gen-service-docs.ts`)
  })
}

test('every service key is on a page', () => {
  for (const name of servicesConfigDef.names()) {
    assert.ok(
      servicePages.some((p) => name.startsWith(p.prefix)),
      `${name} belongs to no reference page`,
    )
  }
})
