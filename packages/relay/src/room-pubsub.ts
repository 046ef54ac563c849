/**
 * Pub/sub within a room (Redis PUBLISH, SUBSCRIBE, PSUBSCRIBE): which of the
 * room's peers listen to which channels and glob patterns, and the PUBLISH
 * frames the relay forwards to them. Nothing is stored: a message reaches
 * the peers subscribed when it arrives (at most once), and no one later.
 *
 * Every frame is hostile: strings are bounded, a peer holds at most
 * MAX_SUBSCRIPTIONS (of them MAX_PATTERNS patterns), a read-only peer may
 * subscribe but not publish, and a peer with write rules publishes only to
 * channels its rules allow (as it writes only such keys). A frame is
 * forwarded re-encoded from what was read, so nothing a peer appends travels
 * on. Matching a pattern costs up to pattern × channel length steps (the
 * matcher's bound, see glob.ts): each subscriber pays for its own patterns
 * from a budget of MATCH_STEPS_PER_SECOND; past it, messages to it are
 * dropped (at most once allows that) and counted, so patterns chosen to be
 * slow slow down only their own connection.
 */
import { CloseCode, globMatch, MessageType, PubSubOp, pubsubFrame, type WriteRules } from '@tidekv/core'
import * as decoding from 'lib0/decoding'
import { ProtocolError } from './protocol-error.js'

/** Channels and patterns one peer may hold at once. */
export const MAX_SUBSCRIPTIONS = 1000
/** Longest channel or pattern, in UTF-8 bytes (the client's default key limit). */
export const MAX_CHANNEL_BYTES = 1024
/** Longest message id, bytes (clients send 16 random ones). */
export const MAX_ID_BYTES = 32
/** Patterns one peer may hold at once, and their longest length. */
export const MAX_PATTERNS = 64
export const MAX_PATTERN_BYTES = 256
/** Pattern matching steps a subscriber may use per second (and at once). */
export const MATCH_STEPS_PER_SECOND = 4_000_000

/** What the room needs of a peer to run its pub/sub. */
export interface PubSubPeer {
  readonly mode: 'read' | 'write'
  readonly rules: WriteRules | null
  send(message: Uint8Array): void
}

/** A message to forward: its channel, and the frame every subscriber gets. */
export interface Publication {
  readonly channel: string
  readonly frame: Uint8Array
}

interface Subscriptions {
  readonly channels: Set<string>
  readonly patterns: Set<string>
  /** Matching steps left, and when they were last refilled. */
  steps: number
  at: number
}

export class RoomPubSub<P extends PubSubPeer> {
  readonly #subscriptions = new Map<P, Subscriptions>()

  /**
   * Handles one PUBSUB message of `peer` (its type read already); returns the
   * publication to forward, or null for a (un)subscription.
   * @throws ProtocolError for a malformed frame, a bound passed, or a publish the peer may not make
   */
  receive(peer: P, decoder: decoding.Decoder): Publication | null {
    const op = decoding.readVarUint(decoder)
    if (op === PubSubOp.PUBLISH) {
      const channel = readName(decoder)
      const id = decoding.readVarUint8Array(decoder)
      const message = decoding.readVarUint8Array(decoder)
      if (id.length === 0 || id.length > MAX_ID_BYTES) throw new ProtocolError('a publish id of 1 to 32 bytes', { reason: 'message-malformed' })
      endOf(decoder)
      if (peer.mode !== 'write')
        throw new ProtocolError('read-only token: publish refused', { reason: 'read-only-publish', code: CloseCode.FORBIDDEN, closeReason: 'read-only token: publish refused' })
      if (peer.rules !== null && !peer.rules.allows(channel)) {
        const why = `channel ${JSON.stringify(channel)} is outside the write rules`
        throw new ProtocolError(why, { reason: 'forbidden-write', code: CloseCode.FORBIDDEN, closeReason: why })
      }
      return { channel, frame: pubsubFrame(PubSubOp.PUBLISH, channel, id, message) }
    }
    if (op !== PubSubOp.SUBSCRIBE && op !== PubSubOp.UNSUBSCRIBE && op !== PubSubOp.PSUBSCRIBE && op !== PubSubOp.PUNSUBSCRIBE) {
      throw new ProtocolError(`unknown pub/sub op ${op}`, { reason: 'unknown-message' })
    }
    const pattern = op === PubSubOp.PSUBSCRIBE || op === PubSubOp.PUNSUBSCRIBE
    const name = readName(decoder, pattern ? MAX_PATTERN_BYTES : MAX_CHANNEL_BYTES)
    endOf(decoder)
    let subs = this.#subscriptions.get(peer)
    const set = (s: Subscriptions) => (op === PubSubOp.SUBSCRIBE || op === PubSubOp.UNSUBSCRIBE ? s.channels : s.patterns)
    if (op === PubSubOp.UNSUBSCRIBE || op === PubSubOp.PUNSUBSCRIBE) {
      if (subs !== undefined) {
        set(subs).delete(name)
        if (subs.channels.size === 0 && subs.patterns.size === 0) this.#subscriptions.delete(peer)
      }
      return null
    }
    if (subs === undefined) this.#subscriptions.set(peer, (subs = { channels: new Set(), patterns: new Set(), steps: MATCH_STEPS_PER_SECOND, at: performance.now() }))
    if (!set(subs).has(name) && (subs.channels.size + subs.patterns.size >= MAX_SUBSCRIPTIONS || (pattern && subs.patterns.size >= MAX_PATTERNS))) {
      throw new ProtocolError(`more than ${MAX_SUBSCRIPTIONS} subscriptions (${MAX_PATTERNS} patterns)`, { reason: 'too-many-subscriptions', code: CloseCode.POLICY_VIOLATION })
    }
    set(subs).add(name)
    return null
  }

