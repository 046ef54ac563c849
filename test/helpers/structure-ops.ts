/**
 * Random writes of every kind on a small key space, for the seeded
 * convergence tests of the data structures. Each key has a home type used
 * most of the time; the rest of the time any type (or a plain set, delete,
 * expire, ...) hits it, so keys change type and replicas write different
 * types to one key concurrently. Member pools are small, so concurrent
 * writes to one field or member are common.
 *
 * Checks made on the way, which agreement between replicas cannot make: a
 * handle call on a key of another type throws `WRONG_TYPE` and changes
 * nothing (the key reads the same afterwards); an increment returns what a
 * read right after gives. With `bulk`, a write now and then adds BULK
 * members at once, so structures outgrow one chunk of their ordered index.
 */
import { expect } from 'vitest'
import { type Store, TideKVError, type Value } from '@tidekv/client'
import type { Random } from '@tidekv/core/testing'
import { dumpKey } from './structure-dump.js'
import { show } from './waiting.js'

export const KEYS = ['h', 'l', 's', 'z', 'x', 'k'] as const
type Kind = 'hash' | 'list' | 'set' | 'zset' | 'stream' | 'plain'
const HOME: Record<(typeof KEYS)[number], Kind> = { h: 'hash', l: 'list', s: 'set', z: 'zset', x: 'stream', k: 'plain' }
const KINDS: readonly Kind[] = ['hash', 'list', 'set', 'zset', 'stream', 'plain']

const FIELDS = ['f1', 'f2', 'f3', 'f4'] as const
const MEMBERS = ['a', 'b', 'c', 'd', 'e'] as const
const ELEMENTS: readonly Value[] = ['a', 'b', 'c', 1, 2, null, { o: 1 }]
const SCORES = [0, 1, 2, 5, -3, 0.1, 0.2, 2.5, -0.7, 1e-3] as const

export interface WriteOptions {
  /** TTLs (ms) that plain sets and `expire` pick from. */
  ttls: readonly number[]
  /** Chance of a big write (BULK members at once), so structures grow past one chunk of their ordered index. Default 0. */
  bulk?: number
}

const KIND_OF: Record<ReturnType<Store['type']>, Kind | null> = {
  hash: 'hash',
  list: 'list',
  set: 'set',
  zset: 'zset',
  stream: 'stream',
  string: 'plain',
  counter: 'plain',
  none: null,
}

/**
 * A key-wide write (set, delete, expire, persist, incr: 'plain') on any key a
 * fifth of the time; else mostly the key's home type or the type it holds
 * now, sometimes any type, so types collide.
 */
function pickKind(rng: Random, store: Store, key: (typeof KEYS)[number]): Kind {
  const r = rng.float()
  if (r < 0.2) return 'plain'
  if (r < 0.6) return HOME[key]
  if (r < 0.85) return KIND_OF[store.type(key)] ?? HOME[key]
  return rng.pick(KINDS)
}

function plainValue(rng: Random): Value {
  return rng.pick<() => Value>([
    () => rng.int(-3, 9),
    () => rng.int(-3, 9),
    () => rng.pick(['x', 'y', '']),
    () => rng.pick([null, true, 1.5]),
    () => ({ v: rng.int(0, 3) }),
    () => new Uint8Array([rng.int(0, 255)]),
  ])()
}

function fieldValue(rng: Random): Value {
  return rng.chance(0.75) ? rng.int(-2, 9) : rng.pick<Value>(['x', 1.5, { n: 1 }, [1, 'two']])
}

/** An increment's result, checked against what a read right after gives (HINCRBY/ZINCRBY return the stored value). */
function readsBack(returned: number, read: Value | undefined): number {
  expect(read, `incr returned ${returned}, a read right after gives ${show(read)}`).toBe(returned)
  return returned
}

/** Runs `fn`; a refusal with one of `codes` becomes its code, anything else propagates. */
function tolerate(fn: () => unknown, codes: readonly TideKVError['code'][]): string {
  try {
    return show(fn())
  } catch (e) {
    if (e instanceof TideKVError && codes.includes(e.code)) return e.code
    throw e
  }
}

/**
 * One random write (or read) on `store`, done; returns what it did and
 * returned, for a trace. Synchronous, so several can run in one `batch`.
 */
