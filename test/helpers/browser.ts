/**
 * Headless Chromium (Debian's package, see scripts/chromium.ts) driven by playwright-core, for the
 * web console's tests and benchmark. Screenshots go to `test-artifacts/console/` (git-ignored).
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { CHROMIUM_ARGS } from '../../scripts/chromium.ts'
import { chromiumExecutable } from './services.ts'

export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/console')

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumExecutable(), headless: true, args: [...CHROMIUM_ARGS] })
}

/** Saves a full-page screenshot as test-artifacts/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}
