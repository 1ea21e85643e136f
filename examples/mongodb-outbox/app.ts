/**
 * The application side of the outbox pattern: each business change writes the business document
 * and an outbox event document, in one transaction where the server has them (a replica set).
 * The MongoDB source (outbox-source.json) publishes only the outbox inserts, keyed by aggregate id,
 * to one topic per aggregate type; the read-model sink (read-model-sink.json) applies them.
 *
 *   node examples/mongodb-outbox/app.ts mongodb://127.0.0.1:27117/?directConnection=true
 */
import { type ClientSession, MongoClient } from 'mongodb'

export interface OutboxEvent {
  aggregatetype: string
  aggregateid: string
  type: string
  payload: string
}

/** Writes `business` into `collection` and its event into `outbox`, atomically when the server allows it. */
export async function writeWithOutbox(
  client: MongoClient,
  database: string,
  collection: string,
  business: { _id: string } & Record<string, unknown>,
  event: OutboxEvent,
): Promise<void> {
  const db = client.db(database)
  const write = async (session?: ClientSession) => {
    await db
      .collection(collection)
      .replaceOne({ _id: business._id as never }, business, { upsert: true, session })
    await db.collection('outbox').insertOne({ ...event }, { session })
  }
  let session: ClientSession | undefined
  try {
    session = client.startSession()
    await session.withTransaction(() => write(session))
  } catch (error) {
    // Standalone servers (and the in-memory test server) have no transactions: write in order.
    if (!/Transaction|sessions|replica set/i.test(String(error))) throw error
    await write()
  } finally {
    await session?.endSession()
  }
}

if (import.meta.main) {
  const client = new MongoClient(process.argv[2] ?? 'mongodb://127.0.0.1:27117/?directConnection=true')
  const order = { _id: 'order-1', status: 'created', total: 42 }
  await writeWithOutbox(client, 'shop', 'orders', order, {
    aggregatetype: 'Order',
    aggregateid: order._id,
    type: 'OrderCreated',
    payload: JSON.stringify(order),
  })
  await client.close()
}
