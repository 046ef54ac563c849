/**
 * The activity log: every meaningful action of the page (a score, a
 * preference, the session, an API call, a key saved or deleted) appended to
 * the stream at `activity`, with the device that did it.
 *
 * Stream ids come from the hybrid logical clock, ordered by time then
 * replica, so entries appended on two devices while one was offline merge
 * into one order that every device shows alike. Every append trims the
 * stream to its last 200 entries (`trim({ maxLen })`), so it stays bounded;
 * two devices trimming at once each remove what they saw, and the
 * survivors are the same everywhere.
 */
import type { Store } from '@tidekv/client'

export const ACTIVITY_KEY = 'activity'
/** Entries kept in the stream. */
export const ACTIVITY_MAX = 200

/** What the page records, one entry each (and `device`, added by the log). */
export type Activity =
  | { action: 'score'; player: string; by: number }
  | { action: 'set-score'; player: string; score: number }
  | { action: 'pref'; name: 'theme' | 'language' | 'fontSize'; value: string | number }
  | { action: 'session'; what: 'start' | 'extend' | 'end' }
  | { action: 'rate'; n: number; allowed: boolean }
  | { action: 'key-set' | 'key-delete'; key: string }

/** Appends an entry to the feed; never throws (a failure is reported, the action itself stands). */
export type ActivityLog = (activity: Activity) => void

/** The log of this device: entries carry `deviceId`. Errors go to `onError`. */
export function createActivityLog(store: Store, deviceId: string, onError: (error: unknown) => void): ActivityLog {
  return (activity) => {
    try {
      const stream = store.stream(ACTIVITY_KEY)
      stream.add({ device: deviceId, ...activity })
      stream.trim({ maxLen: ACTIVITY_MAX })
    } catch (error) {
      // WRONG_TYPE when someone set `activity` to a plain value in the key browser, say.
      onError(error)
    }
  }
}
