/**
 * Network sync: y-websocket's `WebsocketProvider` on the store's document
 * (reconnect with backoff, y-protocols sync and awareness), wrapped so the
 * app sees one status and can wait for the relay's durable acknowledgement.
 *
 * Loaded with a dynamic `import()` only when a store is opened with `sync`,
 * so an app that never syncs does not ship this code or y-websocket.
 *
 * Acknowledgements: the client connects with `acks=1` and asks with a
 * PERSISTED message carrying a request id; the relay answers, once every
 * update received before the question is stored, with the state vector of
 * what it has stored and the id. `whenSynced` resolves when the answer to a
 * question asked after its writes covers this replica's clock: the id is what
 * makes a delete count (a delete adds no item, so the clock alone would not
 * tell it was stored). Stock y-websocket servers never answer.
 *
 * States and transactions larger than half a MiB go in pieces (update-pieces.ts).
 */
import { CloseCode, MessageType, QueryParam, readSafeVarUint, TideKVError } from '@tidekv/core/wire'
import { relayUrls } from './sync-url.js'
import { sendInPieces } from './update-pieces.js'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ObservableV2 } from 'lib0/observable'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

/** The connection as the app sees it. 'local': no sync configured. */
export type SyncStatus = 'local' | 'offline' | 'connecting' | 'syncing' | 'synced'

export interface SyncOptions {
  /**
   * The relay, e.g. 'wss://relay.example.com', or several relays that share
   * rooms (through Redis): when a connection drops, the next one is tried,
   * in turn, with the usual backoff.
   */
  url: string | readonly string[]
  /** The room; default: the store's name. */
  room?: string
  /** A token, or a function asked for a fresh one before each (re)connection. */
  token?: string | (() => string | Promise<string>)
  /** The WebSocket class: required in Node (pass `ws`'s), default the browser's. */
  WebSocket?: unknown
  /** Longest wait between reconnection attempts, ms. Default 2,500. */
  maxBackoffMs?: number
}

/** What a `SyncLink` is made of. */
export interface SyncLinkOptions {
  /** The store's document. */
  doc: Y.Doc
  /** The relay room. */
  room: string
  options: SyncOptions
  /** The client id the store writes with (it may change once the stored document has loaded). */
  clientId: () => number
  onError: (error: TideKVError) => void
  /** A token function's first token, fetched while the store opened: used for the first connection. */
  firstToken?: string | undefined
  /** Called with each token a token function returns (its claims may change the store's rules). */
  onToken?: (token: string) => void
}

interface Waiter {
  clock: number
  id: number
  resolve: () => void
}

export class SyncLink {
  readonly provider: WebsocketProvider
  readonly #events = new ObservableV2<{ status: (status: SyncStatus) => void; relay: (url: string | null) => void }>()
  /** The relays to try, in turn (ws:// or wss://). */
  readonly #urls: readonly string[]
  #urlIndex = 0
  #relay: string | null = null
  #current: SyncStatus = 'offline'
  /** This replica's clock as far as the relay has stored it. */
  #acked = 0
  #waiters: Waiter[] = []
  #lastId = 0
  #answered = 0
  #wanted = false
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null
  #destroyed = false

  readonly #doc: Y.Doc
  readonly #options: SyncOptions
  readonly #clientId: () => number
  readonly #onError: (error: TideKVError) => void
  #firstToken: string | undefined
  readonly #onToken: (token: string) => void

