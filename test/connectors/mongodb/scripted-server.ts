/**
 * A MongoDB wire-protocol endpoint that answers each command with a scripted reply, for server
 * behaviour the test server never shows (a resume token fallen off the oplog). It speaks what the
 * `mongodb` driver sends: the OP_QUERY handshake (answered with OP_REPLY) and OP_MSG commands
 * (section kind 0). It reports no sessions and wire version 17, and records every command it got.
 */
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { BSON } from 'mongodb'

export type Command = BSON.Document

export interface ScriptedMongo {
  uri: string
  commands: Command[]
  close(): Promise<void>
}

const HELLO = {
  helloOk: true,
  ismaster: true,
  isWritablePrimary: true,
  maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  minWireVersion: 0,
  maxWireVersion: 17,
  readOnly: false,
  ok: 1,
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16)
  h.writeInt32LE(length, 0)
  h.writeInt32LE(requestId, 4)
  h.writeInt32LE(responseTo, 8)
  h.writeInt32LE(opCode, 12)
  return h
}

/** `reply(command)` answers every command but the handshake and `ping`. */
export async function startScriptedMongo(reply: (command: Command) => BSON.Document): Promise<ScriptedMongo> {
  const commands: Command[] = []
  const sockets = new Set<Socket>()
  let nextId = 1
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buffer = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      while (buffer.length >= 4 && buffer.length >= buffer.readInt32LE(0)) {
        const message = buffer.subarray(0, buffer.readInt32LE(0))
        buffer = buffer.subarray(message.length)
        const requestId = message.readInt32LE(4)
        const opCode = message.readInt32LE(12)
        if (opCode === 2004) {
          // OP_QUERY: flags, full collection name, skip, return, query document.
          const nameEnd = message.indexOf(0, 20)
          const command = BSON.deserialize(message.subarray(nameEnd + 9))
          const doc = Buffer.from(BSON.serialize(answer(command)))
          const body = Buffer.alloc(20)
          body.writeInt32LE(1, 16) // numberReturned
          socket.write(Buffer.concat([header(16 + 20 + doc.length, nextId++, requestId, 1), body, doc]))
        } else if (opCode === 2013) {
          // OP_MSG: flag bits, then section kind 0 holds the command.
          const command = BSON.deserialize(message.subarray(21, 21 + message.readInt32LE(21)))
          const doc = Buffer.from(BSON.serialize(answer(command)))
          const body = Buffer.alloc(5) // flag bits 0, section kind 0
          socket.write(Buffer.concat([header(16 + 5 + doc.length, nextId++, requestId, 2013), body, doc]))
        } else {
          socket.destroy()
        }
      }
    })
  })
  const answer = (command: Command): BSON.Document => {
    const name = Object.keys(command)[0] ?? ''
    if (['hello', 'ismaster', 'isMaster'].includes(name)) return { ...HELLO, localTime: new Date() }
    if (['ping', 'endSessions', 'killCursors'].includes(name)) return { ok: 1 }
    commands.push(command)
    return reply(command)
  }
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true&serverSelectionTimeoutMS=2000`,
    commands,
    async close() {
      for (const s of sockets) s.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

/** What a MongoDB server answers when a change stream's resume token is no longer in its oplog. */
export const CHANGE_STREAM_HISTORY_LOST = {
  ok: 0,
  errmsg: 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
  code: 286,
  codeName: 'ChangeStreamHistoryLost',
}
