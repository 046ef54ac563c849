/**
 * What the in-process convergence tests (replicas/convergence.test.ts,
 * replicas/structures-convergence.test.ts) build every seeded sequence on: 3–5
 * replicas with skewed clocks (skewed-clocks.ts) joined by a network of
 * per-link update queues (update-network.ts), a compaction threshold, a trace
 * of every step and the error events the replicas report. The first draws of
 * a sequence are made here, in this order: the number of replicas, their
 * skews, the compaction threshold. Each test opens its replicas, draws its
 * steps and says what must hold.
 */
import * as Y from 'yjs'
import type { Store } from '@tidekv/client'
import { Random } from '@tidekv/core/testing'
import { SkewedClocks } from './skewed-clocks.js'
import { type DeliveryOdds, NET, UpdateNetwork } from './update-network.js'

/** A replica as the cluster sees it: the test's replica type adds what it needs. */
export interface ClusterReplica {
  readonly id: number
  /** Its store now (a restart replaces it). */
  store: Store
  /** Stops capturing the store's updates (see `UpdateNetwork.capture`). */
  detach: () => void
}

export abstract class ReplicaCluster<R extends ClusterReplica> {
  readonly rng: Random
  readonly trace: string[] = []
  /** Error events of every replica, as `replica <i>: <code> <message>`. */
  readonly errors: string[] = []
  readonly replicas: R[] = []
  readonly clocks: SkewedClocks
  readonly net: UpdateNetwork
  /** Log rows after which a persisting replica compacts: small logs compact mid-sequence, not only on close. */
  readonly compactAfter: number

  constructor(
    readonly seed: number,
    odds: DeliveryOdds,
  ) {
    this.rng = new Random(seed)
    const n = this.rng.int(3, 5)
    this.clocks = new SkewedClocks(n, this.rng)
    this.net = new UpdateNetwork({
      size: n,
      rng: this.rng,
      trace: this.trace,
      odds,
      doc: (i) => this.replicas[i]!.store.doc,
      apply: (to, update) => this.apply(to, update),
    })
    this.compactAfter = this.rng.pick([2, 5, 20, 500])
  }

  get size(): number {
    return this.net.size
  }

  /** Applies an update delivered to replica `to` (origin NET). */
  apply(to: number, update: Uint8Array): void {
    Y.applyUpdate(this.replicas[to]!.store.doc, update, NET)
  }

  /** Reports replica i's error events into `errors`. */
  watchErrors(i: number, store: Store): void {
    store.on('error', (e) => this.errors.push(`replica ${i}: ${e.code} ${e.message}`))
  }

  /** Delivers everything there is (each test says how: partitions heal, held-back loads finish…). */
  abstract quiesce(): Promise<void>

  /**
   * Delivers everything, then makes the clocks common and delivers again
   * (expiry sweeps at that one time may make a last round of updates): the
   * replicas can now be compared. Returns their stores and names.
   */
  async converge(): Promise<{ stores: Store[]; names: string[] }> {
    this.trace.push('-- deliver everything')
    await this.quiesce()
    this.clocks.common = true
    await this.quiesce()
    return { stores: this.replicas.map((r) => r.store), names: this.replicas.map((r) => `replica ${r.id}`) }
  }

  /** Commits every replica and delivers everything, until no replica has anything left to say; false after 50 rounds. */
  drain(): Promise<boolean> {
    return this.net.drain(async () => {
      for (const r of this.replicas) await r.store.flush()
    })
  }
}
