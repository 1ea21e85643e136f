#!/usr/bin/env node
// The `sluice` command. From a checkout (`npx sluice …` after `npm ci`) it runs the TypeScript
// sources directly: Node ≥ 22.18 strips types, and `npx` puts the Node 24 of the `node`
// devDependency first on PATH. An installed package (sources under node_modules, where Node does
// not strip types) runs the build in dist/ (`npm run build`, done before publishing).
//
// V8's heap limits come from the container's memory (src/cli/heap-limit.ts, decision 0028): when
// they are not what Node runs with already, Node is started again in place (execve: same process,
// same pid, so signals and exit codes are the worker's) with them. A heap flag of the user's in
// NODE_OPTIONS or on Node's command line wins. The environment gets MALLOC_ARENA_MAX=2 unless set
// (decision 0031).
import { existsSync } from 'node:fs'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `sluice: Node ${process.versions.node} cannot run it; it needs Node 22.18 or later (the checkout's own Node 24 is node_modules/.bin/node: run npx sluice, or npm ci first)\n`,
  )
  process.exit(1)
}
const sources = new URL('../src/cli/', import.meta.url)
const fromSources = existsSync(new URL('main.ts', sources)) && !sources.pathname.includes('/node_modules/')
const cli = fromSources ? sources : new URL('../dist/src/cli/', import.meta.url)
const ext = fromSources ? 'ts' : 'js'
const { launcherFlags, mallocEnv } = await import(new URL(`heap-limit.${ext}`, cli).href)
const flags = launcherFlags()
const env = mallocEnv(process.env)
if ((flags.length > 0 || Object.keys(env).length > 0) && typeof process.execve === 'function') {
  process.execve(
    process.execPath,
    [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)],
    { ...process.env, ...env },
  )
}
await import(new URL(`main.${ext}`, cli).href)
