import type { Schema } from '../../src/api/data/schema.ts'
import { SinkRecord, SourceRecord } from '../../src/api/records.ts'

export function sink(init: {
  topic?: string
  keySchema?: Schema | null
  key?: unknown
  valueSchema?: Schema | null
  value?: unknown
  timestamp?: number | null
  partition?: number
  offset?: number
}): SinkRecord {
  return new SinkRecord({
    topic: init.topic ?? 'test',
    kafkaPartition: init.partition ?? 0,
    keySchema: init.keySchema ?? null,
    key: init.key ?? null,
    valueSchema: init.valueSchema ?? null,
    value: init.value ?? null,
    timestamp: init.timestamp ?? null,
    kafkaOffset: init.offset ?? 42,
  })
}

export function source(init: {
  topic?: string
  valueSchema?: Schema | null
  value?: unknown
  timestamp?: number
}) {
  return new SourceRecord({
    topic: init.topic ?? 'test',
    kafkaPartition: 0,
    valueSchema: init.valueSchema ?? null,
    value: init.value ?? null,
    timestamp: init.timestamp ?? null,
    sourcePartition: { file: 'a' },
    sourceOffset: { position: 7 },
  })
}
