/**
 * States larger than a WebSocket message may be: a client's offline state,
 * one large batch, and the room a new client joins all travel in pieces of
 * at most half a MiB (`encodePieces` in core), so no message reaches the
 * relay's `maxMessageBytes` (1 MiB here, to keep the stores small; 16 MiB by
 * default, which a store of a million keys passes five times over).
 */
import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { LOG_NAME, type Store } from '@tidekv/client'
import { newClient, newRelay, onCleanup, statusIs } from '../helpers/relay.js'

const wait = { timeout: 30_000, interval: 20 }
const limits = { maxMessageBytes: 1024 * 1024 }
/** 30,000 keys of ~100 bytes: about 3 MiB of document, three times the message limit. */
const KEYS = 30_000
const valueOf = (i: number) => ({ theme: 'dark', lang: 'fr', n: i, note: 'x'.repeat(40) })

function writeKeys(store: Store, from = 0): void {
  store.batch(() => {
    for (let i = from; i < from + KEYS; i++) store.set(`user:${i}:prefs`, valueOf(i))
  })
}

/** Every status the store goes through from now on. */
function statuses(store: Store): string[] {
  const seen: string[] = []
  store.on('status', (s) => seen.push(s))
  return seen
}

describe('states larger than a message, in pieces', () => {
  it("an offline client's 3 MiB state reaches the relay, and a new client gets the 3 MiB room, with no message over the limit", async () => {
    const relay = await newRelay({ limits })
    const a = await newClient(relay.ws, 'big')
    a.disconnect()
    writeKeys(a)
    await a.flush()
    a.connect()
    await a.whenSynced()
    // The relay closes a socket that sends more than maxMessageBytes (1009), and refuses an update over budget:
    // neither happened, and the relay applied each piece in one go (none needed slicing).
    expect(relay.metrics.rejected).toEqual({})
    expect(relay.metrics.slicedUpdates).toBe(0)
    expect(relay.metrics.bytesReceived).toBeGreaterThan(3 * limits.maxMessageBytes)

    const b = await newClient(relay.ws, 'big')
    const seenByB = statuses(b)
    await statusIs(b, 'synced')
    expect(b.size).toBe(KEYS)
    expect(b.get(`user:${KEYS - 1}:prefs`)).toEqual(valueOf(KEYS - 1))
    expect(b.doc.store.pendingStructs).toBeNull()
    expect(seenByB).not.toContain('offline')
  })

  it('one batch larger than the limit, written while connected, goes in pieces and keeps the connection', async () => {
    const relay = await newRelay({ limits })
    const a = await newClient(relay.ws, 'batch')
    const b = await newClient(relay.ws, 'batch')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    const seenByA = statuses(a)
    writeKeys(a)
    await a.whenSynced()
    await vi.waitFor(() => expect(b.size).toBe(KEYS), wait)
    expect(seenByA).toEqual([]) // never dropped, never reconnected
    expect(relay.metrics.rejected).toEqual({})
    expect(b.get('user:7:prefs')).toEqual(valueOf(7))
  })

  it('a stock y-websocket client joining a large room gets all of it (updates, then the step 2)', async () => {
    const relay = await newRelay({ limits })
    const a = await newClient(relay.ws, 'stock')
    writeKeys(a)
    await a.whenSynced()
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(relay.ws, 'stock', doc, {
      // reason: `ws` implements the WebSocket API y-websocket uses, but not the DOM class's full type.
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    onCleanup(() => provider.destroy())
    await vi.waitFor(() => expect(provider.synced).toBe(true), wait)
    expect(doc.getArray(LOG_NAME).length).toBe(a.doc.getArray(LOG_NAME).length)
    expect(Y.encodeStateVector(doc)).toEqual(Y.encodeStateVector(a.doc))
  })
})
