/**
 * What relays say to each other on the bus (see docs/PROTOCOL.md, "Between
 * relays"): lib0 encoding, a version byte, the sending relay's id, a type,
 * then the payload.
 *
 *   u8 1 · varString relayId · varUint 1 (UPDATE) · varUint seq · varUint8Array update
 *   u8 1 · varString relayId · varUint 2 (AWARENESS) · varUint8Array awareness update
 *
 * Relays trust each other (they share the storage and the secret), but a bus
 * message is still decoded with safe varints and refused whole if malformed.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { readSafeVarUint } from '@tidekv/core/wire'

const VERSION = 1
/** An update a relay stored, with its seq. */
export const BUS_UPDATE = 1
/** Presence changes of a relay's own clients (y-protocols awareness encoding, as checked by presence.ts). */
export const BUS_AWARENESS = 2

export type BusMessage =
  | { readonly kind: 'update'; readonly relay: string; readonly seq: number; readonly update: Uint8Array }
  | { readonly kind: 'awareness'; readonly relay: string; readonly update: Uint8Array }

export function encodeBusAwareness(relay: string, update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, VERSION)
  encoding.writeVarString(encoder, relay)
  encoding.writeVarUint(encoder, BUS_AWARENESS)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export function encodeBusUpdate(relay: string, seq: number, update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, VERSION)
  encoding.writeVarString(encoder, relay)
  encoding.writeVarUint(encoder, BUS_UPDATE)
  encoding.writeVarUint(encoder, seq)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** Decodes a bus message; undefined when it is not one this relay understands. */
export function decodeBusMessage(message: Uint8Array): BusMessage | undefined {
  try {
    const decoder = decoding.createDecoder(message)
    if (decoding.readUint8(decoder) !== VERSION) return undefined
    const relay = decoding.readVarString(decoder)
    const type = readSafeVarUint(decoder)
    if (type === BUS_AWARENESS) {
      const update = decoding.readVarUint8Array(decoder)
      return decoding.hasContent(decoder) ? undefined : { kind: 'awareness', relay, update }
    }
    if (type !== BUS_UPDATE) return undefined
    const seq = readSafeVarUint(decoder)
    const update = decoding.readVarUint8Array(decoder)
    if (decoding.hasContent(decoder)) return undefined
    return { kind: 'update', relay, seq, update }
  } catch {
    return undefined // reason: a message from a newer relay, or damaged: the next one, or the catch-up from storage, brings what it carried
  }
}
