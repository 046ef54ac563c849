/**
 * The relay server: HTTP (health, metrics, static files) and WebSocket rooms
 * on one port. Upgrades are checked (origin, token, connection limits) before
 * a WebSocket exists; rooms load lazily and unload when idle.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { CloseCode, QueryParam, TideKVError, type WriteRules } from '@tidekv/core'
import { WebSocketServer } from 'ws'
import { type AccessMode, checkToken, type TokenRefusal } from './auth.js'
import { Connection } from './connection.js'
import { Metrics, type RelayMetrics } from './metrics.js'
import { type RelayOptions, resolveRelayOptions } from './relay-options.js'
import { Room, type RoomInfo } from './room.js'
import { RoomStore } from './room-store.js'
import { describeKey, handleApi, type HttpApiOptions } from './http-api.js'
import { type WebhookChange, Webhooks } from './webhooks.js'
import { LATE, within } from './within.js'
import { serveStatic } from './static-files.js'
import { sqliteRelayStorage } from './sqlite-storage.js'
import { connectRedis } from './redis-backend.js'

export interface Relay {
  /** The port it listens on. */
  readonly port: number
  readonly url: string
  /** Its counts now, frozen (storage latency and process metrics: `GET /metrics`). Read it again for fresh ones. */
  readonly metrics: RelayMetrics
  /** The rooms loaded now, by name, each a frozen snapshot. Read it again for fresh ones. */
  readonly rooms: ReadonlyMap<string, RoomInfo>
  /**
   * A store on the relay's copy of `room` (loaded if it is not), with the
   * client's API (`get`, `set`, `keys`, `incr`, data structures, `watch`,
   * `close`) and no socket: for backend code running in the relay's
   * process, as Hocuspocus' `openDirectConnection`. Its writes reach the
   * room's clients and storage as a client's do; `whenStored()` waits for
   * storage. It holds the room loaded until closed. Each store is a replica
   * of its own (its own Yjs client id): keep one open rather than opening one
   * per call.
   * @throws TideKVError `INVALID_KEY` for a bad room name, `CLOSED` once the relay is closing
   * @example
   * import { createRelay, memoryRelayStorage } from '@tidekv/relay'
   * const relay = await createRelay({ port: 0, auth: { secret }, storage: memoryRelayStorage() })
   * const team = await relay.openRoom('team:7')
   * team.set('announcement', 'Deploy at 5')
   * await team.whenStored()
   * await team.close()
   */
  openRoom(room: string): Promise<RoomStore>
  /** Stops accepting, closes sockets with 1001, stores everything, closes storage (unless shared with other relays through a bus). */
  close(): Promise<void>
}

const MAX_ROOM_BYTES = 512
/** How long `openRoom` waits for the room's state to reach its replica. */
const OPEN_ROOM_TIMEOUT_MS = 30_000

/**
 * Starts a relay.
 * @throws TideKVError INVALID_VALUE for a bad option, naming it (before anything is opened)
 * @example
 * import { createRelay } from '@tidekv/relay'
 * const relay = await createRelay({ port: 0, auth: { secret } }) // port 0: a free one; rooms in ./.tidekv-data
 * console.log(`listening on ${relay.url}`)
 */
