/** What every part of the page gets: the store and the page-wide services. */
import type { Store } from '@tidekv/client'
import type { ActivityLog } from './activity-log.js'
import type { DemoConfig } from './config.js'
import type { I18n } from './i18n.js'
import type { Identity } from './identity.js'
import type { Ticker } from './ticker.js'

export interface Demo {
  readonly store: Store
  readonly config: DemoConfig
  readonly i18n: I18n
  readonly identity: Identity
  readonly ticker: Ticker
  /** Appends an entry to the activity feed (the stream `activity`). */
  readonly log: ActivityLog
  /** Shows a short message in the corner of the page. */
  notify(message: string, kind?: 'info' | 'error'): void
}