  constructor({ doc, room, options, clientId, onError, firstToken, onToken }: SyncLinkOptions) {
    this.#doc = doc
    this.#options = options
    this.#clientId = clientId
    this.#onError = onError
    this.#firstToken = firstToken
    this.#onToken = onToken ?? (() => undefined)
    this.#urls = relayUrls(options.url)
    const params: Record<string, string> = { [QueryParam.ACKS]: '1' }
    if (typeof options.token === 'string') params[QueryParam.TOKEN] = options.token
    this.provider = new WebsocketProvider(this.#urls[0]!, room, doc, {
      connect: false,
      params,
      // Tabs converge through the store's own channel, which keeps read-only tabs silent.
      disableBc: true,
      maxBackoffTime: options.maxBackoffMs ?? 2500,
      // reason: the option is unknown so that Node callers can pass ws's class, whose types are not the DOM's; y-websocket only calls `new` on it with a URL
      ...(options.WebSocket === undefined ? {} : { WebSocketPolyfill: options.WebSocket as typeof WebSocket }),
    })
    sendInPieces(this.provider)
    this.provider.messageHandlers[MessageType.PERSISTED] = (_encoder, decoder) => this.#onPersisted(decoder)
    this.provider.on('status', ({ status }) => {
      this.#setStatus(status === 'connected' ? (this.provider.synced ? 'synced' : 'syncing') : status === 'connecting' ? 'connecting' : 'offline')
      this.#setRelay(status === 'connected' ? this.provider.serverUrl : null)
    })
    this.provider.on('sync', (synced: boolean) => {
      if (!synced || !this.provider.wsconnected) return
      this.#setStatus('synced')
      if (this.#waiters.length > 0) this.#askPersisted()
    })
    this.provider.on('connection-close', (event: CloseEvent | null) => {
      if (event?.code === CloseCode.FORBIDDEN) {
        // Something this replica wrote is outside the token's rules (written before they were known, under
        // other rules, or by another tab): the relay would refuse it again on every connection, with all
        // that follows it. Stay offline until the app connects again (say, with a token that allows it).
        this.#wanted = false
        this.provider.shouldConnect = false
        this.#onError(
          new TideKVError(
            'FORBIDDEN',
            `The relay refused an update outside this token's write rules (${event.reason || 'no reason given'}); the store stays offline until connect()`,
          ),
        )
      }
      // The relay went away (or was never reached): the next attempt goes to the next one.
      if (this.#urls.length > 1) {
        this.#urlIndex = (this.#urlIndex + 1) % this.#urls.length
        this.provider.serverUrl = this.#urls[this.#urlIndex]!
      }
      // A token function is asked again before every attempt: take the reconnect over from the provider.
      if (typeof this.#options.token === 'function' && this.#wanted) {
        this.provider.shouldConnect = false
        this.#scheduleReconnect()
      }
    })
  }

  get status(): SyncStatus {
    return this.#current
  }

  onStatus(cb: (status: SyncStatus) => void): () => void {
    this.#events.on('status', cb)
    return () => this.#events.off('status', cb)
  }

  /** The relay connected now, or null. */
  get relay(): string | null {
    return this.#relay
  }

  onRelay(cb: (url: string | null) => void): () => void {
    this.#events.on('relay', cb)
    return () => this.#events.off('relay', cb)
  }

  #setRelay(url: string | null): void {
    if (url === this.#relay) return
    this.#relay = url
    this.#events.emit('relay', [url])
  }

  /** Connects (again after `disconnect`): the app's "work online". */
  connect(): void {
    this.#wanted = true
    void this.#open()
  }

  /** Drops the connection and stays offline: the app's "work offline". Writes keep going to storage. */
  disconnect(): void {
    this.#wanted = false
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = null
    this.provider.disconnect()
    this.#setStatus('offline')
  }

  /** Sends `message` to the relay if connected; returns whether it went (pub/sub drops it otherwise: at most once). */
  send(message: Uint8Array): boolean {
    const ws = this.provider.ws
    if (!this.provider.wsconnected || ws === null) return false
    ws.send(message)
    return true
  }

  /** Hands the relay's messages of `type` (a TideKV type, not y-websocket's) to `handler`. */
  handle(type: number, handler: (decoder: decoding.Decoder) => void): void {
    this.provider.messageHandlers[type] = (_encoder, decoder) => handler(decoder)
  }

  /** Calls `cb` each time a connection to a relay opens. */
  onConnect(cb: () => void): void {
    this.provider.on('status', ({ status }) => {
      if (status === 'connected') cb()
    })
  }

  /** Resolves once the relay has stored every update this replica made so far. */
  whenStored(): Promise<void> {
    const clock = Y.getState(this.#doc.store, this.#clientId())
    const id = ++this.#lastId
    const done = new Promise<void>((resolve) => this.#waiters.push({ clock, id, resolve }))
    if (this.provider.wsconnected) this.#askPersisted()
    return done
  }

  destroy(): void {
    this.#destroyed = true
    this.#wanted = false
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer)
    this.provider.destroy()
  }

  async #open(): Promise<void> {
    if (this.#destroyed || !this.#wanted || this.provider.wsconnected || this.provider.wsconnecting) return
    const token = this.#options.token
    if (typeof token === 'function') {
      try {
        const first = this.#firstToken
        this.#firstToken = undefined
        const fresh = first ?? (await token())
        if (first === undefined) this.#onToken(fresh)
        this.provider.params[QueryParam.TOKEN] = fresh
      } catch (cause) {
        this.#onError(new TideKVError('INVALID_VALUE', 'sync.token() failed; retrying', { cause }))
        this.#scheduleReconnect()
        return
      }
      if (this.#destroyed || !this.#wanted) return
    }
    this.provider.connect()
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer !== null || this.#destroyed) return
    const attempts = this.provider.wsUnsuccessfulReconnects
    const delay = Math.min(2 ** attempts * 100, this.#options.maxBackoffMs ?? 2500)
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null
      void this.#open()
    }, delay)
  }

  #askPersisted(): void {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, MessageType.PERSISTED)
    encoding.writeVarUint(enc, this.#lastId)
    this.provider.ws?.send(encoding.toUint8Array(enc))
  }

  #onPersisted(decoder: decoding.Decoder): void {
    const stored = Y.decodeStateVector(decoding.readVarUint8Array(decoder))
    this.#acked = Math.max(this.#acked, stored.get(this.#clientId()) ?? 0)
    if (decoding.hasContent(decoder)) this.#answered = Math.max(this.#answered, readSafeVarUint(decoder))
    const waiting = this.#waiters
    this.#waiters = []
    for (const w of waiting) {
      if (w.clock <= this.#acked && w.id <= this.#answered) w.resolve()
      else this.#waiters.push(w)
    }
  }

  #setStatus(status: SyncStatus): void {
    if (status === this.#current) return
    this.#current = status
    this.#events.emit('status', [status])
  }
}
