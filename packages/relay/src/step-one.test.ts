/**
 * StepOneAnswers: what a sync step 1 costs the relay is bounded per peer, and
 * a state vector that covers less than half of the room gets the cached whole
 * room instead of an answer encoded for it alone.
 */
import { describe, expect, it } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { PIECE_LIMITS } from '@tidekv/core/wire'
import { StepOneAnswers } from './step-one.js'

function room(): Y.Doc {
  const doc = new Y.Doc()
  for (let c = 0; c < 4; c++) {
    const writer = new Y.Doc()
    writer.clientID = 100 + c
    writer.getArray('a').push(Array.from({ length: 100 }, (_, i) => i))
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(writer))
  }
  return doc
}

/** The update inside a one-message answer (SYNC, step 2, varUint8Array). */
function updateOf(answer: readonly Uint8Array[]): Uint8Array {
  expect(answer.length).toBe(1)
  expect([...answer[0]!.subarray(0, 2)]).toEqual([0, 1])
  return decoding.readVarUint8Array(decoding.createDecoder(answer[0]!.subarray(2)))
}

function stateVector(entries: [number, number][]): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, entries.length)
  for (const [client, clock] of entries) {
    encoding.writeVarUint(enc, client)
    encoding.writeVarUint(enc, clock)
  }
  return encoding.toUint8Array(enc)
}

describe('StepOneAnswers', () => {
  it('answers a state vector that covers less than half of the room with the whole room, the same bytes each time', () => {
    const doc = room()
    const answers = new StepOneAnswers(doc, 10)
    const whole = Y.encodeStateAsUpdate(doc)
    const dodge = stateVector([[100, 1]]) // names a room client, to dodge a cache keyed on "new client"
    const first = updateOf(answers.answer({}, dodge))
    expect(first).toEqual(whole)
    expect(updateOf(answers.answer({}, stateVector([])))).toEqual(whole)
  })

  it('answers a peer that has most of the room with only what it lacks', () => {
    const doc = room()
    const answers = new StepOneAnswers(doc, 10)
    const sv = stateVector([100, 101, 102].map((c): [number, number] => [c, Y.getState(doc.store, c)]))
    const answer = updateOf(answers.answer({}, sv))
    expect(answer.length).toBeLessThan(Y.encodeStateAsUpdate(doc).length / 2)
    const peer = new Y.Doc()
    Y.applyUpdate(peer, answer)
    expect(Y.getState(peer.store, 103)).toBe(Y.getState(doc.store, 103))
  })

  it('gives a peer 8 large answers at once, then one per 2 s, sync step 1 and presence queries alike', () => {
    const answers = new StepOneAnswers(room(), 10)
    const peer = {}
    for (let i = 0; i < 4; i++) answers.answer(peer, stateVector([]))
    for (let i = 0; i < 4; i++) answers.charge(peer)
    expect(() => answers.charge(peer)).toThrow(expect.objectContaining({ reason: 'sync-rate', code: 1008 }))
    expect(() => answers.charge({})).not.toThrow() // another peer has its own
  })

  it('answers with a large room in pieces of at most PIECE_LIMITS: updates, then the step 2, that rebuild the room in order', () => {
    const doc = new Y.Doc()
    // ~3 MiB in 40,000 binary items: more than 5,000 structs and more than 512 KiB.
    doc.getArray('tidekv').push(Array.from({ length: 40_000 }, (_, i) => new Uint8Array(80).fill(i % 256)))
    const answer = new StepOneAnswers(doc, 10).answer({}, stateVector([]))
    expect(answer.length).toBeGreaterThan(6)
    const peer = new Y.Doc()
    answer.forEach((message, i) => {
      const decoder = decoding.createDecoder(message)
      expect(decoding.readVarUint(decoder)).toBe(0) // SYNC
      expect(decoding.readVarUint(decoder)).toBe(i === answer.length - 1 ? 1 : 2) // updates, then the step 2
      const update = decoding.readVarUint8Array(decoder)
      expect(update.length).toBeLessThanOrEqual(PIECE_LIMITS.maxBytes + 200)
      Y.applyUpdate(peer, update)
      expect(peer.store.pendingStructs).toBeNull()
    })
    // (Buffer.equals: toEqual walks 3 MiB element by element for seconds.)
    expect(Buffer.from(Y.encodeStateAsUpdate(peer)).equals(Y.encodeStateAsUpdate(doc))).toBe(true)
  })
})
