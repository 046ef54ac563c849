/**
 * Cross-tab sync without a server: stores of one name in tabs of one origin
 * exchange Yjs updates over a BroadcastChannel. On joining, a tab sends its
 * state vector and every other tab answers with what it lacks (and its own
 * state vector, so the newcomer answers back). Updates applied from the
 * channel carry the 'tab' origin: they are not stored again (the tab that
 * made them did) and not echoed.
 *
 * One relay connection per tab is kept (see sync-link.ts): this channel only
 * makes tabs converge at once, with or without a relay.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { startedPending, TransactionOrigin } from '@tidekv/core/internal'

const STATE_VECTOR = 0
const UPDATE = 1
const ANSWER = 2

export class TabChannel {
  readonly #channel: BroadcastChannel
  readonly origin = new TransactionOrigin('tab', this)

  /**
   * @param send false for a read-only store: it listens, but its own writes
   * must never reach a tab that could forward them to the relay.
   */
  constructor(
    name: string,
    private readonly doc: Y.Doc,
    private readonly send: boolean,
    private readonly onError: (error: unknown) => void,
  ) {
    this.#channel = new BroadcastChannel(`tidekv:${name}`)
    // In Node, an open channel would keep the process alive.
    // reason: Node's BroadcastChannel has unref (not in the DOM lib's type); browsers' has none, and the optional call skips it
    ;(this.#channel as { unref?: () => void }).unref?.()
    this.#channel.onmessage = (event: MessageEvent) => this.#receive(event.data)
    doc.on('update', this.#onUpdate)
    this.#post(STATE_VECTOR, Y.encodeStateVector(doc))
  }

  #onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    // Storage rows are every tab's already; channel updates came from a tab. Unless the update
    // integrated pending state, heard from elsewhere, that the other tabs may lack.
    if ((origin === this.origin || (origin instanceof TransactionOrigin && origin.kind === 'storage')) && !startedPending(tr)) return
    if (this.send) this.#post(UPDATE, update)
  }

  #receive(data: unknown): void {
    if (!(data instanceof Uint8Array)) return
    try {
      const dec = decoding.createDecoder(data)
      const type = decoding.readVarUint(dec)
      const payload = decoding.readVarUint8Array(dec)
      if (type === STATE_VECTOR) {
        if (this.send) this.#post(UPDATE, Y.encodeStateAsUpdate(this.doc, payload))
        this.#post(ANSWER, Y.encodeStateVector(this.doc))
      } else if (type === ANSWER) {
        if (this.send) this.#post(UPDATE, Y.encodeStateAsUpdate(this.doc, payload))
      } else if (type === UPDATE) {
        Y.applyUpdate(this.doc, payload, this.origin)
      }
    } catch (error) {
      this.onError(error)
    }
  }

  #post(type: number, payload: Uint8Array): void {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, type)
    encoding.writeVarUint8Array(enc, payload)
    this.#channel.postMessage(encoding.toUint8Array(enc))
  }

  close(): void {
    this.doc.off('update', this.#onUpdate)
    this.#channel.close()
  }
}
