// `npm run size`: Yjs alone, the whole namespace kept (an app that hands `Y` around).
import * as Y from 'yjs'

// reason: a global no lib declares; putting Y there keeps the whole namespace in the bundle, which is what this row measures
;(globalThis as { Y?: unknown }).Y = Y
