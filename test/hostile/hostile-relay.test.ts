/**
 * Attacks on the relay from issue 10, replayed. The ones that crashed or hung
 * the relay run it in a process of its own (`startRelayProcess`), so that
 * before the fix the test fails on a dead or silent relay instead of hanging
 * the test runner; the others use a relay in this process.
 */
import { symlinkSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { MessageType } from '@tidekv/core'
import { createToken } from '@tidekv/relay'
import { startRelayProcess } from '../helpers/relay-process.js'
import { newRelay, rawSocket, tempDir } from '../helpers/relay.js'
import { awarenessMessage, healthzStatus, INFINITE_VARINT, presenceSeenBy, syncMessage } from '../helpers/wire.js'

const SECRET = 'hostile-test-secret'

describe('a relay under attack from a read-only token', () => {
  it('a presence state nested 20,000 deep is refused (1002); the relay stays up and the owner keeps its state', async () => {
    const relay = await startRelayProcess(tempDir(), ['--secret', SECRET])
    const read = await createToken({ secret: SECRET, room: 'r', mode: 'read' })
    const a = await rawSocket(`${relay.ws}/r`)
    a.ws.send(awarenessMessage([[7, 1, '{"user":"a"}']]))
    const b = await rawSocket(`${relay.ws}/r?token=${read}`)
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    b.ws.send(awarenessMessage([[7, 2, deep]]))
    expect(await b.closed).toBe(1002)
    // The next join is what made the relay encode the poisoned state, and crash.
    const c = await rawSocket(`${relay.ws}/r`)
    const seen = presenceSeenBy(c.ws)
    c.ws.send(new Uint8Array([MessageType.QUERY_AWARENESS]))
    await expect.poll(() => seen.get(7), { timeout: 5000 }).toBe('{"user":"a"}')
    expect(await healthzStatus(relay.http)).toBe(200)
    a.ws.close()
    c.ws.close()
  })

  it('a PERSISTED request id that lib0 reads as Infinity is refused (1002) and the relay keeps answering', async () => {
    const relay = await startRelayProcess(tempDir(), ['--secret', SECRET])
    const read = await createToken({ secret: SECRET, room: 'r', mode: 'read' })
    const attacker = await rawSocket(`${relay.ws}/r?token=${read}&acks=1`)
    attacker.ws.send(new Uint8Array([MessageType.PERSISTED, ...INFINITE_VARINT]))
    expect(await attacker.closed).toBe(1002)
    expect(await healthzStatus(relay.http)).toBe(200)
  })
})

describe('presence from hostile peers', () => {
  it('a message claiming 200,000 client ids is refused whole: no honest peer receives any of it', async () => {
    const relay = await newRelay()
    const honest = await rawSocket(`${relay.ws}/p`)
    const seen = presenceSeenBy(honest.ws)
    const attacker = await rawSocket(`${relay.ws}/p`)
    const states = Array.from({ length: 200_000 }, (_, i) => [i + 1, 1, '{}'] as const)
    attacker.ws.send(awarenessMessage(states))
    expect(await attacker.closed).toBe(1002)
    // A message sent after the attack arrives after anything the attack caused.
    const later = await rawSocket(`${relay.ws}/p`)
    later.ws.send(awarenessMessage([[999, 1, '{"later":true}']]))
    await expect.poll(() => seen.get(999)).toBe('{"later":true}')
    expect(seen.size).toBe(1)
    expect(relay.rooms.get('p')?.awarenessStates).toBe(1)
    expect(relay.metrics.rejected['presence-refused']).toBe(1)
  })

  it("a peer cannot overwrite or remove another connection's presence; the owner can", async () => {
    const relay = await newRelay()
    const owner = await rawSocket(`${relay.ws}/q`)
    owner.ws.send(awarenessMessage([[7, 1, '{"name":"Ada"}']]))
    await expect.poll(() => relay.rooms.get('q')?.awarenessStates).toBe(1)
    const other = await rawSocket(`${relay.ws}/q`)
    other.ws.send(awarenessMessage([[7, 5, '{"name":"Mallory"}']]))
    other.ws.send(awarenessMessage([[7, 9, 'null']]))
    const watcher = await rawSocket(`${relay.ws}/q`)
    const seen = presenceSeenBy(watcher.ws)
    watcher.ws.send(new Uint8Array([MessageType.QUERY_AWARENESS]))
    await expect.poll(() => seen.get(7)).toBe('{"name":"Ada"}')
    owner.ws.send(awarenessMessage([[7, 2, '{"name":"Ada L."}']]))
    await expect.poll(() => seen.get(7)).toBe('{"name":"Ada L."}')
    owner.ws.close()
    await expect.poll(() => seen.get(7)).toBe('null') // leaving removes it, for everyone
    expect(relay.rooms.get('q')?.awarenessStates).toBe(0)
  })

  it('states too large, too deep, or not JSON are refused with 1002', async () => {
    const relay = await newRelay()
    for (const json of [`"${'x'.repeat(20_000)}"`, `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`, '{"a":', '\u0000']) {
      const s = await rawSocket(`${relay.ws}/bad`)
      s.ws.send(awarenessMessage([[1, 1, json]]))
      expect(await s.closed).toBe(1002)
    }
    expect(relay.rooms.get('bad')?.awarenessStates ?? 0).toBe(0)
  })
})

describe('the relay, where it leaked, overflowed or said too much', () => {
  it('upgrades that never become WebSockets (no Sec-WebSocket-Key) are refused before a room is loaded', async () => {
    const relay = await newRelay()
    const { port } = relay
    for (let i = 0; i < 20; i++) {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(`GET /leak-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`)
        })
        let text = ''
        socket.on('data', (d) => (text += d.toString()))
        socket.on('close', () => resolve(text))
        socket.on('error', reject)
      })
      expect(reply).toMatch(/^HTTP\/1\.1 400/)
    }
    expect(relay.rooms.size).toBe(0)
    expect(relay.metrics.rejected['bad-handshake']).toBe(20)
  })

  it('a token valid for 30 days keeps its connection open (setTimeout overflows past 24.8 days)', async () => {
    const secret = 'thirty-days'
    const relay = await newRelay({ auth: { secret, anonymous: 'none' } })
    const token = await createToken({ secret, room: 'long', mode: 'write', expiresIn: '30d' })
    const s = await rawSocket(`${relay.ws}/long?token=${token}`)
    let code: number | undefined
    void s.closed.then((c) => (code = c))
    // Before the fix it was closed with 4401 within milliseconds; a round trip through the room shows it is still served.
    await new Promise((resolve) => setTimeout(resolve, 200))
    s.ws.send(new Uint8Array([MessageType.QUERY_AWARENESS]))
    s.ws.send(awarenessMessage([[5, 1, '{}']]))
    await expect.poll(() => relay.rooms.get('long')?.awarenessStates).toBe(1)
    expect([code, s.ws.readyState]).toEqual([undefined, WebSocket.OPEN])
    s.ws.close()
  })

  it('--static serves neither dotfiles nor files that symlinks lead to outside its folder', async () => {
    const site = tempDir()
    const outside = tempDir()
    writeFileSync(join(site, 'index.html'), '<h1>demo</h1>')
    writeFileSync(join(site, '.env'), 'SECRET=1')
    writeFileSync(join(outside, 'private.txt'), 'private')
    symlinkSync(join(outside, 'private.txt'), join(site, 'leak.txt'))
    symlinkSync(outside, join(site, 'out'))
    const relay = await newRelay({ static: site })
    const status = async (path: string) => (await fetch(`${relay.url}${path}`)).status
    expect(await status('/')).toBe(200)
    expect(await status('/index.html')).toBe(200)
    expect(await status('/.env')).toBe(404)
    expect(await status('/leak.txt')).toBe(404)
    expect(await status('/out/private.txt')).toBe(404)
  })

  it('a read-only client whose sync step 2 holds nothing new is not told off; one with new items is, once', async () => {
    const secret = 'read-only-quiet'
    const relay = await newRelay({ auth: { secret, anonymous: 'none' } })
    const write = await createToken({ secret, room: 'ro', mode: 'write' })
    const read = await createToken({ secret, room: 'ro', mode: 'read' })
    // The room holds one item, written through a write token.
    const doc = new Y.Doc()
    doc.getArray('a').push([1])
    const writer = await rawSocket(`${relay.ws}/ro?token=${write}`)
    writer.ws.send(syncMessage(1, Y.encodeStateAsUpdate(doc)))
    await expect.poll(() => relay.rooms.get('ro')?.writers).toBe(1)
    const reader = await rawSocket(`${relay.ws}/ro?token=${read}`)
    const auth: number[] = []
    reader.ws.on('message', (data: Buffer) => data[0] === MessageType.AUTH && auth.push(data[0]))
    // What stock clients send on connect: an empty step 2, or one of what they already synced.
    reader.ws.send(syncMessage(1, Y.encodeStateAsUpdate(new Y.Doc())))
    reader.ws.send(syncMessage(1, Y.encodeStateAsUpdate(doc)))
    reader.ws.send(new Uint8Array([MessageType.QUERY_AWARENESS])) // a round trip: the two above were handled
    await new Promise<void>((resolve) => reader.ws.on('message', (data: Buffer) => data[0] === MessageType.AWARENESS && resolve()))
    expect(auth).toEqual([])
    expect(relay.metrics.rejected['read-only-write']).toBeUndefined()
    doc.getArray('a').push([2])
    reader.ws.send(syncMessage(1, Y.encodeStateAsUpdate(doc)))
    reader.ws.send(syncMessage(2, Y.encodeStateAsUpdate(doc)))
    await expect.poll(() => relay.metrics.rejected['read-only-write']).toBe(2)
    expect(auth).toEqual([MessageType.AUTH])
    expect(relay.rooms.get('ro')?.writers).toBe(1)
  })
})

