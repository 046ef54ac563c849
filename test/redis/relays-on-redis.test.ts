/**
 * Relays that share rooms through one real redis-server (issue 11),
 * `createRelay({ redis: url })`, and through a real three-master Redis
 * Cluster, `createRelay({ redis: { cluster } })`, with the durability the
 * relay's docs require (AOF, `appendfsync always`). Clients of one room on
 * different relays converge, a stock y-websocket provider included; writes
 * made offline and sent on reconnect reach every relay's clients; a relay
 * started later loads the room from Redis.
 */
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { LOG_NAME } from '@tidekv/core'
import { newClient, newRelay, onCleanup } from '../helpers/relay.js'
import type { RelayOptions } from '@tidekv/relay'
import { useRedisBackends } from '../helpers/redis-backends.js'
import { keysOf, webhookReceiver } from '../helpers/webhook-receiver.js'

const redis = useRedisBackends()

const backends: [string, () => RelayOptions['redis']][] = [
  ['one Redis', redis.one],
  ['a Redis Cluster', redis.cluster],
]

describe.each(backends)('relays on %s', (_, on) => {
  const relays = (count: number) => Promise.all(Array.from({ length: count }, () => newRelay({ redis: on() })))

  it('clients of a room on three relays converge, offline edits included', async () => {
    const [r0, r1, r2] = await relays(3)
    const room = `converge-${Date.now()}`
    const clients = await Promise.all([r0!, r1!, r2!, r0!, r1!, r2!].map((relay) => newClient(relay.ws, room)))
    clients.forEach((client, i) => {
      client.set(`from:${i}`, i)
      client.incr('total', i + 1)
    })
    clients[1]!.disconnect()
    clients[1]!.set('offline', 'made while away')
    clients[1]!.sortedSet('board').add('ada', 3)
    clients[4]!.hash('h').set('k', 'v')
    clients[1]!.connect()
    await Promise.all(clients.map((client) => client.whenSynced()))
    for (const client of clients) {
      await expect
        .poll(() => [client.keys().length, client.get('total'), client.get('offline'), client.sortedSet('board').score('ada'), client.hash('h').get('k')], { timeout: 10_000 })
        .toEqual([10, 21, 'made while away', 3, 'v'])
    }
    // A relay started now loads the room from Redis.
    const [late] = await relays(1)
    const reader = await newClient(late!.ws, room)
    await reader.whenSynced()
    await expect.poll(() => reader.get('total')).toBe(21)
  })

  it('a stock y-websocket provider on one relay and a TideKV client on another converge', async () => {
    const [r0, r1] = await relays(2)
    const room = `interop-${Date.now()}`
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(r0!.ws, room, doc, {
      // reason: `ws` implements the WebSocket API y-websocket uses, but not the DOM class's full type.
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    onCleanup(() => {
      provider.destroy()
      doc.destroy()
    })
    const store = await newClient(r1!.ws, room)
    store.set('tidekv', 1)
    await store.whenSynced()
    await expect.poll(() => doc.getArray(LOG_NAME).length, { timeout: 10_000 }).toBeGreaterThan(0)
    doc.getMap('stock').set('hello', 'from a stock client')
    await expect.poll(() => Y.encodeStateVector(store.doc).length).toBeGreaterThan(Y.encodeStateVector(new Y.Doc()).length)
    await expect.poll(() => store.doc.getMap('stock').get('hello'), { timeout: 10_000 }).toBe('from a stock client')
  })

  it('the HTTP API and webhooks work across relays: one webhook per change, not one per relay', async () => {
    const hook = await webhookReceiver('hook-secret')
    const webhooks = [{ url: hook.url, secret: 'hook-secret', debounceMs: 50 }]
    const r0 = await newRelay({ redis: on(), webhooks })
    const r1 = await newRelay({ redis: on(), webhooks })
    const room = `api-${Date.now()}`
    const client = await newClient(r1.ws, room)
    const put = await fetch(`${r0.url}/v1/rooms/${room}/keys/from%3Aapi`, { method: 'PUT', body: JSON.stringify({ value: 'via relay 0' }) })
    expect(put.status).toBe(204)
    await expect.poll(() => client.get('from:api'), { timeout: 10_000 }).toBe('via relay 0')
    client.set('from:client', 1)
    await client.whenSynced()
    const read = async (): Promise<unknown> => (await fetch(`${r0.url}/v1/rooms/${room}/keys/from%3Aclient`)).json()
    await expect.poll(read, { timeout: 10_000 }).toMatchObject({ value: 1 })
    await expect.poll(() => keysOf(hook.got), { timeout: 10_000 }).toEqual(['from:api', 'from:client'])
    await new Promise((r) => setTimeout(r, 300))
    expect(keysOf(hook.got)).toEqual(['from:api', 'from:client'])
  })
})
