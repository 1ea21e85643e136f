/**
 * A source connector's `producer.override.*` keys Sluice does not apply are warned of at its start,
 * not silently dropped; under exactly-once, `enable.idempotence` and `transactional.id` are the
 * worker's whatever the connector says, with the warning Kafka Connect logs (value given, value used).
 * A real worker on the embedded log; the log's transactional producers are recorded on their way out.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { Props } from '../../src/api/connector.ts'
import { Logger } from '../../src/common/logger.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { createEmbeddedLog } from '../../src/log/embedded/embedded-log.ts'
import type { ProducerOptions } from '../../src/log/log.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'
import { Worker } from '../../src/runtime/worker.ts'
import { openLogOffsetStore } from '../../src/storage/local/log-offset-store.ts'
import { MemoryStatusStore } from '../../src/storage/memory-status-store.ts'
import { eventually } from '../helpers/rest.ts'

describe('producer.override.* keys of a source connector', () => {
  const dir = mkdtempSync(join(tmpdir(), 'overrides-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  async function run(eos: 'enabled' | 'disabled', overrides: Props, workerProps: Props = {}) {
    const lines: string[] = []
    const logger = new Logger((line) => lines.push(line), 'info')
    const sub = join(dir, `${eos}-${Math.random().toString(36).slice(2, 8)}`)
    const log = await createEmbeddedLog({ dir: join(sub, 'log') })
    const claimed: string[] = []
    const create = log.createTransactionalProducer.bind(log)
    log.createTransactionalProducer = (options: ProducerOptions & { transactionalId: string }) => {
      claimed.push(options.transactionalId)
      return create(options)
    }
    const offsetStore = await openLogOffsetStore(log, join(sub, 'offsets.json'), logger)
    const statuses = new MemoryStatusStore()
    const worker = new Worker({
      config: new WorkerConfig({
        'sluice.data.dir': join(sub, 'data'),
        'exactly.once.source.support': eos,
        'group.id': 'overrides-group',
        ...workerProps,
      }),
      log,
      plugins: builtInPlugins(),
      offsetStore,
      statusListener: statuses,
      logger,
      workerId: 'test:8083',
    })
    const file = join(sub, 'in.txt')
    writeFileSync(file, 'a\n')
    const props: Props = {
      name: 'ovr',
      'connector.class': 'FileStreamSource',
      file,
      topic: 'overrides-topic',
      ...overrides,
    }
    try {
      assert.equal(
        await worker.startConnector('ovr', props, 'STARTED', { onReconfigurationRequested: () => {} }),
        true,
      )
      worker.startTask({ connector: 'ovr', task: 0 }, props, { ...props, task: '0' }, 'STARTED')
      await eventually(
        () => (statuses.task({ connector: 'ovr', task: 0 })?.state === 'RUNNING' ? true : undefined),
        10_000,
        'task running',
      )
    } finally {
      await worker.stopConnector('ovr')
      await worker.stop()
      await offsetStore.close()
      await log.close()
    }
    const warnings = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40)
      .map((l) => l.msg)
    return { warnings, claimed }
  }

  it('exactly-once: the task keeps its transactional id and idempotence, and the worker log says what it ignored', async () => {
    const { warnings, claimed } = await run('enabled', {
      'producer.override.transactional.id': 'x',
      'producer.override.enable.idempotence': 'false',
      'producer.override.linger.ms': '50',
      'producer.override.compression.type': 'lz4',
    })
    assert.deepEqual(claimed, ['overrides-group-ovr-0'])
    assert.ok(
      warnings.includes(
        "connector ovr task 0: the value 'x' for the 'producer.override.transactional.id' property will be ignored " +
          'as it cannot be overridden for connectors when exactly-once source support is enabled. ' +
          "The value 'overrides-group-ovr-0' will be used instead.",
      ),
      warnings.join('\n'),
    )
    assert.ok(
      warnings.includes(
        "connector ovr task 0: the value 'false' for the 'producer.override.enable.idempotence' property will be ignored " +
          'as it cannot be overridden for connectors when exactly-once source support is enabled. ' +
          "The value 'true' will be used instead.",
      ),
      warnings.join('\n'),
    )
    const ignored = warnings.filter((w) => w.startsWith('connector ovr: '))
    assert.equal(ignored.length, 1, ignored.join('\n'))
    assert.match(ignored[0]!, /producer\.override\.linger\.ms is ignored/)
    assert.match(ignored[0]!, /producer\.override\.compression\.type and producer\.override\.buffer\.memory/)
  })

  it('exactly-once: values the worker would use anyway are not warned of', async () => {
    const { warnings, claimed } = await run('enabled', {
      'producer.override.transactional.id': 'overrides-group-ovr-0',
      'producer.override.enable.idempotence': 'TRUE',
    })
    assert.deepEqual(claimed, ['overrides-group-ovr-0'])
    assert.deepEqual(warnings, [])
  })

  it('at-least-once: every key Sluice does not apply is warned of at connector start, none of the honoured ones', async () => {
    const { warnings, claimed } = await run('disabled', {
      'producer.override.transactional.id': 'x',
      'producer.override.acks': '1',
      'producer.override.buffer.memory': '1048576',
    })
    assert.deepEqual(claimed, [])
    assert.deepEqual(
      warnings.map((w) => w.split(' is ignored')[0]),
      ['connector ovr: producer.override.acks', 'connector ovr: producer.override.transactional.id'],
    )
  })

  it("warns of producer.override.bootstrap.servers unless it names the worker's own brokers", async () => {
    // The worker's keys name brokers; its tasks run on the embedded log all the same (no broker is dialled).
    const worker = { 'bootstrap.servers': 'overrides-b1:9092,overrides-b2:9092' }
    const same = await run(
      'disabled',
      { 'producer.override.bootstrap.servers': ' overrides-b2:9092, overrides-b1:9092' },
      worker,
    )
    assert.deepEqual(same.warnings, [])
    const other = await run('disabled', { 'producer.override.bootstrap.servers': 'elsewhere:9092' }, worker)
    assert.deepEqual(
      other.warnings.map((w) => w.split(' is ignored')[0]),
      ['connector ovr: producer.override.bootstrap.servers'],
    )
  })
})
