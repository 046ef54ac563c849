/**
 * A room's answers to sync step 1, the message whose reply can be the whole
 * room for a few bytes in (120 of them, 480 bytes, once sent 216 MiB out and
 * blocked the relay for 2 s). So: each peer gets `BURST` of them at once,
 * then one per `REFILL_MS` (clients ask once per connection, or on a resync
 * timer of seconds); a state vector may name no more clients than the room
 * has plus what a sync step 2 may carry (2,000,000 made-up clients took a
 * second to decode), read with safe varints; and the answer to a state
 * vector that covers less than half of the room's clocks (a new client, or
 * one that names a single client to dodge the cache) is the whole room,
 * encoded once per change of the room, not once per ask. Queries for every
 * presence state draw on the same tokens.
 *
 * An answer larger than `PIECE_LIMITS.maxBytes` is a run of updates in
 * dependency order, the last one sent as the step 2 (`encodePieces` in
 * core): a room of a million keys is ~70 MiB, past what a client may accept
 * in one message, and the connection sends such a run as its socket drains
 * (`Peer.sendAnswer`), never all of it into the socket at once.
 */
import { CloseCode } from '@tidekv/core'
import { readSafeVarUint, stepTwoMessages } from '@tidekv/core/wire'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { ProtocolError } from './protocol-error.js'

/** Sync step 1 messages a peer may send at once, and how often it gets another. */
const BURST = 8
const REFILL_MS = 2000

export class StepOneAnswers<P extends object> {
  readonly #tokens = new WeakMap<P, { tokens: number; at: number }>()
  #wholeRoom: Uint8Array[] | null = null

  /**
   * @param doc the room's document
   * @param extraClients how many clients a state vector may name beyond the room's own
   */
  constructor(
    private readonly doc: Y.Doc,
    private readonly extraClients: number,
  ) {}

  /** The room changed: the cached whole-room answer is stale. */
  changed(): void {
    this.#wholeRoom = null
  }

  /**
   * The sync step 2 that answers `peer`'s step 1: one message, or for a large
   * answer a run of update messages whose last one is the step 2.
   * @throws ProtocolError over the rate (closed with 1008), or for a state vector that is malformed or too long
   */
  answer(peer: P, stateVector: Uint8Array): readonly Uint8Array[] {
    this.charge(peer)
    // A peer that has less than half of the room gets the whole room, encoded once per change: an
    // answer of its own would cost nearly as much to encode, for every such ask.
    return this.#coversHalf(stateVector) ? stepTwoMessages(this.doc, stateVector) : (this.#wholeRoom ??= stepTwoMessages(this.doc))
  }

  /**
   * Takes one of `peer`'s tokens for an answer as large as the room (sync step
   * 1, or a query for every presence state).
   * @throws ProtocolError (closed with 1008) when it has none left
   */
  charge(peer: P): void {
    const now = performance.now()
    const bucket = this.#tokens.get(peer) ?? { tokens: BURST, at: now }
    bucket.tokens = Math.min(BURST, bucket.tokens + (now - bucket.at) / REFILL_MS)
    bucket.at = now
    if (bucket.tokens < 1) throw new ProtocolError('too many sync step 1 or awareness queries', { reason: 'sync-rate', code: CloseCode.POLICY_VIOLATION })
    bucket.tokens--
    this.#tokens.set(peer, bucket)
  }

  /**
   * Reads a state vector with safe varints and a bound on its length; returns
   * whether the clocks it names cover at least half of the room's.
   */
  #coversHalf(stateVector: Uint8Array): boolean {
    const decoder = decoding.createDecoder(stateVector)
    const count = readSafeVarUint(decoder)
    const store = this.doc.store
    if (count > store.clients.size + this.extraClients) throw new ProtocolError(`a state vector of ${count} clients`, { reason: 'state-vector-too-long' })
    let covered = 0
    for (let i = 0; i < count; i++) {
      const client = readSafeVarUint(decoder)
      const clock = readSafeVarUint(decoder)
      if (store.clients.has(client)) covered += Math.min(clock, Y.getState(store, client))
    }
    if (decoding.hasContent(decoder)) throw new ProtocolError('bytes after the state vector', { reason: 'message-malformed' })
    if (covered === 0) return false
    let total = 0
    for (const client of store.clients.keys()) total += Y.getState(store, client)
    return covered * 2 >= total
  }
}
