import { mkdirSync } from 'node:fs'
import { open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ConnectError } from '../../api/errors.ts'

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
 * old one, fsync the directory. A crash leaves the old or the new content, never a mix.
 */
export async function writeJsonFileAtomic(file: string, value: unknown): Promise<void> {
  const dir = dirname(file)
  mkdirSync(dir, { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  const handle = await open(tmp, 'w')
  try {
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
