/**
 * Preferences: `prefs:theme` ('light' | 'dark'; missing: follow the system),
 * `prefs:language` and `prefs:fontSize` (px). The page applies whatever the
 * store holds, whoever wrote it, so a change on one device restyles every
 * other; a value written by hand that makes no sense falls back to the default.
 *
 * The applied values are also copied to localStorage, which a small script
 * in index.html reads before the first paint (no light flash for a dark-theme
 * user while the store opens).
 */
import type { Value } from '@tidekv/client'
import type { Demo } from './demo.js'
import { byTestId, setText } from './dom.js'
import { describeError } from './format.js'
import { defaultLanguage, isLanguage, type Language, LANGUAGES } from './i18n.js'

export const PREFS_PREFIX = 'prefs:'
const THEME = 'prefs:theme'
const LANGUAGE = 'prefs:language'
const FONT_SIZE = 'prefs:fontSize'
export const FIRST_PAINT_KEY = 'tidekv-demo:first-paint'

const MIN_FONT = 12
const MAX_FONT = 22
const DEFAULT_FONT = 16

type Theme = 'auto' | 'light' | 'dark'

interface Prefs {
  theme: Theme
  language: Language
  fontSize: number
}

export function mountPrefs(demo: Demo): void {
  const { store, i18n } = demo
  const themeButtons = [...byTestId('pref-theme').querySelectorAll<HTMLButtonElement>('button[data-value]')]
  const language = byTestId<HTMLSelectElement>('pref-language')
  const fontSize = byTestId<HTMLInputElement>('pref-font-size')
  const fontSizeValue = byTestId('pref-font-size-value')
  const themeColor = document.querySelector<HTMLMetaElement>('meta[name="theme-color"]')
  const systemDark = window.matchMedia('(prefers-color-scheme: dark)')

  language.replaceChildren(...LANGUAGES.map(({ code, name }) => new Option(name, code)))

  const read = (): Prefs => {
    const stored = store.get(LANGUAGE)
    return { theme: readTheme(store.get(THEME)), language: isLanguage(stored) ? stored : defaultLanguage(), fontSize: readFontSize(store.get(FONT_SIZE)) }
  }

  const apply = (): void => {
    const prefs = read()
    const dark = prefs.theme === 'dark' || (prefs.theme === 'auto' && systemDark.matches)
    const root = document.documentElement
    root.dataset.theme = dark ? 'dark' : 'light'
    document.querySelector('tidekv-inspector')?.setAttribute('theme', dark ? 'dark' : 'light')
    root.style.fontSize = `${prefs.fontSize}px`
    themeColor?.setAttribute('content', dark ? '#0b1220' : '#0e7490')
    i18n.set(prefs.language)
    for (const button of themeButtons) button.setAttribute('aria-checked', String(button.dataset.value === prefs.theme))
    byTestId('pref-theme').dataset.value = prefs.theme
    language.value = prefs.language
    // Not while the user drags the slider: the value would fight the thumb.
    if (document.activeElement !== fontSize) fontSize.value = String(prefs.fontSize)
    setText(fontSizeValue, `${prefs.fontSize} px`)
    try {
      localStorage.setItem(FIRST_PAINT_KEY, JSON.stringify({ theme: prefs.theme, fontSize: prefs.fontSize, language: prefs.language }))
    } catch {
      // reason: only a first-paint hint; without it the page paints the default theme for a moment
    }
  }

  const write = (fn: () => void): void => {
    try {
      fn()
    } catch (error) {
      demo.notify(describeError(error).message, 'error')
    }
    apply()
  }

  for (const button of themeButtons) {
    button.addEventListener('click', () =>
      write(() => {
        const theme = readTheme(button.dataset.value ?? 'auto')
        const before = read().theme
        if (theme === 'auto') store.delete(THEME)
        else store.set(THEME, theme)
        if (theme !== before) demo.log({ action: 'pref', name: 'theme', value: theme })
      }),
    )
  }
  language.addEventListener('change', () =>
    write(() => {
      store.set(LANGUAGE, language.value)
      demo.log({ action: 'pref', name: 'language', value: language.value })
    }),
  )
  // Every step of the drag is written: the other devices follow the slider as it moves.
  fontSize.addEventListener('input', () => write(() => store.set(FONT_SIZE, Number(fontSize.value))))
  // The feed gets one entry per drag, where it stopped.
  fontSize.addEventListener('change', () => {
    demo.log({ action: 'pref', name: 'fontSize', value: Number(fontSize.value) })
    apply()
  })
  systemDark.addEventListener('change', apply)
  store.watch({ prefix: PREFS_PREFIX }, apply)
  apply()
}

function readTheme(value: Value | undefined): Theme {
  return value === 'light' || value === 'dark' ? value : 'auto'
}

function readFontSize(value: Value | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(MAX_FONT, Math.max(MIN_FONT, Math.round(value))) : DEFAULT_FONT
}
