import { describe, expect, it } from 'vitest'
import { findEscapes } from '../../scripts/check-reasons.js'

/** The escapes of a snippet, as `line kind reasoned|missing`. */
const escapes = (text: string): string[] => findEscapes('snippet.ts', text).map((e) => `${e.line} ${e.kind} ${e.reasoned ? 'reasoned' : 'missing'}`)

describe('check-reasons', () => {
  it('finds a cast without a reason, and takes one on the same line', () => {
    expect(escapes('const a = b as string\nconst c = d as number // reason: d is always a count here\n')).toEqual(['1 cast missing', '2 cast reasoned'])
  })

  it('takes a reason in the comment lines just above, and only in comment-only lines', () => {
    const text = [
      '// reason: the first line of a reason',
      '// that goes on over two lines',
      'const a = b as string',
      'const c = d as number // reason: this one has a reason of its own',
      'const e = f as number',
    ].join('\n')
    expect(escapes(text)).toEqual(['3 cast reasoned', '4 cast reasoned', '5 cast missing'])
  })

  it('finds every cast but `as const`, angle-bracket assertions and double casts included; `!` needs no reason', () => {
    const text = ['const a = [1] as const', 'const b = <string>c', 'const d = e as unknown as string', 'const f = g!'].join('\n')
    expect(escapes(text)).toEqual(['2 cast missing', '3 cast missing', '3 cast missing'])
  })

  it('finds suppression comments, and takes the reason inside them', () => {
    const text = [
      '// @ts-expect-error',
      'a()',
      '// @ts-ignore reason: the typings lag the runtime, which has had this since v2',
      'b()',
      '// eslint-disable-next-line no-sparse-arrays -- reason: a hole is what the test stores',
      'c()',
      '/* eslint-disable no-console */',
      '// biome-ignore lint/style: none given',
    ].join('\n')
    expect(escapes(text)).toEqual(['1 suppression missing', '3 suppression reasoned', '5 suppression reasoned', '7 suppression missing', '8 suppression missing'])
  })

  it('does not take `reason:` inside a string, nor a reason of a few characters', () => {
    expect(escapes("const a = b as string; const s = '// reason: in a string, not a comment'\nconst c = d as string // reason: ok\n")).toEqual(['1 cast missing', '2 cast missing'])
  })

  it('does not take a directive mentioned in prose for a suppression', () => {
    expect(escapes('// A suppression such as @ts-expect-error carries a reason.\nconst a = 1\n')).toEqual([])
  })

  it('reports the line of the `as` keyword of a cast that spans lines', () => {
    const text = ['const a = call(', '  x,', ') as Thing // reason: call returns what it was given', 'const b = (', '  y', ') as Other'].join('\n')
    expect(escapes(text)).toEqual(['3 cast reasoned', '6 cast missing'])
  })
})
