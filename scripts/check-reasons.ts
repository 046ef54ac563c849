/**
 * Every escape from the type checker says why (STYLE.md, "Errors"): each `as` cast
 * other than `as const` (and each `<T>x` assertion), each `@ts-expect-error`,
 * `@ts-ignore` or `@ts-nocheck`, and each lint suppression (`eslint-disable…`,
 * `biome-ignore`) carries a `reason: …` comment, on the same line or in the
 * comment lines just above it. Non-null assertions (`x!`) need none.
 *
 * `node --import tsx scripts/check-reasons.ts [--list] [files…]` checks the
 * source files (scripts/source-files.ts) or the files given; `--list` prints
 * every cast and suppression found, reasoned or not. Exits 1 on a missing reason.
 */
import { readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { sourceFiles } from './source-files.js'

/** A cast or a suppression comment, where it is and whether a reason comes with it. */
export interface Escape {
  kind: 'cast' | 'suppression'
  /** 1-based line and column of the `as` keyword (or the comment). */
  line: number
  column: number
  /** The cast's or the comment's text, cut short. */
  text: string
  reasoned: boolean
}

/** `reason:` followed by at least a few words' worth of text. */
const REASON = /\breason:\s*\S.{8,}/
/** The directives, at the start of a comment's text (as TypeScript, ESLint and Biome read them). */
const SUPPRESSION = /^(?:@ts-(?:expect-error|ignore|nocheck)|eslint-disable(?:-next-line|-line)?|biome-ignore)\b/

interface Comment {
  pos: number
  end: number
  text: string
}

/** Every comment in the file, found through the syntax tree (so `//` inside a string or a regular expression is not one). */
function commentsOf(file: ts.SourceFile): Comment[] {
  const text = file.getFullText()
  const seen = new Map<number, Comment>()
  const add = (ranges: ts.CommentRange[] | undefined): void => {
    for (const r of ranges ?? []) if (!seen.has(r.pos)) seen.set(r.pos, { pos: r.pos, end: r.end, text: text.slice(r.pos, r.end) })
  }
  const visit = (node: ts.Node): void => {
    add(ts.getLeadingCommentRanges(text, node.pos))
    add(ts.getTrailingCommentRanges(text, node.end))
    for (const child of node.getChildren(file)) visit(child)
  }
  visit(file)
  return [...seen.values()].sort((a, b) => a.pos - b.pos)
}

/** The comment's text without its `//`, `/*`, `*\/` and leading `*`s. */
function commentBody(comment: string): string {
  return comment
    .replace(/^\/\/|^\/\*+|\*+\/$/g, '')
    .replace(/^\s*\*?/, '')
    .trim()
}

/** Finds the casts and suppressions of one file, and whether each carries a reason. */
export function findEscapes(fileName: string, text: string): Escape[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS)
  const lineOf = (pos: number): number => file.getLineAndCharacterOfPosition(pos).line
  const lines = text.split('\n')
  const comments = commentsOf(file)

  // Per line: does a comment on it give a reason, and is the line nothing but comments?
  const reasonOn = new Set<number>()
  const inComment = new Uint8Array(text.length)
  for (const c of comments) {
    inComment.fill(1, c.pos, c.end)
    if (REASON.test(c.text)) for (let l = lineOf(c.pos); l <= lineOf(c.end); l++) reasonOn.add(l)
  }
  const onlyComments = (l: number): boolean => {
    const start = file.getPositionOfLineAndCharacter(l, 0)
    const line = lines[l] ?? ''
    let any = false
    for (let i = 0; i < line.length; i++) {
      if (/\s/.test(line[i] ?? '')) continue
      if (inComment[start + i] !== 1) return false
      any = true
    }
    return any
  }
  /** A reason on one of `own` lines, or in the run of comment-only lines just above the first of them. */
  const reasoned = (own: number[]): boolean => {
    if (own.some((l) => reasonOn.has(l))) return true
    for (let l = Math.min(...own) - 1; l >= 0 && onlyComments(l); l--) if (reasonOn.has(l)) return true
    return false
  }
  const short = (s: string): string => {
    const one = s.replace(/\s+/g, ' ').trim()
    return one.length > 100 ? `${one.slice(0, 97)}...` : one
  }

  const escapes: Escape[] = []
  const visit = (node: ts.Node): void => {
    const isCast = ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)
    if (isCast && !(ts.isAsExpression(node) && ts.isConstTypeReference(node.type))) {
      // Where the `as` keyword is (or the `<` of `<T>x`).
      const keyword = node.getChildren(file).find((c) => c.kind === ts.SyntaxKind.AsKeyword)
      const at = (keyword ?? node).getStart(file)
      const { line, character } = file.getLineAndCharacterOfPosition(at)
      escapes.push({ kind: 'cast', line: line + 1, column: character + 1, text: short(node.getText(file)), reasoned: reasoned([line, lineOf(node.end)]) })
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  for (const c of comments) {
    if (!SUPPRESSION.test(commentBody(c.text))) continue
    const { line, character } = file.getLineAndCharacterOfPosition(c.pos)
    const own = [line, lineOf(c.end)]
    escapes.push({ kind: 'suppression', line: line + 1, column: character + 1, text: short(c.text), reasoned: REASON.test(c.text) || reasoned(own) })
  }
  return escapes.sort((a, b) => a.line - b.line || a.column - b.column)
}

function main(argv: string[]): number {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const list = argv.includes('--list')
  const given = argv.filter((a) => !a.startsWith('--'))
  const files = given.length > 0 ? given.map((f) => relative(root, resolve(f))) : sourceFiles(root)
  let missing = 0
  let casts = 0
  let suppressions = 0
  for (const name of files) {
    for (const e of findEscapes(name, readFileSync(resolve(root, name), 'utf8'))) {
      if (e.kind === 'cast') casts++
      else suppressions++
      if (!e.reasoned) missing++
      if (list || !e.reasoned) console.log(`${name}:${e.line}:${e.column} ${e.kind}${e.reasoned ? '' : ' without a reason'}: ${e.text}`)
    }
  }
  const summary = `check-reasons: ${files.length} files, ${casts} casts and ${suppressions} suppressions, ${missing} without a \`// reason: …\` comment`
  if (missing > 0) {
    console.error(`${summary}. Say why each is safe (same line, or the comment lines just above), or remove it (a type guard, a typed helper).`)
    return 1
  }
  console.log(summary)
  return 0
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2))
