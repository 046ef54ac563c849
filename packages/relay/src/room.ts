/**
 * One room: a Y.Doc loaded from storage, the peers connected to it, and the
 * y-protocols sync and awareness exchange between them. Its storage writes
 * and what they acknowledge are in room-writes.ts.
 *
 * Order of work for an update from a peer: check it against the decode
 * budget → apply it to the room's document → (at the end of the task, merged
 * with the other updates of a burst) send it to the other peers → append it
 * to storage → once stored, acknowledge it to the senders (a PERSISTED
 * message with the room's stored state vector, for TideKV clients).
 * A peer is acknowledged only for what storage holds, so an acknowledged
 * write survives a crash of the relay.
 */
import { CloseCode, MessageType } from '@tidekv/core'
import { readSafeVarUint } from '@tidekv/core/wire'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { RelayLimits } from './limits.js'
import type { RelayBus } from './bus.js'
import { ClientOwners } from './client-owners.js'
import type { Peer } from './peer.js'
import type { Metrics } from './metrics.js'
import { Presence, PresenceRefused } from './presence.js'
import { RoomFeed } from './room-feed.js'
import { RoomWrites } from './room-writes.js'
import { type Held, RoomBacklog } from './room-backlog.js'
import { type Batch, RoomFanout } from './room-fanout.js'
import { awarenessMessage, permissionDeniedMessage, persistedMessage, stepOneMessage } from './room-messages.js'
import { type PresenceHolder, RemotePresence } from './remote-presence.js'
import { ProtocolError } from './protocol-error.js'
import { StepOneAnswers } from './step-one.js'
import type { RelayStorage } from './storage.js'
import { applyInTurns, sliceUpdate } from './update-slices.js'
import { checkWriteRules } from './write-rules-check.js'
import { touchedKeys } from './update-keys.js'
import { type Publication, readPublishFrame, RoomPubSub } from './room-pubsub.js'
import { checkUpdate, type ClientClocks, scaleBudget, type UpdateBudget, UpdateRejected, type UpdateSummary } from './update-budget.js'

/**
 * An update with more structs than this is applied in slices of this many,
 * one per event-loop turn, so one client's large offline state does not stall
 * every other room for seconds. Small: about 3 ms of work per slice here
 * (10 ms at p90). With 20,000 (20-45 ms each) the relay stayed responsive to
 * open connections, but Node accepts one new connection per turn, so the
 * ones arriving meanwhile queued up: /healthz from new connections waited up
 * to 0.8 s; with 5,000, 0.1 s. The total time is no longer.
 */
const SLICE_STRUCTS = 5_000
/** Heap a Yjs struct takes once applied, about (600,000 binary items took 330 MiB). */
const HEAP_PER_STRUCT = 600

/** Origin of transactions that load the stored state: not stored again, not sent. */
const STORAGE = Symbol('storage')

/** Origin of updates another relay stored and announced: sent to this room's peers, not stored again. */
const FROM_BUS = Symbol('bus')

/** A loaded room as `relay.rooms` shows it: a snapshot taken when read, not the room itself. */
export interface RoomInfo {
  readonly name: string
  /** Whether its stored state is in memory (false while it loads). */
  readonly loaded: boolean
  /** Connections that joined it (ones waiting for it to load are not counted yet). */
  readonly connections: number
  /** Awareness (presence) states its connections hold. */
  readonly awarenessStates: number
  /** Yjs clients whose edits its document holds. */
  readonly writers: number
  /**
   * Whether its document holds updates Yjs cannot apply yet (built on edits it
   * lacks). Such state is kept in memory and re-read on every update; the
   * decode budget keeps it out, so this stays false.
   */
  readonly pending: boolean
}

export interface RoomContext {
  storage: RelayStorage
  /** Relays sharing rooms: the bus between them, and this relay's id on it. */
  bus?: { readonly bus: RelayBus; readonly relayId: string }
  metrics: Metrics
  limits: RelayLimits
  budget: UpdateBudget
  /** Told the keys of each update the room accepts from its own peers (webhooks.ts); absent without webhooks. */
  webhooks?: { changed(room: string, keys: Iterable<string>): void }
  onError: (error: unknown, room: string) => void
}

