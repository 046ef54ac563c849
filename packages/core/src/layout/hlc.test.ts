import { expect, it } from 'vitest'
import { compareStamps, HybridClock, MAX_CLOCK_DRIFT_MS, MAX_COUNTER, MAX_WALL, stampInBounds } from './hlc.js'

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

it('does not adopt a stamp from more than MAX_CLOCK_DRIFT_MS ahead: a peer from year 2126 does not drag this clock along', () => {
  const now = 1_800_000_000_000
  const clock = new HybridClock(() => now)
  clock.observe({ wall: now + 100 * 365 * 86_400_000, counter: 0, replica: 2 })
  clock.observe({ wall: 2 ** 60, counter: 0, replica: 2 })
  expect(clock.next(1)).toEqual({ wall: now, counter: 0, replica: 1 })
  clock.observe({ wall: now + MAX_CLOCK_DRIFT_MS, counter: 3, replica: 2 }) // within the drift: adopted
  expect(clock.next(1)).toEqual({ wall: now + MAX_CLOCK_DRIFT_MS, counter: 4, replica: 1 })
})

it('moves to the next millisecond rather than past MAX_COUNTER, and never past MAX_WALL', () => {
  const clock = new HybridClock(() => 1000)
  clock.observe({ wall: 1000, counter: MAX_COUNTER, replica: 2 })
  expect(clock.next(1)).toEqual({ wall: 1001, counter: 0, replica: 1 })
  const late = new HybridClock(() => Number.MAX_SAFE_INTEGER)
  expect(late.next(1).wall).toBe(MAX_WALL)
  expect(stampInBounds({ wall: MAX_WALL, counter: MAX_COUNTER, replica: 1 })).toBe(true)
  expect(stampInBounds({ wall: MAX_WALL + 1, counter: 0, replica: 1 })).toBe(false)
  expect(stampInBounds({ wall: 0, counter: MAX_COUNTER + 1, replica: 1 })).toBe(false)
})
