/**
 * Signed webhooks: a POST per room after changes, debounced, to each hook
 * whose prefix the changed keys match:
 *
 *   POST <url>
 *   Content-Type: application/json
 *   X-TideKV-Signature: sha256=<hex HMAC-SHA256 of the body with the hook's secret>
 *   X-TideKV-Delivery: <uuid of this attempt>
 *
 *   { "room": "team:7", "changes": [{ "key": "todo:1", "type": "string", "value": {...} },
 *                                   { "key": "todo:2", "type": "none", "deleted": true }] }
 *
 * A change says what the key holds when the batch is sent (its type and
 * value, data structures as JSON), not each write: a key written ten times
 * within the debounce is one change.
 *
 * At least once: the keys an update touches are written to an outbox (a
 * SQLite file beside the relay's data) when the update is accepted, before it
 * is applied, and leave it only after a 2xx; a relay that restarts sends what
 * its outbox still holds. Failures are retried with exponential backoff (1 s
 * doubling to 5 min). The outbox holds at most `MAX_QUEUED` keys per hook;
 * changes beyond are dropped and counted (`tidekv_webhook_dropped_total`).
 * Only updates the relay accepted are recorded (not refused ones: rules,
 * budget, ownership). With relays sharing rooms, the relay that accepted an
 * update from its client records it; updates that came from other relays are
 * theirs to send: one webhook per change, not one per relay.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import Database from 'better-sqlite3'
import { TideKVError } from '@tidekv/core'

export interface WebhookOptions {
  /** Where to POST (http or https). */
  url: string
  /** The HMAC key of `X-TideKV-Signature`; share it with the receiver only. */
  secret: string
  /** Only keys starting with it (default: every key). */
  prefix?: string
  /** How long changes gather before a POST, ms (default 1,000). */
  debounceMs?: number
}

/** A key as a webhook tells it. */
export interface WebhookChange {
  key: string
  type: string
  value?: unknown
  deleted?: true
}

export const DEFAULT_DEBOUNCE_MS = 1000
/** Most keys waiting per hook; more are dropped (and counted). */
export const MAX_QUEUED = 100_000
/** Most keys in one POST; a larger batch goes as several. */
export const MAX_KEYS_PER_POST = 500
const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 5 * 60_000
const POST_TIMEOUT_MS = 10_000

export interface WebhookDeps {
  /** Where the outbox lives (a SQLite file, or ':memory:'). */
  path: string
  /** What the keys of `room` hold now. */
  describe: (room: string, keys: readonly string[]) => Promise<WebhookChange[]>
  /** Counts deliveries by result, and drops. */
  count: (event: 'delivered' | 'failed' | 'dropped', n?: number) => void
  onError: (error: unknown, room?: string) => void
}

interface Batch {
  hook: number
  room: string
  timer: ReturnType<typeof setTimeout> | null
  sending: boolean
  /** Consecutive failures. */
  failures: number
}

