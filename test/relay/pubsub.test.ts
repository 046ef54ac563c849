/**
 * Pub/sub (Redis PUBLISH / SUBSCRIBE / PSUBSCRIBE): between a store's own
 * subscribers, tabs (stores of one name on one BroadcastChannel) and devices
 * through a real relay; at most once, never stored; read-only and write
 * rules; the relay's bounds; a stock y-websocket client in the room sees none
 * of it.
 */
import { IDBFactory } from 'fake-indexeddb'
import * as encoding from 'lib0/encoding'
import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { type MessageContext, openStore, type Store, type Value } from '@tidekv/client'
import { MessageType, PubSubOp } from '@tidekv/core'
import { createToken } from '@tidekv/relay'
import { memoryRelayBus } from '../../packages/relay/src/bus.js'
import { memoryRelayStorage } from '../../packages/relay/src/memory-storage.js'
import { newClient, newRelay, onCleanup, rawSocket, statusIs, tempDir } from '../helpers/relay.js'

const wait = { timeout: 10_000, interval: 5 }
const secret = 'test-secret-of-at-least-32-bytes!!'

type Heard = [Value, MessageContext]

function listen(store: Store, target: string | { pattern: string }): Heard[] {
  const heard: Heard[] = []
  store.subscribe(target, (message, context) => heard.push([message, context]))
  return heard
}

/** A store in this process acting as a tab: its own IndexedDB, the process's BroadcastChannel. */
async function tab(name: string, options: Parameters<typeof openStore>[1] = {}): Promise<Store> {
  const store = await openStore(name, { indexedDB: new IDBFactory(), tabs: true, ...options })
  onCleanup(() => store.close())
  return store
}

function frame(op: number, ...parts: (string | Uint8Array)[]): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MessageType.PUBSUB)
  encoding.writeVarUint(enc, op)
  for (const part of parts) typeof part === 'string' ? encoding.writeVarString(enc, part) : encoding.writeVarUint8Array(enc, part)
  return encoding.toUint8Array(enc)
}

