import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Value } from '../index.js'
import { codeOf, illTyped, manualClock, memoryStores } from '../testing/test-support.js'

const memoryStore = memoryStores('stream')

/** An id as [ms, seq], to compare numerically as Redis does. */
function parseId(id: string): [bigint, bigint] {
  const m = /^(\d+)-(\d+)$/.exec(id)
  expect(m, id).not.toBeNull()
  return [BigInt(m![1]!), BigInt(m![2]!)]
}

function idLess(a: string, b: string): boolean {
  const [am, as] = parseId(a)
  const [bm, bs] = parseId(b)
  return am < bm || (am === bm && as < bs)
}

/**
 * A stream 's' of five entries: two at 1000 ms, one at 2000, two at 3000 (on a
 * clock starting at 1,700,000,000,000: `t(1000)` is the millisecond as a bound).
 */
async function timeline() {
  const clock = manualClock(1_700_000_000_000)
  const store = await memoryStore({ clock: clock.fn })
  const s = store.stream('s')
  const at = (ms: number, n: number) => {
    clock.now = 1_700_000_000_000 + ms
    return s.add({ n })
  }
  const ids = [at(1000, 0), at(1000, 1), at(2000, 2), at(3000, 3), at(3000, 4)]
  const t = (ms: number) => String(1_700_000_000_000 + ms)
  const ns = (entries: { fields: Readonly<Record<string, Value>> }[]) => entries.map((e) => e.fields.n)
  return { store, s, ids, t, ns }
}

describe('stream add', () => {
  it('returns ids `<ms>-<seq>` whose ms is the time of the add (XADD key *)', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    const s = store.stream('activity')
    expect(s.key).toBe('activity')
    const id = s.add({ user: 'ada', action: 'joined' })
    expect(id).toMatch(/^\d+-\d+$/)
    expect(parseId(id)[0]).toBe(BigInt(clock.now))
    expect(store.type('activity')).toBe('stream')
    expect(s.range()).toEqual([{ id, fields: { user: 'ada', action: 'joined' } }])
  })

  it('makes ids that always increase: within one millisecond, across milliseconds, and when the clock steps back', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    const s = store.stream('s')
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push(s.add({ i }))
    clock.now += 1
    ids.push(s.add({ i: 5 }))
    clock.now -= 1000 // the wall clock steps back
    ids.push(s.add({ i: 6 }), s.add({ i: 7 }))
    for (let i = 1; i < ids.length; i++) expect(idLess(ids[i - 1]!, ids[i]!), `${ids[i - 1]} < ${ids[i]}`).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    expect(s.range().map((e) => e.id)).toEqual(ids)
  })

  it('keeps field values of every kind, and another replica reads the same entries', async () => {
    const store = await memoryStore()
    const fields: Record<string, Value> = { nil: null, yes: true, n: -1.5, s: 'ünï 😀', arr: [1, 'a'], obj: { a: { b: [1] } }, bytes: new Uint8Array([0, 255]) }
    const id = store.stream('s').add(fields)
    await store.flush()
    const replica = await memoryStore()
    Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(store.doc))
    expect(store.stream('s').range()).toEqual([{ id, fields }])
    expect(replica.stream('s').range()).toEqual([{ id, fields }])
  })

  it('never aliases values: changing the fields passed or read does not change the store', async () => {
    const store = await memoryStore()
    const s = store.stream('s')
    const fields = { list: [1] }
    s.add(fields)
    s.add({ list: [1], bytes: new Uint8Array([1]) })
    fields.list.push(2)
    const [plain, binary] = s.range().map((e) => e.fields as { list: number[]; bytes?: Uint8Array }) // reason: the two entries added above, of these shapes
    expect(Object.isFrozen(plain!.list)).toBe(true)
    // Values holding bytes cannot be frozen: they come back as fresh copies.
    binary!.bytes![0] = 7
    binary!.list.push(7)
    expect(s.range().map((e) => e.fields)).toEqual([{ list: [1] }, { list: [1], bytes: new Uint8Array([1]) }])
  })

  it('refuses an entry that is not an object of at least one valid field with INVALID_VALUE, changing nothing', async () => {
    const store = await memoryStore({ maxValueBytes: 64 })
    const s = store.stream('s')
    for (const bad of [{}, null, undefined, [1, 2], new Uint8Array([1]), 'text', 5, { a: undefined }, { a: NaN }, { a: () => 1 }]) {
      expect(
        codeOf(() => s.add(illTyped(bad))),
        JSON.stringify(bad),
      ).toBe('INVALID_VALUE')
    }
    expect(codeOf(() => s.add({ big: 'x'.repeat(100) }))).toBe('VALUE_TOO_LARGE')
    expect(store.type('s')).toBe('none')
    expect(s.length).toBe(0)
  })
})