export class Room {
  readonly doc = new Y.Doc()
  /** Awareness (presence) states, bounded and owned by the connection that announced them (or by the relay, for other relays' clients). */
  readonly presence = new Presence<PresenceHolder>()
  /** Who listens to which pub/sub channels (nothing of it is stored). */
  private readonly pubsub = new RoomPubSub<Peer>()
  /** Other relays' clients in `presence`, when relays share rooms. */
  private readonly remotePresence: RemotePresence | null
  readonly peers = new Set<Peer>()
  /** Resolves once the stored state is in the document: no peer is served before. */
  readonly ready: Promise<void>
  /** Storage writes, in order, and what storage holds (room-writes.ts). */
  private readonly writes: RoomWrites
  private refusedPeers = new WeakSet<Peer>()
  /** Peers asked to sync again (see `askAgain`) of which the room has taken no sync step 2 since. */
  private readonly askedAgain = new WeakSet<Peer>()
  /** The updates of this task, sent on merged at its end. */
  private readonly fanout: RoomFanout<Peer, typeof FROM_BUS>
  /** Messages held back while the room is busy (a large update applied in slices, a claim awaited). */
  private readonly backlog: RoomBacklog<Peer>
  /** Settles once the update being applied in slices (if any) is all applied. */
  private slicing: Promise<void> = Promise.resolve()
  /** Answers to sync step 1: rate-limited, bounded, the whole room cached for new clients. */
  private readonly stepOne: StepOneAnswers<Peer>
  private readonly stepTwoBudget: UpdateBudget
  private loaded = false
  /** Who owns each Yjs client id (see client-owners.ts); set once loaded. */
  private owners = new ClientOwners()
  /** The link to other relays serving this room, when relays share rooms. */
  private readonly feed: RoomFeed | null

  constructor(
    readonly name: string,
    private readonly ctx: RoomContext,
  ) {
    this.stepTwoBudget = scaleBudget(ctx.limits.maxMessageBytes, ctx.budget)
    this.backlog = new RoomBacklog(ctx.limits.maxBacklogBytes)
    this.fanout = new RoomFanout(this.peers, this.stored)
    this.stepOne = new StepOneAnswers(this.doc, this.stepTwoBudget.maxClients)
    this.feed =
      ctx.bus === undefined
        ? null
        : new RoomFeed({
            room: name,
            bus: ctx.bus.bus,
            relayId: ctx.bus.relayId,
            storage: ctx.storage,
            apply: (update) => Y.applyUpdate(this.doc, update, FROM_BUS),
            applyPresence: (relay, update) => this.remotePresence?.apply(relay, update),
            applyPublish: (frame) => {
              const publication = readPublishFrame(frame)
              if (publication !== undefined) this.deliverPublication(publication)
            },
            onError: (error) => ctx.onError(error, name),
          })
    this.writes = new RoomWrites({
      name,
      doc: this.doc,
      storage: ctx.storage,
      feed: this.feed,
      owners: () => this.owners,
      metrics: ctx.metrics,
      compactAfterUpdates: ctx.limits.compactAfterUpdates,
      onError: (error) => ctx.onError(error, name),
      acknowledgeAll: () => {
        for (const peer of this.peers) if (peer.acks) peer.send(this.persisted())
      },
    })
    this.remotePresence =
      this.feed === null
        ? null
        : new RemotePresence(
            this.presence,
            (update) => this.broadcast(awarenessMessage(update)),
            (error) => ctx.onError(error, name),
          )
    this.ready = this.load()
    this.doc.on('update', this.onUpdate)
  }

  private async load(): Promise<void> {
    // Subscribed before reading storage: nothing another relay stores meanwhile is missed.
    await this.feed?.subscribe()
    this.owners = await ClientOwners.load(this.ctx.storage, this.name)
    const stored = await this.ctx.storage.load(this.name)
    this.doc.transact(() => {
      for (const u of stored.updates) Y.applyUpdate(this.doc, u)
    }, STORAGE)
    this.writes.loaded(stored.lastSeq, stored.updates.length)
    this.feed?.start(stored.lastSeq)
    this.loaded = true
  }

