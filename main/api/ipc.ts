/**
 * The Electron IPC binding of the API, without importing Electron (main/ never does): the shell
 * passes its `ipcMain`. ONE channel, `sluice:call`, for every method, registered once; the method
 * is checked against `API_METHODS` and the sender frame's URL against the shell's rule.
 *
 * The answer is the {@link ApiResponse} envelope: Electron's `invoke` keeps only an error's
 * message, so errors cross as data (`toErrorData`) and `bridgeClient` rebuilds them.
 */
import { API_METHODS, type Api, type ApiMethod, type ApiResponse } from './contract.js'
import { toErrorData } from './errors.js'

/** The IPC channel of API calls. */
export const CALL_CHANNEL = 'sluice:call'
/** The IPC channel of pushed events (`webContents.send`). */
export const EVENT_CHANNEL = 'sluice:event'

/** The part of Electron's `ipcMain` used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, ...args: any[]) => Promise<unknown>): void
}

/**
 * Register the API on `ipc`.
 * @param isTrustedUrl decides whether the sender frame's URL is the app's renderer; calls from any
 *   other frame (or a frame already gone) get `{ ok:false, error:{ code:'FORBIDDEN' } }`.
 */
export function bindIpc(ipc: IpcMainLike, handlers: Api, isTrustedUrl: (url: string | undefined) => boolean): void {
  const allowed = new Set<string>(API_METHODS)
  ipc.handle(CALL_CHANNEL, async (event, method: unknown, args: unknown): Promise<ApiResponse> => {
    if (!isTrustedUrl(event.senderFrame?.url)) {
      return { ok: false, error: { name: 'IpcError', code: 'FORBIDDEN', message: 'calls are only accepted from the Sluice window' } }
    }
    if (typeof method !== 'string' || !allowed.has(method)) {
      return { ok: false, error: { name: 'IpcError', code: 'UNKNOWN_METHOD', message: `no API method '${String(method)}'` } }
    }
    try {
      const fn = handlers[method as ApiMethod] as (a: unknown) => Promise<unknown>
      return { ok: true, result: await fn(args ?? {}) }
    } catch (e) {
      return { ok: false, error: toErrorData(e) }
    }
  })
}
