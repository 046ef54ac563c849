/**
 * The documentation's TypeScript examples as ES modules: collected from the
 * Markdown files (```ts / ```typescript blocks) and from the `@example` tags
 * of the packages' TSDoc, written as one module each, and type-checked with
 * the repository's tsconfig.json. examples.test.ts imports and runs them.
 *
 * A module is the example's code, line for line, between two added lines:
 *   line 1     the prelude: `store`, `relayUrl` and `secret`, for the ones the
 *              example uses without declaring them (see PREDECLARED)
 *   lines 2…   the example (relative imports rewritten to stay relative to the
 *              file the example is in)
 *   last line  `export { … }` of the example's top-level variables, so the test
 *              can close what the example opened (stores, relays, storages);
 *              it also makes every example a module (top-level await)
 * so line L of a module is line `firstLine + L - 2` of the documentation file.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

/** One example, where it is written. */
export interface Example {
  /** The file, relative to the repository root, with forward slashes. */
  file: string
  /** The line (1-based) that opens it: the ```ts fence or the `@example` tag. */
  line: number
  /** The line of the file that holds the first line of `code`; the others follow one per line. */
  firstLine: number
  code: string
  kind: 'markdown' | 'tsdoc'
  /** A ```tsx block: type-checked (as TSX), not run (it needs a browser and a renderer). */
  tsx?: boolean
}

/** Names an example may use without declaring them; the test provides them. */
export const PREDECLARED = {
  /** An open store (IndexedDB from fake-indexeddb), synced with the in-process relay. */
  store: "import('@tidekv/client').Store",
  /** The ws:// URL of the in-process relay (127.0.0.1, port 0). */
  relayUrl: 'string',
  /** The in-process relay's auth secret. */
  secret: 'string',
} as const

export type PredeclaredName = keyof typeof PREDECLARED

/** The predeclared names, in PREDECLARED's order. */
const PREDECLARED_NAMES = Object.keys(PREDECLARED) as PredeclaredName[] // reason: PREDECLARED is the literal above: its own keys are exactly these

/** The global the prelude reads the predeclared names from. */
export const DOCS_GLOBAL = '__tidekvDocs'

/** Lines a module has before the example's first line. */
const PRELUDE_LINES = 1

/** The Markdown files whose examples run: README.md, CONTRIBUTING.md, docs/*.md, packages/*\/README.md. */
export function markdownFiles(root: string): string[] {
  const files = ['README.md', 'CONTRIBUTING.md']
  const docs = join(root, 'docs')
  if (existsSync(docs))
    files.push(
      ...listDir(docs)
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    )
  for (const pkg of listDir(join(root, 'packages'))) files.push(`packages/${pkg}/README.md`)
  return files.filter((f) => existsSync(join(root, f)))
}

/**
 * The packages' source files whose TSDoc examples run: packages/*\/src/**\/*.ts
 * but test files (`*.test.ts`, and helpers that import vitest: they only run
 * inside a test file) and `testing/` folders.
 */
export function sourceFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of listDir(join(root, dir)).sort()) {
      const path = `${dir}/${name}`
      if (name === 'testing' || name === 'node_modules') continue
      if (statSync(join(root, path)).isDirectory()) {
        walk(path)
        continue
      }
      if (!name.endsWith('.ts') || name.endsWith('.test.ts') || name.endsWith('.d.ts')) continue
      if (/^\s*import\b[^;]*?\bfrom\s+['"]vitest['"]/m.test(readFileSync(join(root, path), 'utf8'))) continue
      out.push(path)
    }
  }
  for (const pkg of listDir(join(root, 'packages'))) {
    if (existsSync(join(root, 'packages', pkg, 'src'))) walk(`packages/${pkg}/src`)
  }
  return out
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    return []
  }
}

