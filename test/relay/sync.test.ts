import { IDBFactory } from 'fake-indexeddb'
import WebSocket from 'ws'
import { describe, expect, it, vi } from 'vitest'
import { createToken, memoryRelayStorage, type RelayStorage } from '@tidekv/relay'
import { newClient, newRelay, rawSocket, statusIs, tempDir, upgradeStatus } from '../helpers/relay.js'
import { syncMessage as wireSync } from '../helpers/wire.js'

const wait = { timeout: 10_000, interval: 5 }

describe('sync through the relay', () => {
  it('three clients converge, concurrent increments all count, and a deleted key stays deleted', async () => {
    const relay = await newRelay()
    const [a, b, c] = await Promise.all([newClient(relay.ws, 'room'), newClient(relay.ws, 'room'), newClient(relay.ws, 'room')])
    await Promise.all([a, b, c].map((s) => statusIs(s, 'synced')))
    a.set('theme', 'dark')
    b.set('lang', 'fr')
    c.set('gone', 1)
    a.incr('visits')
    b.incr('visits', 2)
    c.incr('visits', 3)
    await Promise.all([a, b, c].map((s) => s.whenSynced()))
    await vi.waitFor(() => expect([a, b, c].map((s) => s.get('visits'))).toEqual([6, 6, 6]), wait)
    b.delete('gone')
    await b.whenSynced()
    await vi.waitFor(() => expect([a, b, c].map((s) => s.entries())).toEqual([a.entries(), a.entries(), a.entries()]), wait)
    expect(a.entries()).toEqual([
      ['lang', 'fr'],
      ['theme', 'dark'],
      ['visits', 6],
    ])
  })

  it("an offline client's writes merge when it reconnects, and remote changes reach watchers as 'remote'", async () => {
    const relay = await newRelay()
    const a = await newClient(relay.ws, 'room')
    const b = await newClient(relay.ws, 'room')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    const seen: string[] = []
    b.watch({ prefix: '' }, (c) => seen.push(`${c.key}=${String(c.value)}:${c.origin}`))
    a.disconnect()
    expect(a.status).toBe('offline')
    a.set('offline-write', 1)
    a.incr('n')
    b.incr('n', 10)
    await b.whenSynced()
    a.connect()
    await a.whenSynced()
    await vi.waitFor(() => expect([a.get('n'), b.get('n'), b.get('offline-write')]).toEqual([11, 11, 1]), wait)
    expect(seen).toContain('offline-write=1:remote')
  })

  it('whenSynced resolves only once the relay has stored the writes: a new relay on the same data has them', async () => {
    const dataDir = tempDir()
    const relay = await newRelay({ dataDir })
    const a = await newClient(relay.ws, 'room')
    for (let i = 0; i < 50; i++) a.set(`k${i}`, i)
    await a.whenSynced()
    await a.close()
    await relay.close()
    const again = await newRelay({ dataDir })
    const fresh = await newClient(again.ws, 'room')
    await vi.waitFor(() => expect(fresh.size).toBe(50), wait)
    expect(fresh.get('k49')).toBe(49)
  })

  it('a client keeps its data across a reload while the relay is down, and syncs when it is back', async () => {
    const dataDir = tempDir()
    const relay = await newRelay({ dataDir })
    const idb = new IDBFactory()
    const a = await newClient(relay.ws, 'room', { idb })
    a.set('k', 'v')
    await a.whenSynced()
    const port = relay.port
    await relay.close()
    await a.close()
    const reopened = await newClient(`ws://127.0.0.1:${port}`, 'room', { idb })
    expect(reopened.get('k')).toBe('v')
    reopened.set('while-down', true)
    await reopened.flush()
    const back = await newRelay({ dataDir, port })
    const other = await newClient(back.ws, 'room')
    await vi.waitFor(() => expect(other.get('while-down')).toBe(true), { timeout: 20_000, interval: 20 })
  })
})

