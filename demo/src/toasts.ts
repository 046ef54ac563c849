/** Short messages in the corner of the page: errors from the store's background work, failed actions. */
import { byTestId, h } from './dom.js'

const SHOWN_MS = 6000
const MAX_TOASTS = 4

export function createNotifier(): (message: string, kind?: 'info' | 'error') => void {
  const container = byTestId('toasts')
  return (message, kind = 'info') => {
    const toast = h('div', { class: `toast ${kind}`, testid: 'toast', attrs: { role: kind === 'error' ? 'alert' : 'status' } }, message)
    container.append(toast)
    while (container.children.length > MAX_TOASTS) container.firstElementChild?.remove()
    setTimeout(() => toast.remove(), SHOWN_MS)
  }
}
