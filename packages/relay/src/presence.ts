/**
 * Presence (y-protocols awareness) as the relay keeps it: for each client id,
 * its clock and its state as the raw JSON text a peer sent, and the peer that
 * owns it.
 *
 * Why not y-protocols' `Awareness`: it parses every state and stringifies it
 * again to forward it, so one state nested 20,000 deep (40 KB) overflowed the
 * stack on the next join and took the relay down; it applies and broadcasts a
 * message's states before anyone can count them (200,000 made-up client ids
 * reached every peer); and any peer may overwrite or remove any client's
 * state. Here a message is checked whole before anything changes: at most
 * `MAX_STATES_PER_PEER` states, each at most `MAX_STATE_BYTES` of JSON nested
 * at most `MAX_STATE_DEPTH` deep. A client id belongs to the connection that
 * first announced it, until it removes it or leaves; other connections'
 * updates to it are dropped (stock clients echo each other's states, and
 * remove ones they have not heard from in 30 s: that is not an attack, so it
 * is not a protocol error). The room may also refuse ids outright (`allowed`:
 * a Yjs client id owned by another token subject cannot be announced by this
 * one), and an id whose state was removed stays with the token subject that
 * held it (another subject could otherwise take it over with a clock its
 * owner would never reach). States are forwarded as received, never re-encoded.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { readSafeVarUint } from '@tidekv/core/wire'

/** Awareness states one connection may hold (a few tabs' worth; a TideKV client or y-websocket provider holds one). */
export const MAX_STATES_PER_PEER = 32
/** Bytes of JSON one state may take (a user's name, colour and cursor take well under 1 KiB). */
export const MAX_STATE_BYTES = 16 * 1024
/** How deep one state's JSON may nest. */
export const MAX_STATE_DEPTH = 32
/** Bytes of JSON all states of a room may take together (1,000 users at 4 KiB each). */
export const MAX_ROOM_STATE_BYTES = 4 * 1024 * 1024
/** Clocks of removed client ids remembered, so a stale echo of a removed state does not bring it back. */
const MAX_TOMBSTONES = 10_000
/** Yjs client ids are unsigned 32-bit. */
const MAX_CLIENT_ID = 0xffff_ffff

/** A presence message the relay refuses as a whole: the connection is closed with a protocol error. */
export class PresenceRefused extends Error {
  override readonly name = 'PresenceRefused'
}

interface State<P> {
  clock: number
  /** JSON text, never `null` (a removed state is not kept). */
  json: string
  owner: P
  /** When it was last announced (performance.now()), to expire states whose holder stopped renewing them. */
  at: number
}

interface Announced {
  client: number
  clock: number
  json: string
}

export class Presence<P extends { readonly subject: string }> {
  #states = new Map<number, State<P>>()
  /** Length (UTF-16 units) of the JSON of every state held: bounded per room. */
  #stateChars = 0
  /** `all()` encoded, until a state changes. */
  #all: Uint8Array | null = null
  #owned = new Map<P, Set<number>>()
  /** Clock at which each removed client id was removed. */
  #removed = new Map<number, { clock: number; subject: string | null }>()

  /** States held now. */
  get size(): number {
    return this.#states.size
  }

