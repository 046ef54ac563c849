import type { StorageAdapter, StorageFactory, StoredSnapshot, StoredUpdate } from '@tidekv/client'
import { keysOfSnapshot } from '@tidekv/core/internal'

/**
 * Storage that holds back `loadUpdates` after a fast open (one from the keys
 * of a snapshot) until `release()`: memory storage would otherwise load the
 * document before `openStore` even returns, and the window in which the
 * store answers from the snapshot's keys, takes writes and receives updates
 * while the document loads would never be tested.
 */
export class LoadGate {
  private open: (() => void) | null = null
  private readonly opened: Promise<void>

  constructor() {
    this.opened = new Promise((resolve) => (this.open = resolve))
  }

  get held(): boolean {
    return this.open !== null
  }

  release(): void {
    this.open?.()
    this.open = null
  }

  wrap(inner: StorageFactory): StorageFactory {
    return async (name) => {
      const adapter: StorageAdapter = await inner(name)
      let fastOpen = false
      const loadSnapshot = async (): Promise<StoredSnapshot | undefined> => {
        const saved = await adapter.loadSnapshot()
        // A snapshot whose keys cannot be read without the document (it holds pending structs) opens the slow way too.
        fastOpen = saved !== undefined && keysOfSnapshot(saved.snapshot, saved.index) !== undefined
        // Without a snapshot to read keys from, openStore waits for the document: nothing to hold back.
        if (!fastOpen) this.release()
        return saved
      }
      const loadUpdates = async (): Promise<StoredUpdate[]> => {
        if (fastOpen) await this.opened
        return adapter.loadUpdates()
      }
      // Every other method goes straight to the adapter.
      return new Proxy(adapter, {
        get(target, prop) {
          if (prop === 'loadSnapshot') return loadSnapshot
          if (prop === 'loadUpdates') return loadUpdates
          const value: unknown = Reflect.get(target, prop)
          if (typeof value !== 'function') return value
          const bound: unknown = value.bind(target)
          return bound
        },
      })
    }
  }
}
