/**
 * One WebSocket connection: the limits that protect the relay from it
 * (message rate, slow reading, dead peers, expired tokens) and the queue that
 * holds its messages until its room has loaded.
 */
import { CloseCode, type WriteRules } from '@tidekv/core'
import type { WebSocket } from 'ws'
import type { AccessMode } from './auth.js'
import type { RelayLimits } from './limits.js'
import type { Metrics } from './metrics.js'
import { ProtocolError } from './protocol-error.js'
import type { Peer } from './peer.js'
import type { Room } from './room.js'

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** A sync answer in pieces is fed to the socket while it holds less than this. */
const PACE_BYTES = 1024 * 1024

export interface ConnectionOptions {
  readonly ws: WebSocket
  /** The room it joins once the room has loaded. */
  readonly room: Room
  /** What its token (or anonymous access) allows. */
  readonly mode: AccessMode
  /** Its token's subject, or "" (see Peer.subject). */
  readonly subject: string
  /** Its token's write rules (see Peer.rules); default none. */
  readonly rules?: WriteRules | null
  /** Wants PERSISTED acknowledgements (a TideKV client). */
  readonly acks: boolean
  readonly limits: RelayLimits
  readonly metrics: Metrics
  /** When its token expires (epoch ms): the connection is closed with 4401 then. */
  readonly expiresAt?: number
  /** Called once, when the connection has closed. */
  readonly onClose: (connection: Connection) => void
}

export class Connection implements Peer {
  readonly room: Room
  readonly mode: AccessMode
  readonly subject: string
  readonly rules: WriteRules | null
  readonly acks: boolean
  private readonly ws: WebSocket
  private readonly limits: RelayLimits
  private readonly metrics: Metrics
  private readonly onClose: (connection: Connection) => void
  private tokens: number
  private lastRefill = performance.now()
  private alive = true
  private queue: Uint8Array[] | null = []
  private closed = false
  private heartbeat: ReturnType<typeof setInterval>
  private expiry: ReturnType<typeof setTimeout> | null = null
  /** A sync answer being sent as the socket drains, then the messages sent after it (see sendAnswer). */
  private outbox: { message: Uint8Array; live: boolean }[] = []
  private outboxNext = 0
  /** Bytes of this peer's own messages in the outbox: unsent, like the socket's buffer. */
  private outboxLive = 0
  /** Bytes of answers written to the socket and not yet taken by it: not the peer's backlog. */
  private answerInSocket = 0
  /** Messages of answers in the outbox, not yet written: one answer at a time (see Room's sync step 1). */
  private answerLeft = 0

