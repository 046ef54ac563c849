/**
 * The stable error codes of TideKV. Match on `error.code`, never on the message.
 */
export const ErrorCode = {
  /** The key is not a non-empty string, or is longer than `maxKeyBytes` of UTF-8. */
  INVALID_KEY: 'INVALID_KEY',
  /** The value is not a TideKV value (JSON-compatible data or Uint8Array), or an option is out of range. */
  INVALID_VALUE: 'INVALID_VALUE',
  /** The encoded value is larger than `maxValueBytes`. */
  VALUE_TOO_LARGE: 'VALUE_TOO_LARGE',
  /** `incr`/`decr` on a value that is not a safe integer, or by an amount that is not one. */
  NOT_AN_INTEGER: 'NOT_AN_INTEGER',
  /** The result of `incr`/`decr` would leave the safe integer range. */
  OUT_OF_RANGE: 'OUT_OF_RANGE',
  /** The key holds a different kind of data than the call needs (for the data structures). */
  WRONG_TYPE: 'WRONG_TYPE',
  /** A write on a store synced with a read-only token. */
  READ_ONLY: 'READ_ONLY',
  /** A write to a key outside the write rules of the store's token (`rules.write`); nothing was changed. */
  FORBIDDEN: 'FORBIDDEN',
  /** A write to a cache store that would pass its `maxBytes` and that its policy cannot make room for (Redis's OOM error); nothing was changed. */
  OUT_OF_MEMORY: 'OUT_OF_MEMORY',
  /** The store was closed. */
  CLOSED: 'CLOSED',
  /** IndexedDB (or the storage adapter) failed: quota, blocked, closed database. */
  STORAGE_FAILED: 'STORAGE_FAILED',
  /** A document entry from another replica could not be decoded; it was ignored. */
  INVALID_ENTRY: 'INVALID_ENTRY',
  /** A watcher callback threw; the other watchers still ran. */
  WATCHER_FAILED: 'WATCHER_FAILED',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/**
 * Every error TideKV throws or emits. `code` is stable; `cause` holds the
 * underlying error (an IndexedDB `DOMException`, say) where there is one.
 *
 * @example
 * import { TideKVError } from '@tidekv/client'
 * store.set('name', 'Ada')
 * try { store.incr('name') } catch (e) {
 *   if (e instanceof TideKVError && e.code === 'NOT_AN_INTEGER') console.log('not a counter')
 *   else throw e
 * }
 */
export class TideKVError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TideKVError'
    this.code = code
  }
}

/** Wraps any thrown thing as a `TideKVError` of `code`, keeping it as the cause. */
export function asTideKVError(code: ErrorCode, message: string, cause: unknown): TideKVError {
  if (cause instanceof TideKVError) return cause
  const detail = cause instanceof Error ? `: ${cause.message}` : ''
  return new TideKVError(code, message + detail, { cause })
}
