/**
 * [integration] A cluster whose REST listeners are protected: basic auth
 * (`rest.basic.auth.credentials.file`), and HTTPS with a private CA and `ssl.client.auth=required`.
 * User requests made on a follower reach the leader with the caller's credentials, and a follower
 * owning a connector publishes its task configs to the leader (a signed internal request, which
 * basic auth lets through as Kafka Connect's `JaasBasicAuthFilter` does), over TLS with the
 * worker's own certificate and truststore.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { Cluster, type ClusterWorker } from './cluster.ts'

const skip = kafkaSkipReason()

interface Client {
  auth?: string
  tls?: { ca: string; cert: string; key: string }
}

function call(
  worker: ClusterWorker,
  client: Client,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, worker.url)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  const text = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        headers: {
          ...(client.auth ? { authorization: client.auth } : {}),
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(client.tls ?? {}),
      },
      (res) => {
        let out = ''
        res.on('data', (chunk: Buffer) => {
          out += chunk.toString()
        })
        res.on('end', () => {
          let parsed: unknown = out
          try {
            parsed = out ? JSON.parse(out) : null
          } catch {
            // plain text (401)
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
      },
    )
    req.on('error', reject)
    req.end(text)
  })
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
}

/** A private CA and a certificate it signed for 127.0.0.1, usable as server and client certificate. */
function privateCa(dir: string): {
  ca: string
  cert: string
  key: string
  keystore: string
  truststore: string
} {
  openssl(
    dir,
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Sluice test CA'],
    ...['-keyout', 'ca.key', '-out', 'ca.pem'],
  )
  openssl(
    dir,
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1'],
    ...['-keyout', 'worker.key', '-out', 'worker.csr'],
  )
  writeFileSync(join(dir, 'worker.ext'), 'subjectAltName=IP:127.0.0.1\n')
  openssl(
    dir,
    ...['x509', '-req', '-in', 'worker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-days', '1', '-extfile', 'worker.ext', '-out', 'worker.pem'],
  )
  const ca = readFileSync(join(dir, 'ca.pem'), 'utf8')
  const cert = readFileSync(join(dir, 'worker.pem'), 'utf8')
  const key = readFileSync(join(dir, 'worker.key'), 'utf8')
  const keystore = join(dir, 'keystore.pem')
  writeFileSync(keystore, key + cert)
  return { ca, cert, key, keystore, truststore: join(dir, 'ca.pem') }
}

describe('[integration] a cluster behind REST security', { skip, timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dist-security-'))
  const clusters: Cluster[] = []
  after(async () => {
    for (const c of clusters) {
      await c.stopAll()
      await c.deleteTopics([`${c.groupId}-t`])
    }
    rmSync(dir, { recursive: true, force: true })
  })

  /** Two workers; two connectors created through the follower, one of which it comes to own. */
  async function connectorsCreatedOnFollowerRun(cluster: Cluster, client: Client): Promise<void> {
    clusters.push(cluster)
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'security-test' })
    await log.createTopics([{ name: `${cluster.groupId}-t`, partitions: 1, replicationFactor: 1 }])
    await log.close()
    const workers = [await cluster.start(), await cluster.start()]
    const view = async (w: ClusterWorker) =>
      (await call(w, client, 'GET', '/sluice/cluster')).body as {
        leader: boolean
        rebalancing: boolean
        connectors: string[]
      }
    const follower = await eventually(
      async () => {
        const views = await Promise.all(workers.map(view))
        if (views.some((v) => v.rebalancing) || views.filter((v) => v.leader).length !== 1) return undefined
        return workers[views.findIndex((v) => !v.leader)]
      },
      60_000,
      'a settled group with one leader',
    )
    const names = ['a', 'b']
    for (const name of names) {
      const created = await eventually(
        async () => {
          const res = await call(follower, client, 'POST', '/connectors', {
            name,
            config: {
              'connector.class': 'FileStreamSource',
              file: join(dir, `${cluster.groupId}-${name}.txt`),
              topic: `${cluster.groupId}-t`,
            },
          })
          return res.status === 409 ? undefined : res
        },
        60_000,
        `create ${name}`,
      )
      assert.equal(created.status, 201, JSON.stringify(created.body))
    }
    // Each worker owns one connector (the assignor spreads them by count): the follower's task
    // configs reach the config topic only through the leader's internal endpoint.
    await eventually(
      async () => {
        const v = await view(follower)
        return v.connectors.length === 1 && !v.rebalancing ? true : undefined
      },
      60_000,
      'the follower owning a connector',
    )
    for (const name of names) {
      await eventually(
        async () => {
          const res = await call(follower, client, 'GET', `/connectors/${name}/status`)
          const body = res.body as { tasks?: { state: string }[] }
          return body.tasks?.length === 1 && body.tasks[0].state === 'RUNNING' ? true : undefined
        },
        60_000,
        `${name}'s task RUNNING`,
      )
    }
  }

  it('with basic auth: connectors created on the follower get their tasks RUNNING', async () => {
    const credentials = join(dir, 'credentials.properties')
    writeFileSync(credentials, 'admin=s3cret\n')
    const client = { auth: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` }
    await connectorsCreatedOnFollowerRun(
      new Cluster({
        dir,
        bootstrap: kafkaBootstrap(),
        props: { 'rest.basic.auth.credentials.file': credentials },
      }),
      client,
    )
  })

  it('with HTTPS, a private CA and ssl.client.auth=required: forwarding and task configs work', async () => {
    const tlsDir = mkdtempSync(join(dir, 'tls-'))
    const pki = privateCa(tlsDir)
    const client = { tls: { ca: pki.ca, cert: pki.cert, key: pki.key } }
    await connectorsCreatedOnFollowerRun(
      new Cluster({
        dir,
        bootstrap: kafkaBootstrap(),
        props: {
          listeners: 'https://127.0.0.1:0',
          'listeners.https.ssl.keystore.type': 'PEM',
          'listeners.https.ssl.keystore.location': pki.keystore,
          'listeners.https.ssl.truststore.type': 'PEM',
          'listeners.https.ssl.truststore.location': pki.truststore,
          'listeners.https.ssl.client.auth': 'required',
        },
      }),
      client,
    )
  })
})
