// `npm run size`: a TinyBase store (values and tables, with a listener).
import { createStore } from 'tinybase'

const store = createStore()
store.addValueListener('theme', (_store, id, value) => console.log(id, value))
store.setValue('theme', 'dark')
store.setCell('users', '1', 'name', 'Ada')
console.log(store.getValue('theme'), store.getTable('users'))
