/**
 * Wire compatibility with stock Yjs tools, both ways: a stock y-websocket
 * client (`WebsocketProvider` on a plain Y.Doc) in a room of the TideKV
 * relay, beside a TideKV client; and TideKV clients syncing through the stock
 * y-websocket server (`@y/websocket-server`). The document layout the two
 * sides share is docs/PROTOCOL.md's.
 */
import { createServer } from 'node:http'
import * as decoding from 'lib0/decoding'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { docs, setupWSConnection } from '@y/websocket-server/utils'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { FORMAT_VERSION, LOG_NAME, openStore, type Store, type TideKVError } from '@tidekv/client'
import { newClient, newRelay, onCleanup, statusIs } from '../helpers/relay.js'

const wait = { timeout: 10_000, interval: 5 }

/** A stock y-websocket client: a plain Y.Doc, no TideKV code, no `acks=1`. */
function stockClient(url: string, room: string): { doc: Y.Doc; provider: WebsocketProvider; synced: Promise<void> } {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    // reason: `ws` implements the WebSocket API y-websocket uses, but not the DOM class's full type.
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  })
  onCleanup(() => {
    provider.destroy()
    doc.destroy()
  })
  const synced = new Promise<void>((resolve) => {
    const onSync = (isSynced: boolean) => {
      if (!isSynced) return
      provider.off('sync', onSync)
      resolve()
    }
    provider.on('sync', onSync)
  })
  return { doc, provider, synced }
}

/** A memory-only TideKV store that reads whatever document state it is given. */
async function reader(): Promise<Store> {
  const store = await openStore('reader', { persist: false, tabs: false })
  onCleanup(() => store.close())
  return store
}

/** Reads `doc` (any Y.Doc) as a TideKV keyspace: applies its state to a fresh memory store. */
async function readAsTideKV(doc: Y.Doc): Promise<Store> {
  const store = await reader()
  Y.applyUpdate(store.doc, Y.encodeStateAsUpdate(doc))
  return store
}

/** The keys of the live entries of a document, decoded by hand from PROTOCOL.md's layout (sorted, repeated per entry). */
function entryKeys(doc: Y.Doc): string[] {
  return doc
    .getArray<Uint8Array>(LOG_NAME)
    .toArray()
    .map((bytes) => {
      expect(bytes).toBeInstanceOf(Uint8Array)
      const decoder = decoding.createDecoder(bytes)
      const header = decoding.readUint8(decoder)
      expect(header >> 4, 'format version').toBe(FORMAT_VERSION)
      return decoding.readVarString(decoder)
    })
    .sort()
}

function errorsOf(store: Store): TideKVError[] {
  const errors: TideKVError[] = []
  store.on('error', (e) => errors.push(e))
  return errors
}

describe('a stock y-websocket client in a room of the TideKV relay', () => {
  it('sees TideKV writes in the documented layout, and its own writes reach the TideKV client', async () => {
    const consoleErrors = vi.spyOn(console, 'error')
    onCleanup(() => consoleErrors.mockRestore())
    const relay = await newRelay()
    const tide = await newClient(relay.ws, 'room')
    const errors = errorsOf(tide)
    await statusIs(tide, 'synced')
    tide.set('before', { joined: false })
    await tide.whenSynced()

    const stock = stockClient(relay.ws, 'room')
    await stock.synced
    tide.set('theme', 'dark', { ttl: 60_000 })
    tide.set('gone', 1)
    tide.incr('visits', 2)
    tide.set('bytes', new Uint8Array([1, 2, 3]))
    await tide.whenSynced()
    tide.delete('gone')
    await tide.whenSynced()
    await vi.waitFor(() => expect(entryKeys(stock.doc)).toEqual(['before', 'bytes', 'theme', 'visits']), wait)
    const seen = await readAsTideKV(stock.doc)
    expect(seen.entries()).toEqual(tide.entries())
    expect(seen.ttl('theme')).toBeGreaterThan(0)

    // The stock client's own writes: a root type TideKV does not read, and a TideKV
    // entry made elsewhere (by a local store) and carried over as a plain Yjs update.
    stock.doc.getMap<string>('notes').set('hello', 'from a stock client')
    const author = await openStore('author', { persist: false, tabs: false })
    onCleanup(() => author.close())
    author.set('from-stock', { via: 'y-websocket' })
    author.incr('visits', 10)
    await author.flush()
    Y.applyUpdate(stock.doc, Y.encodeStateAsUpdate(author.doc))
    await vi.waitFor(() => expect(tide.doc.getMap<string>('notes').get('hello')).toBe('from a stock client'), wait)
    await vi.waitFor(() => expect(tide.get('from-stock')).toEqual({ via: 'y-websocket' }), wait)
    // Concurrent increments from two replicas both count.
    expect(tide.get('visits')).toBe(12)
    expect(tide.keys()).toEqual(['before', 'bytes', 'from-stock', 'theme', 'visits'])

    // A new TideKV device gets all of it from the relay's storage.
    const fresh = await newClient(relay.ws, 'room')
    await vi.waitFor(() => expect(fresh.entries()).toEqual(tide.entries()), wait)
    expect(fresh.doc.getMap<string>('notes').get('hello')).toBe('from a stock client')

    // The relay sent the stock client nothing it does not know (no PERSISTED), and nobody errored.
    expect(stock.provider.wsconnected).toBe(true)
    expect(consoleErrors.mock.calls.flat().map(String)).not.toContain('Unable to compute message')
    expect(errors).toEqual([])
  })
})

