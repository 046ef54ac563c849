/**
 * A deterministic shuffle (xorshift32), so every implementation reads keys in
 * the same order. No imports: the Node benchmarks and the browser page both use it.
 */
export function shuffledIndices(n: number, seed = 0x9e3779b9): Uint32Array {
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  let x = seed >>> 0 || 1
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    const j = x % (i + 1)
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}
