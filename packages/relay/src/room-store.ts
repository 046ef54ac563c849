/**
 * A store on the relay's copy of a room, for backends (`relay.openRoom`, the
 * HTTP API): the store API of `@tidekv/core` on a replica of the room, linked
 * to the room in-process as one more peer, with no socket. Its writes go
 * through the room like a client's (checked, sent to the room's clients,
 * stored, acknowledged); the room's updates reach it as a client's would, so
 * its watchers see them with `origin: 'remote'`.
 *
 * The replica writes under a Yjs client id of its own, owned by the relay's
 * subject (`RELAY_SUBJECT`, which no token can carry), so no client can
 * write under it and it cannot write under a client's.
 */
import { DocStore, MessageType, TideKVError, TransactionOrigin } from '@tidekv/core'
import { encodePieces, PIECE_LIMITS, readSafeVarUint, stepTwoMessages, syncMessage } from '@tidekv/core/wire'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { ProtocolError } from './protocol-error.js'
import type { Peer } from './peer.js'
import type { Room } from './room.js'
import { within } from './within.js'

/** The token subject of the relay's own replicas: it starts with U+0000, which `createToken` and the relay refuse in a `sub`. */
export const RELAY_SUBJECT = '\u0000relay'

/** After the room refused a message of the replica (busy, short of memory), it syncs again after this long. */
const RESYNC_MS = 100
/** How long `close` waits for the room to store the replica's last writes. */
const CLOSE_WAIT_MS = 10_000

export class RoomStore extends DocStore {
  readonly #link: RoomLink
  readonly #onClose: () => void

  /** @internal Use `relay.openRoom`. */
  constructor(room: Room, onClose: () => void) {
    super(room.name, {}, true)
    this.#onClose = onClose
    this.#link = new RoomLink(room, this.doc, this.replica.origin, (e) => this.emitError(e))
  }

  /** @internal Resolves once the room's state has reached this replica. */
  get synced(): Promise<void> {
    return this.#link.synced
  }

  /**
   * Resolves once every write made before the call is stored by the relay
   * (in its storage: SQLite, or Redis when relays scale out).
   * @throws TideKVError `CLOSED`
   */
  async whenStored(): Promise<void> {
    await this.flush()
    await this.#link.stored()
  }

  /**
   * Commits what is pending, waits (up to 10 s) until the room has stored it,
   * leaves the room, and releases the store: every later call throws `CLOSED`.
   */
  override async close(): Promise<void> {
    if (this.closed) return
    await super.close()
    // A room busy with a large update holds messages, and drops those of peers that left: stay until stored.
    await within(
      this.#link.stored().catch(() => undefined),
      CLOSE_WAIT_MS,
    )
    this.#link.leave()
    this.#onClose()
  }
}

/** The room's view of the replica: a peer whose messages go straight to the room and back. */
class RoomLink implements Peer {
  readonly mode = 'write' as const
  readonly subject = RELAY_SUBJECT
  readonly rules = null
  readonly acks = true
  readonly answering = false
  readonly synced: Promise<void>
  #markSynced: () => void = () => undefined
  #isSynced = false
  readonly #remote: TransactionOrigin
  #lastId = 0
  readonly #waiting = new Map<number, () => void>()
  readonly #failing = new Map<number, (error: TideKVError) => void>()
  #left = false
  #resync: ReturnType<typeof setTimeout> | null = null

