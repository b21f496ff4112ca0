/**
 * Jobs refer to connections safely (issue 14, item 3), through the API handlers: `connections/usage`
 * lists the jobs using a connection (by id or, for older jobs, by name); `connections/delete` with
 * `ifUsed: 'refuse'` answers IN_USE naming them, with `cascade` deletes them too; a rename gives
 * name-based jobs a new version that refers by id, so they keep resolving.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createHandlers } from '../../main/api/handlers.js'
import { openStore } from '../../main/store/index.js'
import { CHINOOK_SQLITE } from '../helpers/servers.js'

describe('connections used by jobs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-usage-'))
  const store = openStore({ dataDir: dir })
  const { handlers: api, dispose } = createHandlers({ store, dataDir: dir, version: 'test', transport: 'ipc', emit: () => undefined })
  afterAll(async () => {
    await dispose()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const sqlite = (p: string) => ({ kind: 'sqlite' as const, path: p })

  it('lists users, refuses or cascades on delete, and a rename relinks name-based jobs', async () => {
    const src = await api['connections/create']({ draft: { name: 'chinook', config: sqlite(CHINOOK_SQLITE) } })
    const dst = await api['connections/create']({ draft: { name: 'target', config: sqlite(path.join(dir, 't.sqlite')) } })
    const byId = await api['jobs/save']({ name: 'by id', spec: { version: 1, reader: { connection: src.id }, writer: { connection: dst.id }, tables: [{ source: 'Genre' }] } })
    const byName = await api['jobs/save']({ name: 'by name', spec: { version: 1, reader: { connection: 'Chinook' }, writer: { connection: 'target' }, tables: [{ source: 'Artist' }] } })
    expect((await api['connections/usage']({ id: src.id })).map((j) => j.name).sort()).toEqual(['by id', 'by name'])

    // Rename: the name-based job gets a version referring by id; it still validates.
    await api['connections/update']({ id: src.id, draft: { name: 'chinook-renamed', config: sqlite(CHINOOK_SQLITE) } })
    const relinked = await api['jobs/get']({ id: byName.id })
    expect(relinked.version).toBe(2)
    expect((relinked.spec as { reader: { connection: string } }).reader.connection).toBe(src.id)
    expect((await api['jobs/validate']({ spec: relinked.spec })).filter((p) => p.severity === 'error')).toEqual([])
    expect((await api['jobs/get']({ id: byId.id })).version).toBe(1)

    // Refuse names the jobs; nothing is deleted.
    await expect(api['connections/delete']({ id: src.id, ifUsed: 'refuse' })).rejects.toMatchObject({ code: 'IN_USE', message: expect.stringMatching(/used by 2 job\(s\): .*by id/) })
    expect(store.connections.get(src.id)).toBeDefined()
    // Cascade deletes the connection and its jobs, and leaves the rest.
    await api['connections/delete']({ id: dst.id, ifUsed: 'cascade' })
    expect(store.connections.get(dst.id)).toBeUndefined()
    expect(store.jobs.list({})).toEqual([])
    // Unused: refuse deletes.
    await api['connections/delete']({ id: src.id, ifUsed: 'refuse' })
    expect(store.connections.list()).toEqual([])
  })
})
