export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** A stable map key for a topic-partition (topic names may contain '-', so use a separator they cannot). */
export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`
}

export function parseTpKey(key: string): TopicPartition {
  const i = key.lastIndexOf('\u0000')
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) }
}
