/**
 * The in-process network of the convergence tests
 * (replicas/convergence.test.ts, replicas/structures-convergence.test.ts):
 * every update a replica makes itself is queued on each link from it to
 * another replica, and travels only when the test says — one at a time on a random link, sometimes twice, sometimes kept
 * queued to arrive again, sometimes held back until the end, merged with the
 * rest of its queue, as a state-vector diff, or not at all across a
 * partition. Every choice is drawn from the test's seeded `Random`, in the
 * test's own order, so a seed replays exactly.
 */
import * as Y from 'yjs'
import { type Store, TransactionOrigin } from '@tidekv/client'
import type { Random } from '@tidekv/core/testing'

/** Origin of the transactions that deliver another replica's update. */
export const NET = 'net'

/** How one delivery goes, by a draw r in [0, 1). */
export interface DeliveryOdds {
  /** r below this: the update leaves its queue, to be delivered only at the end. */
  holdBackBelow: number
  /** r below this (and not held back): delivered, and a duplicate stays queued. */
  keepQueuedBelow: number
}

export interface UpdateNetworkOptions {
  readonly size: number
  readonly rng: Random
  /** Where each delivery is written down (the test prints its tail on failure). */
  readonly trace: string[]
  readonly odds: DeliveryOdds
  /** Replica i's document now (a restart gives it a new one). */
  readonly doc: (i: number) => Y.Doc
  /** Hands `update` to replica `to` (applied with origin NET). */
  readonly apply: (to: number, update: Uint8Array) => void
}

export class UpdateNetwork {
  readonly size: number
  /** Updates in flight per link from → to; `late` ones are delivered only at the end. */
  readonly queues: Uint8Array[][][]
  readonly late: Uint8Array[][][]
  /** Partition side of each replica: updates flow only between replicas on the same side. */
  side: number[]
  private readonly rng: Random
  private readonly trace: string[]

  constructor(private readonly options: UpdateNetworkOptions) {
    const n = options.size
    this.size = n
    this.rng = options.rng
    this.trace = options.trace
    this.queues = Array.from({ length: n }, () => Array.from({ length: n }, () => []))
    this.late = Array.from({ length: n }, () => Array.from({ length: n }, () => []))
    this.side = Array.from({ length: n }, () => 0)
  }

  /** Queues every update replica i makes itself (not those delivered to it or loaded from storage); returns the detach. */
  capture(i: number, store: Store): () => void {
    const onUpdate = (update: Uint8Array, origin: unknown): void => {
      if (origin === NET || (origin instanceof TransactionOrigin && origin.kind === 'storage')) return
      for (let j = 0; j < this.size; j++) if (j !== i) this.queues[i]![j]!.push(update)
    }
    store.doc.on('update', onUpdate)
    return () => store.doc.off('update', onUpdate)
  }

  linked(from: number, to: number): boolean {
    return this.side[from] === this.side[to]
  }

  pending(): boolean {
    for (let i = 0; i < this.size; i++) {
      for (let j = 0; j < this.size; j++) if (this.queues[i]![j]!.length > 0 || this.late[i]![j]!.length > 0) return true
    }
    return false
  }

  /** Delivers one queued update on a random open link (into `onlyTo` when given): sometimes twice, sometimes kept as a duplicate, sometimes held back. */
  deliverOne(onlyTo?: number): void {
    const links: [number, number][] = []
    for (let i = 0; i < this.size; i++) {
      for (let j = 0; j < this.size; j++) if (this.queues[i]![j]!.length > 0 && this.linked(i, j) && (onlyTo ?? j) === j) links.push([i, j])
    }
    if (links.length === 0) return
    const [from, to] = this.rng.pick(links)
    const queue = this.queues[from]![to]!
    const at = this.rng.int(0, queue.length - 1)
    const update = queue[at]!
    const r = this.rng.float()
    if (r < this.options.odds.holdBackBelow) {
      queue.splice(at, 1)
      this.late[from]![to]!.push(update)
      this.trace.push(`hold back ${from}→${to} #${at} until the end`)
    } else if (r < this.options.odds.keepQueuedBelow) {
      this.options.apply(to, update)
      this.trace.push(`deliver ${from}→${to} #${at}, keep a duplicate queued`)
    } else {
      queue.splice(at, 1)
      this.options.apply(to, update)
      const twice = this.rng.chance(0.05)
      if (twice) this.options.apply(to, update)
      this.trace.push(`deliver ${from}→${to} #${at}${twice ? ' twice' : ''}`)
    }
  }

  /** Delivers 1–4 queued updates, each as `deliverOne` does. */
  deliverSome(): void {
    const n = this.rng.int(1, 4)
    for (let k = 0; k < n; k++) this.deliverOne()
  }

  /** Delivers everything queued on a random link (if open) as one merged update. */
  deliverMerged(): void {
    const from = this.rng.int(0, this.size - 1)
    const to = (from + this.rng.int(1, this.size - 1)) % this.size
    const queue = this.queues[from]![to]!
    if (queue.length === 0 || !this.linked(from, to)) return
    this.options.apply(to, Y.mergeUpdates(queue.splice(0)))
    this.trace.push(`deliver ${from}→${to} all queued, merged into one update`)
  }

  /** A provider's sync step on a random link (if open): what `to` lacks according to its state vector. */
  syncPair(): void {
    const from = this.rng.int(0, this.size - 1)
    const to = (from + this.rng.int(1, this.size - 1)) % this.size
    if (!this.linked(from, to)) return
    const a = this.options.doc(from)
    const b = this.options.doc(to)
    this.options.apply(to, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
    this.trace.push(`sync ${from}→${to} by state vector`)
  }

  /** Delivers everything queued and held back, in random order, some of it twice. */
  deliverAll(): void {
    const all: [number, Uint8Array][] = []
    for (let i = 0; i < this.size; i++) {
      for (let j = 0; j < this.size; j++) {
        for (const u of this.queues[i]![j]!.splice(0)) all.push([j, u])
        for (const u of this.late[i]![j]!.splice(0)) all.push([j, u])
      }
    }
    for (const [to, u] of this.rng.shuffle(all)) {
      this.options.apply(to, u)
      if (this.rng.chance(0.05)) this.options.apply(to, u)
    }
  }

  /**
   * Delivers until no replica has anything left to say: `flushAll` commits
   * every replica first (clean-up of losers and expiry sweeps make new
   * updates). False if they still exchange updates after 50 rounds.
   */
  async drain(flushAll: () => Promise<void>): Promise<boolean> {
    for (let round = 0; round < 50; round++) {
      await flushAll()
      if (!this.pending()) return true
      this.deliverAll()
    }
    return false
  }

  /** Splits the replicas into two random sides. */
  partition(): void {
    this.side = this.side.map(() => (this.rng.chance(0.5) ? 1 : 0))
  }

  heal(): void {
    this.side = this.side.map(() => 0)
  }

  /**
   * Replica i is back with a new document (after a restart): like a provider
   * reconnecting, every peer queues what i's state vector lacks and, when
   * `bothWays`, i queues what each peer's lacks.
   */
  reconnect(i: number, bothWays: boolean): void {
    const doc = this.options.doc(i)
    for (let j = 0; j < this.size; j++) {
      if (j === i) continue
      const peer = this.options.doc(j)
      this.queues[j]![i]!.push(Y.encodeStateAsUpdate(peer, Y.encodeStateVector(doc)))
      if (bothWays) this.queues[i]![j]!.push(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(peer)))
    }
  }
}