describe('storage failures', () => {
  it('a write the relay failed to store is not acknowledged, nor anything after it, until a snapshot is stored', async () => {
    const inner = memoryRelayStorage()
    let failing = true
    // reason: an object whose prototype is `inner` is a RelayStorage: what it does not override is inner's
    const storage: RelayStorage = Object.assign(Object.create(inner) as RelayStorage, {
      append: (room: string, update: Uint8Array) => (failing ? Promise.reject(new Error('disk full')) : inner.append(room, update)),
      compact: (room: string, snapshot: Uint8Array, upTo: number) => (failing ? Promise.reject(new Error('disk full')) : inner.compact(room, snapshot, upTo)),
    })
    const errors: string[] = []
    const relay = await newRelay({ storage, onError: (e) => errors.push((e as Error).message) }) // reason: the storage above fails with Errors
    const a = await newClient(relay.ws, 'room')
    await statusIs(a, 'synced')
    a.set('lost-first', 1)
    await a.flush()
    await vi.waitFor(() => expect(errors).toContain('disk full'), wait)
    let acknowledged = false
    const synced = a.whenSynced().then(() => (acknowledged = true))
    // Every later write fails too, and nothing is acknowledged meanwhile.
    a.set('second', 2)
    await a.flush()
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2), wait)
    expect(acknowledged).toBe(false)
    failing = false
    a.set('third', 3) // the next write stores a snapshot first, then acknowledges
    await synced
    const stored = await inner.load('room')
    expect(stored.updates.length).toBeGreaterThan(0)
    await relay.close()
  })
})

