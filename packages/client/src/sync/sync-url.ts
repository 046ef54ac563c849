// The relay URLs of `sync.url`, checked before anything opens (in the main
// chunk: the sync code itself loads later, with import()).
import { TideKVError } from '@tidekv/core/wire'

/**
 * `sync.url` as a list of ws:// or wss:// URLs without a trailing slash
 * (http:// and https:// become ws:// and wss://).
 * @throws TideKVError `INVALID_VALUE` for anything else, or an empty list
 */
export function relayUrls(url: unknown): string[] {
  const urls: unknown[] = Array.isArray(url) ? url : [url]
  const ok = urls.length > 0 && urls.every((u) => typeof u === 'string' && /^(wss?|https?):\/\/./.test(u))
  if (!ok)
    throw new TideKVError(
      'INVALID_VALUE',
      `sync.url must be a ws:// or wss:// URL, or a non-empty list of them, got ${Array.isArray(url) ? `[${url.map(String).join(', ')}]` : String(url)}`,
    )
  // reason: every item was just checked to be a string
  return (urls as string[]).map((u) => u.replace(/^http/, 'ws').replace(/\/+$/, ''))
}
