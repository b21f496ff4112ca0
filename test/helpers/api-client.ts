/**
 * A minimal client of the HTTP + WebSocket transport for tests: raw requests (to look at status
 * codes, headers and the exact body text) and a typed `call` that decodes like the renderer does.
 */
import http from 'node:http'
import { WebSocket } from 'ws'
import type { ApiArgs, ApiErrorData, ApiEvent, ApiMethod, ApiResult } from '../../main/api/contract.js'
import { decode, encode } from '../../main/api/wire.js'

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
}

/** One HTTP request to 127.0.0.1:`port` with exactly these headers. */
export function rawRequest(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; host?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: opts.host ?? '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** A client bound to one server and token. */
export function apiClient(port: number, token: string) {
  /** POST /api/<method>; returns the raw response too. */
  const raw = (method: string, args: unknown, headers: Record<string, string> = {}) => {
    const body = JSON.stringify(encode(args))
    return rawRequest(port, {
      method: 'POST',
      path: `/api/${method}`,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Content-Length': String(Buffer.byteLength(body)), ...headers },
      body,
    })
  }
  /** Call and decode; throws an Error carrying the ApiErrorData as `data` when `ok` is false. */
  const call = async <M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> => {
    const r = await raw(method, args)
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text}`)
    const body = JSON.parse(r.text) as { ok: boolean; result?: unknown; error?: ApiErrorData }
    if (!body.ok) throw Object.assign(new Error(body.error!.message), { data: body.error })
    return decode(body.result) as ApiResult<M>
  }
  /** The error data of a call expected to fail. */
  const fail = async <M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiErrorData> => {
    const r = await raw(method, args)
    const body = JSON.parse(r.text) as { ok: boolean; error?: ApiErrorData }
    if (r.status !== 200 || body.ok) throw new Error(`expected a handler error, got HTTP ${r.status}: ${r.text}`)
    return body.error!
  }
  return { raw, call, fail }
}

/** Open the event socket; collects decoded events in `events`. */
export async function openEvents(port: number, token: string): Promise<{ ws: WebSocket; events: ApiEvent[]; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events?token=${encodeURIComponent(token)}`)
  const events: ApiEvent[] = []
  ws.on('message', (data) => events.push(decode(JSON.parse(String(data))) as ApiEvent))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return { ws, events, close: () => ws.close() }
}

/** Try a WebSocket upgrade; resolves to the HTTP status of a refusal, or 101 when it opened. */
export function upgradeStatus(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers })
    ws.once('open', () => {
      ws.close()
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      res.resume()
    })
    ws.once('error', (e) => {
      // 'unexpected-response' fires first for HTTP refusals; a socket error is a real failure
      if (!/Unexpected server response/.test(e.message)) reject(e)
    })
  })
}

/** Wait until `pred` is true (polling every 20 ms) or fail after `ms`. */
export async function waitFor(pred: () => boolean | Promise<boolean>, ms = 30_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
