/**
 * Typed origins for Yjs transactions on a store's document. Every listener
 * checks the origin, so an update is never echoed back where it came from.
 */
import type { ChangeOrigin } from './watchers.js'

export type OriginKind = 'local' | 'storage' | 'tab' | 'remote'

/** The origin object of a transaction made by TideKV (or by a sync layer on its behalf). */
export class TransactionOrigin {
  constructor(
    readonly kind: OriginKind,
    /** What made it: the store, a storage adapter, a tab channel, a provider. */
    readonly source: unknown = null,
  ) {}
}

/** How a change made by a transaction with `origin` is reported to watchers. */
export function changeOriginOf(origin: unknown): ChangeOrigin {
  if (origin instanceof TransactionOrigin) {
    // Rows found in storage that this store did not write came from another tab.
    if (origin.kind === 'storage' || origin.kind === 'tab') return 'tab'
    if (origin.kind === 'local') return 'local'
  }
  return 'remote'
}
