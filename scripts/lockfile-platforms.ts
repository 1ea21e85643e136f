/**
 * Adds to package-lock.json the platform packages of Biome that the npm registry this project's
 * machines reach does not serve (macOS, Windows, Android, musl builds). `npm install` leaves them
 * out when it cannot fetch them, and `npm ci` then refuses the lock as out of sync with
 * package.json. They are optional and never installed on Linux x64/arm64 glibc, so an entry with
 * version, os, cpu and libc is all `npm ci` needs. Run after `npm install` changes the lock:
 *
 *   npx node scripts/lockfile-platforms.ts
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const lockFile = join(import.meta.dirname, '..', 'package-lock.json')
const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as {
  packages: Record<string, { version?: string; optionalDependencies?: Record<string, string> }>
}
const biome = lock.packages['node_modules/@biomejs/biome']
if (!biome?.optionalDependencies)
  throw new Error('package-lock.json has no @biomejs/biome with optional dependencies')

const platforms: Record<string, { os: string; cpu: string; libc?: string }> = {
  'cli-android-arm64': { os: 'android', cpu: 'arm64' },
  'cli-android-x64': { os: 'android', cpu: 'x64' },
  'cli-darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'cli-darwin-x64': { os: 'darwin', cpu: 'x64' },
  'cli-linux-arm64': { os: 'linux', cpu: 'arm64', libc: 'glibc' },
  'cli-linux-arm64-musl': { os: 'linux', cpu: 'arm64', libc: 'musl' },
  'cli-linux-x64': { os: 'linux', cpu: 'x64', libc: 'glibc' },
  'cli-linux-x64-musl': { os: 'linux', cpu: 'x64', libc: 'musl' },
  'cli-win32-arm64': { os: 'win32', cpu: 'arm64' },
  'cli-win32-x64': { os: 'win32', cpu: 'x64' },
}

let added = 0
for (const [name, version] of Object.entries(biome.optionalDependencies)) {
  const key = `node_modules/${name}`
  if (lock.packages[key]) continue
  const platform = platforms[name.replace('@biomejs/', '')]
  if (!platform)
    throw new Error(`unknown Biome platform package ${name}: add it to scripts/lockfile-platforms.ts`)
  lock.packages[key] = {
    version,
    cpu: [platform.cpu],
    dev: true,
    ...(platform.libc ? { libc: [platform.libc] } : {}),
    license: 'MIT OR Apache-2.0',
    optional: true,
    os: [platform.os],
    engines: { node: '>=14.21.3' },
  } as (typeof lock.packages)[string]
  added++
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
)
writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`)
process.stdout.write(`package-lock.json: added ${added} Biome platform entries\n`)