describe('pub/sub', () => {
  it('reaches subscribers in the page and in other tabs, once each, with no relay', async () => {
    const name = `tabs-${Math.random()}`
    const a = await tab(name)
    const b = await tab(name)
    const inA = listen(a, 'cart')
    const inB = listen(b, 'cart')
    const other = listen(b, 'elsewhere')
    a.publish('cart', { changed: 'item:7' })
    await vi.waitFor(() => expect(inB).toHaveLength(1), wait)
    expect(inA).toEqual([[{ changed: 'item:7' }, { channel: 'cart', origin: 'local' }]])
    expect(inB).toEqual([[{ changed: 'item:7' }, { channel: 'cart', origin: 'tab' }]])
    expect(Object.isFrozen(inB[0]![0])).toBe(true)
    expect(other).toEqual([])
  })

  it('reaches other devices through the relay, by channel and by pattern, and stops on unsubscribe', async () => {
    const relay = await newRelay()
    const a = await newClient(relay.ws, 'room')
    const b = await newClient(relay.ws, 'room')
    const exact = listen(b, 'chat:1')
    const byPattern = listen(b, { pattern: 'chat:*' })
    const heardLater: Heard[] = []
    const stop = b.subscribe('news', (m, c) => heardLater.push([m, c]))
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    a.publish('chat:1', 'hi')
    a.publish('chat:2', 'there')
    a.publish('news', 1)
    await vi.waitFor(() => expect(byPattern).toHaveLength(2), wait)
    expect(exact).toEqual([['hi', { channel: 'chat:1', origin: 'remote' }]])
    expect(byPattern.map(([m, c]) => [m, c.channel])).toEqual([
      ['hi', 'chat:1'],
      ['there', 'chat:2'],
    ])
    await vi.waitFor(() => expect(heardLater).toHaveLength(1), wait)
    stop()
    a.publish('news', 2)
    a.publish('chat:1', 'after')
    await vi.waitFor(() => expect(exact).toHaveLength(2), wait)
    expect(heardLater).toHaveLength(1)
  })

  it('a tab that hears a message through the channel and through its relay connection gets it once', async () => {
    const relay = await newRelay()
    const name = `both-${Math.random()}`
    const a = await tab(name, { sync: { url: relay.ws, WebSocket } })
    const b = await tab(name, { sync: { url: relay.ws, WebSocket } })
    const heard = listen(b, 'ping')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    a.publish('ping', 1)
    a.publish('ping', 2)
    await vi.waitFor(() => expect(heard.map(([m]) => m)).toEqual([1, 2]), wait)
    await new Promise((r) => setTimeout(r, 100))
    expect(heard.map(([m]) => m)).toEqual([1, 2])
  })

  it('subscribes again after a reconnection; messages published meanwhile are not replayed', async () => {
    const relay = await newRelay()
    const a = await newClient(relay.ws, 'room')
    const b = await newClient(relay.ws, 'room')
    const heard = listen(b, 'x')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    b.disconnect()
    a.publish('x', 'missed')
    b.connect()
    await statusIs(b, 'synced')
    await vi.waitFor(async () => {
      a.publish('x', 'after')
      await new Promise((r) => setTimeout(r, 20))
      expect(heard.map(([m]) => m)).toContain('after')
    }, wait)
    expect(heard.map(([m]) => m)).not.toContain('missed')
  })

  it('a read-only store subscribes but cannot publish, even offline; write rules apply to channels', async () => {
    const relay = await newRelay({ auth: { secret } })
    const writer = await newClient(relay.ws, 'room', { token: await createToken({ secret, room: 'room', mode: 'write' }) })
    const reader = await newClient(relay.ws, 'room', { token: await createToken({ secret, room: 'room', mode: 'read' }) })
    const heard = listen(reader, 'news')
    await Promise.all([statusIs(writer, 'synced'), statusIs(reader, 'synced')])
    writer.publish('news', 'read me')
    await vi.waitFor(() => expect(heard).toHaveLength(1), wait)
    reader.disconnect()
    expect(() => reader.publish('news', 'no')).toThrow(expect.objectContaining({ code: 'READ_ONLY' }))
    const ruled = await newClient(relay.ws, 'room', { token: await createToken({ secret, room: 'room', mode: 'write', rules: { write: ['user:42:*'] } }) })
    expect(() => ruled.publish('news', 'no')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }))
    ruled.publish('user:42:typing', true)
  })

  it('checks messages as values: bad channels, bad values and too large ones are refused', async () => {
    const store = await tab(`values-${Math.random()}`, { maxValueBytes: 1024 })
    expect(() => store.publish('', 1)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }))
    // reason: what a JavaScript caller (no type checks) may pass
    const notAValue = undefined as unknown as Value
    expect(() => store.publish('c', notAValue)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => store.publish('c', 'x'.repeat(2000))).toThrow(expect.objectContaining({ code: 'VALUE_TOO_LARGE' }))
    expect(() => store.subscribe({ pattern: 'p'.repeat(300) }, () => undefined)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }))
    await store.close()
    expect(() => store.publish('c', 1)).toThrow(expect.objectContaining({ code: 'CLOSED' }))
  })

  it('stores nothing: after a relay restart the room is empty', async () => {
    const dataDir = tempDir()
    let relay = await newRelay({ dataDir })
    const a = await newClient(relay.ws, 'room')
    const b = await newClient(relay.ws, 'room')
    const heard = listen(b, 'c')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    a.publish('c', { big: 'x'.repeat(1000) })
    await vi.waitFor(() => expect(heard).toHaveLength(1), wait)
    await relay.close()
    relay = await newRelay({ dataDir })
    const late = await newClient(relay.ws, 'room')
    const lateHeard = listen(late, 'c')
    await statusIs(late, 'synced')
    expect(late.keys()).toEqual([])
    expect(Y.encodeStateVector(late.doc)).toEqual(Y.encodeStateVector(new Y.Doc()))
    expect(lateHeard).toEqual([])
  })

  it('crosses relays that share the room', async () => {
    const storage = memoryRelayStorage()
    const bus = memoryRelayBus()
    const first = await newRelay({ storage, bus })
    const second = await newRelay({ storage, bus })
    const a = await newClient(first.ws, 'shared')
    const b = await newClient(second.ws, 'shared')
    const heard = listen(b, { pattern: '*' })
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    a.publish('hello', 'from the first relay')
    await vi.waitFor(() => expect(heard).toEqual([['from the first relay', { channel: 'hello', origin: 'remote' }]]), wait)
  })

  it('leaves a stock y-websocket client undisturbed: it gets no pub/sub frame and keeps syncing', async () => {
    const relay = await newRelay()
    const doc = new Y.Doc()
    // reason: `ws` implements the WebSocket API y-websocket uses, not the DOM class's full type
    const provider = new WebsocketProvider(relay.ws, 'room', doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true })
    onCleanup(() => provider.destroy())
    const types: number[] = []
    provider.on('status', ({ status }: { status: string }) => {
      // reason: y-websocket sets binaryType 'arraybuffer'
      if (status === 'connected') provider.ws?.addEventListener('message', (e: MessageEvent) => types.push(new Uint8Array(e.data as ArrayBuffer)[0]!))
    })
    const a = await newClient(relay.ws, 'room')
    const b = await newClient(relay.ws, 'room')
    const heard = listen(b, 'c')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    a.publish('c', 1)
    a.set('k', 'v')
    await vi.waitFor(() => expect(heard).toHaveLength(1), wait)
    await a.whenSynced()
    await vi.waitFor(() => expect(doc.getArray('tidekv').length).toBe(1), wait)
    expect(types).not.toContain(MessageType.PUBSUB)
  })

  it('the relay refuses what a peer may not do, and what it cannot bound, closing only that socket', async () => {
    const relay = await newRelay({ auth: { secret } })
    const url = async (mode: 'read' | 'write', rules?: string[]) =>
      `${relay.ws}/room?token=${await createToken({ secret, room: 'room', mode, ...(rules === undefined ? {} : { rules: { write: rules } }) })}`
    const id = new Uint8Array(16)
    const value = new Uint8Array([119, 1, 0x61]) // the string "a"
    const closeOf = async (target: string, frames: Uint8Array[]) => {
      const { ws, closed } = await rawSocket(target)
      for (const f of frames) ws.send(f)
      return closed
    }
    expect(await closeOf(await url('read'), [frame(PubSubOp.PUBLISH, 'c', id, value)])).toBe(4403)
    expect(await closeOf(await url('write', ['a:*']), [frame(PubSubOp.PUBLISH, 'c', id, value)])).toBe(4403)
    expect(await closeOf(await url('write'), [frame(PubSubOp.SUBSCRIBE, 'x'.repeat(2000))])).toBe(1002)
    expect(await closeOf(await url('write'), [frame(PubSubOp.PUBLISH, 'c', new Uint8Array(0), value)])).toBe(1002)
    expect(await closeOf(await url('write'), [frame(9, 'c')])).toBe(1002)
    expect(
      await closeOf(
        await url('write'),
        Array.from({ length: 65 }, (_, i) => frame(PubSubOp.PSUBSCRIBE, `p${i}:*`)),
      ),
    ).toBe(1008)
    // The room goes on for everyone else.
    const a = await newClient(relay.ws, 'room', { token: await createToken({ secret, room: 'room', mode: 'write' }) })
    const b = await newClient(relay.ws, 'room', { token: await createToken({ secret, room: 'room', mode: 'read' }) })
    const heard = listen(b, 'c')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    a.publish('c', 'still here')
    await vi.waitFor(() => expect(heard).toHaveLength(1), wait)
  })
})
