/**
 * The preload: exposes `window.sluice` to the renderer and nothing else (contextIsolation and
 * sandbox are on; the renderer has no Node). Built as CommonJS, which sandboxed preloads require.
 *
 * - `call(method, args)` resolves to the envelope `{ ok: true, result } | { ok: false, error }`
 *   (see electron/main.ts; the renderer's client unwraps it and rebuilds `ApiError`).
 * - `onEvent(cb)` delivers every `ApiEvent`; returns the unsubscribe function.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import type { ApiEvent, SluiceBridge } from '../main/api/contract.js'

const bridge: SluiceBridge = {
  call: (method: string, args: unknown) => ipcRenderer.invoke('sluice:call', method, args),
  onEvent(cb: (e: ApiEvent) => void): () => void {
    const listener = (_event: IpcRendererEvent, e: ApiEvent) => cb(e)
    ipcRenderer.on('sluice:event', listener)
    return () => {
      ipcRenderer.removeListener('sluice:event', listener)
    }
  },
}

contextBridge.exposeInMainWorld('sluice', bridge)