  /** Reads what other relays stored that this room may have missed (the bus reported a gap). */
  catchUp(): Promise<void> {
    return this.feed?.catchUp() ?? Promise.resolve()
  }

  info(): RoomInfo {
    const { store } = this.doc
    return Object.freeze({
      name: this.name,
      loaded: this.loaded,
      connections: this.peers.size,
      awarenessStates: this.presence.size,
      writers: store.clients.size,
      pending: store.pendingStructs !== null || store.pendingDs !== null,
    })
  }

  /** Adds a peer and starts the sync: the room's state vector, then the awareness states. */
  join(peer: Peer): void {
    this.peers.add(peer)
    peer.send(stepOneMessage(this.doc))
    if (this.presence.size > 0) peer.send(awarenessMessage(this.presence.all()))
  }

  /** Sends a publication to this relay's subscribers (but its sender). */
  private deliverPublication(publication: Publication, from?: Peer): void {
    const dropped = this.pubsub.deliver(publication, from)
    for (let i = 0; i < dropped; i++) this.ctx.metrics.reject('pubsub-dropped')
  }

  /** Removes a peer and the awareness states it controlled. */
  leave(peer: Peer): void {
    if (!this.peers.delete(peer)) return
    this.pubsub.leave(peer)
    const removed = this.presence.leave(peer)
    if (removed !== null) {
      this.broadcast(awarenessMessage(removed))
      this.feed?.presence(removed)
    }
  }

  /**
   * Handles one message of a peer.
   * @throws ProtocolError for a malformed message, an unknown type or an update over the decode budget
   */
  receive(peer: Peer, message: Uint8Array): void {
    // While the room is busy, its messages wait, in order, up to a bound.
    if (this.backlog.offer(peer, message)) return
    const decoder = decoding.createDecoder(message)
    try {
      const type = decoding.readVarUint(decoder)
      switch (type) {
        case MessageType.SYNC:
          this.receiveSync(peer, decoder)
          break
        case MessageType.AWARENESS: {
          // A client id another subject owns cannot be announced by this one (see client-owners.ts).
          const changed = this.presence.apply(peer, decoding.readVarUint8Array(decoder), (client) => (this.owners.ownerOf(client) ?? peer.subject) === peer.subject)
          if (changed !== null) {
            this.broadcast(awarenessMessage(changed))
            this.feed?.presence(changed)
          }
          if (peer.mode === 'write') {
            if (this.feed === null) this.claimAnnounced(peer)
            else this.claimAnnouncedShared(peer)
          }
          break
        }
        case MessageType.QUERY_AWARENESS:
          this.stepOne.charge(peer)
          peer.send(awarenessMessage(this.presence.all()))
          break
        case MessageType.PUBSUB: {
          const publication = this.pubsub.receive(peer, decoder)
          if (publication !== null) {
            this.deliverPublication(publication, peer)
            this.feed?.publish(publication.frame)
          }
          break
        }
        case MessageType.PERSISTED:
          // Answered once every update received before the question is stored.
          if (peer.acks) {
            // Echoed back: a safe integer only (lib0 reads 146 × 0x80, 0x7f as Infinity, and writing Infinity never ends).
            const id = decoding.hasContent(decoder) ? readSafeVarUint(decoder) : undefined
            this.flush()
            void this.writes.settled().then(() => this.peers.has(peer) && peer.send(this.persisted(id)))
          }
          break
        default:
          throw new ProtocolError(`unknown message type ${type}`, { reason: 'unknown-message' })
      }
    } catch (e) {
      if (e instanceof ProtocolError) throw e
      if (e instanceof PresenceRefused) throw new ProtocolError(e.message, { cause: e, reason: 'presence-refused' })
      throw new ProtocolError(`malformed message: ${e instanceof Error ? e.message : String(e)}`, { cause: e, reason: 'message-malformed' })
    }
  }

