/**
 * Strimzi's Kubernetes Secret and ConfigMap config providers against a fake API server over HTTPS,
 * found as inside a pod: KUBERNETES_SERVICE_HOST/PORT, the service account's token, CA and namespace.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  KubernetesConfigMapConfigProvider,
  KubernetesSecretConfigProvider,
} from '../../src/config-providers/kubernetes-config-providers.ts'
import { type FakeKubernetes, startFakeKubernetes } from '../helpers/fake-kubernetes.ts'

describe('Kubernetes config providers', () => {
  let api: FakeKubernetes
  let podEnv: Record<string, string>
  before(async () => {
    api = await startFakeKubernetes('team-a')
    podEnv = { KUBERNETES_SERVICE_HOST: api.host, KUBERNETES_SERVICE_PORT: String(api.port) }
    api.putSecret('team-a', 'db', { password: 'pa:ss/wörd', username: 'app' })
    api.putSecret('certs', 'bundle', { 'ca.crt': 'CA1', 'ca2.crt': 'CA2', 'tls.key': 'KEY' })
    api.putConfigMap('team-a', 'settings', { topic: 'orders', 'batch.size': '500' })
  })
  after(() => api.close())

  const secrets = (params: Record<string, string> = {}) => {
    const provider = new KubernetesSecretConfigProvider(podEnv)
    provider.configure({ 'kubernetes.serviceaccount.dir': api.serviceAccountDir, ...params })
    return provider
  }

  it("reads a Secret's keys, base64-decoded, from the pod's API server with its token and CA", async () => {
    const { data } = await secrets().get('team-a/db', new Set(['password', 'username']))
    assert.deepEqual(data, { password: 'pa:ss/wörd', username: 'app' })
    assert.ok(api.requests.includes('/api/v1/namespaces/team-a/secrets/db'))
  })

  it("takes the pod's own namespace when the path has none", async () => {
    const { data } = await secrets().get('db', new Set(['username']))
    assert.deepEqual(data, { username: 'app' })
  })

  it('reads a ConfigMap as it is', async () => {
    const provider = new KubernetesConfigMapConfigProvider(podEnv)
    provider.configure({ 'kubernetes.serviceaccount.dir': api.serviceAccountDir })
    assert.deepEqual((await provider.get('team-a/settings', new Set(['topic']))).data, { topic: 'orders' })
  })

  it('joins the keys a glob matches, sorted, with the separator', async () => {
    assert.deepEqual((await secrets().get('certs/bundle', new Set(['*.crt']))).data, { '*.crt': 'CA1\nCA2' })
    const comma = secrets({ separator: ',' })
    assert.deepEqual((await comma.get('certs/bundle', new Set(['*.crt']))).data, { '*.crt': 'CA1,CA2' })
  })

  it('leaves out a key the Secret does not have (the worker reports it)', async () => {
    assert.deepEqual((await secrets().get('team-a/db', new Set(['nope']))).data, {})
  })

  it('fails with what is wrong: a missing Secret, no RBAC, a bad path', async () => {
    await assert.rejects(
      secrets().get('team-a/gone', new Set(['k'])),
      /Secret gone in namespace team-a not found/,
    )
    api.forbid('team-a', 'secrets', 'private')
    api.putSecret('team-a', 'private', { k: 'v' })
    await assert.rejects(secrets().get('team-a/private', new Set(['k'])), /403.*RBAC get on secrets private/)
    await assert.rejects(secrets().get('Team_A/db', new Set(['k'])), /Invalid path Team_A\/db/)
  })

  it('sends the token: a wrong one is refused by the API server', async () => {
    const provider = secrets({ 'kubernetes.auth.token': 'wrong' })
    await assert.rejects(provider.get('team-a/db', new Set(['username'])), /401/)
  })

  it('trusts only the CA it is given: a server certificate from another CA is refused', async () => {
    const provider = secrets({ 'kubernetes.certs.ca.file': '/etc/ssl/certs/ca-certificates.crt' })
    await assert.rejects(provider.get('team-a/db', new Set(['username'])), /cannot reach the Kubernetes API/)
  })

  it('says where it looked when it runs outside a pod', async () => {
    const provider = new KubernetesSecretConfigProvider({})
    provider.configure({ 'kubernetes.serviceaccount.dir': api.serviceAccountDir })
    await assert.rejects(
      provider.get('team-a/db', new Set(['username'])),
      /KUBERNETES_SERVICE_HOST is not set/,
    )
  })

  it('reports an unreachable API server after retrying', async () => {
    const provider = new KubernetesSecretConfigProvider({
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: '1',
    })
    provider.configure({ 'kubernetes.serviceaccount.dir': api.serviceAccountDir })
    await assert.rejects(
      provider.get('team-a/db', new Set(['username'])),
      /cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:1/,
    )
  })

  it('gives ttl.ms as the TTL', async () => {
    assert.equal((await secrets({ 'ttl.ms': '30000' }).get('team-a/db', new Set(['username']))).ttl, 30000)
  })
})
