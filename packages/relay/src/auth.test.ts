/**
 * Tokens: what createToken refuses, and what checkToken reads back (the
 * subject the relay ties Yjs client ids to).
 */
import { describe, expect, it } from 'vitest'
import { checkToken, createToken } from './auth.js'

const secret = 'auth-test-secret'

describe('createToken', () => {
  it('refuses a mode other than read or write, and an empty sub, with INVALID_VALUE', async () => {
    // reason: what a JavaScript caller could pass
    await expect(createToken({ secret, room: 'r', mode: 'admin' as 'read' })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(createToken({ secret, room: 'r', mode: 'write', sub: '' })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })

  it('carries the subject to the relay check; without one, the subject is the shared empty one', async () => {
    const withSub = await checkToken(await createToken({ secret, room: 'r', mode: 'write', sub: 'user-42' }), 'r', secret)
    const without = await checkToken(await createToken({ secret, room: 'r', mode: 'read' }), 'r', secret)
    expect([withSub, without]).toMatchObject([
      { ok: true, mode: 'write', subject: 'user-42' },
      { ok: true, mode: 'read', subject: '' },
    ])
  })
})
