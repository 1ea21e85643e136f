/**
 * The Helm chart `deploy/helm/sluice`, rendered as `helm template` would (test/helpers/helm-template.ts)
 * with its defaults and with each example under examples/kubernetes/: the manifests have the shape
 * Kubernetes takes, the pieces point at each other (selectors, ports, ConfigMaps, Secrets), the
 * worker.properties it writes is a valid distributed worker config, and the connector files its hook
 * Job applies are taken by `sluice connectors update` against a real worker.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import YAML from 'yaml'
import { checkKnownKeys, DistributedConfig } from '../../src/config/distributed-config.ts'
import { parseProperties } from '../../src/config/properties.ts'
import { Chart, type Manifest } from '../helpers/helm-template.ts'
import { request } from '../helpers/rest.ts'
import { startTestWorker } from '../helpers/worker.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const chart = new Chart(join(ROOT, 'deploy/helm/sluice'))
const EXAMPLES = join(ROOT, 'examples/kubernetes')

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

function byKind(docs: Manifest[], kind: string, suffix = ''): Manifest {
  const found = docs.filter((d) => d.kind === kind && (!suffix || d.metadata.name.endsWith(suffix)))
  assert.equal(
    found.length,
    1,
    `one ${kind}${suffix ? ` named *${suffix}` : ''}: ${found.map((d) => d.metadata.name)}`,
  )
  return found[0]
}

/** What any Kubernetes object and pod template must satisfy. */
function checkShape(docs: Manifest[], namespace: string): void {
  for (const d of docs) {
    assert.match(d.apiVersion, /^([a-z0-9.]+\/)?v\d+(beta\d+)?$/, `apiVersion of ${d.kind}`)
    assert.match(d.kind, /^[A-Z][A-Za-z]+$/)
    assert.ok(d.metadata.name.length <= 63 && DNS_LABEL.test(d.metadata.name), `name ${d.metadata.name}`)
    assert.equal(d.metadata.namespace, namespace)
    for (const [k, v] of Object.entries(d.metadata.labels ?? {}))
      assert.equal(typeof v, 'string', `label ${k}`)
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {}))
      assert.equal(typeof v, 'string', `annotation ${k}`)
    const pod = d.spec?.template?.spec
    if (!pod) continue
    const volumes = new Set((pod.volumes ?? []).map((v: Manifest) => v.name))
    for (const c of pod.containers) {
      assert.ok(DNS_LABEL.test(c.name))
      assert.equal(typeof c.image, 'string')
      for (const e of c.env ?? []) {
        assert.match(e.name, /^[A-Za-z_][A-Za-z0-9_]*$/)
        assert.ok(('value' in e && typeof e.value === 'string') || 'valueFrom' in e, `env ${e.name}`)
      }
      for (const p of c.ports ?? []) assert.ok(Number.isInteger(p.containerPort))
      for (const m of c.volumeMounts ?? [])
        assert.ok(volumes.has(m.name), `volume ${m.name} of ${c.name} is declared`)
      if (c.securityContext) assert.equal(c.securityContext.allowPrivilegeEscalation, false)
    }
    assert.equal(pod.securityContext.runAsNonRoot, true)
  }
}

function workerProperties(docs: Manifest[]): Record<string, string> {
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.data['worker.properties'])
  assert.ok(cm, 'the worker ConfigMap')
  return parseProperties(cm.data['worker.properties'])
}

