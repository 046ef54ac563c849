// <tidekv-inspector> in JSX: a custom element, with its `key-prefix` attribute.
import type { DetailedHTMLProps, HTMLAttributes } from 'react'
import type { TideKVInspector } from '@tidekv/inspector'

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'tidekv-inspector': DetailedHTMLProps<HTMLAttributes<TideKVInspector>, TideKVInspector> & { 'key-prefix'?: string }
    }
  }
}