/** Every example of the documentation, Markdown first. */
export function collectExamples(root: string): Example[] {
  return [
    ...markdownFiles(root).flatMap((f) => markdownExamples(f, readFileSync(join(root, f), 'utf8'))),
    ...sourceFiles(root).flatMap((f) => tsdocExamples(f, readFileSync(join(root, f), 'utf8'))),
  ]
}

const RUN_LANGUAGES = new Set(['ts', 'typescript'])

/** The ```ts, ```typescript and ```tsx blocks of a Markdown text (fences may be indented, in a list). */
export function markdownExamples(file: string, text: string): Example[] {
  const lines = text.split(/\r?\n/)
  const out: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]!)
    if (open === null) continue
    const [, indent = '', fence = '', info = ''] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[j]!)
      if (close !== null && close[1]![0] === fence[0] && close[1]!.length >= fence.length) break
      body.push(stripIndent(lines[j]!, indent.length))
    }
    const language = info.toLowerCase()
    const tsx = language === 'tsx'
    if (tsx || RUN_LANGUAGES.has(language)) out.push({ file, line: i + 1, firstLine: i + 2, code: body.join('\n'), kind: 'markdown', tsx })
    i = j
  }
  return out
}

function stripIndent(line: string, width: number): string {
  let n = 0
  while (n < width && n < line.length && (line[n] === ' ' || line[n] === '\t')) n++
  return line.slice(n)
}

/**
 * The `@example` blocks of the TSDoc comments of a source text. An example
 * runs to the next tag or the end of its comment; if it holds a ``` fence,
 * the fenced code is the example.
 */
export function tsdocExamples(file: string, text: string): Example[] {
  const out: Example[] = []
  for (const match of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = lineOf(text, match.index)
    const lines = match[0].split(/\r?\n/).map((raw, j, all) => {
      let line = raw
      if (j === all.length - 1) line = line.replace(/\s*\*\/$/, '')
      return j === 0 ? line.replace(/^\s*\/\*\*\s?/, '') : line.replace(/^\s*\*(?!\/)\s?/, '')
    })
    for (let j = 0; j < lines.length; j++) {
      if (!/^\s*@example\b/.test(lines[j]!)) continue
      let body: { text: string; line: number }[] = []
      let k = j + 1
      for (; k < lines.length && !/^\s*@[A-Za-z]/.test(lines[k]!); k++) body.push({ text: lines[k]!, line: startLine + k })
      const fenceAt = body.findIndex((l) => /^\s*```/.test(l.text))
      if (fenceAt >= 0) {
        const end = body.findIndex((l, n) => n > fenceAt && /^\s*```\s*$/.test(l.text))
        body = body.slice(fenceAt + 1, end < 0 ? body.length : end)
      }
      while (body.length > 0 && body[0]!.text.trim() === '') body.shift()
      while (body.length > 0 && body[body.length - 1]!.text.trim() === '') body.pop()
      if (body.length > 0) {
        out.push({ file, line: startLine + j, firstLine: body[0]!.line, code: body.map((l) => l.text).join('\n'), kind: 'tsdoc' })
      }
      j = k - 1
    }
  }
  return out
}

function lineOf(text: string, index: number): number {
  let line = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++
  return line
}

/** An example written as a module. */
export interface ExampleModule {
  example: Example
  /** Absolute path of the module. */
  path: string
  /** The predeclared names the prelude declares (the example uses them and does not declare them). */
  needs: PredeclaredName[]
  /** Line of the documentation file for line `line` of the module, or undefined outside the example. */
  sourceLine(line: number): number | undefined
}

