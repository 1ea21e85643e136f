/** The incremental cooperative assignor's rules (KIP-415), round by round. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Allocation } from '../../src/herder/distributed/connect-protocol.ts'
import {
  eagerAssign,
  IncrementalCooperativeAssignor,
  type MemberAssignment,
} from '../../src/herder/distributed/incremental-assignor.ts'

function configured(connectors: number, tasksEach: number) {
  const names = Array.from({ length: connectors }, (_, i) => `c${i}`)
  return {
    connectors: names,
    tasks: names.flatMap((connector) =>
      Array.from({ length: tasksEach }, (_, task) => ({ connector, task })),
    ),
  }
}

/** Applies a round's result to what each member holds. */
function apply(held: Map<string, Allocation>, result: Map<string, MemberAssignment>): void {
  for (const [id, a] of result) {
    const h = held.get(id) ?? { connectors: [], tasks: [] }
    const revokedTasks = new Set(a.revoked.tasks.map((t) => `${t.connector}-${t.task}`))
    h.connectors = h.connectors.filter((c) => !a.revoked.connectors.includes(c)).concat(a.assigned.connectors)
    h.tasks = h.tasks.filter((t) => !revokedTasks.has(`${t.connector}-${t.task}`)).concat(a.assigned.tasks)
    held.set(id, h)
  }
}

function members(held: Map<string, Allocation>, ids: string[]) {
  return ids.map((memberId) => ({
    memberId,
    allocation: held.get(memberId) ?? { connectors: [], tasks: [] },
  }))
}

function rounds(
  assignor: IncrementalCooperativeAssignor,
  held: Map<string, Allocation>,
  ids: string[],
  config: ReturnType<typeof configured>,
  gen: { n: number },
): Map<string, MemberAssignment>[] {
  // Rounds continue while someone had work revoked (those members rejoin at once).
  const out: Map<string, MemberAssignment>[] = []
  for (let i = 0; i < 5; i++) {
    const result = assignor.assign(gen.n++, members(held, ids), config)
    apply(held, result)
    out.push(result)
    const revoked = [...result.values()].some((a) => a.revoked.connectors.length + a.revoked.tasks.length > 0)
    if (!revoked) break
  }
  return out
}

describe('IncrementalCooperativeAssignor', () => {
  it('spreads new connectors and tasks evenly by count', () => {
    const a = new IncrementalCooperativeAssignor({ maxDelayMs: 0 })
    const held = new Map<string, Allocation>()
    rounds(a, held, ['w1', 'w2', 'w3'], configured(3, 10), { n: 1 })
    for (const id of ['w1', 'w2', 'w3']) {
      assert.equal(held.get(id)!.tasks.length, 10)
      assert.equal(held.get(id)!.connectors.length, 1)
    }
  })

  it('moves only the excess when a fourth worker joins: 7 of 30 tasks, none of the others', () => {
    const a = new IncrementalCooperativeAssignor({ maxDelayMs: 300_000 })
    const held = new Map<string, Allocation>()
    const gen = { n: 1 }
    const config = configured(3, 10)
    rounds(a, held, ['w1', 'w2', 'w3'], config, gen)
    const before = new Map(
      [...held].map(([id, h]) => [id, new Set(h.tasks.map((t) => `${t.connector}-${t.task}`))]),
    )
    const results = rounds(a, held, ['w1', 'w2', 'w3', 'w4'], config, gen)
    const revoked = results.flatMap((r) => [...r.values()].flatMap((x) => x.revoked.tasks))
    assert.equal(revoked.length, 7)
    const counts = ['w1', 'w2', 'w3', 'w4'].map((id) => held.get(id)!.tasks.length).sort()
    assert.deepEqual(counts, [7, 7, 8, 8])
    // Every task still on w1..w3 was there before (nothing else was stopped).
    for (const id of ['w1', 'w2', 'w3']) {
      for (const t of held.get(id)!.tasks) assert.ok(before.get(id)!.has(`${t.connector}-${t.task}`))
    }
  })

  it('holds a departed worker’s work for the delay, then gives it to the workers that were empty', () => {
    let now = 1000
    const a = new IncrementalCooperativeAssignor({ maxDelayMs: 10_000, now: () => now })
    const held = new Map<string, Allocation>()
    const gen = { n: 1 }
    const config = configured(3, 3)
    rounds(a, held, ['w1', 'w2', 'w3'], config, gen)
    const lost = held.get('w3')!
    held.delete('w3')
    let result = a.assign(gen.n++, members(held, ['w1', 'w2']), config)
    apply(held, result)
    assert.equal(result.get('w1')!.delay, 10_000)
    assert.equal(result.get('w1')!.assigned.tasks.length + result.get('w2')!.assigned.tasks.length, 0)
    // A replacement joins during the delay: still nothing handed out, the delay shrinks.
    now += 4000
    result = a.assign(gen.n++, members(held, ['w1', 'w2', 'w4']), config)
    apply(held, result)
    assert.equal(result.get('w4')!.delay, 6000)
    assert.equal(result.get('w4')!.assigned.tasks.length, 0)
    now += 6000
    result = a.assign(gen.n++, members(held, ['w1', 'w2', 'w4']), config)
    apply(held, result)
    assert.equal(result.get('w4')!.delay, 0)
    assert.deepEqual(
      held
        .get('w4')!
        .tasks.map((t) => `${t.connector}-${t.task}`)
        .sort(),
      lost.tasks.map((t) => `${t.connector}-${t.task}`).sort(),
    )
    assert.deepEqual(result.get('w1')!.revoked, { connectors: [], tasks: [] })
  })

  it('reassigns lost work at once when the delay is 0', () => {
    const a = new IncrementalCooperativeAssignor({ maxDelayMs: 0 })
    const held = new Map<string, Allocation>()
    const gen = { n: 1 }
    const config = configured(2, 3)
    rounds(a, held, ['w1', 'w2', 'w3'], config, gen)
    held.delete('w2')
    rounds(a, held, ['w1', 'w3'], config, gen)
    const total = ['w1', 'w3'].reduce((n, id) => n + held.get(id)!.tasks.length, 0)
    assert.equal(total, 6)
  })

  it('revokes deleted and duplicated work', () => {
    const a = new IncrementalCooperativeAssignor({ maxDelayMs: 0 })
    const result = a.assign(
      1,
      [
        { memberId: 'w1', allocation: { connectors: ['gone'], tasks: [{ connector: 'c0', task: 0 }] } },
        { memberId: 'w2', allocation: { connectors: [], tasks: [{ connector: 'c0', task: 0 }] } },
      ],
      { connectors: ['c0'], tasks: [{ connector: 'c0', task: 0 }] },
    )
    assert.deepEqual(result.get('w1')!.revoked.connectors, ['gone'])
    assert.equal(result.get('w1')!.revoked.tasks.length, 1)
    assert.equal(result.get('w2')!.revoked.tasks.length, 1)
  })

  it('eager: round robin over sorted members, connectors first', () => {
    const out = eagerAssign(['b', 'a'], { connectors: ['x', 'y'], tasks: [{ connector: 'x', task: 0 }] })
    assert.deepEqual(out.get('a'), { connectors: ['x'], tasks: [{ connector: 'x', task: 0 }] })
    assert.deepEqual(out.get('b'), { connectors: ['y'], tasks: [] })
  })
})