/** Checks webhook options; throws a TideKVError `INVALID_VALUE` naming the bad field. */
export function checkWebhooks(hooks: unknown): WebhookOptions[] {
  if (!Array.isArray(hooks)) throw new TideKVError('INVALID_VALUE', 'webhooks must be an array of { url, secret, prefix?, debounceMs? }')
  const checked = hooks.map((h: unknown, i) => {
    const where = `webhooks[${i}]`
    if (typeof h !== 'object' || h === null) throw new TideKVError('INVALID_VALUE', `${where} must be an object`)
    const { url, secret, prefix, debounceMs } = h as Partial<Record<keyof WebhookOptions, unknown>> // reason: each field is checked below
    let parsed: URL | undefined
    try {
      parsed = typeof url === 'string' ? new URL(url) : undefined
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw new TideKVError('INVALID_VALUE', `${where}.url must be an http(s) URL`)
    if (typeof secret !== 'string' || secret.length === 0) throw new TideKVError('INVALID_VALUE', `${where}.secret must be a non-empty string`)
    if (prefix !== undefined && typeof prefix !== 'string') throw new TideKVError('INVALID_VALUE', `${where}.prefix must be a string`)
    if (debounceMs !== undefined && !(typeof debounceMs === 'number' && Number.isInteger(debounceMs) && debounceMs >= 0 && debounceMs <= 3_600_000)) {
      throw new TideKVError('INVALID_VALUE', `${where}.debounceMs must be an integer from 0 to 3,600,000`)
    }
    return { url: parsed.href, secret, ...(prefix === undefined ? {} : { prefix }), ...(debounceMs === undefined ? {} : { debounceMs }) }
  })
  // The outbox keys a hook's changes by its URL.
  const urls = checked.map((h) => h.url)
  const twice = urls.find((url, i) => urls.indexOf(url) !== i)
  if (twice !== undefined) throw new TideKVError('INVALID_VALUE', `webhooks: ${twice} is given twice (one hook per URL)`)
  return checked
}

/** The signature header value for `body` (what a receiver recomputes). */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/**
 * For a receiver: whether `signature` (the `X-TideKV-Signature` header) signs
 * `body` (the raw bytes or text received, before any JSON parsing) with
 * `secret`. Compares in constant time.
 * @example
 * import { createHmac } from 'node:crypto'
 * import { verifyWebhook } from '@tidekv/relay'
 * const rawBody = '{"room":"team:7","changes":[]}' // as received, before JSON.parse
 * const header = `sha256=${createHmac('sha256', 'hook-secret').update(rawBody).digest('hex')}` // what the relay sent
 * console.log(verifyWebhook('hook-secret', rawBody, header)) // true: act on it; false: answer 401
 */
export function verifyWebhook(secret: string, body: string | Uint8Array, signature: string | undefined | null): boolean {
  if (typeof signature !== 'string') return false
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)
  const given = Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export class Webhooks {
  readonly #db: Database.Database
  readonly #batches = new Map<string, Batch>()
  readonly #queued: number[]
  #seq: number
  #closed = false
  #stopped = false
  readonly #abort = new AbortController()
  readonly #inFlight = new Set<Promise<void>>()
  readonly #insert: Database.Statement<[string, string, string, number]>
  readonly #take: Database.Statement<[string, string, number], { key: string; seq: number }>
  readonly #remove: Database.Statement<[string, string, number]>
  readonly #exists: Database.Statement<[string, string, string]>

  constructor(
    private readonly hooks: readonly WebhookOptions[],
    private readonly deps: WebhookDeps,
  ) {
    this.#db = new Database(deps.path)
    this.#db.pragma('journal_mode = WAL')
    // As the rooms' SQLite storage: durable across a crash of the process; an OS crash may lose the last changes.
    this.#db.pragma('synchronous = NORMAL')
    this.#db.exec('CREATE TABLE IF NOT EXISTS webhook_changes (hook TEXT NOT NULL, room TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (hook, room, key))')
    // Hooks no longer configured: their changes have nowhere to go.
    const urls = hooks.map((h) => h.url)
    this.#db.prepare(`DELETE FROM webhook_changes WHERE hook NOT IN (${urls.map(() => '?').join(',') || "''"})`).run(...urls)
    this.#insert = this.#db.prepare('INSERT INTO webhook_changes (hook, room, key, seq) VALUES (?, ?, ?, ?) ON CONFLICT (hook, room, key) DO UPDATE SET seq = excluded.seq')
    this.#take = this.#db.prepare('SELECT key, seq FROM webhook_changes WHERE hook = ? AND room = ? ORDER BY seq LIMIT ?')
    this.#remove = this.#db.prepare('DELETE FROM webhook_changes WHERE hook = ? AND room = ? AND seq <= ?')
    this.#exists = this.#db.prepare('SELECT 1 FROM webhook_changes WHERE hook = ? AND room = ? AND key = ?')
    const row = this.#db.prepare('SELECT max(seq) AS seq FROM webhook_changes').get() as { seq: number | null } // reason: an aggregate query returns one row of this shape
    this.#seq = row.seq ?? 0
    const count = this.#db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM webhook_changes WHERE hook = ?')
    this.#queued = hooks.map((h) => count.get(h.url)?.n ?? 0)
    // What an earlier run left: send it.
    const left = this.#db.prepare('SELECT DISTINCT hook, room FROM webhook_changes').all() as { hook: string; room: string }[] // reason: the columns selected
    for (const { hook, room } of left) this.#schedule(urls.indexOf(hook), room)
  }

  /** Keys of `room` that an accepted update touches: recorded now, sent after the hook's debounce. */
  changed(room: string, keys: Iterable<string>): void {
    if (this.#closed) return
    const list = [...keys]
    if (list.length === 0) return
    this.hooks.forEach((hook, i) => {
      const matching = hook.prefix === undefined ? list : list.filter((k) => k.startsWith(hook.prefix!))
      if (matching.length === 0) return
      const room_ = room
      const record = this.#db.transaction(() => {
        let added = 0
        let dropped = 0
        for (const key of matching) {
          const known = this.#exists.get(hook.url, room_, key) !== undefined
          if (!known && this.#queued[i]! + added >= MAX_QUEUED) {
            dropped++
            continue
          }
          this.#insert.run(hook.url, room_, key, ++this.#seq)
          if (!known) added++
        }
        if (dropped > 0) this.deps.count('dropped', dropped)
        return added
      })
      this.#queued[i]! += record()
      this.#schedule(i, room)
    })
  }

  /** Stops sending (POSTs on their way are aborted); changes are still recorded until `close`, for the next run. */
  stop(): void {
    this.#stopped = true
    for (const batch of this.#batches.values()) if (batch.timer !== null) clearTimeout(batch.timer)
    this.#abort.abort()
  }

  /** Stops, and closes the outbox: what is still in it is sent by the next run. */
  async close(): Promise<void> {
    this.stop()
    await Promise.allSettled([...this.#inFlight])
    this.#closed = true
    this.#db.close()
  }

  #schedule(hook: number, room: string, delay?: number): void {
    if (hook < 0 || this.#stopped) return
    const id = `${hook}\u0000${room}`
    let batch = this.#batches.get(id)
    if (batch === undefined) this.#batches.set(id, (batch = { hook, room, timer: null, sending: false, failures: 0 }))
    if (batch.timer !== null || batch.sending) return // it goes with the batch already due (or the next one)
    const wait = delay ?? this.hooks[hook]!.debounceMs ?? DEFAULT_DEBOUNCE_MS
    const due = batch
    batch.timer = setTimeout(() => {
      due.timer = null
      const sent = this.#send(due).finally(() => this.#inFlight.delete(sent))
      this.#inFlight.add(sent)
    }, wait)
    batch.timer.unref?.()
  }

  async #send(batch: Batch): Promise<void> {
    const hook = this.hooks[batch.hook]!
    const rows = this.#take.all(hook.url, batch.room, MAX_KEYS_PER_POST)
    if (rows.length === 0) {
      this.#batches.delete(`${batch.hook}\u0000${batch.room}`)
      return
    }
    batch.sending = true
    const upTo = rows[rows.length - 1]!.seq
    let ok = false
    try {
      const body = JSON.stringify({
        room: batch.room,
        changes: await this.deps.describe(
          batch.room,
          rows.map((r) => r.key),
        ),
      })
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-TideKV-Signature': signWebhook(hook.secret, body), 'X-TideKV-Delivery': randomUUID() },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(POST_TIMEOUT_MS), this.#abort.signal]),
      })
      await res.arrayBuffer().catch(() => undefined)
      ok = res.ok
      if (!ok) this.deps.onError(new Error(`webhook ${hook.url} answered ${res.status}`), batch.room)
    } catch (e) {
      this.deps.onError(e, batch.room)
    }
    batch.sending = false
    if (this.#stopped) return
    if (ok) {
      this.#queued[batch.hook]! -= this.#remove.run(hook.url, batch.room, upTo).changes
      this.deps.count('delivered')
      batch.failures = 0
      // What came meanwhile (or did not fit in this POST) goes next.
      if (this.#take.all(hook.url, batch.room, 1).length > 0) this.#schedule(batch.hook, batch.room, rows.length === MAX_KEYS_PER_POST ? 0 : undefined)
      else this.#batches.delete(`${batch.hook}\u0000${batch.room}`)
      return
    }
    this.deps.count('failed')
    batch.failures++
    this.#schedule(batch.hook, batch.room, Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (batch.failures - 1)))
  }
}