describe('Helm chart deploy/helm/sluice', () => {
  it('renders distributed workers with a Service on 8083, probes and a PodDisruptionBudget by default', () => {
    const docs = chart.manifests({}, { name: 'connect', namespace: 'data' })
    checkShape(docs, 'data')
    assert.deepEqual(docs.map((d) => d.kind).sort(), [
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ])
    const deployment = byKind(docs, 'Deployment')
    assert.equal(deployment.spec.replicas, 2)
    const podLabels = deployment.spec.template.metadata.labels
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(podLabels[k], v)
    const container = deployment.spec.template.spec.containers[0]
    assert.deepEqual(container.args, ['distributed', '/etc/sluice/worker.properties'])
    assert.deepEqual(container.ports, [{ name: 'http', containerPort: 8083, protocol: 'TCP' }])
    assert.equal(container.livenessProbe.httpGet.path, '/health')
    assert.equal(container.startupProbe.httpGet.path, '/health')
    assert.equal(container.readinessProbe.httpGet.path, '/ready')
    assert.equal(container.readinessProbe.httpGet.port, 'http')
    assert.ok(container.resources.requests.memory)
    assert.equal(
      container.env.find((e: Manifest) => e.name === 'CONNECT_REST_ADVERTISED_HOST_NAME').value,
      '$(POD_IP)',
    )
    // The grace period outlasts the tasks' graceful shutdown.
    const props = workerProperties(docs)
    assert.ok(
      deployment.spec.template.spec.terminationGracePeriodSeconds * 1000 >
        Number(props['task.shutdown.graceful.timeout.ms']),
    )

    const service = byKind(docs, 'Service')
    assert.deepEqual(service.spec.ports, [{ name: 'http', port: 8083, targetPort: 'http', protocol: 'TCP' }])
    for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(podLabels[k], v)
    const pdb = byKind(docs, 'PodDisruptionBudget')
    assert.equal(pdb.spec.maxUnavailable, 1)
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels)
    assert.equal(
      deployment.spec.template.spec.serviceAccountName,
      byKind(docs, 'ServiceAccount').metadata.name,
    )
  })

  it('writes a worker.properties a distributed worker accepts: group, internal topics, config providers', () => {
    const docs = chart.manifests({}, { name: 'connect', namespace: 'data' })
    const props = workerProperties(docs)
    assert.equal(props['group.id'], 'connect-sluice')
    assert.equal(props['config.storage.topic'], 'connect-sluice-configs')
    assert.equal(props['offset.storage.topic'], 'connect-sluice-offsets')
    assert.equal(props['status.storage.topic'], 'connect-sluice-status')
    assert.equal(props['config.providers'], 'dir,env')
    assert.equal(
      props['config.providers.dir.class'],
      'org.apache.kafka.common.config.provider.DirectoryConfigProvider',
    )
    assert.equal(
      props['config.providers.env.class'],
      'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
    )
    assert.equal(props.listeners, 'http://0.0.0.0:8083')
    checkKnownKeys(props)
    const config = new DistributedConfig(props)
    assert.equal(config.groupId, 'connect-sluice')
    assert.equal(config.getInt('config.storage.replication.factor'), 3)
  })

  it('names the missing value when kafka.bootstrapServers is empty', () => {
    assert.throws(
      () => chart.render({ kafka: { bootstrapServers: '' } }),
      /kafka\.bootstrapServers is required/,
    )
  })

  it('refuses a Kubernetes config provider without the names it may read (RBAC would grant them all)', () => {
    assert.throws(
      () => chart.render({ configProviders: { secrets: { enabled: true, names: [] } } }),
      /configProviders\.secrets\.names: list the Secrets/,
    )
    assert.throws(
      () => chart.render({ configProviders: { configmaps: { enabled: true } } }),
      /configProviders\.configmaps\.names/,
    )
  })

  it('adds a ServiceMonitor on /metrics and the Role the Kubernetes config providers need, when asked', () => {
    const docs = chart.manifests({
      serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
      configProviders: {
        secrets: { enabled: true, names: ['db'] },
        configmaps: { enabled: true, names: ['settings'] },
      },
    })
    checkShape(docs, 'default')
    const monitor = byKind(docs, 'ServiceMonitor')
    assert.equal(monitor.metadata.labels.release, 'prometheus')
    const [endpoint] = monitor.spec.endpoints
    assert.deepEqual([endpoint.port, endpoint.path, endpoint.interval], ['http', '/metrics', '30s'])
    // Strimzi's dashboard selects series by strimzi_io_kind/strimzi_io_cluster, from the pods' labels.
    assert.deepEqual(endpoint.relabelings[0], {
      action: 'labelmap',
      regex: '__meta_kubernetes_pod_label_(strimzi_io_.+)',
      replacement: '$1',
    })
    const podLabels = byKind(docs, 'Deployment').spec.template.metadata.labels
    assert.equal(podLabels['strimzi.io/kind'], 'KafkaConnect')
    assert.equal(podLabels['strimzi.io/cluster'], 'sluice')
    const plain = chart.manifests({ serviceMonitor: { enabled: true, strimziDashboards: false } })
    assert.equal(byKind(plain, 'ServiceMonitor').spec.endpoints[0].relabelings, undefined)
    assert.equal(byKind(plain, 'Deployment').spec.template.metadata.labels['strimzi.io/kind'], undefined)
    assert.deepEqual(monitor.spec.selector.matchLabels, byKind(docs, 'Service').spec.selector)
    const role = byKind(docs, 'Role')
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['db'], verbs: ['get'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'], verbs: ['get'] },
    ])
    const binding = byKind(docs, 'RoleBinding')
    assert.equal(binding.roleRef.name, role.metadata.name)
    assert.equal(binding.subjects[0].name, byKind(docs, 'ServiceAccount').metadata.name)
    const props = workerProperties(docs)
    assert.equal(props['config.providers'], 'configmaps,dir,env,secrets')
    assert.equal(props['config.providers.secrets.class'], 'io.strimzi.kafka.KubernetesSecretConfigProvider')
    assert.equal(
      props['config.providers.configmaps.class'],
      'io.strimzi.kafka.KubernetesConfigMapConfigProvider',
    )
  })

  it('applies the connectors of the values with a post-install/post-upgrade hook Job', () => {
    const connectors = {
      'orders-source': { 'connector.class': 'FileStreamSource', file: '/data/in', topic: 'orders' },
    }
    const docs = chart.manifests({ connectors }, { name: 'etl', namespace: 'data' })
    checkShape(docs, 'data')
    const files = byKind(docs, 'ConfigMap', '-connectors')
    assert.deepEqual(JSON.parse(files.data['orders-source.json']), connectors['orders-source'])
    const job = byKind(docs, 'Job')
    assert.equal(job.metadata.annotations['helm.sh/hook'], 'post-install,post-upgrade')
    const pod = job.spec.template.spec
    assert.equal(pod.restartPolicy, 'OnFailure')
    assert.equal(pod.volumes[0].configMap.name, files.metadata.name)
    const script: string = pod.containers[0].args[0]
    assert.match(script, new RegExp(`http://${byKind(docs, 'Service').metadata.name}:8083`))
    assert.match(script, /sluice connectors update "\$name" "\$file" --url "\$url"/)
    assert.equal(
      chart.manifests({ connectors, connectorsJob: { enabled: false } }).filter((d) => d.kind === 'Job')
        .length,
      0,
    )
  })

  it('renders the examples of the seeds with the settings each deployment needs', () => {
    const examples = readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
    assert.deepEqual(examples, [
      'seed-000-jdbc-postgres.yaml',
      'seed-003-distributed-workers.yaml',
      'seed-004-debezium-s3.yaml',
    ])
    const render = (file: string) => {
      const docs = chart.manifests(YAML.parse(readFileSync(join(EXAMPLES, file), 'utf8')), {
        name: 'kafka-connect',
        namespace: 'ns',
      })
      checkShape(docs, 'ns')
      const props = workerProperties(docs)
      checkKnownKeys(props)
      new DistributedConfig(props)
      return { docs, props, pod: byKind(docs, 'Deployment').spec.template.spec }
    }

    const seed000 = render(examples[0])
    assert.equal(byKind(seed000.docs, 'Deployment').spec.replicas, 1)
    const password = seed000.pod.containers[0].env.find((e: Manifest) => e.name === 'DATABASE_PASSWORD')
    assert.deepEqual(password.valueFrom.secretKeyRef, { name: 'cloudsql-db-credentials', key: 'password' })
    assert.equal(seed000.props['config.providers.env.param.allowlist.pattern'], '^DATABASE_.*$')
    const jdbc = JSON.parse(byKind(seed000.docs, 'ConfigMap', '-connectors').data['my-cool-task.json'])
    assert.equal(
      jdbc['connection.password'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a config provider reference, not a template
      '${env:DATABASE_PASSWORD}',
      'the reference, never the secret, is in the manifests',
    )

    const seed003 = render(examples[1])
    assert.equal(byKind(seed003.docs, 'Deployment').spec.replicas, 3)
    assert.equal(seed003.props['group.id'], 'mongodb-connect')
    assert.equal(seed003.props['value.converter.schemas.enable'], 'false')
    assert.deepEqual(byKind(seed003.docs, 'Role').rules[0].resourceNames, ['mongodb-credentials'])
    assert.ok(byKind(seed003.docs, 'Job'))

    const seed004 = render(examples[2])
    assert.equal(seed004.props['config.storage.topic'], 'connect-cluster-configs')
    const mounts = seed004.pod.containers[0].volumeMounts.map((m: Manifest) => m.mountPath)
    assert.ok(mounts.includes('/opt/sluice/secrets/kafka-connect-s3-user'))
    const s3Volume = seed004.pod.volumes.find(
      (v: Manifest) => v.secret?.secretName === 'kafka-connect-s3-user',
    )
    assert.ok(s3Volume)
    assert.match(seed004.props['config.providers.dir.param.allowed.paths'], /\/opt\/sluice\/secrets/)
    const files = byKind(seed004.docs, 'ConfigMap', '-connectors').data
    assert.deepEqual(Object.keys(files).sort(), ['postgres-source.json', 's3-sink.json'])
    assert.ok(byKind(seed004.docs, 'ServiceMonitor'))
  })

  it("hands connector files that the hook Job's `sluice connectors update` applies to a real worker", async () => {
    const w = await startTestWorker()
    const dir = mkdtempSync(join(tmpdir(), 'sluice-chart-'))
    try {
      const connectors = {
        'lines-in': {
          'connector.class': 'FileStreamSource',
          file: join(dir, 'in.txt'),
          topic: 'lines',
          'tasks.max': '1',
        },
      }
      writeFileSync(join(dir, 'in.txt'), '')
      const docs = chart.manifests({ connectors })
      for (const [name, json] of Object.entries(
        byKind(docs, 'ConfigMap', '-connectors').data as Record<string, string>,
      )) {
        writeFileSync(join(dir, name), json)
        const { stdout } = await promisify(execFile)(process.execPath, [
          join(ROOT, 'src/cli/main.ts'),
          'connectors',
          'update',
          name.replace(/\.json$/, ''),
          join(dir, name),
          '--url',
          w.base,
        ])
        assert.match(stdout, /updated lines-in/)
      }
      const config = await request<Record<string, string>>(w.base, 'GET', '/connectors/lines-in/config')
      assert.equal(config.status, 200)
      assert.equal(config.body.file, connectors['lines-in'].file)
    } finally {
      await w.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
