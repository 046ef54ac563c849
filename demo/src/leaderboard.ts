/**
 * The leaderboard: a sorted set at `leaderboard`, player names scored by
 * points. "+1" and "+10" call `incr`, which adds through this replica's own
 * contribution, so points scored for one player on two devices, even while
 * one is offline, add up rather than overwrite each other. "Set score" and a
 * row's reset call `add`, which starts the player's score afresh (points
 * added concurrently elsewhere on the old score are dropped: the reset wins).
 *
 * The player this tab scores for is typed in; it starts as the device's name
 * and is remembered on the device (localStorage). The top ten come from
 * `range(0, 9, { rev: true, withScores: true })`, this player's rank from
 * `rank(…, { rev: true })`, both live through `watch('leaderboard')`.
 */
import type { Demo } from './demo.js'
import { byTestId, flash, h, setText } from './dom.js'
import { describeError } from './format.js'

export const LEADERBOARD_KEY = 'leaderboard'
const PLAYER_KEY = 'tidekv-demo:player'
const TOP = 10
const RESET_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 12a8 8 0 1 0 2.3-5.6M4 4v4h4" /></svg>'

export function mountLeaderboard(demo: Demo): void {
  const { store, i18n, identity, log } = demo
  const card = byTestId('leaderboard')
  const playerInput = byTestId<HTMLInputElement>('lb-player')
  const me = byTestId('lb-me')
  const plusOne = byTestId<HTMLButtonElement>('lb-plus-1')
  const plusTen = byTestId<HTMLButtonElement>('lb-plus-10')
  const setForm = byTestId<HTMLFormElement>('lb-set-form')
  const scoreInput = byTestId<HTMLInputElement>('lb-score')
  const list = byTestId('lb-list')
  const empty = byTestId('lb-empty')
  const count = byTestId('lb-count')
  const board = store.sortedSet(LEADERBOARD_KEY)

  playerInput.value = remembered() ?? identity.deviceName
  /** The player this tab scores for: the input, or the device's name when it is blank. */
  const player = (): string => playerInput.value.trim() || identity.deviceName

  const render = (): void => {
    const name = player()
    let top: [string, number][] = []
    let size = 0
    let rank: number | undefined
    let score: number | undefined
    let error: string | null = null
    try {
      top = board.range(0, TOP - 1, { rev: true, withScores: true })
      size = board.size
      rank = board.rank(name, { rev: true })
      score = board.score(name)
    } catch (e) {
      // WRONG_TYPE when `leaderboard` holds another type (set in the key browser, say).
      const { code, message } = describeError(e)
      error = code === null ? message : `${code}: ${message}`
    }
    count.dataset.count = String(size)
    setText(count, i18n.plural('lb.count', size))
    me.dataset.rank = rank === undefined ? '-1' : String(rank + 1)
    me.dataset.score = score === undefined ? '' : String(score)
    setText(
      me,
      score === undefined ? i18n.t('lb.meNone', { player: name }) : i18n.t('lb.me', { player: name, rank: (rank ?? 0) + 1, total: size, score: formatScore(score, i18n.language) }),
    )
    empty.hidden = top.length > 0
    setText(empty, error ?? i18n.t('lb.empty'))
    list.replaceChildren(
      ...top.map(([member, points], i) =>
        h(
          'li',
          { class: member === name ? 'lb-row me' : 'lb-row', testid: 'lb-row', attrs: { 'data-player': member, 'data-rank': String(i + 1), 'data-score': String(points) } },
          h('span', { class: 'lb-rank', text: String(i + 1) }),
          h('span', { class: 'lb-name', testid: 'lb-row-player', text: member }),
          h('span', { class: 'lb-score', testid: 'lb-row-score', text: formatScore(points, i18n.language) }),
          resetButton(member),
        ),
      ),
    )
  }

  const resetButton = (member: string): HTMLButtonElement => {
    const label = i18n.t('lb.reset', { player: member })
    const button = h('button', {
      class: 'btn icon ghost',
      testid: 'lb-row-reset',
      title: label,
      attrs: { type: 'button', 'aria-label': label },
      on: { click: () => setScore(member, 0) },
    })
    button.innerHTML = RESET_ICON // reason: a constant SVG from this file, never data from the store
    return button
  }

  const act = (fn: () => void): void => {
    try {
      fn()
    } catch (error) {
      demo.notify(describeError(error).message, 'error')
    }
    render()
  }

  const score = (by: number): void =>
    act(() => {
      const name = player()
      board.incr(name, by)
      log({ action: 'score', player: name, by })
    })

  const setScore = (name: string, points: number): void =>
    act(() => {
      board.add(name, points)
      log({ action: 'set-score', player: name, score: points })
    })

  plusOne.addEventListener('click', () => score(1))
  plusTen.addEventListener('click', () => score(10))
  setForm.addEventListener('submit', (event) => {
    event.preventDefault()
    const points = scoreInput.valueAsNumber
    if (!Number.isFinite(points)) {
      demo.notify(i18n.t('lb.invalidScore'), 'error')
      return
    }
    setScore(player(), points)
  })
  playerInput.addEventListener('input', () => {
    remember(playerInput.value.trim())
    render()
  })
  store.watch(LEADERBOARD_KEY, ({ origin }) => {
    if (origin !== 'local') flash(card)
    render()
  })
  i18n.onChange(render)
  render()
}

function formatScore(score: number, language: string): string {
  return score.toLocaleString(language, { maximumFractionDigits: 2 })
}

function remembered(): string | null {
  try {
    return localStorage.getItem(PLAYER_KEY) || null
  } catch {
    return null // reason: storage blocked by the browser's settings: the device's name is the player
  }
}

function remember(name: string): void {
  try {
    if (name === '') localStorage.removeItem(PLAYER_KEY)
    else localStorage.setItem(PLAYER_KEY, name)
  } catch {
    // reason: storage refused (private mode, quota): the name is not remembered across reloads
  }
}