export function randomWrite(rng: Random, store: Store, options: WriteOptions): string {
  const key = rng.pick(KEYS)
  const kind = pickKind(rng, store, key)
  const before = dumpKey(store, key)
  const startedAt = Date.now()
  const ttlBefore = store.ttl(key)
  let wrongType = false
  const run = (label: string, fn: () => unknown, ...codes: TideKVError['code'][]): string => {
    const result = tolerate(fn, ['WRONG_TYPE', ...codes])
    if (result === 'WRONG_TYPE') wrongType = true
    return `${label} = ${result}`
  }
  const line = (() => {
    if (options.bulk !== undefined && rng.chance(options.bulk)) return run(...bulkWrite(rng, store, key, kind))
    switch (kind) {
      case 'hash': {
        const h = store.hash(key)
        const field = rng.pick(FIELDS)
        return rng.pick<() => string>([
          () => {
            const v = fieldValue(rng)
            return run(`hash(${key}).set(${field}, ${show(v)})`, () => h.set(field, v))
          },
          () => {
            const fields = Object.fromEntries(rng.sample(FIELDS, rng.int(1, 3)).map((f) => [f, fieldValue(rng)]))
            return run(`hash(${key}).setMany(${show(fields)})`, () => h.setMany(fields))
          },
          () => {
            const fields = rng.sample(FIELDS, rng.int(1, 2))
            return run(`hash(${key}).delete(${fields.join(', ')})`, () => h.delete(...fields))
          },
          () => {
            const by = rng.pick([1, 1, 2, 5, -1, -3])
            return run(`hash(${key}).incr(${field}, ${by})`, () => readsBack(h.incr(field, by), h.get(field)), 'NOT_AN_INTEGER', 'OUT_OF_RANGE')
          },
          () => {
            const by = rng.pick([1, 10])
            return run(`hash(${key}).incr(${field}, ${by})`, () => readsBack(h.incr(field, by), h.get(field)), 'NOT_AN_INTEGER', 'OUT_OF_RANGE')
          },
        ])()
      }
      case 'list': {
        const l = store.list(key)
        return rng.pick<() => string>([
          () => {
            const vs = Array.from({ length: rng.int(1, 3) }, () => rng.pick(ELEMENTS))
            return run(`list(${key}).pushLeft(${vs.map(show).join(', ')})`, () => l.pushLeft(...vs))
          },
          () => {
            const vs = Array.from({ length: rng.int(1, 3) }, () => rng.pick(ELEMENTS))
            return run(`list(${key}).pushRight(${vs.map(show).join(', ')})`, () => l.pushRight(...vs))
          },
          () => run(`list(${key}).popLeft()`, () => l.popLeft()),
          () => run(`list(${key}).popRight()`, () => l.popRight()),
          () => {
            const i = rng.int(-3, 3)
            const v = rng.pick(ELEMENTS)
            return run(`list(${key}).set(${i}, ${show(v)})`, () => l.set(i, v), 'OUT_OF_RANGE')
          },
          () => {
            const v = rng.pick(ELEMENTS)
            const count = rng.int(-2, 2)
            return run(`list(${key}).remove(${show(v)}, ${count})`, () => l.remove(v, count))
          },
          () => {
            const start = rng.int(-3, 2)
            const stop = rng.int(-3, 4)
            return run(`list(${key}).trim(${start}, ${stop})`, () => l.trim(start, stop))
          },
        ])()
      }
      case 'set': {
        const c = store.collection(key)
        const ms = rng.sample(MEMBERS, rng.int(1, 3))
        return rng.chance(0.6) ? run(`collection(${key}).add(${ms.join(', ')})`, () => c.add(...ms)) : run(`collection(${key}).remove(${ms.join(', ')})`, () => c.remove(...ms))
      }
      case 'zset': {
        const z = store.sortedSet(key)
        const m = rng.pick(MEMBERS)
        const score = rng.pick(SCORES)
        return rng.pick<() => string>([
          () => run(`sortedSet(${key}).add(${m}, ${score})`, () => z.add(m, score)),
          () => run(`sortedSet(${key}).incr(${m}, ${score})`, () => readsBack(z.incr(m, score), z.score(m)), 'OUT_OF_RANGE'),
          () => run(`sortedSet(${key}).incr(${m}, ${score})`, () => readsBack(z.incr(m, score), z.score(m)), 'OUT_OF_RANGE'),
          () => {
            const ms = rng.sample(MEMBERS, rng.int(1, 2))
            return run(`sortedSet(${key}).remove(${ms.join(', ')})`, () => z.remove(...ms))
          },
        ])()
      }
      case 'stream': {
        const x = store.stream(key)
        if (rng.chance(0.75)) {
          const fields: Record<string, Value> = rng.chance(0.5) ? { n: rng.int(0, 99) } : { who: rng.pick(['ada', 'bob']), n: rng.int(0, 9), '2': rng.chance(0.5) }
          return run(`stream(${key}).add(${show(fields)})`, () => x.add(fields))
        }
        const maxLen = rng.int(0, 4)
        return run(`stream(${key}).trim(maxLen ${maxLen})`, () => x.trim({ maxLen }))
      }
      case 'plain':
        return plainWrite(rng, store, key, options, run)
    }
  })()
  // Where clocks are real (the relay tests), a key may expire between the two reads: that is no change
  // (a store clock is the real one plus a fixed skew, so Date.now measures the time between them).
  const expiredMeanwhile = ttlBefore >= 0 && Date.now() - startedAt >= ttlBefore && store.type(key) === 'none'
  if (wrongType && !expiredMeanwhile) {
    // The refused call changed nothing.
    expect(dumpKey(store, key), `${line}: refused with WRONG_TYPE, yet the key changed`).toBe(before)
  }
  return line
}

