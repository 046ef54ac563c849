// `npm run size`: Yjs as a key-value app uses it: a Doc, a Map, updates in and out.
import * as Y from 'yjs'

const doc = new Y.Doc()
const map = doc.getMap<string>('kv')
map.observe((event) => console.log([...event.keysChanged]))
map.set('theme', 'dark')
const copy = new Y.Doc()
Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
console.log(copy.getMap('kv').get('theme'), Y.encodeStateVector(copy))
