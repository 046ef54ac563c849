/**
 * Watch registrations: exact keys in a map, prefixes in a list. A change is
 * delivered once per key per transaction, to every matching callback.
 */
import type { Value } from './layout/value.js'

/** Where a change came from: this store, another tab of this origin, or another device. */
export type ChangeOrigin = 'local' | 'tab' | 'remote'

/** What a key holds (`store.type`): Redis's TYPE names, plus 'counter' for a value made by `incr`. */
export type KeyType = 'string' | 'counter' | 'hash' | 'list' | 'set' | 'zset' | 'stream' | 'none'

/**
 * One key's change, as seen by `watch` callbacks. `value` is undefined when
 * the key went away, and for data structures (read them through their handle;
 * `type` says what the key holds after the change).
 */
export interface Change<T extends Value = Value> {
  readonly key: string
  readonly type: KeyType
  readonly value: T | undefined
  readonly previous: T | undefined
  readonly origin: ChangeOrigin
}

export type WatchTarget = string | { readonly prefix: string }
export type WatchCallback = (change: Change) => void

export class Watchers {
  readonly #byKey = new Map<string, Set<WatchCallback>>()
  readonly #byPrefix: { prefix: string; cb: WatchCallback }[] = []

  /** True when anything is watched: the store skips change tracking otherwise. */
  get active(): boolean {
    return this.#byKey.size > 0 || this.#byPrefix.length > 0
  }

  add(target: WatchTarget, cb: WatchCallback): () => void {
    if (typeof target === 'string') {
      let set = this.#byKey.get(target)
      if (set === undefined) this.#byKey.set(target, (set = new Set()))
      const entry = cb.bind(undefined)
      set.add(entry)
      return () => {
        set.delete(entry)
        if (set.size === 0 && this.#byKey.get(target) === set) this.#byKey.delete(target)
      }
    }
    const reg = { prefix: target.prefix, cb }
    this.#byPrefix.push(reg)
    return () => {
      const i = this.#byPrefix.indexOf(reg)
      if (i >= 0) this.#byPrefix.splice(i, 1)
    }
  }

  /** Whether any callback would see a change of `key`. */
  wants(key: string): boolean {
    if (this.#byKey.has(key)) return true
    for (const { prefix } of this.#byPrefix) if (key.startsWith(prefix)) return true
    return false
  }

  /** Calls every matching callback; a throwing callback is reported and the rest still run. */
  emit(change: Change, onError: (error: unknown) => void): void {
    const exact = this.#byKey.get(change.key)
    if (exact) {
      for (const cb of [...exact]) {
        try {
          cb(change)
        } catch (error) {
          onError(error)
        }
      }
    }
    for (const { prefix, cb } of [...this.#byPrefix]) {
      if (!change.key.startsWith(prefix)) continue
      try {
        cb(change)
      } catch (error) {
        onError(error)
      }
    }
  }
}
