/** Whether a sync token (a JWT) carries `mode: 'read'`. Only read, never verified: the relay verifies. */
export function tokenIsReadOnly(token: unknown): boolean {
  if (typeof token !== 'string') return false
  try {
    const payload = token.split('.')[1] ?? ''
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
    const claims: unknown = JSON.parse(json)
    return typeof claims === 'object' && claims !== null && 'mode' in claims && claims.mode === 'read'
  } catch {
    return false // reason: not a JWT we can read: the relay decides
  }
}
