import { describe, expect, it } from 'vitest'
import { globMatch } from './glob.js'
import { parseWriteRules, WriteRules } from './write-rules.js'

describe('globMatch, as Redis matches key patterns', () => {
  it.each([
    ['user:42:*', 'user:42:prefs', true],
    ['user:42:*', 'user:42:', true],
    ['user:42:*', 'user:420:prefs', false],
    ['*', '', true],
    ['*', 'a/b:c', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hallo', true],
    ['h[a-b]llo', 'hcllo', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a\\?', 'a?', true],
    ['[\\]]', ']', true],
    ['*:*:prefs', 'user:1:prefs', true],
    ['*:*:prefs', 'user:1:pref', false],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b*c', 'aXbYbZ', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['trailing\\', 'trailing\\', true],
  ])('%s against %s: %s', (pattern, key, expected) => {
    expect(globMatch(pattern, key)).toBe(expected)
  })

  it('answers a pattern of many stars over a long key (a recursive matcher backtracks exponentially here: the test would time out)', () => {
    expect(globMatch(`${'*a'.repeat(200)}b`, 'a'.repeat(20_000))).toBe(false)
  })
})

describe('WriteRules', () => {
  it('allows a key that matches any pattern', () => {
    const rules = new WriteRules(['user:42:*', 'shared:?', 'exact'])
    expect(rules.allows('user:42:theme')).toBe(true)
    expect(rules.allows('shared:x')).toBe(true)
    expect(rules.allows('shared:xy')).toBe(false)
    expect(rules.allows('exact')).toBe(true)
    expect(rules.allows('user:43:theme')).toBe(false)
  })

  it('allows nothing with no patterns', () => {
    expect(new WriteRules([]).allows('a')).toBe(false)
  })

  it('parses a token claim, and refuses a claim it cannot bound', () => {
    expect(parseWriteRules(undefined)).toBeNull()
    expect(parseWriteRules({ write: ['a:*'] })?.patterns).toEqual(['a:*'])
    for (const bad of [
      null,
      'a:*',
      ['a:*'],
      {},
      { write: 'a:*' },
      { write: [1] },
      { write: [''] },
      { write: ['x'.repeat(513)] },
      { write: Array(65).fill('a') },
      { write: [], read: [] },
    ]) {
      expect(() => parseWriteRules(bad)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    }
  })
})