describe('sync step 1: few bytes in, a whole room out', () => {
  it('a connection asking again and again is closed (1008) after a burst; the answers it got were the cached room', async () => {
    const relay = await newRelay()
    const writer = await rawSocket(`${relay.ws}/big`)
    const doc = new Y.Doc()
    doc.getArray('a').push(Array.from({ length: 2000 }, (_, i) => `value ${i}`))
    writer.ws.send(syncMessage(1, Y.encodeStateAsUpdate(doc)))
    await expect.poll(() => relay.rooms.get('big')?.writers).toBe(1)
    const attacker = await rawSocket(`${relay.ws}/big`)
    let answers = 0
    attacker.ws.on('message', (data: Buffer) => data[0] === MessageType.SYNC && data[1] === 1 && answers++)
    const emptyStateVector = Y.encodeStateVector(new Y.Doc())
    for (let i = 0; i < 120; i++) attacker.ws.send(syncMessage(0, emptyStateVector))
    expect(await attacker.closed).toBe(1008)
    expect(answers).toBeLessThanOrEqual(9)
    expect(relay.metrics.rejected['sync-rate']).toBe(1)
    // An honest client joining afterwards is served as always.
    const honest = await rawSocket(`${relay.ws}/big`)
    const got = new Y.Doc()
    honest.ws.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data)
      if (bytes[0] === MessageType.SYNC && bytes[1] === 1) Y.applyUpdate(got, decoding.readVarUint8Array(decoding.createDecoder(bytes.subarray(2))))
    })
    honest.ws.send(syncMessage(0, emptyStateVector))
    await expect.poll(() => got.getArray('a').length).toBe(2000)
  })

  it('a state vector naming 2,000,000 made-up clients is refused (1002) before it is decoded', async () => {
    const relay = await newRelay()
    const attacker = await rawSocket(`${relay.ws}/sv`)
    const sv = encoding.createEncoder()
    encoding.writeVarUint(sv, 2_000_000)
    for (let i = 1; i <= 2_000_000; i++) {
      encoding.writeVarUint(sv, i)
      encoding.writeVarUint(sv, 1)
    }
    attacker.ws.send(syncMessage(0, encoding.toUint8Array(sv)))
    expect(await attacker.closed).toBe(1002)
    expect(relay.metrics.rejected['state-vector-too-long']).toBe(1)
  })
})