describe('stream range', () => {
  it('defaults to every entry, oldest first, as do - and + (XRANGE - +)', async () => {
    const { s, ns } = await timeline()
    expect(ns(s.range())).toEqual([0, 1, 2, 3, 4])
    expect(ns(s.range('-', '+'))).toEqual([0, 1, 2, 3, 4])
  })

  it('a full id bound is inclusive', async () => {
    const { s, ids, ns } = await timeline()
    expect(ns(s.range(ids[1], ids[3]))).toEqual([1, 2, 3])
    expect(ns(s.range(ids[2], ids[2]))).toEqual([2])
    expect(ns(s.range(ids[3], ids[1]))).toEqual([])
  })

  it('a bound of <ms> alone takes every entry of that millisecond, at either end', async () => {
    const { s, t, ns } = await timeline()
    expect(ns(s.range(t(1000), t(1000)))).toEqual([0, 1])
    expect(ns(s.range(t(2000), '+'))).toEqual([2, 3, 4])
    expect(ns(s.range('-', t(2000)))).toEqual([0, 1, 2])
    expect(ns(s.range(t(1500), t(2500)))).toEqual([2])
    expect(ns(s.range(t(4000)))).toEqual([])
    expect(ns(s.range('0', t(999)))).toEqual([])
  })

  it('a bound after "(" is exclusive', async () => {
    const { s, ids, t, ns } = await timeline()
    expect(ns(s.range(`(${ids[1]}`, `(${ids[3]}`))).toEqual([2])
    expect(ns(s.range(`(${ids[0]}`))).toEqual([1, 2, 3, 4])
    expect(ns(s.range('-', `(${ids[4]}`))).toEqual([0, 1, 2, 3])
    expect(ns(s.range(`(${ids[2]}`, `(${ids[2]}`))).toEqual([])
    // `(<ms>` as an upper bound: up to, not including, the last possible id of that millisecond.
    expect(ns(s.range('-', `(${t(1000)}`))).toEqual([0, 1])
  })

  it('returns at most count entries, the oldest first (COUNT)', async () => {
    const { s, ids, ns } = await timeline()
    expect(ns(s.range('-', '+', { count: 2 }))).toEqual([0, 1])
    expect(ns(s.range(ids[2], '+', { count: 10 }))).toEqual([2, 3, 4])
    expect(s.range('-', '+', { count: 0 })).toEqual([])
  })

  it('answers [] on a missing key', async () => {
    const store = await memoryStore()
    expect(store.stream('s').range()).toEqual([])
    expect(store.stream('s').revRange()).toEqual([])
  })

  it('refuses malformed ids and counts with INVALID_VALUE', async () => {
    const { store } = await timeline()
    const bad = ['', '(', '(-', '(+', 'abc', '12-', '-12', '1-2-3', '1.5', ' 1', '1-x', '99999999999999999999', '1-18446744073709551616', 5, null]
    for (const s of [store.stream('s'), store.stream('missing')]) {
      for (const id of bad) {
        expect(
          codeOf(() => s.range(illTyped(id))),
          `start ${String(id)}`,
        ).toBe('INVALID_VALUE')
        expect(
          codeOf(() => s.range('-', illTyped(id))),
          `end ${String(id)}`,
        ).toBe('INVALID_VALUE')
        expect(
          codeOf(() => s.revRange(illTyped(id))),
          `revRange end ${String(id)}`,
        ).toBe('INVALID_VALUE')
      }
      for (const count of [-1, 1.5, NaN]) {
        expect(
          codeOf(() => s.range('-', '+', { count })),
          `count ${count}`,
        ).toBe('INVALID_VALUE')
        expect(
          codeOf(() => s.revRange('+', '-', { count })),
          `count ${count}`,
        ).toBe('INVALID_VALUE')
      }
    }
    // The largest sequence Redis allows, and the last safe millisecond, are valid bounds.
    expect(store.stream('s').range('0-18446744073709551615')).toHaveLength(5)
    expect(store.stream('s').range('-', '0-18446744073709551615')).toEqual([])
    expect(store.stream('s').range(String(Number.MAX_SAFE_INTEGER))).toEqual([])
    // Redis's last millisecond, past JavaScript's exact integers, is still a bound: after every id.
    expect(store.stream('s').range('18446744073709551615')).toEqual([])
    expect(store.stream('s').range('-', '18446744073709551615-5')).toHaveLength(5)
  })
})

