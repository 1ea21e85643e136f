/**
 * Writes the web console's bundle (src/console/ → dist/console/: index.html, app.js, app.css) for
 * the compiled package; part of `npm run build`. A worker run from the sources bundles it in memory
 * instead (src/rest/console-assets.ts), so this is needed only for `dist/`.
 *
 *   node scripts/build-console.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { bundleConsole, CONSOLE_DIST_DIR } from '../src/rest/console-assets.ts'

const files = await bundleConsole()
rmSync(CONSOLE_DIST_DIR, { recursive: true, force: true })
mkdirSync(CONSOLE_DIST_DIR, { recursive: true })
let gzipped = 0
for (const [name, body] of files) {
  writeFileSync(join(CONSOLE_DIST_DIR, name), body)
  gzipped += gzipSync(body, { level: 9 }).length
}
process.stdout.write(
  `web console: ${files.size} files in ${CONSOLE_DIST_DIR}, ${(gzipped / 1024).toFixed(1)} KiB gzipped\n`,
)
