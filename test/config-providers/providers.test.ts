/**
 * Kafka's File, Directory and EnvVar config providers, as their Java classes behave (and where
 * Sluice is stricter: a path outside `allowed.paths` or an unreadable file is an error that says so).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { DirectoryConfigProvider } from '../../src/config-providers/directory-config-provider.ts'
import { EnvVarConfigProvider } from '../../src/config-providers/env-var-config-provider.ts'
import { FileConfigProvider } from '../../src/config-providers/file-config-provider.ts'
import { globToRegExp } from '../../src/config-providers/kubernetes-config-providers.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'

const dir = mkdtempSync(join(tmpdir(), 'sluice-providers-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('FileConfigProvider', () => {
  const file = join(dir, 'db.properties')
  writeFileSync(
    file,
    '# credentials\npassword = s3cr\\\n  et\\u0021\nuser:app\nurl jdbc:postgresql://h/db?a=b\n',
  )

  it('reads the keys asked for from a Java .properties file (escapes, continuations, separators)', () => {
    const provider = new FileConfigProvider()
    provider.configure({})
    const { data, ttl } = provider.get(file, new Set(['password', 'user', 'url', 'absent']))
    assert.deepEqual(data, { password: 's3cret!', user: 'app', url: 'jdbc:postgresql://h/db?a=b' })
    assert.equal(ttl, undefined, "Kafka's provider gives no TTL")
  })

  it('fails naming the file when it cannot be read', () => {
    const provider = new FileConfigProvider()
    provider.configure({})
    assert.throws(
      () => provider.get(join(dir, 'nope.properties'), new Set(['x'])),
      /nope\.properties \(ENOENT\)/,
    )
  })

  it('refuses a path outside allowed.paths, also one that climbs out with ..', () => {
    const allowed = join(dir, 'allowed')
    mkdirSync(allowed, { recursive: true })
    writeFileSync(join(allowed, 'a.properties'), 'k=v\n')
    const provider = new FileConfigProvider()
    provider.configure({ 'allowed.paths': allowed })
    assert.deepEqual(provider.get(join(allowed, 'a.properties'), new Set(['k'])).data, { k: 'v' })
    assert.throws(() => provider.get(file, new Set(['password'])), /outside allowed\.paths/)
    assert.throws(
      () => provider.get(`${allowed}/../db.properties`, new Set(['password'])),
      /outside allowed\.paths/,
    )
    assert.throws(
      () => provider.get(`${allowed}-other/x.properties`, new Set(['k'])),
      /outside allowed\.paths/,
    )
  })

  it('refuses allowed.paths entries that are relative or do not exist', () => {
    assert.throws(
      () => new FileConfigProvider().configure({ 'allowed.paths': 'relative/dir' }),
      /not absolute/,
    )
    assert.throws(
      () => new FileConfigProvider().configure({ 'allowed.paths': join(dir, 'missing') }),
      /does not exist/,
    )
  })

  it('gives the ttl.ms parameter as the TTL of what it reads, and refuses a bad one', () => {
    const provider = new FileConfigProvider()
    provider.configure({ 'ttl.ms': '5000' })
    assert.equal(provider.get(file, new Set(['user'])).ttl, 5000)
    assert.throws(() => new FileConfigProvider().configure({ 'ttl.ms': 'soon' }), /ttl\.ms/)
  })
})

describe('DirectoryConfigProvider', () => {
  // The layout kubelet mounts a Secret volume in: files are links into a timestamped directory.
  const mount = join(dir, 'secret-volume')
  mkdirSync(join(mount, '..2026_01_01'), { recursive: true })
  writeFileSync(join(mount, '..2026_01_01', 'password'), 'from-the-secret')
  writeFileSync(join(mount, '..2026_01_01', 'username'), 'app\n')
  symlinkSync('..2026_01_01', join(mount, '..data'))
  symlinkSync('..data/password', join(mount, 'password'))
  symlinkSync('..data/username', join(mount, 'username'))
  mkdirSync(join(mount, 'subdir'))

  it('returns the content of each file named by a key, following the links of a Kubernetes mount', () => {
    const provider = new DirectoryConfigProvider()
    provider.configure({})
    const { data } = provider.get(mount, new Set(['password', 'username', 'missing', 'subdir']))
    assert.deepEqual(data, { password: 'from-the-secret', username: 'app\n' })
  })

  it('never reads outside the directory through a key', () => {
    writeFileSync(join(dir, 'outside'), 'not for connectors')
    const provider = new DirectoryConfigProvider()
    provider.configure({})
    assert.deepEqual(provider.get(mount, new Set(['../outside', '..', '.'])).data, {})
  })

  it('fails for a path that is not a directory, or outside allowed.paths', () => {
    const provider = new DirectoryConfigProvider()
    provider.configure({ 'allowed.paths': mount })
    assert.throws(() => provider.get(join(mount, 'password'), new Set(['x'])), /not a directory/)
    assert.throws(() => provider.get(dir, new Set(['outside'])), /outside allowed\.paths/)
  })

  it('fails naming the file it cannot read', () => {
    // A directory where a file should be: unreadable for every user, root included (a mode-0
    // file is readable for root, and the CI runs as root).
    const notAFile = join(dir, 'not-a-file.properties')
    mkdirSync(notAFile)
    const provider = new FileConfigProvider()
    provider.configure({})
    assert.throws(
      () => provider.get(notAFile, new Set(['key'])),
      /Could not read properties from file .*not-a-file\.properties.*EISDIR/,
    )
  })
})

describe('EnvVarConfigProvider', () => {
  const env = { DB_PASSWORD: 'pw', DB_USER: 'u', HOME: '/root' }

  it('serves the variables asked for; a path is refused', () => {
    const provider = new EnvVarConfigProvider(env)
    provider.configure({})
    assert.deepEqual(provider.get('', new Set(['DB_PASSWORD', 'NOPE'])).data, { DB_PASSWORD: 'pw' })
    assert.throws(() => provider.get('/some/path', new Set(['DB_USER'])), /Path is not supported/)
  })

  it('serves only the variables whose whole name matches allowlist.pattern', () => {
    const provider = new EnvVarConfigProvider(env)
    provider.configure({ 'allowlist.pattern': 'DB_.*' })
    assert.deepEqual(provider.get('', new Set(['DB_USER'])).data, { DB_USER: 'u' })
    assert.throws(() => provider.get('', new Set(['HOME'])), /HOME does not match allowlist\.pattern DB_\.\*/)
    // Java's matches(): the pattern must cover the whole name, not a part of it.
    const partial = new EnvVarConfigProvider(env)
    partial.configure({ 'allowlist.pattern': 'DB' })
    assert.throws(() => partial.get('', new Set(['DB_USER'])), /allowlist\.pattern/)
  })

  it('refuses an allowlist.pattern that is not a regex, naming the parameter', () => {
    assert.throws(
      () => new EnvVarConfigProvider(env).configure({ 'allowlist.pattern': '(' }),
      /allowlist\.pattern/,
    )
  })
})

describe('the providers as plugins', () => {
  it('answer to the Java class names a Kafka Connect worker file uses', () => {
    const registry = builtInPlugins()
    for (const name of [
      'org.apache.kafka.common.config.provider.FileConfigProvider',
      'org.apache.kafka.common.config.provider.DirectoryConfigProvider',
      'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      'io.strimzi.kafka.KubernetesSecretConfigProvider',
      'io.strimzi.kafka.KubernetesConfigMapConfigProvider',
    ]) {
      assert.equal(registry.resolve(name, ['config_provider'], 'k').className, name)
    }
  })
})

describe("Strimzi's key globs", () => {
  it('match as Java glob PathMatchers do', () => {
    assert.ok(globToRegExp('*.crt').test('ca.crt'))
    assert.ok(!globToRegExp('*.crt').test('ca.key'))
    assert.ok(globToRegExp('ca?.crt').test('ca2.crt'))
    assert.ok(globToRegExp('{user,ca}.crt').test('user.crt'))
    assert.ok(globToRegExp('[!u]*.crt').test('ca.crt'))
    assert.ok(!globToRegExp('[!u]*.crt').test('user.crt'))
    assert.ok(globToRegExp('a.b').test('a.b') && !globToRegExp('a.b').test('axb'))
  })
})
