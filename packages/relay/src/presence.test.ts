/**
 * Presence on its own: what another relay's stand-in may hold, and how
 * states whose holder stopped renewing them expire (the relays' presence
 * across processes relies on both; test/scale-out covers the wiring).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { MAX_STATES_PER_PEER, Presence } from './presence.js'

function update(states: [number, number, string][]): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, states.length)
  for (const [client, clock, json] of states) {
    encoding.writeVarUint(enc, client)
    encoding.writeVarUint(enc, clock)
    encoding.writeVarString(enc, json)
  }
  return encoding.toUint8Array(enc)
}

function decoded(bytes: Uint8Array): [number, number, string][] {
  const dec = decoding.createDecoder(bytes)
  return Array.from({ length: decoding.readVarUint(dec) }, () => [decoding.readVarUint(dec), decoding.readVarUint(dec), decoding.readVarString(dec)])
}

describe('Presence', () => {
  it("lets another relay's stand-in hold more states than one connection may (all that relay's clients)", () => {
    const presence = new Presence<{ subject: string }>()
    const relay = { subject: '' }
    for (let i = 0; i < 3; i++) presence.apply(relay, update(Array.from({ length: 30 }, (_, k): [number, number, string] => [i * 100 + k + 1, 1, '{}'])), () => true, true)
    expect(presence.size).toBe(90)
    const connection = { subject: 's' }
    expect(() => presence.apply(connection, update(Array.from({ length: MAX_STATES_PER_PEER + 1 }, (_, k): [number, number, string] => [1000 + k, 1, '{}'])))).toThrow(/at most 32/)
  })

  it('expires the states a sweep picks, telling the others with a removal one clock later', () => {
    const presence = new Presence<{ subject: string }>()
    const gone = { subject: '' }
    const here = { subject: 'u' }
    presence.apply(gone, update([[7, 4, '{"a":1}']]), () => true, true)
    presence.apply(here, update([[8, 1, '{"b":2}']]))
    const removed = presence.expire((holder) => holder === gone)
    expect(decoded(removed!)).toEqual([[7, 5, 'null']])
    expect(presence.size).toBe(1)
    expect(presence.expire(() => false)).toBeNull()
    // The expired id is open to whoever comes back with it, through any relay.
    expect(presence.apply(here, update([[7, 6, '{"a":3}']]))).not.toBeNull()
  })
})
