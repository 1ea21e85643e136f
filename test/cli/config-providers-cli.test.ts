// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${provider:path:key}` references are the subject here
/**
 * Config providers in the `sluice` command as a container runs it: providers declared through
 * CONNECT_* environment variables, `${…}` in the worker file itself (KIP-421) and in connector
 * files, and the values never in the worker's log or in what the REST API answers.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { eventually } from '../helpers/rest.ts'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')

describe('sluice standalone with config providers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-providers-'))
  let worker: ChildProcess | undefined
  after(() => {
    worker?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('resolves worker and connector references; the log and REST answers never show the values', async () => {
    const sinkSecret = join(dir, 'no-such-dir', 'sink-secret-8f3a91.txt')
    const sourceSecret = join(dir, 'missing-source-secret-77b1c2.txt')
    const dataDir = join(dir, 'data-from-provider')
    writeFileSync(join(dir, 'paths.properties'), `data.dir=${dataDir}\n`)
    writeFileSync(
      join(dir, 'worker.properties'),
      `sluice.data.dir=\${file:${join(dir, 'paths.properties')}:data.dir}\nlisteners=\${env:APP_LISTENERS}\nlog.level=info\n`,
    )
    writeFileSync(
      join(dir, 'source.properties'),
      'name=source\nconnector.class=FileStreamSource\nfile=${env:APP_SOURCE_FILE}\ntopic=lines\n',
    )
    writeFileSync(
      join(dir, 'sink.json'),
      JSON.stringify({
        name: 'sink',
        config: { 'connector.class': 'FileStreamSink', topics: 'lines', file: '${env:APP_SINK_FILE}' },
      }),
    )
    worker = spawn(
      process.execPath,
      [
        MAIN,
        'standalone',
        join(dir, 'worker.properties'),
        join(dir, 'source.properties'),
        join(dir, 'sink.json'),
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          CONNECT_CONFIG_PROVIDERS: 'env,file',
          CONNECT_CONFIG_PROVIDERS_ENV_CLASS: 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
          CONNECT_CONFIG_PROVIDERS_ENV_PARAM_ALLOWLIST_PATTERN: 'APP_.*',
          CONNECT_CONFIG_PROVIDERS_FILE_CLASS: 'org.apache.kafka.common.config.provider.FileConfigProvider',
          APP_LISTENERS: 'http://127.0.0.1:0',
          APP_SOURCE_FILE: sourceSecret,
          APP_SINK_FILE: sinkSecret,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let log = ''
    worker.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString()
    })
    const exited = new Promise((done) => worker!.once('exit', done))
    const base = await eventually(
      () => /ready on (http:\/\/\S+)/.exec(log)?.[1],
      30_000,
      `the worker to start:\n${log}`,
    )
    assert.ok(existsSync(join(dataDir, 'connectors.json')), 'sluice.data.dir came from the file provider')

    const get = async (path: string) => (await fetch(`${base}${path}`)).text()
    const trace = await eventually(async () => {
      const status = JSON.parse(await get('/connectors/sink/status')) as {
        tasks: { state: string; trace?: string }[]
      }
      return status.tasks[0]?.state === 'FAILED' ? status.tasks[0].trace : undefined
    })
    assert.match(trace!, /cannot open \[hidden\] for appending/)
    await eventually(
      () => (log.includes("Couldn't find file") ? true : undefined),
      10_000,
      'the source to warn',
    )
    const answers = [
      await get('/connectors?expand=info&expand=status'),
      await get('/connectors/sink/config'),
      await get('/connectors/source/tasks'),
      await get('/connectors/sink/status'),
    ]
    assert.ok(answers[1]!.includes('${env:APP_SINK_FILE}'))
    assert.ok(answers[2]!.includes('${env:APP_SOURCE_FILE}'))

    worker.kill('SIGTERM')
    await exited
    assert.match(log, /Couldn't find file \[hidden\] for FileStreamSourceTask/)
    for (const secret of [sinkSecret, sourceSecret, 'sink-secret-8f3a91', 'missing-source-secret-77b1c2']) {
      assert.ok(!log.includes(secret), `the log shows ${secret}`)
      for (const answer of answers)
        assert.ok(!answer.includes(secret), `a REST answer shows ${secret}: ${answer}`)
    }
  })
})
