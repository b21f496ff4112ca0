/**
 * The HTTP + WebSocket transport of the API (`sluice serve`): the same handlers as Electron IPC,
 * for a browser on the same machine.
 *
 * Wire protocol (the renderer's browser client speaks exactly this; see main/api/README.md):
 * - `POST /api/<domain>/<verb>` (e.g. `/api/connections/list`), header
 *   `Authorization: Bearer <token>`, body `JSON(encode(args))` (wire.ts). Response 200
 *   `{"ok":true,"result":encode(result)}` or, for an error thrown by the handler, still 200
 *   `{"ok":false,"error":ApiErrorData}`. 401 without / with a wrong token, 404 unknown method,
 *   405 not POST, 400 body not JSON, 413 body over 16 MiB (refused before it is buffered).
 * - `GET /api/events?token=<token>` upgrades to a WebSocket that pushes every
 *   {@link ApiEvent} as `JSON(encode(event))` text messages (browsers cannot set headers on a
 *   WebSocket, hence the query). 401 without a valid token.
 * - Anything else under GET/HEAD: the built renderer from `staticDir`, `index.html` for client
 *   routes. The page holds no data and needs no token; the renderer reads it from `?token=`.
 *
 * Protections: binds 127.0.0.1 by default; tokens compared in constant time; requests whose
 * `Host` is not this server's loopback host:port are refused (403, DNS rebinding), as are
 * requests with a cross-origin `Origin` (403); every response carries a Content-Security-Policy,
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (the page URL holds the token)
 * and `frame-ancestors 'none'`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocket, WebSocketServer } from 'ws'
import type { Store } from '../store/index.js'
import { API_METHODS, type ApiEvent } from './contract.js'
import { toErrorData } from './errors.js'
import { createHandlers } from './handlers.js'
import { startInProcessScheduler } from '../scheduler/host.js'
import { decode, encode } from './wire.js'

/**
 * Largest accepted request body: 16 MiB (a job document or a SQL script is far smaller). A body
 * is held as bytes, then text, then parsed values (about 15x its size at the peak: a 60 MB body
 * took `serve` to 924 MB resident), so the limit bounds memory too. A declared length over it is
 * refused before reading; a chunked body as soon as it passes it.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024
/** A WebSocket whose unsent buffer exceeds this skips `run/progress` events until it drains. */
const WS_PROGRESS_BACKLOG_BYTES = 4 * 1024 * 1024

const here = path.dirname(fileURLToPath(import.meta.url))
/** The repository root (this file is main/api/http.ts). */
const REPO_ROOT = path.resolve(here, '../..')
/** Default folder of the built renderer: `out/renderer` under the repo root. */
export const DEFAULT_STATIC_DIR = path.join(REPO_ROOT, 'out', 'renderer')

/** Options of {@link startServer}. */
export interface ServerOptions {
  store: Store
  dataDir: string
  /** TCP port; 0 (default) picks a free one. */
  port?: number
  /** Interface to bind; default `127.0.0.1`. Anything else exposes the API beyond this machine (token still required). */
  host?: string
  /** The bearer token; default 32 random bytes, base64url. */
  token?: string
  /** The built renderer (default {@link DEFAULT_STATIC_DIR}). */
  staticDir?: string
  /** Version reported by `app/info`; default package.json's. */
  version?: string
  /**
   * Folders SQLite connection files may be in (`--allow-dir`); default the data dir and the
   * current directory. The state DB is always refused (confine.ts).
   */
  allowDirs?: string[]
  /** Also run the scheduler loop in this process (`sluice serve` does unless `--no-scheduler`); default off. */
  scheduler?: boolean
}

/** A running server. */
export interface RunningServer {
  /** The URL to open: `http://127.0.0.1:<port>/?token=<token>`. */
  url: string
  /** `http://127.0.0.1:<port>` (no trailing slash, no token). */
  origin: string
  port: number
  host: string
  token: string
  /** Terminate active runs (recorded as `terminated`), close WebSockets and the listener. Does not close the store. */
  close(): Promise<void>
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]']
const WILDCARD = new Set(['0.0.0.0', '::', '[::]'])

/** Read package.json's version (the repo root's). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/** Is `host` a loopback address (`127.x.x.x`, `::1`, `localhost`)? */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** Compare two tokens in constant time (hashing first so lengths never leak or throw). */
function tokenMatches(given: string | undefined, token: string): boolean {
  if (typeof given !== 'string') return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b)
}

