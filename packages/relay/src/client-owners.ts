/**
 * Who owns each Yjs client id of a room, so that no one can write structs
 * under a client id that belongs to someone else.
 *
 * Yjs trusts the client id in an update: a peer could send a GC struct over a
 * victim's next clocks (the victim's offline writes were then dropped on
 * reconnect, and its later ones, built on them, stored as GC yet
 * acknowledged), or an entry at the victim's next clock (read everywhere as
 * the victim's, while the victim's own write at that clock was dropped).
 *
 * The rule: a client id belongs to the token subject (`sub`) of the
 * connection that first wrote a struct under it in the room. An update that
 * brings structs past the room's state under a client id another subject owns
 * is dropped whole (the connection stays). What does not need ownership:
 * structs the room already has (every sync step 2 repeats other clients'
 * structs), delete sets (overwrites delete other replicas' entries), and
 * tabs of one user forwarding each other's writes (one subject). Connections
 * without a subject (anonymous, or a token without `sub`) share the subject
 * "": among them there is no protection, so a relay that lets anonymous or
 * subject-less clients write cannot tell them apart.
 *
 * Ownership is stored beside the room's updates, under the storage key
 * `<room>` + U+0000 + `owners` (room names with U+0000 are refused at the
 * upgrade, so no room can be named that), as a log of claims where the first
 * claim of a client id wins; a claim is stored before the update that made
 * it, so it survives a restart. Relays that share a room (a bus) claim
 * through that log before applying (`claimShared`): its order settles
 * which relay's claim came first.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { readSafeVarUint } from '@tidekv/core/wire'
import type { RelayStorage } from './storage.js'

/** The storage key of a room's ownership records. */
export function ownersKey(room: string): string {
  return `${room}\u0000owners`
}

export class ClientOwners {
  readonly #owners = new Map<number, string>()
  #unsaved: [number, string][] = []
  /** The seq of the last stored record, for compaction. */
  #lastSeq = 0
  #records = 0

  /** Reads a room's stored ownership. */
  static async load(storage: RelayStorage, room: string): Promise<ClientOwners> {
    const owners = new ClientOwners()
    const stored = await storage.load(ownersKey(room))
    owners.#merge(stored.updates)
    owners.#lastSeq = stored.lastSeq
    owners.#records = stored.updates.length
    return owners
  }

  /** Records in log order: the first claim of a client wins, so every relay reading the log agrees. */
  #merge(records: readonly Uint8Array[]): void {
    for (const record of records) for (const [client, subject] of decodeRecord(record)) if (!this.#owners.has(client)) this.#owners.set(client, subject)
  }

  /**
   * For relays that share the room: claims `clients` for `subject` in the
   * shared log, then reads the log up to and past that record. Whichever
   * relay's claim of a client came first in the log wins, on every relay, so
   * two relays cannot give one client id to two subjects. Resolves whether
   * every one of `clients` is `subject`'s.
   */
  async claimShared(storage: RelayStorage, room: string, clients: readonly number[], subject: string): Promise<boolean> {
    await storage.append(ownersKey(room), encodeRecord(clients.map((client) => [client, subject])))
    const { updates, lastSeq } = await storage.loadSince(ownersKey(room), this.#lastSeq)
    this.#merge(updates)
    this.#records += updates.length
    if (lastSeq > this.#lastSeq) this.#lastSeq = lastSeq
    return clients.every((client) => this.#owners.get(client) === subject)
  }

  get size(): number {
    return this.#owners.size
  }

  ownerOf(client: number): string | undefined {
    return this.#owners.get(client)
  }

  /** Gives `client` to `subject` now; stored by the next `save`. */
  claim(client: number, subject: string): void {
    this.#owners.set(client, subject)
    this.#unsaved.push([client, subject])
  }

  /** Stores the claims made since the last save. */
  async save(storage: RelayStorage, room: string): Promise<void> {
    if (this.#unsaved.length === 0) return
    const claims = this.#unsaved
    this.#unsaved = []
    try {
      this.#lastSeq = await storage.append(ownersKey(room), encodeRecord(claims))
      this.#records++
    } catch (error) {
      this.#unsaved = claims.concat(this.#unsaved)
      throw error
    }
  }

  /** Replaces the stored records with one, when there are several. */
  async compact(storage: RelayStorage, room: string): Promise<void> {
    if (this.#records <= 1 || this.#unsaved.length > 0) return
    await storage.compact(ownersKey(room), encodeRecord([...this.#owners]), this.#lastSeq)
    this.#records = 1
  }
}

function encodeRecord(claims: readonly (readonly [number, string])[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, claims.length)
  for (const [client, subject] of claims) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarString(encoder, subject)
  }
  return encoding.toUint8Array(encoder)
}

function decodeRecord(record: Uint8Array): [number, string][] {
  const decoder = decoding.createDecoder(record)
  const count = readSafeVarUint(decoder)
  const claims: [number, string][] = []
  for (let i = 0; i < count; i++) claims.push([readSafeVarUint(decoder), decoding.readVarString(decoder)])
  return claims
}