/** Writes `example` as a module in `dir` (inside the repository, so the packages resolve). */
export function writeExampleModule(root: string, dir: string, example: Example, index: number): ExampleModule {
  const tsx = example.tsx === true
  const source = ts.createSourceFile(tsx ? 'example.tsx' : 'example.ts', example.code, ts.ScriptTarget.ES2022, true, tsx ? ts.ScriptKind.TSX : ts.ScriptKind.TS)
  const declared = new Set<string>()
  const exported: string[] = []
  const used = new Set<string>()
  const specifiers: ts.StringLiteralLike[] = []

  for (const statement of source.statements) {
    const modifiers = ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : []
    const isExported = modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
    const isDeclare = modifiers.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause
      if (clause?.name !== undefined) declared.add(clause.name.text)
      const bindings = clause?.namedBindings
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) declared.add(bindings.name.text)
      if (bindings !== undefined && ts.isNamedImports(bindings)) for (const e of bindings.elements) declared.add(e.name.text)
    } else if (ts.isImportEqualsDeclaration(statement)) {
      declared.add(statement.name.text)
    } else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        for (const name of bindingNames(d.name)) {
          declared.add(name)
          if (!isExported && !isDeclare) exported.push(name)
        }
      }
    } else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name !== undefined) {
      declared.add(statement.name.text)
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text in PREDECLARED && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node)) {
      used.add(node.text)
    }
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteralLike(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier)
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined && ts.isStringLiteralLike(node.arguments[0])) {
      specifiers.push(node.arguments[0])
    }
    ts.forEachChild(node, visit)
  }
  visit(source)

  // Relative imports stay relative to the documentation file.
  let code = example.code
  const fromDir = dirname(join(root, example.file))
  for (const literal of specifiers.filter((s) => /^\.\.?\//.test(s.text)).sort((a, b) => b.getStart() - a.getStart())) {
    let target = relative(dir, resolve(fromDir, literal.text)).split(sep).join('/')
    if (!target.startsWith('.')) target = `./${target}`
    code = `${code.slice(0, literal.getStart() + 1)}${target}${code.slice(literal.getEnd() - 1)}`
  }

  const needs = PREDECLARED_NAMES.filter((name) => used.has(name) && !declared.has(name))
  const globals = `{ ${PREDECLARED_NAMES.map((n) => `${n}: ${PREDECLARED[n]}`).join('; ')} }`
  const prelude = needs.length === 0 ? '' : `const { ${needs.join(', ')} } = (globalThis as unknown as { ${DOCS_GLOBAL}: ${globals} }).${DOCS_GLOBAL};`
  const slug = example.file.replace(/[^A-Za-z0-9]+/g, '-')
  const path = join(dir, `${String(index).padStart(3, '0')}-${slug}-${example.line}.${tsx ? 'tsx' : 'ts'}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path, `${prelude}\n${code}\nexport { ${exported.join(', ')} }\n`)
  const codeLines = example.code.split('\n').length
  return {
    example,
    path,
    needs,
    sourceLine: (line) => (line > PRELUDE_LINES && line <= PRELUDE_LINES + codeLines ? example.firstLine + line - PRELUDE_LINES - 1 : undefined),
  }
}

function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text]
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)))
}

/** A type error of a module, at a line of the module (1-based). */
export interface ExampleTypeError {
  line: number
  message: string
}

/**
 * Type-checks `paths` with the repository's tsconfig.json (its `paths` lead
 * to the packages' sources). Returns each module's errors; errors in other
 * files (the packages) are not reported here: `npm run typecheck` has them.
 * @throws Error on a configuration error
 */
export function typeCheck(root: string, paths: readonly string[]): Map<string, ExampleTypeError[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    { noEmit: true },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      },
    },
  )
  if (config === undefined) throw new Error('tsconfig.json could not be read')
  const program = ts.createProgram({ rootNames: paths, options: { ...config.options, noEmit: true, incremental: false } })
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]
  if (global.length > 0) throw new Error(global.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'))
  const out = new Map<string, ExampleTypeError[]>()
  for (const path of paths) {
    const file = program.getSourceFile(path)
    if (file === undefined) throw new Error(`${path} is not in the type-checked program`)
    const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]
    out.set(
      path,
      diagnostics.map((d) => ({
        line: d.start === undefined ? 0 : file.getLineAndCharacterOfPosition(d.start).line + 1,
        message: `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      })),
    )
  }
  return out
}