  constructor(
    private readonly room: Room,
    private readonly doc: Y.Doc,
    local: TransactionOrigin,
    private readonly onError: (error: TideKVError) => void,
  ) {
    this.#remote = new TransactionOrigin('remote', this)
    this.synced = new Promise((resolve) => {
      this.#markSynced = resolve
    })
    doc.on('update', (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction) => {
      if (origin !== local || this.#left) return
      // A large transaction goes in pieces, as a client's does: one update over the decode budget would be refused.
      const pieces = update.length <= PIECE_LIMITS.maxBytes ? [update] : encodePieces(doc, tr.beforeState, tr.deleteSet)
      for (const piece of pieces) this.#toRoom(syncMessage(syncProtocol.messageYjsUpdate, piece))
    })
    room.join(this)
    this.#askForRoom()
  }

  /** The room's messages to this peer. */
  send(message: Uint8Array): void {
    if (this.#left) return
    const decoder = decoding.createDecoder(message)
    const type = decoding.readVarUint(decoder)
    if (type === MessageType.SYNC) {
      const kind = decoding.readVarUint(decoder)
      const payload = decoding.readVarUint8Array(decoder)
      if (kind === syncProtocol.messageYjsSyncStep1) {
        for (const answer of stepTwoMessages(this.doc, payload)) this.#toRoom(answer)
        return
      }
      Y.applyUpdate(this.doc, payload, this.#remote)
      if (kind === syncProtocol.messageYjsSyncStep2) {
        this.#isSynced = true
        this.#markSynced()
      }
    } else if (type === MessageType.PERSISTED) {
      decoding.readVarUint8Array(decoder)
      if (!decoding.hasContent(decoder)) return
      const answered = readSafeVarUint(decoder)
      for (const [id, resolve] of this.#waiting) {
        if (id > answered) continue
        this.#waiting.delete(id)
        this.#failing.delete(id)
        resolve()
      }
    }
    // Presence is for clients: the replica has none and ignores others'.
  }

  sendAnswer(messages: readonly Uint8Array[]): void {
    for (const message of messages) this.send(message)
  }

  deliver(message: Uint8Array): void {
    this.#toRoom(message)
  }

  close(_code: number, reason: string): void {
    this.onError(new TideKVError('STORAGE_FAILED', `The room closed the relay's replica: ${reason}`))
  }

  /** Resolves once the room has stored everything it received from this replica so far. */
  stored(): Promise<void> {
    if (this.#left) return Promise.reject(new TideKVError('CLOSED', 'The store is closed'))
    const id = ++this.#lastId
    const done = new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, resolve)
      this.#failing.set(id, reject)
    })
    this.#toRoom(persistedQuestion(id))
    return done
  }

  leave(): void {
    this.#left = true
    if (this.#resync !== null) clearTimeout(this.#resync)
    this.room.leave(this)
    // Handed to the room, which stores it, but no answer will say so.
    for (const reject of this.#failing.values()) reject(new TideKVError('CLOSED', 'The store was closed before the relay answered'))
    this.#waiting.clear()
    this.#failing.clear()
  }

  #askForRoom(): void {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, MessageType.SYNC)
    syncProtocol.writeSyncStep1(enc, this.doc)
    this.#toRoom(encoding.toUint8Array(enc))
  }

  #toRoom(message: Uint8Array): void {
    try {
      this.room.receive(this, message)
    } catch (e) {
      // Busy or short of memory: what the room refused, it gets again from the next sync.
      this.onError(new TideKVError('STORAGE_FAILED', `The room refused the relay's replica an update: ${e instanceof ProtocolError ? e.message : String(e)}`, { cause: e }))
      // Everything the room may have dropped is asked or sent again: the room's state (until it came), this
      // replica's (the room keeps what it has), and the questions still unanswered.
      this.#resync ??= setTimeout(() => {
        this.#resync = null
        if (this.#left) return
        if (!this.#isSynced) this.#askForRoom()
        for (const piece of stepTwoMessages(this.doc, Y.encodeStateVector(this.room.doc))) this.#toRoom(piece)
        for (const id of this.#waiting.keys()) this.#toRoom(persistedQuestion(id))
      }, RESYNC_MS)
      this.#resync.unref?.()
    }
  }
}

/** The question "tell me once everything before it is stored", numbered `id`. */
function persistedQuestion(id: number): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MessageType.PERSISTED)
  encoding.writeVarUint(enc, id)
  return encoding.toUint8Array(enc)
}
