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

/** Replays a CSS animation class (removing and re-adding it restarts the animation). */
export function flash(node: HTMLElement, className: string): void {
  node.classList.remove(className)
  void node.offsetWidth // reason: a reflow between remove and add restarts the animation
  node.classList.add(className)
}
