/**
 * The rules for keys and for data structure members (hash fields, set
 * members, ...): a well-formed string of at most `maxKeyBytes` UTF-8 bytes;
 * keys must also be non-empty.
 */
import { type ErrorCode, TideKVError } from '../errors.js'

const encoder = new TextEncoder()

/** @throws TideKVError `INVALID_KEY` */
export function checkKey(key: unknown, maxKeyBytes: number): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TideKVError('INVALID_KEY', `A key must be a non-empty string, got ${describe(key)}`)
  }
  checkString(key, maxKeyBytes, 'INVALID_KEY', 'key')
}

/**
 * The rules keys and members share: at most `maxBytes` of UTF-8, and
 * well-formed UTF-16 (a lone surrogate has no UTF-8 form: other replicas, and
 * this one after a reload, would read U+FFFD, another string).
 * @throws TideKVError of `code`
 */
export function checkString(s: string, maxBytes: number, code: ErrorCode, what: string): void {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short strings need no counting.
  if (s.length * 3 > maxBytes && encoder.encode(s).length > maxBytes) {
    throw new TideKVError(code, `A ${what} is longer than ${maxBytes} bytes of UTF-8 (maxKeyBytes)`)
  }
  if (!isWellFormed(s)) throw new TideKVError(code, `A ${what} must be well-formed UTF-16 (no lone surrogates)`)
}

/** The cheap part of `checkKey`, for reads: a key that could never be stored is still refused. */
export function checkReadKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TideKVError('INVALID_KEY', `A key must be a non-empty string, got ${describe(key)}`)
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** String.prototype.isWellFormed where the runtime has it (Chrome 111, Node 20). */
export function isWellFormed(s: string): boolean {
  // reason: isWellFormed is ES2024, past the ES2022 lib the packages compile against; typed optional, so a runtime without it takes the fallback
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed
  return native !== undefined ? native.call(s) : !LONE_SURROGATE.test(s)
}

function describe(v: unknown): string {
  if (typeof v === 'string') return 'an empty string'
  return v === null ? 'null' : typeof v
}
