/**
 * The page's words in four languages. The language is a preference stored in
 * the store (`prefs:language`), so switching it on one device translates the
 * page on every other. Static text carries `data-i18n="<key>"` (and
 * `data-i18n-placeholder`, `data-i18n-title`, `data-i18n-aria-label`);
 * dynamic text calls `t(key, params)`. The tables live one language a file in
 * `./i18n/`; English is the reference whose keys the others must all have.
 */

import { de } from './i18n/de.js'
import { en, type MessageKey, type Messages } from './i18n/en.js'
import { es } from './i18n/es.js'
import { fr } from './i18n/fr.js'

export type { MessageKey }

/** The languages the page speaks, in the order the picker lists them (each in its own name). */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'fr', name: 'Français' },
  { code: 'de', name: 'Deutsch' },
  { code: 'es', name: 'Español' },
] as const

export type Language = (typeof LANGUAGES)[number]['code']

const CATALOG: Record<Language, Messages> = { en, fr, de, es }

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(CATALOG, value)
}

/** The browser's preferred language if the page speaks it, else English. */
export function defaultLanguage(): Language {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const code = tag.slice(0, 2).toLowerCase()
    if (isLanguage(code)) return code
  }
  return 'en'
}

/** The current language and its translations; tells listeners when it changes. */
export class I18n {
  private current: Language = 'en'
  private readonly listeners = new Set<() => void>()

  get language(): Language {
    return this.current
  }

  /** `key` in the current language, `{name}` replaced by `params.name`. */
  t(key: MessageKey, params: Record<string, string | number> = {}): string {
    return CATALOG[this.current][key].replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole))
  }

  /** `<base>.one` for 1, else `<base>.other`, with `{n}` = n. */
  plural(base: 'hero.tabs' | 'status.presence.tabs' | 'status.presence.devices' | 'lb.count' | 'activity.count', n: number): string {
    return this.t(`${base}.${n === 1 ? 'one' : 'other'}`, { n })
  }

  /** Switches language: translates the marked static text, then tells the listeners. */
  set(language: Language): void {
    if (language === this.current) return
    this.current = language
    this.translate(document)
    for (const listener of this.listeners) listener()
  }

  /** Calls `cb` after each language change; returns the function that stops it. */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }

  /** Fills the text and attributes of every element under `root` marked with `data-i18n*`. */
  translate(root: ParentNode): void {
    document.documentElement.lang = this.current
    document.title = this.t('app.title')
    // reason: index.html's data-i18n* attributes name message keys; a wrong one throws in t(), which the browser tests would show
    for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = this.t(el.dataset.i18n as MessageKey)
    for (const [attr, data] of [
      ['placeholder', 'i18nPlaceholder'],
      ['title', 'i18nTitle'],
      ['aria-label', 'i18nAriaLabel'],
    ] as const) {
      for (const el of root.querySelectorAll<HTMLElement>(`[data-${attr === 'aria-label' ? 'i18n-aria-label' : `i18n-${attr}`}]`)) {
        el.setAttribute(attr, this.t(el.dataset[data] as MessageKey)) // reason: a message key, as data-i18n's above
      }
    }
  }
}
