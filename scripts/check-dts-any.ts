/**
 * The published types have no `any` (STYLE.md, "TypeScript"): builds the
 * declarations of @tidekv/core, @tidekv/client and @tidekv/relay exactly as
 * their `npm run build` does (each package's tsconfig.build.json, so
 * `stripInternal` drops what is @internal), into a temporary folder, and
 * looks for the `any` keyword in them with the TypeScript parser. An `any`
 * that TypeScript inferred counts as much as one written out.
 *
 * `node --import tsx scripts/check-dts-any.ts` prints each as
 * `packages/<pkg>/dist/<file>.d.ts:<line>` with the line, and exits 1 if any.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** The packages, in build order (client and relay import core's declarations). */
const PACKAGES = ['core', 'client', 'relay'] as const

/** One `any` in a declaration file. */
export interface AnyFound {
  line: number
  column: number
  /** The declaration file's line, trimmed. */
  text: string
}

/** The `any` keywords of one declaration file's text. */
export function findAny(fileName: string, text: string): AnyFound[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const lines = text.split('\n')
  const found: AnyFound[] = []
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file))
      found.push({ line: line + 1, column: character + 1, text: (lines[line] ?? '').trim() })
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

/** The `@tidekv/core[/x]` entry points → their declaration files under `coreOut`, from core's package.json `exports`. */
function coreDeclarationPaths(root: string, coreOut: string): Record<string, string[]> {
  const pkg: unknown = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8'))
  const exports = typeof pkg === 'object' && pkg !== null && 'exports' in pkg && typeof pkg.exports === 'object' && pkg.exports !== null ? pkg.exports : {}
  const paths: Record<string, string[]> = {}
  const entries: [string, unknown][] = Object.entries(exports)
  for (const [subpath, target] of entries) {
    const types: unknown = typeof target === 'object' && target !== null && 'types' in target ? target.types : undefined
    if (typeof types !== 'string') continue
    paths[`@tidekv/core${subpath.slice(1)}`] = [join(coreOut, relative('dist', types))]
  }
  return paths
}

/** Builds the declarations and returns the `any`s found, per published file; throws if a build reports an error. */
export function checkDeclarations(root: string): Map<string, AnyFound[]> {
  const out = mkdtempSync(join(tmpdir(), 'tidekv-dts-'))
  try {
    // One parse of each file (lib.*.d.ts, yjs, the core sources) for all three builds.
    const parsed = new Map<string, ts.SourceFile | undefined>()
    const found = new Map<string, AnyFound[]>()
    for (const pkg of PACKAGES) {
      const configPath = join(root, 'packages', pkg, 'tsconfig.build.json')
      const config = ts.getParsedCommandLineOfConfigFile(configPath, undefined, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) })
      if (config === undefined) throw new Error(`check-dts-any: cannot read ${configPath}`)
      if (config.errors.length > 0) fail(config.errors)
      const pkgOut = join(out, pkg)
      const options: ts.CompilerOptions = {
        ...config.options,
        outDir: pkgOut,
        declaration: true,
        emitDeclarationOnly: true,
        declarationMap: false,
        sourceMap: false,
        noEmit: false,
        incremental: false,
        tsBuildInfoFile: undefined,
        // The real build finds @tidekv/core's declarations in its dist/; here they are the ones just built.
        ...(pkg === 'core' ? {} : { paths: coreDeclarationPaths(root, join(out, 'core')) }),
      }
      const host = ts.createCompilerHost(options)
      const getSourceFile = host.getSourceFile.bind(host)
      host.getSourceFile = (fileName, languageVersion, onError) => {
        if (fileName.startsWith(out)) return getSourceFile(fileName, languageVersion, onError)
        if (!parsed.has(fileName)) parsed.set(fileName, getSourceFile(fileName, languageVersion, onError))
        return parsed.get(fileName)
      }
      const program = ts.createProgram({ rootNames: config.fileNames, options, host })
      const result = program.emit(undefined, (fileName, text) => {
        ts.sys.writeFile(fileName, text)
        if (!fileName.endsWith('.d.ts')) return
        const published = join('packages', pkg, 'dist', relative(pkgOut, fileName))
        const anys = findAny(published, text)
        if (anys.length > 0) found.set(published, anys)
      })
      const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error)
      if (errors.length > 0 || result.emitSkipped) fail(errors)
    }
    return found
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

function fail(diagnostics: readonly ts.Diagnostic[]): never {
  const text = ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' })
  throw new Error(`check-dts-any: building the declarations failed\n${text}`)
}

function main(): number {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const found = checkDeclarations(root)
  let count = 0
  for (const [file, anys] of found) {
    for (const a of anys) {
      count++
      console.log(`${file}:${a.line}:${a.column}: any in \`${a.text}\``)
    }
  }
  if (count > 0) {
    console.error(`check-dts-any: ${count} \`any\` in the published declarations (packages/${PACKAGES.join(', ')}); type them (unknown, a generic, the real type)`)
    return 1
  }
  console.log(`check-dts-any: no \`any\` in the declarations of ${PACKAGES.map((p) => `@tidekv/${p}`).join(', ')}`)
  return 0
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main()
