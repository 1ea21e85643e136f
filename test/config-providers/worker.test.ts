// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${provider:path:key}` references are the subject here
/**
 * Config providers in a running worker, through the REST API as a user meets them: references
 * resolved when a connector and its tasks start, kept as written in everything the worker stores
 * and answers, refused with a 400 naming the key and the reference when they cannot be resolved,
 * masked in status traces, and a changed value restarting only what uses it.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Props } from '../../src/api/connector.ts'
import { type FakeKubernetes, startFakeKubernetes } from '../helpers/fake-kubernetes.ts'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

interface Shared {
  values: Map<string, string>
  starts: { kind: 'connector' | 'task'; name: string; props: Props }[]
}
const FIXTURES = resolve(import.meta.dirname, 'fixtures')
const SECRET = 'k8s-secret-value-4f1e9a'
const FILE_USER = 'file-user-value-77c2'
const DIR_VALUE = 'mounted-value-0b3d51'
const ENV_VALUE = 'env-token-value-9e8a44'

function shared(): Shared {
  const g = globalThis as { sluiceProviderTest?: Shared }
  g.sluiceProviderTest ??= { values: new Map(), starts: [] }
  return g.sluiceProviderTest
}

const startsOf = (name: string, kind: 'connector' | 'task') =>
  shared().starts.filter((s) => s.name === name && s.kind === kind)

describe('config providers in a worker', () => {
  let api: FakeKubernetes
  let w: TestWorker
  let allowed: string
  let mount: string
  const bodies: string[] = []
  const rest = async <T = unknown>(method: string, path: string, body?: unknown) => {
    const res = await request<T>(w.base, method, path, body)
    bodies.push(JSON.stringify(res.body))
    return res
  }

  before(async () => {
    api = await startFakeKubernetes('team-a')
    api.putSecret('team-a', 'db', { password: SECRET })
    process.env.PROVIDER_TEST_TOKEN = ENV_VALUE
    w = await startTestWorker({
      'plugin.path': FIXTURES,
      'config.providers': 'file,dir,env,secrets,mem',
      'config.providers.file.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
      'config.providers.dir.class': 'org.apache.kafka.common.config.provider.DirectoryConfigProvider',
      'config.providers.env.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      'config.providers.env.param.allowlist.pattern': 'PROVIDER_TEST_.*',
      'config.providers.secrets.class': 'io.strimzi.kafka.KubernetesSecretConfigProvider',
      'config.providers.secrets.param.kubernetes.master': api.url,
      'config.providers.secrets.param.kubernetes.serviceaccount.dir': api.serviceAccountDir,
      'config.providers.mem.class': 'test.MemoryConfigProvider',
      'config.providers.mem.param.ttl.ms': '150',
    })
    allowed = join(w.dir, 'allowed')
    mount = join(w.dir, 'mount')
    mkdirSync(allowed)
    mkdirSync(mount)
    writeFileSync(join(allowed, 'db.properties'), `user=${FILE_USER}\n`)
    writeFileSync(join(mount, 'key'), DIR_VALUE)
  })
  after(async () => {
    await w?.close()
    await api?.close()
    delete process.env.PROVIDER_TEST_TOKEN
    delete process.env.PROVIDER_TEST_TASKS
  })

  const recording = (name: string, extra: Record<string, string>) => ({
    name,
    config: { 'connector.class': 'test.RecordingSource', 'tasks.max': '1', ...extra },
  })

  it('resolves every provider when the connector and its task start; what is stored and shown keeps the references', async () => {
    const config = {
      secret: '${secrets:team-a/db:password}',
      user: `\${file:${allowed}/db.properties:user}`,
      mounted: `\${dir:${mount}:key}`,
      token: '${env:PROVIDER_TEST_TOKEN}',
    }
    const created = await rest('POST', '/connectors', recording('rec1', config))
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const task = await eventually(() => startsOf('rec1', 'task')[0], 10_000, 'the task to start')
    const connector = startsOf('rec1', 'connector')[0]!
    for (const props of [connector.props, task.props]) {
      assert.equal(props.secret, SECRET)
      assert.equal(props.user, FILE_USER)
      assert.equal(props.mounted, DIR_VALUE)
      assert.equal(props.token, ENV_VALUE)
    }
    assert.equal(task.props.embedded, `prefix-${SECRET}-suffix`)

    const shown = await rest<Record<string, string>>('GET', '/connectors/rec1/config')
    assert.deepEqual(
      { ...shown.body, name: undefined, 'connector.class': undefined, 'tasks.max': undefined },
      {
        ...config,
        name: undefined,
        'connector.class': undefined,
        'tasks.max': undefined,
      },
    )
    const tasks = await rest<{ config: Record<string, string> }[]>('GET', '/connectors/rec1/tasks')
    assert.equal(tasks.body[0]!.config.secret, '${secrets:team-a/db:password}')
    assert.equal(tasks.body[0]!.config.embedded, 'prefix-${secrets:team-a/db:password}-suffix')
    await rest('GET', '/connectors?expand=info&expand=status')
    await rest('GET', '/connectors/rec1/status')
    const stored = readFileSync(join(w.dir, 'data', 'connectors.json'), 'utf8')
    for (const value of [SECRET, FILE_USER, DIR_VALUE, ENV_VALUE]) {
      assert.ok(!stored.includes(value), `the stored config holds ${value}`)
      for (const body of bodies) assert.ok(!body.includes(value), `a REST response shows ${value}: ${body}`)
    }
  })

  it('validates with the values but shows the references', async () => {
    process.env.PROVIDER_TEST_TASKS = '1'
    const res = await rest<{ error_count: number; configs: { value: { name: string; value: string } }[] }>(
      'PUT',
      '/connector-plugins/test.RecordingSource/config/validate',
      { 'connector.class': 'test.RecordingSource', name: 'v', 'tasks.max': '${env:PROVIDER_TEST_TASKS}' },
    )
    assert.equal(res.status, 200)
    assert.equal(res.body.error_count, 0, JSON.stringify(res.body))
    assert.equal(
      res.body.configs.find((c) => c.value.name === 'tasks.max')?.value.value,
      '${env:PROVIDER_TEST_TASKS}',
    )
    const bad = await rest<{ error_count: number; configs: { value: { name: string; errors: string[] } }[] }>(
      'PUT',
      '/connector-plugins/test.RecordingSource/config/validate',
      { 'connector.class': 'test.RecordingSource', name: 'v', 'tasks.max': '${env:PROVIDER_TEST_MISSING}' },
    )
    // The reference's error alone, not also "not a number" for the unresolved text.
    assert.deepEqual(bad.body.configs.find((c) => c.value.name === 'tasks.max')?.value.errors, [
      "Invalid value ${env:PROVIDER_TEST_MISSING} for configuration tasks.max: no key 'PROVIDER_TEST_MISSING' in config provider 'env': check the key's name",
    ])
    assert.equal(bad.body.error_count, 1)
  })

  for (const [what, reference, message] of [
    [
      'a provider the worker does not have',
      '${vault:secret/db:password}',
      /config provider 'vault' is not configured/,
    ],
    [
      'a key the file does not have',
      '${file:ALLOWED/db.properties:password}',
      /no key 'password' at .*db\.properties in config provider 'file'/,
    ],
    [
      'a file that cannot be read',
      '${file:ALLOWED/missing.properties:user}',
      /Could not read properties from file .*missing\.properties \(ENOENT\)/,
    ],
    [
      'a Secret that does not exist',
      '${secrets:team-a/gone:password}',
      /Secret gone in namespace team-a not found/,
    ],
    ['a Secret key that does not exist', '${secrets:team-a/db:username}', /no key 'username' at team-a\/db/],
    [
      'an environment variable outside allowlist.pattern',
      '${env:HOME}',
      /HOME does not match allowlist\.pattern/,
    ],
    [
      'a directory that does not exist',
      '${dir:/nonexistent/dir:key}',
      /Could not list directory \/nonexistent\/dir/,
    ],
  ] as const) {
    it(`refuses ${what} with a 400 naming the key and the reference`, async () => {
      const ref = reference.replace('ALLOWED', allowed)
      const res = await rest<{ error_code: number; message: string }>(
        'POST',
        '/connectors',
        recording('bad', { secret: ref }),
      )
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.ok(res.body.message.includes(`Invalid value ${ref} for configuration secret`), res.body.message)
      assert.match(res.body.message, message)
      assert.equal((await rest('GET', '/connectors/bad')).status, 404)
    })
  }

  it("shows a reference, never its value, in a connector's validation failure and in a refused offsets change", async () => {
    const validation = await rest<{ message: string }>(
      'POST',
      '/connectors',
      recording('unreachable', { secret: '${secrets:team-a/db:password}', 'fail.validation': 'true' }),
    )
    assert.equal(validation.status, 400)
    assert.match(validation.body.message, /cannot reach the service as \$\{secrets:team-a\/db:password\}/)
    await rest('POST', '/connectors', recording('offsets', { secret: '${secrets:team-a/db:password}' }))
    await eventually(() => startsOf('offsets', 'task')[0])
    assert.equal((await rest('PUT', '/connectors/offsets/stop')).status, 204)
    const patch = await rest<{ error_code: number; message: string }>(
      'PATCH',
      '/connectors/offsets/offsets',
      {
        offsets: [{ partition: { p: 1 }, offset: { o: 1 } }],
      },
    )
    assert.equal(patch.status, 500, JSON.stringify(patch.body))
    assert.match(patch.body.message, /offsets refused for \[hidden\]/)
    assert.ok(!JSON.stringify(patch.body).includes(SECRET))
  })

  it('masks a resolved value a failing task quotes in its status trace', async () => {
    await rest(
      'POST',
      '/connectors',
      recording('failing', { secret: '${secrets:team-a/db:password}', fail: 'true' }),
    )
    const trace = await eventually(async () => {
      const status = await rest<{ tasks: { state: string; trace?: string }[] }>(
        'GET',
        '/connectors/failing/status',
      )
      return status.body.tasks[0]?.state === 'FAILED' ? status.body.tasks[0].trace : undefined
    })
    assert.match(trace!, /login refused for secret \[hidden\]/)
    assert.ok(!trace!.includes(SECRET))
  })

  it('restarts only the connector and tasks whose value changed, unless config.action.reload=none', async () => {
    const values = shared().values
    values.set('a:k', 'first-value-of-a')
    values.set('b:k', 'value-of-b-stays')
    for (const [name, extra] of [
      ['reloadA', { secret: '${mem:a:k}' }],
      ['reloadB', { secret: '${mem:b:k}' }],
      ['reloadNone', { secret: '${mem:a:k}', 'config.action.reload': 'none' }],
    ] as const) {
      assert.equal((await rest('POST', '/connectors', recording(name, extra))).status, 201)
    }
    for (const name of ['reloadA', 'reloadB', 'reloadNone'])
      await eventually(() => startsOf(name, 'task')[0], 10_000, `${name}'s task`)
    await sleep(500) // several TTLs with nothing changed: nothing restarts
    assert.equal(startsOf('reloadA', 'connector').length, 1)
    assert.equal(startsOf('reloadA', 'task').length, 1)

    values.set('a:k', 'second-value-of-a')
    await eventually(
      () => startsOf('reloadA', 'task').find((s) => s.props.secret === 'second-value-of-a'),
      10_000,
      'reloadA restarted with the new value',
    )
    assert.equal(startsOf('reloadA', 'connector').at(-1)?.props.secret, 'second-value-of-a')
    await sleep(500)
    assert.equal(startsOf('reloadA', 'task').length, 2, 'one restart for one change')
    assert.equal(startsOf('reloadB', 'connector').length, 1)
    assert.equal(startsOf('reloadB', 'task').length, 1)
    assert.equal(startsOf('reloadNone', 'connector').length, 1)
    assert.equal(startsOf('reloadNone', 'task').length, 1)
    const status = await rest<{ connector: { state: string }; tasks: { state: string }[] }>(
      'GET',
      '/connectors/reloadA/status',
    )
    assert.equal(status.body.connector.state, 'RUNNING')
    assert.equal(status.body.tasks[0]?.state, 'RUNNING')
    const tasks = await rest<{ config: Record<string, string> }[]>('GET', '/connectors/reloadA/tasks')
    assert.equal(tasks.body[0]!.config.secret, '${mem:a:k}')
  })
})

describe('a value that can no longer be read', () => {
  it('keeps the running connector, and is read again until it comes back', async () => {
    const w = await startTestWorker({
      'plugin.path': FIXTURES,
      'config.providers': 'mem',
      'config.providers.mem.class': 'test.MemoryConfigProvider',
      'config.providers.mem.param.ttl.ms': '100',
    })
    try {
      const values = shared().values
      values.set('gone:k', 'value-before-it-went')
      const res = await request(w.base, 'POST', '/connectors', {
        name: 'outlives',
        config: { 'connector.class': 'test.RecordingSource', secret: '${mem:gone:k}' },
      })
      assert.equal(res.status, 201)
      await eventually(() => startsOf('outlives', 'task')[0])
      values.delete('gone:k')
      await sleep(500)
      assert.equal(startsOf('outlives', 'connector').length, 1, 'not restarted while the value is missing')
      const status = await request<{ connector: { state: string } }>(
        w.base,
        'GET',
        '/connectors/outlives/status',
      )
      assert.equal(status.body.connector.state, 'RUNNING')
      values.set('gone:k', 'value-after-it-came-back')
      await eventually(
        () => startsOf('outlives', 'task').find((s) => s.props.secret === 'value-after-it-came-back'),
        10_000,
        'a restart once the value is back',
      )
    } finally {
      await w.close()
    }
  })
})

describe('a Kubernetes Secret that changes', () => {
  it('restarts the connector that uses it with the new value, and nothing else', async () => {
    const api = await startFakeKubernetes('team-b')
    api.putSecret('team-b', 'rotating', { password: 'rotating-password-v1' })
    api.putSecret('team-b', 'stable', { password: 'stable-password-v1' })
    const w = await startTestWorker({
      'plugin.path': FIXTURES,
      'config.providers': 'secrets',
      'config.providers.secrets.class': 'io.strimzi.kafka.KubernetesSecretConfigProvider',
      'config.providers.secrets.param.kubernetes.master': api.url,
      'config.providers.secrets.param.kubernetes.serviceaccount.dir': api.serviceAccountDir,
      'config.providers.secrets.param.ttl.ms': '200',
    })
    try {
      for (const [name, secret] of [
        ['uses-rotating', '${secrets:team-b/rotating:password}'],
        ['uses-stable', '${secrets:team-b/stable:password}'],
      ] as const) {
        const res = await request(w.base, 'POST', '/connectors', {
          name,
          config: { 'connector.class': 'test.RecordingSource', secret },
        })
        assert.equal(res.status, 201, JSON.stringify(res.body))
        await eventually(() => startsOf(name, 'task')[0], 10_000, `${name}'s task`)
      }
      api.putSecret('team-b', 'rotating', { password: 'rotating-password-v2' })
      await eventually(
        () => startsOf('uses-rotating', 'task').find((s) => s.props.secret === 'rotating-password-v2'),
        10_000,
        'the connector using the rotated Secret to restart',
      )
      await sleep(600)
      assert.deepEqual(
        startsOf('uses-rotating', 'connector').map((s) => s.props.secret),
        ['rotating-password-v1', 'rotating-password-v2'],
      )
      assert.equal(startsOf('uses-stable', 'connector').length, 1)
      assert.equal(startsOf('uses-stable', 'task').length, 1)
    } finally {
      await w.close()
      await api.close()
    }
  })
})

describe('a worker whose file provider has allowed.paths', () => {
  it('refuses a file outside them with a 400 naming the key, the reference and allowed.paths', async () => {
    const allowed = mkdtempSync(join(tmpdir(), 'sluice-allowed-'))
    const elsewhere = mkdtempSync(join(tmpdir(), 'sluice-elsewhere-'))
    writeFileSync(join(allowed, 'ok.properties'), 'user=inside\n')
    writeFileSync(join(elsewhere, 'db.properties'), 'user=outside\n')
    const w = await startTestWorker({
      'plugin.path': FIXTURES,
      'config.providers': 'file',
      'config.providers.file.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
      'config.providers.file.param.allowed.paths': allowed,
    })
    try {
      const post = (name: string, secret: string) =>
        request<{ message: string }>(w.base, 'POST', '/connectors', {
          name,
          config: { 'connector.class': 'test.RecordingSource', secret },
        })
      assert.equal((await post('inside', `\${file:${allowed}/ok.properties:user}`)).status, 201)
      for (const ref of [
        `\${file:${elsewhere}/db.properties:user}`,
        `\${file:${allowed}/../${elsewhere.split('/').at(-1)}/db.properties:user}`,
      ]) {
        const res = await post('outside', ref)
        assert.equal(res.status, 400)
        assert.ok(
          res.body.message.includes(`Invalid value ${ref} for configuration secret`),
          res.body.message,
        )
        assert.match(res.body.message, /outside allowed\.paths/)
      }
    } finally {
      await w.close()
      rmSync(allowed, { recursive: true, force: true })
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  it('refuses to start when an allowed.paths entry does not exist, naming the parameter', async () => {
    await assert.rejects(
      startTestWorker({
        'config.providers': 'file',
        'config.providers.file.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
        'config.providers.file.param.allowed.paths': '/nonexistent/secrets',
      }),
      (error: Error & { key?: string }) =>
        error.key === 'config.providers.file.param.allowed.paths' && /does not exist/.test(error.message),
    )
  })
})
