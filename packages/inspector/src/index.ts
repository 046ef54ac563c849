// @tidekv/inspector: `import '@tidekv/inspector'` defines <tidekv-inspector>. See ../README.md.
import { TideKVInspector } from './inspector.js'

export { TideKVInspector }

declare global {
  interface HTMLElementTagNameMap {
    'tidekv-inspector': TideKVInspector
  }
}

if (typeof customElements !== 'undefined' && customElements.get('tidekv-inspector') === undefined) customElements.define('tidekv-inspector', TideKVInspector)