describe('stream revRange', () => {
  it('lists entries newest first, taking the end bound first (XREVRANGE + -)', async () => {
    const { s, ids, t, ns } = await timeline()
    expect(ns(s.revRange())).toEqual([4, 3, 2, 1, 0])
    expect(ns(s.revRange('+', '-'))).toEqual([4, 3, 2, 1, 0])
    expect(ns(s.revRange(ids[3], ids[1]))).toEqual([3, 2, 1])
    expect(ns(s.revRange(t(1000), t(1000)))).toEqual([1, 0])
    expect(ns(s.revRange(`(${ids[3]}`, `(${ids[1]}`))).toEqual([2])
    expect(ns(s.revRange(ids[1], ids[3]))).toEqual([])
  })

  it('returns at most count entries, the newest first', async () => {
    const { s, ns } = await timeline()
    expect(ns(s.revRange('+', '-', { count: 2 }))).toEqual([4, 3])
    expect(s.revRange('+', '-', { count: 0 })).toEqual([])
  })
})

describe('stream length and trim', () => {
  it('length counts the entries; 0 on a missing key', async () => {
    const { store, s } = await timeline()
    expect(s.length).toBe(5)
    expect(store.stream('missing').length).toBe(0)
  })

  it('trim removes the oldest entries until maxLen are left and returns how many it removed (XTRIM MAXLEN)', async () => {
    const { s, ids, ns } = await timeline()
    expect(s.trim({ maxLen: 3 })).toBe(2)
    expect(ns(s.range())).toEqual([2, 3, 4])
    expect(s.range()[0]!.id).toBe(ids[2])
    expect(s.length).toBe(3)
    expect(s.trim({ maxLen: 3 })).toBe(0)
    expect(s.trim({ maxLen: 10 })).toBe(0)
    expect(ns(s.range())).toEqual([2, 3, 4])
  })

  it('trim to 0 removes the key (Redis would keep an empty stream)', async () => {
    const { store, s } = await timeline()
    await store.flush()
    expect(s.trim({ maxLen: 0 })).toBe(5)
    expect(store.type('s')).toBe('none')
    expect(store.has('s')).toBe(false)
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })

  it('trim on a missing key removes nothing', async () => {
    const store = await memoryStore()
    expect(store.stream('s').trim({ maxLen: 0 })).toBe(0)
  })

  it('trim refuses a maxLen that is not a non-negative integer with INVALID_VALUE', async () => {
    const { s } = await timeline()
    for (const options of [{ maxLen: -1 }, { maxLen: 1.5 }, { maxLen: NaN }, { maxLen: '1' }, {}, null, undefined]) {
      expect(
        codeOf(() => s.trim(illTyped(options))),
        JSON.stringify(options),
      ).toBe('INVALID_VALUE')
    }
    expect(s.length).toBe(5)
  })

  it('an add after a trim gets an id greater than every id before', async () => {
    const { s, ids } = await timeline()
    s.trim({ maxLen: 0 })
    const next = s.add({ n: 5 })
    expect(idLess(ids[4]!, next)).toBe(true)
  })
})
