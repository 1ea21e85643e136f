/**
 * The registry's elected writer through network blips: two workers share one `_schemas` topic on
 * Kafka and register schemas on both while every connection of theirs to the broker is cut
 * (`ss -K`) several times. Registrations may be refused for a moment (50003 forwarding failed,
 * 50004 no writer yet), never answered twice with one id, and both workers end with the same view.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type StandaloneWorker, startStandalone } from '../../../src/cli/standalone.ts'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createKafkaLog } from '../../../src/log/kafka/kafka-log.ts'
import { canCutConnections, cutConnections } from '../../chaos/services.ts'
import { eventually } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../../helpers/services.ts'

/** This process's established TCP connections to 127.0.0.1:`port`. */
function brokerConnections(port: number): number {
  const list = spawnSync('ss', ['-tnpH', 'state', 'established', 'dst', `127.0.0.1:${port}`], {
    encoding: 'utf8',
  })
  return list.stdout.split('\n').filter((line) => line.includes(`pid=${process.pid},`)).length
}

const CT = 'application/vnd.schemaregistry.v1+json'
const ROUNDS = 24
const schema = (n: number) =>
  JSON.stringify({
    type: 'record',
    name: `Blip${n}`,
    fields: [{ name: 'id', type: 'string' }],
  })

describe('[integration] schema registry writer election through network blips', {
  skip: kafkaSkipReason() || (canCutConnections ? false : 'cutting connections (ss -K) needs root'),
  timeout: 240_000,
}, () => {
  const topic = `_schemas-blip-${randomUUID().slice(0, 8)}`
  const dirs: string[] = []
  const workers: StandaloneWorker[] = []
  after(async () => {
    for (const w of workers) await w.stop().catch(() => {})
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'sr-blip-cleanup' })
    await log.deleteTopics([topic]).catch(() => {})
    await log.close()
  })

  /** Registers until the registry says yes; only the "no writer right now" answers may come first. */
  async function register(base: string, subject: string, n: number): Promise<number> {
    const deadline = Date.now() + 90_000
    for (;;) {
      const response = await fetch(`${base}/subjects/${subject}/versions`, {
        method: 'POST',
        headers: { 'content-type': CT },
        body: JSON.stringify({ schema: schema(n) }),
      }).catch((error: unknown) => ({ status: 0, json: async () => ({ error: String(error) }) }))
      const body = (await response.json()) as { id?: number; error_code?: number }
      if (response.status === 200) return body.id!
      assert.equal(response.status, 500, `${subject}: ${JSON.stringify(body)}`)
      assert.ok([50003, 50004].includes(body.error_code!), `${subject}: ${JSON.stringify(body)}`)
      if (Date.now() > deadline)
        throw new Error(`${subject} was not registered in 90 s: ${JSON.stringify(body)}`)
      await sleep(250)
    }
  }

  test('ids stay unique and both workers agree after their broker connections are cut', async () => {
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-blip-'))
      dirs.push(dir)
      workers.push(
        await startStandalone(
          new WorkerConfig({
            'sluice.data.dir': join(dir, 'data'),
            listeners: 'http://127.0.0.1:0',
            'schema.registry.listeners': 'http://127.0.0.1:0',
            'schema.registry.topic': topic,
            'bootstrap.servers': kafkaBootstrap(),
            'log.level': 'error',
          }),
        ),
      )
    }
    const [a, b] = workers.map((w) => `http://127.0.0.1:${w.services.registryServer!.port}`) as [
      string,
      string,
    ]
    const port = Number(kafkaBootstrap().split(':').at(-1))
    const ids = new Map<string, number>()
    let cuts = 0
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 6 === 3) cuts += cutConnections(process.pid, port)
      // One new subject on each worker, and the same schema under one subject from both at once.
      const [x, y, same1, same2] = await Promise.all([
        register(a, `a${round}`, round * 3),
        register(b, `b${round}`, round * 3 + 1),
        register(a, `same${round}`, round * 3 + 2),
        register(b, `same${round}`, round * 3 + 2),
      ])
      assert.equal(same1, same2, `one schema under one subject from both workers: ${same1} vs ${same2}`)
      ids.set(`a${round}`, x)
      ids.set(`b${round}`, y)
      ids.set(`same${round}`, same1)
    }
    assert.ok(cuts > 0, 'the test cut connections')
    const values = [...ids.values()]
    assert.equal(
      new Set(values).size,
      values.length,
      `an id was handed out twice: ${JSON.stringify([...ids])}`,
    )
    // Both workers end with every subject under the id its registration was answered with.
    for (const base of [a, b]) {
      for (const [subject, id] of ids) {
        const body = await eventually(async () => {
          const latest = await fetch(`${base}/subjects/${subject}/versions/latest`)
          return latest.status === 200
            ? ((await latest.json()) as { id: number; version: number })
            : undefined
        }, 10_000)
        assert.equal(body.id, id, `${subject} on ${base}`)
        assert.equal(body.version, 1, `${subject} has one version on ${base}`)
      }
    }
    process.stderr.write(
      `[registry blips] ${cuts} connections cut over ${ROUNDS} rounds, ${ids.size} subjects\n`,
    )
    // Stopped, they leave no connection to the broker open (a pool used to lose track of the one it
    // opened after a cut, and the process never exited).
    for (const w of workers.splice(0)) await w.stop()
    const open = await eventually(
      () => (brokerConnections(port) === 0 ? 0 : undefined),
      5000,
      'the stopped workers to close their broker connections',
    ).catch(() => brokerConnections(port))
    assert.equal(open, 0, 'connections to the broker left open by stopped workers')
  })
})
