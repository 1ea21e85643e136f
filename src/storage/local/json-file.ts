import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ConnectError } from '../../api/errors.ts'

/** Connector configs hold passwords: the state files are the owner's alone, as are the dirs Sluice makes. */
export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/** Creates the directory (and missing parents) readable by the owner only; an existing one is left as it is. */
export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
}

/** Takes group and other permissions off an existing state file (older versions wrote them 0644). */
export function restrictFileMode(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, PRIVATE_FILE_MODE)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/** The parsed file, or null when it does not exist. */
export async function readJsonFile<T>(file: string): Promise<T | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  try {
    return JSON.parse(text) as T
  } catch (error) {
    throw new ConnectError('CONNECT', `${file} is not valid JSON: fix or remove it`, { cause: error })
  }
}

/**
 * Replaces the file's content all at once: write a temporary file, fsync it, rename it over the
 * old one, fsync the directory. A crash leaves the old or the new content, never a mix. The file is
 * written 0600.
 */
export async function writeJsonFileAtomic(file: string, value: unknown): Promise<void> {
  const dir = dirname(file)
  ensurePrivateDir(dir)
  const tmp = `${file}.tmp-${process.pid}`
  const handle = await open(tmp, 'w', PRIVATE_FILE_MODE)
  try {
    await handle.chmod(PRIVATE_FILE_MODE) // a temporary file left by a crash keeps its old mode
    await handle.writeFile(JSON.stringify(value))
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, file)
  const dirHandle = await open(dir, 'r')
  try {
    await dirHandle.sync()
  } finally {
    await dirHandle.close()
  }
}
