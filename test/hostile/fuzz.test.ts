/**
 * Structure-aware fuzzing of what a hostile peer can send: entries into an
 * honest replica, and messages into a relay running in its own process.
 * Inputs are shaped like the real thing (entry headers, y-protocols frames,
 * Yjs update blocks) with the numbers an attacker picks: varints that lib0
 * reads as Infinity, 2^53, 2^60, truncated ones; JSON and values nested
 * thousands deep; lengths and counts far past the bytes that follow; client
 * ids of other clients.
 *
 * The invariants: the replica's clock stays a safe integer within MAX_WALL
 * and every TTL stays finite (an Infinity there froze the next `set()`), and
 * the replica goes on writing; the relay process stays alive and answers
 * /healthz. Seeded (printed on failure, replay with TIDEKV_SEED), bounded in
 * cases and time. With the safe-varint fixes of issue 10 reverted, the first
 * finds the client freeze (item 3) and the second the relay hang (item 2).
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createDocStore, type DocStore, FORMAT_VERSION, LOG_NAME, MessageType, STRUCTURE_VERSION } from '@tidekv/core'
import type { Replica } from '@tidekv/core/internal'
import { baseSeed, Random, replayHint } from '@tidekv/core/testing'
import { startRelayProcess } from '../helpers/relay-process.js'
import { tempDir } from '../helpers/relay.js'
import { healthzStatus } from '../helpers/wire.js'

const MAX_WALL = 253_402_300_799_999
const NOW = 1_800_000_000_000

function varUint(n: number): number[] {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, n)
  return [...encoding.toUint8Array(enc)]
}

/** A varint an attacker might send: honest, large, past 2^53, past 8 bytes, Infinity to lib0, or cut short. */
function hostileVarUint(rng: Random): number[] {
  switch (rng.int(0, 8)) {
    case 0:
      return varUint(rng.int(0, 127))
    case 1:
      return varUint(rng.int(0, 2 ** 31))
    case 2:
      return varUint(NOW + rng.int(-1e9, 1e9))
    case 3:
      return varUint(Number.MAX_SAFE_INTEGER)
    case 4:
      return varUint(2 ** 53)
    case 5:
      return varUint(2 ** 60)
    case 6:
      return [...new Array<number>(rng.pick([9, 146, 150, 200])).fill(0x80), 0x7f] // 146 or more: Infinity to lib0's readVarUint
    case 7:
      return [0x80, 0x80] // truncated
    default:
      return varUint(MAX_WALL + rng.int(-1, 1))
  }
}

function varString(s: string): number[] {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, s)
  return [...encoding.toUint8Array(enc)]
}

/** A lib0 `writeAny` value, often hostile: deep, lying about its length, with "__proto__", undefined or bigints. */
function hostileValue(rng: Random): number[] {
  switch (rng.int(0, 6)) {
    case 0: {
      const depth = rng.pick([1, 255, 257, 5000])
      return [...new Array<number>(depth).fill(0).flatMap(() => [117, 1]), 126]
    }
    case 1:
      return [117, ...hostileVarUint(rng), 126] // an array claiming many elements
    case 2:
      return [118, 1, ...varString('__proto__'), 125, 1]
    case 3:
      return [rng.pick([127, 122]), ...rng.bytes(8)]
    case 4:
      return [119, ...hostileVarUint(rng), 97, 98]
    default:
      return [125, 2]
  }
}

/** Bytes shaped like an entry (format 1 or 2), with hostile numbers in its stamp, expiry, epoch or value. */
function hostileEntry(rng: Random): Uint8Array {
  const structure = rng.chance(0.3)
  const counter = !structure && rng.chance(0.3)
  const expiry = rng.chance(0.4)
  const head = ((structure ? STRUCTURE_VERSION : FORMAT_VERSION) << 4) | (expiry ? 2 : 0) | (counter ? 1 : 0)
  const bytes = [head, ...varString(rng.chance(0.05) ? '' : `k${rng.int(0, 20)}`)]
  if (structure) bytes.push(1, ...varString(rng.word(1, 6))) // a hash member
  bytes.push(...hostileVarUint(rng), ...hostileVarUint(rng))
  if (expiry) bytes.push(...hostileVarUint(rng))
  if (counter) bytes.push(...hostileVarUint(rng), ...hostileVarUint(rng), ...hostileVarUint(rng), ...varUint(2))
  else bytes.push(...hostileValue(rng))
  return new Uint8Array(bytes)
}

/** The store's replica, for its clock: the one place a poisoned stamp shows before it freezes a write. */
function replicaOf(store: DocStore): Replica {
  return (store as unknown as { replica: Replica }).replica // reason: white-box look at the clock; `replica` is protected
}

