/**
 * What a relay object hands out and what it releases: `relay.rooms` and
 * `relay.metrics` are frozen snapshots (never a room's Y.Doc), and a relay
 * that closes, or fails to listen, stops its metrics' monitors and closes
 * its storage.
 */
import perfHooks from 'node:perf_hooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { memoryRelayStorage } from './memory-storage.js'
import { createRelay, type Relay } from './relay.js'
import type { RelayOptions } from './relay-options.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
  vi.restoreAllMocks()
})

async function newRelay(options: Partial<RelayOptions> = {}): Promise<Relay> {
  const relay = await createRelay({ port: 0, storage: memoryRelayStorage(), auth: { anonymous: 'write' }, ...options })
  cleanups.push(() => relay.close())
  return relay
}

/** A raw socket to `room`, open. */
async function connect(relay: Relay, room: string): Promise<WebSocket> {
  const ws = new WebSocket(`${relay.url.replace('http', 'ws')}/${room}`)
  cleanups.push(() => ws.terminate())
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  return ws
}

describe('relay.rooms', () => {
  it('shows each loaded room as a frozen snapshot of its state, without its document', async () => {
    const relay = await newRelay()
    expect(relay.rooms.size).toBe(0)
    const ws = await connect(relay, 'notes')
    await vi.waitFor(() => expect(relay.rooms.get('notes')?.connections).toBe(1))
    const rooms = relay.rooms
    const notes = rooms.get('notes')!
    expect(notes).toEqual({ name: 'notes', loaded: true, connections: 1, awarenessStates: 0, writers: 0, pending: false })
    expect(Object.isFrozen(notes)).toBe(true)
    expect('doc' in notes || 'awareness' in notes).toBe(false)
    expect([...rooms.keys()]).toEqual(['notes'])

    ws.close()
    await vi.waitFor(() => expect(relay.rooms.get('notes')?.connections).toBe(0))
    // What was read before stays as it was.
    expect(notes.connections).toBe(1)
    expect(rooms.get('notes')?.connections).toBe(1)
  })

  it('is a copy: changing it changes nothing in the relay', async () => {
    const relay = await newRelay()
    await connect(relay, 'a')
    await vi.waitFor(() => expect(relay.rooms.has('a')).toBe(true))
    const rooms = relay.rooms as Map<string, unknown> // reason: a caller ignoring the ReadonlyMap type
    rooms.delete('a')
    expect(relay.rooms.has('a')).toBe(true)
  })
})

describe('relay.metrics', () => {
  it('is a frozen snapshot of the counts, rejected connections by reason', async () => {
    const relay = await newRelay({ allowedOrigins: ['https://app.example'] })
    const ws = await connect(relay, 'r')
    ws.send(new Uint8Array([3])) // QUERY_AWARENESS
    await vi.waitFor(() => expect(relay.metrics.messagesReceived).toBe(1))
    const refused = new WebSocket(`${relay.url.replace('http', 'ws')}/r`, { origin: 'https://evil.example' })
    await new Promise((resolve) => refused.once('error', resolve))
    const metrics = relay.metrics
    expect(metrics).toMatchObject({ connections: 1, roomsLoaded: 1, messagesReceived: 1, bytesReceived: 1, rejected: { origin: 1 } })
    expect(metrics.messagesSent).toBeGreaterThan(0) // the sync step 1 of the join, at least
    expect(Object.isFrozen(metrics) && Object.isFrozen(metrics.rejected)).toBe(true)
  })
})

describe('releasing what a relay started', () => {
  it('close() stops the event-loop monitor and the GC observer of its process metrics', async () => {
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay')
    const disconnect = vi.spyOn(perfHooks.PerformanceObserver.prototype, 'disconnect')
    const relay = await createRelay({ port: 0, storage: memoryRelayStorage(), auth: { anonymous: 'write' } })
    const histogram = monitor.mock.results[0]!.value as perfHooks.IntervalHistogram // reason: the spy wraps monitorEventLoopDelay, which returns one
    expect(histogram.enable()).toBe(false) // running
    await relay.close()
    expect(histogram.disable()).toBe(false) // already stopped by close()
    expect(disconnect).toHaveBeenCalledTimes(1)
  })

  it('a relay that cannot listen (port taken) rejects, and stops its monitors and closes its storage', async () => {
    const first = await newRelay()
    const storage = memoryRelayStorage()
    const close = vi.spyOn(storage, 'close')
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay')
    await expect(createRelay({ port: first.port, storage, auth: { anonymous: 'write' } })).rejects.toThrow(/EADDRINUSE/)
    const histogram = monitor.mock.results[0]!.value as perfHooks.IntervalHistogram // reason: the spy wraps monitorEventLoopDelay, which returns one
    expect(histogram.disable()).toBe(false)
    expect(close).toHaveBeenCalledTimes(1)
  })
})
