import { MessageType, PubSubOp, WriteRules } from '@tidekv/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from './protocol-error.js'
import { MATCH_STEPS_PER_SECOND, MAX_PATTERN_BYTES, MAX_PATTERNS, type PubSubPeer, RoomPubSub } from './room-pubsub.js'

function peer(mode: 'read' | 'write' = 'write', rules: WriteRules | null = null): PubSubPeer & { got: Uint8Array[] } {
  const got: Uint8Array[] = []
  return { mode, rules, got, send: (m) => got.push(m) }
}

/** A PUBSUB message as a client sends it, with its type already read (as the room hands it over). */
function message(op: number, ...parts: (string | Uint8Array)[]): decoding.Decoder {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MessageType.PUBSUB)
  encoding.writeVarUint(enc, op)
  for (const part of parts) typeof part === 'string' ? encoding.writeVarString(enc, part) : encoding.writeVarUint8Array(enc, part)
  const decoder = decoding.createDecoder(encoding.toUint8Array(enc))
  decoding.readVarUint(decoder)
  return decoder
}

const id = new Uint8Array(16)
const value = new Uint8Array([125, 1])

describe('RoomPubSub', () => {
  it('forwards a message to the peers subscribed to its channel or to a matching pattern, once each, never to the sender', () => {
    const room = new RoomPubSub<ReturnType<typeof peer>>()
    const [a, b, c, d] = [peer(), peer(), peer(), peer('read')]
    room.receive(b, message(PubSubOp.SUBSCRIBE, 'chat:1'))
    room.receive(b, message(PubSubOp.PSUBSCRIBE, 'chat:*'))
    room.receive(c, message(PubSubOp.PSUBSCRIBE, 'news:*'))
    room.receive(d, message(PubSubOp.PSUBSCRIBE, '*'))
    room.receive(a, message(PubSubOp.SUBSCRIBE, 'chat:1'))
    const publication = room.receive(a, message(PubSubOp.PUBLISH, 'chat:1', id, value))!
    room.deliver(publication, a)
    expect([a.got.length, b.got.length, c.got.length, d.got.length]).toEqual([0, 1, 0, 1])
    room.receive(b, message(PubSubOp.UNSUBSCRIBE, 'chat:1'))
    room.receive(b, message(PubSubOp.PUNSUBSCRIBE, 'chat:*'))
    room.deliver(publication, a)
    expect(b.got.length).toBe(1)
  })

  it('refuses a publish of a read-only peer, or outside its write rules, with 4403', () => {
    const room = new RoomPubSub<ReturnType<typeof peer>>()
    expect(() => room.receive(peer('read'), message(PubSubOp.PUBLISH, 'c', id, value))).toThrow(expect.objectContaining({ code: 4403 }))
    expect(() => room.receive(peer('write', new WriteRules(['user:42:*'])), message(PubSubOp.PUBLISH, 'c', id, value))).toThrow(expect.objectContaining({ code: 4403 }))
    expect(room.receive(peer('write', new WriteRules(['user:42:*'])), message(PubSubOp.PUBLISH, 'user:42:typing', id, value))).not.toBeNull()
  })

  it('refuses frames it cannot bound: long names, bad ids, unknown ops, trailing bytes, too many patterns', () => {
    const room = new RoomPubSub<ReturnType<typeof peer>>()
    const p = peer()
    for (const bad of [
      message(PubSubOp.SUBSCRIBE, 'x'.repeat(1025)),
      message(PubSubOp.PSUBSCRIBE, 'x'.repeat(MAX_PATTERN_BYTES + 1)),
      message(PubSubOp.PUBLISH, 'c', new Uint8Array(0), value),
      message(PubSubOp.PUBLISH, 'c', new Uint8Array(33), value),
      message(9, 'c'),
      message(PubSubOp.SUBSCRIBE, 'c', 'trailing'),
    ]) {
      expect(() => room.receive(p, bad)).toThrow(ProtocolError)
    }
    for (let i = 0; i < MAX_PATTERNS; i++) room.receive(p, message(PubSubOp.PSUBSCRIBE, `p${i}:*`))
    expect(() => room.receive(p, message(PubSubOp.PSUBSCRIBE, 'one:more:*'))).toThrow(expect.objectContaining({ code: 1008 }))
  })

  it('makes a subscriber with patterns chosen to be slow pay for them: past its budget, messages to it are dropped, others still get them', () => {
    const room = new RoomPubSub<ReturnType<typeof peer>>()
    const slow = peer()
    const plain = peer()
    // The matcher's worst case: a long literal after a star, against a long channel of the same letter.
    for (let i = 0; i < MAX_PATTERNS; i++) room.receive(slow, message(PubSubOp.PSUBSCRIBE, `*${'a'.repeat(MAX_PATTERN_BYTES - 3)}${i % 10}`))
    room.receive(plain, message(PubSubOp.PSUBSCRIBE, 'a*'))
    const channel = 'a'.repeat(1024)
    const perPublish = MAX_PATTERNS * MAX_PATTERN_BYTES * 1024
    const publications = Math.ceil((2 * MATCH_STEPS_PER_SECOND) / perPublish) + 2
    let dropped = 0
    const started = performance.now()
    for (let i = 0; i < publications; i++) dropped += room.deliver(room.receive(peer(), message(PubSubOp.PUBLISH, channel, id, value))!)
    const elapsed = performance.now() - started
    expect(plain.got.length).toBe(publications)
    // The budget refills with time: at most what it held plus what the elapsed time added was spent on matching.
    const allowed = Math.ceil((MATCH_STEPS_PER_SECOND * (1 + elapsed / 1000)) / perPublish)
    expect(publications - dropped).toBeLessThanOrEqual(allowed + 1)
    expect(dropped).toBeGreaterThan(0)
  })
})
