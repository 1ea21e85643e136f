/**
 * The worker's log lines: pino's JSON lines (decision 0035), which users' log pipelines read. The
 * expected lines are what pino 10 wrote for the same calls with the settings the worker used
 * (`base: undefined`, numeric levels, epoch-ms time). Each case runs in a real child process
 * writing to its stderr.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, it } from 'node:test'

const LOGGER = resolve(import.meta.dirname, '../../src/common/logger.ts')
const SECRETS = resolve(import.meta.dirname, '../../src/common/secret-values.ts')

/** Runs `body` (with `createLogger` and `registerSecretValues` in scope); its stderr lines, time as T. */
function logged(body: string): { lines: string[]; times: number[]; status: number | null; stderr: string } {
  const script = `import { createLogger } from ${JSON.stringify(LOGGER)}
import { registerSecretValues } from ${JSON.stringify(SECRETS)}
${body}`
  const before = Date.now()
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  const after = Date.now()
  const times: number[] = []
  const lines = result.stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      line.replace(/"time":(\d+)/, (_m, t: string) => {
        times.push(Number(t))
        return '"time":T'
      }),
    )
  for (const t of times) assert.ok(t >= before && t <= after, `time ${t} is not the epoch ms of the call`)
  return { lines, times, status: result.status, stderr: result.stderr }
}

