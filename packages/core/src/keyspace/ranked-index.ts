/**
 * An ordered list with order statistics (position ↔ item), for the data
 * structures: sorted sets (by score, then member), lists (by position) and
 * streams (by id), up to about a million items each.
 *
 * Layout: a list of sorted chunks, as in Python's sortedcontainers, plus a
 * Fenwick (binary indexed) tree over the chunk sizes. With n items in
 * C ≈ n / CHUNK chunks:
 *
 * - insert, delete, rank: O(log n) comparisons, O(log C) to update or read
 *   the Fenwick tree, and a splice inside one chunk (≤ 2 × CHUNK items).
 * - at, count: O(log C) to find the chunk, O(1) or O(log CHUNK) inside it.
 * - walk, slice: O(log C + k) for k items.
 * - A chunk that doubles is split in two; one that falls under half of
 *   CHUNK is folded into a neighbour. Both change the chunk list, so the
 *   Fenwick tree is rebuilt, in O(C); that happens at most once per
 *   ~CHUNK / 2 edits, so it costs O(C / CHUNK), about 16 steps per edit at a
 *   million items.
 * - fromSorted: O(n).
 *
 * Why the Fenwick tree: sortedcontainers finds "the chunk holding position i"
 * with a lazily rebuilt positional index; a plain sum over chunk sizes would
 * make `at` and `rank` O(C), i.e. ~2,000 steps at a million items.
 * Why folding small chunks: dropping only empty chunks would let deletes
 * leave many near-empty chunks behind, so C could grow toward n; folding
 * keeps every chunk (but a lone one) at ≥ CHUNK / 2 items, so C ≤ 2n / CHUNK + 1.
 */

/**
 * Items per chunk after a split. Measured through the store with 100k
 * members: LPUSH (always a splice at the front of the first chunk) 12 µs at
 * 512, 10 µs at 256, 8.5 µs at 128; ZADD the same at all three. 256 keeps the
 * Fenwick rebuilds cheap up to a million items.
 */
const CHUNK = 256

/** Items of `T` in the order of `compare`, each position counted. */
export class RankedIndex<T> {
  #chunks: T[][] = []
  /** 1-based Fenwick tree: tree[i] sums the sizes of chunks (i - lowbit(i), i]. */
  #tree = new Int32Array(1)
  /** The largest power of two ≤ chunks.length, where the descent in `chunkAt` starts. */
  #topBit = 0
  #total = 0
  readonly #load: number
  readonly #minLoad: number

  /**
   * @param compare - a total order; items comparing equal (0) are the same item.
   * @param load - items per chunk after a split; only tests change it, to cross chunks with few items.
   */
  constructor(
    private readonly compare: (a: T, b: T) => number,
    load = CHUNK,
  ) {
    this.#load = Math.max(2, Math.floor(load))
    this.#minLoad = this.#load >> 1
  }

