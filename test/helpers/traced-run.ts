/**
 * Running one seeded sequence of a property test so that its failure can be
 * replayed: the error names the sequence (its seed, and where it was) and
 * prints the last steps of its trace — `TIDEKV_TRACE=<n>` of them, 60 unless
 * set — with the original error as `cause`.
 */

/** A seeded sequence that writes down each step it takes. */
export interface TracedSequence {
  readonly trace: readonly string[]
  run(): Promise<void>
  /** Called once the run ends, passed or failed. */
  close(): Promise<void>
}

/** The last steps of `trace` to print: TIDEKV_TRACE=<n> of them, else 60. */
export function traceTail(trace: readonly string[]): string {
  return trace.slice(-(Number(process.env.TIDEKV_TRACE) || 60)).join('\n  ')
}

/**
 * Runs `sequence` and closes it; a failure is rethrown as
 * `<headline()>\n<message>\ntrace (last steps):\n  <tail>`.
 */
export async function runTraced(sequence: TracedSequence, headline: () => string): Promise<void> {
  try {
    await sequence.run()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new Error(`${headline()}\n${message}\ntrace (last steps):\n  ${traceTail(sequence.trace)}`, { cause: error })
  } finally {
    await sequence.close()
  }
}
