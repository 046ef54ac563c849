/** The messages a room sends its peers, besides sync answers (core's `stepTwoMessages` and `syncMessage`). */
import { MessageType } from '@tidekv/core'
import * as encoding from 'lib0/encoding'
import * as authProtocol from 'y-protocols/auth'
import * as syncProtocol from 'y-protocols/sync'
import type * as Y from 'yjs'

/** Sync step 1 with the room's state vector: what a joining peer is sent first. */
export function stepOneMessage(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.SYNC)
  syncProtocol.writeSyncStep1(encoder, doc)
  return encoding.toUint8Array(encoder)
}

/** An AWARENESS message carrying a y-protocols awareness update. */
export function awarenessMessage(update: Uint8Array): Uint8Array {
  return bytesMessage(MessageType.AWARENESS, update)
}

/** A PERSISTED acknowledgement: the stored state vector, and the id of the question it answers, if any (docs/PROTOCOL.md). */
export function persistedMessage(storedStateVector: Uint8Array, id?: number): Uint8Array {
  return bytesMessage(MessageType.PERSISTED, storedStateVector, id)
}

/** y-protocols' auth "permission denied", which stock y-websocket clients understand. */
export function permissionDeniedMessage(reason: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.AUTH)
  authProtocol.writePermissionDenied(encoder, reason)
  return encoding.toUint8Array(encoder)
}

/** A message of `type` holding `bytes` (lib0 varUint8Array), then `id` if given. */
function bytesMessage(type: number, bytes: Uint8Array, id?: number): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  encoding.writeVarUint8Array(encoder, bytes)
  if (id !== undefined) encoding.writeVarUint(encoder, id)
  return encoding.toUint8Array(encoder)
}
