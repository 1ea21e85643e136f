/**
 * `npm start`: a standalone worker on the embedded log with a pipeline you can watch. A ticker
 * appends a line to input.txt every second; FileStreamSource carries it into the topic
 * `demo-lines`; FileStreamSink appends it to output.txt; the demo prints each line that arrives.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { WorkerConfig } from '../config/worker-config.ts'
import { type StandaloneWorker, startStandalone } from './standalone.ts'

export interface DemoOptions {
  dataDir: string
  port: number
  intervalMs: number
}

export async function runDemo(options: DemoOptions): Promise<StandaloneWorker> {
  const dataDir = resolve(options.dataDir)
  mkdirSync(dataDir, { recursive: true })
  const input = join(dataDir, 'input.txt')
  const output = join(dataDir, 'output.txt')
  const config = new WorkerConfig({
    // The worker's own state in a subdirectory: FileStream connectors may not touch the data dir.
    'sluice.data.dir': join(dataDir, 'worker'),
    listeners: `http://127.0.0.1:${options.port}`,
    'value.converter.schemas.enable': 'false',
    'key.converter.schemas.enable': 'false',
    'offset.flush.interval.ms': '1000',
  })
  const worker = await startStandalone(config, [], { prettyLogs: true })
  await worker.herder.putConnectorConfig(
    'demo-source',
    { 'connector.class': 'FileStreamSource', file: input, topic: 'demo-lines' },
    { allowReplace: true },
  )
  await worker.herder.putConnectorConfig(
    'demo-sink',
    { 'connector.class': 'FileStreamSink', file: output, topics: 'demo-lines' },
    { allowReplace: true },
  )
  const base = `http://127.0.0.1:${worker.rest.port}`
  process.stdout.write(
    [
      '',
      `Sluice demo: ${input} → topic demo-lines (embedded log) → ${output}`,
      `REST API: ${base}   try: curl ${base}/connectors/demo-source/status`,
      `Web console: ${base}/ui/`,
      'Ctrl-C stops; run again and it resumes where it left off.',
      '',
    ].join('\n'),
  )
  let n = 0
  const ticker = setInterval(() => {
    n++
    appendFileSync(
      input,
      `${JSON.stringify({ n, at: new Date().toISOString(), text: `hello from line ${n}` })}\n`,
    )
  }, options.intervalMs)
  let offset = existsSync(output) ? statSync(output).size : 0
  const tail = setInterval(() => {
    if (!existsSync(output)) return
    const size = statSync(output).size
    if (size <= offset) return
    const fd = openSync(output, 'r')
    const buffer = Buffer.alloc(size - offset)
    readSync(fd, buffer, 0, buffer.length, offset)
    closeSync(fd)
    offset = size
    for (const line of buffer.toString('utf8').split('\n').filter(Boolean))
      process.stdout.write(`delivered: ${line}\n`)
  }, 250)
  const stop = worker.stop
  return {
    ...worker,
    stop: () => {
      clearInterval(ticker)
      clearInterval(tail)
      return stop()
    },
  }
}
