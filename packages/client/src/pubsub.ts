/**
 * Pub/sub between the store's subscribers in this page, other tabs and other
 * devices (Redis PUBLISH, SUBSCRIBE, PSUBSCRIBE): a message is a TideKV
 * value, delivered at most once to whoever listens when it arrives, never
 * stored. Same page: in a microtask. Other tabs: a BroadcastChannel of its
 * own (`tidekv-pubsub:<name>`). Other devices: PUBSUB messages through the
 * relay, which forwards a PUBLISH only to connections subscribed to it (see
 * docs/PROTOCOL.md). A tab hears another tab's message twice, through the
 * channel and through its own relay connection, so every message carries a
 * random id and ids already seen are dropped.
 */
import { globMatch, MessageType, PubSubOp, pubsubFrame, TideKVError, type Value } from '@tidekv/core'
import { checkKey, freezeDecoded, readValue, writeValue } from '@tidekv/core/internal'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** Where a message came from: this page's store, another tab, or another device (through the relay). */
export type MessageOrigin = 'local' | 'tab' | 'remote'

export interface MessageContext {
  /** The channel it was published to (for a pattern subscription, the one that matched). */
  readonly channel: string
  readonly origin: MessageOrigin
}

export type Subscriber = (message: Value, context: MessageContext) => void

/** What `subscribe` listens to: a channel, or a glob pattern over channels (PSUBSCRIBE). */
export type SubscribeTarget = string | { readonly pattern: string }

/** The relay's bounds (room-pubsub.ts), kept here too so a store never gets its connection closed for them. */
export const MAX_PATTERNS = 64
export const MAX_PATTERN_BYTES = 256
export const MAX_SUBSCRIPTIONS = 1000
/** Message ids remembered to drop the second copy of a message. */
const SEEN_IDS = 4096
const ID_BYTES = 16

export interface PubSubOptions {
  /** The channel name for other tabs, or null without tabs. */
  readonly tabsName: string | null
  readonly maxKeyBytes: number
  readonly maxValueBytes: number
  /** Throws what a publish on `channel` may not do: `CLOSED`, `READ_ONLY`, `FORBIDDEN`. */
  readonly assertPublish: (channel: string) => void
  /** Sends to the relay if connected (dropped if not: at most once). */
  readonly send: (message: Uint8Array) => void
  readonly onError: (error: TideKVError) => void
}

export class PubSub {
  readonly #channels = new Map<string, Set<Subscriber>>()
  readonly #patterns = new Map<string, Set<Subscriber>>()
  readonly #seen = new Set<string>()
  readonly #seenOrder: string[] = []
  #tabs: BroadcastChannel | null = null
  #closed = false

  constructor(private readonly options: PubSubOptions) {}

