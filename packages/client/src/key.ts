/** Key rules: a non-empty, well-formed string of at most `maxKeyBytes` UTF-8 bytes. */
import { TideKVError } from './errors.js'

const encoder = new TextEncoder()

/** @throws TideKVError `INVALID_KEY` */
export function checkKey(key: unknown, maxKeyBytes: number): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TideKVError('INVALID_KEY', `A key must be a non-empty string, got ${describe(key)}`)
  }
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short keys need no counting.
  if (key.length * 3 > maxKeyBytes && encoder.encode(key).length > maxKeyBytes) {
    throw new TideKVError('INVALID_KEY', `Key is longer than ${maxKeyBytes} bytes of UTF-8`)
  }
  // A lone surrogate has no UTF-8 form: other replicas would read another key.
  if (!isWellFormed(key)) throw new TideKVError('INVALID_KEY', 'A key must be well-formed UTF-16 (no lone surrogates)')
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
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed
  return native !== undefined ? native.call(s) : !LONE_SURROGATE.test(s)
}

function describe(v: unknown): string {
  if (typeof v === 'string') return 'an empty string'
  return v === null ? 'null' : typeof v
}
