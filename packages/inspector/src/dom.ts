/** The few DOM helpers the inspector needs (no framework: it weighs what it draws). */

interface Props {
  class?: string
  testid?: string
  text?: string
  title?: string
  attrs?: Record<string, string>
  on?: { [E in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[E]) => void }
}

/** Creates an element: `el('button', { class: 'btn', text: 'Go', on: { click } })`. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (props.class !== undefined) node.className = props.class
  if (props.testid !== undefined) node.dataset.testid = props.testid
  if (props.text !== undefined) node.textContent = props.text
  if (props.title !== undefined) node.title = props.title
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value)
  // reason: the listener registered for `type` receives that type's event, the one Props.on typed it to take
  for (const [type, listener] of Object.entries(props.on ?? {})) node.addEventListener(type, listener as EventListener)
  node.append(...children)
  return node
}

/** Sets the text only when it changed (keeps a selection, avoids layout). */
export function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text
}

/**
 * Restarts a row's flash: each flash class has a twin (`<name>-again`, the
 * same keyframes under another name), and switching to the other one
 * restarts the animation without forcing a layout (removing and re-adding
 * one class needs a reflow in between, which cost 3.7 ms a change on a
 * page of 50 rows: bench:browser row 6).
 */
export function flash(node: HTMLElement, className: string): void {
  const next = node.classList.contains(className) ? `${className}-again` : className
  for (const c of Array.from(node.classList)) if (c.startsWith('flash-')) node.classList.remove(c)
  node.classList.add(next)
}