describe('a large update inside the budget', () => {
  it('is refused with 1013 (try again later) when the relay is short of memory; smaller updates still go through', async () => {
    const relay = await newRelay({ limits: { maxHeapBytes: 1 } })
    const doc = new Y.Doc()
    for (let i = 0; i < 30_000; i++) doc.getArray<number>('a').insert(0, [i])
    const big = await rawSocket(`${relay.ws}/mem`)
    big.ws.send(syncMessage(1, Y.encodeStateAsUpdate(doc)))
    expect(await big.closed).toBe(1013)
    expect(relay.metrics.rejected.memory).toBe(1)
    expect(relay.rooms.get('mem')?.writers ?? 0).toBe(0)
    const small = new Y.Doc()
    small.getArray<number>('a').push([1, 2, 3])
    const other = await rawSocket(`${relay.ws}/mem`)
    other.ws.send(syncMessage(1, Y.encodeStateAsUpdate(small)))
    await expect.poll(() => relay.rooms.get('mem')?.writers).toBe(1)
  })

  it("is applied in slices, a turn of the event loop each (other rooms are served in between), holding the room's other messages until done", async () => {
    const relay = await newRelay()
    const doc = new Y.Doc()
    const array = doc.getArray<number>('a')
    for (let i = 0; i < 100_000; i++) array.insert(0, [i]) // 100,000 items that cannot merge: twenty slices
    const watcher = await rawSocket(`${relay.ws}/big`)
    let updatesSeen = 0
    watcher.ws.on('message', (data: Buffer) => data[0] === MessageType.SYNC && data[1] === 2 && updatesSeen++)
    const sender = await rawSocket(`${relay.ws}/big?acks=1`)
    let acknowledged = false
    sender.ws.on('message', (data: Buffer) => data[0] === MessageType.PERSISTED && (acknowledged = true))
    const sameRoom = await rawSocket(`${relay.ws}/big`)
    const later = new Y.Doc()
    later.getArray<string>('b').push(['sent while the big one was applied'])
    sender.ws.send(syncMessage(1, Y.encodeStateAsUpdate(doc)))
    sameRoom.ws.send(syncMessage(2, Y.encodeStateAsUpdate(later)))
    await expect.poll(() => acknowledged, { timeout: 30_000 }).toBe(true)
    expect(relay.metrics.slicedUpdates).toBe(1)
    // Each slice is applied in a turn of its own, and sent on as it is: the room's peers see the state grow.
    await expect.poll(() => updatesSeen).toBeGreaterThanOrEqual(5)
    // A reader gets all of it, and the update held back behind it (a room this large: in pieces, updates then the step 2).
    const reader = await rawSocket(`${relay.ws}/big`)
    const got = new Y.Doc()
    reader.ws.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data)
      if (bytes[0] === MessageType.SYNC && (bytes[1] === 1 || bytes[1] === 2)) Y.applyUpdate(got, decoding.readVarUint8Array(decoding.createDecoder(bytes.subarray(2))))
    })
    reader.ws.send(syncMessage(0, Y.encodeStateVector(new Y.Doc())))
    await expect.poll(() => [got.getArray('a').length, got.getArray('b').length], { timeout: 10_000 }).toEqual([100_000, 1])
    expect(got.getArray('a').get(0)).toBe(99_999)
  })
})

