/**
 * Validation asks the databases (issue 14, item 4): `jobs/validate` sends each task's read to the
 * source with LIMIT 0, so a `where` with a syntax error, or a job-wide `where` naming a column most
 * tables of a whole-database job lack, is reported per table with its JSON path, on MariaDB and
 * PostgreSQL sources (before, validation said "no problems" and the run failed).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHandlers } from '../../main/api/handlers.js'
import type { Problem } from '../../main/job/spec.js'
import { openStore } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, loadChinookMysql, loadChinookPg, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

describe.skipIf(!ready)('jobs/validate probes each read on the source', () => {
  const id = uniq()
  const db = `sl_probe_${id}`
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-probe-'))
  const store = openStore({ dataDir: dir })
  const { handlers, dispose } = createHandlers({ store, dataDir: dir, version: 'test', transport: 'http', emit: () => undefined })
  const sources = {
    mysql: `mysql://${MYSQL.user}@${MYSQL.host}:${MYSQL.port}/${db}`,
    postgres: `postgres://${PG.user}@${PG.host}:${PG.port}/${db}`,
  }

  beforeAll(() => {
    loadChinookMysql(db)
    loadChinookPg(db)
  }, 120_000)
  afterAll(async () => {
    await dispose()
    store.close()
    await dropMysqlDb(db).catch(() => undefined)
    await dropPgDb(db).catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })

  for (const kind of ['mysql', 'postgres'] as const) {
    const t = (n: string) => (kind === 'postgres' ? n.toLowerCase() : n)
    const col = (n: string) => (kind === 'postgres' ? n.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase() : n)
    const target = { kind: 'sqlite', path: path.join(dir, `t-${kind}.sqlite`) }

    it(`${kind}: a where with a syntax error is reported at its table's JSON path`, async () => {
      const spec = {
        version: 1,
        reader: { connection: sources[kind] },
        writer: { connection: target },
        tables: [
          { source: t('Genre'), where: `${col('GenreId')} > 3` },
          { source: t('Invoice'), where: `${col('BillingCountry')} = 'USA' AND AND` },
          { source: t('Album') },
          { source: { querySql: `SELECT ${col('GenreId')}, nope FROM ${t('Genre')}` }, target: 'q' },
        ],
      }
      const problems: Problem[] = await handlers['jobs/validate']({ spec })
      const errors = problems.filter((p) => p.severity === 'error')
      expect(errors.map((p) => p.path)).toEqual(['$.tables[3].source.querySql', '$.tables[1].where'])
      expect(errors[0]!.message).toMatch(/querySql: the source database refuses it: .*nope/)
      errors.shift()
      expect(errors[0]!.message).toMatch(new RegExp(`where on table ${t('Invoice')}: the source database refuses it: .*syntax`, 'i'))
    })

    it(`${kind}: a whole-database where naming a column most tables lack: one problem per such table`, async () => {
      const spec = {
        version: 1,
        reader: { connection: sources[kind], where: `${col('CustomerId')} > 10` },
        writer: { connection: target },
        tables: { include: '*' },
      }
      const problems: Problem[] = await handlers['jobs/validate']({ spec })
      const errors = problems.filter((p) => p.severity === 'error')
      // Customer and Invoice have CustomerId; the other 9 tables do not.
      expect(errors).toHaveLength(9)
      for (const p of errors) expect(p.path).toBe('$.reader.where')
      const named = errors.map((p) => /where on table (\w+)/.exec(p.message)![1]).sort()
      expect(named).toEqual(['Album', 'Artist', 'Employee', 'Genre', 'InvoiceLine', 'MediaType', 'Playlist', 'PlaylistTrack', 'Track'].map(col).sort())
    })
  }
})
