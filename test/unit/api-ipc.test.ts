import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { API_METHODS, ApiError, bridgeClient, type ApiResponse, type SluiceBridge } from '../../main/api/contract.js'
import { createHandlers, type Handlers } from '../../main/api/handlers.js'
import { bindIpc, CALL_CHANNEL, type IpcMainLike } from '../../main/api/ipc.js'
import { openStore, type Store } from '../../main/store/index.js'

type Listener = Parameters<IpcMainLike['handle']>[1]
const TRUSTED = 'file:///app/out/renderer/index.html'

let dir: string
let store: Store
let api: Handlers
const registered = new Map<string, Listener>()

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sl-api-ipc-'))
  store = openStore({ dataDir: dir })
  api = createHandlers({ store, dataDir: dir, version: '1.2.3', transport: 'ipc', emit: () => {} })
  bindIpc({ handle: (channel, listener) => void registered.set(channel, listener) }, api.handlers, (url) => url?.startsWith('file:///app/out/renderer/') === true)
})
afterAll(async () => {
  await api.dispose()
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

/** What the preload does: invoke, with the result passing through structured clone like IPC. */
const invoke = async (url: string | null, method: unknown, args?: unknown) => structuredClone(await registered.get(CALL_CHANNEL)!({ senderFrame: url === null ? null : { url } }, method, args)) as ApiResponse

describe('IPC binding', () => {
  it('registers exactly one channel', () => {
    expect([...registered.keys()]).toEqual(['sluice:call'])
  })

  it('refuses other frames and unknown methods', async () => {
    for (const url of ['https://evil.example/', 'file:///app/out/renderer-evil/index.html', null]) {
      expect(await invoke(url, 'connections/list', {})).toEqual({ ok: false, error: { name: 'IpcError', code: 'FORBIDDEN', message: 'calls are only accepted from the Sluice window' } })
    }
    for (const m of ['connections/explode', '__proto__', 'constructor', 42]) {
      expect(await invoke(TRUSTED, m, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
    }
  })

  it('every API_METHODS entry reaches its handler', async () => {
    for (const m of API_METHODS) {
      const r = await invoke(TRUSTED, m, {})
      if (!r.ok) expect(r.error.code, m).not.toBe('UNKNOWN_METHOD')
    }
    expect(await invoke(TRUSTED, 'app/info', {})).toEqual({ ok: true, result: { version: '1.2.3', dataDir: dir, transport: 'ipc', secretScheme: 'node-aes-256-gcm', platform: process.platform } })
  })

  it('errors cross as data and bridgeClient rebuilds ApiError; values survive structured clone', async () => {
    const bridge: SluiceBridge = { call: (m, a) => invoke(TRUSTED, m, a), onEvent: () => () => {} }
    const client = bridgeClient(bridge)
    const e = await client.call('jobs/get', { id: 'missing' }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect([(e as ApiError).name, (e as ApiError).code, (e as ApiError).message, (e as ApiError).path]).toEqual(['ApiError', 'NOT_FOUND', 'no job with id "missing"', 'id'])
    const created = await client.call('connections/create', { draft: { name: 'ipc', config: { kind: 'postgres', host: '127.0.0.1', user: 'u', password: 'pw-ipc' } } })
    expect(created).toMatchObject({ name: 'ipc', hasPassword: true, config: { kind: 'postgres', host: '127.0.0.1', user: 'u' } })
    expect(JSON.stringify(await client.call('connections/list', {}))).not.toContain('pw-ipc')
    await client.call('settings/set', { key: 'window', value: { width: 1200, height: 800 } })
    expect(await client.call('settings/get', {})).toEqual({ window: { width: 1200, height: 800 } })
  })
})
