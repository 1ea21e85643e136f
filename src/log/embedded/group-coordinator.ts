/**
 * In-process consumer groups of one embedded log.
 *
 * The coordinator keeps, per group, the members with their subscriptions, the target assignment
 * (Kafka's range assignor over the members and the topics that exist now) and the current owner of
 * each partition. Targets change at once when a member joins, leaves or changes its subscription, or
 * when topics appear or vanish; members hear of it through `notify()` and act inside their next
 * `poll()`.
 *
 * Handover is cooperative and safe: a member gives a partition up (`release`) only after its revoke
 * callback has completed, and a member may take a partition (`acquire`) only once nobody owns it. So
 * the new owner never reads a partition while the old one may still commit it, and partitions that
 * stay with a member are never revoked.
 */
import { type TopicPartition, tpKey } from '../log.ts'
import { assignRange } from './range-assignor.ts'

export interface GroupMember {
  readonly id: string
  readonly subscription: readonly string[] | RegExp
  /** Wakes the member so it takes up a changed target or a partition that became free. */
  notify(): void
}

interface GroupState {
  readonly members: Map<string, GroupMember>
  /** Member id → the partitions (tpKey) it should hold. */
  targets: Map<string, Set<string>>
  /** tpKey → the member id holding it now. */
  readonly owners: Map<string, string>
}

const NONE: ReadonlySet<string> = new Set()

export class GroupCoordinator {
  readonly #groups = new Map<string, GroupState>()
  /** Partition counts of the topics that exist now. */
  readonly #topics: () => ReadonlyMap<string, number>

  constructor(topics: () => ReadonlyMap<string, number>) {
    this.#topics = topics
  }

  /** Adds the member, or takes up its changed subscription, and rebalances the group. */
  join(groupId: string, member: GroupMember): void {
    let group = this.#groups.get(groupId)
    if (group === undefined) {
      group = { members: new Map(), targets: new Map(), owners: new Map() }
      this.#groups.set(groupId, group)
    }
    group.members.set(member.id, member)
    this.#rebalance(group)
  }

  /** Removes the member, frees whatever it still holds and rebalances the others. */
  leave(groupId: string, memberId: string): void {
    const group = this.#groups.get(groupId)
    if (group === undefined || !group.members.delete(memberId)) return
    for (const [key, owner] of group.owners) if (owner === memberId) group.owners.delete(key)
    if (group.members.size === 0) {
      this.#groups.delete(groupId)
      return
    }
    this.#rebalance(group)
    for (const member of group.members.values()) member.notify()
  }

  /** Topics were created or deleted: patterns may match more, partitions may be gone. */
  topicsChanged(): void {
    for (const group of this.#groups.values()) this.#rebalance(group)
  }

  hasMembers(groupId: string): boolean {
    return (this.#groups.get(groupId)?.members.size ?? 0) > 0
  }

  /** The partitions (tpKeys) the member should hold now. */
  targetOf(groupId: string, memberId: string): ReadonlySet<string> {
    return this.#groups.get(groupId)?.targets.get(memberId) ?? NONE
  }

  /** Takes those of `keys` that are in the member's target and owned by nobody; returns them. */
  acquire(groupId: string, memberId: string, keys: Iterable<string>): string[] {
    const group = this.#groups.get(groupId)
    if (group === undefined) return []
    const target = group.targets.get(memberId) ?? NONE
    const acquired: string[] = []
    for (const key of keys) {
      if (target.has(key) && !group.owners.has(key)) {
        group.owners.set(key, memberId)
        acquired.push(key)
      }
    }
    return acquired
  }

  /** Gives partitions up after the member's revoke callback completed, waking whoever waits for them. */
  release(groupId: string, memberId: string, partitions: readonly TopicPartition[]): void {
    const group = this.#groups.get(groupId)
    if (group === undefined) return
    const freed = new Set<string>()
    for (const tp of partitions) {
      const key = tpKey(tp)
      if (group.owners.get(key) === memberId) {
        group.owners.delete(key)
        freed.add(key)
      }
    }
    if (freed.size === 0) return
    for (const [id, target] of group.targets) {
      if (id !== memberId && [...freed].some((key) => target.has(key))) group.members.get(id)?.notify()
    }
  }

  #rebalance(group: GroupState): void {
    const topics = this.#topics()
    const members = [...group.members.values()].map((m) => ({
      id: m.id,
      topics: matching(m.subscription, topics),
    }))
    const assignment = assignRange(members, topics)
    const targets = new Map<string, Set<string>>()
    for (const [id, tps] of assignment) targets.set(id, new Set(tps.map(tpKey)))
    const changed = [...group.members.keys()].filter(
      (id) => !sameSet(group.targets.get(id), targets.get(id)!),
    )
    group.targets = targets
    for (const id of changed) group.members.get(id)!.notify()
  }
}

function matching(
  subscription: readonly string[] | RegExp,
  topics: ReadonlyMap<string, number>,
): Set<string> {
  if (subscription instanceof RegExp)
    return new Set([...topics.keys()].filter((name) => subscription.test(name)))
  return new Set(subscription.filter((name) => topics.has(name)))
}

function sameSet(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): boolean {
  if (a === undefined) return b.size === 0
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}
