/**
 * A relay that drops a writer's live update asks it to sync again, once; a
 * TideKV client answers in pieces when its answer is large (live updates,
 * then the step 2: update-pieces.ts). An answer the room cannot take (a piece
 * under another subject's client id, here) must not be asked for again: it
 * would come back the same, round after round.
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import { describe, expect, it, vi } from 'vitest'
import { createToken } from '@tidekv/relay'
import { stepTwoMessages } from '@tidekv/core/wire'
import * as decoding from 'lib0/decoding'
import { newRelay } from '../helpers/relay.js'

const wait = { timeout: 10_000, interval: 5 }
const secret = 'ask-again'

/** A raw socket that answers each sync step 1 as a TideKV client does (sendInPieces: stepTwoMessages); after its answer number `barrierAfter`, a presence query. */
function emulatedClient(url: string, doc: Y.Doc, barrierAfter: number) {
  const ws = new WebSocket(url)
  const state = { stepOnes: 0, awareness: 0 }
  ws.on('message', (data: Buffer) => {
    if (data[0] === 1) state.awareness++
    if (data[0] === 0 && data[1] === 0) {
      state.stepOnes++
      const sv = decoding.readVarUint8Array(decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset + 2, data.byteLength - 2)))
      for (const m of stepTwoMessages(doc, sv)) ws.send(m)
      if (state.stepOnes === barrierAfter) ws.send(new Uint8Array([3])) // answered after all the relay sends for the answer
    }
  })
  return { ws, state, open: new Promise((r, j) => ws.on('open', r).on('error', j)) }
}

describe('asking a writer to sync again', () => {
  it('a client whose pieced answer cannot be taken is asked again at most once, not for ever', async () => {
    const relay = await newRelay({ auth: { secret, anonymous: 'none' } })
    const token = (sub: string) => createToken({ secret, room: 'r', mode: 'write', sub })
    // Alice's client id is hers in the room.
    const alice = new Y.Doc()
    alice.getArray('a').push(['first'])
    const a = emulatedClient(`${relay.ws}/r?token=${await token('alice')}`, alice, 1)
    await a.open
    await vi.waitFor(() => expect(relay.rooms.get('r')?.writers).toBe(1), wait)
    a.ws.close()
    const room = Y.encodeStateVector(alice)
    // Alice writes offline; Bob's device holds it (a shared IndexedDB after a sign-in switch, say) and builds on it.
    alice.getArray('a').push(['x'.repeat(600 * 1024)])
    const bob = new Y.Doc()
    Y.applyUpdate(bob, Y.encodeStateAsUpdate(alice))
    bob.getArray('a').push(['after alice'])
    bob.getMap('m').set('big', 'y'.repeat(600 * 1024))
    bob.getMap('m').set('tail', 1)
    expect(stepTwoMessages(bob, room).map((m) => m[1])).toEqual([2, 2, 1]) // alice's struct; bob's, building on it; the step 2
    const b = emulatedClient(`${relay.ws}/r?token=${await token('bob')}`, bob, 2)
    await b.open
    // Answer 1 (to the join): piece 1 dropped (foreign-client), piece 2 gapped and live: asked again.
    // Answer 2 is the same: asking again brings it back again.
    await vi.waitFor(() => expect(b.state.awareness).toBe(1), wait)
    expect(relay.metrics.rejected['foreign-client']).toBe(2)
    expect(b.state.stepOnes).toBe(2) // the join's, and one more
    b.ws.close()
  })
})
