/** Whether a sync token (a JWT) carries `mode: 'read'`. Only read, never verified: the relay verifies. */
export function tokenIsReadOnly(token: unknown): boolean {
  if (typeof token !== 'string') return false
  try {
    const payload = token.split('.')[1] ?? ''
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
    return (JSON.parse(json) as { mode?: unknown }).mode === 'read'
  } catch {
    return false // reason: not a JWT we can read: the relay decides
  }
}
