import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')

describe('sluice standalone with bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  function run(...args: string[]) {
    return spawnSync(process.execPath, [MAIN, 'standalone', ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 20_000,
    })
  }

  it('fails before starting anything when a worker key is malformed, naming the key and the fix', () => {
    writeFileSync(join(dir, 'bad-worker.properties'), 'bootstrap.servers=localhost\n')
    const result = run(join(dir, 'bad-worker.properties'))
    assert.equal(result.status, 2)
    assert.match(result.stderr, /bootstrap\.servers/)
    assert.match(result.stderr, /write e\.g\. localhost:9092/)
    writeFileSync(
      join(dir, 'bad-level.properties'),
      `sluice.data.dir=${join(dir, 'data')}\nlog.level=verbose\n`,
    )
    const level = run(join(dir, 'bad-level.properties'))
    assert.equal(level.status, 2, level.stderr)
    assert.match(level.stderr, /log\.level/)
    assert.match(level.stderr, /String must be one of: trace, debug, info, warn, error, fatal, silent/)
  })

  it('refuses to start with a worker converter that does not exist, naming the key and the installed ones', () => {
    writeFileSync(
      join(dir, 'bad-converter.properties'),
      `sluice.data.dir=${join(dir, 'data')}\nlisteners=http://127.0.0.1:0\nvalue.converter=com.example.NoSuchConverter\n`,
    )
    const result = run(join(dir, 'bad-converter.properties'))
    assert.equal(result.status, 2, result.stdout + result.stderr)
    assert.match(result.stderr, /value\.converter/)
    assert.match(result.stderr, /com\.example\.NoSuchConverter/)
    assert.match(result.stderr, /org\.apache\.kafka\.connect\.json\.JsonConverter/)
    assert.doesNotMatch(result.stdout + result.stderr, /ready/)
  })

  it('refuses to start with a header converter that is a plain converter, or a config provider that is not installed', () => {
    const base = `sluice.data.dir=${join(dir, 'data')}\nlisteners=http://127.0.0.1:0\n`
    writeFileSync(
      join(dir, 'bad-header.properties'),
      `${base}header.converter=org.apache.kafka.connect.json.JsonConverterX\n`,
    )
    const header = run(join(dir, 'bad-header.properties'))
    assert.equal(header.status, 2, header.stdout + header.stderr)
    assert.match(header.stderr, /header\.converter/)
    assert.match(header.stderr, /SimpleHeaderConverter/)
    writeFileSync(
      join(dir, 'providers.properties'),
      `${base}config.providers=vault\nconfig.providers.vault.class=com.example.VaultConfigProvider\n`,
    )
    const providers = run(join(dir, 'providers.properties'))
    assert.equal(providers.status, 2, providers.stdout + providers.stderr)
    assert.match(providers.stderr, /config\.providers\.vault\.class/)
    assert.match(providers.stderr, /com\.example\.VaultConfigProvider/)
    assert.match(providers.stderr, /org\.apache\.kafka\.common\.config\.provider\.FileConfigProvider/)
  })

  it('fails on an unknown connector class, listing the installed connectors', () => {
    writeFileSync(
      join(dir, 'worker.properties'),
      `sluice.data.dir=${join(dir, 'data')}\nlisteners=http://127.0.0.1:0\n`,
    )
    writeFileSync(join(dir, 'conn.properties'), 'name=x\nconnector.class=com.example.Nope\n')
    const result = run(join(dir, 'worker.properties'), join(dir, 'conn.properties'))
    assert.equal(result.status, 2)
    assert.match(result.stderr, /com\.example\.Nope/)
    assert.match(result.stderr, /org\.apache\.kafka\.connect\.file\.FileStreamSourceConnector/)
  })

  it('fails on a connector config with an invalid value, naming the key', () => {
    writeFileSync(
      join(dir, 'worker.properties'),
      `sluice.data.dir=${join(dir, 'data')}\nlisteners=http://127.0.0.1:0\n`,
    )
    writeFileSync(
      join(dir, 'conn.json'),
      JSON.stringify({
        name: 'y',
        config: { 'connector.class': 'FileStreamSource', topic: 't', 'tasks.max': '0' },
      }),
    )
    const result = run(join(dir, 'worker.properties'), join(dir, 'conn.json'))
    assert.equal(result.status, 2)
    assert.match(result.stderr, /Invalid value 0 for configuration tasks\.max: Value must be at least 1/)
  })

  it('fails on a connector file without a name', () => {
    writeFileSync(join(dir, 'noname.properties'), 'connector.class=FileStreamSink\ntopics=t\n')
    const result = run(join(dir, 'worker.properties'), join(dir, 'noname.properties'))
    assert.equal(result.status, 2)
    assert.match(result.stderr, /has no 'name'/)
  })
})

/**
 * A worker command given files only starts without the command-line parser (decision 0035); with
 * anything else the parser answers as it always did: help, unknown options and wrong argument counts.
 */
describe('the worker commands with options or wrong arguments', () => {
  function sluice(...args: string[]) {
    return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 })
  }

  it('show their help', () => {
    const standalone = sluice('standalone', '--help')
    assert.equal(standalone.status, 0, standalone.stderr)
    assert.match(
      standalone.stdout,
      /Usage: sluice standalone \[options\] \[worker-config\] \[connectors\.\.\.\]/,
    )
    assert.match(standalone.stdout, /Without bootstrap\.servers it\s+runs on the embedded log/)
    const distributed = sluice('distributed', '-h')
    assert.equal(distributed.status, 0, distributed.stderr)
    assert.match(distributed.stdout, /Usage: sluice distributed \[options\] <worker-config>/)
  })

  it('refuse an unknown option, a missing worker config and a second one, starting nothing', () => {
    const unknown = sluice('standalone', 'worker.properties', '--nope')
    assert.equal(unknown.status, 1)
    assert.match(unknown.stderr, /error: unknown option '--nope'/)
    const missing = sluice('distributed')
    assert.equal(missing.status, 1)
    assert.match(missing.stderr, /error: missing required argument 'worker-config'/)
    const extra = sluice('distributed', 'a.properties', 'b.properties')
    assert.equal(extra.status, 1)
    assert.match(extra.stderr, /error: too many arguments for 'distributed'/)
    for (const result of [unknown, missing, extra]) assert.doesNotMatch(result.stderr, /ready|\{"level"/)
  })
})