describe('while a room applies a large update', () => {
  it('what its peers send meanwhile is held up to a bound; past it the sender is told to try again later (1013)', async () => {
    const relay = await newRelay({ limits: { maxBacklogBytes: 64 * 1024 } })
    const doc = new Y.Doc()
    for (let i = 0; i < 100_000; i++) doc.getArray<number>('a').insert(0, [i])
    const sender = await rawSocket(`${relay.ws}/busy`)
    sender.ws.send(syncMessage(1, Y.encodeStateAsUpdate(doc)))
    // Right behind it on the same socket, so they are handled after it, while the room applies it.
    const junk = new Uint8Array(32 * 1024)
    junk[0] = MessageType.QUERY_AWARENESS
    for (let i = 0; i < 4; i++) sender.ws.send(junk)
    expect(await sender.closed).toBe(1013)
    expect(relay.metrics.rejected['room-busy']).toBe(1)
    await expect.poll(() => relay.rooms.get('busy')?.writers, { timeout: 30_000 }).toBe(1)
  })
})

describe('presence at room scale', () => {
  it("a room's states are capped at 4 MiB of JSON together: the connection that would pass it is refused (1002)", async () => {
    const relay = await newRelay()
    const big = `"${'x'.repeat(15_000)}"` // 15 KB of JSON per state, 32 per connection: 480 KB each
    const closes: Promise<number>[] = []
    for (let c = 0; c < 9; c++) {
      const s = await rawSocket(`${relay.ws}/crowd`)
      closes.push(s.closed)
      s.ws.send(awarenessMessage(Array.from({ length: 32 }, (_, i) => [c * 100 + i + 1, 1, big] as const)))
      if (c < 8) await expect.poll(() => relay.rooms.get('crowd')?.awarenessStates).toBe((c + 1) * 32)
    }
    expect(await closes[8]).toBe(1002)
    expect(relay.metrics.rejected['presence-refused']).toBe(1)
    expect(relay.rooms.get('crowd')?.awarenessStates).toBe(8 * 32)
  })

  it('queries for every presence state are rate-limited like sync step 1 (1008 past the burst)', async () => {
    const relay = await newRelay()
    const s = await rawSocket(`${relay.ws}/queries`)
    for (let i = 0; i < 20; i++) s.ws.send(new Uint8Array([MessageType.QUERY_AWARENESS]))
    expect(await s.closed).toBe(1008)
    expect(relay.metrics.rejected['sync-rate']).toBe(1)
  })
})