  private receiveSync(peer: Peer, decoder: decoding.Decoder): void {
    const kind = decoding.readVarUint(decoder)
    if (kind === syncProtocol.messageYjsSyncStep1) {
      if (peer.answering) {
        // One answer at a time: a peer asking again before it has read the last one would make the relay
        // hold an answer as large as the room per ask. The answer on its way brings everything the room
        // had when it was made, and live updates follow it; a client asks again on its next connection.
        this.stepOne.charge(peer)
        this.ctx.metrics.reject('sync-busy')
        return
      }
      peer.sendAnswer(this.stepOne.answer(peer, decoding.readVarUint8Array(decoder)))
      return
    }
    if (kind !== syncProtocol.messageYjsSyncStep2 && kind !== syncProtocol.messageYjsUpdate) {
      throw new ProtocolError(`unknown sync message ${kind}`, { reason: 'unknown-message' })
    }
    const update = decoding.readVarUint8Array(decoder)
    /** A live update, not a sync step 2 (an answer to the room's step 1). */
    const live = kind === syncProtocol.messageYjsUpdate
    // Sync step 2 can be a whole document (a client joining with its offline state): it gets
    // a budget scaled to the message size limit; a live update gets the plain one.
    const budget = live ? this.ctx.budget : this.stepTwoBudget
    let summary: UpdateSummary
    try {
      summary = checkUpdate(update, budget, this.roomState, SLICE_STRUCTS)
    } catch (e) {
      if (e instanceof UpdateRejected && e.reason === 'maxClockJump') {
        // It builds on structs the room does not have (yet): Yjs would keep it pending, in
        // memory, forever. Usually a race (an edit overtaking the sync step 2 that carries its
        // predecessors, which carries it too); otherwise the peer is asked to sync again.
        if (peer.mode === 'write') {
          this.ctx.metrics.reject('update-gap')
          if (live) this.askAgain(peer)
        } else {
          this.refuseWrite(peer)
        }
        return
      }
      const reason = e instanceof UpdateRejected && e.code === 'UPDATE_OVER_BUDGET' ? 'update-over-budget' : 'update-malformed'
      throw new ProtocolError(`update refused: ${e instanceof Error ? e.message : String(e)}`, { cause: e, reason })
    }
    if (peer.mode !== 'write') {
      // Every client answers the relay's sync step 1 with a step 2, most often of what the room
      // already has: that is no write, and telling the client so made stock y-websocket log
      // "Permission denied" (with its token in the URL) on every connect. Only structs the room
      // lacks are a refused write. Deletes are dropped unapplied either way: telling new ones
      // from ones the room has would mean walking the room's whole document.
      if (summary.newStructs) this.refuseWrite(peer)
      return
    }
    if (peer.rules !== null) {
      // Against the room as it is now: what the rules allow stays allowed while a claim below is awaited.
      const refusal = checkWriteRules(this.doc, update, peer.rules)
      if (refusal !== null) throw new ProtocolError(`update refused: ${refusal}`, { reason: 'forbidden-write', code: CloseCode.FORBIDDEN, closeReason: refusal })
    }
    if (summary.structs > SLICE_STRUCTS && process.memoryUsage().heapUsed + summary.structs * HEAP_PER_STRUCT > this.ctx.limits.maxHeapBytes) {
      // Memory is the one cost a budget per update cannot bound: many such updates, in many rooms, add up.
      throw new ProtocolError('the relay is short of memory for an update this large: try again later', { reason: 'memory', code: CloseCode.TRY_AGAIN_LATER })
    }
    if (this.feed !== null) {
      this.claimSharedThenApply(peer, update, summary, live)
      return
    }
    if (!this.claimClients(peer, summary.newStructClients)) {
      this.ctx.metrics.reject('foreign-client')
      return
    }
    this.applyChecked(peer, update, summary, live)
  }

