/**
 * The client side of `npm run bench:relay`: plain y-websocket providers, the
 * same code against the TideKV relay and the stock server.
 *
 * - No BroadcastChannel (`disableBc`), the `ws` package as the WebSocket.
 * - Awareness state null: no awareness message on connect and none every
 *   15 s. Otherwise each of N readers in a room announces itself to the N-1
 *   others (N² messages per room at set-up) and renews that every 15 s,
 *   which would land in the middle of the timed runs.
 * - y-websocket closes a connection that received nothing for 30 s (and
 *   reconnects). Idle readers are exactly that, so `keepQuiet` marks them
 *   as recently heard from; reconnections are counted to be sure.
 */
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as Y from 'yjs'

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes of one machine. */
export const absNow = (): number => performance.timeOrigin + performance.now()

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export interface BenchProvider {
  provider: WebsocketProvider
  doc: Y.Doc
  /** Times it lost its connection. */
  disconnects: number
}

const open = new Set<BenchProvider>()

// Keeps the "nothing received for 30 s" watchdog of idle providers quiet.
setInterval(() => {
  const t = Date.now()
  for (const p of open) if (p.provider.wsconnected) p.provider.wsLastMessageReceived = t
}, 5_000).unref()

// One exit listener per provider: hundreds per process here.
process.setMaxListeners(0)

/** A provider on `room`, connecting now. */
export function openProvider(url: string, room: string, doc: Y.Doc = new Y.Doc()): BenchProvider {
  const provider = new WebsocketProvider(url, room, doc, {
    connect: false,
    disableBc: true,
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, // reason: ws's class has the WebSocket API y-websocket uses; its types are not the DOM's
    maxBackoffTime: 1_000,
  })
  provider.awareness.setLocalState(null)
  const p: BenchProvider = { provider, doc, disconnects: 0 }
  provider.on('status', ({ status }) => {
    if (status === 'disconnected') p.disconnects++
  })
  open.add(p)
  provider.connect()
  return p
}

/** Resolves once the provider has synced with the server. */
export function whenSynced(p: BenchProvider, timeoutMs = 30_000): Promise<void> {
  if (p.provider.synced) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.provider.off('sync', onSync)
      reject(new Error(`provider for ${p.provider.roomname} not synced after ${timeoutMs} ms`))
    }, timeoutMs)
    const onSync = (synced: boolean) => {
      if (!synced) return
      clearTimeout(timer)
      p.provider.off('sync', onSync)
      resolve()
    }
    p.provider.on('sync', onSync)
  })
}

/** Opens providers in batches of `batch` (each batch synced before the next), so set-up is not a connection storm. */
export async function openMany(url: string, rooms: readonly string[], batch = 50, timeoutMs = 30_000): Promise<BenchProvider[]> {
  const out: BenchProvider[] = []
  for (let i = 0; i < rooms.length; i += batch) {
    const some = rooms.slice(i, i + batch).map((room) => openProvider(url, room))
    await Promise.all(some.map((p) => whenSynced(p, timeoutMs)))
    out.push(...some)
  }
  return out
}

/** Disconnects and destroys a provider (and its document). */
export function closeProvider(p: BenchProvider): void {
  open.delete(p)
  p.provider.destroy()
  p.doc.destroy()
}