  /**
   * Builds from items already sorted by `compare` and distinct, in O(n).
   * Unsorted or repeated items are not detected and break later lookups.
   */
  static fromSorted<T>(compare: (a: T, b: T) => number, items: readonly T[], load = CHUNK): RankedIndex<T> {
    const index = new RankedIndex(compare, load)
    // Even chunks rather than `load`-sized ones plus a short tail, so every chunk starts ≥ load / 2.
    const n = items.length
    const chunkCount = Math.ceil(n / index.#load)
    for (let c = 0; c < chunkCount; c++) {
      index.#chunks.push(items.slice(Math.floor((c * n) / chunkCount), Math.floor(((c + 1) * n) / chunkCount)))
    }
    index.#total = n
    index.#rebuild()
    return index
  }

  get size(): number {
    return this.#total
  }

  /** Adds `item`; returns false (and changes nothing) if an equal item (compare === 0) is there. */
  insert(item: T): boolean {
    if (this.#chunks.length === 0) {
      this.#chunks.push([item])
      this.#total = 1
      this.#rebuild()
      return true
    }
    const ci = this.#chunkFor(item)
    const chunk = this.#chunks[ci]!
    const pos = this.#lowerBound(chunk, item)
    if (pos < chunk.length && this.compare(chunk[pos]!, item) === 0) return false
    chunk.splice(pos, 0, item)
    this.#total++
    if (chunk.length > 2 * this.#load) {
      this.#chunks.splice(ci + 1, 0, chunk.splice(chunk.length >> 1))
      this.#rebuild()
    } else {
      this.#add(ci, 1)
    }
    return true
  }

  /** Removes the item equal to `item`; returns false if none. */
  delete(item: T): boolean {
    if (this.#chunks.length === 0) return false
    const ci = this.#chunkFor(item)
    const chunk = this.#chunks[ci]!
    const pos = this.#lowerBound(chunk, item)
    if (pos >= chunk.length || this.compare(chunk[pos]!, item) !== 0) return false
    chunk.splice(pos, 1)
    this.#total--
    if (this.#total === 0) this.clear()
    else if (chunk.length >= this.#minLoad || this.#chunks.length === 1) this.#add(ci, -1)
    else this.#fold(ci)
    return true
  }

  /** Position (0-based) of the item equal to `item`, or -1. */
  rank(item: T): number {
    if (this.#chunks.length === 0) return -1
    const ci = this.#chunkFor(item)
    const chunk = this.#chunks[ci]!
    const pos = this.#lowerBound(chunk, item)
    if (pos >= chunk.length || this.compare(chunk[pos]!, item) !== 0) return -1
    return this.#before(ci) + pos
  }

  /**
   * How many leading items satisfy `before`, which must be true for a prefix
   * of the order and false after it (it is binary searched, not tried on all).
   *
   * @example
   * import { RankedIndex } from './ranked-index.js'
   * const compare = (a: number, b: number) => a - b
   * const index = RankedIndex.fromSorted(compare, [1, 3, 5, 7])
   * const x = 3
   * index.count((i) => compare(i, x) < 0)  // 1, the lower bound of x: items < x
   * index.count((i) => compare(i, x) <= 0) // 2, the upper bound of x: items ≤ x
   */
  count(before: (item: T) => boolean): number {
    const chunks = this.#chunks
    let lo = 0
    let hi = chunks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const chunk = chunks[mid]!
      if (before(chunk[chunk.length - 1]!)) lo = mid + 1
      else hi = mid
    }
    if (lo === chunks.length) return this.#total
    const chunk = chunks[lo]!
    let a = 0
    let b = chunk.length - 1 // the last item is known to fail `before`
    while (a < b) {
      const mid = (a + b) >>> 1
      if (before(chunk[mid]!)) a = mid + 1
      else b = mid
    }
    return this.#before(lo) + a
  }

  /** The item at position `i` (0-based), or undefined when `i` is not an integer in [0, size); negative `i` does not count from the end. */
  at(i: number): T | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.#total) return undefined
    const ci = this.#chunkAt(i)
    return this.#chunks[ci]![i - this.#before(ci)]
  }

  /**
   * Visits the items at positions ≥ `start` in ascending order (or ≤ `start`
   * in descending order when `reverse`), until `visit` returns false or the
   * items run out. A `start` beyond the end the walk moves toward visits
   * nothing; one beyond the other end starts at that end. The index must not
   * change during the walk.
   */
  walk(start: number, reverse: boolean, visit: (item: T) => boolean | void): void {
    const first = reverse ? Math.min(this.#total - 1, Math.floor(start)) : Math.max(0, Math.ceil(start))
    if (!(first >= 0 && first < this.#total)) return // also NaN
    let ci = this.#chunkAt(first)
    let pos = first - this.#before(ci)
    const chunks = this.#chunks
    if (reverse) {
      for (;;) {
        const chunk = chunks[ci]!
        for (; pos >= 0; pos--) if (visit(chunk[pos]!) === false) return
        if (--ci < 0) return
        pos = chunks[ci]!.length - 1
      }
    }
    for (;;) {
      const chunk = chunks[ci]!
      for (; pos < chunk.length; pos++) if (visit(chunk[pos]!) === false) return
      if (++ci >= chunks.length) return
      pos = 0
    }
  }

  /** Items at positions [start, end) ∩ [0, size), in order; unlike Array#slice, negative positions do not count from the end. */
  slice(start: number, end: number): T[] {
    const from = Math.max(0, Math.ceil(start))
    const to = Math.min(this.#total, Math.ceil(end))
    const out: T[] = []
    if (!(from < to)) return out // also NaN
    let ci = this.#chunkAt(from)
    let pos = from - this.#before(ci)
    for (let left = to - from; left > 0; ci++, pos = 0) {
      const chunk = this.#chunks[ci]!
      const stop = Math.min(chunk.length, pos + left)
      left -= stop - pos
      for (; pos < stop; pos++) out.push(chunk[pos]!)
    }
    return out
  }

  clear(): void {
    this.#chunks = []
    this.#total = 0
    this.#rebuild()
  }

  /** Folds the under-full chunk `ci` into a neighbour, splitting the result again if it doubled. */
  #fold(ci: number): void {
    const left = ci > 0 ? ci - 1 : 0
    const into = this.#chunks[left]!
    for (const item of this.#chunks[left + 1]!) into.push(item)
    if (into.length > 2 * this.#load) this.#chunks[left + 1] = into.splice(into.length >> 1)
    else this.#chunks.splice(left + 1, 1)
    this.#rebuild()
  }

  /** The chunk whose range holds `item`: the first chunk whose last item ≥ item, else the last chunk. */
  #chunkFor(item: T): number {
    const chunks = this.#chunks
    let lo = 0
    let hi = chunks.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const chunk = chunks[mid]!
      if (this.compare(chunk[chunk.length - 1]!, item) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  #lowerBound(chunk: readonly T[], item: T): number {
    let lo = 0
    let hi = chunk.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.compare(chunk[mid]!, item) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** How many items the chunks before chunk `ci` hold: the Fenwick prefix sum, O(log C). */
  #before(ci: number): number {
    const tree = this.#tree
    let sum = 0
    for (let i = ci; i > 0; i -= i & -i) sum += tree[i]!
    return sum
  }

  /** The chunk holding position `pos` (0 ≤ pos < size): a descent of the Fenwick tree, O(log C). */
  #chunkAt(pos: number): number {
    const tree = this.#tree
    const n = this.#chunks.length
    let ci = 0 // chunks fully before `pos` so far
    for (let bit = this.#topBit; bit > 0; bit >>= 1) {
      const next = ci + bit
      if (next <= n && tree[next]! <= pos) {
        ci = next
        pos -= tree[next]!
      }
    }
    return ci
  }

  /** Adds `delta` to the size of chunk `ci` in the Fenwick tree, O(log C). */
  #add(ci: number, delta: number): void {
    const tree = this.#tree
    const n = this.#chunks.length
    for (let i = ci + 1; i <= n; i += i & -i) tree[i]! += delta
  }

  /** Rebuilds the Fenwick tree after chunks were split, folded or replaced, in O(C). */
  #rebuild(): void {
    const n = this.#chunks.length
    const tree = new Int32Array(n + 1)
    for (let i = 1; i <= n; i++) {
      tree[i]! += this.#chunks[i - 1]!.length
      const parent = i + (i & -i)
      if (parent <= n) tree[parent]! += tree[i]!
    }
    this.#tree = tree
    let bit = 1
    while (bit * 2 <= n) bit *= 2
    this.#topBit = n === 0 ? 0 : bit
  }
}