  constructor({ ws, room, mode, subject, rules, acks, limits, metrics, expiresAt, onClose }: ConnectionOptions) {
    this.ws = ws
    this.room = room
    this.mode = mode
    this.subject = subject
    this.rules = rules ?? null
    this.acks = acks
    this.limits = limits
    this.metrics = metrics
    this.onClose = onClose
    this.tokens = limits.messageBurst
    ws.binaryType = 'nodebuffer'
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary)) // reason: binaryType 'nodebuffer' (above) delivers every message as one Buffer
    ws.on('close', () => this.cleanUp())
    ws.on('error', () => this.close(CloseCode.PROTOCOL_ERROR, 'socket error'))
    ws.on('pong', () => (this.alive = true))
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        this.metrics.reject('heartbeat')
        this.ws.terminate()
        return
      }
      this.alive = false
      try {
        this.ws.ping()
      } catch {
        this.ws.terminate() // reason: a socket that cannot be pinged is gone
      }
    }, limits.heartbeatMs)
    this.heartbeat.unref()
    if (expiresAt !== undefined) this.#closeAt(expiresAt)
    void room.ready.then(
      () => this.start(),
      () => this.close(CloseCode.INTERNAL_ERROR, 'room failed to load'),
    )
  }

  /**
   * Closes the connection with 4401 when its token expires. setTimeout takes
   * at most 2^31 - 1 ms (24.8 days) and fires at once for more, so a longer
   * wait is made of shorter ones.
   */
  #closeAt(expiresAt: number): void {
    const left = expiresAt - Date.now()
    const expire = () => (left > MAX_TIMER_MS ? this.#closeAt(expiresAt) : this.close(CloseCode.TOKEN_EXPIRED, 'token expired'))
    this.expiry = setTimeout(expire, Math.max(0, Math.min(left, MAX_TIMER_MS)))
    this.expiry.unref()
  }

  /** The room has loaded: join it and handle what arrived meanwhile. */
  private start(): void {
    if (this.closed) return
    const queued = this.queue ?? []
    this.queue = null
    this.room.join(this)
    for (const message of queued) if (!this.closed) this.handle(message)
  }

  deliver(message: Uint8Array): void {
    if (!this.closed) this.handle(message)
  }

  send(message: Uint8Array): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    // A reader that cannot keep up is dropped rather than buffered without bound.
    if (this.ws.bufferedAmount - this.answerInSocket + this.outboxLive > this.limits.maxBufferedBytes) {
      this.metrics.reject('slow-reader')
      this.close(CloseCode.TRY_AGAIN_LATER, 'reading too slowly')
      return
    }
    if (this.outboxNext < this.outbox.length) {
      this.outbox.push({ message, live: true })
      this.outboxLive += message.length
      return
    }
    this.write(message)
  }

  get answering(): boolean {
    return this.answerLeft > 0
  }

  sendAnswer(messages: readonly Uint8Array[]): void {
    if (messages.length === 1 && this.outboxNext === this.outbox.length) {
      this.send(messages[0]!)
      return
    }
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    for (const message of messages) this.outbox.push({ message, live: false })
    this.answerLeft += messages.length
    this.drain()
  }

  /** Feeds the outbox to the socket while it holds less than PACE_BYTES; each write's callback feeds it again. */
  private readonly drain = (): void => {
    while (this.outboxNext < this.outbox.length && this.ws.bufferedAmount < PACE_BYTES) {
      if (this.closed || this.ws.readyState !== this.ws.OPEN) break
      const { message, live } = this.outbox[this.outboxNext++]!
      if (!live) this.answerLeft--
      if (live) {
        this.outboxLive -= message.length
        this.write(message)
        continue
      }
      this.answerInSocket += message.length
      this.write(message, () => {
        if (this.closed) return
        this.answerInSocket -= message.length
        this.written()
      })
    }
    if (this.outbox.length > 0 && (this.outboxNext === this.outbox.length || this.closed)) {
      this.outbox = []
      this.outboxNext = 0
      this.outboxLive = 0
    } else if (this.outboxNext >= 1024 && this.outboxNext * 2 >= this.outbox.length) {
      // A reader that keeps pace without ever catching up: drop what was sent, or it stays referenced.
      this.outbox = this.outbox.slice(this.outboxNext)
      this.outboxNext = 0
    }
  }

  /** Writes to the socket; `done` runs once the socket took the message. */
  private write(message: Uint8Array, done: () => void = this.written): void {
    this.metrics.messagesOut++
    this.metrics.bytesOut += message.length
    this.ws.send(message, done)
  }

  /** A write's callback: the socket took the message, so it may take the next piece of an answer. */
  private readonly written = (): void => {
    if (this.outboxNext < this.outbox.length) this.drain()
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return
    this.metrics.messagesIn++
    this.metrics.bytesIn += data.length
    if (!this.takeToken()) {
      this.metrics.reject('rate-limit')
      this.close(CloseCode.POLICY_VIOLATION, 'too many messages')
      return
    }
    if (!isBinary) {
      this.metrics.reject('text-frame')
      this.close(CloseCode.PROTOCOL_ERROR, 'text frames are not part of the protocol')
      return
    }
    const message = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    if (this.queue !== null) this.queue.push(message)
    else this.handle(message)
  }

  private handle(message: Uint8Array): void {
    try {
      this.room.receive(this, message)
    } catch (e) {
      this.metrics.reject(e instanceof ProtocolError ? e.reason : 'internal-error')
      this.close(e instanceof ProtocolError ? e.code : CloseCode.INTERNAL_ERROR, e instanceof ProtocolError ? e.closeReason : 'internal error')
    }
  }

  /** Token bucket: `messagesPerSecond` on average, `messageBurst` at once. */
  private takeToken(): boolean {
    const now = performance.now()
    this.tokens = Math.min(this.limits.messageBurst, this.tokens + ((now - this.lastRefill) / 1000) * this.limits.messagesPerSecond)
    this.lastRefill = now
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }

  close(code: number, reason: string): void {
    if (this.closed) return
    this.cleanUp()
    this.ws.close(code, reason)
  }

  private cleanUp(): void {
    if (this.closed) return
    this.closed = true
    this.outbox = []
    this.outboxNext = 0
    this.outboxLive = 0
    this.answerInSocket = 0
    this.answerLeft = 0
    clearInterval(this.heartbeat)
    if (this.expiry !== null) clearTimeout(this.expiry)
    this.room.leave(this)
    this.onClose(this)
  }
}
