/**
 * What a store learns from its token without verifying it (the relay does):
 * whether it may write at all (`mode`), and which keys (`rules.write`), so
 * that a write the relay would refuse throws at the call instead.
 */
import { parseWriteRules, type WriteRules } from '@tidekv/core'

export interface TokenClaims {
  readOnly: boolean
  /** The keys the token may write; null: every key. */
  rules: WriteRules | null
}

const NO_CLAIMS: TokenClaims = { readOnly: false, rules: null }

/** The claims of a TideKV token (a JWT); a token this cannot read gets none, and the relay decides. */
export function readClaims(token: unknown): TokenClaims {
  if (typeof token !== 'string') return NO_CLAIMS
  let claims: unknown
  try {
    const payload = token.split('.')[1] ?? ''
    claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')))
  } catch {
    return NO_CLAIMS // reason: not a JWT we can read: the relay decides
  }
  if (typeof claims !== 'object' || claims === null) return NO_CLAIMS
  const readOnly = 'mode' in claims && claims.mode === 'read'
  try {
    return { readOnly, rules: parseWriteRules('rules' in claims ? claims.rules : undefined) }
  } catch {
    // The relay refuses a token with malformed rules (401): writing nothing here loses nothing that could sync.
    return { readOnly, rules: parseWriteRules({ write: [] }) }
  }
}