/**
 * Start the API server. Resolves once it listens.
 * @throws the listen error (`EADDRINUSE`, `EACCES`...).
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1'
  const token = opts.token ?? randomBytes(32).toString('base64url')
  if (token.length < 16) throw new Error('token: use at least 16 characters')
  const staticDir = path.resolve(opts.staticDir ?? DEFAULT_STATIC_DIR)
  const clients = new Set<WebSocket>()

  const broadcast = (e: ApiEvent) => {
    if (clients.size === 0) return
    const text = JSON.stringify(encode(e))
    for (const ws of clients) {
      if (ws.readyState !== WebSocket.OPEN) continue
      if (e.type === 'run/progress' && ws.bufferedAmount > WS_PROGRESS_BACKLOG_BYTES) continue
      ws.send(text)
    }
  }
  const sched = opts.scheduler ? await startInProcessScheduler(opts.store, { onEvent: broadcast }) : undefined
  const { handlers, dispose } = createHandlers({ store: opts.store, dataDir: opts.dataDir, version: opts.version ?? packageVersion(), transport: 'http', emit: broadcast, confine: { allowDirs: opts.allowDirs ?? [opts.dataDir, process.cwd()], stateDb: opts.store.file }, ...(sched ? { schedulerHolder: () => sched.holder } : {}) })
  const methods = new Set<string>(API_METHODS)

  let port = 0
  const bracket = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h)
  /** Host header values accepted: loopback names (and the bound host) with our port. */
  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (!hostHeader) return false
    if (WILDCARD.has(host)) return true // bound to every interface: the token is the only guard
    const allowed = new Set([...LOOPBACK_NAMES, bracket(host)].map((h) => `${h}:${port}`.toLowerCase()))
    return allowed.has(hostHeader.toLowerCase())
  }
  const originAllowed = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin
    if (origin === undefined) return true // same-origin GETs and non-browser clients send none
    return origin.toLowerCase() === `http://${req.headers.host ?? ''}`.toLowerCase()
  }

  const securityHeaders = (req: IncomingMessage): Record<string, string> => ({
    'Content-Security-Policy': [
      "default-src 'self'",
      "script-src 'self'",
      // Naive UI and Monaco inject <style> elements at run time.
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self' data:",
      // Monaco's workers, bundled by vite (`?worker`), may be started from blob: URLs.
      "worker-src 'self' blob:",
      `connect-src 'self' ws://${req.headers.host ?? `127.0.0.1:${port}`}`,
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  })

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: string | Buffer, type = 'application/json; charset=utf-8', extra: Record<string, string> = {}) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body
    res.writeHead(status, { ...securityHeaders(req), 'Content-Type': type, 'Content-Length': String(buf.length), ...extra })
    res.end(req.method === 'HEAD' ? undefined : buf)
  }
  const sendError = (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string) =>
    send(req, res, status, JSON.stringify({ ok: false, error: { name: 'HttpError', code, message } }), 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' })

  const readBody = (req: IncomingMessage): Promise<Buffer | 'too-large'> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'])
      if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return resolve('too-large')
      const chunks: Buffer[] = []
      let size = 0
      let over = false
      req.on('data', (c: Buffer) => {
        if (over) return
        size += c.length
        if (size > MAX_BODY_BYTES) {
          // Answer at once; the rest of the body is read and dropped, never kept.
          over = true
          chunks.length = 0
          resolve('too-large')
          return
        }
        chunks.push(c)
      })
      req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)))
      req.on('error', reject)
    })

  const handleApi = async (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    const auth = req.headers.authorization
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
    if (!tokenMatches(given, token)) return sendError(req, res, 401, 'UNAUTHORIZED', 'missing or wrong bearer token')
    const method = pathname.slice('/api/'.length)
    if (!methods.has(method)) return sendError(req, res, 404, 'UNKNOWN_METHOD', `no API method '${method}'`)
    if (req.method !== 'POST') return sendError(req, res, 405, 'METHOD_NOT_ALLOWED', 'use POST')
    const body = await readBody(req)
    if (body === 'too-large') {
      sendError(req, res, 413, 'PAYLOAD_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`)
      req.resume()
      return
    }
    let args: unknown
    try {
      args = body.length === 0 ? {} : decode(JSON.parse(body.toString('utf8')))
    } catch (e) {
      return sendError(req, res, 400, 'BAD_JSON', `request body: ${(e as Error).message}`)
    }
    let payload: string
    try {
      const fn = handlers[method as keyof typeof handlers] as (a: unknown) => Promise<unknown>
      const result = await fn(args)
      payload = JSON.stringify({ ok: true, result: encode(result) })
    } catch (e) {
      payload = JSON.stringify({ ok: false, error: toErrorData(e) })
    }
    send(req, res, 200, payload, 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' })
  }

  const handleStatic = async (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(req, res, 405, 'METHOD_NOT_ALLOWED', 'use GET')
    let rel: string
    try {
      rel = decodeURIComponent(pathname)
    } catch {
      return sendError(req, res, 400, 'BAD_PATH', 'malformed path')
    }
    const file = path.resolve(staticDir, '.' + path.posix.normalize('/' + rel))
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) return sendError(req, res, 403, 'FORBIDDEN', 'outside the renderer folder')
    const tryFile = async (f: string): Promise<boolean> => {
      try {
        const s = await stat(f)
        if (!s.isFile()) return false
        const type = MIME[path.extname(f).toLowerCase()] ?? 'application/octet-stream'
        // Hashed asset names (vite) may be cached; index.html never (it may change on rebuild).
        const cache = f.endsWith('.html') ? 'no-cache' : /[.-][A-Za-z0-9_-]{8,}\.\w+$/.test(f) ? 'public, max-age=31536000, immutable' : 'no-cache'
        send(req, res, 200, await readFile(f), type, { 'Cache-Control': cache })
        return true
      } catch {
        return false
      }
    }
    if (await tryFile(file)) return
    // Client routes (no extension) fall back to the app page; a missing asset is a real 404.
    if (path.extname(rel) === '' || rel.endsWith('.html')) {
      if (await tryFile(path.join(staticDir, 'index.html'))) return
      return send(req, res, 503, NOT_BUILT_PAGE, 'text/html; charset=utf-8', { 'Cache-Control': 'no-store' })
    }
    return sendError(req, res, 404, 'NOT_FOUND', `no file ${rel}`)
  }

  const server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host)) return sendError(req, res, 403, 'BAD_HOST', 'the Host header does not name this server (DNS rebinding protection)')
    if (!originAllowed(req)) return sendError(req, res, 403, 'BAD_ORIGIN', 'cross-origin requests are refused')
    let pathname: string
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname
    } catch {
      return sendError(req, res, 400, 'BAD_PATH', 'malformed URL')
    }
    const work = pathname === '/api' || pathname.startsWith('/api/') ? handleApi(req, res, pathname) : handleStatic(req, res, pathname)
    work.catch((e: unknown) => {
      if (!res.headersSent) sendError(req, res, 500, 'INTERNAL', (e as Error)?.message ?? String(e))
      else res.destroy()
    })
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  wss.on('connection', (ws) => {
    clients.add(ws)
    ws.on('close', () => clients.delete(ws))
    ws.on('error', () => clients.delete(ws))
    // The socket only pushes; anything a client sends is ignored.
  })
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
    }
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://x')
    } catch {
      return refuse(400, 'Bad Request')
    }
    if (!hostAllowed(req.headers.host)) return refuse(403, 'Forbidden')
    if (!originAllowed(req)) return refuse(403, 'Forbidden')
    if (url.pathname !== '/api/events') return refuse(404, 'Not Found')
    if (!tokenMatches(url.searchParams.get('token') ?? undefined, token)) return refuse(401, 'Unauthorized')
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  const shownHost = WILDCARD.has(host) ? '127.0.0.1' : bracket(host)
  const origin = `http://${shownHost}:${port}`
  let closing: Promise<void> | undefined
  return {
    url: `${origin}/?token=${encodeURIComponent(token)}`,
    origin,
    port,
    host,
    token,
    close() {
      closing ??= (async () => {
        await sched?.stop({ terminate: true })
        await dispose()
        for (const ws of clients) ws.close(1001, 'server shutting down')
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        for (const ws of clients) ws.terminate()
        wss.close()
      })()
      return closing
    },
  }
}

const NOT_BUILT_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Sluice</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3em">
<h1>Sluice</h1>
<p>The API is running, but the screens are not built yet. In the Sluice folder, run</p>
<pre>npm run build:renderer</pre>
<p>then reload this page.</p>
</body></html>
`
