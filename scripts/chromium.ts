/**
 * Headless Chromium for the web console's end-to-end tests and benchmark: Debian's `chromium`
 * package (installed by `.ci/run` when missing: `apt-get install -y chromium`), driven by
 * playwright-core with `executablePath`. Nothing is downloaded here: Playwright's own browser builds
 * are not used. The browser is launched per test; this only finds it and checks that it runs.
 *
 *   npx node scripts/chromium.ts status
 *
 * Environment: SLUICE_CHROMIUM_PATH (default /usr/bin/chromium) to use another binary.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export function chromiumPath(): string {
  return process.env.SLUICE_CHROMIUM_PATH || '/usr/bin/chromium'
}

/**
 * The flags every launch uses. Without the background-networking ones Chromium keeps calling
 * Google's services (component updates, sync, field trials), which on a closed network floods
 * the resolver and slows every test.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const

/** Resolves with the path of a Chromium that runs, or rejects saying how to install one. */
export async function ensureChromium(): Promise<string> {
  const path = chromiumPath()
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install Debian's package (apt-get install -y chromium) or set SLUICE_CHROMIUM_PATH`,
    )
  }
  const version = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 })
  if (version.status !== 0) {
    throw new Error(`${path} --version failed: ${(version.stderr || String(version.error)).trim()}`)
  }
  return path
}

if (import.meta.main) {
  const command = process.argv[2]
  if (command === 'status' || command === 'start') {
    const path = await ensureChromium()
    process.stdout.write(`export SLUICE_TEST_CHROMIUM=${path}\n`)
  } else {
    process.stderr.write('usage: node scripts/chromium.ts status\n')
    process.exitCode = 2
  }
}
