/**
 * The steps of the convergence runs through the relay
 * (relay/convergence.test.ts): what one client does, and whether the run
 * yields a turn after it. A run draws all its steps before it starts, so a
 * run is nothing but its list of steps: a list that a random run found can be
 * written down and kept as a fixed case, whatever generator drew it.
 */
import type { Value } from '@tidekv/client'
import type { DeviceStep } from '../helpers/relay-devices.js'
import type { Random } from '@tidekv/core/testing'
import { show } from '../helpers/waiting.js'

export const CLIENTS = 4
export const KEYS = ['a', 'b', 'c', 'n', 'p:1', 'p:2'] as const
export type Key = (typeof KEYS)[number]
/** TTLs: short ones run out during the run, the long one never does. */
export const TTLS = [20, 80, 250, 600_000] as const

/** One write of a `many` step. */
export type TickWrite = { key: Key; op: 'delete' } | { key: Key; op: 'set'; value: Value; ttl?: number }

/** A write a client makes. */
export type WriteAction =
  | { op: 'set'; key: Key; value: Value; ttl?: number }
  | { op: 'delete' | 'persist'; key: Key }
  | { op: 'incr'; key: Key; by: number }
  /** A ttl of 0 expires the key at once. */
  | { op: 'expire'; key: Key; ttl: number }
  /** Several writes in one tick: one transaction, one message. */
  | { op: 'many'; writes: TickWrite[] }
  | { op: 'clear' }

/** What happens to a client's device (allOffline and pause: to every client's). */
export type DeviceAction = { op: DeviceStep }

/** The client that takes a step, and whether the run yields a turn after it, so messages flow before the next one. */
type Taken = { client: number; turn: boolean }
export type WriteStep = WriteAction & Taken
export type Step = (WriteAction | DeviceAction) & Taken

const DEVICE_OPS: Record<DeviceStep, true> = { disconnect: true, connect: true, reopen: true, allOffline: true, whenSynced: true, pause: true }

export function isDeviceStep(step: Step): step is DeviceAction & Taken {
  return step.op in DEVICE_OPS
}

function drawValue(rng: Random): Value {
  return rng.pick<() => Value>([
    () => rng.int(-3, 20),
    () => rng.int(-3, 20),
    () => rng.pick(['x', 'y', '', 'é😀']),
    () => rng.pick([null, true, 2.5]),
    () => ({ v: rng.int(0, 9), list: [1, 'two'] }),
    () => new Uint8Array([rng.int(0, 255)]),
  ])()
}

function drawTtl(rng: Random): { ttl?: number } {
  return rng.chance(0.25) ? { ttl: rng.pick(TTLS) } : {}
}

/** Draws one step. */
export function drawStep(rng: Random): Step {
  const client = rng.int(0, CLIENTS - 1)
  // Drawn for every step, also one that takes no key: the order the recorded case
  // (convergence-seed-632553601.ts) was drawn in, so this code can still tell how it came about.
  const key = rng.pick(KEYS)
  const op = rng.weighted({
    set: 30,
    delete: 10,
    incr: 20,
    expire: 6,
    persist: 3,
    many: 5,
    clear: 1,
    disconnect: 4,
    connect: 6,
    allOffline: 1,
    reopen: 2,
    whenSynced: 3,
    pause: 8,
  })
  const action = ((): WriteAction | DeviceAction => {
    switch (op) {
      case 'set':
        return { op, key, value: drawValue(rng), ...drawTtl(rng) }
      case 'delete':
      case 'persist':
        return { op, key }
      case 'incr':
        return { op, key, by: rng.int(-2, 5) }
      case 'expire':
        return { op, key, ttl: rng.chance(0.15) ? 0 : rng.pick(TTLS) }
      case 'many':
        return {
          op,
          writes: Array.from({ length: rng.int(2, 4) }, (): TickWrite => {
            const key = rng.pick(KEYS)
            return rng.chance(0.3) ? { key, op: 'delete' } : { key, op: 'set', value: drawValue(rng), ...drawTtl(rng) }
          }),
        }
      default:
        return { op }
    }
  })()
  // Most steps yield, so messages flow between writes; the others pile into one tick.
  return { client, ...action, turn: rng.chance(0.8) }
}

/** Draws a run of `count` steps. */
export function drawSteps(rng: Random, count: number): Step[] {
  return Array.from({ length: count }, () => drawStep(rng))
}

/** A write step as a trace line (the device steps write their own). */
export function describeWrite(step: WriteStep): string {
  const ttl = (t: number | undefined) => (t === undefined ? '' : ` ttl ${t}`)
  switch (step.op) {
    case 'set':
      return `c${step.client} set ${step.key} ${show(step.value)}${ttl(step.ttl)}`
    case 'delete':
    case 'persist':
      return `c${step.client} ${step.op} ${step.key}`
    case 'incr':
      return `c${step.client} incr ${step.key} ${step.by}`
    case 'expire':
      return `c${step.client} expire ${step.key} ${step.ttl}`
    case 'many':
      return `c${step.client} in one tick: ${step.writes.map((w) => (w.op === 'delete' ? `delete ${w.key}` : `set ${w.key} ${show(w.value)}${ttl(w.ttl)}`)).join(', ')}`
    case 'clear':
      return `c${step.client} clear`
  }
}
