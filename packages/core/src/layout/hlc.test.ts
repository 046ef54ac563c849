import { expect, it } from 'vitest'
import { compareStamps, HybridClock } from './hlc.js'

it('issues increasing stamps even when the wall clock stands still or steps back', () => {
  let now = 1000
  const clock = new HybridClock(() => now)
  const a = clock.next(1)
  const b = clock.next(1)
  now = 500
  const c = clock.next(1)
  now = 2000
  const d = clock.next(1)
  expect([a, b, c, d].map((s) => [s.wall, s.counter])).toEqual([
    [1000, 0],
    [1000, 1],
    [1000, 2],
    [2000, 0],
  ])
  for (const [x, y] of [
    [a, b],
    [b, c],
    [c, d],
  ] as const)
    expect(compareStamps(x, y)).toBeLessThan(0)
})

it('moves past stamps observed from other replicas', () => {
  const clock = new HybridClock(() => 1000)
  clock.observe({ wall: 9000, counter: 4, replica: 2 })
  const next = clock.next(1)
  expect(compareStamps(next, { wall: 9000, counter: 4, replica: 2 })).toBeGreaterThan(0)
})

it('orders equal times by counter, then by replica id', () => {
  expect(compareStamps({ wall: 1, counter: 1, replica: 1 }, { wall: 1, counter: 0, replica: 9 })).toBeGreaterThan(0)
  expect(compareStamps({ wall: 1, counter: 1, replica: 2 }, { wall: 1, counter: 1, replica: 1 })).toBeGreaterThan(0)
})
