/**
 * An ordered set of strings for prefix scans: a list of sorted chunks (the
 * layout of Python's sortedcontainers). Find, insert and delete cost
 * O(log n) comparisons plus a splice within one chunk of at most
 * 2 × CHUNK strings; a range of k keys is read in O(log n + k).
 * A B-tree library would do too, but this is 100 lines with no dependency
 * in the browser bundle, and the chunk layout suits bulk loading in order.
 */

const CHUNK = 512

/** Strings in code-unit order (JavaScript's `<`). */
export class SortedIndex {
  #chunks: string[][] = []
  #count = 0

  /** Builds an index from keys already sorted and distinct, in O(n). */
  static fromSorted(keys: readonly string[]): SortedIndex {
    const index = new SortedIndex()
    for (let i = 0; i < keys.length; i += CHUNK) index.#chunks.push(keys.slice(i, i + CHUNK))
    index.#count = keys.length
    return index
  }

  get size(): number {
    return this.#count
  }

  /** Adds `key`; returns false if it was there. */
  insert(key: string): boolean {
    if (this.#chunks.length === 0) {
      this.#chunks.push([key])
      this.#count = 1
      return true
    }
    const ci = this.#chunkFor(key)
    const chunk = this.#chunks[ci]!
    const pos = lowerBound(chunk, key)
    if (chunk[pos] === key) return false
    chunk.splice(pos, 0, key)
    this.#count++
    if (chunk.length > 2 * CHUNK) this.#chunks.splice(ci + 1, 0, chunk.splice(CHUNK))
    return true
  }

  /** Removes `key`; returns false if it was not there. */
  delete(key: string): boolean {
    if (this.#chunks.length === 0) return false
    const ci = this.#chunkFor(key)
    const chunk = this.#chunks[ci]!
    const pos = lowerBound(chunk, key)
    if (chunk[pos] !== key) return false
    chunk.splice(pos, 1)
    this.#count--
    if (chunk.length === 0) this.#chunks.splice(ci, 1)
    return true
  }

  has(key: string): boolean {
    if (this.#chunks.length === 0) return false
    const chunk = this.#chunks[this.#chunkFor(key)]!
    return chunk[lowerBound(chunk, key)] === key
  }

  clear(): void {
    this.#chunks = []
    this.#count = 0
  }

  /**
   * Visits keys in order, starting at the first key ≥ `from` (or > `from`
   * when `exclusive`), until `visit` returns false or the keys run out.
   */
  scan(from: string, exclusive: boolean, visit: (key: string) => boolean): void {
    if (this.#chunks.length === 0) return
    let ci = this.#chunkFor(from)
    let chunk = this.#chunks[ci]!
    let pos = lowerBound(chunk, from)
    if (exclusive && chunk[pos] === from) pos++
    for (;;) {
      for (; pos < chunk.length; pos++) if (!visit(chunk[pos]!)) return
      ci++
      if (ci >= this.#chunks.length) return
      chunk = this.#chunks[ci]!
      pos = 0
    }
  }

  /** The chunk whose range holds `key`: the first chunk whose last key ≥ key, else the last chunk. */
  #chunkFor(key: string): number {
    let lo = 0
    let hi = this.#chunks.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const chunk = this.#chunks[mid]!
      if (chunk[chunk.length - 1]! < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

function lowerBound(arr: readonly string[], key: string): number {
  let lo = 0
  let hi = arr.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (arr[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}