  /**
   * Applies a peer's awareness update (y-protocols' encoding) and returns the
   * update to send to every peer (only what changed), or null. `trusted`: the
   * changes another relay announced for its own clients (the holder stands
   * for that relay: no per-connection cap, and an id it removes stays open
   * to the subject that comes back through any relay).
   * @throws PresenceRefused when the message is malformed or over a bound; nothing has changed then
   */
  apply(peer: P, update: Uint8Array, allowed: (client: number) => boolean = () => true, trusted = false): Uint8Array | null {
    const announced = decodeUpdate(update).filter((a) => allowed(a.client))
    const owned = this.#owned.get(peer) ?? new Set<number>()
    // Count first: a message claiming more ids than a peer may hold changes nothing.
    let claims = owned.size
    for (const a of announced) if (a.json !== 'null' && !this.#states.has(a.client) && !owned.has(a.client)) claims++
    if (claims > MAX_STATES_PER_PEER && !trusted) throw new PresenceRefused(`a connection may hold at most ${MAX_STATES_PER_PEER} awareness states`)
    let growth = 0
    for (const a of announced) growth += a.json.length - (this.#states.get(a.client)?.json.length ?? 0)
    if (this.#stateChars + growth > MAX_ROOM_STATE_BYTES) throw new PresenceRefused(`the room's awareness states may take at most ${MAX_ROOM_STATE_BYTES} bytes`)
    const changed: Announced[] = []
    for (const a of announced) {
      const held = this.#states.get(a.client)
      if (held !== undefined && held.owner !== peer) continue // another connection's client: dropped
      const removed = held === undefined ? this.#removed.get(a.client) : undefined
      // A removed id stays its last holder's subject's: no one else can take it over (and set its clock past reach).
      if (removed !== undefined && removed.subject !== null && removed.subject !== peer.subject) continue
      const clock = held?.clock ?? removed?.clock ?? -1
      // y-protocols' rule: a newer clock wins; at the same clock, a removal wins.
      if (!(a.clock > clock || (a.clock === clock && a.json === 'null' && held !== undefined))) continue
      this.#all = null
      if (a.json === 'null') {
        if (held === undefined) continue
        this.#stateChars -= held.json.length
        this.#states.delete(a.client)
        owned.delete(a.client)
        this.#tombstone(a.client, a.clock, trusted ? null : peer.subject)
      } else {
        this.#removed.delete(a.client)
        this.#stateChars += a.json.length - (held?.json.length ?? 0)
        this.#states.set(a.client, { clock: a.clock, json: a.json, owner: peer, at: performance.now() })
        owned.add(a.client)
      }
      changed.push(a)
    }
    if (owned.size > 0) this.#owned.set(peer, owned)
    else this.#owned.delete(peer)
    return changed.length === 0 ? null : encodeUpdate(changed)
  }

  /** Removes every state a peer owns; returns the update that tells the others, or null. */
  leave(peer: P): Uint8Array | null {
    const owned = this.#owned.get(peer)
    this.#owned.delete(peer)
    if (owned === undefined || owned.size === 0) return null
    const removed: Announced[] = []
    for (const client of owned) {
      const held = this.#states.get(client)
      if (held === undefined) continue
      this.#all = null
      this.#stateChars -= held.json.length
      this.#states.delete(client)
      // As y-protocols removes a state: one clock later, state null.
      removed.push({ client, clock: held.clock + 1, json: 'null' })
      this.#tombstone(client, held.clock + 1, peer.subject)
    }
    return removed.length === 0 ? null : encodeUpdate(removed)
  }

  /**
   * Removes the states `stale` picks (by holder and time of the last
   * announcement); returns the update that tells the others, or null.
   */
  expire(stale: (owner: P, at: number) => boolean): Uint8Array | null {
    const removed: Announced[] = []
    for (const [client, held] of this.#states) {
      if (!stale(held.owner, held.at)) continue
      this.#all = null
      this.#stateChars -= held.json.length
      this.#states.delete(client)
      this.#owned.get(held.owner)?.delete(client)
      removed.push({ client, clock: held.clock + 1, json: 'null' })
      this.#tombstone(client, held.clock + 1, null)
    }
    return removed.length === 0 ? null : encodeUpdate(removed)
  }

  /** The client ids `peer` holds states for. */
  idsOf(peer: P): ReadonlySet<number> {
    return this.#owned.get(peer) ?? new Set()
  }

  /** Every state held, as one update (for a peer that joins or asks); with none, an update of none. */
  all(): Uint8Array {
    return (this.#all ??= encodeUpdate([...this.#states].map(([client, s]) => ({ client, clock: s.clock, json: s.json }))))
  }

  #tombstone(client: number, clock: number, subject: string | null): void {
    this.#removed.delete(client)
    this.#removed.set(client, { clock, subject })
    if (this.#removed.size > MAX_TOMBSTONES) this.#removed.delete(this.#removed.keys().next().value!)
  }
}

/** Decodes and checks a whole awareness update before anything is applied. */
function decodeUpdate(update: Uint8Array): Announced[] {
  try {
    const decoder = decoding.createDecoder(update)
    const count = readSafeVarUint(decoder)
    // Each state takes at least 3 bytes: a count past that is a lie, and a count past the cap is refused anyway.
    if (count > MAX_STATES_PER_PEER || count * 3 > update.length) throw new PresenceRefused(`an awareness update may carry at most ${MAX_STATES_PER_PEER} states`)
    const out: Announced[] = []
    for (let i = 0; i < count; i++) {
      const client = readSafeVarUint(decoder)
      const clock = readSafeVarUint(decoder)
      if (client > MAX_CLIENT_ID) throw new PresenceRefused(`client id ${client} is not a 32-bit id`)
      const length = readSafeVarUint(decoder)
      if (length > MAX_STATE_BYTES) throw new PresenceRefused(`an awareness state may take at most ${MAX_STATE_BYTES} bytes`)
      const json = new TextDecoder('utf-8', { fatal: true }).decode(decoding.readUint8Array(decoder, length))
      checkJson(json)
      out.push({ client, clock, json })
    }
    if (decoding.hasContent(decoder)) throw new PresenceRefused('bytes after the last awareness state')
    return out
  } catch (e) {
    if (e instanceof PresenceRefused) throw e
    throw new PresenceRefused(`malformed awareness update: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
}

/** Refuses JSON nested deeper than `MAX_STATE_DEPTH` (counted on the text, so nothing recurses), then any that does not parse. */
function checkJson(json: string): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_STATE_DEPTH) throw new PresenceRefused(`an awareness state may nest at most ${MAX_STATE_DEPTH} deep`)
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  JSON.parse(json)
}

function encodeUpdate(states: readonly Announced[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, states.length)
  for (const s of states) {
    encoding.writeVarUint(encoder, s.client)
    encoding.writeVarUint(encoder, s.clock)
    encoding.writeVarString(encoder, s.json)
  }
  return encoding.toUint8Array(encoder)
}
