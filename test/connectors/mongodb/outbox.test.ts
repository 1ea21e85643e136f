/**
 * Seed 002's outbox on MongoDB, as examples/mongodb-outbox/ configures it, in a real worker: the
 * application writes business documents and outbox events; the source publishes only the outbox
 * inserts, keyed by aggregate id, to one topic per aggregate type; the sink applies them to a read
 * model. The connector files are the example's, with the test server's address and fresh databases.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { MongoClient } from 'mongodb'
import { writeWithOutbox } from '../../../examples/mongodb-outbox/app.ts'
import { eventually, request } from '../../helpers/rest.ts'
import { mongoSkipReason, mongoUrl } from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'
import { connect, freshDatabase } from './mongo-helpers.ts'

const skip = mongoSkipReason()
const example = join(import.meta.dirname, '..', '..', '..', 'examples', 'mongodb-outbox')

function connectorFile(
  name: string,
  changes: Record<string, string>,
): { name: string; config: Record<string, string> } {
  const file = JSON.parse(readFileSync(join(example, name), 'utf8')) as {
    name: string
    config: Record<string, string>
  }
  return { name: file.name, config: { ...file.config, 'connection.uri': mongoUrl(), ...changes } }
}

describe('[integration] seed 002: the outbox example on MongoDB', { skip }, () => {
  let w: TestWorker
  let client: MongoClient
  const shop = freshDatabase('shop')
  const readModel = freshDatabase('readmodel')

  before(async () => {
    w = await startTestWorker()
    client = await connect()
  })
  after(async () => {
    await w?.close()
    for (const db of [shop, readModel])
      await client
        ?.db(db)
        .dropDatabase()
        .catch(() => {})
    await client?.close()
  })

  test('only outbox inserts reach one topic per aggregate type, keyed by aggregate id, and the read model holds the latest event per aggregate', async () => {
    const source = connectorFile('outbox-source.json', {
      database: shop,
      'topic.namespace.map': JSON.stringify({ [shop]: 'outbox.event' }),
    })
    const sink = connectorFile('read-model-sink.json', { database: readModel })
    for (const connector of [source, sink]) {
      const created = await request(w.base, 'POST', '/connectors', connector)
      assert.equal(created.status, 201, JSON.stringify(created.body))
    }
    await eventually(
      async () => {
        const status = await request<{ tasks: { state: string; trace?: string }[] }>(
          w.base,
          'GET',
          `/connectors/${source.name}/status`,
        )
        if (status.body.tasks?.[0]?.state === 'FAILED') throw new Error(status.body.tasks[0].trace)
        return status.body.tasks?.[0]?.state === 'RUNNING' ? true : undefined
      },
      30_000,
      'the source to run',
    )
    await new Promise((r) => setTimeout(r, 1500)) // the stream opens at "now": let it open first

    const write = (type: string, id: string, event: string, state: Record<string, unknown>) =>
      writeWithOutbox(
        client,
        shop,
        `${type.toLowerCase()}s`,
        { _id: id, ...state },
        { aggregatetype: type, aggregateid: id, type: event, payload: JSON.stringify(state) },
      )
    await write('Order', 'order-1', 'OrderCreated', { status: 'created' })
    await write('Customer', 'cust-1', 'CustomerRegistered', { name: 'Ada' })
    await write('Order', 'order-2', 'OrderCreated', { status: 'created' })
    await write('Order', 'order-1', 'OrderShipped', { status: 'shipped' })
    // Not an insert: the source's $match keeps it out.
    await client.db(shop).collection('outbox').deleteMany({ type: 'OrderCreated', aggregateid: 'order-2' })

    const orders = client.db(readModel).collection('outbox.event.Order')
    const customers = client.db(readModel).collection('outbox.event.Customer')
    const latest = await eventually(
      async () => {
        const all = await orders.find({}).sort({ '_id.aggregateid': 1 }).toArray()
        const shipped =
          all.find((d) => (d._id as unknown as { aggregateid: string }).aggregateid === 'order-1')?.type ===
          'OrderShipped'
        return all.length === 2 && shipped && (await customers.countDocuments()) === 1 ? all : undefined
      },
      30_000,
      'the read model',
    )
    assert.deepEqual(
      latest.map((d) => [{ ...d._id }, d.type, JSON.parse(d.payload as string)]),
      [
        [{ aggregateid: 'order-1' }, 'OrderShipped', { status: 'shipped' }],
        [{ aggregateid: 'order-2' }, 'OrderCreated', { status: 'created' }],
      ],
    )
    const customer = await customers.findOne({})
    assert.deepEqual({ ...customer?._id }, { aggregateid: 'cust-1' })
    assert.equal(customer?.aggregatetype, 'Customer')

    const topics = await request<Record<string, { topics: string[] }>>(
      w.base,
      'GET',
      `/connectors/${source.name}/topics`,
    )
    assert.deepEqual(topics.body[source.name]?.topics.sort(), ['outbox.event.Customer', 'outbox.event.Order'])
  })
})
