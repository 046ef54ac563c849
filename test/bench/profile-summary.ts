/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and summarizes where the time
 * went: self time by function, inclusive time by function, and self time by
 * area (the relay's own files, yjs, lib0, y-protocols, ws, better-sqlite3,
 * Node internals, GC, idle). Used by `npm run bench:relay` with
 * BENCH_RELAY_PROFILE=1.
 */
import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileSummary {
  /** Sampled time, ms, idle included. */
  totalMs: number
  /** Sampled time, ms, without idle. */
  busyMs: number
  self: { name: string; ms: number; pct: number }[]
  inclusive: { name: string; ms: number; pct: number }[]
  areas: { area: string; ms: number; pct: number }[]
}

function frameName(f: CallFrame): string {
  const file =
    f.url === ''
      ? ''
      : f.url
          .replace(/^file:\/\//, '')
          .replace(/^.*\/node_modules\//, '')
          .replace(/^.*\/packages\//, 'packages/')
  return `${f.functionName || '(anonymous)'}${file === '' ? '' : ` ${file}:${f.lineNumber + 1}`}`
}

function area(f: CallFrame): string {
  const u = f.url
  if (u === '') {
    if (f.functionName === '(idle)') return 'idle'
    if (f.functionName === '(garbage collector)') return 'GC'
    if (f.functionName === '(program)') return 'program (native, unattributed)'
    return `native: ${f.functionName}`
  }
  if (u.startsWith('node:')) return 'node internals'
  const m = u.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (m !== null) return m[1]!
  const rel = u.match(/\/(packages\/[^/]+\/src\/[^/]+|test\/[^?]+)/)
  return rel === null ? u : rel[1]!
}

/** Summarizes the profile at `path`, the `top` heaviest entries of each list. */
export function summarizeProfile(path: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile // reason: a .cpuprofile that node --cpu-prof wrote: V8's CPU profile JSON
  const byId = new Map<number, ProfileNode>()
  for (const node of profile.nodes) byId.set(node.id, node)
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id)

  let totalUs = 0
  let idleUs = 0
  const selfByName = new Map<string, number>()
  const byArea = new Map<string, number>()
  const inclusiveByName = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    totalUs += us
    const a = area(node.callFrame)
    if (a === 'idle') {
      idleUs += us
      continue
    }
    byArea.set(a, (byArea.get(a) ?? 0) + us)
    const name = frameName(node.callFrame)
    selfByName.set(name, (selfByName.get(name) ?? 0) + us)
    // Inclusive: every distinct function on the stack of this sample.
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)
      if (n === undefined) break
      const fname = frameName(n.callFrame)
      if (seen.has(fname) || n.callFrame.functionName === '(root)') continue
      seen.add(fname)
      inclusiveByName.set(fname, (inclusiveByName.get(fname) ?? 0) + us)
    }
  }
  const busyUs = totalUs - idleUs
  const list = <K extends string>(m: Map<string, number>, key: K) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      // reason: the computed key is `key`, of type K, which an object literal widens to string
      .map(([name, us]) => ({ [key]: name, ms: us / 1000, pct: (100 * us) / Math.max(1, busyUs) }) as { [P in K]: string } & { ms: number; pct: number })
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    self: list(selfByName, 'name'),
    inclusive: list(inclusiveByName, 'name'),
    areas: list(byArea, 'area'),
  }
}

/** The summary as text. */
export function formatProfile(title: string, s: ProfileSummary): string {
  const lines = [`${title}: ${s.busyMs.toFixed(0)} ms busy of ${s.totalMs.toFixed(0)} ms sampled`]
  lines.push('  self time by area:')
  for (const a of s.areas) lines.push(`    ${a.pct.toFixed(1).padStart(5)}%  ${a.ms.toFixed(0).padStart(6)} ms  ${a.area}`)
  lines.push('  self time by function:')
  for (const f of s.self) lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`)
  lines.push('  inclusive time by function:')
  for (const f of s.inclusive) lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`)
  return lines.join('\n')
}
