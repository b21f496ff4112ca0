/**
 * The renderer's one API client. It picks its transport by itself:
 * - under Electron the preload exposes `window.sluice` (a {@link SluiceBridge} answering envelopes over
 *   IPC), wrapped by `bridgeClient` so errors are rebuilt as {@link ApiError} with code and path;
 * - in a browser (`sluice serve`) it speaks HTTP + WebSocket:
 *   `POST /api/<domain>/<verb>` with `Authorization: Bearer <token>` and body `JSON(encode(args))`;
 *   the answer is `{ok:true,result}` or `{ok:false,error}` (rebuilt as {@link ApiError});
 *   events arrive on `ws://<host>/api/events?token=<token>`, one `JSON(encode(event))` per message,
 *   and the socket reconnects with exponential backoff (0.5 s doubling up to 15 s).
 *
 * The token comes from the page URL (`/?token=...`) on first load, is kept in sessionStorage
 * (per tab, gone when the tab closes) and removed from the address bar so it is not bookmarked.
 */
import { ref } from 'vue'
import { ApiError, bridgeClient, type ApiArgs, type ApiEvent, type ApiMethod, type ApiResult, type SluiceClient } from '../../main/api/contract.js'
import { decode, encode } from '../../main/api/wire.js'

const TOKEN_KEY = 'sluice.token'

/**
 * Why the browser client cannot talk to `sluice serve`: `missing` when the page was opened without
 * `?token=` (and none is kept for this tab), `rejected` when the server answered 401 (a token of an
 * earlier server). App.vue then shows how to get the URL with its token instead of the workspace.
 */
export const authProblem = ref<'missing' | 'rejected'>()

/** Live state of the event channel: 'ipc' under Electron, else the WebSocket's state. */
export const eventChannel = ref<'ipc' | 'connecting' | 'open' | 'closed'>('connecting')

/** Read the token from `?token=` (then drop it from the URL) or from sessionStorage. */
export function takeToken(): string {
  const url = new URL(location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl)
    url.searchParams.delete('token')
    history.replaceState(history.state, '', url.pathname + (url.search ? url.search : '') + url.hash)
    return fromUrl
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? ''
}

/** The HTTP + WebSocket client of `sluice serve`. */
function httpClient(token: string): SluiceClient {
  const listeners = new Set<(e: ApiEvent) => void>()
  let socket: WebSocket | undefined
  let attempt = 0

  const connect = () => {
    eventChannel.value = 'connecting'
    const proto = location.protocol === 'https:' ? 'wss' : 'ws'
    const ws = new WebSocket(`${proto}://${location.host}/api/events?token=${encodeURIComponent(token)}`)
    socket = ws
    ws.onopen = () => {
      attempt = 0
      eventChannel.value = 'open'
    }
    ws.onmessage = (m) => {
      let e: ApiEvent
      try {
        e = decode(JSON.parse(String(m.data))) as ApiEvent
      } catch (err) {
        console.error('sluice: undecodable event', err)
        return
      }
      for (const l of listeners) {
        try {
          l(e)
        } catch (err) {
          console.error('sluice: event listener failed', err)
        }
      }
    }
    ws.onclose = () => {
      if (socket !== ws) return
      eventChannel.value = 'closed'
      const delay = Math.min(15_000, 500 * 2 ** attempt++)
      setTimeout(connect, delay)
    }
  }
  connect()

  return {
    async call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      const res = await fetch(`${location.origin}/api/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(encode(args ?? {})),
      })
      if (res.status === 401) authProblem.value = 'rejected'
      const text = await res.text()
      let body: { ok: boolean; result?: unknown; error?: ConstructorParameters<typeof ApiError>[0] }
      try {
        body = decode(JSON.parse(text)) as typeof body
      } catch {
        throw new ApiError({ name: 'HttpError', code: `HTTP_${res.status}`, message: `${method}: HTTP ${res.status} ${text.slice(0, 300)}` })
      }
      if (body.ok) return body.result as ApiResult<M>
      throw new ApiError(body.error ?? { name: 'HttpError', code: `HTTP_${res.status}`, message: `${method}: HTTP ${res.status}` })
    },
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

function pickClient(): SluiceClient {
  if (window.sluice) {
    eventChannel.value = 'ipc'
    return bridgeClient(window.sluice)
  }
  const token = takeToken()
  if (!token) {
    authProblem.value = 'missing'
    eventChannel.value = 'closed'
    return {
      call: () => Promise.reject(new ApiError({ name: 'ApiError', code: 'UNAUTHORIZED', message: 'no token: open the URL `sluice serve` printed (it ends with ?token=…)' })),
      onEvent: () => () => undefined,
    }
  }
  return httpClient(token)
}

/** Pick the transport now (App.vue calls it first, so a missing token is known before any screen loads). */
export function initClient(): void {
  get()
}

let client: SluiceClient | undefined
const get = () => (client ??= pickClient())

/** The typed API: `api.call('connections/list', {})`, `api.onEvent(e => ...)`. */
export const api = {
  call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
    return get().call(method, args)
  },
  onEvent(listener: (e: ApiEvent) => void): () => void {
    return get().onEvent(listener)
  },
}

/** A readable one-line message of any error (an ApiError shows its code). */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message} [${e.code}${e.path ? ` @ ${e.path}` : ''}]`
  return e instanceof Error ? e.message : String(e)
}

export { ApiError }
