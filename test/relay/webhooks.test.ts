/**
 * Signed webhooks: a local HTTP server receives the relay's POSTs. Batches
 * are debounced and signed, failures retried, the outbox survives a restart,
 * refused updates send nothing, and relays sharing a room send one webhook
 * per change.
 */
import { describe, expect, it, vi } from 'vitest'
import { createToken, memoryRelayStorage, verifyWebhook } from '@tidekv/relay'
import { memoryRelayBus } from '../../packages/relay/src/bus.js'
import { newClient, newRelay, statusIs, tempDir } from '../helpers/relay.js'
import { keysOf, webhookReceiver } from '../helpers/webhook-receiver.js'

const hookSecret = 'webhook-secret'
const wait = { timeout: 10_000, interval: 10 }

/** A receiver with this test's hook secret. */
const receiver = (status?: () => number) => webhookReceiver(hookSecret, status)

describe('webhooks', () => {
  it('POSTs a signed, debounced batch per room: each changed key once, with what it holds now', async () => {
    const hook = await receiver()
    const relay = await newRelay({ webhooks: [{ url: hook.url, secret: hookSecret, debounceMs: 200 }] })
    const client = await newClient(relay.ws, 'team')
    await statusIs(client, 'synced')
    client.set('todo:1', 'tea')
    client.set('todo:2', 'milk')
    await client.flush()
    client.set('todo:1', 'green tea')
    client.hash('user:1').set('name', 'Ada')
    await client.whenSynced()
    await vi.waitFor(() => expect(hook.got.length).toBe(1), wait)
    const [batch] = hook.got
    expect(batch!.room).toBe('team')
    expect(batch!.signed).toBe(true)
    expect(batch!.changes).toEqual(
      expect.arrayContaining([
        { key: 'todo:1', type: 'string', value: 'green tea' },
        { key: 'todo:2', type: 'string', value: 'milk' },
        { key: 'user:1', type: 'hash', value: { name: 'Ada' } },
      ]),
    )
    expect(batch!.changes).toHaveLength(3)
    client.delete('todo:2')
    await client.whenSynced()
    await vi.waitFor(() => expect(hook.got.length).toBe(2), wait)
    expect(hook.got[1]!.changes).toEqual([{ key: 'todo:2', type: 'none', deleted: true }])
    expect(verifyWebhook('another secret', JSON.stringify(hook.got[1]), 'sha256=00')).toBe(false)
  })

  it('refuses a hook URL given twice (the outbox keys changes by URL)', async () => {
    await expect(
      newRelay({
        webhooks: [
          { url: 'http://127.0.0.1:9/a', secret: 's' },
          { url: 'http://127.0.0.1:9/a', secret: 't' },
        ],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })

  it('sends only the keys a hook asks for (prefix), including writes through the HTTP API', async () => {
    const hook = await receiver()
    const relay = await newRelay({ webhooks: [{ url: hook.url, secret: hookSecret, prefix: 'order:', debounceMs: 50 }] })
    await fetch(`${relay.url}/v1/rooms/shop/keys/cart%3A1`, { method: 'PUT', body: JSON.stringify({ value: 1 }) })
    await fetch(`${relay.url}/v1/rooms/shop/keys/order%3A1`, { method: 'PUT', body: JSON.stringify({ value: { total: 5 } }) })
    await vi.waitFor(() => expect(keysOf(hook.got)).toEqual(['order:1']), wait)
    await new Promise((r) => setTimeout(r, 150))
    expect(keysOf(hook.got)).toEqual(['order:1'])
  })

  it('retries after a failure, with backoff, until the receiver takes it', async () => {
    let calls = 0
    const hook = await receiver(() => (++calls <= 2 ? 500 : 200))
    const relay = await newRelay({ webhooks: [{ url: hook.url, secret: hookSecret, debounceMs: 20 }] })
    const client = await newClient(relay.ws, 'team')
    client.set('k', 1)
    await client.whenSynced()
    await vi.waitFor(() => expect(keysOf(hook.got)).toEqual(['k']), { timeout: 15_000, interval: 20 })
    expect(hook.attempts()).toBe(3)
    // The relay counts a delivery once the answer is back, just after the receiver took it.
    await vi.waitFor(() => expect(relay.metrics.webhooks).toMatchObject({ failed: 2, delivered: 1 }), wait)
  })

  it('keeps what it could not send across a restart, and sends it then', async () => {
    const dataDir = tempDir()
    let up = false
    const hook = await receiver(() => (up ? 200 : 503))
    const webhooks = [{ url: hook.url, secret: hookSecret, debounceMs: 20 }]
    let relay = await newRelay({ dataDir, webhooks })
    const client = await newClient(relay.ws, 'team')
    client.set('kept', 1)
    await client.whenSynced()
    await vi.waitFor(() => expect(hook.attempts()).toBeGreaterThan(0), wait)
    await client.close()
    await relay.close()
    up = true
    relay = await newRelay({ dataDir, webhooks })
    await vi.waitFor(() => expect(keysOf(hook.got)).toEqual(['kept']), wait)
    await vi.waitFor(() => expect(relay.metrics.webhooks).toMatchObject({ delivered: 1 }), wait)
  })

  it('sends nothing for an update the relay refused', async () => {
    const secret = 'test-secret-of-at-least-32-bytes!!'
    const hook = await receiver()
    const relay = await newRelay({ auth: { secret }, webhooks: [{ url: hook.url, secret: hookSecret, debounceMs: 20 }] })
    const token = await createToken({ secret, room: 'team', mode: 'write', rules: { write: ['user:42:*'] } })
    const rogue = await newClient(relay.ws, 'team', { token, sync: { url: relay.ws, rules: { write: ['*'] } } })
    const errors: string[] = []
    rogue.on('error', (e) => errors.push(e.code))
    await statusIs(rogue, 'synced')
    rogue.set('admin:flag', 'pwned')
    await vi.waitFor(() => expect(errors).toContain('FORBIDDEN'), wait)
    const honest = await newClient(relay.ws, 'team', { token })
    honest.set('user:42:x', 1)
    await honest.whenSynced()
    await vi.waitFor(() => expect(keysOf(hook.got)).toEqual(['user:42:x']), wait)
    await new Promise((r) => setTimeout(r, 100))
    expect(keysOf(hook.got)).toEqual(['user:42:x'])
  })

  it('relays sharing a room send one webhook per change, not one per relay', async () => {
    const hook = await receiver()
    const storage = memoryRelayStorage()
    const bus = memoryRelayBus()
    const webhooks = [{ url: hook.url, secret: hookSecret, debounceMs: 50 }]
    const first = await newRelay({ storage, bus, webhooks })
    const second = await newRelay({ storage, bus, webhooks })
    const a = await newClient(first.ws, 'shared')
    const b = await newClient(second.ws, 'shared')
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    a.set('from:a', 1)
    b.set('from:b', 2)
    await Promise.all([a.whenSynced(), b.whenSynced()])
    await vi.waitFor(() => expect([a.get('from:b'), b.get('from:a')]).toEqual([2, 1]), wait)
    await vi.waitFor(() => expect(keysOf(hook.got)).toEqual(['from:a', 'from:b']), wait)
    await new Promise((r) => setTimeout(r, 200))
    expect(keysOf(hook.got)).toEqual(['from:a', 'from:b'])
  })
})
