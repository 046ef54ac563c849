/**
 * The DOM of `<tidekv-inspector>`, built once in its shadow root: the header
 * (name, status, relay), the prefix filter, the table of keys and its pager,
 * and the pane of the key picked with its forms. inspector.ts fills it.
 */
import { el } from './dom.js'

/** The elements inspector.ts reads and writes. */
export type InspectorView = ReturnType<typeof buildView>

/** The inspector's DOM, drawn once. */
export function buildView() {
  const name = el('code', { testid: 'inspector-name' })
  const status = el('span', { class: 'status', testid: 'inspector-status', attrs: { role: 'status' } })
  const relay = el('span', { class: 'muted', testid: 'inspector-relay' })
  const prefix = el('input', { testid: 'inspector-prefix', attrs: { type: 'search', placeholder: 'user:', spellcheck: 'false' } })
  const add = el('button', { text: 'New key', testid: 'inspector-new', attrs: { type: 'button' } })
  const tbody = el('tbody', { testid: 'inspector-rows' })
  const prev = el('button', { text: 'Previous', testid: 'inspector-prev', attrs: { type: 'button' } })
  const next = el('button', { text: 'Next', testid: 'inspector-next', attrs: { type: 'button' } })
  const range = el('span', { class: 'muted', testid: 'inspector-range', attrs: { 'aria-live': 'polite' } })
  const detailTitle = el('code', { testid: 'inspector-detail-key' })
  const detailType = el('span', { class: 'type', testid: 'inspector-detail-type' })
  const detailTtl = el('span', { class: 'muted', testid: 'inspector-detail-ttl' })
  const detailValue = el('div', { testid: 'inspector-detail-value' })
  const keyInput = el('input', { testid: 'inspector-key', attrs: { required: '', spellcheck: 'false' } })
  const valueInput = el('textarea', { testid: 'inspector-value', attrs: { required: '', spellcheck: 'false' } })
  const ttlInput = el('input', { testid: 'inspector-ttl', attrs: { type: 'number', min: '1', step: '1', placeholder: 'none' } })
  const form = el(
    'form',
    { class: 'row', testid: 'inspector-form' },
    el('label', {}, 'Key', keyInput),
    el('label', { attrs: { style: 'flex: 1 1 100%' } }, 'Value (JSON)', valueInput),
    el('label', {}, 'TTL (seconds)', ttlInput),
    el('button', { text: 'Save', testid: 'inspector-save', attrs: { type: 'submit' } }),
  )
  const expireInput = el('input', { testid: 'inspector-expire', attrs: { type: 'number', min: '1', step: '1', placeholder: 'none' } })
  const ttlForm = el(
    'form',
    { class: 'row', testid: 'inspector-ttl-form' },
    el('label', {}, 'New TTL (seconds; empty: none)', expireInput),
    el('button', { text: 'Set TTL', testid: 'inspector-set-ttl', attrs: { type: 'submit' } }),
  )
  const remove = el('button', { class: 'danger', text: 'Delete key', testid: 'inspector-delete', attrs: { type: 'button' } })
  const structureNote = el('p', { class: 'note', text: 'A data structure: shown here, changed from code.' })
  const errorCode = el('code', { testid: 'inspector-error-code' })
  const errorMessage = el('span', { testid: 'inspector-error-message' })
  const error = el('p', { class: 'error', testid: 'inspector-error', attrs: { role: 'alert' } }, errorCode, ' ', errorMessage)
  const detail = el(
    'section',
    { class: 'detail', testid: 'inspector-detail', attrs: { 'aria-label': 'The key picked' } },
    el('h3', {}, detailTitle, ' ', detailType, ' ', detailTtl),
    error,
    detailValue,
    structureNote,
    form,
    el('div', { class: 'row' }, ttlForm, remove),
  )
  const section = el(
    'section',
    { attrs: { 'aria-label': 'TideKV inspector' } },
    el('header', {}, el('h2', { text: 'TideKV' }), name, status, relay),
    el('div', { class: 'bar' }, el('label', {}, 'Prefix', prefix), add),
    el(
      'div',
      { class: 'wrap' },
      el(
        'table',
        {},
        el('caption', { class: 'sr', text: 'Keys' }),
        el('thead', {}, el('tr', {}, ...['Key', 'Type', 'Value', 'TTL', 'Actions'].map((t) => el('th', { text: t, attrs: { scope: 'col' } })))),
        tbody,
      ),
    ),
    el('div', { class: 'pager' }, prev, next, range),
    detail,
  )
  detail.hidden = true
  error.hidden = true
  return {
    section,
    name,
    status,
    relay,
    prefix,
    add,
    tbody,
    prev,
    next,
    range,
    detail,
    detailTitle,
    detailType,
    detailTtl,
    detailValue,
    form,
    keyInput,
    valueInput,
    ttlInput,
    ttlForm,
    expireInput,
    remove,
    structureNote,
    error,
    errorCode,
    errorMessage,
  }
}