  /**
   * Publishes `message` on `channel`. Returns at once; subscribers in this
   * page hear it in a microtask.
   * @throws TideKVError `INVALID_KEY` (channel), `INVALID_VALUE`, `VALUE_TOO_LARGE`, `READ_ONLY`, `FORBIDDEN`, `CLOSED`
   */
  publish(channel: string, message: Value): void {
    checkKey(channel, this.options.maxKeyBytes)
    this.options.assertPublish(channel)
    const enc = encoding.createEncoder()
    writeValue(enc, message, this.options.maxValueBytes)
    const bytes = encoding.toUint8Array(enc)
    if (bytes.length > this.options.maxValueBytes)
      throw new TideKVError('VALUE_TOO_LARGE', `The message is ${bytes.length} bytes encoded; the limit is ${this.options.maxValueBytes}`)
    const id = crypto.getRandomValues(new Uint8Array(ID_BYTES))
    this.#remember(id)
    const frame = pubsubFrame(PubSubOp.PUBLISH, channel, id, bytes)
    queueMicrotask(() => this.#dispatch(channel, bytes, 'local'))
    this.#tabChannel()?.postMessage(frame)
    this.options.send(frame)
  }

  /**
   * Calls `cb` with every message published on `target` from now on, until
   * the returned function is called.
   * @throws TideKVError `INVALID_KEY` (a channel or pattern that is not a non-empty string within the limits), `INVALID_VALUE` (too many subscriptions)
   */
  subscribe(target: SubscribeTarget, cb: Subscriber): () => void {
    if (typeof cb !== 'function') throw new TideKVError('INVALID_VALUE', 'subscribe needs a callback function')
    const pattern = typeof target === 'object' && target !== null ? target.pattern : undefined
    const name = pattern ?? target
    checkKey(name, pattern === undefined ? this.options.maxKeyBytes : MAX_PATTERN_BYTES)
    const map = pattern === undefined ? this.#channels : this.#patterns
    let listeners = map.get(name)
    if (listeners === undefined) {
      if (this.#channels.size + this.#patterns.size >= MAX_SUBSCRIPTIONS || (pattern !== undefined && this.#patterns.size >= MAX_PATTERNS)) {
        throw new TideKVError('INVALID_VALUE', `At most ${MAX_SUBSCRIPTIONS} channels and patterns (${MAX_PATTERNS} patterns) at once`)
      }
      map.set(name, (listeners = new Set()))
      this.options.send(pubsubFrame(pattern === undefined ? PubSubOp.SUBSCRIBE : PubSubOp.PSUBSCRIBE, name))
    }
    this.#tabChannel()
    const own = listeners
    const wrapped: Subscriber = (message, context) => cb(message, context) // one entry per subscribe call, even for the same cb
    own.add(wrapped)
    return () => {
      if (!own.delete(wrapped) || own.size > 0 || map.get(name) !== own) return
      map.delete(name)
      this.options.send(pubsubFrame(pattern === undefined ? PubSubOp.UNSUBSCRIBE : PubSubOp.PUNSUBSCRIBE, name))
    }
  }

  /** Every subscription, as the frames that tell a relay (sent on each connection). */
  subscriptionFrames(): Uint8Array[] {
    return [...[...this.#channels.keys()].map((c) => pubsubFrame(PubSubOp.SUBSCRIBE, c)), ...[...this.#patterns.keys()].map((p) => pubsubFrame(PubSubOp.PSUBSCRIBE, p))]
  }

  /** A PUBSUB message from the relay (its type read already). */
  receiveRemote(decoder: decoding.Decoder): void {
    this.#receive(decoder, 'remote')
  }

  close(): void {
    this.#closed = true
    this.#channels.clear()
    this.#patterns.clear()
    this.#tabs?.close()
    this.#tabs = null
  }

  #tabChannel(): BroadcastChannel | null {
    if (this.#tabs !== null || this.options.tabsName === null || this.#closed || typeof BroadcastChannel === 'undefined') return this.#tabs
    const channel = new BroadcastChannel(this.options.tabsName)
    // reason: Node's BroadcastChannel has unref (not in the DOM lib's type); browsers' has none, and the optional call skips it
    ;(channel as { unref?: () => void }).unref?.()
    channel.onmessage = (event: MessageEvent) => {
      if (!(event.data instanceof Uint8Array)) return
      const decoder = decoding.createDecoder(event.data)
      if (safeReadUint(decoder) !== MessageType.PUBSUB) return
      this.#receive(decoder, 'tab')
    }
    this.#tabs = channel
    return channel
  }

  #receive(decoder: decoding.Decoder, origin: MessageOrigin): void {
    let channel: string
    let id: Uint8Array
    let bytes: Uint8Array
    try {
      if (decoding.readVarUint(decoder) !== PubSubOp.PUBLISH) return
      channel = decoding.readVarString(decoder)
      id = decoding.readVarUint8Array(decoder)
      bytes = decoding.readVarUint8Array(decoder)
    } catch {
      return // reason: not a message of ours; the relay checked its frames
    }
    if (this.#closed || !this.#remember(id)) return
    this.#dispatch(channel, bytes, origin)
  }

  /** Remembers a message id; false when it was seen already. */
  #remember(id: Uint8Array): boolean {
    const key = String.fromCharCode(...id)
    if (this.#seen.has(key)) return false
    this.#seen.add(key)
    this.#seenOrder.push(key)
    if (this.#seenOrder.length > SEEN_IDS) this.#seen.delete(this.#seenOrder.shift()!)
    return true
  }

  #dispatch(channel: string, bytes: Uint8Array, origin: MessageOrigin): void {
    const listeners: Subscriber[] = [...(this.#channels.get(channel) ?? [])]
    for (const [pattern, set] of this.#patterns) if (globMatch(pattern, channel)) listeners.push(...set)
    if (listeners.length === 0) return
    let message: Value
    try {
      const dec = decoding.createDecoder(bytes)
      message = readValue(dec) as Value // reason: readValue reads only TideKV values (it throws on anything else)
      if (decoding.hasContent(dec)) throw new RangeError('trailing bytes')
    } catch (cause) {
      this.options.onError(new TideKVError('INVALID_VALUE', `A message on ${JSON.stringify(channel)} that is not a TideKV value was dropped`, { cause }))
      return
    }
    freezeDecoded(message)
    const context: MessageContext = Object.freeze({ channel, origin })
    for (const listener of listeners) {
      try {
        listener(message, context)
      } catch (cause) {
        this.options.onError(new TideKVError('WATCHER_FAILED', `A subscriber of ${JSON.stringify(channel)} threw`, { cause }))
      }
    }
  }
}

function safeReadUint(decoder: decoding.Decoder): number {
  try {
    return decoding.readVarUint(decoder)
  } catch {
    return -1 // reason: not a frame of ours
  }
}
