/**
 * Write rules per key prefix (a token's `rules.write`), end to end: the
 * client refuses a write outside them with FORBIDDEN before it changes
 * anything; the relay refuses an update outside them whole (not applied, not
 * sent on, not stored) and closes the connection with 4403, which the client
 * reports as a FORBIDDEN error event.
 */
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { openStore, type Store, type TideKVError } from '@tidekv/client'
import { createToken } from '@tidekv/relay'
import { newClient, newRelay, rawSocket, statusIs, tempDir } from '../helpers/relay.js'
import { syncMessage } from '../helpers/wire.js'

const secret = 'test-secret-of-at-least-32-bytes!!'
const wait = { timeout: 10_000, interval: 5 }

const writeToken = (write?: string[]) => createToken({ secret, room: 'team', mode: 'write', ...(write === undefined ? {} : { rules: { write } }) })

function errorsOf(store: Store): TideKVError[] {
  const errors: TideKVError[] = []
  store.on('error', (e) => errors.push(e))
  return errors
}

describe('write rules on the client', () => {
  it('writes the keys its rules allow and throws FORBIDDEN for any other, changing nothing', async () => {
    const relay = await newRelay({ auth: { secret } })
    const alice = await newClient(relay.ws, 'team', { token: await writeToken(['user:42:*', 'shared:*']) })
    const admin = await newClient(relay.ws, 'team', { token: await writeToken() })
    alice.set('user:42:theme', 'dark')
    alice.incr('shared:visits')
    for (const write of [
      () => alice.set('user:43:theme', 'light'),
      () =>
        alice.setMany([
          ['user:42:ok', 1],
          ['admin:flag', true],
        ]),
      () => alice.incr('counter'),
      () => alice.delete('user:43:theme'),
      () => alice.expire('admin:flag', 1000),
      () => alice.hash('team:7').set('name', 'x'),
      () => alice.list('queue').pushRight(1),
    ]) {
      expect(write).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }))
    }
    expect(alice.get('user:42:ok')).toBeUndefined() // setMany checked every key first
    expect(alice.canWrite('user:42:x')).toBe(true)
    expect(alice.canWrite('user:43:x')).toBe(false)
    await alice.whenSynced()
    await vi.waitFor(() => expect([admin.get('user:42:theme'), admin.get('shared:visits')]).toEqual(['dark', 1]), wait)
    expect(admin.keys()).toEqual(['shared:visits', 'user:42:theme'])
  })

  it('knows the rules of a token function when openStore resolves', async () => {
    const relay = await newRelay({ auth: { secret } })
    const store = await newClient(relay.ws, 'team', { token: () => writeToken(['mine:*']) })
    expect(() => store.set('yours', 1)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }))
    store.set('mine:1', 1)
    await store.whenSynced()
  })

  it('does not keep openStore waiting for a slow token function, and takes its rules when it comes', async () => {
    const relay = await newRelay({ auth: { secret } })
    let release: () => void = () => undefined
    const arrived = new Promise<void>((resolve) => (release = resolve))
    const token = async () => {
      await arrived
      return writeToken(['mine:*'])
    }
    const store = await newClient(relay.ws, 'team', { token, sync: { url: relay.ws, firstTokenTimeoutMs: 50 } })
    store.set('anything', 1) // rules not known yet
    release()
    await vi.waitFor(() => expect(store.canWrite('yours')).toBe(false), wait)
    expect(() => store.set('yours', 1)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }))
  })

  it('clear() clears the keys its rules allow and leaves the others', async () => {
    const relay = await newRelay({ auth: { secret } })
    const admin = await newClient(relay.ws, 'team', { token: await writeToken() })
    admin.set('team:name', 'Tide')
    await admin.whenSynced()
    const alice = await newClient(relay.ws, 'team', { token: await writeToken(['user:42:*']) })
    alice.set('user:42:a', 1)
    await vi.waitFor(() => expect(alice.get('team:name')).toBe('Tide'), wait)
    alice.clear()
    expect(alice.keys()).toEqual(['team:name'])
    await alice.whenSynced()
    await vi.waitFor(() => expect(admin.keys()).toEqual(['team:name']), wait)
  })

  it('createToken refuses rules on a read token, and rules it cannot bound', async () => {
    await expect(createToken({ secret, room: 'team', mode: 'read', rules: { write: ['a:*'] } })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    // reason: what a JavaScript caller (no type checks) may pass
    const notAnArray = 'a:*' as unknown as string[]
    await expect(createToken({ secret, room: 'team', mode: 'write', rules: { write: notAnArray } })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(createToken({ secret, room: 'team', mode: 'write', rules: { write: Array(65).fill('a') } })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })
})

describe('write rules on the relay', () => {
  it('refuses an update outside the rules whole: not applied, not sent on, not stored; the room goes on', async () => {
    const dataDir = tempDir()
    const relay = await newRelay({ auth: { secret }, dataDir })
    const admin = await newClient(relay.ws, 'team', { token: await writeToken() })
    // A client that ignores its token's rules (it says it may write everything).
    const rogue = await newClient(relay.ws, 'team', { token: await writeToken(['user:42:*']), sync: { url: relay.ws, rules: { write: ['*'] } } })
    const errors = errorsOf(rogue)
    await statusIs(rogue, 'synced')
    rogue.batch(() => {
      rogue.set('user:42:allowed', 1)
      rogue.set('admin:flag', 'pwned')
    })
    await vi.waitFor(() => expect(errors.map((e) => e.code)).toContain('FORBIDDEN'), wait)
    expect(errors.find((e) => e.code === 'FORBIDDEN')?.message).toMatch(/admin:flag/)
    // It would be refused on every connection: the store stays offline instead of trying again and again.
    await new Promise((r) => setTimeout(r, 300))
    expect(errors.filter((e) => e.code === 'FORBIDDEN')).toHaveLength(1)
    expect(rogue.status).toBe('offline')
    // Later valid writes of others are not held up by what was refused.
    admin.set('after', true)
    await admin.whenSynced()
    expect(admin.get('user:42:allowed')).toBeUndefined()
    expect(admin.get('admin:flag')).toBeUndefined()
    const metrics = await (await fetch(`${relay.url}/metrics`)).text()
    expect(metrics).toMatch(/reason="forbidden-write"\} [1-9]/)
    await rogue.close()
    await relay.close()
    const again = await newRelay({ auth: { secret }, dataDir })
    const fresh = await newClient(again.ws, 'team', { token: await writeToken() })
    await vi.waitFor(() => expect(fresh.get('after')).toBe(true), wait)
    expect(fresh.keys()).toEqual(['after'])
  })

  it('refuses a delete of a key outside the rules', async () => {
    const relay = await newRelay({ auth: { secret } })
    const admin = await newClient(relay.ws, 'team', { token: await writeToken() })
    admin.set('team:name', 'Tide')
    await admin.whenSynced()
    const rogue = await newClient(relay.ws, 'team', { token: await writeToken(['user:42:*']), sync: { url: relay.ws, rules: { write: ['*'] } } })
    const errors = errorsOf(rogue)
    await vi.waitFor(() => expect(rogue.get('team:name')).toBe('Tide'), wait)
    rogue.delete('team:name')
    await vi.waitFor(() => expect(errors.map((e) => e.code)).toContain('FORBIDDEN'), wait)
    const late = await newClient(relay.ws, 'team', { token: await writeToken() })
    await statusIs(late, 'synced')
    expect(late.get('team:name')).toBe('Tide')
  })

  it('closes a raw Yjs client that writes anything but entries with 4403, and stores none of it', async () => {
    const relay = await newRelay({ auth: { secret } })
    const { ws, closed } = await rawSocket(`${relay.ws}/team?token=${await writeToken(['user:42:*'])}`)
    const doc = new Y.Doc()
    doc.getMap('settings').set('user:42:theme', 'dark') // a key the rules allow, but not a TideKV entry
    ws.send(syncMessage(2, Y.encodeStateAsUpdate(doc)))
    expect(await closed).toBe(4403)
    const reader = await newClient(relay.ws, 'team', { token: await writeToken() })
    await statusIs(reader, 'synced')
    expect(reader.doc.share.has('settings')).toBe(false)
  })

  it('a client with rules in a room where others write leaves their clean-up to them, and is never refused', async () => {
    const relay = await newRelay({ auth: { secret } })
    const admin = await newClient(relay.ws, 'team', { token: await writeToken() })
    admin.set('shared:doc', 'from admin')
    await admin.whenSynced()
    await admin.close()
    // Written concurrently by a replica that never saw the admin's write, and a key that expires soon.
    const offline = await openStore('team', { persist: false, tabs: false })
    offline.set('shared:doc', 'from offline')
    offline.set('tmp', 1, { ttl: 50 })
    await offline.flush()
    const alice = await newClient(relay.ws, 'team', { token: await writeToken(['user:42:*']) })
    const errors = errorsOf(alice)
    await statusIs(alice, 'synced')
    // Only Alice sees the conflict: on her replica the older write loses, and its entry is garbage she may not delete.
    const { ws } = await rawSocket(`${relay.ws}/team?token=${await writeToken()}`)
    ws.send(syncMessage(1, Y.encodeStateAsUpdate(offline.doc)))
    await vi.waitFor(() => expect(alice.get('shared:doc')).toBe('from offline'), wait)
    await new Promise((r) => setTimeout(r, 100))
    expect(alice.get('tmp')).toBeUndefined()
    // Her next transaction (which would carry that clean-up) still goes through.
    alice.set('user:42:after', 1)
    await alice.whenSynced()
    expect(errors).toEqual([])
    expect(alice.keys()).toEqual(['shared:doc', 'user:42:after'])
    // A replica that may write those keys cleans them up.
    const cleaner = await newClient(relay.ws, 'team', { token: await writeToken() })
    await vi.waitFor(() => expect(cleaner.get('user:42:after')).toBe(1), wait)
    expect(cleaner.keys()).toEqual(['shared:doc', 'user:42:after'])
    ws.close()
    await offline.close()
  })
})