  /** Applies an update that passed every check; the peer is the origin, so it is sent to the others and acknowledged to it. */
  private applyChecked(peer: Peer, update: Uint8Array, summary: UpdateSummary, live: boolean): void {
    // Only an answer the room takes ends an ask to sync again: one it drops would come back the same if asked again.
    if (!live) this.askedAgain.delete(peer)
    // Before it is applied: a delete names items whose keys the room can read only while they live.
    if (this.ctx.webhooks !== undefined) {
      try {
        this.ctx.webhooks.changed(this.name, touchedKeys(this.doc, update, false).keys)
      } catch (error) {
        // The outbox failed (disk full, say): the update still applies; the webhook for it is lost, and said so.
        this.ctx.onError(error, this.name)
      }
    }
    const slices = summary.structs <= SLICE_STRUCTS ? [update] : sliceUpdate(update, summary.layout)
    if (slices.length === 1) Y.applyUpdate(this.doc, update, peer)
    else this.applyInSlices(peer, slices)
  }

  /**
   * With other relays on the room: client ids this relay has not seen owned
   * are claimed through the shared log first (another relay may have given
   * them to another subject since this one loaded the room); the room holds
   * its messages meanwhile, in order.
   */
  private claimSharedThenApply(peer: Peer, update: Uint8Array, summary: UpdateSummary, live: boolean): void {
    const clients = summary.newStructClients
    if (clients.some((client) => (this.owners.ownerOf(client) ?? peer.subject) !== peer.subject)) {
      this.ctx.metrics.reject('foreign-client')
      return
    }
    const unowned = clients.filter((client) => this.owners.ownerOf(client) === undefined)
    if (unowned.length === 0) {
      this.applyChecked(peer, update, summary, live)
      return
    }
    this.backlog.hold()
    const settle = (apply: boolean): void => {
      const held = this.backlog.release()
      if (apply) this.applyChecked(peer, update, summary, live)
      this.drain(held)
    }
    this.owners.claimShared(this.ctx.storage, this.name, unowned, peer.subject).then(
      (mine) => {
        if (!mine) this.ctx.metrics.reject('foreign-client')
        settle(mine)
      },
      (error: unknown) => {
        // Not applied, not acknowledged: the peer is asked to sync again.
        this.ctx.onError(error, this.name)
        settle(false)
        if (live && this.peers.has(peer)) this.askAgain(peer)
      },
    )
  }

  /**
   * Applies the slices of one update, one per event-loop turn, holding back
   * the room's other messages meanwhile (they are handled in order after the
   * last slice). Each slice is sent on and stored like any update, so peers
   * see the state grow, and the sender is acknowledged once all of it is stored.
   */
  private applyInSlices(peer: Peer, slices: Uint8Array[]): void {
    this.backlog.hold()
    this.ctx.metrics.slicedUpdates++
    this.slicing = new Promise<void>((resolve) => {
      applyInTurns(this.doc, slices, peer, (failure) => {
        if (failure !== null) {
          // The budget check passed it, so this is a Yjs failure: stop, drop the sender, serve the others.
          this.ctx.metrics.reject('internal-error')
          this.ctx.onError(failure.error, this.name)
          peer.close(CloseCode.INTERNAL_ERROR, 'internal error')
        }
        const held = this.backlog.release()
        resolve()
        this.drain(held)
      })
    })
  }

  /** Handles messages held back while the room was busy (of peers still here). */
  private drain(held: readonly Held<Peer>[]): void {
    this.backlog.drain(held, (peer, message) => this.peers.has(peer) && peer.deliver(message))
  }

  /**
   * Whether `peer` may write new structs under each of `clients`: unowned ones
   * become its subject's (stored before the update is), owned ones must be.
   */
  private claimClients(peer: Peer, clients: readonly number[]): boolean {
    for (const client of clients) {
      const owner = this.owners.ownerOf(client)
      if (owner !== undefined && owner !== peer.subject) return false
    }
    for (const client of clients) if (this.owners.ownerOf(client) === undefined) this.owners.claim(client, peer.subject)
    return true
  }

  /**
   * A writer's presence announces its Yjs client id before it writes: the id
   * becomes its subject's now, so no one can take it first (one GC struct
   * over an unwritten id, sent while its owner is offline, would swallow the
   * owner's offline writes). The claims are stored in the write chain.
   */
  private claimAnnounced(peer: Peer): void {
    let claimed = false
    for (const client of this.presence.idsOf(peer)) {
      if (this.owners.ownerOf(client) !== undefined) continue
      this.owners.claim(client, peer.subject)
      claimed = true
    }
    if (!claimed) return
    this.writes.after(() => this.owners.save(this.ctx.storage, this.name).catch((error: unknown) => this.ctx.onError(error, this.name)))
  }