describe('presence of a client that left', () => {
  it('cannot be taken over by another token subject with a clock its owner would never reach', async () => {
    const secret = 'presence-takeover'
    const relay = await newRelay({ auth: { secret, anonymous: 'none' } })
    const read = (sub: string) => createToken({ secret, room: 'p', mode: 'read', sub })
    const victim = await rawSocket(`${relay.ws}/p?token=${await read('victim')}`)
    victim.ws.send(awarenessMessage([[7, 1, '{"name":"Ada"}']]))
    await expect.poll(() => relay.rooms.get('p')?.awarenessStates).toBe(1)
    victim.ws.close()
    await expect.poll(() => relay.rooms.get('p')?.awarenessStates).toBe(0)
    const attacker = await rawSocket(`${relay.ws}/p?token=${await read('mallory')}`)
    attacker.ws.send(awarenessMessage([[7, Number.MAX_SAFE_INTEGER - 1, '{"name":"Mallory"}']]))
    attacker.ws.send(awarenessMessage([[7, Number.MAX_SAFE_INTEGER, 'null']]))
    attacker.ws.send(new Uint8Array([MessageType.QUERY_AWARENESS]))
    await new Promise<void>((resolve) => attacker.ws.on('message', (data: Buffer) => data[0] === MessageType.AWARENESS && resolve()))
    expect(relay.rooms.get('p')?.awarenessStates).toBe(0)
    // The victim comes back with its own next clock, and is seen again.
    const back = await rawSocket(`${relay.ws}/p?token=${await read('victim')}`)
    back.ws.send(awarenessMessage([[7, 3, '{"name":"Ada, back"}']]))
    await expect.poll(() => relay.rooms.get('p')?.awarenessStates).toBe(1)
  })
})
