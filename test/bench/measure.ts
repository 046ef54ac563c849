/**
 * Small timing helpers for `npm run bench`: a warm-up run, then `runs` timed
 * runs with a full GC before each (when Node runs with --expose-gc), and the
 * median. Each run function times only what it measures and returns that
 * time in milliseconds (set-up and tear-down stay outside the timed part).
 * `check` stops a bench whose code did not do what its row says.
 */
import { readFileSync } from 'node:fs'

export const now = (): number => performance.now()

const collect = (globalThis as { gc?: () => void }).gc // reason: gc is a global only with --expose-gc, which no lib types

/** True when `global.gc` is available (the bench script passes --expose-gc). */
export const gcExposed = collect !== undefined

/** A full collection, so garbage from one run is not paid for by the next. */
export function fullGC(): void {
  collect?.()
}

export interface Sample {
  /** Median of the timed runs, in the row's unit. */
  median: number
  /** Every timed run, in the row's unit. */
  samples: number[]
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/**
 * Runs `run` once to warm up, then `runs` times, and returns the median of
 * what it returned (ms), scaled by `scale` (e.g. 1e6 / ops for ns/op).
 */
export async function measure(run: (index: number) => number | Promise<number>, options: { runs: number; warmup?: number; scale?: number }): Promise<Sample> {
  const scale = options.scale ?? 1
  for (let w = 0; w < (options.warmup ?? 1); w++) {
    fullGC()
    await run(-1 - w)
  }
  const samples: number[] = []
  for (let r = 0; r < options.runs; r++) {
    fullGC()
    samples.push((await run(r)) * scale)
  }
  return { median: median(samples), samples }
}

/** Throws when a bench's sanity check fails: a row must time code that did what the row says. */
export function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`bench sanity check failed: ${message}`)
}

/** ns/op scale for a run that performed `ops` operations and returned milliseconds. */
export const nsPerOp = (ops: number): number => 1e6 / ops

/** Formats a duration given in nanoseconds with a readable unit. */
export function formatNs(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(ns < 100 ? 1 : 0)} ns`
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : ns < 1e5 ? 1 : 0)} µs`
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : ns < 1e8 ? 1 : 0)} ms`
  return `${(ns / 1e9).toFixed(2)} s`
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`
}

/** Lays out rows of cells as a plain-text table with a header rule. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join(' | ')
      .trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-')
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** The installed version of a package in the root node_modules, or 'unknown'. */
export function packageVersion(name: string): string {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url)
    const pkg: unknown = JSON.parse(readFileSync(url, 'utf8'))
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown' // reason: versions are informative only
  }
}

export { shuffledIndices } from './shuffle.js'
