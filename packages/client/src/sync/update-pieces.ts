/**
 * y-websocket sends a sync step 2 and every local transaction as one
 * message. For a store of a million keys that is a ~70 MiB message, past the
 * relay's limit (16 MiB by default): the relay closes the connection, the
 * provider reconnects and sends it again, for ever. So a step 2 or an update
 * over `PIECE_LIMITS.maxBytes` goes as a run of updates of at most that
 * size (`encodePieces` in core says how they are cut); a step 2's last piece
 * goes as the step 2, so the other side counts as synced only after all of it.
 * Smaller ones go as before, byte for byte.
 */
import { encodePieces, MessageType, PIECE_LIMITS, stepTwoMessages, syncMessage } from '@tidekv/core/wire'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import type { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

/** Installs piecewise sending on `provider` (its sync step 1 handler and its document update handler). */
export function sendInPieces(provider: WebsocketProvider): void {
  const doc = provider.doc
  const stockSync = provider.messageHandlers[MessageType.SYNC]!
  provider.messageHandlers[MessageType.SYNC] = (encoder, decoder, p, emitSynced, messageType) => {
    if (decoding.peekVarUint(decoder) !== syncProtocol.messageYjsSyncStep1) {
      stockSync(encoder, decoder, p, emitSynced, messageType)
      return
    }
    decoding.readVarUint(decoder)
    const messages = stepTwoMessages(doc, decoding.readVarUint8Array(decoder))
    // One message: the provider sends what the handler wrote, as with y-websocket's own handler.
    if (messages.length === 1) encoding.writeUint8Array(encoder, messages[0]!)
    else for (const message of messages) send(p, message)
  }

  doc.off('update', provider._updateHandler)
  // A transaction is handed to 'update' listeners, with what it changed: its pieces come from that.
  provider._updateHandler = (update: Uint8Array, origin: unknown, _doc?: Y.Doc, tr?: Y.Transaction) => {
    if (origin === provider) return
    const pieces = update.length <= PIECE_LIMITS.maxBytes || tr === undefined ? [update] : encodePieces(doc, tr.beforeState, tr.deleteSet)
    for (const piece of pieces) send(provider, syncMessage(syncProtocol.messageYjsUpdate, piece))
  }
  doc.on('update', provider._updateHandler)
}

/** What y-websocket's broadcast does with its channel disabled: send while connected, drop otherwise (the next sync brings it). */
function send(provider: WebsocketProvider, message: Uint8Array): void {
  if (provider.wsconnected && provider.ws !== null) provider.ws.send(message)
}
