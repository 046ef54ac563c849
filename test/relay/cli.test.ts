import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import { startRelayProcess } from '../helpers/relay-process.js'
import { tempDir } from '../helpers/relay.js'
import { webhookReceiver } from '../helpers/webhook-receiver.js'

describe('tidekv-relay, the command line', () => {
  it('takes an empty --secret (an unset variable in --secret "$TIDEKV_SECRET") as no secret, so --allow-anonymous still starts an open relay', async () => {
    const relay = await startRelayProcess(tempDir(), ['--secret', ''])
    const health = await fetch(`${relay.http}/healthz`)
    expect(health.status).toBe(200)
    expect(relay.stdout()).toContain('anonymous access allowed')
    await relay.stop()
  })

  it('refuses --redis with --redis-cluster, --redis-wait with a cluster, and an empty one, with exit code 2 and what to do', () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'packages/relay/src/cli.ts', '--allow-anonymous', '--port', '0', ...args], {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        encoding: 'utf8',
        timeout: 30_000,
      })
    const both = cli('--redis', 'redis://127.0.0.1:1', '--redis-cluster', '127.0.0.1:2')
    expect([both.status, both.stderr.trim()]).toEqual([2, 'tidekv-relay: give --redis (TIDEKV_REDIS_URL) or --redis-cluster (TIDEKV_REDIS_CLUSTER), not both'])
    const wait = cli('--redis-cluster', '127.0.0.1:2', '--redis-wait', '1')
    expect([wait.status, wait.stderr.trim()]).toEqual([2, 'tidekv-relay: --redis-wait works with one Redis (--redis), not with --redis-cluster'])
    const empty = cli('--redis-cluster', '')
    expect([empty.status, empty.stderr.trim()]).toEqual([2, 'tidekv-relay: --redis-cluster is empty'])
  })
  it('sends webhooks given with --webhook and --webhook-secret, and refuses --webhook without a secret', async () => {
    const hook = await webhookReceiver('s3cret')
    const url = hook.url
    const unsigned = spawnSync(process.execPath, ['--import', 'tsx', 'packages/relay/src/cli.ts', '--allow-anonymous', '--port', '0', '--webhook', url], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, TIDEKV_WEBHOOK_SECRET: '' },
    })
    expect(unsigned.status).toBe(2)
    expect(unsigned.stderr).toContain('--webhook needs --webhook-secret')
    const relay = await startRelayProcess(tempDir(), ['--webhook', url, '--webhook-secret', 's3cret'])
    const put = await fetch(`${relay.http}/v1/rooms/r/keys/k`, { method: 'PUT', body: JSON.stringify({ value: 1 }) })
    expect(put.status).toBe(204)
    await vi.waitFor(() => expect(hook.got.map((r) => r.raw)).toEqual([JSON.stringify({ room: 'r', changes: [{ key: 'k', type: 'string', value: 1 }] })]), {
      timeout: 10_000,
      interval: 20,
    })
    expect(hook.got[0]!.signed).toBe(true)
    await relay.stop()
  })
})
