/**
 * Relay messages built and read byte by byte, for tests that speak to a relay
 * as a raw socket (test/hostile, test/scale-out): y-protocols sync and
 * awareness frames, a Yjs update of one GC struct, and the varint lib0 reads
 * as Infinity.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type WebSocket from 'ws'
import { MessageType } from '@tidekv/core'

/** lib0's readVarUint reads this as Infinity (146 × 0x80, then 0x7f). */
export const INFINITE_VARINT: readonly number[] = [...new Array<number>(146).fill(0x80), 0x7f]

/** A y-protocols sync message: `kind` 0 (step 1), 1 (step 2) or 2 (update). */
export function syncMessage(kind: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.SYNC)
  encoding.writeVarUint(encoder, kind)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

/** A Yjs update holding one GC struct: `length` clocks of `client` from `clock` on. */
export function gcUpdate(client: number, clock: number, length: number): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 1) // one client block
  encoding.writeVarUint(enc, 1) // one struct
  encoding.writeVarUint(enc, client)
  encoding.writeVarUint(enc, clock)
  encoding.writeUint8(enc, 0) // GC
  encoding.writeVarUint(enc, length)
  encoding.writeVarUint(enc, 0) // empty delete set
  return encoding.toUint8Array(enc)
}

/** An awareness message (y-protocols' encoding) announcing `states` as [client id, clock, JSON text]; `count` may lie. */
export function awarenessMessage(states: readonly (readonly [number, number, string])[], count = states.length): Uint8Array {
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, count)
  for (const [client, clock, json] of states) {
    encoding.writeVarUint(update, client)
    encoding.writeVarUint(update, clock)
    encoding.writeVarString(update, json)
  }
  const message = encoding.createEncoder()
  encoding.writeVarUint(message, MessageType.AWARENESS)
  encoding.writeVarUint8Array(message, encoding.toUint8Array(update))
  return encoding.toUint8Array(message)
}

/** The client ids and JSON texts of an awareness message (a removal is 'null'). */
export function awarenessStates(message: Uint8Array): Map<number, string> {
  const outer = decoding.createDecoder(message)
  decoding.readVarUint(outer) // the message type
  const inner = decoding.createDecoder(decoding.readVarUint8Array(outer))
  const states = new Map<number, string>()
  const n = decoding.readVarUint(inner)
  for (let i = 0; i < n; i++) {
    const client = decoding.readVarUint(inner)
    decoding.readVarUint(inner) // the clock
    states.set(client, decoding.readVarString(inner))
  }
  return states
}

/** Collects every awareness state a socket is sent, by client id (the last one wins; a removal is 'null'). */
export function presenceSeenBy(ws: WebSocket): Map<number, string> {
  const seen = new Map<number, string>()
  ws.on('message', (data: Buffer) => {
    const bytes = new Uint8Array(data)
    if (bytes[0] !== MessageType.AWARENESS) return
    for (const [client, json] of awarenessStates(bytes)) seen.set(client, json)
  })
  return seen
}

/** The HTTP status of `GET /healthz`; rejects when the relay does not answer within `timeoutMs`. */
export async function healthzStatus(http: string, timeoutMs = 5000): Promise<number> {
  const res = await fetch(`${http}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })
  return res.status
}
