/**
 * `sluice serve` confines SQLite paths (issue 14, item 15): over HTTP, with a token, a caller can
 * create, test, validate or run SQLite connections only inside the allowed folders (`--allow-dir`,
 * default the data dir and the current directory), never on the state DB, and not through a
 * symbolic link pointing out of an allowed folder.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../main/api/http.js'
import { openStore, type Store } from '../../main/store/index.js'
import { apiClient } from '../helpers/api-client.js'
import { CHINOOK_SQLITE } from '../helpers/servers.js'

describe('serve: SQLite paths confined to --allow-dir', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sl-confine-'))
  const dataDir = path.join(root, 'data')
  const allowed = path.join(root, 'allowed')
  const outside = path.join(root, 'outside')
  let store: Store
  let server: RunningServer
  let api: ReturnType<typeof apiClient>

  beforeAll(async () => {
    for (const d of [dataDir, allowed, outside]) mkdirSync(d, { recursive: true })
    symlinkSync(outside, path.join(allowed, 'link-out'))
    store = openStore({ dataDir })
    server = await startServer({ store, dataDir, allowDirs: [allowed] })
    api = apiClient(server.port, server.token)
  })
  afterAll(async () => {
    await server?.close()
    store?.close()
    rmSync(root, { recursive: true, force: true })
  })

  const draft = (name: string, p: string) => ({ draft: { name, config: { kind: 'sqlite' as const, path: p } } })

  it('creates a connection inside an allowed folder', async () => {
    copyFileSync(CHINOOK_SQLITE, path.join(allowed, 'chinook.sqlite'))
    const c = await api.call('connections/create', draft('ok', path.join(allowed, 'chinook.sqlite')))
    expect(c.name).toBe('ok')
    const t = await api.call('connections/test', { id: c.id })
    expect(t.ok).toBe(true)
  })

  it('refuses a system file, a new file elsewhere, the state DB and a link out of the folder', async () => {
    for (const p of ['/etc/passwd', path.join(outside, 'new.sqlite'), CHINOOK_SQLITE, store.file, `${store.file}-wal`, path.join(allowed, 'link-out', 'x.sqlite'), path.join(allowed, '..', 'outside', 'y.sqlite')]) {
      const e = await api.fail('connections/create', draft(`bad-${path.basename(p)}`, p))
      expect(e.code, p).toBe('PATH_NOT_ALLOWED')
      expect(e.path).toBe('draft.config.path')
    }
    const state = await api.fail('connections/create', draft('state', store.file))
    expect(state.message).toMatch(/state database/)
    const test = await api.fail('connections/test', draft('t', '/etc/passwd'))
    expect(test.code).toBe('PATH_NOT_ALLOWED')
    expect(store.connections.list().map((c) => c.name)).toEqual(['ok'])
  })

  it('refuses a saved connection (made by the CLI) and a job URL pointing outside', async () => {
    const saved = store.connections.create({ name: 'cli-made', config: { kind: 'sqlite', path: CHINOOK_SQLITE } })
    const e = await api.fail('catalog/tables', { connectionId: saved.id })
    expect(e.code).toBe('PATH_NOT_ALLOWED')
    const spec = { version: 1, reader: { connection: `sqlite:${CHINOOK_SQLITE}` }, writer: { connection: `sqlite:${path.join(allowed, 'w.sqlite')}` }, tables: [{ source: 'Genre' }] }
    const problems = await api.call('jobs/validate', { spec })
    expect(problems.map((p) => `${p.path} ${p.code}`)).toEqual(['$.reader.connection PATH_NOT_ALLOWED'])
    const run = await api.fail('runs/start', { spec })
    expect(run.code).toBe('PATH_NOT_ALLOWED')
    expect(run.path).toBe('$.reader.connection')
  })

  it('defaults to the data dir and the current directory', async () => {
    const s = await startServer({ store, dataDir })
    try {
      const a = apiClient(s.port, s.token)
      expect((await a.call('connections/create', draft('in-data', path.join(dataDir, 'x.sqlite')))).name).toBe('in-data')
      expect((await a.call('connections/create', draft('in-cwd', path.join(process.cwd(), 'tmp-never-created.sqlite')))).name).toBe('in-cwd')
      expect((await a.fail('connections/create', draft('in-allowed', path.join(allowed, 'x.sqlite')))).code).toBe('PATH_NOT_ALLOWED')
    } finally {
      await s.close()
    }
  })
})
