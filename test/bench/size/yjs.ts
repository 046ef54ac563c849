// `npm run size`: Yjs alone, the whole namespace kept (an app that hands `Y` around).
import * as Y from 'yjs'

;(globalThis as { Y?: unknown }).Y = Y
