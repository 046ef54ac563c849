/**
 * A rate limiter as an app would write one: a call increments the counter
 * `rate:api`; the first call of a window also gives it a TTL, so the counter
 * disappears when the window ends. A call is allowed while the count is
 * within the limit. The counter is a PN-counter: calls made on devices that
 * were offline at the same time all count once they reconnect.
 */
import type { Demo } from './demo.js'
import { byTestId, flash, h, setText } from './dom.js'
import { describeError, formatDuration, formatTime } from './format.js'

export const RATE_KEY = 'rate:api'
const LOG_LENGTH = 6

interface Call {
  at: number
  n: number
  allowed: boolean
}

export function mountRateLimit(demo: Demo): void {
  const { store, i18n, config, ticker } = demo
  const card = byTestId('rate')
  const lead = byTestId('rate-lead')
  const count = byTestId('rate-count')
  const limit = byTestId('rate-limit')
  const bar = byTestId('rate-bar')
  const windowText = byTestId('rate-window')
  const result = byTestId('rate-result')
  const call = byTestId<HTMLButtonElement>('rate-call')
  const log = byTestId('rate-log')
  const calls: Call[] = []
  let error: string | null = null

  const render = (): void => {
    const value = store.get(RATE_KEY)
    const n = typeof value === 'number' ? value : 0
    const ttl = store.ttl(RATE_KEY)
    setText(lead, i18n.t('rate.lead', { limit: config.rateLimit, window: Math.round(config.rateWindowMs / 1000) }))
    count.dataset.count = String(n)
    setText(count, String(n))
    setText(limit, String(config.rateLimit))
    bar.style.width = `${Math.min(1, n / config.rateLimit) * 100}%`
    bar.dataset.level = n > config.rateLimit ? 'over' : n === config.rateLimit ? 'full' : 'ok'
    windowText.dataset.ttl = String(ttl)
    setText(windowText, ttl >= 0 ? i18n.t('rate.resetsIn', { t: formatDuration(ttl) }) : i18n.t('rate.noWindow'))
    const last = calls[0]
    result.dataset.result = error !== null ? 'error' : last === undefined ? 'none' : last.allowed ? 'allowed' : 'blocked'
    setText(result, error ?? (last === undefined ? i18n.t('rate.idle') : i18n.t(last.allowed ? 'rate.allowed' : 'rate.blocked', { n: last.n, limit: config.rateLimit })))
  }

  const renderLog = (): void => {
    log.replaceChildren(
      ...calls.map((c) =>
        h(
          'li',
          { class: c.allowed ? 'allowed' : 'blocked' },
          h('span', { class: 'log-time', text: formatTime(c.at, i18n.language) }),
          h('span', { class: 'log-n', text: `#${c.n}` }),
          h('span', { class: 'log-result', text: i18n.t(c.allowed ? 'rate.logAllowed' : 'rate.logBlocked') }),
        ),
      ),
    )
  }

  call.addEventListener('click', () => {
    try {
      const n = store.incr(RATE_KEY)
      // The first call opens the window. A counter without a TTL (set by hand in the key browser, say) gets one too.
      if (n === 1 || store.ttl(RATE_KEY) === -1) store.expire(RATE_KEY, config.rateWindowMs)
      calls.unshift({ at: Date.now(), n, allowed: n <= config.rateLimit })
      demo.log({ action: 'rate', n, allowed: n <= config.rateLimit })
      calls.length = Math.min(calls.length, LOG_LENGTH)
      error = null
    } catch (e) {
      const { code, message } = describeError(e)
      error = code === null ? message : `${code}: ${message}`
    }
    flash(result, 'pop')
    render()
    renderLog()
  })
  store.watch(RATE_KEY, ({ origin }) => {
    if (origin !== 'local') flash(card)
    render()
  })
  ticker.add(render)
  i18n.onChange(() => {
    render()
    renderLog()
  })
  render()
}
