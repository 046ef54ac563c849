/**
 * A store's whole keyspace as read through the public API, one line per key:
 * its type and full contents through its handle (hash.getAll, list.range,
 * collection.members, sortedSet.range with scores, stream.range, get for
 * values), and its TTL. Two replicas that converged dump identically.
 *
 * `invariants` cross-checks one replica's reads against each other (sizes,
 * ranks, scores, indexes, reverse ranges): what a converged dump cannot see
 * when every replica gets the same wrong answer from a broken index.
 */
import type { Store } from '@tidekv/client'
import { show } from './waiting.js'

export interface DumpOptions {
  /** Print the TTL in ms (stores read at one common clock time), else only whether there is one. */
  exactTtl?: boolean
}

/** One key as `key type contents [ttl]`. Does not change the store (no sweep, no write). */
export function dumpKey(store: Store, key: string, options: DumpOptions = {}): string {
  const type = store.type(key)
  const ttl = store.ttl(key)
  const expiry = ttl === -1 || ttl === -2 ? '' : options.exactTtl ? ` ttl=${ttl}` : ' ttl'
  return `${key} ${type} ${contents(store, key, type)}${expiry}`
}

/** Every key of `store.keys()`, dumped. */
export function dump(store: Store, options: DumpOptions = {}): string[] {
  return store.keys().map((key) => dumpKey(store, key, options))
}

function contents(store: Store, key: string, type: ReturnType<Store['type']>): string {
  switch (type) {
    case 'hash':
      return show(store.hash(key).getAll())
    case 'list':
      return show(store.list(key).range(0, -1))
    case 'set':
      return show(store.collection(key).members())
    case 'zset':
      return show(store.sortedSet(key).range(0, -1, { withScores: true }))
    case 'stream':
      return store
        .stream(key)
        .range()
        .map((e) => `${e.id}${show(e.fields)}`)
        .join(' ')
    case 'string':
    case 'counter':
      return show(store.get(key))
    case 'none':
      return '-'
  }
}

/** What one replica reads inconsistently, as messages (empty when all is well). */
export function invariants(store: Store): string[] {
  const bad: string[] = []
  const check = (ok: boolean, what: string): void => {
    if (!ok) bad.push(what)
  }
  const same = (a: unknown, b: unknown): boolean => show(a) === show(b)
  for (const key of store.keys()) {
    const type = store.type(key)
    check(type !== 'none', `${key}: listed by keys() but type 'none'`)
    check(store.has(key), `${key}: listed by keys() but has() is false`)
    check(store.ttl(key) !== -2, `${key}: listed by keys() but ttl() is -2`)
    if (type === 'string' || type === 'counter') continue
    check(store.getMany([key])[0] === undefined, `${key}: getMany returns a value for a ${type}`)
    switch (type) {
      case 'hash': {
        const h = store.hash(key)
        const all = h.getAll()
        const fields = Object.keys(all)
        check(fields.length > 0, `${key}: an empty hash exists`)
        check(h.size === fields.length, `${key}: hash size ${h.size} but getAll has ${fields.length}`)
        check(same(h.keys(), [...fields].sort()), `${key}: hash keys() differ from getAll`)
        check(
          same(
            h.values(),
            h.keys().map((f) => all[f]),
          ),
          `${key}: hash values() differ from getAll`,
        )
        for (const f of fields) check(h.has(f) && same(h.get(f), all[f]), `${key}: hash get(${f}) differs from getAll`)
        break
      }
      case 'list': {
        const l = store.list(key)
        const all = l.range(0, -1)
        check(all.length > 0, `${key}: an empty list exists`)
        check(l.length === all.length, `${key}: list length ${l.length} but range has ${all.length}`)
        all.forEach((v, i) => {
          check(same(l.at(i), v) && same(l.at(i - all.length), v), `${key}: list at(${i}) differs from range`)
        })
        check(same(l.range(1, -2), all.slice(1, -1)), `${key}: list range(1, -2) differs from the slice`)
        break
      }
      case 'set': {
        const c = store.collection(key)
        const members = c.members()
        check(members.length > 0, `${key}: an empty set exists`)
        check(c.size === members.length, `${key}: set size ${c.size} but ${members.length} members`)
        for (const m of members) check(c.has(m), `${key}: set has(${m}) is false`)
        check(same(c.union(), members) && same(c.intersect(key), members), `${key}: union/intersect with itself differ`)
        break
      }
      case 'zset': {
        const z = store.sortedSet(key)
        const all = z.range(0, -1, { withScores: true })
        check(all.length > 0, `${key}: an empty sorted set exists`)
        check(z.size === all.length, `${key}: zset size ${z.size} but range has ${all.length}`)
        all.forEach(([m, s], i) => {
          check(z.score(m) === s, `${key}: score(${m}) ${z.score(m)} but range says ${s}`)
          check(z.rank(m) === i && z.rank(m, { rev: true }) === all.length - 1 - i, `${key}: rank(${m}) differs from its place`)
          if (i > 0) {
            const [pm, ps] = all[i - 1]!
            check(ps < s || (ps === s && pm < m), `${key}: range out of order at ${i}`)
          }
        })
        check(same(z.range(0, -1, { rev: true }), all.map(([m]) => m).reverse()), `${key}: rev range is not the reverse`)
        const lo = all[0]![1]
        const hi = all[all.length - 1]![1]
        check(same(z.rangeByScore(lo, hi, { withScores: true }), all), `${key}: rangeByScore(min, max) differs from range`)
        check(same(z.rangeByScore(-Infinity, Infinity, { rev: true }), all.map(([m]) => m).reverse()), `${key}: rev rangeByScore differs`)
        break
      }
      case 'stream': {
        const x = store.stream(key)
        const all = x.range()
        check(all.length > 0, `${key}: an empty stream exists`)
        check(x.length === all.length, `${key}: stream length ${x.length} but range has ${all.length}`)
        check(same(x.revRange(), [...all].reverse()), `${key}: revRange is not the reverse of range`)
        const ids = all.map((e) => e.id)
        check(new Set(ids).size === ids.length, `${key}: duplicate stream ids`)
        all.forEach((e, i) => {
          check(same(x.range(e.id, e.id), [e]), `${key}: range(${e.id}, ${e.id}) does not find the entry`)
          if (i > 0) check(same(x.range(`(${all[i - 1]!.id}`, '+', { count: 1 }), [e]), `${key}: exclusive range after ${all[i - 1]!.id} is not the next entry`)
        })
        break
      }
    }
  }
  return bad
}
