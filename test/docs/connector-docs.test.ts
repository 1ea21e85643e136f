import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { connectorPage, pages } from '../../scripts/gen-connector-docs.ts'
import type { Connector } from '../../src/api/connector.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'

describe('docs/reference: one generated page per connector', () => {
  for (const page of pages) {
    test(`${page.page}.md is what scripts/gen-connector-docs.ts generates from the ConfigDef`, () => {
      const committed = readFileSync(new URL(`../../docs/reference/${page.page}.md`, import.meta.url), 'utf8')
      assert.equal(committed, connectorPage(page), 'run: npx node scripts/gen-connector-docs.ts')
      // Every key of the ConfigDef is on the page.
      for (const plugin of [page.plugin, ...(page.also ?? [])]) {
        const def = (plugin.create() as Connector).config()
        for (const key of def.configKeys().filter((k) => !k.internal)) {
          assert.ok(committed.includes(`\`${key.name}\``), `${page.page}.md lacks ${key.name}`)
        }
      }
    })
  }

  test('every built-in connector has a page', () => {
    const documented = new Set(pages.flatMap((p) => [p.plugin, ...(p.also ?? [])].map((d) => d.className)))
    const connectors = builtInPlugins().list(['source', 'sink'])
    assert.ok(connectors.length >= 2)
    for (const connector of connectors) {
      assert.ok(
        documented.has(connector.className),
        `${connector.className} has no page in scripts/gen-connector-docs.ts`,
      )
    }
  })
})
