import { expect, it } from 'vitest'
import { ExpiryQueue } from './expiry-queue.js'

it('pops keys in expiry order and peeks at the earliest', () => {
  const q = new ExpiryQueue()
  expect(q.peek()).toBe(Infinity)
  expect(q.pop()).toBeUndefined()
  const times = [50, 10, 40, 10, 30, 20, 60, 5]
  times.forEach((t, i) => q.push(t, `k${i}`))
  expect(q.peek()).toBe(5)
  const popped: number[] = []
  while (q.size > 0) {
    const at = q.peek()
    q.pop()
    popped.push(at)
  }
  expect(popped).toEqual([...times].sort((a, b) => a - b))
})
