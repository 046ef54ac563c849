/** Waiting with a bound: what the relay's replicas, its openRoom and its HTTP API wait on may never come. */

export const LATE: unique symbol = Symbol('late')

/**
 * What `promise` settles to, or LATE when it has not settled within `ms`. The
 * timer is cleared either way and never keeps the process alive.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms)
    timer.unref?.()
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
