/**
 * What relays say to each other on the bus (see docs/PROTOCOL.md, "Between
 * relays"): lib0 encoding, a version byte, the sending relay's id, a type,
 * then the payload.
 *
 *   u8 1 · varString relayId · varUint 1 (UPDATE) · varUint seq · varUint8Array update
 *   u8 1 · varString relayId · varUint 2 (AWARENESS) · varUint8Array awareness update
 *   u8 1 · varString relayId · varUint 3 (PENDING) · varUint ref · varUint8Array update
 *   u8 1 · varString relayId · varUint 4 (STORED) · varUint ref · varUint seq
 *   u8 1 · varString relayId · varUint 5 (PUBLISH) · varUint8Array PUBLISH frame (as relays send clients)
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
/** An update a relay's clients sent, announced before it is stored (`ref`: the relay's number for it). */
export const BUS_PENDING = 3
/** The update announced as PENDING `ref` is stored as `seq`. */
export const BUS_STORED = 4
/** A pub/sub message a relay's client published: the frame its subscribers get. */
export const BUS_PUBLISH = 5

export type BusMessage =
  | { readonly kind: 'update'; readonly relay: string; readonly seq: number; readonly update: Uint8Array }
  | { readonly kind: 'awareness'; readonly relay: string; readonly update: Uint8Array }
  | { readonly kind: 'pending'; readonly relay: string; readonly ref: number; readonly update: Uint8Array }
  | { readonly kind: 'stored'; readonly relay: string; readonly ref: number; readonly seq: number }
  | { readonly kind: 'publish'; readonly relay: string; readonly frame: Uint8Array }

export function encodeBusPublish(relay: string, frame: Uint8Array): Uint8Array {
  const encoder = header(relay, BUS_PUBLISH)
  encoding.writeVarUint8Array(encoder, frame)
  return encoding.toUint8Array(encoder)
}

export function encodeBusAwareness(relay: string, update: Uint8Array): Uint8Array {
  const encoder = header(relay, BUS_AWARENESS)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export function encodeBusUpdate(relay: string, seq: number, update: Uint8Array): Uint8Array {
  const encoder = header(relay, BUS_UPDATE)
  encoding.writeVarUint(encoder, seq)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export function encodeBusPending(relay: string, ref: number, update: Uint8Array): Uint8Array {
  const encoder = header(relay, BUS_PENDING)
  encoding.writeVarUint(encoder, ref)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export function encodeBusStored(relay: string, ref: number, seq: number): Uint8Array {
  const encoder = header(relay, BUS_STORED)
  encoding.writeVarUint(encoder, ref)
  encoding.writeVarUint(encoder, seq)
  return encoding.toUint8Array(encoder)
}

function header(relay: string, type: number): encoding.Encoder {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, VERSION)
  encoding.writeVarString(encoder, relay)
  encoding.writeVarUint(encoder, type)
  return encoder
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
    if (type === BUS_PUBLISH) {
      const frame = decoding.readVarUint8Array(decoder)
      return decoding.hasContent(decoder) ? undefined : { kind: 'publish', relay, frame }
    }
    let decoded: BusMessage
    if (type === BUS_UPDATE) decoded = { kind: 'update', relay, seq: readSafeVarUint(decoder), update: decoding.readVarUint8Array(decoder) }
    else if (type === BUS_PENDING) decoded = { kind: 'pending', relay, ref: readSafeVarUint(decoder), update: decoding.readVarUint8Array(decoder) }
    else if (type === BUS_STORED) decoded = { kind: 'stored', relay, ref: readSafeVarUint(decoder), seq: readSafeVarUint(decoder) }
    else return undefined
    return decoding.hasContent(decoder) ? undefined : decoded
  } catch {
    return undefined // reason: a message from a newer relay, or damaged: the next one, or the catch-up from storage, brings what it carried
  }
}
