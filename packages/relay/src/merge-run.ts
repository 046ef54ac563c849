/**
 * A run of items Yjs will merge after the transaction. `ContentAny` and
 * `ContentJSON` merge by `left.arr = left.arr.concat(right.arr)`, right to
 * left, so merging items with e_1..e_L elements copies
 * sum_{j<L} (e_j + ... + e_L) = sum_i e_i * min(i, L - 1) elements.
 * (Strings merge by concatenation, which V8 does in O(1); deleted content and
 * GC structs by adding lengths.)
 */
export class MergeRun {
  private kind = 0
  private items = 0
  private weighted = 0 // sum of e_i * i
  private last = 0 // e_L
  private rightClient = -1
  private rightClock = -1

  continues(kind: number, rightClient: number, rightClock: number): boolean {
    return this.items > 0 && this.kind === kind && this.rightClient === rightClient && this.rightClock === rightClock
  }

  add(kind: number, elements: number, rightClient: number, rightClock: number): void {
    this.kind = kind
    this.items++
    this.weighted += elements * this.items
    this.last = elements
    this.rightClient = rightClient
    this.rightClock = rightClock
  }

  /** Ends the run; returns the elements its merging copies. */
  close(): number {
    const cost = this.items >= 2 ? this.weighted - this.last : 0
    this.items = 0
    this.weighted = 0
    this.last = 0
    this.kind = 0
    return cost
  }
}