  /** With other relays on the room: a writer's announced ids are claimed through the shared log. */
  private claimAnnouncedShared(peer: Peer): void {
    const unowned = [...this.presence.idsOf(peer)].filter((client) => this.owners.ownerOf(client) === undefined)
    if (unowned.length === 0) return
    this.owners.claimShared(this.ctx.storage, this.name, unowned, peer.subject).catch((error: unknown) => this.ctx.onError(error, this.name))
  }

  /**
   * Sends `peer` the room's state vector (a sync step 1) after one of its
   * live updates was dropped: it answers with a step 2 of all the room lacks,
   * the dropped update and what it builds on included, without waiting for
   * its next connection (until then its writes would never be acknowledged).
   * Once until the room takes a step 2 of the peer, so a burst of drops costs
   * one, and an answer the room cannot take (dropped itself, or in pieces of
   * which one is dropped) is not asked for again: it would come back the
   * same, round after round.
   */
  private askAgain(peer: Peer): void {
    if (this.askedAgain.has(peer)) return
    this.askedAgain.add(peer)
    peer.send(stepOneMessage(this.doc))
  }

  /** A read-only peer's update is not applied, sent or stored; it is told once why. */
  private refuseWrite(peer: Peer): void {
    this.ctx.metrics.reject('read-only-write')
    if (this.refusedPeers.has(peer)) return
    this.refusedPeers.add(peer)
    peer.send(permissionDeniedMessage('read-only token: updates are refused'))
  }

  /** The room's clock per client, read from the struct store: no state vector is built per update. */
  private readonly roomState: ClientClocks = {
    get: (client: number) => Y.getState(this.doc.store, client),
  }
  private onUpdate = (update: Uint8Array, origin: unknown): void => {
    this.stepOne.changed()
    if (origin === STORAGE) return
    // reason: Set.has compares identity only, so any origin may be looked up; one it finds is a peer
    this.fanout.add(update, origin === FROM_BUS ? FROM_BUS : origin instanceof Object && this.peers.has(origin as Peer) ? (origin as Peer) : null)
  }

  /** Sends the updates applied in this task now (see room-fanout.ts), then stores them. */
  private flush(): void {
    this.fanout.flush()
  }

  /** A batch went out to the peers: store what this relay's peers sent (other relays stored theirs). */
  private stored = ({ updates, origins, merged }: Batch<Peer, typeof FROM_BUS>): void => {
    const local = origins.some((o) => o === FROM_BUS) ? updates.filter((_, i) => origins[i] !== FROM_BUS) : updates
    if (local.length === 0) return
    const update = local === updates ? merged : local.length === 1 ? local[0]! : Y.mergeUpdates(local)
    // Other relays' clients get it now too, as this relay's do; it is stored next.
    this.store(update, new Set(origins), this.feed?.announce(update))
  }

  /** Appends an update to storage after the ones before it, then acknowledges it to its senders. */
  private store(update: Uint8Array, senders: ReadonlySet<Peer | typeof FROM_BUS | null>, ref?: number): void {
    this.writes.store(
      update,
      () => {
        for (const sender of senders) if (sender !== null && sender !== FROM_BUS && sender.acks && this.peers.has(sender)) sender.send(this.persisted())
      },
      ref,
    )
  }

  /** Resolves once every update received so far is stored. */
  flushed(): Promise<void> {
    this.flush()
    return this.writes.done()
  }

  /** Stores what is pending, compacts if the log grew, and frees the document. */
  async unload(): Promise<void> {
    await this.slicing
    this.flush()
    await this.writes.close()
    await this.feed?.close()
    this.remotePresence?.close()
    this.doc.destroy()
  }

  private broadcast(message: Uint8Array): void {
    for (const peer of this.peers) peer.send(message)
  }

  /** A PERSISTED acknowledgement of what storage holds now. */
  private persisted(id?: number): Uint8Array {
    return persistedMessage(this.writes.persisted, id)
  }
}
