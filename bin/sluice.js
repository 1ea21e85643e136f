#!/usr/bin/env node
// The `sluice` command. From a checkout (`npx sluice …` after `npm ci`) it runs the TypeScript
// sources directly: Node ≥ 22.18 strips types, and `npx` puts the Node 24 of the `node`
// devDependency first on PATH. An installed package (sources under node_modules, where Node does
// not strip types) runs the build in dist/ (`npm run build`, done before publishing).
import { existsSync } from 'node:fs'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `sluice: Node ${process.versions.node} cannot run it; it needs Node 22.18 or later (the checkout's own Node 24 is node_modules/.bin/node: run npx sluice, or npm ci first)\n`,
  )
  process.exit(1)
}
const built = new URL('../dist/src/cli/main.js', import.meta.url)
const sources = new URL('../src/cli/main.ts', import.meta.url)
await import(existsSync(sources) && !sources.pathname.includes('/node_modules/') ? sources.href : built.href)