export async function createRelay(options: RelayOptions): Promise<Relay> {
  const config = resolveRelayOptions(options)
  const { secret, anonymous, limits, budget, onError } = config
  const redisEvents = { errors: 0, reconnects: 0 }
  const redis =
    config.redis === undefined
      ? undefined
      : await connectRedis(config.redis, {
          onError: (e) => {
            redisEvents.errors++
            onError(e)
          },
          onReconnecting: () => redisEvents.reconnects++,
          onCommand: (op, seconds) => metrics.redisCommand(op, seconds),
        })
  const storage = redis?.storage ?? config.storage ?? sqliteRelayStorage({ path: `${config.dataDir}/relay.sqlite3` })
  const sharedBus = redis?.bus ?? config.bus
  /** Releases what this relay opened: its SQLite file, or its Redis connections; a storage shared through a given bus is the caller's. */
  const release = async (): Promise<void> => {
    if (redis !== undefined) await redis.close()
    else if (config.bus === undefined) await storage.close()
  }
  const rooms = new Map<string, Room>()
  const unloading = new Map<string, Promise<void>>()
  const idleTimers = new Map<string, ReturnType<typeof setTimeout>>()
  const connections = new Set<Connection>()
  const roomStores = new Set<RoomStore>()
  let apiInFlight = 0
  /** The HTTP API's replica of each room it serves, closed once unused for `idleRoomMs`. */
  const apiStores = new Map<string, { store: Promise<RoomStore>; users: number; idle: ReturnType<typeof setTimeout> | null }>()
  const metrics = new Metrics({
    connections: () => connections.size,
    roomsLoaded: () => rooms.size,
    ...(redis === undefined ? {} : { redis: { up: () => (redis.isUp() ? 1 : 0), errors: () => redisEvents.errors, reconnects: () => redisEvents.reconnects } }),
  })
  // Redis down: clients are told to come back later (1013) rather than write what cannot be stored.
  redis?.onChange((up) => {
    if (up) return
    for (const c of [...connections]) c.close(CloseCode.TRY_AGAIN_LATER, 'storage unavailable')
  })
  let closing = false

  const bus = sharedBus === undefined ? undefined : { bus: sharedBus, relayId: randomUUID() }
  if (config.webhooks.length > 0) mkdirSync(config.dataDir, { recursive: true })
  const webhooks =
    config.webhooks.length === 0
      ? undefined
      : new Webhooks(config.webhooks, {
          // The outbox sits beside the rooms' SQLite file, whatever storage the rooms use.
          path: `${config.dataDir}/webhooks.sqlite3`,
          describe: (room, keys) => describeKeys(room, keys),
          count: (event, n) => metrics.webhook(event, n),
          onError: (e, room) => onError(e, room),
        })
  const ctx = { storage, bus, metrics, limits, budget, webhooks, onError: (e: unknown, room: string) => onError(e, room) }
  // The bus lost messages (its connection dropped): every loaded room reads what it missed.
  const stopGaps = sharedBus?.onGap(() => {
    for (const room of rooms.values()) void room.ready.then(() => room.catchUp()).catch(() => undefined)
  })

  async function roomFor(name: string): Promise<Room> {
    const timer = idleTimers.get(name)
    if (timer !== undefined) {
      clearTimeout(timer)
      idleTimers.delete(name)
    }
    // A room being unloaded is stored first, then loaded afresh.
    await unloading.get(name)
    let room = rooms.get(name)
    if (room === undefined) {
      room = new Room(name, ctx)
      rooms.set(name, room)
      room.ready.catch((e) => {
        onError(e, name)
        if (rooms.get(name) === room) rooms.delete(name)
      })
    }
    return room
  }

  function onConnectionClosed(connection: Connection): void {
    connections.delete(connection)
    unloadWhenIdle(connection.room)
  }

  /** Unloads a room once it has had no connection for `idleRoomMs`. */
  function unloadWhenIdle(room: Room): void {
    if (room.peers.size > 0 || closing || idleTimers.has(room.name)) return
    idleTimers.set(
      room.name,
      setTimeout(() => {
        idleTimers.delete(room.name)
        if (room.peers.size > 0 || rooms.get(room.name) !== room) return
        rooms.delete(room.name)
        const done = room.unload().finally(() => unloading.delete(room.name))
        unloading.set(room.name, done)
      }, limits.idleRoomMs).unref(),
    )
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false })

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (status: number, text: string, reason: string) => {
      metrics.reject(reason)
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`)
    }
    if (closing) return refuse(503, 'Service Unavailable', 'shutting-down')
    if (redis !== undefined && !redis.isUp()) return refuse(503, 'Service Unavailable', 'redis-down')
    // What ws checks before it accepts a handshake, checked before a room is loaded for it: an
    // upgrade that ws then refuses would leave a loaded room that no connection ever unloads.
    if (!isWebSocketHandshake(req)) return refuse(400, 'Bad Request', 'bad-handshake')
    const url = new URL(req.url ?? '/', 'http://relay')
    let name: string
    try {
      name = decodeURIComponent(url.pathname.slice(1))
    } catch {
      return refuse(400, 'Bad Request', 'bad-room')
    }
    if (!isRoomName(name)) return refuse(400, 'Bad Request', 'bad-room')
    const origin = req.headers.origin
    if (config.allowedOrigins !== undefined && origin !== undefined && !config.allowedOrigins.includes(origin)) {
      return refuse(403, 'Forbidden', 'origin')
    }
    const token = url.searchParams.get(QueryParam.TOKEN)
    let mode: AccessMode
    let subject = ''
    let expiresAt: number | undefined
    let rules: WriteRules | null = null
    if (token === null && anonymous !== 'none') {
      mode = anonymous
    } else if (secret === undefined) {
      return refuse(401, 'Unauthorized', 'token-invalid')
    } else {
      const check = await checkToken(token, name, secret)
      if (!check.ok) return refuse(check.reason === 'wrong-room' ? 403 : 401, check.reason === 'wrong-room' ? 'Forbidden' : 'Unauthorized', tokenReason(check.reason))
      mode = check.mode
      subject = check.subject
      expiresAt = check.expiresAt
      rules = check.rules
    }
    if (connections.size >= limits.maxConnections) return refuse(503, 'Service Unavailable', 'too-many-connections')
    const loaded = rooms.get(name)
    if (loaded !== undefined && loaded.peers.size >= limits.maxConnectionsPerRoom) return refuse(503, 'Service Unavailable', 'room-full')
    const room = await roomFor(name)
    let upgraded = false
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true
      if (closing) {
        ws.close(CloseCode.GOING_AWAY, 'shutting down')
        return
      }
      const acks = url.searchParams.get(QueryParam.ACKS) === '1'
      const connection = new Connection({ ws, room, mode, subject, rules, acks, limits, metrics, expiresAt, onClose: onConnectionClosed })
      connections.add(connection)
    })
    // ws refused the handshake after all (it answers the socket itself): the room must not stay loaded for nobody.
    if (!upgraded) unloadWhenIdle(room)
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://relay').pathname
    if (path === '/healthz') {
      const status = closing ? 'closing' : redis !== undefined && !redis.isUp() ? 'redis-down' : 'ok'
      const body = JSON.stringify({ status, rooms: rooms.size, connections: connections.size })
      res.writeHead(status === 'ok' ? 200 : 503, { 'Content-Type': 'application/json' }).end(body)
      return
    }
    if (path === '/metrics') {
      const text = await metrics.render()
      res.writeHead(200, { 'Content-Type': metrics.contentType }).end(text)
      return
    }
    if (path.startsWith('/v1/')) {
      // Requests of the HTTP API in progress count like connections: each may hold a room replica and a write awaiting storage.
      if (apiInFlight + connections.size >= limits.maxConnections) {
        metrics.reject('too-many-connections')
        res
          .writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' })
          .end(JSON.stringify({ code: 'BUSY', message: 'too many connections and requests: try again later' }))
        return
      }
      apiInFlight++
      try {
        await handleApi(req, res, api)
      } finally {
        apiInFlight--
      }
      return
    }
    if (config.static !== undefined && (await serveStatic(config.static, req, res))) return
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found')
  }

  const api: HttpApiOptions = {
    secret,
    anonymous,
    allowedOrigins: config.allowedOrigins,
    maxBodyBytes: limits.maxMessageBytes,
    reject: (reason) => metrics.reject(reason),
    roomStore: (name) => {
      let held = apiStores.get(name)
      if (held === undefined) {
        held = { store: openRoom(name), users: 0, idle: null }
        const opened = held
        apiStores.set(name, opened)
        opened.store.catch(() => apiStores.get(name) === opened && apiStores.delete(name))
      }
      if (held.idle !== null) clearTimeout(held.idle)
      held.idle = null
      held.users++
      return held.store
    },
    release: (name) => {
      const held = apiStores.get(name)
      if (held === undefined || --held.users > 0) return
      held.idle = setTimeout(() => {
        if (apiStores.get(name) !== held || held.users > 0) return
        apiStores.delete(name)
        void held.store.then((store) => store.close()).catch((e) => onError(e, name))
      }, limits.idleRoomMs).unref()
    },
  }

  /** What `keys` of `room` hold now, for a webhook (through the API's replica of the room). */
  async function describeKeys(room: string, keys: readonly string[]): Promise<WebhookChange[]> {
    const store = await api.roomStore(room)
    try {
      return keys.map((key) => {
        const found = describeKey(store, key)
        return found === undefined ? { key, type: 'none', deleted: true } : { key, type: found.type, value: found.value }
      })
    } finally {
      api.release(room)
    }
  }

  async function openRoom(name: string): Promise<RoomStore> {
    if (closing) throw new TideKVError('CLOSED', 'The relay is closing')
    if (!isRoomName(name)) throw new TideKVError('INVALID_KEY', `A room name is 1 to ${MAX_ROOM_BYTES} bytes of UTF-8 without U+0000`)
    const room = await roomFor(name)
    await room.ready
    if (closing) throw new TideKVError('CLOSED', 'The relay is closing')
    const store = new RoomStore(room, () => {
      roomStores.delete(store)
      unloadWhenIdle(room)
    })
    roomStores.add(store)
    const outcome = await within(store.synced, OPEN_ROOM_TIMEOUT_MS)
    if (outcome === LATE || closing) {
      await store.close()
      throw new TideKVError(closing ? 'CLOSED' : 'STORAGE_FAILED', closing ? 'The relay is closing' : `Room ${name} did not answer in time`)
    }
    return store
  }

  const server: Server = createServer((req, res) => {
    onRequest(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end()
    })
  })
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    onUpgrade(req, socket, head).catch((e) => {
      onError(e)
      socket.destroy()
    })
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    // Not listening (the port is taken, say): nothing will call close(), so release here.
    metrics.close()
    await webhooks?.close()
    await release().catch(() => undefined)
    throw error
  }
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const host = config.host

  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    get metrics() {
      return metrics.snapshot()
    },
    get rooms() {
      return new Map([...rooms].map(([name, room]) => [name, room.info()]))
    },
    openRoom,
    async close() {
      if (closing) return
      closing = true
      stopGaps?.()
      metrics.close()
      // No more webhook POSTs (those on their way are aborted), but the outbox still records the changes the
      // rooms accept until they are unloaded: the next run sends them.
      webhooks?.stop()
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const c of [...connections]) c.close(CloseCode.GOING_AWAY, 'relay shutting down')
      for (const held of apiStores.values()) if (held.idle !== null) clearTimeout(held.idle)
      apiStores.clear()
      await Promise.all([...roomStores].map((store) => store.close()))
      for (const timer of idleTimers.values()) clearTimeout(timer)
      idleTimers.clear()
      await Promise.all([...unloading.values()])
      await Promise.all([...rooms.values()].map((room) => room.unload().catch((e) => onError(e, room.name))))
      rooms.clear()
      await webhooks?.close()
      wss.close()
      server.closeAllConnections?.()
      await serverClosed
      await release()
    },
  }
}

/** The handshake checks of ws 8 (`WebSocketServer#handleUpgrade`), so that ws will not refuse an upgrade the relay let through. */
function isWebSocketHandshake(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key']
  const version = req.headers['sec-websocket-version']
  return (
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key) &&
    (version === '8' || version === '13')
  )
}

/** U+0000 is reserved: a room's client-id owners are stored under `<room>` U+0000 `owners`. */
function isRoomName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && Buffer.byteLength(name) <= MAX_ROOM_BYTES && !name.includes('\u0000')
}

function tokenReason(reason: TokenRefusal): string {
  return `token-${reason}`
}