  /**
   * Sends a publication to every peer subscribed to its channel (or a pattern
   * matching it), once each, except `from`. Returns how many pattern
   * subscribers were skipped, their matching budget spent.
   */
  deliver(publication: Publication, from?: P): number {
    const { channel } = publication
    let dropped = 0
    for (const [peer, subs] of this.#subscriptions) {
      if (peer === from) continue
      if (subs.channels.has(channel)) {
        peer.send(publication.frame)
        continue
      }
      if (subs.patterns.size === 0) continue
      const now = performance.now()
      subs.steps = Math.min(MATCH_STEPS_PER_SECOND, subs.steps + ((now - subs.at) * MATCH_STEPS_PER_SECOND) / 1000)
      subs.at = now
      let cost = 0
      for (const p of subs.patterns) cost += (p.length + 1) * (channel.length + 1)
      if (cost > subs.steps) {
        dropped++
        continue
      }
      subs.steps -= cost
      for (const p of subs.patterns) {
        if (globMatch(p, channel)) {
          peer.send(publication.frame)
          break
        }
      }
    }
    return dropped
  }

  /** Forgets a peer's subscriptions. */
  leave(peer: P): void {
    this.#subscriptions.delete(peer)
  }

  /** Peers with at least one subscription. */
  get size(): number {
    return this.#subscriptions.size
  }
}

/** Reads a PUBLISH frame as `publishFrame` writes it (from another relay); undefined when it is not one. */
export function readPublishFrame(frame: Uint8Array): Publication | undefined {
  try {
    const decoder = decoding.createDecoder(frame)
    if (decoding.readVarUint(decoder) !== MessageType.PUBSUB || decoding.readVarUint(decoder) !== PubSubOp.PUBLISH) return undefined
    const channel = readName(decoder)
    decoding.readVarUint8Array(decoder)
    decoding.readVarUint8Array(decoder)
    return decoding.hasContent(decoder) ? undefined : { channel, frame }
  } catch {
    return undefined // reason: relays trust each other, but a damaged frame is dropped, not forwarded
  }
}

function readName(decoder: decoding.Decoder, max = MAX_CHANNEL_BYTES): string {
  // The length comes first: refuse a long one before decoding it.
  const length = decoding.peekVarUint(decoder)
  if (length === 0 || length > max)
    throw new ProtocolError(`a channel of 1 to ${MAX_CHANNEL_BYTES} bytes, or a pattern of 1 to ${MAX_PATTERN_BYTES}`, { reason: 'message-malformed' })
  return decoding.readVarString(decoder)
}

function endOf(decoder: decoding.Decoder): void {
  if (decoding.hasContent(decoder)) throw new ProtocolError('trailing bytes after a pub/sub message', { reason: 'message-malformed' })
}
