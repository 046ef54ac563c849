/**
 * How the Node benchmarks (bench.ts, bench-structures.ts) end: the machine
 * line above their table, the notes and goals below it, and the results
 * file, whose `meta` starts with what every one records about the run.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { gcExposed, packageVersion } from './measure.js'

/** Where the numbers were measured: `Node <version>, <cpus> × <cpu model>`. */
export function machine(): string {
  return `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`
}

/** What a table row says below the table. */
export interface NotedRow {
  label: string
  notes: string[]
  goal?: string
  /** Absent on a row without a goal. */
  met?: boolean
}

/** The 'Notes:' and 'Goals:' sections printed under a table; `ratioText` says how a row did. */
export function notesAndGoals<R extends NotedRow>(rows: readonly R[], ratioText: (row: R) => string | undefined): string[] {
  return [
    'Notes:',
    ...rows.flatMap((row) => row.notes.map((n) => `  [${row.label}] ${n}`)),
    '',
    'Goals:',
    ...rows.filter((r) => r.met !== undefined).map((r) => `  ${r.met ? 'met    ' : 'NOT met'}  ${r.label}: ${ratioText(r)} (goal ${r.goal})`),
  ]
}

/** What a results file records about the run (one warm-up run, medians of `runs`), before its own fields. */
export function runMeta(run: { n: number; runs: number; packages: readonly string[]; durationMs: number; units: Readonly<Record<string, string>> }) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    n: run.n,
    runs: run.runs,
    warmup: 1,
    gcBetweenRuns: gcExposed,
    versions: Object.fromEntries(run.packages.map((p) => [p, packageVersion(p)])),
    durationMs: Math.round(run.durationMs),
    units: run.units,
  }
}

/** Writes `results` to `url` as indented JSON, creating its folder. */
export function saveResults(url: URL, results: unknown): void {
  mkdirSync(new URL('./', url), { recursive: true })
  writeFileSync(url, `${JSON.stringify(results, null, 2)}\n`)
}
