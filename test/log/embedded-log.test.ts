import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedLog } from '../../src/log/embedded/embedded-log.ts'
import { runLogConformance } from './log-conformance.ts'

runLogConformance('embedded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-embedded-log-'))
  const log = await createEmbeddedLog({ dir })
  return {
    log,
    cleanup: async () => {
      await log.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})
