/** The few DOM helpers the page needs. */

/** The element marked `data-testid="<id>"` under `root`; throws if the page lacks it (a bug in index.html). */
export function byTestId<T extends Element = HTMLElement>(id: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(`[data-testid="${id}"]`)
  if (el === null) throw new Error(`The page has no element with data-testid="${id}"`)
  return el
}

interface Props {
  class?: string
  testid?: string
  text?: string
  title?: string
  attrs?: Record<string, string>
  on?: { [E in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[E]) => void }
}

/** Creates an element: `h('button', { class: 'btn', text: 'Go', on: { click } })`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (props.class !== undefined) el.className = props.class
  if (props.testid !== undefined) el.dataset.testid = props.testid
  if (props.text !== undefined) el.textContent = props.text
  if (props.title !== undefined) el.title = props.title
  for (const [name, value] of Object.entries(props.attrs ?? {})) el.setAttribute(name, value)
  // reason: the listener registered for `type` receives that type's event, the one Props.on typed it to take
  for (const [type, listener] of Object.entries(props.on ?? {})) el.addEventListener(type, listener as EventListener)
  el.append(...children)
  return el
}

/** Sets `el`'s text only when it changed (keeps selections and avoids needless layout). */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text
}

/** Replays a CSS animation class on `el` (removing and re-adding it restarts the animation). */
export function flash(el: HTMLElement, className = 'flash'): void {
  el.classList.remove(className)
  void el.offsetWidth // reason: a reflow between remove and add restarts the animation
  el.classList.add(className)
}
