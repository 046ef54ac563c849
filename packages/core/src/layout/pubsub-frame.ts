/**
 * A PUBSUB message (see `MessageType.PUBSUB`), written one way for the
 * client and the relay: `varUint` type, `varUint` op, `varString` channel or
 * pattern, and for PUBLISH the `varUint8Array` id and message.
 */
import * as encoding from 'lib0/encoding'
import { MessageType } from './protocol.js'

export function pubsubFrame(op: number, name: string, id?: Uint8Array, message?: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MessageType.PUBSUB)
  encoding.writeVarUint(enc, op)
  encoding.writeVarString(enc, name)
  if (id !== undefined && message !== undefined) {
    encoding.writeVarUint8Array(enc, id)
    encoding.writeVarUint8Array(enc, message)
  }
  return encoding.toUint8Array(enc)
}
