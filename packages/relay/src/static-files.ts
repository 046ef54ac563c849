/**
 * Serves a folder over HTTP (the demo): GET and HEAD only, no path may leave
 * the folder (symlinks included), no dotfiles, `/` is `index.html`.
 */
import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
}

function inside(base: string, file: string): boolean {
  return file === base || file.startsWith(base + sep)
}

/** Answers the request from `root` if a file matches; returns false otherwise. */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  let path: string
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
  } catch {
    return false // reason: an undecodable path names no file
  }
  if (path.includes('\0')) return false
  // No dotfiles or dot folders (.env, .git): a build folder does not need them served.
  if (path.split('/').some((segment) => segment.startsWith('.'))) return false
  try {
    // Real paths on both sides: a symlink in the folder must not lead out of it.
    const base = await realpath(resolve(root))
    let file = await realpath(resolve(join(base, normalize(path))))
    if (!inside(base, file)) return false
    let info = await stat(file)
    if (info.isDirectory()) {
      file = await realpath(join(file, 'index.html'))
      if (!inside(base, file)) return false
      info = await stat(file)
    }
    if (!info.isFile()) return false
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    })
    if (req.method === 'HEAD') res.end()
    else createReadStream(file).pipe(res)
    return true
  } catch {
    return false // reason: no such file: the caller answers 404
  }
}