/**
 * The stock y-websocket server on 127.0.0.1 port 0. Its rooms live in the
 * module-level `docs` map and stay there without persistence: each test uses
 * its own room names, and the cleanup destroys the rooms it opened.
 */
async function stockServer(): Promise<{ ws: string; docOf: (room: string) => Y.Doc | undefined }> {
  // Registered first, so it runs last: once the server below is closed and its rooms destroyed.
  onCleanup(() => expect([...docs.keys()], 'rooms left in the stock server').toEqual([]))
  const server = createServer((_req, res) => res.writeHead(404).end())
  const wss = new WebSocketServer({ server })
  const rooms = new Set<string>()
  wss.on('connection', (conn, req) => {
    const room = (req.url ?? '').slice(1).split('?')[0]!
    rooms.add(room)
    setupWSConnection(conn, req, { docName: room })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onCleanup(async () => {
    for (const client of wss.clients) client.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
    for (const room of rooms) {
      docs.get(room)?.destroy()
      docs.delete(room)
    }
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { ws: `ws://127.0.0.1:${address.port}`, docOf: (room) => docs.get(room) }
}

describe('TideKV clients through the stock y-websocket server', () => {
  beforeEach(() => {
    expect([...docs.keys()], 'rooms left in the stock server').toEqual([])
  })

  // The stock server sends no PERSISTED acknowledgements, so `whenSynced()` would
  // never resolve here: these tests wait on the values themselves (vi.waitFor).
  it('converge: sets, concurrent increments, TTLs and deletes', async () => {
    const stock = await stockServer()
    const a = await newClient(stock.ws, 'converge')
    const b = await newClient(stock.ws, 'converge')
    const errors = [...errorsOf(a), ...errorsOf(b)]
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    a.set('theme', 'dark')
    b.set('lang', 'fr', { ttl: 60_000 })
    b.set('gone', true)
    a.incr('visits', 3)
    b.incr('visits', 4)
    await vi.waitFor(() => expect([a.get('visits'), b.get('visits'), a.get('gone')]).toEqual([7, 7, true]), wait)
    a.delete('gone')
    const expected = [
      ['lang', 'fr'],
      ['theme', 'dark'],
      ['visits', 7],
    ]
    await vi.waitFor(() => expect([a.entries(), b.entries()]).toEqual([expected, expected]), wait)
    expect(a.ttl('lang')).toBeGreaterThan(0)
    // The server's own copy is a plain Yjs document in the documented layout.
    await vi.waitFor(() => expect(entryKeys(stock.docOf('converge')!)).toEqual(['lang', 'theme', 'visits', 'visits']), wait)
    // A new device gets everything from the server alone.
    const c = await newClient(stock.ws, 'converge')
    await vi.waitFor(() => expect(c.entries()).toEqual(expected), wait)
    expect(errors).toEqual([])
  })

  it("an offline client's writes merge when it reconnects; rooms stay apart", async () => {
    const stock = await stockServer()
    // Last writer wins by time: a clock the test moves, so that "later" is not left to the millisecond.
    let now = Date.now()
    const clock = () => now
    const a = await newClient(stock.ws, 'offline', { clock })
    const b = await newClient(stock.ws, 'offline', { clock })
    const other = await newClient(stock.ws, 'offline-other-room')
    await Promise.all([a, b, other].map((s) => statusIs(s, 'synced')))
    a.set('shared', 0)
    await vi.waitFor(() => expect(b.get('shared')).toBe(0), wait)
    a.disconnect()
    a.set('shared', 1) // older than b's write below
    a.incr('n', 1)
    a.set('only-a', true)
    await a.flush()
    now += 1000
    b.set('shared', 2)
    b.incr('n', 10)
    b.delete('only-a') // not seen by b: a's write survives (add-wins)
    await vi.waitFor(() => expect(b.get('n')).toBe(10), wait)
    a.connect()
    const expected = [
      ['n', 11],
      ['only-a', true],
      ['shared', 2],
    ]
    await vi.waitFor(() => expect([a.entries(), b.entries()]).toEqual([expected, expected]), wait)
    expect(other.entries()).toEqual([])
  })
})
