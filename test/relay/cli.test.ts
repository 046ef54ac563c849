import { describe, expect, it } from 'vitest'
import { startRelayProcess } from '../helpers/relay-process.js'
import { tempDir } from '../helpers/relay.js'

describe('tidekv-relay, the command line', () => {
  it('takes an empty --secret (an unset variable in --secret "$TIDEKV_SECRET") as no secret, so --allow-anonymous still starts an open relay', async () => {
    const relay = await startRelayProcess(tempDir(), ['--secret', ''])
    const health = await fetch(`${relay.http}/healthz`)
    expect(health.status).toBe(200)
    expect(relay.stdout()).toContain('anonymous access allowed')
    await relay.stop()
  })
})
