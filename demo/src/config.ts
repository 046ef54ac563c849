/**
 * The demo's settings, from the page's URL so tests and curious people can
 * change them without a rebuild:
 *
 * - `room`: the store's name and relay room (default `demo`)
 * - `relay`: the relay's WebSocket URL (default: the page's own origin, which
 *   is where `npm start` serves the page from; under Vite's dev server, a
 *   relay on port 8787 of the same host); `off` for a store without sync
 * - `rateLimit`, `rateWindow`: the rate limiter's calls per window and the
 *   window in seconds (default 5 per 20 s)
 * - `sessionTtl`: the session's lifetime in seconds (default 30)
 */
export interface DemoConfig {
  room: string
  /** The relay's URL, or null for a local store (still shared between tabs). */
  relayUrl: string | null
  rateLimit: number
  rateWindowMs: number
  sessionTtlMs: number
  /** How long a tab's presence key lives without being refreshed. */
  presenceTtlMs: number
  /** How often a tab refreshes its presence key. */
  presenceRefreshMs: number
}

export function readConfig(location: Location, dev: boolean): DemoConfig {
  const params = new URLSearchParams(location.search)
  const relay = params.get('relay')
  const sameOrigin = dev ? `ws://${location.hostname}:8787` : location.origin.replace(/^http/, 'ws')
  return {
    room: params.get('room') || 'demo',
    relayUrl: relay === 'off' ? null : relay || sameOrigin,
    rateLimit: positiveInteger(params.get('rateLimit'), 5),
    rateWindowMs: positiveNumber(params.get('rateWindow'), 20) * 1000,
    sessionTtlMs: positiveNumber(params.get('sessionTtl'), 30) * 1000,
    presenceTtlMs: 15_000,
    presenceRefreshMs: 5_000,
  }
}

function positiveNumber(text: string | null, fallback: number): number {
  const n = Number(text)
  return text !== null && Number.isFinite(n) && n > 0 ? n : fallback
}

function positiveInteger(text: string | null, fallback: number): number {
  const n = positiveNumber(text, fallback)
  return Number.isSafeInteger(n) ? n : fallback
}
