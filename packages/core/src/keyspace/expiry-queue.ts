/**
 * A binary min-heap of (expiresAt, key): the store's one timer looks at its
 * top instead of keeping a timer per key. Entries go stale when a key is
 * rewritten with another expiry; the caller checks and skips them.
 */
export class ExpiryQueue {
  #at: number[] = []
  #keys: string[] = []

  get size(): number {
    return this.#at.length
  }

  push(expiresAt: number, key: string): void {
    this.#at.push(expiresAt)
    this.#keys.push(key)
    this.#up(this.#at.length - 1)
  }

  /** The earliest expiry in the queue, or Infinity when empty. */
  peek(): number {
    return this.#at.length ? this.#at[0]! : Infinity
  }

  /** Removes and returns the key with the earliest expiry. */
  pop(): string | undefined {
    const n = this.#at.length
    if (n === 0) return undefined
    const top = this.#keys[0]
    const lastAt = this.#at.pop()!
    const lastKey = this.#keys.pop()!
    if (n > 1) {
      this.#at[0] = lastAt
      this.#keys[0] = lastKey
      this.#down(0)
    }
    return top
  }

  clear(): void {
    this.#at = []
    this.#keys = []
  }

  #up(i: number): void {
    const at = this.#at
    const keys = this.#keys
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (at[parent]! <= at[i]!) break
      this.#swap(i, parent, at, keys)
      i = parent
    }
  }

  #down(i: number): void {
    const at = this.#at
    const keys = this.#keys
    const n = at.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && at[l]! < at[m]!) m = l
      if (r < n && at[r]! < at[m]!) m = r
      if (m === i) return
      this.#swap(i, m, at, keys)
      i = m
    }
  }

  #swap(i: number, j: number, at: number[], keys: string[]): void {
    const a = at[i]!
    at[i] = at[j]!
    at[j] = a
    const k = keys[i]!
    keys[i] = keys[j]!
    keys[j] = k
  }
}
