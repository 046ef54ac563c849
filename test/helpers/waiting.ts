/** Small test utilities shared by the relay tests. */

/** One turn of the event loop. */
export const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve))

/** `promise`, or a rejection naming `what` if it takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/** A value as a short, stable string for assertion messages (bytes included). */
export function show(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes[${[...v].join(',')}]`
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}:${show(x)}`)
      .join(',')}}`
  return JSON.stringify(v)
}
