/** How values, durations and errors read on the page. */
import { TideKVError, type Value } from '@tidekv/client'

/** `12.4 s` under 10 s, `42 s`, `3 min 05 s`, `2 h 07 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 60) return `${Math.floor(s)} s`
  const minutes = Math.floor(s / 60)
  if (minutes < 60) return `${minutes} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`
}

/** Whether `value` holds bytes anywhere (JSON cannot show those). */
export function holdsBytes(value: Value): boolean {
  if (value instanceof Uint8Array) return true
  if (Array.isArray(value)) return value.some(holdsBytes)
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsBytes)
  return false
}

/** One-line JSON for the key browser; bytes read as `<bytes: n>`. */
export function formatValue(value: Value): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? `<bytes: ${v.length}>` : v)) ?? String(value)
}

/** The text an error shows on the page: a TideKVError's code first, since that is what an app matches on. */
export function describeError(error: unknown): { code: string | null; message: string } {
  if (error instanceof TideKVError) return { code: error.code, message: error.message }
  if (error instanceof Error) return { code: null, message: error.message }
  return { code: null, message: String(error) }
}

/** `14:03:27` in the page's language. */
export function formatTime(epochMs: number, language: string): string {
  return new Date(epochMs).toLocaleTimeString(language, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}