describe('auth', () => {
  const secret = 'test-secret-of-at-least-32-bytes!!'

  it('refuses missing, forged, expired and wrong-room tokens at the upgrade', async () => {
    const relay = await newRelay({ auth: { secret } })
    const good = await createToken({ secret, room: 'r', mode: 'write' })
    const forged = await createToken({ secret: 'another-secret-of-32-bytes-or-so!!', room: 'r', mode: 'write' })
    const expired = await createToken({ secret, room: 'r', mode: 'write', expiresIn: -10 })
    const other = await createToken({ secret, room: 'other', mode: 'write' })
    expect(await upgradeStatus(`${relay.ws}/r`)).toBe(401)
    expect(await upgradeStatus(`${relay.ws}/r?token=${forged}`)).toBe(401)
    expect(await upgradeStatus(`${relay.ws}/r?token=${expired}`)).toBe(401)
    expect(await upgradeStatus(`${relay.ws}/r?token=garbage`)).toBe(401)
    expect(await upgradeStatus(`${relay.ws}/r?token=${other}`)).toBe(403)
    expect(await upgradeStatus(`${relay.ws}/r?token=${good}`)).toBe(101)
    const metrics = await (await fetch(`${relay.url}/metrics`)).text()
    expect(metrics).toMatch(/tidekv_rejected_connections_total\{reason="token-expired"\} 1/)
  })

  it("a read-only client receives updates, cannot write, and a read-only connection's updates reach nobody and are not stored", async () => {
    const dataDir = tempDir()
    const relay = await newRelay({ auth: { secret }, dataDir })
    const writer = await newClient(relay.ws, 'r', { token: await createToken({ secret, room: 'r', mode: 'write' }) })
    const readToken = await createToken({ secret, room: 'r', mode: 'read' })
    const reader = await newClient(relay.ws, 'r', { token: readToken })
    writer.set('k', 1)
    await writer.whenSynced()
    await vi.waitFor(() => expect(reader.get('k')).toBe(1), wait)
    expect(() => reader.set('k', 2)).toThrow(expect.objectContaining({ code: 'READ_ONLY' }))
    // A client that ignores its read-only token (a stock y-websocket client, say) writes anyway:
    const rogue = await newClient(relay.ws, 'r', { token: readToken, sync: { url: relay.ws, readOnly: false } })
    await statusIs(rogue, 'synced')
    rogue.set('k', 'from a read-only token')
    await rogue.flush()
    const watcher = await newClient(relay.ws, 'r', { token: await createToken({ secret, room: 'r', mode: 'read' }) })
    await statusIs(watcher, 'synced')
    writer.set('after', true)
    await writer.whenSynced()
    await vi.waitFor(() => expect(watcher.get('after')).toBe(true), wait)
    expect([writer.get('k'), watcher.get('k')]).toEqual([1, 1])
    await relay.close()
    const again = await newRelay({ auth: { anonymous: 'read' }, dataDir })
    const fresh = await newClient(again.ws, 'r')
    await vi.waitFor(() => expect(fresh.get('after')).toBe(true), wait)
    expect(fresh.get('k')).toBe(1)
  })

  it('a token function is asked again before each reconnection', async () => {
    const relay = await newRelay({ auth: { secret } })
    let calls = 0
    const token = async () => {
      calls++
      return createToken({ secret, room: 'r', mode: 'write', expiresIn: 60 })
    }
    const a = await newClient(relay.ws, 'r', { token })
    await statusIs(a, 'synced')
    expect(calls).toBe(1)
    a.disconnect()
    a.connect()
    await statusIs(a, 'synced')
    expect(calls).toBe(2)
  })

  it('checks the Origin header against the allowlist', async () => {
    const relay = await newRelay({ allowedOrigins: ['https://app.example'] })
    const { default: WebSocket } = await import('ws')
    const status = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${relay.ws}/r`, { headers: { Origin: origin } })
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0))
        ws.on('open', () => {
          resolve(101)
          ws.close()
        })
        ws.on('error', () => undefined)
      })
    expect(await status('https://evil.example')).toBe(403)
    expect(await status('https://app.example')).toBe(101)
  })
})

describe('bad input', () => {
  it('closes only the offending socket, with the right code, and the room keeps syncing', async () => {
    const relay = await newRelay({ limits: { maxMessageBytes: 64 * 1024 } })
    const a = await newClient(relay.ws, 'room')
    const b = await newClient(relay.ws, 'room')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    const frames: [string, Uint8Array, number][] = [
      ['oversize', new Uint8Array(100 * 1024), 1009],
      ['unknown message type', new Uint8Array([42, 0]), 1002],
      ['truncated sync message', new Uint8Array([0, 2, 50, 1, 2]), 1002],
      ['sync step with an unknown kind', new Uint8Array([0, 9, 0]), 1002],
      ['random bytes as an update', new Uint8Array([0, 2, 8, 255, 255, 255, 255, 15, 1, 2, 3]), 1002],
      // A few bytes that claim a huge number of structs (yjs issue 687).
      ['an update claiming millions of structs', new Uint8Array([0, 2, 9, 1, 0xff, 0xff, 0xff, 0x0f, 7, 0, 1, 0]), 1002],
    ]
    for (const [name, frame, code] of frames) {
      const { ws, closed } = await rawSocket(`${relay.ws}/room`)
      ws.send(frame)
      expect(await closed, name).toBe(code)
    }
    a.set('still', 'works')
    await a.whenSynced()
    await vi.waitFor(() => expect(b.get('still')).toBe('works'), wait)
    const health = await fetch(`${relay.url}/healthz`)
    expect(health.status).toBe(200)
  })

  it('an update that builds on structs the room lacks is dropped, and the socket stays open', async () => {
    const relay = await newRelay()
    const { second } = await gappedUpdate()
    const frame = new Uint8Array([0, 2, ...varUint(second.length), ...second])
    const { ws, closed } = await rawSocket(`${relay.ws}/room`)
    let code: number | null = null
    void closed.then((c) => (code = c))
    ws.send(frame)
    await vi.waitFor(async () => expect(await (await fetch(`${relay.url}/metrics`)).text()).toMatch(/reason="update-gap"\} 1/), wait)
    expect(code).toBeNull()
    expect(relay.rooms.get('room')).toMatchObject({ loaded: true, writers: 0, pending: false }) // nothing of it applied, nothing kept pending
    ws.close()
  })

  it('a writer whose live update was dropped for a gap is asked to sync again, once for a burst of drops, and its answer fills the gap; a dropped step 2 is not asked for again', async () => {
    const relay = await newRelay()
    const { second: gapped, whole } = await gappedUpdate()
    // Listening before it opens: the relay's first frame may come in the same packet as the upgrade.
    const ws = new WebSocket(`${relay.ws}/room-gap`)
    let stepOnes = 0
    let awareness = 0
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0 && data[1] === 0) stepOnes++
      if (data[0] === 1) awareness++
    })
    await new Promise((resolve, reject) => ws.on('open', resolve).on('error', reject))
    await vi.waitFor(() => expect(stepOnes).toBe(1), wait) // the one every joining peer gets
    // A dropped step 2 is not asked for again: the answer would be the same step 2.
    ws.send(wireSync(1, gapped))
    ws.send(new Uint8Array([3])) // a presence query: its answer comes after everything the relay sent before
    await vi.waitFor(() => expect(awareness).toBe(1), wait)
    expect(stepOnes).toBe(1)
    ws.send(wireSync(2, gapped))
    ws.send(wireSync(2, gapped))
    await vi.waitFor(() => expect(stepOnes).toBe(2), wait) // asked again
    ws.send(wireSync(1, whole)) // the answer: a sync step 2 of all it has
    await vi.waitFor(() => expect(relay.rooms.get('room-gap')).toMatchObject({ writers: 1, pending: false }), wait)
    ws.send(new Uint8Array([3]))
    await vi.waitFor(() => expect(awareness).toBe(2), wait)
    expect(stepOnes).toBe(2) // once for both drops
    ws.close()
  })

  it('a connection that claims many awareness clients is closed and their states dropped', async () => {
    const relay = await newRelay()
    const encoding = await import('lib0/encoding')
    const update = encoding.createEncoder()
    encoding.writeVarUint(update, 100)
    for (let id = 1; id <= 100; id++) {
      encoding.writeVarUint(update, id)
      encoding.writeVarUint(update, 1)
      encoding.writeVarString(update, JSON.stringify({ name: `fake ${id}` }))
    }
    const frame = encoding.createEncoder()
    encoding.writeVarUint(frame, 1)
    encoding.writeVarUint8Array(frame, encoding.toUint8Array(update))
    const { ws, closed } = await rawSocket(`${relay.ws}/room`)
    ws.send(encoding.toUint8Array(frame))
    expect(await closed).toBe(1002)
    expect(relay.rooms.get('room')?.awarenessStates ?? 0).toBe(0)
  })

  it('a text frame or too many messages close the socket with a policy or protocol code', async () => {
    const relay = await newRelay({ limits: { messagesPerSecond: 10, messageBurst: 20 } })
    const text = await rawSocket(`${relay.ws}/room`)
    text.ws.send('hello')
    expect(await text.closed).toBe(1002)
    const flood = await rawSocket(`${relay.ws}/room`)
    for (let i = 0; i < 100; i++) flood.ws.send(new Uint8Array([3]))
    expect(await flood.closed).toBe(1008)
  })
})

describe('http', () => {
  it('answers /healthz and /metrics, and 404 elsewhere', async () => {
    const relay = await newRelay()
    const health: unknown = await (await fetch(`${relay.url}/healthz`)).json()
    expect(health).toMatchObject({ status: 'ok' })
    const metrics = await (await fetch(`${relay.url}/metrics`)).text()
    expect(metrics).toContain('# TYPE tidekv_connections gauge')
    expect(metrics).toContain('tidekv_storage_write_seconds_count')
    expect((await fetch(`${relay.url}/nothing`)).status).toBe(404)
  })
})

function varUint(n: number): number[] {
  const out: number[] = []
  while (n > 127) {
    out.push((n & 127) | 128)
    n >>>= 7
  }
  out.push(n)
  return out
}

/** Two updates of one client, the second alone (it starts past clock 0: what it builds on never reached the room), and both. */
async function gappedUpdate(): Promise<{ second: Uint8Array; whole: Uint8Array }> {
  const Y = await import('yjs')
  const doc = new Y.Doc()
  doc.getArray('a').push([1])
  const first = Y.encodeStateVector(doc)
  doc.getArray('a').push([2])
  return { second: Y.encodeStateAsUpdate(doc, first), whole: Y.encodeStateAsUpdate(doc) }
}
