/**
 * An idle worker does not hold the heavy libraries a connector or format may need (bench/RESULTS.md):
 * a real `sluice standalone` process on the embedded log, started through the launcher, lists
 * the plugins, shows the S3 sink's and AvroConverter's keys and validates a MongoDB sink config
 * over REST, then reports every module it loaded (test/cli/probes/process-probe.ts). The S3 SDK,
 * the MongoDB driver, hyparquet-writer and avsc are loaded only by the tasks, formats and
 * converters that use them; the Kafka client only on Kafka or with the schema registry or REST
 * proxy; fastify, which the REST servers no longer use (decision 0036), never; nor pino (the
 * logger writes its lines itself) or commander (a worker started with files only does not parse its
 * command line with it, decision 0035); nor, started and listing its plugins, TLS, https or zlib
 * (an https listener or request, the web console and compressing formats use them);
 * Node's bundled undici (with http2, zlib, tls…) not at all: an ES import of `node:http` loads it,
 * and the worker takes `node:http` from `process.getBuiltinModule` (decision 0031).
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'

const LAUNCHER = resolve(import.meta.dirname, '../../bin/sluice.js')
const PROBE = resolve(import.meta.dirname, 'probes/process-probe.ts')
const HEAVY = [
  'hyparquet-writer',
  'avsc',
  'mongodb',
  '@aws-sdk',
  '@platformatic/kafka',
  // Replaced by src/rest/http-router.ts (decision 0036): neither it nor its plugins come back.
  'fastify',
  '@fastify',
  'find-my-way',
  // Decision 0035: the logger writes pino's lines itself; commander parses only other commands.
  'pino',
  'sonic-boom',
  'commander',
]

describe('idle worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-idle-'))
  let child: ChildProcess | undefined
  after(() => {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('loads no heavy library to start, list plugins, show their keys or validate a config', async () => {
    const workerFile = join(dir, 'worker.properties')
    writeFileSync(
      workerFile,
      [`listeners=http://127.0.0.1:0`, `sluice.data.dir=${join(dir, 'data')}`].join('\n'),
    )
    const out = join(dir, 'probe.json')
    let log = ''
    child = spawn(process.execPath, [LAUNCHER, 'standalone', workerFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: `--import=${PROBE}`, SLUICE_PROBE_OUT: out },
    })
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk))
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk))
    const deadline = Date.now() + 60_000
    let url: string | undefined
    while (url === undefined) {
      url = /standalone worker ready on (http:\/\/\S+)/.exec(log)?.[1]
      if (child.exitCode !== null || Date.now() > deadline) assert.fail(`worker did not start:\n${log}`)
      await sleep(50)
    }

    const plugins = (await (await fetch(`${url}/connector-plugins`)).json()) as { class: string }[]
    assert.ok(plugins.some((p) => p.class === 'io.confluent.connect.s3.S3SinkConnector'))
    // Decision 0035: TLS and https only for an https listener or request (a schema registry's
    // client), zlib only for the web console and formats that compress; not for a worker on http
    // that has started and listed its plugins.
    const started = JSON.parse(await waitForFile(out, () => child!.kill('SIGUSR2'))) as { builtins: string[] }
    assert.ok(started.builtins.includes('NativeModule http'), 'the probe saw the built-ins')
    for (const builtin of ['tls', '_tls_wrap', 'https', 'zlib'])
      assert.ok(
        !started.builtins.includes(`NativeModule ${builtin}`),
        `node:${builtin} is loaded by an idle worker on http`,
      )
    rmSync(out)
    // The S3 sink's validate() checks the bucket with the SDK, as Confluent's does; its ConfigDef
    // alone does not need it.
    const s3 = await fetch(`${url}/connector-plugins/io.confluent.connect.s3.S3SinkConnector/config`)
    assert.equal(s3.status, 200)
    const response = await fetch(`${url}/connector-plugins/MongoSinkConnector/config/validate`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        'connector.class': 'com.mongodb.kafka.connect.MongoSinkConnector',
        topics: 't',
        'connection.uri': 'mongodb://127.0.0.1:1',
        database: 'd',
      }),
    })
    assert.equal(response.status, 200, await response.clone().text())
    assert.ok(((await response.json()) as { configs: unknown[] }).configs.length > 0)
    const avro = await fetch(`${url}/connector-plugins/io.confluent.connect.avro.AvroConverter/config`)
    assert.equal(avro.status, 200)

    child.kill('SIGUSR2')
    const report = await waitForFile(out)
    const { modules, builtins } = JSON.parse(report) as { modules: string[]; builtins: string[] }
    assert.ok(
      modules.some((m) => /\/rest\/http-router\.[jt]s$/.test(m)),
      'the probe saw the modules',
    )
    for (const name of HEAVY) {
      const loaded = modules.filter((m) => m.includes(`/node_modules/${name}/`))
      assert.deepEqual(loaded.slice(0, 3), [], `${name} is loaded by an idle worker`)
    }
    assert.ok(builtins.includes('NativeModule http'), 'the probe saw the built-ins')
    assert.deepEqual(
      builtins.filter((m) => m.includes('undici')),
      [],
      "Node's undici is loaded by an idle worker (an `import … from 'node:http'`?)",
    )
  })
})

async function waitForFile(file: string, ask?: () => void): Promise<string> {
  ask?.()
  for (let i = 0; i < 200; i++) {
    try {
      return readFileSync(file, 'utf8')
    } catch {
      await sleep(50)
    }
  }
  throw new Error(`${file} was not written`)
}
