/**
 * The FileStream source reads its file through one buffer kept for the task's life: lines split
 * across reads, lines longer than the buffer, CRLF endings and the stored positions must come out as
 * with a fresh buffer per read, and the buffer is not allocated again per read.
 */
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { SourceTaskContext } from '../../../src/api/connector.ts'
import type { OffsetMap, SourceRecord } from '../../../src/api/records.ts'
import { FileStreamSourceTask } from '../../../src/connectors/file/source-task.ts'

const READ_SIZE = 256 * 1024

async function startTask(file: string, stored: OffsetMap | null = null, batchSize = 2000) {
  const task = new FileStreamSourceTask()
  task.initialize({
    configs: () => ({}),
    offsetStorageReader: () => ({
      offset: async () => stored,
      offsets: async () => new Map(),
    }),
  } as unknown as SourceTaskContext)
  await task.start({ file, topic: 't', 'batch.size': String(batchSize) })
  return task
}

/** Polls until `count` records came (a poll with nothing new waits 250 ms and returns null). */
async function pollRecords(task: FileStreamSourceTask, count: number): Promise<SourceRecord[]> {
  const records: SourceRecord[] = []
  for (let empty = 0; records.length < count && empty < 3; ) {
    const batch = await task.poll()
    if (batch === null || batch.length === 0) empty++
    else records.push(...batch)
  }
  return records
}

describe('FileStreamSourceTask', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-file-source-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('reads lines across reads of its buffer, with the position after each line', async () => {
    const file = join(dir, 'many.txt')
    // ~3.5 reads of 256 KiB: lines of varying length, so the reads cut lines at many points.
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 61)}`)
    writeFileSync(file, lines.map((l) => `${l}\n`).join(''))
    const task = await startTask(file)
    const records = await pollRecords(task, lines.length)
    await task.stop()
    assert.deepEqual(
      records.map((r) => r.value),
      lines,
    )
    let position = 0
    for (let i = 0; i < lines.length; i++) {
      position += Buffer.byteLength(lines[i]) + 1
      assert.deepEqual(records[i].sourceOffset, { position }, `line ${i}`)
    }
  })

  it('reads a line longer than its buffer, CRLF endings and multi-byte characters', async () => {
    const file = join(dir, 'long.txt')
    const long = 'é'.repeat(READ_SIZE) // 512 KiB of UTF-8
    writeFileSync(file, `first\r\n${long}\nlast\n`)
    const task = await startTask(file)
    const records = await pollRecords(task, 3)
    await task.stop()
    assert.deepEqual(
      records.map((r) => r.value),
      ['first', long, 'last'],
    )
    assert.deepEqual(records[2].sourceOffset, { position: 7 + 2 * READ_SIZE + 1 + 5 })
  })

  it('waits for the newline of a partial last line, then goes on from the stored position after a restart', async () => {
    const file = join(dir, 'grows.txt')
    writeFileSync(file, 'a\nhalf')
    let task = await startTask(file)
    let records = await pollRecords(task, 2)
    assert.deepEqual(
      records.map((r) => r.value),
      ['a'],
    )
    appendFileSync(file, ' done\nb\n')
    records = await pollRecords(task, 2)
    await task.stop()
    assert.deepEqual(
      records.map((r) => [r.value, r.sourceOffset]),
      [
        ['half done', { position: 12 }],
        ['b', { position: 14 }],
      ],
    )
    appendFileSync(file, 'c\n')
    task = await startTask(file, { position: 14 })
    records = await pollRecords(task, 1)
    await task.stop()
    assert.deepEqual(
      records.map((r) => [r.value, r.sourceOffset]),
      [['c', { position: 16 }]],
    )
  })

  it('stops a poll at batch.size and keeps the rest for the next one', async () => {
    const file = join(dir, 'batches.txt')
    writeFileSync(file, 'a\nb\nc\nd\ne\n')
    const task = await startTask(file, null, 2)
    const polls = [await task.poll(), await task.poll(), await task.poll()]
    await task.stop()
    assert.deepEqual(
      polls.map((p) => p?.map((r) => r.value)),
      [['a', 'b'], ['c', 'd'], ['e']],
    )
  })

  it('reads every chunk into the one buffer instead of allocating one per read', async () => {
    const file = join(dir, 'reuse.txt')
    // Four buffers' worth: with a buffer per read, four allocations of 256 KiB or more.
    const line = `${'y'.repeat(99)}\n`
    const count = Math.ceil((4 * READ_SIZE) / line.length)
    writeFileSync(file, line.repeat(count))
    const task = await startTask(file)
    const allocUnsafe = Buffer.allocUnsafe
    let large = 0
    Buffer.allocUnsafe = (size: number) => {
      if (size >= READ_SIZE) large++
      return allocUnsafe(size)
    }
    try {
      const records = await pollRecords(task, count)
      assert.equal(records.length, count)
    } finally {
      Buffer.allocUnsafe = allocUnsafe
      await task.stop()
    }
    assert.equal(large, 1, 'one read buffer for the task')
  })

  it('does not keep a buffer grown for a long line once that line is taken', async () => {
    const file = join(dir, 'long-then-short.txt')
    // A 3 MiB line grows the buffer past 4 reads' worth; the short lines after it need one read's.
    const long = 'z'.repeat(3 << 20)
    const short = Array.from({ length: 10 }, (_, i) => `s${i}`)
    writeFileSync(file, [long, ...short].map((l) => `${l}\n`).join(''))
    const task = await startTask(file)
    const allocUnsafe = Buffer.allocUnsafe
    const sizes: number[] = []
    Buffer.allocUnsafe = (size: number) => {
      sizes.push(size)
      return allocUnsafe(size)
    }
    try {
      const records = await pollRecords(task, 11)
      assert.deepEqual(
        records.map((r) => (r.value as string).length),
        [long.length, ...short.map((l) => l.length)],
      )
    } finally {
      Buffer.allocUnsafe = allocUnsafe
      await task.stop()
    }
    assert.ok(Math.max(...sizes) > 4 * READ_SIZE, 'grown for the long line')
    assert.equal(sizes.at(-1), READ_SIZE, `then back to one read's worth: ${sizes.join(', ')}`)
  })
})