describe('the worker log', () => {
  it('writes pino lines: level number, epoch ms, bindings, fields in order, then msg', () => {
    const { lines } = logged(`
const log = createLogger()
log.info('worker ready')
const rest = log.child({ logger: 'sluice.rest' })
rest.warn({ err: 'boom', url: '/connectors?x="1"', n: 1, f: 1.5, ok: true, none: null, skipped: undefined, fn() {} }, 'REST request failed')
rest.child({ connector: 'c', task: 0 }).error({ nested: { a: [1, 'b'] } }, 'line\\nbreak "quoted" é')
log.info({ only: 'fields' })
log.error({ err: 'the reason' })
`)
    assert.deepEqual(lines, [
      '{"level":30,"time":T,"msg":"worker ready"}',
      '{"level":40,"time":T,"logger":"sluice.rest","err":"boom","url":"/connectors?x=\\"1\\"","n":1,"f":1.5,"ok":true,"none":null,"msg":"REST request failed"}',
      '{"level":50,"time":T,"logger":"sluice.rest","connector":"c","task":0,"nested":{"a":[1,"b"]},"msg":"line\\nbreak \\"quoted\\" é"}',
      '{"level":30,"time":T,"only":"fields"}',
      '{"level":50,"time":T,"err":"the reason"}',
    ])
    for (const line of lines) JSON.parse(line.replace('"time":T', '"time":0'))
  })

  it('filters by level: a child starts at its parent level and keeps its own afterwards', () => {
    const { lines } = logged(`
const log = createLogger({ level: 'warn' })
log.info('hidden')
log.warn('shown')
const child = log.child({ logger: 'x' })
log.level = 'error'
child.warn('child at warn')
log.warn('root at error: hidden')
child.level = 'debug'
child.debug('child at debug')
child.trace('hidden')
child.level = 'silent'
child.fatal('silent hides everything')
log.fatal('fatal')
console.error(log.level, child.level)
`)
    assert.deepEqual(lines, [
      '{"level":40,"time":T,"msg":"shown"}',
      '{"level":40,"time":T,"logger":"x","msg":"child at warn"}',
      '{"level":20,"time":T,"logger":"x","msg":"child at debug"}',
      '{"level":60,"time":T,"msg":"fatal"}',
      'error silent',
    ])
  })

  it('refuses an unknown level, naming it and the levels there are', () => {
    const { status, stderr } = logged(`createLogger({ level: 'verbose' })`)
    assert.equal(status, 1)
    assert.match(stderr, /unknown log level 'verbose': use trace, debug, info, warn, error, fatal, silent/)
    const set = logged(`createLogger().level = 'INFO'`)
    assert.equal(set.status, 1)
    assert.match(set.stderr, /unknown log level 'INFO'/)
  })

  it('masks config provider values in messages and fields, and writes errors as type, message, stack', () => {
    const { lines } = logged(`
registerSecretValues(['s3cr3t-password'])
const log = createLogger()
log.warn({ err: 'login with s3cr3t-password failed', deep: { url: 'jdbc:x?password=s3cr3t-password' } }, 'using s3cr3t-password')
const error = new TypeError('bad s3cr3t-password')
log.error({ err: error })
`)
    assert.equal(
      lines[0],
      '{"level":40,"time":T,"err":"login with [hidden] failed","deep":{"url":"jdbc:x?password=[hidden]"},"msg":"using [hidden]"}',
    )
    const entry = JSON.parse(lines[1]!.replace('"time":T', '"time":0')) as {
      err: { type: string; message: string; stack: string }
      msg: string
    }
    assert.equal(entry.err.type, 'TypeError')
    assert.equal(entry.err.message, 'bad [hidden]')
    assert.match(entry.err.stack, /^TypeError: bad \[hidden\]\n {4}at /)
    assert.equal(entry.msg, 'bad [hidden]', 'an entry without a message takes its error')
    assert.doesNotMatch(lines.join('\n'), /s3cr3t/)
  })

  it('writes an entry whose fields JSON cannot take (a cycle, a BigInt) instead of throwing', () => {
    const { lines, status } = logged(`
const log = createLogger()
const loop = { name: 'a' }
loop.self = loop
log.info({ loop, big: 12345678901234567890n }, 'odd fields')
`)
    assert.equal(status, 0)
    assert.deepEqual(lines, [
      '{"level":30,"time":T,"loop":{"name":"a","self":"[Circular]"},"big":"12345678901234567890","msg":"odd fields"}',
    ])
  })

  it('writes one readable line per entry for a terminal', () => {
    const { stderr } = logged(`
const log = createLogger({ pretty: true })
log.child({ connector: 'files', task: 1 }).warn({ err: 'gone' }, 'file missing')
log.info('ready')
`)
    assert.match(
      stderr,
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}\[files-1\] file missing \(gone\)\n\d\d:\d\d:\d\d\.\d{3} INFO {2}ready\n$/,
    )
  })

  /**
   * A child writing 2 MB of lines to a stderr pipe its parent reads only `readAfterMs` later (or
   * never), then calling exitAfterLogs(3): its exit code, how long it took, and the lines read.
   */
  async function exitWithSlowReader(readAfterMs: number | null, timeoutMs: number) {
    const script = `import { createLogger, exitAfterLogs } from ${JSON.stringify(LOGGER)}
const log = createLogger()
for (let i = 0; i < 2000; i++) log.info('x'.repeat(1000))
log.info('LAST')
exitAfterLogs(3, ${timeoutMs})`
    const started = Date.now()
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    child.stderr.pause()
    const ended = new Promise((done) => child.stderr.on('close', done))
    const chunks: Buffer[] = []
    if (readAfterMs !== null)
      setTimeout(() => child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk)).resume(), readAfterMs)
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)))
    const took = Date.now() - started
    if (readAfterMs !== null) await ended
    else child.stderr.destroy()
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')
    return { code, took, lines }
  }

  it('exitAfterLogs exits only once a slow reader of the stderr pipe has every line', async () => {
    const { code, lines } = await exitWithSlowReader(1000, 30_000)
    assert.equal(code, 3)
    assert.equal(lines.length, 2001)
    assert.match(lines.at(-1)!, /"msg":"LAST"/)
  })

  it('exitAfterLogs still exits, after its timeout, when nobody reads the stderr pipe', async () => {
    const { code, took } = await exitWithSlowReader(null, 500)
    assert.equal(code, 3)
    assert.ok(took < 10_000, `exited after ${took} ms`)
  })
})
