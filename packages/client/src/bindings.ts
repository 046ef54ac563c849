/**
 * Helpers for framework bindings (@tidekv/react, @tidekv/vue), exported for
 * any other binding: keeping a result's reference while it is unchanged, and
 * watching keys once per tick on a store that may close under its readers.
 */
import { TideKVError, type WatchTarget } from '@tidekv/core'
import type { Store } from './store.js'

/**
 * Whether two reads of the store gave the same result, for bindings that
 * keep a result's reference while it is unchanged (@tidekv/react,
 * @tidekv/vue): values, arrays of them (keys, ranges, `[member, score]`
 * pairs), plain objects, each two levels deep, and bytes compared by content
 * (the store hands out a fresh copy of a binary value on every read).
 * @example
 * import { sameResult } from '@tidekv/client'
 * sameResult(store.keys({ prefix: 'todo:' }), store.keys({ prefix: 'todo:' })) // true: no key came or went
 */
export function sameResult(a: unknown, b: unknown, depth = 2): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth === 0) return false
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i])
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameResult(x, b[i], depth - 1))
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  // reason: a plain object (checked above); its own fields are read by name
  const ra = a as Record<string, unknown>
  // reason: a plain object, as `a`
  const rb = b as Record<string, unknown>
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && sameResult(ra[k], rb[k], depth - 1))
}

/** Whether `error` is the store's `CLOSED`: a reader of a store that closed meanwhile keeps what it last showed. */
export function isClosedError(error: unknown): boolean {
  return error instanceof TideKVError && error.code === 'CLOSED'
}

/**
 * Watches every key or prefix of `targets` and calls `onTick` once per tick
 * in which any of them changed (a microtask after the transaction's
 * watchers: a batch of 100 writes is one call); `onEach`, if given, runs at
 * every change, synchronously. A store that has closed meanwhile is watched
 * not at all. Returns the stop, which also drops a call still pending.
 */
export function watchTargets(store: Store, targets: readonly WatchTarget[], onTick: () => void, onEach?: () => void): () => void {
  let live = true
  let pending = false
  const changed = (): void => {
    onEach?.()
    if (pending) return
    pending = true
    queueMicrotask(() => {
      pending = false
      if (live) onTick()
    })
  }
  const stops = targets.map((target) => {
    try {
      return store.watch(target, changed)
    } catch (error) {
      if (isClosedError(error)) return () => {}
      throw error
    }
  })
  return () => {
    live = false
    for (const stop of stops) stop()
  }
}
