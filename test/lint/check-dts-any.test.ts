import { describe, expect, it } from 'vitest'
import { findAny } from '../../scripts/check-dts-any.js'

describe('check-dts-any', () => {
  it('finds the `any` keyword wherever it stands in a declaration file, with its line', () => {
    const dts = ['export declare function parse(text: string): any;', 'export interface Box {', '    items: Map<string, any[]>;', '    ok: unknown;', '}'].join('\n')
    expect(findAny('x.d.ts', dts).map((a) => `${a.line}:${a.column} ${a.text}`)).toEqual([
      '1:46 export declare function parse(text: string): any;',
      '3:24 items: Map<string, any[]>;',
    ])
  })

  it('does not count the word in a comment, a string or a name', () => {
    const dts = ['/** Whether any callback would see a change. */', "export declare const any: 'any';", 'export type Company = { anyone: string };'].join('\n')
    expect(findAny('x.d.ts', dts)).toEqual([])
  })
})
