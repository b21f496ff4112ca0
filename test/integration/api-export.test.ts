/**
 * "Export for server" through the API: a job whose connections are saved (by id, with
 * passwords) exports to DataX, DataWorks and SeaTunnel with the passwords as placeholders named
 * after the connections; a whole-database job is expanded from the reader's catalog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createHandlers } from '../../main/api/handlers.js'
import { openStore, type Store } from '../../main/store/index.js'
import { CHINOOK_SQLITE } from '../helpers/servers.js'

const SECRET = 'pa55-w0rd-never-exported'

describe('jobs/export', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-export-'))
  let store: Store
  let h: ReturnType<typeof createHandlers>
  let mysqlId: string
  let pgId: string

  beforeAll(() => {
    store = openStore({ dataDir: dir })
    h = createHandlers({ store, dataDir: dir, version: '0', transport: 'ipc', emit: () => {} })
    mysqlId = store.connections.create({ name: 'warehouse src', config: { kind: 'mysql', host: 'db1.internal', port: 3306, user: 'etl', password: SECRET, database: 'shop' } }).id
    pgId = store.connections.create({ name: 'dw', config: { kind: 'postgres', host: 'db2.internal', port: 5432, user: 'loader', password: SECRET, database: 'dw', schema: 'ods' } }).id
  })
  afterAll(async () => {
    await h.dispose()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const spec = () => ({
    reader: { connection: mysqlId, where: "dt = '${bizdate}'" },
    writer: { connection: pgId, writeMode: 'insert', preSql: [], postSql: [] },
    tables: [{ source: 'orders', target: 'ods_orders', splitPk: 'id', columns: ['id', 'amount'] }],
    setting: { speed: { channel: 3 }, errorLimit: { record: 10 } },
  })

  for (const format of ['datax', 'dataworks', 'seatunnel-hocon', 'seatunnel-json'] as const) {
    it(`${format}: files, no secret, placeholders named after the connection`, async () => {
      const r = await h.handlers['jobs/export']({ spec: spec(), format })
      expect(r.files.length).toBeGreaterThan(0)
      const all = r.files.map((f) => f.content).join('\n') + r.warnings.join('\n')
      expect(all).not.toContain(SECRET)
      expect(all).not.toContain(mysqlId)
      expect(all).toContain('${bizdate}')
      if (format !== 'dataworks') expect(all).toContain('${PASSWORD_WAREHOUSE_SRC}')
      if (format === 'datax') {
        const doc = JSON.parse(r.files[0]!.content)
        expect(doc.job.content[0].reader.parameter.connection[0].jdbcUrl).toEqual(['jdbc:mysql://db1.internal:3306/shop'])
        expect(doc.job.setting.speed.channel).toBe(3)
      }
    })
  }

  it('expands a whole-database selection from the reader catalog', async () => {
    const src = path.join(dir, 'chinook.sqlite')
    copyFileSync(CHINOOK_SQLITE, src)
    const r = await h.handlers['jobs/export']({ spec: { reader: { connection: `sqlite:${src}` }, writer: { connection: pgId }, tables: { include: '*' } }, format: 'seatunnel-json' })
    const text = r.files.map((f) => f.content).join('\n')
    for (const t of ['Album', 'Track', 'PlaylistTrack']) expect(text).toContain(t)
  })

  it('refuses an invalid job naming the field', async () => {
    await expect(h.handlers['jobs/export']({ spec: { reader: {} }, format: 'datax' })).rejects.toMatchObject({ code: 'INVALID_JOB' })
  })
})