/** Past 2 × 512, the size at which a chunk of a structure's ordered index splits. */
export const BULK = 1100

function bulkWrite(rng: Random, store: Store, key: string, kind: Kind): [string, () => unknown] {
  const names = Array.from({ length: BULK }, (_, i) => `m${String(i).padStart(4, '0')}`)
  switch (kind) {
    case 'hash':
      return [`hash(${key}).setMany(${BULK} fields)`, () => store.hash(key).setMany(Object.fromEntries(names.map((n, i) => [n, i])))]
    case 'list': {
      const vs = Array.from({ length: BULK }, () => rng.pick(ELEMENTS))
      return rng.chance(0.5)
        ? [`list(${key}).pushRight(${BULK} values)`, () => store.list(key).pushRight(...vs)]
        : [`list(${key}).pushLeft(${BULK} values)`, () => store.list(key).pushLeft(...vs)]
    }
    case 'set':
      return [`collection(${key}).add(${BULK} members)`, () => store.collection(key).add(...names)]
    case 'zset': {
      const scores = names.map(() => rng.int(-20, 20))
      return [`sortedSet(${key}).add × ${BULK}`, () => store.batch(() => names.forEach((n, i) => store.sortedSet(key).add(n, scores[i]!)))]
    }
    case 'stream':
    case 'plain':
      return [`stream(${key}).add × ${BULK}`, () => store.batch(() => names.forEach((n) => store.stream(key).add({ n })))]
  }
}

function plainWrite(rng: Random, store: Store, key: string, options: WriteOptions, run: (label: string, fn: () => unknown, ...codes: TideKVError['code'][]) => string): string {
  const what = rng.weighted({ set: 14, delete: 20, incr: 8, expire: 18, persist: 6, get: 4, clear: 0.3 })
  switch (what) {
    case 'set': {
      const v = plainValue(rng)
      const opts = rng.chance(0.25) ? { ttl: rng.pick(options.ttls) } : undefined
      return run(`set(${key}, ${show(v)}${opts === undefined ? '' : `, ttl ${opts.ttl}`})`, () => store.set(key, v, opts))
    }
    case 'delete':
      return run(`delete(${key})`, () => store.delete(key))
    case 'incr': {
      const by = rng.pick([1, 2, -1, 5])
      return run(`incr(${key}, ${by})`, () => store.incr(key, by), 'NOT_AN_INTEGER', 'OUT_OF_RANGE')
    }
    case 'expire': {
      const ttl = rng.chance(0.1) ? 0 : rng.pick(options.ttls)
      return run(`expire(${key}, ${ttl})`, () => store.expire(key, ttl))
    }
    case 'persist':
      return run(`persist(${key})`, () => store.persist(key))
    case 'get':
      return run(`get(${key})`, () => store.get(key))
    case 'clear':
      return run('clear()', () => store.clear())
  }
}
