/**
 * Keys read at a fast open (snapshot-keyspace.ts) and not yet made slots:
 * keys become slots one by one, as they are used, and a slot's entries stay
 * encoded (in the snapshot's own buffer) until it is first read.
 */
export interface SavedKeys {
  /** Keys in order. */
  keys: string[]
  /** Key i's entries are entries starts[i] up to starts[i + 1] of the columns below. */
  starts: Uint32Array
  /** Each entry's item id. */
  clients: Float64Array
  clocks: Float64Array
  /** Where each entry's bytes are in `buffer`, and how many. */
  offsets: Uint32Array
  lengths: Uint32Array
  buffer: Uint8Array
  /** Each key's expiry (0: none). */
  expiries: Float64Array
}