describe('fuzzing an honest replica with hostile entries', () => {
  it('keeps its clock and every TTL finite and goes on writing', async () => {
    const seed = baseSeed()
    const rng = new Random(seed)
    const store = createDocStore({ clock: () => NOW })
    store.on('error', () => undefined) // INVALID_ENTRY events are expected: the point is what happens after
    const hlc = replicaOf(store).hlc
    const deadline = performance.now() + 8000
    for (let i = 0; i < 400 && performance.now() < deadline; i++) {
      const peer = new Y.Doc()
      peer.getArray<Uint8Array>(LOG_NAME).push(Array.from({ length: rng.int(1, 3) }, () => hostileEntry(rng)))
      Y.applyUpdate(store.doc, Y.encodeStateAsUpdate(peer))
      const where = `case ${i}, ${replayHint(seed, 'npx vitest run test/hostile/fuzz.test.ts')}`
      const next = hlc.next(0)
      if (!(Number.isSafeInteger(next.wall) && next.wall <= MAX_WALL && Number.isSafeInteger(next.counter))) {
        expect.fail(`the replica's clock went to ${next.wall}.${next.counter} (${where}); its next write would never finish encoding`)
      }
      for (const key of store.keys()) {
        const ttl = store.ttl(key)
        if (!Number.isFinite(ttl)) expect.fail(`key ${key} has TTL ${ttl} (${where})`)
      }
      // Only now is a write safe to try: with the clock poisoned it would loop forever.
      store.set('probe', i, { ttl: 1000 })
      store.incr('visits')
      await store.flush()
      expect(store.get('probe'), where).toBe(i)
    }
  })
})

/** One hostile frame for the relay: y-protocols-shaped, with hostile numbers. */
function hostileMessage(rng: Random): Uint8Array {
  const type = rng.weighted({ sync1: 2, sync2: 2, awareness: 2, query: 1, persisted: 2, unknown: 1 })
  switch (type) {
    case 'sync1': {
      const count = rng.chance(0.5) ? hostileVarUint(rng) : varUint(rng.int(0, 3))
      const entries = Array.from({ length: rng.int(0, 3) }, () => [...hostileVarUint(rng), ...hostileVarUint(rng)]).flat()
      const sv = [...count, ...entries]
      return new Uint8Array([MessageType.SYNC, 0, ...varUint(sv.length), ...sv])
    }
    case 'sync2': {
      // A Yjs update block: one client, GC or a binary item holding a hostile entry, then a hostile delete set.
      const peer = new Y.Doc()
      peer.getArray<Uint8Array>(LOG_NAME).push([hostileEntry(rng)])
      let update = [...Y.encodeStateAsUpdate(peer)]
      if (rng.chance(0.5))
        update = [1, 1, ...hostileVarUint(rng), ...hostileVarUint(rng), 0, ...hostileVarUint(rng), 1, ...hostileVarUint(rng), 1, ...hostileVarUint(rng), ...hostileVarUint(rng)]
      return new Uint8Array([MessageType.SYNC, rng.pick([1, 2]), ...varUint(update.length), ...update])
    }
    case 'awareness': {
      const depth = rng.pick([1, 31, 33, 20_000])
      const json = `${'['.repeat(depth)}${']'.repeat(depth)}`
      const states = [...(rng.chance(0.3) ? hostileVarUint(rng) : [1]), ...hostileVarUint(rng), ...hostileVarUint(rng), ...varString(json)]
      return new Uint8Array([MessageType.AWARENESS, ...varUint(states.length), ...states])
    }
    case 'query':
      return new Uint8Array([MessageType.QUERY_AWARENESS])
    case 'persisted':
      return new Uint8Array([MessageType.PERSISTED, ...hostileVarUint(rng)])
    default:
      return new Uint8Array([...hostileVarUint(rng), ...rng.bytes(rng.int(0, 8))])
  }
}

describe('fuzzing the relay with hostile frames', () => {
  it('stays alive and answers /healthz through every case', async () => {
    const seed = baseSeed()
    const rng = new Random(seed)
    const relay = await startRelayProcess(tempDir())
    const deadline = performance.now() + 20_000
    for (let i = 0; i < 600 && performance.now() < deadline; i++) {
      const where = `case ${i}, ${replayHint(seed, 'npx vitest run test/hostile/fuzz.test.ts')}`
      const ws = new WebSocket(`${relay.ws}/fuzz-${i % 5}?acks=1`)
      const opened = new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      const stalled = new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 3 s')), 3000).unref())
      await Promise.race([opened, stalled]).catch((e: unknown) => expect.fail(`the relay did not accept a connection at ${where}: ${String(e)}`))
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
      for (let m = rng.int(1, 3); m > 0; m--) ws.send(hostileMessage(rng))
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 30))])
      ws.terminate()
      if (i % 20 === 19) {
        const status = await healthzStatus(relay.http, 3000).catch((e: unknown) => expect.fail(`/healthz did not answer after ${where}: ${String(e)}`))
        expect(status, where).toBe(200)
      }
    }
    expect(await healthzStatus(relay.http, 3000)).toBe(200)
    expect(relay.stderr()).not.toMatch(/RangeError|uncaught|unhandled/i)
  })
})
