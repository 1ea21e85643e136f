/**
 * The web console's static files (`src/console/`, browser TypeScript): index.html, app.js and
 * app.css, with their gzip forms. Where they come from (docs/decisions/0023-web-console.md):
 *
 * - a worker run from the compiled package (`dist/src/...js`) serves `dist/console/`, written by
 *   `npm run build` (scripts/build-console.ts);
 * - a worker run from the sources (`node src/cli/main.ts`, the tests) bundles `src/console/` in
 *   memory with esbuild (a devDependency) on the first request, so a fresh checkout needs no
 *   manual build and an edited console is never served stale.
 *
 * Nothing is fetched at run time: the bundle has no CDN link, fonts or images beyond data it holds.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ConsoleAsset {
  readonly contentType: string
  readonly body: Buffer
  readonly gzip: Buffer
  readonly etag: string
}

export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>

const HERE = dirname(fileURLToPath(import.meta.url))
const FROM_SOURCES = import.meta.url.endsWith('.ts')
/** The repository (from src/rest/) or the package root (from dist/src/rest/). */
const ROOT = resolve(HERE, FROM_SOURCES ? '../..' : '../../..')
export const CONSOLE_SOURCE_DIR = join(ROOT, 'src/console')
export const CONSOLE_DIST_DIR = join(ROOT, 'dist/console')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

function asset(name: string, body: Buffer): ConsoleAsset {
  // zlib only once the console is asked for (decision 0035).
  const gzip = process.getBuiltinModule('node:zlib').gzipSync(body, { level: 9 })
  let hash = 0x811c9dc5
  for (const byte of body) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return {
    contentType: TYPES[extname(name)] ?? 'application/octet-stream',
    body,
    gzip,
    etag: `"${hash.toString(16)}-${body.length.toString(16)}"`,
  }
}

/**
 * Bundles src/console/ with esbuild: `app.js` (one ES module, minified), `app.css` and `index.html`.
 * Throws when esbuild is not installed (a production install) or the sources do not compile.
 */
export async function bundleConsole(): Promise<Map<string, Buffer>> {
  const esbuild = await import('esbuild')
  const result = await esbuild.build({
    entryPoints: [join(CONSOLE_SOURCE_DIR, 'main.ts'), join(CONSOLE_SOURCE_DIR, 'app.css')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    platform: 'browser',
    write: false,
    outdir: '/out',
    entryNames: '[name]',
    legalComments: 'none',
    logLevel: 'silent',
  })
  const files = new Map<string, Buffer>()
  for (const file of result.outputFiles) {
    const name = file.path.slice('/out/'.length).replace(/^main\.js$/, 'app.js')
    files.set(name, Buffer.from(file.contents))
  }
  files.set('index.html', readFileSync(join(CONSOLE_SOURCE_DIR, 'index.html')))
  return files
}

function readBuilt(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (const name of readdirSync(dir)) files.set(name, readFileSync(join(dir, name)))
  return files
}

let loading: Promise<ConsoleAssets> | undefined

/**
 * The console's files, loaded once per process: bundled from the sources when running from them,
 * else read from dist/console. Rejects with an error saying how to build them when neither works.
 */
export function consoleAssets(): Promise<ConsoleAssets> {
  loading ??= (async () => {
    let files: Map<string, Buffer>
    if (FROM_SOURCES && existsSync(CONSOLE_SOURCE_DIR)) {
      files = await bundleConsole()
    } else if (existsSync(join(CONSOLE_DIST_DIR, 'index.html'))) {
      files = readBuilt(CONSOLE_DIST_DIR)
    } else {
      throw new Error(`the web console is not built: run \`npm run build\` (it writes ${CONSOLE_DIST_DIR})`)
    }
    return new Map([...files].map(([name, body]) => [name, asset(name, body)]))
  })()
  loading.catch(() => {
    loading = undefined // retried on the next request
  })
  return loading
}
