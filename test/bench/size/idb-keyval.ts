// `npm run size`: idb-keyval, its whole API in use.
import { del, get, getMany, keys, set, setMany } from 'idb-keyval'

await set('theme', 'dark')
await setMany([
  ['a', 1],
  ['b', 2],
])
console.log(await get('theme'), await getMany(['a', 'b']), await keys())
await del('a')
