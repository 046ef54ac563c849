/**
 * Tokens: HS256-signed JWTs (through `jose`) naming the room and the access
 * mode. The relay checks them at the HTTP upgrade, before any WebSocket
 * exists.
 */
import { parseWriteRules, TideKVError, type TokenRules, type WriteRules } from '@tidekv/core'
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'

export type AccessMode = 'read' | 'write'

export interface TokenOptions {
  /** The relay's secret (at least 32 bytes of entropy recommended). */
  secret: string | Uint8Array
  /** The room the token opens; `*` opens every room. */
  room: string
  mode: AccessMode
  /** Lifetime: seconds, or a jose time span such as '1h', '7d'. Default: no expiry. */
  expiresIn?: number | string
  /**
   * Who the token is for (the JWT `sub`), e.g. your user id. The Yjs client
   * ids a subject writes under in a room become its own: no other subject
   * can write under them. Tokens without one share the subject "" with
   * anonymous clients, among whom there is no such protection.
   */
  sub?: string
  /**
   * Write tokens only: the keys it may write, as Redis glob patterns
   * (`{ write: ['user:42:*', 'shared:*'] }`). Every key an update touches
   * must match one, or the relay refuses the update whole. Without rules a
   * token writes the whole room.
   */
  rules?: TokenRules
}

const ALG = 'HS256'
const keyOf = (secret: string | Uint8Array): Uint8Array => (typeof secret === 'string' ? new TextEncoder().encode(secret) : secret)

/**
 * Signs a token for one room.
 * @throws TideKVError `INVALID_VALUE` (as a rejection) for a mode other than read or write, an empty `sub`,
 * or `rules` that are malformed or given to a read token
 * @example
 * import { createToken } from '@tidekv/relay'
 * const token = await createToken({ secret, room: 'user:42', mode: 'write', sub: 'user-42', expiresIn: '1h' }) // secret: the relay's
 */
export async function createToken(options: TokenOptions): Promise<string> {
  if (options.mode !== 'read' && options.mode !== 'write') throw new TideKVError('INVALID_VALUE', `createToken: mode must be 'read' or 'write', got ${String(options.mode)}`)
  if (options.sub !== undefined && (typeof options.sub !== 'string' || options.sub === '' || options.sub.startsWith('\u0000'))) {
    throw new TideKVError('INVALID_VALUE', 'createToken: sub must be a non-empty string, not starting with U+0000 (kept for the relay itself)')
  }
  if (options.rules !== undefined && options.mode === 'read') throw new TideKVError('INVALID_VALUE', 'createToken: rules are for write tokens; a read token writes nothing')
  const rules = parseWriteRules(options.rules)
  const claims = rules === null ? { room: options.room, mode: options.mode } : { room: options.room, mode: options.mode, rules: { write: [...rules.patterns] } }
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: ALG }).setIssuedAt()
  if (options.sub !== undefined) jwt.setSubject(options.sub)
  if (options.expiresIn !== undefined) {
    jwt.setExpirationTime(typeof options.expiresIn === 'number' ? Math.floor(Date.now() / 1000) + options.expiresIn : options.expiresIn)
  }
  return jwt.sign(keyOf(options.secret))
}

/** Why a token was refused: HTTP 401 for the first three, 403 for the last. */
export type TokenRefusal = 'missing' | 'invalid' | 'expired' | 'wrong-room'

export type TokenCheck = { ok: true; mode: AccessMode; subject: string; expiresAt: number | undefined; rules: WriteRules | null } | { ok: false; reason: TokenRefusal }

/** Verifies `token` for `room`. Never throws. */
export async function checkToken(token: string | null, room: string, secret: string | Uint8Array): Promise<TokenCheck> {
  if (token === null || token === '') return { ok: false, reason: 'missing' }
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { algorithms: [ALG] })
    const mode = payload.mode
    if (mode !== 'read' && mode !== 'write') return { ok: false, reason: 'invalid' }
    if (payload.room !== room && payload.room !== '*') return { ok: false, reason: 'wrong-room' }
    if (payload.sub?.startsWith('\u0000')) return { ok: false, reason: 'invalid' }
    // Rules on a read token, or rules the relay cannot bound, make the token invalid (never "no rules").
    if (payload.rules !== undefined && mode === 'read') return { ok: false, reason: 'invalid' }
    const rules = parseWriteRules(payload.rules)
    return { ok: true, mode, subject: payload.sub ?? '', expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000, rules }
  } catch (e) {
    return { ok: false, reason: e instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' }
  }
}
