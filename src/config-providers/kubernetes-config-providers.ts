/**
 * Strimzi's `io.strimzi.kafka.KubernetesSecretConfigProvider` and `KubernetesConfigMapConfigProvider`
 * (kafka-kubernetes-config-provider): `${secrets:<namespace>/<name>:<key>}` or `${secrets:<name>:<key>}`
 * (the pod's own namespace) read one key of a Secret (base64-decoded) or a ConfigMap through the
 * Kubernetes API, with `GET /api/v1/namespaces/{ns}/secrets/{name}`; the service account needs only
 * RBAC `get` on the named resources. A key may be a glob (`*.crt`): the values of the matching keys,
 * sorted by key, joined with the `separator` parameter (default a newline), as Strimzi does.
 *
 * Where the API is, as Fabric8's client finds it inside a pod (each overridable by a parameter of
 * the same name, or the environment variable Fabric8 reads):
 * - server: `kubernetes.master` / `KUBERNETES_MASTER`, else `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`;
 * - token: `kubernetes.auth.token` / `KUBERNETES_AUTH_TOKEN`, else the service account's `token`
 *   file, read again for every request (projected tokens rotate);
 * - CA: `kubernetes.certs.ca.file` / `KUBERNETES_CERTS_CA_FILE`, else the service account's `ca.crt`;
 * - namespace: `kubernetes.namespace` / `KUBERNETES_NAMESPACE`, else the service account's `namespace`.
 * The service account directory is `/var/run/secrets/kubernetes.io/serviceaccount`
 * (`kubernetes.serviceaccount.dir` moves it). Requests time out after `kubernetes.request.timeout.ms`
 * (10 s) and are tried three times on network errors and 5xx answers.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ConfigData, ConfigProvider } from '../api/config-provider.ts'
import { ConfigError, errorMessage } from '../api/errors.ts'
import { ttlParam } from './provider-params.ts'

// Not `import … from 'node:http'`: that loads undici (decision 0031); `node:https` (and TLS) only
// when a request is sent over it (decision 0035).
const { request: httpRequest } = process.getBuiltinModule('node:http')

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
const PATH = /^([a-z0-9.-]+\/)?[a-z0-9.-]+$/
const ATTEMPTS = 3

type Kind = 'Secret' | 'ConfigMap'

abstract class KubernetesConfigProvider implements ConfigProvider {
  readonly #kind: Kind
  readonly #env: Readonly<Record<string, string | undefined>>
  #params: Readonly<Record<string, string>> = {}
  #separator = '\n'
  #ttl: number | undefined
  #timeoutMs = 10_000
  #configured = false

  constructor(kind: Kind, env: Readonly<Record<string, string | undefined>>) {
    this.#kind = kind
    this.#env = env
  }

  configure(params: Readonly<Record<string, string>>): void {
    this.#params = params
    if (params.separator !== undefined) this.#separator = params.separator
    this.#ttl = ttlParam(params)
    const timeout = params['kubernetes.request.timeout.ms']
    if (timeout !== undefined) {
      this.#timeoutMs = Number(timeout)
      if (!Number.isSafeInteger(this.#timeoutMs) || this.#timeoutMs < 1)
        throw new ConfigError(
          'kubernetes.request.timeout.ms',
          `Invalid value ${timeout} for parameter kubernetes.request.timeout.ms: a number of milliseconds ≥ 1`,
        )
    }
    this.#configured = true
  }

  /** The values of a resource's `data`, decoded. */
  protected abstract values(resource: { data?: Record<string, string> }): Record<string, string>
  protected abstract get resource(): 'secrets' | 'configmaps'

  async get(path: string, keys: ReadonlySet<string>): Promise<ConfigData> {
    if (!this.#configured) throw new Error('The provider has not been configured yet.')
    if (!PATH.test(path)) {
      throw new ConfigError(
        undefined,
        `Invalid path ${path}. It has to be in format <namespace>/<name> (or <name> for the worker's namespace).`,
      )
    }
    const [namespace, name] = path.includes('/') ? path.split('/') : [this.#namespace(), path]
    const resource = await this.#fetch(namespace!, name!)
    const values = this.values(resource)
    const data: Record<string, string> = {}
    for (const key of keys) {
      if (!/[*?[{]/.test(key)) {
        if (Object.hasOwn(values, key)) data[key] = values[key]!
        continue
      }
      const glob = globToRegExp(key)
      const matching = Object.keys(values)
        .filter((k) => glob.test(k))
        .sort()
      if (matching.length > 0) data[key] = matching.map((k) => values[k]).join(this.#separator)
    }
    return this.#ttl === undefined ? { data } : { data, ttl: this.#ttl }
  }

  #setting(param: string, env: string): string | undefined {
    return this.#params[param] ?? this.#env[env]
  }

  #serviceAccountFile(name: string): string {
    return join(this.#params['kubernetes.serviceaccount.dir'] ?? SERVICE_ACCOUNT_DIR, name)
  }

  #namespace(): string {
    const configured = this.#setting('kubernetes.namespace', 'KUBERNETES_NAMESPACE')
    if (configured) return configured
    try {
      return readFileSync(this.#serviceAccountFile('namespace'), 'utf8').trim()
    } catch {
      throw new ConfigError(
        undefined,
        `no namespace in the path and none known to the worker (${this.#serviceAccountFile('namespace')} is unreadable): write \${…:<namespace>/<name>:<key>} or set kubernetes.namespace`,
      )
    }
  }

  #apiServer(): string {
    const master = this.#setting('kubernetes.master', 'KUBERNETES_MASTER')
    if (master) return master.replace(/\/+$/, '')
    const host = this.#env.KUBERNETES_SERVICE_HOST
    const port = this.#env.KUBERNETES_SERVICE_PORT ?? '443'
    if (!host) {
      throw new ConfigError(
        undefined,
        'the Kubernetes API server is unknown: KUBERNETES_SERVICE_HOST is not set (the worker runs outside a pod); set kubernetes.master',
      )
    }
    return `https://${host.includes(':') ? `[${host}]` : host}:${port}`
  }

  #token(): string | undefined {
    const token = this.#setting('kubernetes.auth.token', 'KUBERNETES_AUTH_TOKEN')
    if (token) return token
    const file = this.#serviceAccountFile('token')
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
  }

  #ca(): string | undefined {
    const file =
      this.#setting('kubernetes.certs.ca.file', 'KUBERNETES_CERTS_CA_FILE') ??
      this.#serviceAccountFile('ca.crt')
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined
  }

  async #fetch(namespace: string, name: string): Promise<{ data?: Record<string, string> }> {
    const url = `${this.#apiServer()}/api/v1/namespaces/${namespace}/${this.resource}/${name}`
    const what = `${this.#kind} ${name} in namespace ${namespace}`
    let lastError: unknown
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)))
      let response: { status: number; body: string }
      try {
        response = await this.#request(url)
      } catch (error) {
        lastError = new ConfigError(
          undefined,
          `Failed to retrieve ${what}: cannot reach the Kubernetes API at ${this.#apiServer()}: ${errorMessage(error)}`,
        )
        continue
      }
      if (response.status === 200) {
        try {
          return JSON.parse(response.body) as { data?: Record<string, string> }
        } catch {
          throw new ConfigError(undefined, `Failed to retrieve ${what}: the API answered with no JSON`)
        }
      }
      if (response.status === 404) throw new ConfigError(undefined, `${what} not found`)
      if (response.status === 401 || response.status === 403) {
        throw new ConfigError(
          undefined,
          `Failed to retrieve ${what}: the API answered ${response.status}; give the worker's service account RBAC get on ${this.resource} ${name}`,
        )
      }
      lastError = new ConfigError(
        undefined,
        `Failed to retrieve ${what}: the API answered ${response.status}`,
      )
      if (response.status < 500 && response.status !== 429) break
    }
    throw lastError
  }

  #request(url: string): Promise<{ status: number; body: string }> {
    const token = this.#token()
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (token) headers.Authorization = `Bearer ${token}`
    const https = url.startsWith('https:')
    const ca = https ? this.#ca() : undefined
    return new Promise((resolve, reject) => {
      const req = (https ? process.getBuiltinModule('node:https').request : httpRequest)(
        url,
        { method: 'GET', headers, timeout: this.#timeoutMs, ...(ca ? { ca } : {}) },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          )
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)))
      req.on('error', reject)
      req.end()
    })
  }
}

