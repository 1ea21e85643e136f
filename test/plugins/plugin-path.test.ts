import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadPluginPath } from '../../src/plugins/plugin-loader.ts'
import { PluginRegistry } from '../../src/plugins/plugin-registry.ts'
import { waitForLines } from '../helpers/files.ts'
import { request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

const EXAMPLES = resolve(import.meta.dirname, '../../examples/plugins')

describe('plugins on plugin.path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-plugins-'))
  let worker: TestWorker | undefined
  after(async () => {
    await worker?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('runs a transform written in TypeScript, referenced by its class name', async () => {
    worker = await startTestWorker({ 'plugin.path': EXAMPLES, 'value.converter.schemas.enable': 'false' })
    const base = worker.base
    const input = join(dir, 'in.txt')
    const output = join(dir, 'out.txt')
    writeFileSync(input, 'card 4111 1111 1111 1111\nno digits here\n')
    for (const [name, config] of [
      [
        'src',
        {
          'connector.class': 'FileStreamSource',
          file: input,
          topic: 'cards',
          transforms: 'mask',
          'transforms.mask.type': 'com.example.MaskDigits',
          'transforms.mask.replacement': '#',
        },
      ],
      ['sink', { 'connector.class': 'FileStreamSink', file: output, topics: 'cards' }],
    ] as const) {
      const res = await request(base, 'POST', '/connectors', { name, config })
      assert.equal(res.status, 201, JSON.stringify(res.body))
    }
    assert.deepEqual(await waitForLines(output, 2), ['card #### #### #### ####', 'no digits here'])
    const plugins = await request<{ class: string; type: string }[]>(
      base,
      'GET',
      '/connector-plugins?connectorsOnly=false',
    )
    assert.ok(plugins.body.some((p) => p.class === 'com.example.MaskDigits' && p.type === 'transformation'))
  })

  it('names the module and what is wrong with a bad plugin', async () => {
    const bad = join(dir, 'bad')
    mkdirSync(bad)
    writeFileSync(
      join(bad, 'broken.mjs'),
      'export const plugins = [{ className: "x.Y", type: "gizmo", create() {} }]\n',
    )
    await assert.rejects(
      loadPluginPath([bad], new PluginRegistry()),
      /broken\.mjs: plugin x\.Y has type 'gizmo'/,
    )
    await assert.rejects(loadPluginPath([join(dir, 'missing')], new PluginRegistry()), /is not a directory/)
  })
})
