import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocStore as Store } from '../index.js'
import { codeOf, illTyped, memoryStores } from '../testing/test-support.js'

const memoryStore = memoryStores('collection')

/** Sends everything each store committed to the others. */
async function exchange(...stores: Store[]): Promise<void> {
  await Promise.all(stores.map((s) => s.flush()))
  const all = Y.mergeUpdates(stores.map((s) => Y.encodeStateAsUpdate(s.doc)))
  for (const s of stores) Y.applyUpdate(s.doc, all)
  await Promise.all(stores.map((s) => s.flush()))
}

describe('collection add, has, members, size', () => {
  it('add returns how many members were new, counting a repeated member once (SADD)', async () => {
    const store = await memoryStore()
    const tags = store.collection('tags')
    expect(tags.key).toBe('tags')
    expect(tags.add('crdt', 'offline', 'crdt')).toBe(2)
    expect(tags.add('offline', 'sync')).toBe(1)
    expect(tags.add('sync')).toBe(0)
    expect(tags.members()).toEqual(['crdt', 'offline', 'sync'])
    expect(tags.size).toBe(3)
    expect(store.type('tags')).toBe('set')
  })

  it('has says whether a member is in the set; false on a missing set', async () => {
    const store = await memoryStore()
    store.collection('s').add('a')
    expect(store.collection('s').has('a')).toBe(true)
    expect(store.collection('s').has('b')).toBe(false)
    expect(store.collection('missing').has('a')).toBe(false)
  })

  it('members come in code-unit order; a missing set has none and size 0', async () => {
    const store = await memoryStore()
    store.collection('s').add('b', 'a', 'B', '10', '9', '', 'é')
    expect(store.collection('s').members()).toEqual(['', '10', '9', 'B', 'a', 'b', 'é'])
    expect(store.collection('missing').members()).toEqual([])
    expect(store.collection('missing').size).toBe(0)
  })

  it('another replica reads the same members', async () => {
    const a = await memoryStore()
    a.collection('s').add('x', 'y', 'ünï 😀')
    const b = await memoryStore()
    await exchange(a, b)
    expect(b.collection('s').members()).toEqual(a.collection('s').members())
  })

  it('re-adding a present member writes a fresh entry, so it survives a concurrent remove of the old one', async () => {
    const a = await memoryStore()
    const b = await memoryStore()
    a.collection('online').add('ada')
    await exchange(a, b)
    b.collection('online').remove('ada')
    expect(a.collection('online').add('ada')).toBe(0) // present already: not new, but renewed
    await exchange(a, b)
    expect(a.collection('online').members()).toEqual(['ada'])
    expect(b.collection('online').members()).toEqual(['ada'])
  })

  it('refuses an add of no members, a member that is not a string or is too long, changing nothing', async () => {
    const store = await memoryStore({ maxKeyBytes: 8 })
    const s = store.collection('s')
    expect(codeOf(() => s.add())).toBe('INVALID_VALUE')
    expect(store.type('s')).toBe('none')
    s.add('keep')
    expect(codeOf(() => s.add('ok', illTyped(5)))).toBe('INVALID_VALUE')
    expect(codeOf(() => s.add('ok', illTyped(null)))).toBe('INVALID_VALUE')
    expect(codeOf(() => s.add('ok', '123456789'))).toBe('INVALID_VALUE')
    expect(codeOf(() => s.add('ok', 'ééééé'))).toBe('INVALID_VALUE') // 10 bytes of UTF-8
    expect(s.members()).toEqual(['keep'])
    expect(s.add('12345678')).toBe(1)
  })
})

describe('collection remove', () => {
  it('returns how many of the members were there, counting a repeated member once (SREM)', async () => {
    const store = await memoryStore()
    const s = store.collection('s')
    s.add('a', 'b', 'c')
    expect(s.remove('a', 'a', 'missing')).toBe(1)
    expect(s.remove()).toBe(0)
    expect(s.members()).toEqual(['b', 'c'])
    expect(store.collection('missing').remove('a')).toBe(0)
  })

  it('removing the last member removes the key: type none, and nothing left in the document', async () => {
    const store = await memoryStore()
    const s = store.collection('s')
    s.add('a', 'b')
    await store.flush()
    expect(s.remove('a', 'b')).toBe(2)
    expect(store.type('s')).toBe('none')
    expect(store.has('s')).toBe(false)
    expect(s.size).toBe(0)
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })
})

describe('collection union, intersect, diff', () => {
  /** s1 = {a, b, c}, s2 = {b, c, d}, s3 = {c, e}. */
  async function threeSets(): Promise<Store> {
    const store = await memoryStore()
    store.collection('s1').add('a', 'b', 'c')
    store.collection('s2').add('b', 'c', 'd')
    store.collection('s3').add('c', 'e')
    return store
  }

  it('union lists the members of any of the sets, sorted (SUNION)', async () => {
    const s1 = (await threeSets()).collection('s1')
    expect(s1.union('s2', 's3')).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(s1.union()).toEqual(['a', 'b', 'c'])
  })

  it('intersect lists the members of this set in every other set, sorted (SINTER)', async () => {
    const s1 = (await threeSets()).collection('s1')
    expect(s1.intersect('s2')).toEqual(['b', 'c'])
    expect(s1.intersect('s2', 's3')).toEqual(['c'])
    expect(s1.intersect()).toEqual(['a', 'b', 'c'])
  })

  it('diff lists the members of this set in none of the others, sorted (SDIFF)', async () => {
    const s1 = (await threeSets()).collection('s1')
    expect(s1.diff('s2')).toEqual(['a'])
    expect(s1.diff('s3')).toEqual(['a', 'b'])
    expect(s1.diff('s2', 's3')).toEqual(['a'])
    expect(s1.diff()).toEqual(['a', 'b', 'c'])
  })

  it('a missing key counts as an empty set, on either side', async () => {
    const store = await threeSets()
    expect(store.collection('s1').union('missing')).toEqual(['a', 'b', 'c'])
    expect(store.collection('s1').intersect('missing')).toEqual([])
    expect(store.collection('s1').diff('missing')).toEqual(['a', 'b', 'c'])
    expect(store.collection('missing').union('s3')).toEqual(['c', 'e'])
    expect(store.collection('missing').intersect('s3')).toEqual([])
    expect(store.collection('missing').diff('s3')).toEqual([])
  })

  it('throws WRONG_TYPE when another key holds something else, and INVALID_KEY for a bad key', async () => {
    const store = await threeSets()
    store.set('plain', 1)
    store.hash('h').set('a', 1)
    for (const other of ['plain', 'h']) {
      expect(codeOf(() => store.collection('s1').union(other))).toBe('WRONG_TYPE')
      expect(codeOf(() => store.collection('s1').intersect('s2', other))).toBe('WRONG_TYPE')
      expect(codeOf(() => store.collection('s1').diff(other))).toBe('WRONG_TYPE')
    }
    expect(codeOf(() => store.collection('s1').union(''))).toBe('INVALID_KEY')
    expect(codeOf(() => store.collection('s1').diff(illTyped(5)))).toBe('INVALID_KEY')
  })
})
