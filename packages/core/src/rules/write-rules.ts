/**
 * Write rules: the keys a token may write, as Redis ACL key patterns (`%W~`).
 * The relay checks every update of a connection against them; the client
 * checks every write first, so an honest app gets `FORBIDDEN` at the call.
 */
import { TideKVError } from '../errors.js'
import { globMatch } from './glob.js'

/** The `rules` claim of a token. */
export interface TokenRules {
  /** Glob patterns (Redis `*`, `?`, `[...]`, `\`) over keys; a write must touch only keys that match one. */
  write: readonly string[]
}

/** At most this many patterns per token, each at most this many characters: a token's rules cost bounded work per key. */
export const MAX_WRITE_PATTERNS = 64
export const MAX_PATTERN_LENGTH = 512

export class WriteRules {
  readonly patterns: readonly string[]
  /** Patterns that are a literal prefix then one `*` (the common case) are tested as prefixes. */
  readonly #prefixes: string[] = []
  readonly #globs: string[] = []

  constructor(patterns: readonly string[]) {
    this.patterns = Object.freeze([...patterns])
    for (const p of patterns) {
      const literal = p.slice(0, -1)
      if (p.endsWith('*') && !/[*?[\\]/.test(literal)) this.#prefixes.push(literal)
      else this.#globs.push(p)
    }
  }

  /** Whether a write may touch `key`. */
  allows(key: string): boolean {
    for (const prefix of this.#prefixes) if (key.startsWith(prefix)) return true
    for (const glob of this.#globs) if (globMatch(glob, key)) return true
    return false
  }
}

/**
 * The rules of a token's `rules` claim (undefined: none, the whole room).
 * @throws TideKVError `INVALID_VALUE` when the claim is not `{ write: string[] }` within the bounds above
 */
export function parseWriteRules(claim: unknown): WriteRules | null {
  if (claim === undefined) return null
  const where = 'rules'
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) throw new TideKVError('INVALID_VALUE', `${where} must be an object { write: string[] }`)
  const extra = Object.keys(claim).filter((k) => k !== 'write')
  if (extra.length > 0) throw new TideKVError('INVALID_VALUE', `${where} has unknown fields: ${extra.join(', ')}`)
  const write: unknown = (claim as { write?: unknown }).write // reason: a plain object checked above; its field is unknown until checked below
  if (!Array.isArray(write)) throw new TideKVError('INVALID_VALUE', `${where}.write must be an array of key patterns`)
  if (write.length > MAX_WRITE_PATTERNS) throw new TideKVError('INVALID_VALUE', `${where}.write has ${write.length} patterns; at most ${MAX_WRITE_PATTERNS}`)
  for (const p of write) {
    if (typeof p !== 'string' || p === '' || p.length > MAX_PATTERN_LENGTH) {
      throw new TideKVError('INVALID_VALUE', `${where}.write: each pattern must be a non-empty string of at most ${MAX_PATTERN_LENGTH} characters`)
    }
  }
  return new WriteRules(write as string[]) // reason: every element was checked to be a string just above
}
