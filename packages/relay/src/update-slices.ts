/**
 * Cuts a large Yjs V1 update into smaller updates that, applied in order,
 * have the same effect, so the relay can apply a big sync step 2 a slice per
 * event-loop turn and stay responsive for every other room meanwhile (one
 * step 2 of 600,000 items held the event loop for 1.5 s).
 *
 * V1 structs are self-contained (each names its origins by absolute id), so a
 * client block can be cut between any two structs: a slice is a run of
 * structs under a new block header (the same client, the clock of its first
 * struct), copied byte for byte. The delete set goes with the last slice.
 * The layout (block and cut offsets) comes from `checkUpdate`, which has
 * parsed the update anyway; nothing is parsed twice.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import type { UpdateLayout } from './update-budget.js'

/** One block's part in a slice: struct count, client, first clock, and the byte range of its structs. */
interface Part {
  count: number
  client: number
  clock: number
  from: number
  to: number
}

/**
 * The slices of `update`, given its layout from `checkUpdate(update, budget, sv, sliceEvery)`.
 * Returns `[update]` itself when the layout has no cut, or when a block
 * references a later one (`forwardRefs`): in byte order such slices would
 * wait in Yjs's pending structs and be merged again with every slice, which
 * made 400,000 items take 9 s where the whole update took 0.2 s.
 */
export function sliceUpdate(update: Uint8Array, layout: UpdateLayout): Uint8Array[] {
  const { blocks, cuts } = layout
  if (cuts.length === 0 || layout.forwardRefs) return [update]
  const slices: Part[][] = [[]]
  let cut = 0
  for (let b = 0; b * 5 < blocks.length; b++) {
    const client = blocks[b * 5]!
    let clock = blocks[b * 5 + 1]!
    let from = blocks[b * 5 + 2]!
    const end = blocks[b * 5 + 3]!
    let index = 0
    const count = blocks[b * 5 + 4]!
    // Every cut inside this block closes the current slice at that struct.
    while (cut * 4 < cuts.length && cuts[cut * 4] === b) {
      const at = cuts[cut * 4 + 1]!
      const atClock = cuts[cut * 4 + 2]!
      const atIndex = cuts[cut * 4 + 3]!
      if (atIndex > index) slices[slices.length - 1]!.push({ count: atIndex - index, client, clock, from, to: at })
      slices.push([])
      from = at
      clock = atClock
      index = atIndex
      cut++
    }
    if (count > index) slices[slices.length - 1]!.push({ count: count - index, client, clock, from, to: end })
  }
  const emptyDeleteSet = new Uint8Array([0])
  const deleteSet = update.subarray(layout.deleteSetStart)
  return slices
    .filter((parts, i) => parts.length > 0 || i === slices.length - 1)
    .map((parts, i, all) => {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, parts.length)
      for (const p of parts) {
        encoding.writeVarUint(encoder, p.count)
        encoding.writeVarUint(encoder, p.client)
        encoding.writeVarUint(encoder, p.clock)
        encoding.writeUint8Array(encoder, update.subarray(p.from, p.to))
      }
      encoding.writeUint8Array(encoder, i === all.length - 1 ? deleteSet : emptyDeleteSet)
      return encoding.toUint8Array(encoder)
    })
}

/**
 * Applies `slices` to `doc` in order, one per event-loop turn, with `origin`,
 * then calls `done` in the same turn as the last one (with the error of the
 * first slice Yjs refuses, if one does: the rest are not applied), before any
 * microtask, so what it does joins the last slice's batch.
 */
export function applyInTurns(doc: Y.Doc, slices: readonly Uint8Array[], origin: unknown, done: (failure: { error: unknown } | null) => void): void {
  let i = 0
  const next = (): void => {
    try {
      Y.applyUpdate(doc, slices[i++]!, origin)
    } catch (error) {
      done({ error })
      return
    }
    if (i < slices.length) setImmediate(next)
    else done(null)
  }
  // Not in this turn, which has just received and checked the whole update, and not before
  // the next poll for I/O either: a setImmediate made while handling socket input runs
  // before it, so two.
  setImmediate(() => setImmediate(next))
}