export class KubernetesSecretConfigProvider extends KubernetesConfigProvider {
  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    super('Secret', env)
  }

  protected get resource(): 'secrets' {
    return 'secrets'
  }

  protected values(resource: { data?: Record<string, string> }): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(resource.data ?? {}))
      out[k] = Buffer.from(v, 'base64').toString('utf8')
    return out
  }
}

export class KubernetesConfigMapConfigProvider extends KubernetesConfigProvider {
  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    super('ConfigMap', env)
  }

  protected get resource(): 'configmaps' {
    return 'configmaps'
  }

  protected values(resource: { data?: Record<string, string> }): Record<string, string> {
    return { ...(resource.data ?? {}) }
  }
}

/** Java's glob `PathMatcher` for a key: `*`, `?`, `[…]` (`[!…]` negated), `{a,b}`. */
export function globToRegExp(glob: string): RegExp {
  let out = ''
  let inGroup = false
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') out += '[^/]*'
    else if (c === '?') out += '[^/]'
    else if (c === '{') {
      out += '(?:'
      inGroup = true
    } else if (c === '}' && inGroup) {
      out += ')'
      inGroup = false
    } else if (c === ',' && inGroup) out += '|'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end < 0) out += '\\['
      else {
        let body = glob.slice(i + 1, end)
        const negated = body.startsWith('!')
        if (negated) body = body.slice(1)
        out += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`
        i = end
      }
    } else out += c.replace(/[.+^$()|\\\]]/g, '\\$&')
  }
  return new RegExp(`^${out}$`)
}
